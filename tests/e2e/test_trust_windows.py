"""Refusals are loud (SPEC 7): a sync window that holds writes makes reconcile exit 2 and every report
name the window and when it next opens; apply honours it unless `--override-window REASON`, which each
write records with the actor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncer.model import ANN_WINDOW_OVERRIDE

from .conftest import BP, EU, EU_ONLY
from .landscape import Landscape, example_flow, landscape
from .trust_kit import assert_nothing_leaked, assert_plan_schema


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Landscape, str]]:
    """production-eu denies writes from the start of this UTC hour for 2 hours; BP is in Git only."""
    now = datetime.now(UTC)
    deny = {"kind": "deny", "cron": f"0 {now.hour} * * *", "duration": "2h", "timezone": "UTC"}
    opens = (now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    spec = {**EU_ONLY, EU: {**EU_ONLY[EU], "windows": [deny]}}
    with landscape(tmp_path, monkeypatch, spec) as w:
        w.seed("sandbox", example_flow(BP))
        assert w.syncer("export", "--env", "sandbox", "--commit").code == 0
        yield w, opens
        assert_nothing_leaked(w)


def _flows_in_production(world: Landscape) -> list[str]:
    with world.client(EU) as tenant:
        return [str(s["key"]) for s in tenant.list_flows()]


def test_reconcile_exits_2_and_every_report_names_the_window_and_its_opening(
    world: tuple[Landscape, str],
) -> None:
    w, opens = world
    when = opens.replace("T", " ")[:16]  # "YYYY-MM-DD HH:MM" in the sentences
    report = w.root / "reconcile.md"
    text = w.syncer("reconcile", "--report", str(report))
    assert text.code == 2, text.err
    for output in (text.out, text.err, report.read_text("utf-8")):
        assert "the deny window" in output and "* * *" in output and "for 2h (UTC)" in output
        assert f"next allowed at {when} UTC" in output and "1 pending write" in output
    assert "Writes held by a sync window" in text.out + report.read_text("utf-8")
    data = json.loads(w.syncer("reconcile", "--output", "json").out)
    assert_plan_schema(data)
    assert data["held"]["kind"] == "window" and data["held"]["next_open"] == opens
    assert data["held"]["pending"] == 1 and data["summary"]["create"] == 1
    markdown = w.syncer("reconcile", "--output", "markdown")
    assert markdown.code == 2 and "⏸️ Writes held by a sync window" in markdown.out
    assert _flows_in_production(w) == []


def test_apply_honours_the_window_unless_overridden_and_records_who_and_why(
    world: tuple[Landscape, str],
) -> None:
    w, _opens = world
    held = w.syncer("apply", "--yes")
    assert held.code == 2 and "--override-window REASON" in held.err
    assert _flows_in_production(w) == []
    assert w.syncer("apply", "--yes", "--override-window", "  ").code == 1  # a reason is required
    lifted = w.syncer("apply", "--yes", "--override-window", "CAB-1234: fix the BP threshold")
    assert lifted.code == 0, lifted.err
    assert "lifts the deny window" in lifted.err
    annotations = w.live(EU, BP)["annotations"]
    assert annotations[ANN_WINDOW_OVERRIDE] == "ci-bot: CAB-1234: fix the BP threshold"
    after = w.syncer("reconcile")  # nothing pending: the window holds nothing, exit 0
    assert after.code == 0, after.err
    assert "nothing deferred" in after.out
