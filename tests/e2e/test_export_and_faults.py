"""Export edge cases, --ref, and SPEC 9's faults on the commands of the core loop."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from .conftest import BP, EU_ONLY, KNEE, read_statuses
from .landscape import (
    Landscape,
    example_flow,
    landscape,
    tree_bytes,
    write_environment,
)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with landscape(tmp_path, monkeypatch, EU_ONLY) as w:
        for key in (BP, KNEE):
            w.seed("sandbox", example_flow(key))
        yield w


def test_export_on_a_branch_leaves_main_alone(world: Landscape) -> None:
    main_head = world.git().head.commit.hexsha
    result = world.syncer("export", "--env", "sandbox", "--branch", "export/today", "--commit")
    assert result.code == 0, result.err
    repo = world.git()
    assert repo.active_branch.name == "export/today"
    assert repo.heads["main"].commit.hexsha == main_head
    assert "flows/remote-bp-monitoring/flow.yaml" in repo.git.ls_files().splitlines()


def test_export_of_selected_flows_only(world: Landscape) -> None:
    assert world.syncer("export", "--env", "sandbox", "--flow", KNEE).code == 0
    assert (world.repo / "flows" / KNEE / "flow.yaml").is_file()
    assert not (world.repo / "flows" / BP).exists()
    unknown = world.syncer("export", "--env", "sandbox", "--flow", "no-such-flow")
    assert unknown.code == 1 and "no-such-flow" in unknown.err


def test_flow_deleted_in_sandbox_is_reported_not_deleted(world: Landscape) -> None:
    world.syncer("export", "--env", "sandbox", "--commit")
    with world.client("sandbox") as sandbox:
        summary = next(s for s in sandbox.list_flows() if s["key"] == KNEE)
        sandbox.delete_flow(summary["definition_id"], summary["revision"])
    result = world.syncer("export", "--env", "sandbox", "--commit")
    assert result.code == 0
    assert f"flows/{KNEE} is in Git but no longer in sandbox" in result.err
    assert (world.repo / "flows" / KNEE / "flow.yaml").is_file()


def test_plan_ref_reads_git_not_the_work_tree(world: Landscape) -> None:
    world.syncer("export", "--env", "sandbox", "--commit")
    assert world.syncer("apply", "--yes").code == 0
    path = world.repo / "flows" / BP / "flow.yaml"
    text = path.read_text("utf-8")
    path.write_text(text.replace("title: Enrolment", "title: Enrolment (edited locally)"), "utf-8")
    assert read_statuses(world)[1]["production-eu"][BP] == "update"
    assert read_statuses(world, "--ref", "HEAD")[1]["production-eu"][BP] == "in_sync"
    bad = world.syncer("plan", "--ref", "no-such-branch")
    assert bad.code == 1 and "no-such-branch" in bad.err


def test_missing_api_key_variable(world: Landscape, monkeypatch: pytest.MonkeyPatch) -> None:
    world.syncer("export", "--env", "sandbox", "--commit")
    monkeypatch.delenv("SYNCER_PRODUCTION_EU_API_KEY")
    result = world.syncer("plan")
    assert result.code == 1
    assert "SYNCER_PRODUCTION_EU_API_KEY" in result.err and "Traceback" not in result.err


def test_unreachable_tenant(world: Landscape) -> None:
    world.syncer("export", "--env", "sandbox", "--commit")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    write_environment(world.repo, "production-eu", closed, EU_ONLY["production-eu"])
    world.commit_all("production-eu moved")  # apply and reconcile write committed state only
    before = tree_bytes(world.repo)
    for command in (("plan",), ("apply", "--yes"), ("reconcile",)):
        result = world.syncer(*command)
        assert result.code == 1, command
        assert "production-eu" in result.err and closed in result.err
    assert tree_bytes(world.repo) == before


def test_key_without_read_scope_is_a_clear_error(
    world: Landscape, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.syncer("export", "--env", "sandbox", "--commit")
    monkeypatch.setenv("SYNCER_PRODUCTION_EU_API_KEY", "not-a-known-key-123")
    result = world.syncer("plan")
    assert result.code == 1 and "401" in result.err and "SYNCER_PRODUCTION_EU_API_KEY" in result.err
