"""uvicorn's HTTP/1.1 protocol (h11) with a deadline for request headers.

uvicorn closes an idle keep-alive connection after ``timeout_keep_alive``, but a connection that opens
and then sends nothing, or only part of its headers, waits for ever: a handful of those (a crashed
client, a port scanner, a slow-loris attack) hold the tenant's connections. ``HeaderDeadline`` gives
every request ``HEADER_SECONDS`` to complete its request line and headers from the moment the
connection is ready for it; then the connection is closed (with a ``408`` when some of it arrived).
The body has its own limit in the app (``http.BODY_SECONDS``).
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_SECONDS = 10.0
_TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: 50\r\n\r\n"
    b"the request headers did not arrive within the time"
)


class HeaderDeadline(H11Protocol):
    """``H11Protocol`` that closes a connection whose request headers are late."""

    header_seconds = HEADER_SECONDS

    @classmethod
    def within(cls, seconds: float) -> type[HeaderDeadline]:
        """The protocol with another deadline (tests use a short one)."""
        return type(cls.__name__, (cls,), {"header_seconds": seconds})

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._received = False
        self._deadline: asyncio.TimerHandle | None = None
        self._arm()

    def data_received(self, data: bytes) -> None:
        self._received = self._received or bool(data)
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the headers are complete: a request runs
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._received = False
        self._arm()  # the next request on this connection gets its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self._deadline = self.loop.call_later(self.header_seconds, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self._received:
            self.logger.info("closed a connection whose request headers were late")
            self.transport.write(_TIMED_OUT)
        self.transport.close()
