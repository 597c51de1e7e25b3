"""Signed commits (SPEC 4, trust boundaries), end to end with real SSH signatures and real tenants.

The operator trusts Alice: her key is in an allowed-signers file outside the repository, named by
``$SYNCER_ALLOWED_SIGNERS``. Mallory can push to the repository but holds no allowed key. Every story
checks what reached Production and what the refusal says (the commit, the signer, what to do; never a
git command line).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncer import yamlio
from syncer.canonical import render_flow
from syncer.model import ANN_GIT_COMMIT, ANN_UNCOMMITTED

from .conftest import BP, EU, EU_ONLY, first_step_title
from .landscape import Landscape, example_flow, landscape, write_environment
from .trust_kit import (
    Signer,
    allowed_signers,
    assert_nothing_leaked,
    assert_plan_schema,
    commit,
    make_signer,
)

VERIFY = {"signed_commits": True, "allowed_signers_env": "SYNCER_ALLOWED_SIGNERS"}
VERIFIED = {**EU_ONLY, EU: {**EU_ONLY[EU], "verify": VERIFY}}
RAW_GIT = ("git -c", "verify-commit", "cmdline", "Cmd(", "gpg.ssh")


@pytest.fixture
def people(tmp_path: Path) -> dict[str, Signer]:
    keys = tmp_path / "keys"
    return {name: make_signer(keys, name) for name in ("alice", "mallory")}


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, people: dict[str, Signer]
) -> Iterator[Landscape]:
    """production-eu verifies commits; BP was exported, signed by Alice and reconciled."""
    trust = allowed_signers(tmp_path / "operator" / "allowed_signers", people["alice"])
    monkeypatch.setenv("SYNCER_ALLOWED_SIGNERS", str(trust))
    with landscape(tmp_path, monkeypatch, VERIFIED) as w:
        w.seed("sandbox", example_flow(BP))
        assert w.syncer("export", "--env", "sandbox").code == 0
        commit(w, "Export remote BP monitoring", people["alice"])
        result = w.syncer("reconcile")
        assert result.code == 0, result.err
        yield w
        assert_nothing_leaked(w)


def _retitle_in_git(world: Landscape, title: str) -> None:
    path = world.repo / "flows" / BP / "flow.yaml"
    document = yamlio.load_file(path).data
    document["spec"]["tracks"][0]["steps"][0]["title"] = title
    path.write_text(render_flow(document), "utf-8")


def _live_title(world: Landscape) -> str:
    return first_step_title(world.live(EU, BP)["definition"])


def _refused(world: Landscape, *argv: str) -> tuple[str, dict[str, Any], str]:
    """Reconcile once, expecting verify to refuse: (stderr, the JSON plan, the Markdown report)."""
    report = world.root / "reconcile.md"
    result = world.syncer("reconcile", "--output", "json", "--report", str(report), *argv)
    assert result.code == 1, result.out + result.err
    for raw in RAW_GIT:
        assert raw not in result.out + result.err
    assert_plan_schema(json.loads(result.out))
    return result.err, json.loads(result.out), report.read_text("utf-8")


def test_a_key_the_commit_adds_to_a_repository_file_is_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, people: dict[str, Signer]
) -> None:
    """The reproduction: the environment trusts `.syncer/allowed_signers` from the repository; Mallory
    signs with her own key and adds it to that file in the same commit. Nothing reaches Production."""
    trust = allowed_signers(tmp_path / "operator" / "allowed_signers", people["alice"])
    monkeypatch.setenv("SYNCER_ALLOWED_SIGNERS", str(trust))
    with landscape(tmp_path, monkeypatch, EU_ONLY) as world:
        world.seed("sandbox", example_flow(BP))
        assert world.syncer("export", "--env", "sandbox").code == 0
        commit(world, "Export remote BP monitoring", people["alice"])
        assert world.syncer("reconcile").code == 0
        before = _live_title(world)

        allowed_signers(world.repo / ".syncer" / "allowed_signers", people["alice"])
        in_repo = {"signed_commits": True, "allowed_signers": ".syncer/allowed_signers"}
        write_environment(world.repo, EU, world.tenants[EU].url, {**EU_ONLY[EU], "verify": in_repo})
        commit(world, "Verify commits against the repository's signers", people["alice"])
        refused = world.syncer("reconcile")
        assert refused.code == 1  # refused outright, saying why
        assert "vouch for itself" in refused.err and "allowed_signers_env" in refused.err

        _retitle_in_git(world, "Mallory's change")
        allowed_signers(
            world.repo / ".syncer" / "allowed_signers", people["alice"], people["mallory"]
        )
        commit(world, "Tweak the flow and trust myself", people["mallory"])
        result = world.syncer("reconcile")
        assert result.code == 1
        assert _live_title(world) == before


def test_a_commit_signed_by_a_key_nobody_allowed_is_refused_and_names_the_signer(
    world: Landscape, people: dict[str, Signer]
) -> None:
    before = _live_title(world)
    revision = world.live(EU, BP)["revision"]
    _retitle_in_git(world, "Mallory's change")
    allowed_signers(world.repo / ".syncer" / "allowed_signers", people["mallory"])  # ignored
    sha = commit(world, "Tweak the flow", people["mallory"])
    err, plan, report = _refused(world)
    fingerprint = people["mallory"].fingerprint
    for text in (err, plan["held"]["message"], report):
        assert sha[:12] in text and fingerprint in text
        assert "not an allowed signer" in text
    assert plan["held"] == plan["held"] | {"kind": "verify", "commit": sha, "signer": fingerprint}
    assert plan["flows"] == []  # the commit's environment files are not trusted: nothing planned
    assert "allowed signer" in err and "sign a commit on top" in err  # what to do
    assert _live_title(world) == before and world.live(EU, BP)["revision"] == revision

    commit(world, "Reviewed: Mallory's change is fine", people["alice"])  # Alice vouches on top
    done = world.syncer("reconcile")
    assert done.code == 0, done.err
    assert _live_title(world) == "Mallory's change"
    assert world.live(EU, BP)["annotations"][ANN_GIT_COMMIT] == world.git().head.commit.hexsha


def test_an_unsigned_commit_is_refused_and_apply_never_overrides_verify(world: Landscape) -> None:
    before = _live_title(world)
    _retitle_in_git(world, "Unsigned change")
    sha = commit(world, "Unsigned change")
    err, plan, report = _refused(world)
    assert "unsigned" in err and sha[:12] in err and plan["held"]["signer"] == "unsigned"
    assert "not verified" in report.lower() and sha[:12] in report
    applied = world.syncer("apply", "--yes", "--override-window", "urgent", "--allow-dirty")
    assert applied.code == 1 and sha[:12] in applied.err and "unsigned" in applied.err
    assert _live_title(world) == before


def test_a_commit_cannot_switch_its_own_verification_off(world: Landscape) -> None:
    """With $SYNCER_ALLOWED_SIGNERS set by the operator, an unsigned commit that sets
    `signed_commits: false` is still verified, and refused."""
    before = _live_title(world)
    _retitle_in_git(world, "Unverified change")
    write_environment(world.repo, EU, world.tenants[EU].url, EU_ONLY[EU])  # no verify any more
    commit(world, "Drop verification")
    err, _plan, _report = _refused(world)
    assert "unsigned" in err and "SYNCER_ALLOWED_SIGNERS" in err
    assert _live_title(world) == before


def test_the_allowed_signers_must_come_from_outside_the_repository(
    world: Landscape, people: dict[str, Signer], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _live_title(world)
    _retitle_in_git(world, "Change")
    inside = allowed_signers(world.repo / ".syncer" / "allowed_signers", people["alice"])
    commit(world, "Change", people["alice"])
    monkeypatch.setenv("SYNCER_ALLOWED_SIGNERS", str(inside))
    err, _plan, _report = _refused(world)
    assert "points into the repository" in err and "vouch for itself" in err
    monkeypatch.delenv("SYNCER_ALLOWED_SIGNERS")
    err, _plan, _report = _refused(world)
    assert "$SYNCER_ALLOWED_SIGNERS is not set" in err
    assert _live_title(world) == before


def test_reconcile_writes_the_verified_commit_never_the_work_tree(
    world: Landscape, people: dict[str, Signer]
) -> None:
    """The reproduction: HEAD is signed, an uncommitted edit sits in the work tree."""
    _retitle_in_git(world, "Signed title")
    signed = commit(world, "Signed change", people["alice"])
    _retitle_in_git(world, "Uncommitted title")
    for argv in (("reconcile",), ("apply", "--yes"), ("apply", "--yes", "--allow-dirty")):
        result = world.syncer(*argv)
        assert result.code == 1, argv
        assert f"flows/{BP}/flow.yaml" in result.err and signed[:12] in result.err
        assert "signed" in result.err
    assert _live_title(world) != "Uncommitted title"

    done = world.syncer("reconcile", "--ref", "main")  # the commit, exactly, whatever the work tree
    assert done.code == 0, done.err
    live = world.live(EU, BP)
    assert first_step_title(live["definition"]) == "Signed title"
    assert live["annotations"][ANN_GIT_COMMIT] == signed
    assert ANN_UNCOMMITTED not in live["annotations"]


def test_without_verify_a_dirty_work_tree_needs_allow_dirty_and_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with landscape(tmp_path, monkeypatch, EU_ONLY) as world:
        world.seed("sandbox", example_flow(BP))
        assert world.syncer("export", "--env", "sandbox", "--commit").code == 0
        head = world.git().head.commit.hexsha
        _retitle_in_git(world, "Uncommitted title")
        for argv in (("apply", "--yes"), ("reconcile",)):
            result = world.syncer(*argv)
            assert result.code == 1 and f"flows/{BP}/flow.yaml" in result.err, argv
            assert "--allow-dirty" in result.err
        assert world.syncer("plan").code == 2  # plan is read-only: it still plans the work tree
        result = world.syncer("apply", "--yes", "--allow-dirty")
        assert result.code == 0, result.err
        live = world.live(EU, BP)
        assert first_step_title(live["definition"]) == "Uncommitted title"
        assert live["annotations"][ANN_GIT_COMMIT] == head  # a real commit, never `<sha>-dirty`
        assert live["annotations"][ANN_UNCOMMITTED] == f"flows/{BP}/flow.yaml"


def test_an_environment_s_own_signers_variable_cannot_be_switched_off_by_a_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, people: dict[str, Signer]
) -> None:
    """Found by probing: with a variable of the environment's own (not $SYNCER_ALLOWED_SIGNERS), an
    unsigned commit that deleted `verify` was applied. The operator's per-environment variable, when
    set, makes verification due whatever the commit says; any other name is refused by validate."""
    own = "SYNCER_ALLOWED_SIGNERS_PRODUCTION_EU"
    monkeypatch.delenv("SYNCER_ALLOWED_SIGNERS", raising=False)
    monkeypatch.setenv(own, str(allowed_signers(tmp_path / "operator" / "eu", people["alice"])))
    verified = {**EU_ONLY, EU: {**EU_ONLY[EU], "verify": {**VERIFY, "allowed_signers_env": own}}}
    with landscape(tmp_path, monkeypatch, verified) as world:
        world.seed("sandbox", example_flow(BP))
        assert world.syncer("export", "--env", "sandbox").code == 0
        commit(world, "Export", people["alice"])
        assert world.syncer("reconcile").code == 0
        before = _live_title(world)

        _retitle_in_git(world, "MALLORY")
        write_environment(world.repo, EU, world.tenants[EU].url, EU_ONLY[EU])  # verify deleted
        sha = commit(world, "Drop verification")  # unsigned
        err, _plan, _report = _refused(world)
        assert "unsigned" in err and sha[:12] in err and own in err
        assert _live_title(world) == before

        foreign = {**VERIFY, "allowed_signers_env": "PROD_EU_SIGNERS"}
        write_environment(world.repo, EU, world.tenants[EU].url, {**EU_ONLY[EU], "verify": foreign})
        checked = world.syncer("validate")
        assert checked.code == 1
        assert "environments/production-eu.yaml" in checked.err and own in checked.err


def test_what_git_status_hides_is_uncommitted_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by probing: an ignored flow file, and an edit to a file marked skip-worktree, were
    applied as if committed (`git status` shows neither)."""
    with landscape(tmp_path, monkeypatch, EU_ONLY) as world:
        world.seed("sandbox", example_flow(BP))
        assert world.syncer("export", "--env", "sandbox", "--commit").code == 0
        (world.repo / ".gitignore").write_text("flows/depression-screening/\n*.swp\n", "utf-8")
        commit(world, "Ignore a folder")
        ignored = world.repo / "flows" / "depression-screening" / "flow.yaml"
        ignored.parent.mkdir(parents=True)
        ignored.write_text(render_flow(example_flow("depression-screening")), "utf-8")
        (world.repo / "flows" / BP / "notes.swp").write_text("an editor's backup", "utf-8")
        result = world.syncer("apply", "--yes")
        assert result.code == 1 and "flows/depression-screening/flow.yaml" in result.err
        assert "notes.swp" not in result.err  # ignored, and nothing syncer reads
        ignored.unlink()

        world.git().git.update_index("--skip-worktree", f"flows/{BP}/flow.yaml")
        _retitle_in_git(world, "Hidden edit")
        result = world.syncer("apply", "--yes")
        assert result.code == 1 and f"flows/{BP}/flow.yaml" in result.err, result.err
        assert world.syncer("apply", "--yes", "--allow-dirty").code == 0
        assert world.live(EU, BP)["annotations"][ANN_UNCOMMITTED] == f"flows/{BP}/flow.yaml"
