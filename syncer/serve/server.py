"""Start ``syncer serve``: check where it may listen, run uvicorn, stop cleanly on SIGTERM.

Bound to anything but loopback, the page shows Production's state to whoever can reach the port, so
the server refuses to start there unless ``$SYNCER_STATUS_TOKEN`` is set. On SIGTERM (Kubernetes, a
container stop) uvicorn stops taking requests, then the run in flight finishes the write it is making,
is recorded, and the process exits 0; Ctrl-C does the same and exits 130.
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import socket
from types import FrameType

import uvicorn

from ..errors import EXIT_INTERRUPTED, EXIT_OK, ConfigError
from ..report import logs
from .app import create_app
from .service import Service, Settings

log = logging.getLogger(__name__)
STOP_TIMEOUT = 120.0  # seconds for the write in flight; Kubernetes' grace period must be longer


def is_loopback(host: str) -> bool:
    """Only addresses that are provably this machine's own (a name could resolve anywhere)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings) -> None:
    if not is_loopback(settings.host) and not settings.status_token:
        raise ConfigError(
            f"refusing to listen on {settings.host}: without $SYNCER_STATUS_TOKEN the status page "
            "and metrics would show Production's state to anyone who can reach the port. Set "
            "SYNCER_STATUS_TOKEN to a long random string, or listen on 127.0.0.1."
        )


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}. Is syncer serve already "
            "running there? Stop it or choose another --port."
        ) from None
    sock.listen(128)  # connections queue from now on: "listening" is true when it is logged
    return sock


def server_for(service: Service) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(service),
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    return uvicorn.Server(config)


def serve(settings: Settings) -> int:
    """Serve until SIGTERM or Ctrl-C; returns the exit code."""
    check_bind(settings)
    sock = bind(settings.host, settings.port)
    service = Service(settings)
    server = server_for(service)
    for name in ("uvicorn", "uvicorn.error"):
        logs.attach(name)
    received: list[int] = []

    def note(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)  # uvicorn handles the signal; this only remembers which one

    previous = {s: signal.signal(s, note) for s in (signal.SIGTERM, signal.SIGINT)}
    port = int(sock.getsockname()[1])
    if not settings.webhook_secret:
        logs.event(
            log,
            "webhook.off",
            "POST /hooks/github answers 404: $SYNCER_WEBHOOK_SECRET is not set",
            level=logging.WARNING,
        )
    service.start()
    logs.event(
        log,
        "serve.listening",
        f"status page on http://{settings.host}:{port}/",
        url=f"http://{settings.host}:{port}/",
        every=settings.every,
    )
    try:
        server.run(sockets=[sock])
    finally:
        service.scheduler.request_stop()  # before anything else: no other write starts
        logs.event(log, "serve.stopping", "finishing the write in flight, then stopping")
        service.stop(STOP_TIMEOUT)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    logs.event(log, "serve.stopped", "stopped")
    return EXIT_INTERRUPTED if signal.SIGINT in received else EXIT_OK
