"""The tenant API client (SPEC 5): one httpx connection pool, retries, ETags; errors worded in ``failures``.

Every httpx exception and every non-2xx answer becomes a ``TenantError`` subclass whose message names the
environment, the flow and the HTTP status, and says what to do. Request bodies may carry concealed constant
values, so they never appear in a message or a log line, and secrets echoed back by a tenant are masked.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from syncer import __version__, errors, model
from syncer.report import logs

from . import failures
from .settings import check_api_key, request_timeout, ssl_context
from .tenant_api import (
    Call,
    ClientStats,
    FlowStream,
    Tenant,
    concealed_values,
    list_items,
    retry_after,
)

__all__ = ["ClientStats", "FlowStream", "Tenant", "TenantClient", "client_for"]

log = logging.getLogger(__name__)

MAX_RETRY_AFTER = 30.0  # a tenant asking for longer is capped: CI jobs must finish
MAX_BACKOFF = 10.0
_FLOWS = "/v1/care-flows"
_FLOW = "/v1/care-flows/{id}"

# Failures where the request may never have left this machine: safe to retry any method.
_BEFORE_SEND = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures where the tenant may have received (and applied) the request.
_MAYBE_SENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class TenantClient:
    """A client for one environment's tenant API; safe to share between threads."""

    def __init__(
        self,
        environment: str,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.2,
        max_workers: int = 8,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = f"syncer/{__version__}",
        api_key_env: str | None = None,
        cache_path: str | Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_retry_after: float = MAX_RETRY_AFTER,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise errors.ConfigError(
                f"environment {environment}: url {base_url!r} is not an http(s) URL; fix `url` "
                f"in environments/{environment}.yaml"
            )
        if model.plain_http_to_remote(base_url):
            raise errors.ConfigError(
                f"environment {environment}: `url` is plain http:// to a host that is not loopback, "
                "and the API key is never sent in clear text. Use the tenant's https:// URL in "
                f"environments/{environment}.yaml."
            )
        self.environment = environment
        self.base_url = base_url.rstrip("/")
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_workers = max(1, max_workers)
        self.max_retry_after = max_retry_after
        self.stats = ClientStats()
        self._timeout = timeout
        self._key_hint = f"${api_key_env}" if api_key_env else f"the API key of {environment}"
        check_api_key(api_key, environment, self._key_hint)
        self._api_key = api_key
        self._endpoint = failures.Endpoint(
            environment, self.base_url, self._key_hint, timeout, api_key
        )
        self._cache_path = Path(cache_path) if cache_path else None
        self._sleep = sleep  # injectable, so tests count waits instead of spending them
        self._random = random.Random()
        self._lock = threading.Lock()
        self._list_cache = self._load_cache()
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {api_key}",
                "User-Agent": user_agent,
                "Accept": "application/json",
            },
            timeout=httpx.Timeout(timeout),
            # get_flows runs max_workers requests at once; the pool must not make them queue.
            limits=httpx.Limits(max_connections=self.max_workers + 2),
            transport=transport,
            verify=ssl_context(),
        )

    def __enter__(self) -> TenantClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # --- the API (SPEC 5) ---

    def healthz(self) -> dict[str, Any]:
        """The tenant's liveness answer."""
        return self._object(Call("GET", "/healthz"))

    def tenant(self) -> dict[str, Any]:
        """``{name, kind, region, identifier_systems}``."""
        return self._object(Call("GET", "/v1/tenant"))

    def put_identifier_systems(self, items: list[dict[str, str]]) -> dict[str, Any]:
        """Replace the tenant's identifier systems (scope ``admin``)."""
        return self._object(Call("PUT", "/v1/tenant/identifier-systems", scope="admin", body=items))

    def list_flows(self) -> list[dict[str, Any]]:
        """Every flow's summary; a 304 on the remembered ETag returns the remembered items."""
        with self._lock:
            cached = self._list_cache
        call = Call("GET", _FLOWS, headers={"If-None-Match": cached[0]} if cached else {})
        response = self._request(call)
        if response.status_code == 304 and cached:
            return [dict(item) for item in cached[1]]
        items = self._list(call, response)
        etag = response.headers.get("ETag")
        if etag:
            with self._lock:
                self._list_cache = (etag, items)
                self._save_cache(etag, items)
        return [dict(item) for item in items]

    def get_flow(self, definition_id: str) -> dict[str, Any]:
        """The flow's summary plus ``definition``; ``revision`` is always an int."""
        call = Call("GET", _FLOW, flow=definition_id)
        response = self._request(call)
        return self._with_revision(self._object(call, response), response, call)

    def get_flows(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Several flows at once over the shared pool, by id in the order given; the first
        failure is raised and the requests not yet started are cancelled."""
        unique = list(dict.fromkeys(ids))
        with ThreadPoolExecutor(self.max_workers, thread_name_prefix="syncer-get") as pool:
            futures: dict[str, Future[dict[str, Any]]] = {
                definition_id: pool.submit(self.get_flow, definition_id) for definition_id in unique
            }
            try:
                return {definition_id: future.result() for definition_id, future in futures.items()}
            except BaseException:
                for future in futures.values():
                    future.cancel()
                raise

    def iter_flows(self, ids: Sequence[str]) -> FlowStream:
        """Flows by id in the order given, fetched in the background from now on while the caller
        works on the ones already here; use it in a ``with`` block (see ``FlowStream``)."""
        return FlowStream(self.get_flow, ids, self.max_workers)

    def put_flow(
        self,
        definition_id: str,
        definition: dict[str, Any],
        *,
        annotations: dict[str, str] | None = None,
        if_match: int | None = None,
        create: bool = False,
        edit_source: str = "syncer",
        hotfix: bool = False,
    ) -> dict[str, Any]:
        """Create (``create=True``) or update (``if_match=<revision>``) a flow's working version.

        Exactly one of the two is required: the write must be conditional, which is also what makes
        retrying it safe (see ``_request``). ``annotations=None`` keeps the stored ones.
        """
        if create == (if_match is not None):
            raise ValueError("put_flow needs exactly one of create=True or if_match=<revision>")
        headers = {"X-Edit-Source": edit_source}
        headers.update({"If-None-Match": "*"} if create else {"If-Match": f'"{if_match}"'})
        if hotfix:
            headers["X-Hotfix"] = "true"
        body: dict[str, Any] = {"definition": definition}
        if annotations is not None:
            body["annotations"] = annotations
        call = Call(
            "PUT", _FLOW, flow=definition_id, scope="write", body=body, headers=headers,
            secrets=concealed_values(definition),
        )  # fmt: skip
        response = self._request(call)
        return self._with_revision(self._object(call, response), response, call)

    def delete_flow(self, definition_id: str, if_match: int) -> None:
        """Delete a flow, conditional on its revision (syncer itself never deletes; tests do)."""
        headers = {"If-Match": f'"{if_match}"'}
        self._request(Call("DELETE", _FLOW, flow=definition_id, scope="admin", headers=headers))

    def publish(self, definition_id: str, notes: str | None = None) -> dict[str, Any]:
        """Publish the working version: ``{version, release_id, published_at, notes}``.

        Not retried once the request may have reached the tenant: a second publish would be a
        second release, and nothing makes the POST conditional.
        """
        body = {"notes": notes} if notes is not None else {}
        template = _FLOW + "/publish"
        call = Call("POST", template, definition_id, "publish", body, idempotent=False)
        return self._object(call)

    def versions(self, definition_id: str) -> list[dict[str, Any]]:
        """The published versions of a flow."""
        return self._list(Call("GET", _FLOW + "/versions", flow=definition_id))

    def history(self, definition_id: str) -> list[dict[str, Any]]:
        """``[{revision, at, user, edit_source, hotfix, content_hash}]``, newest first."""
        return self._list(Call("GET", _FLOW + "/history", flow=definition_id))

    def history_revision(self, definition_id: str, revision: int) -> dict[str, Any]:
        """One revision's definition (concealed values withheld)."""
        call = Call("GET", _FLOW + "/history/{revision}", flow=definition_id, revision=revision)
        return self._object(call)

    # --- transport, retries, translation ---

    def _object(self, call: Call, response: httpx.Response | None = None) -> dict[str, Any]:
        response = self._request(call) if response is None else response
        body = self._parse(response, call)
        if not isinstance(body, dict):
            raise failures.bad_answer(self._endpoint, call, response, "JSON that is not an object")
        return body

    def _list(self, call: Call, response: httpx.Response | None = None) -> list[dict[str, Any]]:
        response = self._request(call) if response is None else response
        items = list_items(self._parse(response, call))
        if items is None:
            raise failures.bad_answer(self._endpoint, call, response, "JSON that is not a list")
        return items

    def _request(self, call: Call) -> httpx.Response:
        # Why retrying a PUT or DELETE is safe: every write is conditional (If-Match / If-None-Match).
        # If an attempt was applied but its answer was lost (reset, timeout, a proxy's 502), the
        # retry meets a moved revision and gets 412, which surfaces as PreconditionFailed; the
        # caller re-reads the flow (SPEC 6) and finds its own write there. Nothing is applied twice
        # and nothing is overwritten. POST publish is not conditional, so it is retried only when
        # the request cannot have left this machine (_BEFORE_SEND).
        problem = call.id_problem
        if problem:  # before any byte is sent, and before a message below names call.path
            raise errors.ConfigError(f"environment {self.environment}: {problem}.")
        attempt = 0
        while True:
            try:
                response = self._send_once(call)
            except _MAYBE_SENT as exc:
                if attempt < self.retries and (call.idempotent or isinstance(exc, _BEFORE_SEND)):
                    attempt += 1
                    self._wait(call, attempt, None, type(exc).__name__)
                    continue
                raise failures.unreachable(self._endpoint, call, exc, attempt + 1) from exc
            except httpx.TransportError as exc:  # unsupported scheme, local protocol error
                raise failures.error(
                    self._endpoint, call, f"{call.method} {call.path} failed: {exc}"
                ) from exc
            status = response.status_code
            if (status == 429 or status >= 500) and attempt < self.retries and call.idempotent:
                attempt += 1
                self._wait(call, attempt, response, f"HTTP {status}")
                continue
            if 200 <= status < 300 or status == 304:
                return response
            raise failures.translate(self._endpoint, call, response, attempt + 1)

    def _send_once(self, call: Call) -> httpx.Response:
        content = b"" if call.body is None else json.dumps(call.body, ensure_ascii=False).encode()
        headers = dict(call.headers)
        if call.body is not None:
            headers["Content-Type"] = "application/json"
        request = self._http.build_request(call.method, call.path, content=content, headers=headers)
        with self._lock:
            self.stats.requests += 1
            self.stats.bytes_sent += len(content)
            self.stats.by_route[(call.method, call.template)] += 1
        response = self._http.send(request)
        with self._lock:
            self.stats.bytes_received += response.num_bytes_downloaded
            self.stats.not_modified += response.status_code == 304
            self.stats.by_status[response.status_code] += 1
        return response

    def _wait(self, call: Call, attempt: int, response: httpx.Response | None, why: str) -> None:
        delay = retry_after(response, self.max_retry_after) if response is not None else None
        if delay is None:
            # Full jitter: many syncer processes retrying one tenant do not stampede in step.
            delay = self._random.uniform(0, min(MAX_BACKOFF, self.backoff * 2 ** (attempt - 1)))
        with self._lock:
            self.stats.retries += 1
        logs.event(
            log,
            "tenant.retry",
            f"{self.environment}: {call.method} {call.path} got {why}; "
            f"retry {attempt} of {self.retries} in {delay:.2f}s",
            level=logging.WARNING,
            environment=self.environment,
            flow=call.flow,
            attempt=attempt,
        )
        self._sleep(delay)

    def _parse(self, response: httpx.Response, call: Call) -> Any:
        if response.status_code == 204:
            return {}
        try:
            return response.json()
        except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
            raise failures.bad_answer(
                self._endpoint, call, response, "something that is not JSON"
            ) from None

    def _with_revision(
        self, flow: dict[str, Any], response: httpx.Response, call: Call
    ) -> dict[str, Any]:
        revision = flow.get("revision", response.headers.get("ETag", "").strip('W/"') or None)
        try:
            flow["revision"] = int(revision)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise failures.bad_answer(
                self._endpoint, call, response, "a flow without a revision"
            ) from None
        return flow

    # --- the list ETag cache, optionally on disk so that a new process also gets a 304 ---

    def _load_cache(self) -> tuple[str, list[dict[str, Any]]] | None:
        if self._cache_path is None:
            return None
        try:
            data = json.loads(self._cache_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # a missing or damaged cache only costs one full read
        if not isinstance(data, dict) or data.get("base_url") != self.base_url:
            return None
        etag, items = data.get("etag"), data.get("items")
        return (etag, items) if isinstance(etag, str) and isinstance(items, list) else None

    def _save_cache(self, etag: str, items: list[dict[str, Any]]) -> None:
        if self._cache_path is None:
            return
        data = {"base_url": self.base_url, "etag": etag, "items": items}
        temporary = self._cache_path.with_name(self._cache_path.name + f".{os.getpid()}.tmp")
        try:
            self._cache_path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
            os.replace(temporary, self._cache_path)  # atomic: a reader never sees half a file
        except OSError as exc:
            logs.event(
                log,
                "tenant.list_cache_unwritable",
                f"could not write the list cache {self._cache_path}: {exc.strerror or exc}",
                level=logging.WARNING,
                environment=self.environment,
            )


def client_for(environment: model.Environment, **kw: Any) -> Tenant:
    """A client for ``environment``, its API key read from the variable the environment names.

    The one place that picks the implementation of ``Tenant`` (today the reference tenant API)."""
    key = os.environ.get(environment.api_key_env, "")
    if not key.strip():
        raise errors.ConfigError(
            f"environment {environment.name}: the API key variable ${environment.api_key_env} is "
            f"not set or empty; set it to the tenant API key of {environment.name} ({environment.url})"
        )
    logs.register_secret(key)  # never in a log line, whatever logger or exception carries it
    for variable in environment.secrets.values():
        logs.register_secret(os.environ.get(variable))
    kw.setdefault("api_key_env", environment.api_key_env)
    kw.setdefault("timeout", request_timeout())
    return TenantClient(environment.name, environment.url, key.strip(), **kw)
