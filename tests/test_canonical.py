"""``syncer.canonical``: key order, list order, hashes; and the fixed-point properties of canonical files."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from syncer import canonical, model, yamlio
from tests.strategies import FLOW_SETTINGS, careflows

FlowFactory = Callable[..., dict[str, Any]]
HEADER = model.flow_file_header()


def _shuffled(value: Any, rng: random.Random) -> Any:
    """A deep copy with every mapping's keys and every id-sorted list in a random order."""
    if isinstance(value, dict):
        items = [(k, _shuffled(v, rng)) for k, v in value.items()]
        rng.shuffle(items)
        shuffled = dict(items)
        for name, item in shuffled.items():
            if name in canonical.SORTED_LISTS and isinstance(item, list):
                rng.shuffle(item)
        return shuffled
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


# --- properties ----------------------------------------------------------------------------------------


@FLOW_SETTINGS
@given(careflows())
def test_canonical_dump_load_dump_is_byte_identical(flow: dict[str, Any]) -> None:
    document = canonical.canonicalize(flow)
    text = yamlio.dump(document, HEADER)
    loaded = yamlio.load_text(text, "flows/x/flow.yaml").data
    assert loaded == document
    assert yamlio.dump(loaded, HEADER) == text


@FLOW_SETTINGS
@given(careflows(), st.randoms(use_true_random=False))
def test_canonicalize_is_idempotent_and_ignores_meaningless_order(
    flow: dict[str, Any], rng: random.Random
) -> None:
    document = canonical.canonicalize(flow)
    assert canonical.canonicalize(document) == document
    again = canonical.canonicalize(_shuffled(flow, rng))
    assert json.dumps(again) == json.dumps(document)  # key order included
    assert canonical.content_hash(again) == canonical.content_hash(document)


# --- key and list order --------------------------------------------------------------------------------


def test_top_level_and_component_keys_come_in_schema_order(make_flow: FlowFactory) -> None:
    flow = make_flow()
    reordered = dict(reversed(list(flow.items())))
    document = canonical.canonicalize(reordered)
    assert list(document) == ["apiVersion", "kind", "metadata", "spec", "layout"]
    assert list(document["metadata"]) == ["definition_id", "key", "title", "description"]
    constant = document["spec"]["settings"]["constants"][0]
    assert list(constant)[:3] == ["id", "key", "label"]


def test_lists_without_meaningful_order_are_sorted_by_id(make_flow: FlowFactory) -> None:
    flow = make_flow()
    flow["spec"]["labels"] = [{"id": i, "color": "red", "text": ""} for i in ("b", "a", "c")]
    flow["spec"]["settings"]["constants"].reverse()
    document = canonical.canonicalize(flow)
    assert [label["id"] for label in document["spec"]["labels"]] == ["a", "b", "c"]
    assert [c["id"] for c in document["spec"]["settings"]["constants"]] == ["cst-key", "cst-url"]


def test_lists_with_meaningful_order_keep_it(make_flow: FlowFactory) -> None:
    flow = make_flow()
    step = flow["spec"]["tracks"][0]["steps"][0]
    step["actions"] = [
        {"id": "z", "type": "checklist", "title": "first", "checklist": ["b", "a"]},
        {"id": "a", "type": "checklist", "title": "second", "checklist": []},
    ]
    document = canonical.canonicalize(flow)
    actions = document["spec"]["tracks"][0]["steps"][0]["actions"]
    assert [a["title"] for a in actions] == ["first", "second"]
    assert actions[0]["checklist"] == ["b", "a"]


def test_data_keyed_mappings_are_sorted_plainly(make_flow: FlowFactory) -> None:
    flow = make_flow()
    flow["spec"]["settings"]["extensions"] = {
        "zeta": {
            "b": {"id": "1", "label": "", "value": 1},
            "a": {"id": "2", "label": "", "value": 2},
        },
        "alpha": {},
    }
    flow["layout"]["steps"] = {"s2": {"y": 1, "x": 2}, "s1": {"x": 0, "y": 0}}
    document = canonical.canonicalize(flow)
    assert list(document["spec"]["settings"]["extensions"]) == ["alpha", "zeta"]
    assert list(document["spec"]["settings"]["extensions"]["zeta"]) == ["a", "b"]
    assert list(document["layout"]["steps"]) == ["s1", "s2"]
    assert list(document["layout"]["steps"]["s2"]) == ["x", "y"]


def test_canonicalize_does_not_change_its_input(make_flow: FlowFactory) -> None:
    flow = make_flow()
    flow["spec"]["settings"]["constants"].reverse()
    before = copy.deepcopy(flow)
    canonical.canonicalize(flow)
    assert flow == before


# --- hashes --------------------------------------------------------------------------------------------


def test_content_hash_ignores_layout_and_hides_concealed_values(make_flow: FlowFactory) -> None:
    flow = make_flow()
    base = canonical.content_hash(flow)
    moved = copy.deepcopy(flow)
    moved["layout"]["steps"]["stp-intake"]["x"] = 999
    assert canonical.content_hash(moved) == base
    secret_a, secret_b = copy.deepcopy(flow), copy.deepcopy(flow)
    secret_a["spec"]["settings"]["constants"][1]["value"] = "one secret"
    secret_b["spec"]["settings"]["constants"][1]["value"] = "another secret"
    assert canonical.content_hash(secret_a) == canonical.content_hash(secret_b) != base
    flagged = copy.deepcopy(flow)
    flagged["spec"]["settings"]["constants"][1]["has_value"] = True
    assert canonical.content_hash(flagged) == canonical.content_hash(secret_a)


def test_content_hash_sees_a_visible_value(make_flow: FlowFactory) -> None:
    flow = make_flow()
    changed = copy.deepcopy(flow)
    changed["spec"]["settings"]["constants"][0]["value"] = "https://other"
    assert canonical.content_hash(changed) != canonical.content_hash(flow)


def test_shape_hash_ignores_values_layout_and_ignored_paths(make_flow: FlowFactory) -> None:
    flow = make_flow()
    base = canonical.shape_hash(flow)
    changed = copy.deepcopy(flow)
    changed["spec"]["settings"]["constants"][0]["value"] = "https://other"
    changed["spec"]["settings"]["extensions"]["elation"]["base_url"]["value"] = "x"
    changed["layout"]["tracks"]["trk-main"]["end"]["y"] = 5
    assert canonical.shape_hash(changed) == base
    changed["spec"]["settings"]["reminders"] = {"amount": 2, "delay": {"amount": 1, "unit": "day"}}
    assert canonical.shape_hash(changed) != base
    assert canonical.shape_hash(changed, ["spec.settings.reminders"]) == base


def test_layout_hash_sees_only_the_layout(make_flow: FlowFactory) -> None:
    flow = make_flow()
    renamed = copy.deepcopy(flow)
    renamed["metadata"]["title"] = "Other"
    assert canonical.layout_hash(renamed) == canonical.layout_hash(flow)
    renamed["layout"]["steps"]["stp-intake"]["y"] = 1
    assert canonical.layout_hash(renamed) != canonical.layout_hash(flow)


def test_remove_paths_ignores_missing_paths() -> None:
    document = {"spec": {"settings": {"reminders": 1}}, "x": 1}
    assert canonical.remove_paths(document, ["spec.settings.reminders", "a.b.c", "x.y"]) == {
        "spec": {"settings": {}},
        "x": 1,
    }
