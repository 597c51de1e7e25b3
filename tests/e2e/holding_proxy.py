"""A proxy in front of a tenant that holds the Nth write, so a test can act while it is in flight.

``HoldingProxy(upstream, hold=2)`` forwards every request to ``upstream``; the ``hold``-th PUT is kept
waiting: ``holding`` is set when it arrives, and it is answered once ``release`` is set, either by
forwarding it (``forward=True``: the write happens late) or with a 503 (the write never happens).
``hold=None`` forwards everything at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncer.tenant.embedded import bind_socket

HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


class HoldingProxy:
    def __init__(self, upstream: str, hold: int | None = 2, forward: bool = False) -> None:
        self.upstream = upstream
        self.hold = hold
        self.forward = forward
        self.puts = 0
        self.holding = threading.Event()
        self.release = threading.Event()
        app = Starlette(
            routes=[Route("/{path:path}", self._handle, methods=["GET", "PUT", "POST"])]
        )
        self._sock = bind_socket(0)
        self._server = uvicorn.Server(
            uvicorn.Config(app, lifespan="off", log_config=None, access_log=False)
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        if request.method == "PUT":
            self.puts += 1
            if self.hold is not None and self.puts == self.hold:
                self.holding.set()
                await asyncio.to_thread(self.release.wait, 60)
                if not self.forward:
                    return Response(b'{"detail": "held"}', status_code=503)
        return await self._send(request, body)

    async def _send(self, request: Request, body: bytes) -> Response:
        headers: Any = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        async with httpx.AsyncClient(base_url=self.upstream) as client:
            answer = await client.request(
                request.method,
                request.url.path,
                params=request.query_params,
                content=body,
                headers=headers,
            )
        out = {
            k: v
            for k, v in answer.headers.items()
            if k.lower() not in HOP_HEADERS | {"content-encoding"}
        }
        return Response(answer.content, status_code=answer.status_code, headers=out)

    def stop(self) -> None:
        self.release.set()
        self._server.should_exit = True
        self._thread.join(10)
