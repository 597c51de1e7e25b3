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

``bench/stage.py`` runs one benchmark on a copy of it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    commit = head_commit(data.repo)
    big_commit = head_commit(data.big)
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


def run_git(root: Path, *args: str) -> str:
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
    run_git(root, "init", "--quiet", "--initial-branch=main")
    run_git(root, "add", "--all")
    run_git(root, "commit", "--quiet", "--no-verify", "-m", message)


def head_commit(root: Path) -> str:
    return run_git(root, "rev-parse", "HEAD")


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
