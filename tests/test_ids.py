"""The one id rule (issue 15, item 1): validate, the client and the tenant refuse the same ids.

A definition id `.` or `..` used to pass `validate`; `apply` then wrote another flow first and died in a
ValueError traceback (exit 4), and the tenant accepted `PUT /v1/care-flows/..` (201), after which every
Sandbox export crashed. The rule lives in ``model.ID_PATTERN``; the JSON Schema and the OpenAPI file
carry the same pattern, and these tests hold them to it.
"""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from syncer import canonical, model, yamlio
from syncer.cli import main
from syncer.tenant.embedded import RunningTenant
from tests.conftest import ADMIN_KEY, TenantFactory, auth, sample_flow

SCHEMAS = Path(__file__).resolve().parents[1] / "syncer" / "schemas"


def _schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMAS / name).read_text("utf-8"))
    return data


def test_the_schemas_carry_the_model_id_rule() -> None:
    from syncer.model import ID_PATTERN

    careflow = _schema("careflow.v1.schema.json")
    assert careflow["$defs"]["id"]["pattern"] == ID_PATTERN
    assert careflow["$defs"]["id"]["maxLength"] == model.ID_MAX_LENGTH
    openapi = yamlio.load_file(SCHEMAS / "tenant-api.openapi.yaml").data
    parameter = openapi["components"]["parameters"]["DefinitionId"]["schema"]
    assert parameter["pattern"] == ID_PATTERN and parameter["maxLength"] == model.ID_MAX_LENGTH


ID_CHARACTERS = st.sampled_from(list("aZ09_.:-/ ?%\n\x00é"))


@given(st.text(ID_CHARACTERS, max_size=6) | st.sampled_from([".", "..", "...", "a", "a.b"]))
def test_is_safe_id_agrees_with_the_schema(text: str) -> None:
    """Two code paths that must agree: the JSON Schema validate uses, and the client's and tenant's."""
    from syncer.model import is_safe_id

    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
    schema |= _schema("careflow.v1.schema.json")["$defs"]["id"]
    assert Draft202012Validator(schema).is_valid(text) == is_safe_id(text)


@pytest.mark.parametrize("bad", [".", "..", "...", "a/b", ""])
def test_validate_refuses_an_id_of_dots_with_its_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    flow = sample_flow()
    flow["metadata"]["definition_id"] = bad
    flow["spec"]["tracks"][0]["steps"][0]["id"] = ".."  # a component id too
    flow["layout"]["steps"] = {"..": {"x": 1, "y": 1}}
    flow["spec"]["tracks"][0]["transitions"][0]["destination"]["node_id"] = ".."
    path = tmp_path / "flows" / "intake" / "flow.yaml"
    path.parent.mkdir(parents=True)
    text = yamlio.dump(canonical.canonicalize(flow), model.flow_file_header())
    path.write_text(text, "utf-8")
    assert main(["validate", "--repo", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "definition_id:" in t)
    assert f"flows/intake/flow.yaml:{line}:" in err and "not only dots" in err
    assert err.count("not only dots") >= 2  # the definition id and the step id


def _raw(tenant: RunningTenant, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """A request exactly as written: http.client never collapses `..` the way httpx does."""
    connection = http.client.HTTPConnection("127.0.0.1", tenant.port, timeout=10)
    headers = auth(ADMIN_KEY) | {"If-None-Match": "*", "Content-Type": "application/json"}
    content = None if body is None else json.dumps(body).encode()
    try:
        connection.request(method, path, body=content, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


@pytest.mark.parametrize("bad", ["..", ".", "..."])
def test_the_tenant_refuses_a_url_id_of_dots(tenant_factory: TenantFactory, bad: str) -> None:
    tenant = tenant_factory()
    flow = sample_flow(definition_id=bad)
    status, problem = _raw(tenant, "PUT", f"/v1/care-flows/{bad}", {"definition": flow})
    assert status == 400 and "not only dots" in problem["detail"]
    for route in ("", "/history", "/versions"):
        assert _raw(tenant, "GET", f"/v1/care-flows/{bad}{route}")[0] == 400
    assert tenant.store.list_flows() == []


def test_the_tenant_refuses_a_body_id_of_dots_under_a_good_url(
    tenant_factory: TenantFactory,
) -> None:
    tenant = tenant_factory()
    flow = sample_flow()
    flow["spec"]["tracks"][0]["steps"][0]["id"] = ".."
    status, problem = _raw(tenant, "PUT", "/v1/care-flows/flow-intake", {"definition": flow})
    assert status == 422
    assert any("not only dots" in e["message"] for e in problem["errors"])
    assert tenant.store.list_flows() == []
