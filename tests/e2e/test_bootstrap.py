"""`syncer bootstrap`: the one-time reverse copy of a Production-only flow into Sandbox, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncer.model import ANN_BOOTSTRAP, iter_value_items

from .conftest import BP, DS, EU, EU_ONLY
from .landscape import CANARY, ENV_CANARY, Landscape, example_flow, landscape


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Landscape]:
    with landscape(tmp_path, monkeypatch, EU_ONLY) as w:
        w.seed(EU, example_flow(BP))  # concealed values set to the canary in Production
        w.seed(EU, example_flow(DS))
        w.seed("sandbox", example_flow(DS))
        yield w


def _bootstrap(world: Landscape, *argv: str) -> Any:
    result = world.syncer("bootstrap", "--from", EU, "--to", "sandbox", *argv)
    assert CANARY not in result.out + result.err and ENV_CANARY not in result.out + result.err
    return result


def _sandbox_keys(world: Landscape) -> set[str]:
    return {str(s["key"]) for s in world.client("sandbox").list_flows()}


def test_bootstrap_copies_once_and_records_it(world: Landscape) -> None:
    production = world.live(EU, BP)
    result = _bootstrap(world, "--flow", BP)
    assert result.code == 0, result.err
    assert f"{BP}: created in sandbox" in result.out and "EHR_API_KEY" in result.out

    copied = world.live("sandbox", BP)
    assert copied["definition_id"] == production["definition_id"]  # ids are never remapped
    assert copied["annotations"][ANN_BOOTSTRAP].startswith(f"{EU}@r{production['revision']} ")
    values = dict(iter_value_items(copied["definition"]))
    assert values["EHR_API_KEY"]["has_value"] is False  # concealed values are not copied
    assert values["elation.client_secret"]["has_value"] is False
    assert _without_has_value(copied["definition"]["spec"]) == _without_has_value(
        production["definition"]["spec"]
    )

    again = _bootstrap(world, "--flow", BP)
    assert again.code == 3
    assert f"`{BP}` already exists in sandbox" in again.err and "bootstrapped before" in again.err
    assert world.live("sandbox", BP)["revision"] == copied["revision"]

    forced = _bootstrap(world, "--flow", BP, "--force", "--output", "json")
    assert forced.code == 0, forced.err
    (entry,) = json.loads(forced.out)
    assert entry["action"] == "overwritten" and entry["revision"] == copied["revision"] + 1


def test_then_it_travels_the_normal_way(world: Landscape) -> None:
    assert _bootstrap(world).code == 0  # without --flow: every Production-only flow
    assert _sandbox_keys(world) == {BP, DS}
    assert world.syncer("export", "--env", "sandbox", "--flow", BP, "--commit").code == 0
    plan = world.syncer("plan", "--env", EU, "--flow", BP, "--output", "json")
    assert json.loads(plan.out)["flows"][0]["status"] == "in_sync", plan.out
    assert world.syncer("apply", "--yes", "--env", EU, "--flow", BP).code == 0
    assert "syncer.io/last-applied-hash" in world.live(EU, BP)["annotations"]
    assert _bootstrap(world).out.startswith("nothing to bootstrap")
    text = "\n".join(world.outputs) + world.git().git.log("-p", "--all")
    assert CANARY not in text and ENV_CANARY not in text


def test_a_flow_that_exists_in_sandbox_is_refused(world: Landscape) -> None:
    before = world.live("sandbox", DS)
    result = _bootstrap(world, "--flow", DS, "--flow", BP)
    assert result.code == 3 and f"`{DS}` already exists in sandbox" in result.err
    assert "nothing was written" in result.err
    assert _sandbox_keys(world) == {DS}  # BP was not copied either: all or nothing
    assert world.live("sandbox", DS)["revision"] == before["revision"]


def test_bad_input_is_refused(world: Landscape) -> None:
    unknown = _bootstrap(world, "--flow", "no-such-flow")
    assert unknown.code == 1 and "production-eu has no flow no-such-flow" in unknown.err
    backwards = world.syncer("bootstrap", "--from", "sandbox", "--to", EU)
    assert backwards.code == 1 and "--from must name a target" in backwards.err
    to_production = world.syncer("bootstrap", "--from", EU, "--to", EU)
    assert to_production.code == 1 and "--to must name a source" in to_production.err
    assert _sandbox_keys(world) == {DS}


def test_a_key_clash_is_refused_even_with_force(world: Landscape) -> None:
    stray = example_flow(BP)
    stray["metadata"]["definition_id"] = "otherId0001"
    world.seed("sandbox", stray)
    result = _bootstrap(world, "--flow", BP, "--force")
    assert result.code == 3 and "ids are never remapped" in result.err


def _without_has_value(spec: dict[str, Any]) -> dict[str, Any]:
    document = json.loads(json.dumps({"spec": spec}))
    for _ref, item in iter_value_items(document):
        item.pop("has_value", None)
    return document["spec"]  # type: ignore[no-any-return]
