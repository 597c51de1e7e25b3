"""A working version is a draft (SPEC 3): an unreachable step and an empty track are warnings with their
location in export, validate, plan and apply, never blockers; preflight lists them before go-live."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import BP, EU, EU_ONLY
from .landscape import example_flow, landscape


def test_a_draft_exports_plans_and_applies_with_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = example_flow(BP)
    track = draft["spec"]["tracks"][0]
    track["steps"].append(
        {
            "id": "stp-later",
            "key": "later",
            "title": "Later",
            "label_definition_ids": [],
            "actions": [],
        }
    )
    draft["spec"]["tracks"].append(
        {"id": "trk-empty", "key": "empty", "title": "Empty", "steps": [], "transitions": []}
    )
    rel = f"flows/{BP}/flow.yaml"
    with landscape(tmp_path, monkeypatch, EU_ONLY) as world:
        world.seed("sandbox", draft)
        exported = world.syncer("export", "--env", "sandbox", "--commit")
        assert exported.code == 0, exported.err
        for words in ("step `later` cannot be reached", "track `empty` has no steps yet"):
            line = next(line for line in exported.err.splitlines() if words in line)
            assert line.startswith(f"warning: {rel}:"), line
        validated = world.syncer("validate")
        assert validated.code == 0 and "step `later` cannot be reached" in validated.err
        planned = world.syncer("plan")
        assert planned.code == 2 and f"warning: {rel}:" in planned.err
        applied = world.syncer("apply", "--yes")
        assert applied.code == 0, applied.err
        assert "track `empty` has no steps yet" in applied.err
        assert world.live(EU, BP)["definition"]["spec"]["tracks"][-1]["id"] == "trk-empty"
        preflight = world.syncer("preflight", "--env", EU, "--flow", BP, "--output", "json")
        flow = json.loads(preflight.out)["flows"][0]
        items = {(i["check"], i["subject"]): i for i in flow["items"]}
        assert items[("validation", BP)]["level"] == "pass"
        draft_item = items[("draft", BP)]
        assert (
            draft_item["level"] == "warn"
            and "step `later` cannot be reached" in draft_item["message"]
        )
