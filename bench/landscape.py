"""The benchmark's world: generated flows in a Git repository, and tenants that hold them.

``prepare(...)`` returns a ``Data`` folder under ``bench/work/`` that is built once per seed and size and
reused by later runs (its name is a fingerprint of the generator's output and of syncer's hashes, so a
change to either builds a new one):

- ``repo/``: a Git repository with ``flows/`` (the generated flows, canonical YAML) at commit A;
- ``big/``: a Git repository with one very large flow at commit A;
- ``sandbox.db``: the Sandbox tenant, every flow as a Studio author left it (concealed values set);
- ``production-{eu,uk,us}.db``, ``production-big.db``: Production tenants in sync with commit A, exactly
  as ``syncer reconcile`` would have left them (same bodies and ``syncer.io/*`` annotations), written
  through the tenant's storage layer rather than 4,000 HTTP requests.

``Stage`` copies a ``Data`` folder into a scratch folder for one run, starts one tenant process per
database (``syncer tenant serve``, so the tenants never share a CPU or a GIL with the measured process),
and writes the environment files with the tenants' ports.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.generate import generate_flow
from syncer import __version__, canonical, model, yamlio
from syncer.model import Environment, Role, iter_value_items
from syncer.plan import annotations_after, classify, desired_for, write_body
from syncer.tenant import concealed
from syncer.tenant.preconditions import Write
from syncer.tenant.storage import Store

FORMAT = 3  # bump when the layout of a data folder changes
SANDBOX_SECRET = "bench-sandbox-secret"
EU_SECRET_VAR = "BENCH_PROD_EU_EHR_API_KEY"
EU_SECRET = "bench-eu-secret"
ACTOR = "syncer-ci"
KEYS = {"syncer-ci": "bench-ci-key-0123456789", "studio": "bench-studio-key-0123456789"}
KEYS_YAML = (
    f"- {{name: syncer-ci, key: {KEYS['syncer-ci']}, scopes: [read, write, publish, admin]}}\n"
    f"- {{name: dr.jansen, key: {KEYS['studio']}, scopes: [read, write]}}\n"
)

# The target environments: one with values from the environment and a secret source, one that ignores a
# path (so its shape hashes differ from Git's plain ones), one plain.
TARGETS: dict[str, dict[str, Any]] = {
    "production-eu": {
        "region": "eu",
        "constants": {"EHR_BASE_URL": "https://ehr.eu.example.org"},
        "secrets": {"EHR_API_KEY": {"from_env": EU_SECRET_VAR}},
    },
    "production-uk": {"region": "uk", "ignore": ["spec.settings.reminders"]},
    "production-us": {"region": "us", "constants": {"EHR_BASE_URL": "https://ehr.us.example.org"}},
}
BIG_TARGET = "production-big"


def api_key_env(name: str) -> str:
    return f"SYNCER_{name.upper().replace('-', '_')}_API_KEY"


def flow_key(seed: int, index: int) -> str:
    return f"synthetic-{seed}-{index:04d}"


def flow_document(seed: int, index: int, steps: int) -> dict[str, Any]:
    """The same scheme as ``bench.generate.generate_repo``."""
    return generate_flow(seed * 1_000_003 + index, steps, key=flow_key(seed, index))


BIG_KEY = "very-large-flow"


def big_document(seed: int, steps: int) -> dict[str, Any]:
    return generate_flow(seed * 7 + 1, steps, key=BIG_KEY)


def flow_path(root: Path, key: str) -> Path:
    return root / "flows" / key / "flow.yaml"


def render(document: dict[str, Any]) -> str:
    return yamlio.dump(canonical.canonicalize(document), model.flow_file_header())


# --- the cached data folder -------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    flows: int
    steps: int
    big_steps: int
    seed: int


@dataclass(frozen=True)
class Data:
    root: Path
    size: Size
    keys: list[str]

    @property
    def repo(self) -> Path:
        return self.root / "repo"

    @property
    def big(self) -> Path:
        return self.root / "big"


def fingerprint(size: Size) -> str:
    """Changes when the generator's output or syncer's hashes change, so a stale cache is never used."""
    probe = flow_document(size.seed, 0, size.steps)
    digest = hashlib.sha256()
    for part in (
        str(FORMAT),
        __version__,
        json.dumps(size.__dict__, sort_keys=True),
        render(probe),
        canonical.shape_hash(probe),
        canonical.layout_hash(probe),
        canonical.content_hash(probe),
    ):
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def prepare(work: Path, size: Size, log: Any = print) -> Data:
    """The data folder for ``size``: reused when it exists, built (about a minute) when not."""
    name = f"data-s{size.seed}-f{size.flows}x{size.steps}-b{size.big_steps}-{fingerprint(size)}"
    root = work / name
    keys = [flow_key(size.seed, i) for i in range(size.flows)]
    data = Data(root, size, keys)
    if (root / "complete").is_file():
        log(f"reusing {root.relative_to(work.parent)}")
        return data
    for stale in work.glob(f"data-s{size.seed}-f{size.flows}x{size.steps}-b{size.big_steps}-*"):
        shutil.rmtree(stale, ignore_errors=True)  # an older fingerprint of the same size
    building = root.with_name(root.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    started = time.perf_counter()
    _build(Data(building, size, keys), log)
    (building / "complete").write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))
    building.rename(root)
    log(f"built {root.relative_to(work.parent)} in {time.perf_counter() - started:.0f}s")
    return data


def _build(data: Data, log: Any) -> None:
    size = data.size
    workers = max(1, min(4, os.cpu_count() or 1))
    chunks = [list(range(i, size.flows, workers)) for i in range(workers)]
    log(f"generating {size.flows} flows of {size.steps} steps and one of {size.big_steps} steps")
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_write_flows, [(data.repo, size, chunk) for chunk in chunks]))
        big = pool.submit(_write_big, data.big, size)
        big.result()
    _git_init(data.repo, "flows: generated")
    _git_init(data.big, "flows: one very large flow")
    commit = _head(data.repo)
    big_commit = _head(data.big)
    log("seeding the tenants through their storage layer")
    jobs: list[tuple[str, str, str, str | None, str]] = [("sandbox", "sandbox", "eu", None, commit)]
    jobs += [(name, "production", spec["region"], name, commit) for name, spec in TARGETS.items()]
    with ProcessPoolExecutor(workers) as pool:
        futures = [pool.submit(_seed_tenant, data.root, size, *job) for job in jobs]
        futures.append(pool.submit(_seed_big, data.root, size, big_commit))
        for future in futures:
            future.result()


def _write_flows(job: tuple[Path, Size, list[int]]) -> None:
    root, size, indexes = job
    for index in indexes:
        document = flow_document(size.seed, index, size.steps)
        path = flow_path(root, flow_key(size.seed, index))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(document), "utf-8")


def _write_big(root: Path, size: Size) -> None:
    path = flow_path(root, BIG_KEY)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(big_document(size.seed, size.big_steps)), "utf-8")


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def _git_init(root: Path, message: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    _git(root, "init", "--quiet", "--initial-branch=main")
    _git(root, "add", "--all")
    _git(root, "commit", "--quiet", "--no-verify", "-m", message)


def _head(root: Path) -> str:
    return _git(root, "rev-parse", "HEAD")


def environment(name: str, spec: dict[str, Any]) -> Environment:
    """The Environment object syncer would parse from the file ``write_environments`` writes."""
    secrets = {ref: source["from_env"] for ref, source in spec.get("secrets", {}).items()}
    return Environment(
        name=name,
        role=Role.TARGET,
        region=spec["region"],
        url="http://127.0.0.1:1",
        api_key_env=api_key_env(name),
        flows=None,
        constants=dict(spec.get("constants", {})),
        secrets=secrets,
        ignore=tuple(spec.get("ignore", ())),
    )


def _store(root: Path, name: str, kind: str, region: str) -> Store:
    return Store(root / f"{name}.db", name=name, kind=kind, region=region)


def _seed_tenant(
    root: Path, size: Size, name: str, kind: str, region: str, target: str | None, commit: str
) -> None:
    store = _store(root, name, kind, region)
    env = environment(target, TARGETS[target]) if target else None
    for index in range(size.flows):
        _seed_one(store, flow_document(size.seed, index, size.steps), env, commit)


def _seed_big(root: Path, size: Size, commit: str) -> None:
    store = _store(root, BIG_TARGET, "production", "eu")
    env = environment(BIG_TARGET, {"region": "eu"})
    _seed_one(store, big_document(size.seed, size.big_steps), env, commit)


def _seed_one(store: Store, document: dict[str, Any], env: Environment | None, commit: str) -> None:
    definition_id = str(document["metadata"]["definition_id"])
    if env is None:  # Sandbox: a Studio author's working version, concealed values set
        body = copy.deepcopy(document)
        for _ref, item in iter_value_items(body):
            if item.get("concealed"):
                item["value"] = SANDBOX_SECRET
        write = Write(definition_id, concealed.split(body), None, None, ("*",), "author", "studio")
        store.write_flow(write)
        return
    # Production: what apply writes for a create (plan.py), so that the tenant is in sync with Git.
    secrets = {EU_SECRET_VAR: EU_SECRET}
    plan = classify(
        str(document["metadata"]["key"]),
        desired_for(document, env),
        None,
        env,
        lambda variable: variable in secrets,
    )
    body = write_body(plan, env, secrets.get)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    annotations = annotations_after(plan, git_commit=commit, actor=ACTOR, now=now, revision=1)
    incoming = concealed.split(body)
    store.write_flow(Write(definition_id, incoming, annotations, None, ("*",), ACTOR, "syncer"))


# --- one run: scratch copies, tenant processes, environment files -------------------------------------


@dataclass
class Tenant:
    name: str
    kind: str
    region: str
    db: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Stage:
    """The scratch copy of a data folder that one ``make bench`` run works in."""

    root: Path
    data: Data
    tenants: dict[str, Tenant] = field(default_factory=dict)

    @property
    def repo(self) -> Path:
        return self.root / "repo"

    @property
    def big(self) -> Path:
        return self.root / "big"

    @property
    def export_repo(self) -> Path:
        return self.root / "export"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    def env(self) -> dict[str, str]:
        """Environment variables for a syncer process of this run."""
        variables = {api_key_env(name): KEYS["syncer-ci"] for name in self.tenants}
        variables.update(
            {
                "SYNCER_CACHE_DIR": str(self.cache),
                "SYNCER_ACTOR": ACTOR,
                EU_SECRET_VAR: EU_SECRET,
                "NO_COLOR": "1",
            }
        )
        return variables


def stage(work: Path, data: Data, log: Any = print) -> Stage:
    root = work / "run"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    here = Stage(root, data)
    for source, target in ((data.repo, here.repo), (data.big, here.big)):
        subprocess.run(
            ["git", "clone", "--quiet", "--local", str(source), str(target)],
            check=True,
            capture_output=True,
        )
    names = [("sandbox", "sandbox", "eu")]
    names += [(name, "production", spec["region"]) for name, spec in TARGETS.items()]
    names.append((BIG_TARGET, "production", "eu"))
    for name, kind, region in names:
        db = root / f"{name}.db"
        shutil.copyfile(data.root / f"{name}.db", db)
        here.tenants[name] = Tenant(name, kind, region, db)
    (root / "keys.yaml").write_text(KEYS_YAML, "utf-8")
    log("copied the data folder into bench/work/run")
    return here


@contextlib.contextmanager
def serving(here: Stage) -> Iterator[Stage]:
    """Run every tenant in its own process for the duration of the block."""
    try:
        for tenant in here.tenants.values():
            tenant.port = _free_port()
            tenant.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "syncer",
                    "tenant",
                    "serve",
                    "--name",
                    tenant.name,
                    "--kind",
                    tenant.kind,
                    "--region",
                    tenant.region,
                    "--port",
                    str(tenant.port),
                    "--db",
                    str(tenant.db),
                    "--keys",
                    str(here.root / "keys.yaml"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=(here.root / f"{tenant.name}.log").open("wb"),
            )
        for tenant in here.tenants.values():
            _wait_healthy(tenant)
        _write_environments(here)
        yield here
    finally:
        for tenant in here.tenants.values():
            if tenant.process is not None and tenant.process.poll() is None:
                tenant.process.terminate()
        for tenant in here.tenants.values():
            if tenant.process is not None:
                try:
                    tenant.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    tenant.process.kill()
                    tenant.process.wait()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(tenant: Tenant) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert tenant.process is not None
        if tenant.process.poll() is not None:
            raise RuntimeError(f"tenant {tenant.name} exited; see bench/work/run/{tenant.name}.log")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(tenant.url + "/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"tenant {tenant.name} did not start")


def _environment_text(name: str, role: str, region: str, url: str, extra: dict[str, Any]) -> str:
    data: dict[str, Any] = {
        "apiVersion": model.API_VERSION,
        "kind": "Environment",
        "name": name,
        "role": role,
        "region": region,
        "url": url,
        "api_key_env": api_key_env(name),
        "flows": "all",
        **extra,
    }
    return yamlio.dump(
        data, "# yaml-language-server: $schema=../schemas/environment.v1.schema.json"
    )


def _write_environments(here: Stage) -> None:
    """Environment files with this run's ports, committed so that the work trees are clean."""
    files: dict[Path, dict[str, str]] = {here.repo: {}, here.big: {}, here.export_repo: {}}
    sandbox = here.tenants["sandbox"]
    text = _environment_text("sandbox", "source", "eu", sandbox.url, {})
    files[here.repo]["sandbox"] = text
    files[here.export_repo]["sandbox"] = text
    for name, spec in TARGETS.items():
        extra = {k: v for k, v in spec.items() if k != "region"}
        text = _environment_text(name, "target", spec["region"], here.tenants[name].url, extra)
        files[here.repo][name] = text
    big = here.tenants[BIG_TARGET]
    files[here.big][BIG_TARGET] = _environment_text(BIG_TARGET, "target", "eu", big.url, {})
    for root, texts in files.items():
        if not (root / ".git").is_dir():
            root.mkdir(parents=True, exist_ok=True)
            _git(root, "init", "--quiet", "--initial-branch=main")
        for name, text in texts.items():
            path = root / "environments" / f"{name}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
        _git(root, "add", "--all", "environments")
        _git(root, "commit", "--quiet", "--no-verify", "-m", "environments: this run's tenants")


def commit_all(root: Path, message: str) -> str:
    _git(root, "add", "--all")
    _git(root, "commit", "--quiet", "--no-verify", "-m", message)
    return _head(root)


# --- the moves a scenario makes -------------------------------------------------------------------


def change_in_git(root: Path, keys: list[str]) -> None:
    """Change one action's title in each flow (an edit reviewed and merged in Git)."""
    for key in keys:
        path = flow_path(root, key)
        document = yamlio.load_file(path).data
        _retitle_first_action(document, "(revised in Git)")
        path.write_text(render(document), "utf-8")


def _retitle_first_action(definition: dict[str, Any], suffix: str) -> None:
    for track in definition["spec"]["tracks"]:
        for step in track["steps"]:
            for action in step.get("actions") or []:
                action["title"] = f"{action.get('title', 'Action')} {suffix}"
                return
    raise ValueError("the flow has no action to change")


def hotfix(tenant: Tenant, keys: list[str]) -> None:
    """A Studio user's hotfix in Production (X-Hotfix), one action retitled in each flow."""
    headers = {"Authorization": f"Bearer {KEYS['studio']}"}
    with httpx.Client(base_url=tenant.url, headers=headers, timeout=60) as client:
        by_key = {s["key"]: s for s in client.get("/v1/care-flows").json()["items"]}
        for key in keys:
            definition_id = by_key[key]["definition_id"]
            live = client.get(f"/v1/care-flows/{definition_id}").json()
            definition = live["definition"]
            for _ref, item in iter_value_items(definition):
                item.pop("has_value", None)
            _retitle_first_action(definition, "(hotfix in Production)")
            response = client.put(
                f"/v1/care-flows/{definition_id}",
                json={"definition": definition},
                headers={
                    "If-Match": f'"{live["revision"]}"',
                    "X-Edit-Source": "studio",
                    "X-Hotfix": "true",
                },
            )
            response.raise_for_status()
