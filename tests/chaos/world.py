"""The world the chaos suite attacks: real tenants, a real Git repository, syncer as a real process.

``World`` starts a Sandbox and two Production reference tenants in this process (uvicorn threads on
127.0.0.1, SQLite files), seeds Sandbox with the example flows (their concealed constants set to a
canary), exports them into a Git repository and applies them, so that every target holds managed flows
a bad input could damage. Every syncer command runs as ``python -m syncer`` in a subprocess with an
environment of its own: exit codes, stdout and stderr are exactly what a user or a CI job sees, and a
process can be killed with SIGKILL.

``state()`` is what "nothing written" is judged by: every tenant's flows (revision, content hash,
annotations), history and versions, and every file and ref of a repository. ``leaks(text)`` names any
concealed value or API key that appears in ``text`` in any common encoding.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import git

from syncer.model import iter_value_items
from syncer.tenant.embedded import RunningTenant, start_tenant
from tests.e2e.landscape import ENVIRONMENTS, example_flow, tree_bytes, write_environment

CANARY = "CANARY-chaos-concealed-4b1e\"q'\\t"  # a concealed value that must never leave a tenant
ENV_CANARY = "CANARY-chaos-env-secret-77c2"  # production-eu's secret source
FLOWS = ("depression-screening", "post-op-knee-recovery", "remote-bp-monitoring")
KEY_VARIABLES = {name: f"SYNCER_{name.upper().replace('-', '_')}_API_KEY" for name in ENVIRONMENTS}


@dataclass
class Outcome:
    """What one run showed: its exit code and everything it printed."""

    code: int
    out: str = ""
    err: str = ""
    killed: bool = False

    @property
    def text(self) -> str:
        return self.out + self.err


class _Errors(logging.Handler):
    """Collects the tenants' error records (an internal error, a traceback) while the suite runs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # uvicorn's loggers are shared with the suite's own scripted servers: only the reference
        # tenants' records count (their server threads are named tenant-<name>).
        ours = record.name.startswith("syncer.tenant") or record.threadName.startswith("tenant-")
        if ours and (record.levelno >= logging.ERROR or record.exc_info):
            self.records.append(record)


@dataclass
class World:
    """Tenants, keys and a template repository; ``repository(name)`` gives each case its own copy."""

    root: Path
    tenants: dict[str, RunningTenant] = field(default_factory=dict)
    keys: dict[str, dict[str, str]] = field(default_factory=dict)  # env -> key name -> key
    planted: list[str] = field(default_factory=list)  # secrets cases put in files or variables
    _stack: ExitStack = field(default_factory=ExitStack)
    _errors: _Errors = field(default_factory=_Errors)

    @property
    def template(self) -> Path:
        return self.root / "template"

    def __enter__(self) -> World:
        self.root.mkdir(parents=True, exist_ok=True)
        for logger in ("syncer.tenant", "uvicorn.error", "uvicorn"):
            logging.getLogger(logger).addHandler(self._errors)
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()
        for logger in ("syncer.tenant", "uvicorn.error", "uvicorn"):
            logging.getLogger(logger).removeHandler(self._errors)

    # -- building it -----------------------------------------------------------------------------

    def _start(self) -> None:
        for name, spec in ENVIRONMENTS.items():
            keys = {who: secrets.token_urlsafe(18) for who in ("syncer-ci", "studio", "reader")}
            entries = [
                {"name": "syncer-ci", "key": keys["syncer-ci"], "scopes": ["read", "write", "publish", "admin"]},
                {"name": "studio", "key": keys["studio"], "scopes": ["read", "write"]},
                {"name": "auditor", "key": keys["reader"], "scopes": ["read"]},
            ]  # fmt: skip
            # A short header deadline, so that the unfinished-headers case costs 2 s, not 10.
            tenant = start_tenant(
                name, spec["kind"], self.root / f"{name}.db", entries, spec["region"],
                header_seconds=2.0,
            )  # fmt: skip
            self._stack.enter_context(tenant)
            self.tenants[name], self.keys[name] = tenant, keys
        for key in FLOWS:
            self.seed(key)
        repo = git.Repo.init(self.template, initial_branch="main")
        with repo.config_writer() as config:
            config.set_value("user", "name", "Chaos Author")
            config.set_value("user", "email", "chaos@example.org")
        for name, spec in ENVIRONMENTS.items():
            write_environment(self.template, name, self.tenants[name].url, spec)
        repo.git.add("--all")
        repo.git.commit("-m", "environments")
        for argv in (("export", "--env", "sandbox", "--commit"), ("apply", "--yes")):
            done = self.syncer(self.template, *argv)
            if done.code != 0:
                raise RuntimeError(
                    f"building the chaos world: {argv} exited {done.code}:\n{done.err}"
                )

    def seed(self, key: str) -> None:
        """Put an example flow into Sandbox as a Studio author would, its secrets set to the canary."""
        flow = example_flow(key)
        for _ref, item in iter_value_items(flow):
            if item.get("concealed"):
                item["value"] = CANARY
        self.tenants["sandbox"].store.write_flow(_write(flow, "studio"))

    # -- running syncer ----------------------------------------------------------------------------

    def environment(self, changes: Mapping[str, str | None] | None = None) -> dict[str, str]:
        """What a syncer process gets: the API keys, the secret source, a cache, no colour."""
        kept = ("PATH", "HOME", "LANG", "TMPDIR", "PYTHONPATH")  # PYTHONPATH: run another checkout
        base = {k: v for k, v in os.environ.items() if k in kept}
        base |= {KEY_VARIABLES[name]: keys["syncer-ci"] for name, keys in self.keys.items()}
        base |= {
            "PROD_EU_EHR_API_KEY": ENV_CANARY,
            "SYNCER_ACTOR": "chaos",
            "SYNCER_CACHE_DIR": str(self.root / "cache"),
            "NO_COLOR": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        for name, value in (changes or {}).items():
            if value is None:
                base.pop(name, None)
            else:
                base[name] = value
        return base

    def command(self, repo: Path | None, *argv: str) -> list[str]:
        where = ["--repo", str(repo)] if repo is not None else []
        return [sys.executable, "-m", "syncer", *argv, *where]

    def syncer(
        self,
        repo: Path | None,
        *argv: str,
        env: Mapping[str, str | None] | None = None,
        timeout: float = 180,
    ) -> Outcome:
        """Run ``python -m syncer argv --repo repo`` to its end."""
        process = subprocess.Popen(
            self.command(repo, *argv),
            cwd=self.root,
            env=self.environment(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
            return Outcome(-9, out, err + f"\n[chaos] timed out after {timeout:g}s", killed=True)
        return Outcome(process.returncode, out, err)

    def repository(self, name: str) -> Path:
        """A fresh copy of the template repository (work tree and .git) for one case."""
        target = self.root / "cases" / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(self.template, target, symlinks=True)
        return target

    # -- judging -----------------------------------------------------------------------------------

    def state(self, repo: Path | None = None) -> dict[str, Any]:
        """Everything a write could change: the tenants' flows, histories and versions, and the
        repository's files, refs and HEAD."""
        found: dict[str, Any] = {}
        for name, tenant in self.tenants.items():
            store = tenant.store
            flows = {}
            for record in store.list_flows():
                summary = record.summary
                flow_id = summary["definition_id"]
                flows[flow_id] = (
                    summary["revision"],
                    summary["content_hash"],
                    json.dumps(summary["annotations"], sort_keys=True),
                    len(store.history(flow_id) or []),
                    len(store.versions(flow_id) or []),
                )
            found[name] = (flows, json.dumps(store.tenant(), sort_keys=True))
        if repo is not None and repo.exists():
            found["files"] = tree_bytes(repo)
            if (repo / ".git").exists():
                handle = git.Repo(repo)
                found["refs"] = sorted((r.path, r.commit.hexsha) for r in handle.refs)
                found["head"] = handle.head.commit.hexsha if handle.head.is_valid() else None
        return found

    def secrets(self) -> list[str]:
        """Every value no output may show: concealed values, secret sources, API keys."""
        keys = [key for per_env in self.keys.values() for key in per_env.values()]
        return [CANARY, ENV_CANARY, *keys, *self.planted]

    def leaks(self, text: str) -> list[str]:
        """Which secrets ``text`` shows, in raw, JSON-escaped, URL-encoded or base64 form."""
        return [
            secret[:12] + "…"
            for secret in self.secrets()
            if any(form in text for form in _forms(secret))
        ]

    def tenant_errors(self) -> list[str]:
        """The tenants' error records so far (a request that became an internal error)."""
        return [record.getMessage() for record in self._errors.records]


def _forms(secret: str) -> set[str]:
    raw = secret.encode()
    return {
        secret,
        json.dumps(secret)[1:-1],
        quote(secret, safe=""),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }


def _write(flow: dict[str, Any], actor: str) -> Any:
    from syncer.tenant import concealed
    from syncer.tenant.preconditions import Write

    incoming = concealed.split(flow)
    flow_id = flow["metadata"]["definition_id"]
    return Write(flow_id, incoming, None, None, ("*",), actor, "studio")
