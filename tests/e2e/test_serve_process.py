"""`syncer serve` as a real process: kill -9 in the middle of a run, and SIGTERM during a write.

The tenant sits behind a proxy that holds the second write, so the test knows the service is mid-run:
one flow written, one write in flight, one still to come. Whatever happens to the process, every flow
is either absent or fully written, the history says the run was interrupted, and the next start
converges.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncer.serve.history import History

from .conftest import EU_ONLY, FLOWS
from .holding_proxy import HoldingProxy
from .landscape import Landscape, example_flow, landscape, write_environment


class ServeProcess:
    """``python -m syncer serve`` with JSON logs; ``events`` collects its log lines as they come."""

    def __init__(self, repo: Path, db: Path) -> None:
        argv = [
            sys.executable,
            "-m",
            "syncer",
            "--log-format",
            "json",
            "serve",
            "--repo",
            str(repo),
        ]
        argv += ["--port", "0", "--db", str(db), "--every", "3600"]
        self.proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
        self.events: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            with suppress(ValueError):
                self.events.append(json.loads(line))

    def wait_event(self, name: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.events if e.get("event") == name]
            if found:
                return found[-1]
            assert self.proc.poll() is None, "serve exited:\n" + "".join(self.lines)
            time.sleep(0.05)
        raise AssertionError(f"no {name} event:\n" + "".join(self.lines))

    @property
    def url(self) -> str:
        return str(self.wait_event("serve.listening")["url"]).rstrip("/")


@contextmanager
def _world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Landscape, HoldingProxy]]:
    with landscape(tmp_path, monkeypatch, EU_ONLY) as world:
        for key in FLOWS:
            world.seed("sandbox", example_flow(key))
        assert world.syncer("export", "--env", "sandbox", "--commit").code == 0
        proxy = HoldingProxy(world.tenants["production-eu"].url, hold=2)
        write_environment(world.repo, "production-eu", proxy.url, EU_ONLY["production-eu"])
        world.commit_all("production-eu through the proxy")
        try:
            yield world, proxy
        finally:
            proxy.stop()


def _live(world: Landscape) -> dict[str, dict[str, Any]]:
    with world.client("production-eu") as tenant:
        return {s["key"]: tenant.get_flow(s["definition_id"]) for s in tenant.list_flows()}


def _assert_whole(world: Landscape, live: dict[str, dict[str, Any]]) -> None:
    """Every flow in the tenant is Git's version in full (steps, titles), never a part of it."""
    for key, flow in live.items():
        git = example_flow(key)["spec"]["tracks"]
        tracks = flow["definition"]["spec"]["tracks"]
        assert [[s["title"] for s in t["steps"]] for t in tracks] == [
            [s["title"] for s in t["steps"]] for t in git
        ]
        assert flow["annotations"]["syncer.io/git-commit"] == world.git().head.commit.hexsha


def _wait_runs(url: str, count: int, timeout: float = 60) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = httpx.get(url + "/api/runs").json()["runs"]
        if len(runs) >= count and all(r["finished_at"] for r in runs):
            return list(runs)
        time.sleep(0.1)
    raise AssertionError(f"{count} runs did not finish")


def test_kill_9_mid_run_leaves_no_half_flow_is_recorded_and_the_restart_converges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "serve.db"
    with _world(tmp_path, monkeypatch) as (world, proxy):
        first = ServeProcess(world.repo, db)
        assert proxy.holding.wait(60), "the second write never came:\n" + "".join(first.lines)
        first.proc.send_signal(signal.SIGKILL)  # mid-run: one flow written, one write in flight
        assert first.proc.wait(10) == -signal.SIGKILL
        proxy.release.set()
        live = _live(world)
        assert list(live) == ["depression-screening"]
        _assert_whole(world, live)
        open_rows = [r for r in History(db).runs() if r.finished_at is None]
        assert len(open_rows) == 1  # the dead process could not close its run

        proxy.hold = None  # the tenant answers normally from now on
        second = ServeProcess(world.repo, db)
        runs = _wait_runs(second.url, 2)
        interrupted, converged = runs[1], runs[0]
        assert interrupted["id"] == open_rows[0].id and interrupted["result"] == "interrupted"
        assert "killed or crashed" in interrupted["detail"]
        assert converged["result"] == "ok" and converged["counts"]["writes"] == 2
        live = _live(world)
        assert sorted(live) == FLOWS
        _assert_whole(world, live)
        assert world.syncer("plan").code == 0  # nothing left to do
        second.proc.send_signal(signal.SIGTERM)
        assert second.proc.wait(30) == 0


def test_sigterm_finishes_the_write_in_flight_then_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "serve.db"
    with _world(tmp_path, monkeypatch) as (world, proxy):
        proxy.forward = True  # the held write reaches the tenant once released
        serve = ServeProcess(world.repo, db)
        assert proxy.holding.wait(60), "".join(serve.lines)
        serve.proc.send_signal(signal.SIGTERM)
        serve.wait_event("serve.stopping")
        proxy.release.set()
        assert serve.proc.wait(30) == 0, "".join(serve.lines)
        live = _live(world)
        assert sorted(live) == FLOWS[:2]  # the write in flight finished; the third never started
        _assert_whole(world, live)
        (run,) = History(db).runs()
        assert run.result == "interrupted" and "write in flight" in run.detail
        skipped = [e for e in serve.events if e.get("event") == "flow.skipped"]
        assert [e["flow"] for e in skipped] == [FLOWS[2]]
