"""The OpenAPI file describes exactly what the tenant does: schemathesis generates requests from it, sends
them to the ASGI app with an admin key, and checks every answer (no 5xx, documented status codes, content
types, headers and bodies, and that auth is really enforced). Bounded to stay fast."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.internal.conjecture import utils as cu
from starlette.routing import Route

from syncer.tenant import concealed
from syncer.tenant.app import create_app
from syncer.tenant.auth import Keyring
from syncer.tenant.preconditions import Write
from syncer.tenant.storage import Store
from syncer.yamlio import load_text
from tests.conftest import ADMIN_KEY, TEST_KEYS, auth, sample_flow

OPENAPI = Path(__file__).parents[1] / "syncer" / "schemas" / "tenant-api.openapi.yaml"
_END = object()


def _adapt_hypothesis_many() -> None:
    """hypothesis-jsonschema 0.23.1 (schemathesis 3's generator) drives ``many`` through ``more()``,
    which newer Hypothesis replaced with ``with many(...) as e: for _ in e``. Add ``more()`` on top of
    the new protocol when it is missing; nothing that exists is changed."""
    if hasattr(cu.many, "more"):
        return

    def more(self: Any) -> bool:
        iterator = self.__dict__.get("_compat_iterator")
        if iterator is None:
            self.__enter__()
            iterator = self._compat_iterator = iter(self)
        if next(iterator, _END) is _END:
            self.__exit__(None, None, None)
            return False
        return True

    cu.many.more = more  # type: ignore[attr-defined]


_adapt_hypothesis_many()
schemathesis.experimental.OPEN_API_3_1.enable()


def _seeded_app(tmp_path: Path) -> Any:
    """An app whose store holds the flow the OpenAPI examples name, published once."""
    store = Store(tmp_path / "schemathesis.db", name="sandbox", kind="sandbox")
    flow = sample_flow()
    write = Write("flow-intake", concealed.split(flow), {"a": "b"}, None, ("*",), "seed")
    store.write_flow(write)
    store.publish("flow-intake", "seed", "first")
    return create_app(store, Keyring.from_entries(TEST_KEYS))


@pytest.fixture
def api_schema(tmp_path: Path) -> Any:
    return schemathesis.from_path(OPENAPI, app=_seeded_app(tmp_path), validate_schema=True)


schema = schemathesis.from_pytest_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_openapi(case: Any) -> None:
    case.call_and_validate(headers=auth(ADMIN_KEY))


def test_every_route_is_documented_and_nothing_more(tmp_path: Path) -> None:
    app = _seeded_app(tmp_path)
    served = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route)
        for method in (route.methods or set()) - {"HEAD"}
    }
    document = load_text(OPENAPI.read_text("utf-8"), str(OPENAPI)).data
    assert document["openapi"].startswith("3.1")
    documented = {
        (method.upper(), path.replace("{version}", "{number}").replace("{revision}", "{number}"))
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "put", "post", "delete", "patch"}
    }
    assert served == documented
