"""The tenant API (SPEC 5) as a Starlette app: ``create_app(store, keyring)``.

Handlers are thin: authorise, parse and check the request, call the store in a worker thread (sqlite3
blocks; running it off the event loop is what lets two writers really race, and SQLite's write lock decide),
shape the answer. ``schemas/tenant-api.openapi.yaml`` describes exactly these routes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..model import ID_RULE, is_safe_id
from ..validate import schema_problems
from . import concealed
from .auth import Keyring
from .http import (
    MAX_BODY_BYTES,
    ApiProblem,
    authorize,
    entity_tags,
    flag,
    problem_response,
    read_json,
)
from .preconditions import Refusal, Write
from .storage import EDIT_SOURCES, FlowRecord, Store

log = logging.getLogger("syncer.tenant")
_MAX_NUMBER = 2**62  # larger revision/version numbers cannot exist (and would overflow SQLite)


def create_app(
    store: Store, keyring: Keyring, *, max_body_bytes: int = MAX_BODY_BYTES
) -> Starlette:
    """The ASGI app serving ``store``; ``keyring`` decides who may do what."""
    api = _Api(store, keyring, max_body_bytes)
    flow = "/v1/care-flows/{definition_id}"
    routes = [
        Route("/healthz", api.healthz, methods=["GET"]),
        Route("/v1/tenant", api.get_tenant, methods=["GET"]),
        Route("/v1/tenant/identifier-systems", api.put_identifier_systems, methods=["PUT"]),
        Route("/v1/care-flows", api.list_flows, methods=["GET"]),
        Route(flow, api.get_flow, methods=["GET"]),
        Route(flow, api.put_flow, methods=["PUT"]),
        Route(flow, api.delete_flow, methods=["DELETE"]),
        Route(flow + "/publish", api.publish, methods=["POST"]),
        Route(flow + "/versions", api.list_versions, methods=["GET"]),
        Route(flow + "/versions/{number}", api.get_version, methods=["GET"]),
        Route(flow + "/history", api.list_history, methods=["GET"]),
        Route(flow + "/history/{number}", api.get_history_entry, methods=["GET"]),
    ]
    handlers: dict[Any, Callable[..., Any]] = {
        ApiProblem: _on_problem,
        Refusal: _on_refusal,
        HTTPException: _on_http_exception,
        ClientDisconnect: _on_disconnect,
        sqlite3.OperationalError: _on_busy,
        Exception: _on_bug,
    }
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.router.redirect_slashes = False  # a trailing slash is a 404, not an undocumented redirect
    app.state.store = store
    return app


class _Api:
    def __init__(self, store: Store, keyring: Keyring, max_body_bytes: int) -> None:
        self.store = store
        self.keyring = keyring
        self.max_body = max_body_bytes

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def get_tenant(self, request: Request) -> Response:
        authorize(request, self.keyring, "read")
        return JSONResponse(await run_in_threadpool(self.store.tenant))

    async def put_identifier_systems(self, request: Request) -> Response:
        principal = authorize(request, self.keyring, "admin")
        body = await read_json(request, required=True, limit=self.max_body)
        systems = _identifier_systems(body)
        tenant = await run_in_threadpool(self.store.set_identifier_systems, systems)
        log.info("identifier systems replaced by %s (%d)", principal.name, len(systems))
        return JSONResponse(tenant)

    async def list_flows(self, request: Request) -> Response:
        authorize(request, self.keyring, "read")
        records = await run_in_threadpool(self.store.list_flows)
        content = _json_bytes({"items": [r.summary for r in records]})
        etag = f'"{hashlib.sha256(content).hexdigest()[:32]}"'
        return _conditional_get(request, etag) or Response(
            content, headers={"ETag": etag}, media_type="application/json"
        )

    async def get_flow(self, request: Request) -> Response:
        authorize(request, self.keyring, "read")
        record = await self._flow(request)
        etag = f'"{record.revision}"'
        return _conditional_get(request, etag) or _flow_response(record, 200)

    async def put_flow(self, request: Request) -> Response:
        principal = authorize(request, self.keyring, "write")
        definition_id = _definition_id(request)
        edit_source = (request.headers.get("x-edit-source") or "api").strip().lower()
        if edit_source not in EDIT_SOURCES:
            raise ApiProblem(400, f"header X-Edit-Source must be one of {', '.join(EDIT_SOURCES)}.")
        hotfix = flag(request, "x-hotfix")
        body = await read_json(request, required=True, limit=self.max_body)
        # Schema validation of a large flow takes a while: keep it off the event loop.
        incoming, annotations = await run_in_threadpool(_flow_body, body, definition_id)
        write = Write(
            definition_id=definition_id,
            incoming=incoming,
            annotations=annotations,
            if_match=entity_tags(request.headers.get("if-match"), weak=False),
            if_none_match=entity_tags(request.headers.get("if-none-match"), weak=True),
            actor=principal.name,
            edit_source=edit_source,
            hotfix=hotfix,
        )
        record, created = await run_in_threadpool(self.store.write_flow, write)
        log.info(
            "flow %s %s at revision %d by %s (%s%s)",
            definition_id,
            "created" if created else "updated",
            record.revision,
            principal.name,
            edit_source,
            ", hotfix" if hotfix else "",
        )
        response = _flow_response(record, 201 if created else 200)
        if created:
            response.headers["Location"] = f"/v1/care-flows/{definition_id}"
        return response

    async def delete_flow(self, request: Request) -> Response:
        principal = authorize(request, self.keyring, "admin")
        definition_id = _definition_id(request)
        tags = entity_tags(request.headers.get("if-match"), weak=False)
        await run_in_threadpool(self.store.delete_flow, definition_id, tags, principal.name)
        log.info("flow %s deleted by %s", definition_id, principal.name)
        return Response(status_code=204)

    async def publish(self, request: Request) -> Response:
        principal = authorize(request, self.keyring, "publish")
        definition_id = _definition_id(request)
        body = await read_json(request, required=False, limit=self.max_body)
        notes = _publish_notes(body)
        version = await run_in_threadpool(self.store.publish, definition_id, principal.name, notes)
        log.info(
            "flow %s published as version %d by %s",
            definition_id,
            version["version"],
            principal.name,
        )
        return JSONResponse(version, status_code=201)

    async def list_versions(self, request: Request) -> Response:
        authorize(request, self.keyring, "read")
        return await self._listing(request, self.store.versions)

    async def list_history(self, request: Request) -> Response:
        authorize(request, self.keyring, "read")
        return await self._listing(request, self.store.history)

    async def get_version(self, request: Request) -> Response:
        authorize(request, self.keyring, "read")
        return await self._numbered(request, self.store.version, "version")

    async def get_history_entry(self, request: Request) -> Response:
        authorize(request, self.keyring, "read")
        return await self._numbered(request, self.store.history_entry, "revision")

    async def _flow(self, request: Request) -> FlowRecord:
        definition_id = _definition_id(request)
        record = await run_in_threadpool(self.store.get_flow, definition_id)
        if record is None:
            raise ApiProblem(404, f"flow {definition_id} does not exist in this tenant.")
        return record

    async def _listing(self, request: Request, read: Callable[[str], Any]) -> Response:
        definition_id = _definition_id(request)
        items = await run_in_threadpool(read, definition_id)
        if items is None:
            raise ApiProblem(404, f"flow {definition_id} does not exist in this tenant.")
        return JSONResponse(items)

    async def _numbered(
        self, request: Request, read: Callable[[str, int], Any], what: str
    ) -> Response:
        definition_id = _definition_id(request)
        text = request.path_params["number"]
        number = int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None
        entry = None
        if number is not None and 0 < number < _MAX_NUMBER:
            entry = await run_in_threadpool(read, definition_id, number)
        if entry is None:
            raise ApiProblem(404, f"flow {definition_id} has no {what} {text}.")
        return JSONResponse(entry)


def _definition_id(request: Request) -> str:
    """The definition id in the URL; 400 when it breaks the id rule every side shares (``.`` and
    ``..`` above all: a client's URL library collapses them into another path)."""
    definition_id = str(request.path_params["definition_id"])
    if not is_safe_id(definition_id):
        raise ApiProblem(
            400, f"the URL does not name a care-flow definition id: ids use {ID_RULE} characters."
        )
    return definition_id


def _json_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _flow_response(record: FlowRecord, status: int) -> Response:
    body = {**record.summary, "definition": record.definition}
    return Response(
        _json_bytes(body),
        status_code=status,
        headers={"ETag": f'"{record.revision}"'},
        media_type="application/json",
    )


def _conditional_get(request: Request, etag: str) -> Response | None:
    """304 when the client's If-None-Match already names ``etag``."""
    tags = entity_tags(request.headers.get("if-none-match"), weak=True)
    if tags and ("*" in tags or etag.strip('"') in tags):
        return Response(status_code=304, headers={"ETag": etag})
    return None


def _errors(problems: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"path": path, "message": message} for path, message in problems]


def _flow_body(body: Any, definition_id: str) -> tuple[concealed.Incoming, dict[str, str] | None]:
    """Check a PUT body; 422 lists every problem, with concealed values never echoed."""
    if not isinstance(body, dict) or not isinstance(body.get("definition"), dict):
        raise ApiProblem(
            422,
            "the body must be a JSON object {definition, annotations?}.",
            errors=_errors([("/definition", "a flow document (JSON object) is required.")]),
        )
    problems = [
        (f"/{k}", "unknown field; send definition and annotations.")
        for k in body
        if k not in ("definition", "annotations")
    ]
    annotations = body.get("annotations")
    problems += _annotation_problems(annotations)
    incoming = concealed.split(body["definition"])
    problems += incoming.problems
    metadata = incoming.definition.get("metadata")
    if isinstance(metadata, dict) and metadata.get("definition_id") != definition_id:
        problems.append(
            (
                "/definition/metadata/definition_id",
                f"must equal the id in the URL, {definition_id!r}.",
            )
        )
    problems += [
        (concealed.pointer("definition", *path), message)
        for path, message in schema_problems(incoming.definition, "careflow")
    ]
    if problems:
        count = len(problems)
        raise ApiProblem(
            422,
            f"the flow was not stored: {count} problem{'s' if count != 1 else ''}; see errors.",
            errors=[{"path": p, "message": incoming.redact(m)} for p, m in problems],
        )
    return incoming, annotations


def _annotation_problems(annotations: Any) -> list[tuple[str, str]]:
    if annotations is None:
        return []
    if not isinstance(annotations, dict):
        return [("/annotations", "must be an object of string keys to string values.")]
    return [
        (concealed.pointer("annotations", key), "must be a string.")
        for key, value in annotations.items()
        if not isinstance(value, str)
    ]


def _publish_notes(body: Any) -> str | None:
    if body is None:
        return None
    if not isinstance(body, dict) or set(body) - {"notes"}:
        raise ApiProblem(
            422, "the body must be empty or {notes}.", errors=_errors([("", "expected {notes}.")])
        )
    notes = body.get("notes")
    if notes is not None and not isinstance(notes, str):
        raise ApiProblem(
            422, "notes must be a string.", errors=_errors([("/notes", "must be a string.")])
        )
    return notes


def _identifier_systems(body: Any) -> list[dict[str, str]]:
    """Check ``{identifier_systems: [{name, display_name?, system}]}`` (or the bare list)."""
    systems = body.get("identifier_systems") if isinstance(body, dict) else body
    if (isinstance(body, dict) and set(body) != {"identifier_systems"}) or not isinstance(
        systems, list
    ):
        raise ApiProblem(
            422,
            "the body must be {identifier_systems: [{name, display_name, system}]}.",
            errors=_errors([("/identifier_systems", "a list is required.")]),
        )
    prefix = "/identifier_systems" if isinstance(body, dict) else ""
    problems: list[tuple[str, str]] = []
    result: list[dict[str, str]] = []
    for index, item in enumerate(systems):
        where = f"{prefix}/{index}"
        if not isinstance(item, dict) or set(item) - {"name", "display_name", "system"}:
            problems.append((where, "must be {name, display_name, system}."))
            continue
        name, system = item.get("name"), item.get("system")
        display = item.get("display_name", name)
        for field, value in (("name", name), ("system", system), ("display_name", display)):
            if not isinstance(value, str) or not value.strip():
                problems.append((f"{where}/{field}", "must be a non-empty string."))
        if any(name == other["name"] for other in result):
            problems.append((f"{where}/name", f"{name!r} is listed twice."))
        if isinstance(name, str) and isinstance(system, str) and isinstance(display, str):
            result.append({"name": name, "display_name": display, "system": system})
    if problems:
        raise ApiProblem(
            422, "the identifier systems were not stored; see errors.", errors=_errors(problems)
        )
    return result


# -- exception handlers: every error is problem+json ---------------------------------------------


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiProblem)
    return problem_response(exc)


async def _on_refusal(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refusal)
    return problem_response(ApiProblem(exc.status, exc.detail, title=exc.title))


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = {404: "no such resource.", 405: f"{request.method} is not allowed here."}
    problem = ApiProblem(
        exc.status_code,
        detail.get(exc.status_code, str(exc.detail)),
        headers=dict(exc.headers or {}),
    )
    return problem_response(problem)


async def _on_disconnect(request: Request, exc: Exception) -> Response:
    # The client went away before its body arrived (a crash, a timeout, a dropped connection):
    # nothing was read, so nothing was written. Not a failure of the tenant, and nobody reads this.
    log.info(
        "client disconnected before sending its whole body: %s %s", request.method, request.url.path
    )
    return problem_response(ApiProblem(400, "the client disconnected before the body arrived."))


async def _on_busy(request: Request, exc: Exception) -> Response:
    # "database is locked" after the busy timeout: the tenant is overloaded, the request may be retried.
    log.warning("storage busy: %s", exc)
    return problem_response(
        ApiProblem(503, "the tenant is busy; retry shortly.", headers={"Retry-After": "1"})
    )


async def _on_bug(request: Request, exc: Exception) -> Response:
    log.error("internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return problem_response(ApiProblem(500, "the tenant failed unexpectedly; see its log."))
