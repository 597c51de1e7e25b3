"""One run of the benchmark: a scratch copy of a data folder, its tenants serving, and the moves made.

``stage`` copies a ``landscape.Data`` folder into ``bench/work/run/``; ``serving`` starts one tenant
process per database (``syncer tenant serve``, so the tenants never share a CPU or a GIL with the measured
process) and writes the environment files with the tenants' ports; ``change_in_git`` and ``hotfix`` are
what the changed and drifted scenarios do.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.landscape import (
    ACTOR,
    BIG_TARGET,
    EU_SECRET,
    EU_SECRET_VAR,
    KEYS,
    KEYS_YAML,
    TARGETS,
    Data,
    api_key_env,
    flow_path,
    head_commit,
    render,
    run_git,
)
from syncer import model, yamlio
from syncer.model import iter_value_items


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
    for name, spec in TARGETS.items():
        extra = {k: v for k, v in spec.items() if k != "region"}
        text = _environment_text(name, "target", spec["region"], here.tenants[name].url, extra)
        files[here.repo][name] = text
    files[here.export_repo] = dict(files[here.repo])  # the same GitOps repository, before export
    big = here.tenants[BIG_TARGET]
    files[here.big][BIG_TARGET] = _environment_text(BIG_TARGET, "target", "eu", big.url, {})
    for root, texts in files.items():
        if not (root / ".git").is_dir():
            root.mkdir(parents=True, exist_ok=True)
            run_git(root, "init", "--quiet", "--initial-branch=main")
        for name, text in texts.items():
            path = root / "environments" / f"{name}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
        run_git(root, "add", "--all", "environments")
        run_git(root, "commit", "--quiet", "--no-verify", "-m", "environments: this run's tenants")


def commit_all(root: Path, message: str) -> str:
    run_git(root, "add", "--all")
    run_git(root, "commit", "--quiet", "--no-verify", "-m", message)
    return head_commit(root)


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
