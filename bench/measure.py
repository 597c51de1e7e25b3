"""One measurement in a fresh Python process: a syncer command or a floor, and what it cost.

``spawn`` runs ``bench/run.py --child SPEC`` and reads back one JSON line: wall time of the work itself
(imports excluded), peak RSS of the process (``ru_maxrss``) and of its largest child, and for syncer the
requests, bytes and routes its HTTP clients counted, and the most requests it had in flight at once.
"""

from __future__ import annotations

import contextlib
import cProfile
import importlib
import io
import json
import os
import pstats
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
WORK = PROJECT / "bench" / "work"
RUN = PROJECT / "bench" / "run.py"


def child(spec: dict[str, Any]) -> None:
    """Run one syncer command or one floor and print what it cost as one JSON line."""
    if spec["kind"] == "syncer":
        outcome = _run_syncer(spec)
    else:
        from bench.floors import FLOORS

        started = time.perf_counter()
        outcome = dict(FLOORS[spec["floor"]](**spec["params"]))
        outcome["wall"] = time.perf_counter() - started
        outcome["exit"] = 0
    outcome["rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    outcome["rss_children"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(json.dumps(outcome))


def _run_syncer(spec: dict[str, Any]) -> dict[str, Any]:
    from syncer.cli import main
    from syncer.client import TenantClient

    clients: list[TenantClient] = []
    in_flight = [0, 0]  # now, most at once
    lock = threading.Lock()
    original_init, original_send = TenantClient.__init__, TenantClient._send_once

    def init(self: TenantClient, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        clients.append(self)

    def send(self: TenantClient, call: Any) -> Any:
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
        try:
            return original_send(self, call)
        finally:
            with lock:
                in_flight[0] -= 1

    # Imports are not the command's work (the floor's imports are not timed either).
    TenantClient.__init__ = init  # type: ignore[method-assign]
    TenantClient._send_once = send  # type: ignore[method-assign]
    profile = None
    if spec.get("profile"):
        profile = cProfile.Profile()
        _sequential_environments()  # cProfile sees only the thread it runs in
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        started = time.perf_counter()
        if profile:
            profile.enable()
        code = main(spec["argv"])
        if profile:
            profile.disable()
        wall = time.perf_counter() - started
    if profile:
        _save_profile(profile, spec["profile"])
    routes: dict[str, int] = {}
    for client in clients:
        for (method, template), count in client.stats.by_route.items():
            routes[f"{method} {template}"] = routes.get(f"{method} {template}", 0) + count
    return {
        "wall": wall,
        "exit": code,
        "requests": sum(c.stats.requests for c in clients),
        "bytes_sent": sum(c.stats.bytes_sent for c in clients),
        "bytes_received": sum(c.stats.bytes_received for c in clients),
        "routes": routes,
        "max_in_flight": in_flight[1],
    }


def _sequential_environments() -> None:
    def one_by_one(envs: Any, work: Any) -> list[Any]:
        return [work(env) for env in envs]

    for name in ("_common", "reconcile", "plan", "apply", "report"):
        module = importlib.import_module(f"syncer.commands.{name}")
        if hasattr(module, "in_parallel"):
            setattr(module, "in_parallel", one_by_one)  # noqa: B010


def _save_profile(profile: Any, name: str) -> None:
    folder = WORK / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    profile.dump_stats(folder / f"{name}.prof")
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    (folder / f"{name}.txt").write_text(text.getvalue(), "utf-8")


def spawn(spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(RUN), "--child", json.dumps(spec)],
        env={**os.environ, **env},
        cwd=PROJECT,
        capture_output=True,
        text=True,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise RuntimeError(
            f"{spec.get('argv') or spec.get('floor')} failed:\n{result.stderr[-3000:]}"
        )
    outcome: dict[str, Any] = json.loads(lines[-1])
    outcome["process_wall"] = time.perf_counter() - started
    return outcome
