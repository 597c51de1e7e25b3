"""``vendor_fields`` (docs/flow-format.md): what syncer does not model, in every part of syncer that sees a flow.

Canonical order and hashing keep carried values exactly (keys sorted, lists in their order); the schema
accepts them at every level; plans name a changed one by its path with a plain description; reports show
its name as code, escaped; the tenant stores and returns it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from syncer import canonical, validate, yamlio
from syncer.plan.diff import diff
from syncer.report.safe_text import Style
from syncer.report.words import RenderOptions, describe_change
from syncer.tenant.embedded import start_tenant

FlowFactory = Callable[..., dict[str, Any]]
CARRIED = {
    "z_last": 1,
    "a_first": [{"steps": [{"id": "b"}, {"id": "a"}]}, None],
    "m": {"y": 1, "x": 2},
}


def _step(flow: dict[str, Any]) -> dict[str, Any]:
    step: dict[str, Any] = flow["spec"]["tracks"][0]["steps"][0]
    return step


def test_carried_values_keep_their_lists_and_sort_their_keys(make_flow: FlowFactory) -> None:
    flow = make_flow()
    _step(flow)["vendor_fields"] = copy.deepcopy(CARRIED)
    step = _step(canonical.canonicalize(flow))
    assert list(step)[-1] == "vendor_fields"  # after every modelled field
    carried = step["vendor_fields"]
    assert list(carried) == ["a_first", "m", "z_last"] and list(carried["m"]) == ["x", "y"]
    assert carried["a_first"][0]["steps"] == [{"id": "b"}, {"id": "a"}]  # not ours to sort
    text = canonical.render_flow(flow)
    assert yamlio.dump(yamlio.load_text(text, "f").data, "") != ""
    assert canonical.canonicalize(yamlio.load_text(text, "f").data) == canonical.canonicalize(flow)


def test_hashes_see_a_carried_field_but_not_its_key_order(make_flow: FlowFactory) -> None:
    flow = make_flow()
    _step(flow)["vendor_fields"] = copy.deepcopy(CARRIED)
    reordered = make_flow()
    _step(reordered)["vendor_fields"] = dict(reversed(list(copy.deepcopy(CARRIED).items())))
    assert canonical.shape_hash(flow) == canonical.shape_hash(reordered)
    assert canonical.content_hash(flow) == canonical.content_hash(reordered)
    _step(reordered)["vendor_fields"]["a_first"][0]["steps"].reverse()  # a list's order is data
    assert canonical.shape_hash(flow) != canonical.shape_hash(reordered)


def test_the_schema_accepts_carried_fields_at_every_level(make_flow: FlowFactory) -> None:
    flow = make_flow()
    flow["spec"]["vendor_fields"] = {"pathwayThing": True}
    flow["spec"]["vendor_entry_fields"] = {"revision": 3}
    flow["spec"]["vendor_components"] = {"sticky_notes": [{"type": "sticky_note"}]}
    flow["spec"]["settings"]["vendor_fields"] = {"x": None}
    step = _step(flow)
    step["vendor_fields"] = {"ui": [1, "two"]}
    transition = flow["spec"]["tracks"][0]["transitions"][0]
    transition["origin"]["vendor_fields"] = {"port": "left"}
    layout = next(iter(flow["layout"]["steps"].values()))
    layout["vendor_fields"] = {"z": 3}
    doc = yamlio.load_text(canonical.render_flow(flow), "flows/intake/flow.yaml")
    assert [str(p) for p in validate.check_flow(doc, "intake")] == []
    step["vendor_fieldz"] = {}  # a typo is still an unknown field
    doc = yamlio.load_text(canonical.render_flow(flow), "flows/intake/flow.yaml")
    assert any(
        "unknown field `vendor_fieldz`" in str(p) for p in validate.check_flow(doc, "intake")
    )


def test_a_changed_carried_field_is_named_by_its_path(make_flow: FlowFactory) -> None:
    before = make_flow()
    _step(before)["vendor_fields"] = {"hint": "old", "gone": 1}
    after = copy.deepcopy(before)
    _step(after)["vendor_fields"] = {"hint": "new", "added": [None]}
    changes = {c.path: c for c in diff(before, after)}
    step_path = next(p for p in changes if p.endswith(".vendor_fields.hint"))
    prefix = step_path.removesuffix(".vendor_fields.hint")
    assert {f"{prefix}.vendor_fields.{n}" for n in ("hint", "gone", "added")} <= set(changes)
    change = changes[step_path]
    assert change.before == "old" and change.after == "new"
    assert "Awell field `hint` (kept as is) changed" in change.description
    line = describe_change(change, Style(markdown=False), RenderOptions(), set()).line
    assert "Awell field hint (kept as is) changed: “old” → “new”" in line


def test_a_carried_field_name_is_escaped_in_markdown(make_flow: FlowFactory) -> None:
    before = make_flow()
    name = "x`y*<b>|z"
    after = copy.deepcopy(before)
    _step(after)["vendor_fields"] = {name: 1}
    change = next(c for c in diff(before, after) if "vendor_fields" in c.path)
    line = describe_change(change, Style(markdown=True), RenderOptions(), set()).line
    span = "``x`y*<b>\\|z``"  # a code span (HTML is literal inside one), the table pipe escaped
    assert span in line and "<b>" not in line.replace(span, "")


def test_the_tenant_stores_and_returns_carried_fields(
    tmp_path: Any, make_flow: FlowFactory
) -> None:
    flow = make_flow()
    _step(flow)["vendor_fields"] = copy.deepcopy(CARRIED)
    flow["spec"]["vendor_components"] = {"sticky_notes": [{"type": "sticky_note", "n": [2, 1]}]}
    keys = [{"name": "ci", "key": "k-123456789", "scopes": ["read", "write"]}]
    with start_tenant("sandbox", "sandbox", tmp_path / "t.db", keys) as tenant:
        import httpx

        headers = {"Authorization": "Bearer k-123456789", "If-None-Match": "*"}
        url = f"{tenant.url}/v1/care-flows/{flow['metadata']['definition_id']}"
        created = httpx.put(url, json={"definition": flow}, headers=headers, timeout=10)
        assert created.status_code == 201, created.text
        got = httpx.get(url, headers={"Authorization": "Bearer k-123456789"}, timeout=10).json()
    assert _step(got["definition"])["vendor_fields"] == CARRIED
    assert got["definition"]["spec"]["vendor_components"]["sticky_notes"][0]["n"] == [2, 1]
