"""A whole landscape for end-to-end tests: real tenants over HTTP, a real Git repository, real files.

``Landscape`` starts a Sandbox and two Production reference tenants (uvicorn on 127.0.0.1, SQLite files),
writes a GitOps repository with environment files pointing at them, and offers the moves a person makes:
seed Sandbox as a Studio author, edit Production as a hotfix, run ``syncer`` commands.
"""

from __future__ import annotations

import contextlib
import copy
import io
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import git
import pytest

from syncer import yamlio
from syncer.cli import main
from syncer.client import TenantClient
from syncer.model import iter_value_items
from syncer.tenant.embedded import RunningTenant, start_tenant

PROJECT = Path(__file__).resolve().parents[2]
CANARY = "CANARY-e2e-9d41f7"  # a concealed value that must never leave the tenants
ENV_CANARY = "CANARY-env-secret-53aa"  # the environment's secret source for production-eu

ENVIRONMENTS: dict[str, dict[str, Any]] = {
    "sandbox": {"role": "source", "kind": "sandbox", "region": "eu"},
    "production-eu": {
        "role": "target",
        "kind": "production",
        "region": "eu",
        "constants": {"EHR_BASE_URL": "https://ehr.eu.example.org"},
        "secrets": {"EHR_API_KEY": {"from_env": "PROD_EU_EHR_API_KEY"}},
        "extensions": {"elation": {"base_url": "https://app.elationemr.com/api/2.0"}},
    },
    "production-us": {
        "role": "target",
        "kind": "production",
        "region": "us",
        "flows": ["post-op-knee-recovery", "remote-bp-monitoring"],
        "constants": {"EHR_BASE_URL": "https://ehr.us.example.org"},
    },
}


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Landscape:
    root: Path
    monkeypatch: pytest.MonkeyPatch
    tenants: dict[str, RunningTenant] = field(default_factory=dict)
    keys: dict[str, dict[str, str]] = field(default_factory=dict)  # env -> key name -> key
    outputs: list[str] = field(default_factory=list)  # everything any command printed
    clients: list[TenantClient] = field(default_factory=list)

    @property
    def repo(self) -> Path:
        return self.root / "repo"

    def client(self, env: str, who: str = "syncer-ci") -> TenantClient:
        client = TenantClient(env, self.tenants[env].url, self.keys[env][who], retries=0)
        self.clients.append(client)  # closed before the tenants stop, so shutdown never waits
        return client

    def syncer(self, *argv: str) -> Result:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*argv, "--repo", str(self.repo)])
        result = Result(code, out.getvalue(), err.getvalue())
        self.outputs += [result.out, result.err]
        return result

    def git(self) -> git.Repo:
        return git.Repo(self.repo)

    def commit_all(self, message: str) -> str:
        repo = self.git()
        repo.git.add("--all")
        repo.git.commit("-m", message, "--allow-empty")
        return repo.head.commit.hexsha

    # -- Studio moves ------------------------------------------------------------------------------

    def seed(self, env: str, flow: dict[str, Any], secret: str | None = CANARY) -> None:
        document = copy.deepcopy(flow)
        for _ref, item in iter_value_items(document):
            if item.get("concealed") and secret:
                item["value"] = secret
        with self.client(env, "studio") as tenant:
            tenant.put_flow(
                document["metadata"]["definition_id"],
                document,
                create=True,
                edit_source="studio",
                hotfix=env != "sandbox",  # Production is view-only for Studio edits
            )

    def edit(
        self, env: str, key: str, change: Callable[[dict[str, Any]], None], hotfix: bool = False
    ) -> int:
        with self.client(env, "studio") as tenant:
            summary = next(s for s in tenant.list_flows() if s["key"] == key)
            live = tenant.get_flow(summary["definition_id"])
            definition = live["definition"]
            for _ref, item in iter_value_items(definition):
                item.pop("has_value", None)
            change(definition)
            response = tenant.put_flow(
                summary["definition_id"],
                definition,
                if_match=live["revision"],
                edit_source="studio",
                hotfix=hotfix,
            )
            return int(response["revision"])

    def live(self, env: str, key: str) -> dict[str, Any]:
        with self.client(env) as tenant:
            summary = next(s for s in tenant.list_flows() if s["key"] == key)
            return tenant.get_flow(summary["definition_id"])


def example_flow(key: str) -> dict[str, Any]:
    data: dict[str, Any] = yamlio.load_file(PROJECT / "flows" / key / "flow.yaml").data
    return data


def write_environment(repo: Path, name: str, url: str, spec: dict[str, Any]) -> None:
    data: dict[str, Any] = {
        "apiVersion": "syncer.careflow/v1",
        "kind": "Environment",
        "name": name,
        "role": spec["role"],
        "region": spec["region"],
        "url": url,
        "api_key_env": f"SYNCER_{name.upper().replace('-', '_')}_API_KEY",
        "flows": spec.get("flows", "all"),
    }
    for extra in ("constants", "secrets", "extensions", "ignore", "windows", "verify"):
        if extra in spec:
            data[extra] = spec[extra]
    text = yamlio.dump(
        data, "# yaml-language-server: $schema=../schemas/environment.v1.schema.json"
    )
    (repo / "environments").mkdir(parents=True, exist_ok=True)
    (repo / "environments" / f"{name}.yaml").write_text(text, "utf-8")


@contextlib.contextmanager
def landscape(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    environments: dict[str, dict[str, Any]] | None = None,
) -> Iterator[Landscape]:
    envs = environments or ENVIRONMENTS
    world = Landscape(tmp_path, monkeypatch)
    monkeypatch.setenv("SYNCER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SYNCER_ACTOR", "ci-bot")
    monkeypatch.setenv("PROD_EU_EHR_API_KEY", ENV_CANARY)
    with contextlib.ExitStack() as stack:
        for name, spec in envs.items():
            keys = {
                "syncer-ci": secrets.token_urlsafe(16),
                "studio": secrets.token_urlsafe(16),
                "reader": secrets.token_urlsafe(16),  # read scope only: what a PR report needs
            }
            entries = [
                {
                    "name": "syncer-ci",
                    "key": keys["syncer-ci"],
                    "scopes": ["read", "write", "publish", "admin"],
                },
                {
                    "name": "dr.jansen" if spec["kind"] == "production" else "author",
                    "key": keys["studio"],
                    "scopes": ["read", "write"],
                },
                {"name": "syncer-pr-report", "key": keys["reader"], "scopes": ["read"]},
            ]
            tenant = start_tenant(
                name, spec["kind"], tmp_path / f"{name}.db", entries, region=spec["region"]
            )
            stack.enter_context(tenant)
            world.tenants[name] = tenant
            world.keys[name] = keys
            monkeypatch.setenv(
                f"SYNCER_{name.upper().replace('-', '_')}_API_KEY", keys["syncer-ci"]
            )
        world.repo.mkdir()
        repo = git.Repo.init(world.repo, initial_branch="main")
        with repo.config_writer() as config:
            config.set_value("user", "name", "Test Author")
            config.set_value("user", "email", "author@example.org")
        for name, spec in envs.items():
            write_environment(world.repo, name, world.tenants[name].url, spec)
        world.commit_all("environments")
        try:
            yield world
        finally:
            for client in world.clients:
                client.close()


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` except .git, for 'nothing changed' assertions."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }
