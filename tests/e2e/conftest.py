"""What the end-to-end stories share: the example flows' keys, an EU-only landscape, and the moves and
readings every story makes (promote, retitle a step, read a plan). ``landscape`` builds the world."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .landscape import ENVIRONMENTS, Landscape, example_flow

BP = "remote-bp-monitoring"
DS = "depression-screening"
KNEE = "post-op-knee-recovery"
EU = "production-eu"
FLOWS = [DS, KNEE, BP]
EU_ONLY = {k: v for k, v in ENVIRONMENTS.items() if k != "production-us"}
# Every target environment, production-us listing only the blood-pressure flow: for stories that put
# only that flow in Git (an environment that lists a flow missing from flows/ is refused).
BP_ONLY = {**ENVIRONMENTS, "production-us": {**ENVIRONMENTS["production-us"], "flows": [BP]}}

Edit = Callable[[dict[str, Any]], None]


def retitle(title: str) -> Edit:
    """An edit of a definition: the first step of the first track gets ``title``."""

    def change(definition: dict[str, Any]) -> None:
        definition["spec"]["tracks"][0]["steps"][0]["title"] = title

    return change


def first_step_title(definition: dict[str, Any]) -> str:
    return str(definition["spec"]["tracks"][0]["steps"][0]["title"])


def promote(world: Landscape, *seed: str) -> None:
    """Seed Sandbox with the example flows ``seed`` (if any), export them into Git and apply them."""
    for key in seed:
        world.seed("sandbox", example_flow(key))
    assert world.syncer("export", "--env", "sandbox", "--commit").code == 0
    result = world.syncer("apply", "--yes")
    assert result.code == 0, result.err


def read_plans(world: Landscape, *argv: str) -> tuple[int, dict[str, dict[str, dict[str, Any]]]]:
    """``syncer plan --output json``'s exit code and flows, by environment and flow key."""
    result = world.syncer("plan", "--output", "json", *argv)
    data = json.loads(result.out)
    items = data if isinstance(data, list) else [data]
    return result.code, {p["environment"]: {f["key"]: f for f in p["flows"]} for p in items}


def read_statuses(world: Landscape, *argv: str) -> tuple[int, dict[str, dict[str, str]]]:
    """``read_plans`` with each flow's status only."""
    code, found = read_plans(world, *argv)
    return code, {
        env: {key: f["status"] for key, f in flows.items()} for env, flows in found.items()
    }
