"""Hotfixes back into Git, end to end: real tenants over HTTP, real Git with a bare remote, fake GitHub.

The story: a hotfix in Production -> reconcile flags drift -> a backport pull request -> merged -> one
apply refreshes annotations in the hotfixed environment and updates the others -> plan is in sync
everywhere -> Sandbox carries the hotfix -> the next export changes nothing. Then every guard.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import git
import pytest

from syncer.backport import backport_document, merge_layout, with_own_values
from syncer.canonical import canonicalize, render_flow
from syncer.model import ANN_LAST_APPLIED_HASH, iter_value_items
from tests.fakegithub import FakeGitHub

from .conftest import (
    BP,
    BP_ONLY,
    DS,
    EU,
    EU_ONLY,
    first_step_title,
    promote,
    read_statuses,
    retitle,
)
from .landscape import (
    CANARY,
    ENV_CANARY,
    Landscape,
    example_flow,
    landscape,
    tree_bytes,
)

HOTFIX_TITLE = "HOTFIX: call the patient within 4 hours"
TOKEN = "ghs-test-token-backport"
REPOSITORY = "acme/care-flows"


# -- helpers -------------------------------------------------------------------------------------------


def _hotfix(definition: dict[str, Any]) -> None:
    """A realistic hotfix: a retitled step, a moved box, a new constant, a new secret set to the
    canary, and an environment-specific value changed in place."""
    step = definition["spec"]["tracks"][0]["steps"][0]
    step["title"] = HOTFIX_TITLE
    definition["layout"]["steps"][step["id"]] = {"x": 7, "y": 7}
    constants = definition["spec"]["settings"]["constants"]
    constants.append(
        {"id": "hfConst0001", "key": "CALLBACK_HOURS", "label": "Callback", "value": "4"}
    )
    constants.append(
        {
            "id": "hfSecret001",
            "key": "PAGER_TOKEN",
            "label": "Pager",
            "concealed": True,
            "value": CANARY,
        }
    )
    for ref, item in iter_value_items(definition):
        if ref == "EHR_BASE_URL":
            item["value"] = "https://ehr.eu-hotfix.example.org"


def _bare_remote(world: Landscape, name: str = "origin") -> git.Repo:
    path = world.root / f"{name}.git"
    bare = git.Repo.init(path, bare=True)
    repo = world.git()
    repo.create_remote(name, str(path))
    repo.git.push(name, "main:main")
    return bare


def _branches(world: Landscape) -> set[str]:
    return {h.name for h in world.git().heads}


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN, repository=REPOSITORY) as fake:
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", REPOSITORY)
        monkeypatch.setenv("GITHUB_API_URL", fake.url)
        yield fake


def _everything(world: Landscape, github: FakeGitHub | None = None) -> str:
    text: str = "\n".join(world.outputs) + world.git().git.log("-p", "--all")
    for remote in world.root.glob("*.git"):
        text += git.Repo(remote).git.log("-p", "--all")
    for path in world.repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            text += path.read_text("utf-8", errors="replace")
    if github is not None:
        text += json.dumps(github.pulls)
    return text


# -- the whole story -------------------------------------------------------------------------------------


def test_hotfix_round_trip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, github: FakeGitHub
) -> None:
    with landscape(tmp_path, monkeypatch, BP_ONLY) as world:
        promote(world, BP)
        bare = _bare_remote(world)
        main_file = (world.repo / "flows" / BP / "flow.yaml").read_bytes()
        revision = world.edit(EU, BP, _hotfix, hotfix=True)

        flagged = world.syncer("reconcile")
        assert flagged.code == 3 and "drift" in flagged.out

        result = world.syncer("backport", "--env", EU, "--flow", BP, "--open-pr", "--to-sandbox")
        assert result.code == 0, result.err
        branch = f"backport/{EU}/{BP}-r{revision}"
        assert branch in result.out and "dr.jansen" in result.out
        repo = world.git()
        assert repo.active_branch.name == "main"  # the work tree stays where it was
        assert (world.repo / "flows" / BP / "flow.yaml").read_bytes() == main_file
        assert branch in {h.name for h in bare.heads}  # pushed to the bare remote
        message = repo.commit(branch).message
        history = world.client(EU).history(world.live(EU, BP)["definition_id"])
        hotfix_edit = next(h for h in history if h["revision"] == revision)
        for needed in (EU, f"revision {revision}", "dr.jansen", hotfix_edit["at"]):
            assert needed in message
        (pull,) = github.pulls.values()
        assert pull["head"]["ref"] == branch and pull["base"]["ref"] == "main"
        assert "dr.jansen" in pull["body"] and "syncer-report:env=production-eu" in pull["body"]
        scheduled = world.syncer("reconcile", "--open-backport-prs")  # knows that pull request
        assert scheduled.code == 3 and len(github.pulls) == 1 and "unchanged" in scheduled.err
        tip = repo.commit(branch).hexsha
        rerun = world.syncer("backport", "--env", EU, "--flow", BP, "--open-pr", "--to-sandbox")
        assert rerun.code == 0 and "carries the hotfix already" in rerun.out, rerun.err
        assert "already holds this backport" in rerun.out and "unchanged" in rerun.out
        assert len(github.pulls) == 1 and repo.commit(branch).hexsha == tip

        backported = repo.git.show(f"{branch}:flows/{BP}/flow.yaml")
        assert HOTFIX_TITLE in backported and "CALLBACK_HOURS" in backported
        assert "https://ehr.sandbox.example.org" in backported  # Git keeps Git's values
        assert "eu-hotfix" not in backported and "ehr.eu.example.org" not in backported
        assert "{x: 7, y: 7}" in backported  # Production's layout comes back

        sandbox = world.live("sandbox", BP)["definition"]
        assert first_step_title(sandbox) == HOTFIX_TITLE
        sandbox_values = dict(iter_value_items(sandbox))
        assert sandbox_values["EHR_API_KEY"]["has_value"] is True  # Sandbox's secret kept
        assert sandbox_values["PAGER_TOKEN"]["has_value"] is False  # never copied
        assert sandbox_values["EHR_BASE_URL"]["value"] == "https://ehr.sandbox.example.org"

        repo.git.merge(branch, "--no-ff", "-m", "Merge backport")
        code, statuses = read_statuses(world)
        assert statuses == {EU: {BP: "in_sync"}, "production-us": {BP: "update"}} and code == 2
        before = world.live(EU, BP)
        assert world.syncer("apply", "--yes").code == 0
        after = world.live(EU, BP)
        # only the annotations were refreshed (lists whose order means nothing may come back sorted)
        assert canonicalize(after["definition"]) == canonicalize(before["definition"])
        assert after["content_hash"] == before["content_hash"]
        assert after["revision"] == before["revision"] + 1
        assert (
            after["annotations"][ANN_LAST_APPLIED_HASH]
            != before["annotations"][ANN_LAST_APPLIED_HASH]
        )
        assert first_step_title(world.live("production-us", BP)["definition"]) == HOTFIX_TITLE
        assert read_statuses(world) == (0, {EU: {BP: "in_sync"}, "production-us": {BP: "in_sync"}})

        head, files = repo.head.commit.hexsha, tree_bytes(world.repo)
        exported = world.syncer("export", "--env", "sandbox", "--commit")
        assert exported.code == 0 and "0 written" in exported.out
        assert repo.head.commit.hexsha == head and tree_bytes(world.repo) == files

        everything = _everything(world, github)
        assert CANARY not in everything and ENV_CANARY not in everything


def test_reconcile_keeps_one_pull_request_per_flow_and_updates_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, github: FakeGitHub
) -> None:
    with landscape(tmp_path, monkeypatch, EU_ONLY) as world:
        promote(world, BP)
        bare = _bare_remote(world)
        world.edit(EU, BP, retitle("first hotfix"), hotfix=True)
        branch = f"backport/{EU}/{BP}"

        first = world.syncer("reconcile", "--open-backport-prs")
        assert first.code == 3 and "opened" in first.err
        assert len(github.pulls) == 1 and world.git().active_branch.name == "main"
        tip = bare.commit(branch).hexsha

        again = world.syncer("reconcile", "--open-backport-prs")
        assert again.code == 3 and len(github.pulls) == 1
        assert bare.commit(branch).hexsha == tip  # nothing new: no commit, no second pull request

        world.git().delete_head(branch, force=True)  # as in CI: a fresh clone has only origin's
        world.edit(EU, BP, retitle("second hotfix"), hotfix=True)
        grown = world.syncer("reconcile", "--open-backport-prs")
        assert grown.code == 3 and "updated" in grown.err
        (pull,) = github.pulls.values()
        assert bare.commit(branch).parents[0].hexsha == tip  # a commit on top
        assert "second hotfix" in world.git().git.show(f"{branch}:flows/{BP}/flow.yaml")
        assert pull["title"].endswith(f"(revision {world.live(EU, BP)['revision']})")
        assert world.git().active_branch.name == "main"

        world.git().git.merge(branch, "-m", "Merge backport")
        assert world.syncer("apply", "--yes").code == 0
        assert read_statuses(world) == (0, {EU: {BP: "in_sync"}})
        assert CANARY not in _everything(world, github)


def test_reconcile_leaves_a_dirty_work_tree_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, github: FakeGitHub
) -> None:
    with landscape(tmp_path, monkeypatch, EU_ONLY) as world:
        promote(world, BP)
        _bare_remote(world)
        world.edit(EU, BP, retitle("hotfix"), hotfix=True)
        (world.repo / "notes.txt").write_text("work in progress\n", "utf-8")
        result = world.syncer("reconcile", "--open-backport-prs")
        assert result.code == 3
        assert "notes.txt" in result.err and "warning" in result.err
        assert github.pulls == {} and _branches(world) == {"main"}


# -- guards and faults (one landscape for the module: each test uses its own branch names) ----------


@pytest.fixture(scope="module")
def drifted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landscape]:
    """Sandbox and production-eu with two flows promoted; `remote-bp-monitoring` hotfixed in
    production-eu (a new secret set to the canary among the edits); `depression-screening` in sync."""
    monkeypatch = pytest.MonkeyPatch()
    try:
        with landscape(tmp_path_factory.mktemp("drifted"), monkeypatch, EU_ONLY) as world:
            promote(world, BP, DS)
            world.edit(EU, BP, _hotfix, hotfix=True)
            yield world
    finally:
        monkeypatch.undo()


def _backport(world: Landscape, *argv: str) -> Any:
    result = world.syncer("backport", "--env", EU, *argv)
    assert CANARY not in result.out + result.err and ENV_CANARY not in result.out + result.err
    assert world.git().active_branch.name == "main"
    return result


def test_a_flow_that_is_not_drifted_is_left_alone(drifted: Landscape) -> None:
    result = _backport(drifted, "--flow", DS)
    assert result.code == 0 and "in_sync: nothing to backport" in result.out
    assert not any(DS in name for name in _branches(drifted))


def test_unknown_flow_and_wrong_environment_are_errors(drifted: Landscape) -> None:
    result = _backport(drifted, "--flow", "no-such-flow")
    assert result.code == 1 and "no flow `no-such-flow`" in result.err
    wrong = drifted.syncer("backport", "--env", "sandbox", "--flow", BP)
    assert wrong.code == 1 and "role source" in wrong.err
    two = drifted.syncer("backport", "--env", EU, "--flow", BP, "--flow", DS)
    assert two.code == 1 and "exactly one --flow" in two.err
    new = example_flow("post-op-knee-recovery")  # in Git, never applied to production-eu
    (drifted.repo / "flows" / "post-op-knee-recovery").mkdir()
    (drifted.repo / "flows" / "post-op-knee-recovery" / "flow.yaml").write_text(
        render_flow(new), "utf-8"
    )
    drifted.commit_all("a flow production-eu does not have yet")
    absent = _backport(drifted, "--flow", "post-op-knee-recovery")
    assert absent.code == 1 and "production-eu has no flow `post-op-knee-recovery`" in absent.err


def test_dirty_work_tree_is_refused_and_untouched(drifted: Landscape) -> None:
    path = drifted.repo / "flows" / BP / "flow.yaml"
    original = path.read_text("utf-8")
    heads = _branches(drifted)
    try:
        path.write_text(original + "# my edit\n", "utf-8")
        (drifted.repo / "scratch.txt").write_text("notes\n", "utf-8")
        result = _backport(drifted, "--flow", BP, "--branch", "bp-dirty")
        assert result.code == 1
        assert f"flows/{BP}/flow.yaml" in result.err and "scratch.txt" in result.err
        assert path.read_text("utf-8") == original + "# my edit\n"
        assert _branches(drifted) == heads
    finally:
        path.write_text(original, "utf-8")
        (drifted.repo / "scratch.txt").unlink()


def test_a_taken_branch_name_is_refused_and_a_rerun_converges(drifted: Landscape) -> None:
    repo = drifted.git()
    repo.create_head("bp-taken")
    result = _backport(drifted, "--flow", BP, "--branch", "bp-taken")
    assert result.code == 1 and "`bp-taken` already exists" in result.err
    assert repo.commit("bp-taken").hexsha == repo.head.commit.hexsha

    first = _backport(drifted, "--flow", BP, "--branch", "bp-rerun")
    assert first.code == 0 and "committed" in first.out
    tip = repo.commit("bp-rerun").hexsha
    again = _backport(drifted, "--flow", BP, "--branch", "bp-rerun")
    assert again.code == 0 and "already holds this backport" in again.out
    assert repo.commit("bp-rerun").hexsha == tip


def test_push_without_the_remote_explains_the_local_state(drifted: Landscape) -> None:
    result = _backport(drifted, "--flow", BP, "--branch", "bp-noremote", "--push")
    assert result.code == 1
    assert "no remote `origin`" in result.err
    assert "branch `bp-noremote`" in result.err and "committed locally" in result.err
    assert "git push origin bp-noremote" in result.err
    assert "bp-noremote" in _branches(drifted)


def test_a_failing_push_explains_the_local_state(drifted: Landscape) -> None:
    drifted.git().create_remote("broken", str(drifted.root / "does-not-exist.git"))
    result = _backport(
        drifted, "--flow", BP, "--branch", "bp-broken", "--push", "--remote", "broken"
    )
    assert result.code == 1
    assert "git push to `broken` failed" in result.err and "committed locally" in result.err
    assert "bp-broken" in _branches(drifted)


def test_open_pr_without_github_settings_changes_nothing(
    drifted: Landscape, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    heads = _branches(drifted)
    result = _backport(drifted, "--flow", BP, "--branch", "bp-nogithub", "--open-pr")
    assert result.code == 1 and "GITHUB_TOKEN" in result.err
    assert _branches(drifted) == heads


def test_unexported_sandbox_work_refuses_to_sandbox(drifted: Landscape) -> None:
    drifted.edit("sandbox", BP, lambda d: d["spec"]["tracks"][-1]["steps"][-1].update(title="WIP"))
    before = drifted.live("sandbox", BP)
    heads = _branches(drifted)
    result = _backport(drifted, "--flow", BP, "--branch", "bp-sandbox", "--to-sandbox")
    assert result.code == 3
    assert "never exported" in result.err and "WIP" in result.err and "title" in result.err
    assert _branches(drifted) == heads
    assert drifted.live("sandbox", BP)["revision"] == before["revision"]


def test_the_canary_never_reaches_git_or_output(drifted: Landscape) -> None:
    result = _backport(drifted, "--flow", BP, "--branch", "bp-canary", "--output", "markdown")
    assert result.code == 0
    assert "PAGER_TOKEN" in drifted.git().git.show(f"bp-canary:flows/{BP}/flow.yaml")
    everything = _everything(drifted)
    assert CANARY not in everything and ENV_CANARY not in everything


# -- a conflict --------------------------------------------------------------------------------------


def test_a_conflict_backport_holds_production_and_shows_the_git_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with landscape(tmp_path, monkeypatch, EU_ONLY) as world:
        promote(world, BP)
        world.edit(EU, BP, retitle("Production's title"), hotfix=True)
        world.edit(
            "sandbox",
            BP,
            lambda d: d["spec"]["tracks"][-1]["steps"][-1].update(title="Git's title"),
        )
        assert world.syncer("export", "--env", "sandbox", "--commit").code == 0
        result = _backport(world, "--flow", BP, "--branch", "bp-conflict")
        assert result.code == 0, result.err
        assert "CONFLICT" in result.out and "Git's title" in result.out
        on_branch = world.git().git.show(f"bp-conflict:flows/{BP}/flow.yaml")
        assert "Production's title" in on_branch and "Git's title" not in on_branch
        message = world.git().commit("bp-conflict").message
        assert "Conflict: this replaces what Git changed" in message and "Git's title" in message


# -- the carry-back rules (pure) ---------------------------------------------------------------------


def test_git_keeps_its_values_and_ignored_paths() -> None:
    git_document = example_flow(BP)
    live = copy.deepcopy(git_document)
    settings = live["spec"]["settings"]
    settings["reminders"] = {"amount": 9, "delay": {"amount": 1, "unit": "day"}}
    items = dict(iter_value_items(live))
    items["EHR_BASE_URL"]["value"] = "https://ehr.eu.example.org"
    items["ALERT_THRESHOLD_SYSTOLIC"]["label"] = "Systolic alert threshold"  # shape: comes back
    items["EHR_API_KEY"].pop("concealed")  # made visible in Production: its value must not travel
    items["EHR_API_KEY"]["value"] = "was-a-secret"
    items["elation.client_secret"]["has_value"] = True
    settings["extensions"]["elation"]["region"] = {"id": "hfRegion001", "label": "R", "value": "eu"}

    carried = backport_document(live, git_document, EU, ignore=["spec.settings.reminders"])

    values = dict(iter_value_items(carried.document))
    assert values["EHR_BASE_URL"]["value"] == "https://ehr.sandbox.example.org"
    assert values["ALERT_THRESHOLD_SYSTOLIC"] == {
        "id": "xNoJ7Ka6x_dy",
        "key": "ALERT_THRESHOLD_SYSTOLIC",
        "label": "Systolic alert threshold",
        "value": "140",
    }
    assert values["EHR_API_KEY"]["value"] == "" and "was-a-secret" not in carried.text
    assert values["elation.client_secret"] == {
        "id": "A2f1hB5e3Fwx",
        "label": "Client Secret",
        "concealed": True,
    }
    assert values["elation.region"]["value"] == ""  # settings are environment-specific
    assert (
        carried.document["spec"]["settings"]["reminders"]
        == git_document["spec"]["settings"]["reminders"]
    )
    assert len(carried.notes) == 2 and any("elation.region" in n for n in carried.notes)


def test_sandbox_keeps_its_values_and_its_moved_boxes() -> None:
    base = {"steps": {"a": {"x": 1}, "b": {"x": 1}}}
    sandbox = {"steps": {"a": {"x": 2}, "b": {"x": 1}}}  # Sandbox moved a since the export
    incoming = {
        "steps": {"a": {"x": 1}, "b": {"x": 3}, "c": {"x": 4}}
    }  # the hotfix moved b, added c
    assert merge_layout(base, sandbox, incoming) == {
        "steps": {"a": {"x": 2}, "b": {"x": 3}, "c": {"x": 4}}
    }
    document = example_flow(BP)
    own = copy.deepcopy(document)
    dict(iter_value_items(own))["ALERT_THRESHOLD_SYSTOLIC"]["value"] = "135"
    dict(iter_value_items(document))["EHR_API_KEY"]["value"] = CANARY
    body = with_own_values(document, own)
    values = dict(iter_value_items(body))
    assert values["ALERT_THRESHOLD_SYSTOLIC"]["value"] == "135"
    assert "value" not in values["EHR_API_KEY"]  # a concealed value is never sent
