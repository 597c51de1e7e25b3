"""An imported Awell Studio export is a flow like any other: it validates, plans and applies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..awellcases import exports
from .conftest import EU_ONLY
from .landscape import landscape


@pytest.mark.parametrize("source", exports("real-export", "mini-export"))
def test_imported_flow_plans_and_applies(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with landscape(tmp_path, monkeypatch, EU_ONLY) as world:
        result = world.syncer("import-awell", str(source), "--key", "imported")
        assert result.code == 0, result.err
        assert "U2FsdGVkX1" not in (world.repo / "flows" / "imported" / "flow.yaml").read_text()
        assert world.syncer("validate").code == 0
        world.commit_all("import from Awell")
        plan = json.loads(world.syncer("plan", "--output", "json").out)
        assert [f["status"] for f in plan["flows"]] == ["create"]
        assert world.syncer("apply", "--yes").code == 0
        again = json.loads(world.syncer("plan", "--output", "json").out)
        assert [f["status"] for f in again["flows"]] == ["in_sync"]
        live = world.live("production-eu", "imported")
        definition_id = json.loads(json.dumps(live))["definition_id"]
        assert definition_id == plan["flows"][0]["definition_id"]
