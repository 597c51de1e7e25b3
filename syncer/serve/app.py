"""The HTTP face of ``syncer serve``: thin Starlette handlers over the ``Service``.

| route | what | auth |
|---|---|---|
| ``GET /`` | the status page | token |
| ``GET /flows/{env}/{key}`` | one flow in one environment | token |
| ``GET /runs``, ``/runs/{id}`` | the run history, one run | token |
| ``GET /api/runs``, ``/api/runs/{id}`` | the same as JSON, for audits | token |
| ``GET /metrics`` | Prometheus text format | token |
| ``GET /healthz``, ``/readyz`` | liveness and readiness, for probes | none |
| ``POST /hooks/github`` | a signed push triggers a run | HMAC |

"token": ``Authorization: Bearer $SYNCER_STATUS_TOKEN`` (or HTTP Basic with the token as password,
so a person's browser can ask for it) whenever that variable is set. Everything but the webhook is
read-only; every answer forbids scripts, framing and caching.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
from dataclasses import asdict
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..report import logs
from . import detail_pages, pages, webhook
from .metrics import CONTENT_TYPE
from .scheduler import Trigger
from .service import Service

log = logging.getLogger(__name__)
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/hooks/github"})
WEBHOOK_READS = 2  # deliveries read at once (each up to 25 MB until its signature is checked)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
_CSS = resources.files("syncer.serve").joinpath("status.css").read_text("utf-8")


def create_app(service: Service) -> Starlette:
    """The ASGI app; the caller starts and stops ``service`` (``server.serve`` does both)."""
    routes = [
        Route("/", _index),
        Route("/flows/{environment}/{flow}", _flow),
        Route("/runs", _runs),
        Route("/runs/{run_id}", _run),
        Route("/api/runs", _api_runs),
        Route("/api/runs/{run_id}", _api_run),
        Route("/assets/status.css", _css),
        Route("/metrics", _metrics),
        Route("/healthz", _healthz),
        Route("/readyz", _readyz),
        Route("/hooks/github", _github, methods=["POST"]),
    ]
    middleware = [Middleware(_Guard, token=service.settings.status_token)]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.service = service
    app.state.webhook_reads = asyncio.Semaphore(WEBHOOK_READS)
    return app


class _Guard(BaseHTTPMiddleware):
    """The token check on every protected path, and the security headers on every answer."""

    def __init__(self, app: Any, token: str | None) -> None:
        super().__init__(app)
        self.token = token or None

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if not self.token and not _loopback_host(request.headers.get("host", "")):
            # Without a token the server listens on loopback only; a browser page served from
            # elsewhere can still reach it by DNS rebinding, and then names its own host.
            response: Response = PlainTextResponse(
                "421: this server answers only requests to 127.0.0.1, ::1 or localhost "
                "(set $SYNCER_STATUS_TOKEN to serve other names).\n",
                status_code=421,
            )
        elif (
            self.token
            and request.url.path not in OPEN_PATHS
            and not _authorized(request, self.token)
        ):
            response = PlainTextResponse(
                "401: send Authorization: Bearer <token> ($SYNCER_STATUS_TOKEN), or sign in with "
                "the token as the password.\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="syncer status", charset="UTF-8"'},
            )
        else:
            response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response


def _loopback_host(host: str) -> bool:
    """Whether a ``Host`` header names this machine's loopback (with or without a port)."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if host.startswith("["):
        name = host[1 : host.find("]")] if "]" in host else host
    return name.lower() in ("127.0.0.1", "localhost", "::1")


def _authorized(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    offered = ""
    if scheme.lower() == "bearer":
        offered = value.strip()
    elif scheme.lower() == "basic":
        try:
            offered = base64.b64decode(value.strip(), validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return False
    return bool(offered) and hmac.compare_digest(offered.encode(), token.encode())


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def _index(request: Request) -> Response:
    service = _service(request)
    running = service.scheduler.running
    view = pages.Overview(
        flows=service.history.flow_states(),
        environments=service.history.environment_states(),
        runs=service.history.runs(10),
        running=str(running) if running else "",
        next_run_in=service.scheduler.seconds_to_next(),
        watched=service.settings.watched,
    )
    return HTMLResponse(pages.status_page(view))


async def _flow(request: Request) -> Response:
    env, flow = request.path_params["environment"], request.path_params["flow"]
    state = _service(request).history.flow_state(env, flow)
    if state is None:
        page = detail_pages.not_found_page(f"No flow {flow} in environment {env} has been planned.")
        return HTMLResponse(page, status_code=404)
    return HTMLResponse(detail_pages.flow_page(state))


def _filters(request: Request) -> tuple[str, str, str]:
    query = request.query_params
    return (
        query.get("environment", "").strip()[:100],
        query.get("since", "").strip()[:40],
        query.get("until", "").strip()[:40],
    )


async def _runs(request: Request) -> Response:
    environment, since, until = _filters(request)
    runs = _service(request).history.runs(
        200, environment=environment or None, since=since or None, until=until or None
    )
    return HTMLResponse(detail_pages.history_page(runs, environment, since, until))


async def _run(request: Request) -> Response:
    run = _service(request).history.run(request.path_params["run_id"])
    if run is None:
        return HTMLResponse(detail_pages.not_found_page("No such run."), status_code=404)
    return HTMLResponse(detail_pages.run_page(run))


async def _api_runs(request: Request) -> Response:
    environment, since, until = _filters(request)
    runs = _service(request).history.runs(
        1000, environment=environment or None, since=since or None, until=until or None
    )
    return JSONResponse({"runs": [asdict(r) for r in runs]})


async def _api_run(request: Request) -> Response:
    run = _service(request).history.run(request.path_params["run_id"])
    if run is None:
        return JSONResponse({"detail": "no such run"}, status_code=404)
    return JSONResponse(asdict(run))


async def _css(_request: Request) -> Response:
    return Response(_CSS, media_type="text/css")


async def _metrics(request: Request) -> Response:
    return Response(_service(request).metrics.render(), media_type=CONTENT_TYPE)


async def _healthz(request: Request) -> Response:
    scheduler = _service(request).scheduler
    if not scheduler.alive and not scheduler.stopping:  # a liveness probe restarts the process
        return JSONResponse({"status": "the run thread has stopped"}, status_code=503)
    return JSONResponse({"status": "ok"})


async def _readyz(request: Request) -> Response:
    ready, problems = _service(request).readiness()
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "problems": problems},
        status_code=200 if ready else 503,
    )


async def _bounded_body(request: Request, limit: int) -> bytes | None:
    """The body, read no further than ``limit`` bytes (None when it is longer)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _github(request: Request) -> Response:
    service = _service(request)
    secret = service.settings.webhook_secret
    if not secret:
        return JSONResponse(
            {"detail": "the webhook is off: set $SYNCER_WEBHOOK_SECRET and restart"}, 404
        )
    reads: asyncio.Semaphore = request.app.state.webhook_reads
    if reads.locked():  # bodies are held whole until signed: a flood must not exhaust memory
        return JSONResponse({"detail": "busy with other deliveries; redeliver later"}, 503)
    async with reads:
        body = await _bounded_body(request, webhook.MAX_BODY)
    if body is None:
        return JSONResponse({"detail": "body too large"}, status_code=413)
    if not webhook.signed(secret, body, request.headers.get(webhook.SIGNATURE_HEADER)):
        logs.event(log, "webhook.refused", "unsigned or wrongly signed", level=logging.WARNING)
        return JSONResponse({"detail": "signature missing or wrong"}, status_code=401)
    delivery = webhook.judge(request.headers.get("x-github-event", ""), body, service.branch)
    if not delivery.run:
        return JSONResponse({"queued": False, "detail": delivery.reason})
    answer = service.trigger(Trigger("webhook", delivery.who))
    logs.event(log, "webhook.accepted", f"{delivery.reason}: run {answer}", trigger=delivery.who)
    return JSONResponse({"queued": answer != "stopping", "detail": answer}, status_code=202)
