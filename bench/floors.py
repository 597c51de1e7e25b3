"""The floors: the unavoidable work of each scenario, done with the bare libraries (httpx, json, pathlib).

A floor does what any tool would have to do to reach the same answer, and nothing else: no validation, no
canonical YAML, no hashing, no diff. Syncer's time is reported as a ratio to it.

- ``lists``: one list request per environment, JSON parsed (what a no-op plan cannot avoid);
- ``fetch``: the list, then exactly the named flows, concurrently (a plan with changes);
- ``fetch_put``: the same, then a PUT of each fetched flow (a reconcile with changes). The PUTs carry an
  ``If-Match`` no revision has, so the tenant receives, parses and schema-checks the body and then
  refuses it with 412: the cost of the write without changing the state syncer is measured on;
- ``export``: the list, every flow fetched concurrently, each definition written to a file as JSON;
- ``read``: every flow file read;
- ``parse``: every flow file read and parsed by libyaml's C loader (PyYAML's ``CSafeLoader``), in one
  process: what validating a repository cannot avoid;
- ``puts``: not a floor but the reference tenant's cost of a PUT, measured from outside: named flows
  fetched, then PUT one at a time with an ``If-Match`` no revision has, so that each is parsed,
  schema-checked and refused with 412.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

WORKERS = 8  # the same concurrency as syncer's client (TenantClient.max_workers)


class Counter:
    """Requests and bytes on the wire, as ``TenantClient.stats`` counts them."""

    def __init__(self) -> None:
        self.requests = 0
        self.bytes_sent = 0
        self.bytes_received = 0
        self._lock = threading.Lock()

    def hook(self, response: httpx.Response) -> None:
        response.read()
        with self._lock:
            self.requests += 1
            self.bytes_sent += len(response.request.content)
            self.bytes_received += response.num_bytes_downloaded

    def as_dict(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
        }


def _client(url: str, key: str, counter: Counter) -> httpx.Client:
    return httpx.Client(
        base_url=url,
        headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
        timeout=120,
        limits=httpx.Limits(max_connections=WORKERS + 2),
        event_hooks={"response": [counter.hook]},
    )


def _list(client: httpx.Client) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(client.get("/v1/care-flows").content)["items"]
    return items


def _get(client: httpx.Client, definition_id: str) -> dict[str, Any]:
    flow: dict[str, Any] = json.loads(client.get(f"/v1/care-flows/{definition_id}").content)
    return flow


def _per_environment(
    tenants: dict[str, str], key: str, work: Callable[[httpx.Client], object]
) -> dict[str, int]:
    """``work`` against every tenant at once, as syncer plans environments in parallel."""
    counter = Counter()
    clients = [_client(url, key, counter) for url in tenants.values()]
    try:
        with ThreadPoolExecutor(len(clients)) as pool:
            list(pool.map(work, clients))
    finally:
        for client in clients:
            client.close()
    return counter.as_dict()


def lists(tenants: dict[str, str], key: str) -> dict[str, int]:
    return _per_environment(tenants, key, _list)


def fetch(tenants: dict[str, str], key: str, flows: list[str], put: bool = False) -> dict[str, int]:
    wanted = set(flows)

    def work(client: httpx.Client) -> None:
        ids = [s["definition_id"] for s in _list(client) if s["key"] in wanted]
        with ThreadPoolExecutor(WORKERS) as pool:
            fetched = list(pool.map(lambda i: _get(client, i), ids))
        if put:
            with ThreadPoolExecutor(WORKERS) as pool:
                list(pool.map(lambda flow: _put_refused(client, flow), fetched))

    return _per_environment(tenants, key, work)


def fetch_put(tenants: dict[str, str], key: str, flows: list[str]) -> dict[str, int]:
    return fetch(tenants, key, flows, put=True)


def _put_refused(client: httpx.Client, flow: dict[str, Any]) -> None:
    body = json.dumps({"definition": flow["definition"], "annotations": flow["annotations"]})
    response = client.put(
        f"/v1/care-flows/{flow['definition_id']}",
        content=body.encode(),
        headers={"Content-Type": "application/json", "If-Match": '"0"', "X-Edit-Source": "api"},
    )
    if response.status_code != 412:
        raise RuntimeError(f"the floor's PUT was not refused: HTTP {response.status_code}")


def export(url: str, key: str, out: str) -> dict[str, int]:
    counter = Counter()
    root = Path(out)
    with _client(url, key, counter) as client:
        ids = [s["definition_id"] for s in _list(client)]

        def one(definition_id: str) -> None:
            flow = _get(client, definition_id)
            definition = flow["definition"]
            path = root / "flows" / definition["metadata"]["key"] / "flow.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(definition, ensure_ascii=False, indent=1), "utf-8")

        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(one, ids))
    return counter.as_dict()


def read(repo: str) -> dict[str, int]:
    total = sum(len(p.read_bytes()) for p in sorted(Path(repo).glob("flows/*/flow.yaml")))
    return {"requests": 0, "bytes_sent": 0, "bytes_received": 0, "bytes_read": total}


def parse(repo: str) -> dict[str, int]:
    import yaml  # PyYAML, built with libyaml

    total = 0
    for path in sorted(Path(repo).glob("flows/*/flow.yaml")):
        data = path.read_bytes()
        total += len(data)
        yaml.load(data, Loader=yaml.CSafeLoader)
    return {"requests": 0, "bytes_sent": 0, "bytes_received": 0, "bytes_read": total}


def puts(url: str, key: str, flows: list[str]) -> dict[str, Any]:
    """``flows`` fetched, then each PUT alone (refused with 412); ``wall`` is the PUTs' time only."""
    import time

    counter = Counter()
    wanted = set(flows)
    with _client(url, key, counter) as client:
        ids = [s["definition_id"] for s in _list(client) if s["key"] in wanted]
        fetched = [_get(client, i) for i in ids]
        started = time.perf_counter()
        for flow in fetched:
            _put_refused(client, flow)
        spent = time.perf_counter() - started
    checks, schema = _tenant_checks(fetched)
    return {
        **counter.as_dict(),
        "put_wall": spent,
        "puts": len(fetched),
        "check_wall": checks,
        "schema_wall": schema,
    }


def _tenant_checks(fetched: list[dict[str, Any]]) -> tuple[float, float]:
    """The tenant's own checks of each body in this process: all of them, and the schema check."""
    import time

    from syncer.tenant.app import _flow_body
    from syncer.tenant.concealed import split
    from syncer.validate import schema_problems

    bodies = [json.loads(json.dumps({"definition": f["definition"]})) for f in fetched]
    started = time.perf_counter()
    for flow, body in zip(fetched, bodies, strict=True):
        _flow_body(body, flow["definition_id"])
    checks = time.perf_counter() - started
    definitions = [split(body["definition"]).definition for body in bodies]
    started = time.perf_counter()
    for definition in definitions:
        schema_problems(definition, "careflow")
    return checks, time.perf_counter() - started


FLOORS: dict[str, Callable[..., dict[str, Any]]] = {
    "lists": lists,
    "fetch": fetch,
    "fetch_put": fetch_put,
    "export": export,
    "read": read,
    "parse": parse,
    "puts": puts,
}
