"""Fault-injecting servers for client tests: a scripted HTTP server and a connection-resetting socket.

``FaultServer`` is a Starlette app on uvicorn in a thread on 127.0.0.1. Each request is answered by the
next scripted ``Reply`` for its method and path, then by that route's default, then by a catch-all
responder, then 404. Every request is recorded (method, path, headers, body) before it is answered, so a
test can count attempts even when the client gave up waiting.

``ResetServer`` accepts TCP connections and closes each with SO_LINGER 0, which sends a RST: the client
sees "connection reset by peer", as from a crashed tenant or a load balancer dropping a connection.
"""

from __future__ import annotations

import asyncio
import collections
import http.client
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH"]


@dataclass
class Reply:
    """One scripted answer. ``body`` (raw bytes) wins over ``json``; ``delay`` is waited first."""

    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_type: str = "application/json"

    def content(self) -> bytes:
        if self.body is not None:
            return self.body
        if self.json is None:
            return b""
        return json.dumps(self.json).encode()


def problem(status: int, detail: str, errors: list[dict[str, str]] | None = None) -> Reply:
    """An application/problem+json answer, as the tenant gives for every error."""
    data: dict[str, Any] = {
        "type": "about:blank",
        "title": "error",
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        data["errors"] = errors
    return Reply(status, data, content_type="application/problem+json")


@dataclass
class Seen:
    """A request the server received."""

    method: str
    path: str  # decoded, as routed
    raw_path: str  # as sent on the wire
    headers: dict[str, str]  # lower-case names
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body)


Responder = Callable[[Seen], Reply]


class FaultServer:
    """A scriptable HTTP server; use as a context manager (``with FaultServer() as server``)."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.responder: Responder | None = None
        self._scripts: dict[tuple[str, str], collections.deque[Reply]] = {}
        self._defaults: dict[tuple[str, str], Reply | Responder] = {}
        self._lock = threading.Lock()
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=METHODS)])
        config = uvicorn.Config(
            app, lifespan="off", log_config=None, log_level="warning", access_log=False,
            timeout_graceful_shutdown=1,
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    # --- scripting ---

    def script(self, method: str, path: str, *replies: Reply) -> None:
        """Answer the next requests to ``method path`` with ``replies``, in order."""
        with self._lock:
            self._scripts.setdefault((method, path), collections.deque()).extend(replies)

    def default(self, method: str, path: str, reply: Reply | Responder) -> None:
        """Answer ``method path`` with ``reply`` once its script has run out."""
        with self._lock:
            self._defaults[(method, path)] = reply

    def seen(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)
            ]

    def count(self, method: str | None = None, path: str | None = None) -> int:
        return len(self.seen(method, path))

    # --- serving ---

    def _choose(self, request: Seen) -> Reply:
        key = (request.method, request.path)
        with self._lock:
            queue = self._scripts.get(key)
            if queue:
                return queue.popleft()
            chosen = self._defaults.get(key)
        if isinstance(chosen, Reply):
            return chosen
        if chosen is not None:
            return chosen(request)
        if self.responder is not None:
            return self.responder(request)
        return problem(404, f"nothing scripted for {request.method} {request.path}")

    async def _handle(self, request: Request) -> Response:
        seen = Seen(
            method=request.method,
            path=request.url.path,
            raw_path=request.scope.get("raw_path", b"").decode("latin-1"),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.body(),
        )
        with self._lock:
            self.requests.append(seen)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            reply = self._choose(seen)
            if reply.delay:
                await asyncio.sleep(reply.delay)
        finally:
            with self._lock:
                self.in_flight -= 1
        return Response(
            reply.content(), reply.status, headers=reply.headers, media_type=reply.content_type
        )

    def start(self) -> FaultServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fault server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class ResetServer:
    """Accepts connections, reads what arrives (so the request did reach it), then sends a RST."""

    def __init__(self, *, read_first: bool = True) -> None:
        self.connections = 0
        self.read_first = read_first
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            if self.read_first:
                connection.settimeout(1.0)
                with suppress(OSError):
                    connection.recv(65536)
            # l_onoff=1, l_linger=0: close() discards the buffers and sends RST instead of FIN.
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()

    def __enter__(self) -> ResetServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self._listener.close()


@contextmanager
def closed_port() -> Iterator[str]:
    """A URL on which nothing listens: connecting is refused."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    yield f"http://127.0.0.1:{port}"


# --- a fault-injecting proxy in front of a real tenant ----------------------------------------------


@dataclass(frozen=True)
class Fault:
    """What ``FaultProxy`` does with one request.

    ``pass``           forward it and relay the answer;
    ``status``         answer ``status`` (problem+json) without forwarding: a gateway's 5xx, a 429;
    ``reset_before``   reset the connection (RST) before forwarding: nothing reached the tenant;
    ``reset_after``    forward it, let the tenant answer, then reset: the write happened, its answer
                       is lost;
    ``status_after``   forward it, then answer ``status`` instead of the tenant's answer (a gateway
                       timing out after the tenant committed);
    ``hang``           forward nothing, answer nothing for ``seconds``, then close;
    ``truncate``       forward it, then send the headers and half the body and close;
    ``garbage``        answer 200 with a body that is not JSON, without forwarding;
    ``garbage_after``  forward it, then answer 200 with garbage instead;
    ``slow``           wait ``seconds``, then forward it (a slow tenant: time to kill a client).
    """

    kind: str = "pass"
    status: int = 503
    seconds: float = 30.0


PASS = Fault()
FAULT_KINDS = (
    "status",
    "reset_before",
    "reset_after",
    "status_after",
    "hang",
    "truncate",
    "garbage",
    "garbage_after",
)
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
_GARBAGE = b"\x00\xff<html><body>Gateway says hello</body></html>\n{not json"


@dataclass
class Proxied:
    """A request the proxy received, and the fault it got."""

    method: str
    path: str
    fault: str = "pass"
    forwarded: bool = False
    upstream_status: int | None = None


Rule = Callable[[Proxied], Fault]


class FaultProxy:
    """An HTTP/1.1 proxy on 127.0.0.1 in front of a real server (``upstream`` URL), injecting faults.

    ``rule(request) -> Fault`` decides per request (default: pass everything); ``log`` records every
    request with its fault and whether the tenant saw it. Connections are kept alive like a real
    gateway's, one thread each. Use as a context manager.
    """

    def __init__(self, upstream: str, rule: Rule | None = None) -> None:
        parsed = upstream.removeprefix("http://").rstrip("/")
        host, _, port = parsed.partition(":")
        self.upstream = (host, int(port or 80))
        self.rule: Rule = rule or (lambda _request: PASS)
        self.log: list[Proxied] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._workers: list[threading.Thread] = []

    def faults(self) -> list[Proxied]:
        """The requests that got a fault."""
        with self._lock:
            return [r for r in self.log if r.fault != "pass"]

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            worker.start()
            self._workers.append(worker)

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(60)
        reader = connection.makefile("rb")
        try:
            while not self._stopped.is_set():
                request = _read_request(reader)
                if request is None:
                    return
                if not self._answer(connection, *request):
                    return
        except OSError:
            return
        finally:
            with suppress(OSError):
                reader.close()
                connection.close()

    def _answer(
        self,
        connection: socket.socket,
        head: tuple[str, str],
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> bool:
        """Answer one request; False when the connection is gone (reset, closed, hung up)."""
        method, path = head
        seen = Proxied(method, path)
        fault = self.rule(seen)
        seen.fault = fault.kind
        with self._lock:
            self.log.append(seen)
        if fault.kind == "reset_before":
            _reset(connection)
            return False
        if fault.kind == "hang":
            self._stopped.wait(fault.seconds)
            return False
        if fault.kind == "slow":
            self._stopped.wait(fault.seconds)
        if fault.kind == "status":
            connection.sendall(_problem_bytes(fault.status))
            return True
        if fault.kind == "garbage":
            connection.sendall(
                _response_bytes(200, "OK", [("content-type", "application/json")], _GARBAGE)
            )
            return True
        status, reason, answer_headers, answer = self._forward(method, path, headers, body)
        seen.forwarded, seen.upstream_status = True, status
        if fault.kind == "reset_after":
            _reset(connection)
            return False
        if fault.kind == "status_after":
            connection.sendall(_problem_bytes(fault.status))
            return True
        if fault.kind == "garbage_after":
            connection.sendall(
                _response_bytes(200, "OK", [("content-type", "application/json")], _GARBAGE)
            )
            return True
        whole = _response_bytes(status, reason, answer_headers, answer)
        if fault.kind == "truncate":
            cut = len(whole) - max(1, len(answer) // 2)
            connection.sendall(whole[:cut])
            return False
        connection.sendall(whole)
        return True

    def _forward(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        upstream = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            sent = {k: v for k, v in headers if k.lower() not in _HOP and k.lower() != "host"}
            upstream.request(method, path, body=body or None, headers=sent)
            response = upstream.getresponse()
            content = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP]
            return response.status, response.reason, kept, content
        finally:
            upstream.close()

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for worker in self._workers:
            worker.join(timeout=5)


def _read_request(
    reader: Any,
) -> tuple[tuple[str, str], list[tuple[str, str]], bytes] | None:
    """One HTTP/1.1 request from ``reader``: (method, target), headers, body; None at EOF."""
    line = reader.readline(65537)
    if not line:
        return None
    method, target, _version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers: list[tuple[str, str]] = []
    while True:
        raw = reader.readline(65537)
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
    body = reader.read(length) if length else b""
    return (method, target), headers, body


def _response_bytes(status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines += [f"content-length: {len(body)}", "connection: keep-alive", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


def _problem_bytes(status: int) -> bytes:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "gateway",
            "status": status,
            "detail": "injected by the proxy",
        }
    ).encode()
    reason = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway"}.get(
        status, "Service Unavailable"
    )
    return _response_bytes(status, reason, [("content-type", "application/problem+json")], body)


def _reset(connection: socket.socket) -> None:
    # l_onoff=1, l_linger=0: close() sends RST, as a crashed gateway or a dropped connection does.
    with suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
