"""Run a reference tenant inside this process: uvicorn in a background thread on 127.0.0.1.

This is how the tests and ``make demo`` get real tenants without starting servers by hand::

    with start_tenant("production-eu", "production", tmp / "eu.db", "ci:ci-key-123:read+write") as t:
        httpx.get(t.url + "/healthz")

Port 0 picks a free port; ``.port`` and ``.url`` say which. Logging stays quiet: uvicorn's and the app's
records go to the ``uvicorn.*`` and ``syncer.tenant`` loggers without any handler being installed, so they
show only if the host process configures logging (pytest's ``caplog`` sees them all).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from ..errors import ConfigError
from .app import create_app
from .auth import Keyring
from .http import MAX_BODY_BYTES
from .protocol import HEADER_SECONDS, HeaderDeadline
from .storage import Store

HOST = "127.0.0.1"
_START_TIMEOUT = 15.0


def bind_socket(port: int) -> socket.socket:
    """A listening-ready TCP socket on 127.0.0.1:``port``; a clear ConfigError when it is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {HOST}:{port}: {exc.strerror or exc}. Is another tenant running there?"
            " Stop it or choose another --port."
        ) from None
    sock.listen(128)  # connections queue from now on, before the server's loop accepts them
    return sock


def server_for(app: Any, *, quiet: bool, header_seconds: float = HEADER_SECONDS) -> uvicorn.Server:
    """A uvicorn server for ``app``; ``quiet`` leaves the host's logging configuration alone, and a
    request whose headers take longer than ``header_seconds`` is closed (``protocol``)."""
    config = uvicorn.Config(
        app,
        host=HOST,
        lifespan="off",
        log_config=None if quiet else uvicorn.config.LOGGING_CONFIG,
        timeout_graceful_shutdown=5,
        server_header=False,
        http=HeaderDeadline.within(header_seconds),  # unfinished headers are closed, not kept
    )
    return uvicorn.Server(config)


@dataclass
class RunningTenant:
    """A tenant serving in a background thread. ``stop()`` (or leaving the ``with``) shuts it down."""

    name: str
    kind: str
    port: int
    db_path: Path
    store: Store
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        """Stop serving and wait for the thread (idempotent)."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=_START_TIMEOUT)

    def __enter__(self) -> RunningTenant:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_tenant(
    name: str,
    kind: str,
    db_path: str | Path,
    keys: Keyring | str | Iterable[Mapping[str, Any]],
    region: str = "",
    port: int = 0,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    header_seconds: float = HEADER_SECONDS,
) -> RunningTenant:
    """Open (or create) the tenant in ``db_path`` and serve it on 127.0.0.1 in a background thread.

    ``keys`` is a ``Keyring``, a ``SYNCER_TENANT_KEYS`` value (``name:key:scope+scope,...``) or a list of
    ``{name, key, scopes}`` mappings. Returns once the server accepts connections.
    """
    keyring = Keyring.coerce(keys)
    store = Store(Path(db_path), name=name, kind=kind, region=region)
    sock = bind_socket(port)
    bound_port = int(sock.getsockname()[1])
    app = create_app(store, keyring, max_body_bytes=max_body_bytes)
    server = server_for(app, quiet=True, header_seconds=header_seconds)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"tenant-{name}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise ConfigError(f"tenant {name} did not start on {HOST}:{bound_port}.")
        time.sleep(0.01)
    return RunningTenant(name, kind, bound_port, Path(db_path), store, server, thread)
