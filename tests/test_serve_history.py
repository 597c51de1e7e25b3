"""The run history (SQLite): runs open and close, a dead process's run is found, audits filter."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from syncer.errors import ConfigError
from syncer.serve.history import History
from syncer.serve.records import EnvironmentRecord, EnvironmentState, FlowState, RunRecord


def _state(env: str, flow: str, status: str, run: str) -> FlowState:
    return FlowState(env, flow, flow.title(), status, run, "2026-03-03T10:00:00.000Z")


def test_a_run_left_open_is_interrupted_at_the_next_start(tmp_path: Path) -> None:
    history = History(tmp_path / "h.db")
    history.start_run(RunRecord("r1", "2026-03-03T10:00:00.000Z", "start"))
    history.close()  # the process dies here: the run never finishes
    again = History(tmp_path / "h.db")
    assert again.recover_interrupted() == ["r1"]
    run = again.run("r1")
    assert run is not None and run.result == "interrupted" and run.finished_at
    assert again.recover_interrupted() == []
    assert again.last_finished() is None  # an interrupted run is not a finished one


def test_finish_replaces_states_of_reached_environments_only(tmp_path: Path) -> None:
    history = History(tmp_path / "h.db")
    first = RunRecord("r1", "2026-03-03T10:00:00.000Z", "start", result="ok")
    history.start_run(first)
    first.environments = [EnvironmentRecord("eu", "ok", counts={"in_sync": 1})]
    history.finish_run(
        first,
        [_state("eu", "a", "in_sync", "r1"), _state("us", "a", "in_sync", "r1")],
        [EnvironmentState("eu", "r1", "ok", "t"), EnvironmentState("us", "r1", "ok", "t")],
        reached=["eu", "us"],
    )
    second = RunRecord("r2", "2026-03-04T10:00:00.000Z", "schedule", result="failed")
    history.start_run(second)
    second.environments = [EnvironmentRecord("us", "failed", "unreachable")]
    history.finish_run(
        second, [_state("eu", "b", "drift", "r2")], [], reached=["eu"], known=["eu", "us"]
    )
    states = {(s.environment, s.flow): s.status for s in history.flow_states()}
    assert states == {("eu", "b"): "drift", ("us", "a"): "in_sync"}  # us kept what it had
    history.finish_run(second, [], [], reached=[], known=["eu"])  # us left the repository
    assert {s.environment for s in history.flow_states()} == {"eu"}
    assert [r.id for r in history.runs(environment="us")] == ["r2"]
    assert [r.id for r in history.runs(since="2026-03-04")] == ["r2"]
    assert [r.id for r in history.runs(until="2026-03-04")] == ["r1"]
    run = history.run("r2")
    assert run is not None and run.environments[0].detail == "unreachable"


def test_a_history_from_a_newer_syncer_or_an_unwritable_place_is_a_clear_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "new.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version=99")
    with pytest.raises(ConfigError, match="newer syncer"):
        History(path)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot open the run history"):
        History(blocker / "sub" / "h.db")


def test_prune_forgets_old_finished_runs_only(tmp_path: Path) -> None:
    history = History(tmp_path / "h.db")
    for run_id, day in (("old", "01"), ("new", "20")):
        run = RunRecord(run_id, f"2026-03-{day}T10:00:00.000Z", "schedule", result="ok")
        history.start_run(run)
        run.environments = [EnvironmentRecord("eu", "ok")]
        history.finish_run(run)
    history.start_run(RunRecord("open", "2026-02-01T10:00:00.000Z", "start"))
    assert history.prune("2026-03-10") == 1
    assert sorted(r.id for r in history.runs()) == ["new", "open"]
    assert history.run("old") is None
