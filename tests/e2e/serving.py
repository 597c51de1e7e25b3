"""``syncer serve`` inside the test process: the Service and its app on uvicorn in a background thread.

``serving(settings)`` starts the service (its first run begins at once) and serves the app on a free
port on 127.0.0.1; it yields a ``Served`` with the service, the URL and an httpx client. The service
and the server are stopped when the block ends. Subprocess tests (kill -9, SIGTERM) use ``python -m
syncer serve`` instead.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from syncer.serve import Service, Settings
from syncer.serve.server import bind, server_for


@dataclass
class Served:
    service: Service
    url: str
    http: httpx.Client

    def wait_runs(self, runs: int, timeout: float = 60.0) -> None:
        assert self.service.scheduler.wait_idle(runs, timeout), f"{runs} run(s) did not finish"


def settings(repo: Path, db: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "repo": repo,
        "environments": (),
        "ref": None,
        "every": 3600.0,
        "jitter": 0.0,
        "db": db,
        "actor": "syncer-serve",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@contextlib.contextmanager
def serving(config: Settings, headers: dict[str, str] | None = None) -> Iterator[Served]:
    service = Service(config)
    server = server_for(service)
    sock = bind("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "serve did not start"
        time.sleep(0.01)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    service.start()
    try:
        with httpx.Client(base_url=url, headers=headers or {}, timeout=30) as http:
            yield Served(service, url, http)
    finally:
        service.stop(60)
        server.should_exit = True
        thread.join(15)
        sock.close()
