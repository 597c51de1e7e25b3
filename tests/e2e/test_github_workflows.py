"""The example GitHub workflows, run for real on a scratch repository (tests/actions_runner.py runs
their steps and syncer's composite action as GitHub would), against real tenants and a fake GitHub.

- a pull request with a change: one comment per environment, a green `syncer/<env>` commit status
  per environment, notices on the changed lines, green jobs; with read-only tenant keys;
- a pull request while Production has drift: a red status for that environment and a comment that
  names who edited what, the job still green (drift is news, not a broken build);
- a pull request from a fork: validated, never reported (it has no secrets);
- a push to main: the reconcile matrix writes each environment with its own key and opens a backport
  pull request for the drifted flow;
- the scheduled export: a branch of the day pushed and its pull request opened.

The action installs syncer from a copy of this working tree into the runner's tool cache, once per
module (pip, from the package index), exactly as its install step does on GitHub.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.actions_runner import JobResult, Runner, copy_working_tree
from tests.fakegithub import FakeGitHub

from .conftest import BP, EU, KNEE, retitle
from .landscape import CANARY, ENV_CANARY, ENVIRONMENTS, Landscape, example_flow, landscape

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "github"
REPOSITORY = "acme-health/care-flows"
TOKEN = "ghs_fake_workflow_token"
UK = "production-uk"
WITH_UK = {
    **ENVIRONMENTS,
    UK: {"role": "target", "kind": "production", "region": "uk", "flows": [BP]},
}


@pytest.fixture(scope="module")
def action_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """syncer's action as a workflow would get it: this working tree's files (no .git, no venv)."""
    return copy_working_tree(ROOT, tmp_path_factory.mktemp("action") / "syncer")


@pytest.fixture(scope="module")
def tool_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("toolcache")


@pytest.fixture(scope="module")
def python_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What setup-python puts on PATH: a plain interpreter, without this project's packages."""
    folder = tmp_path_factory.mktemp("python") / "bin"
    folder.mkdir()
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    (folder / "python").symlink_to(base)
    return folder


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Landscape]:
    with landscape(tmp_path, monkeypatch, WITH_UK) as w:
        w.seed("sandbox", example_flow(BP))
        w.seed("sandbox", example_flow(KNEE))
        assert w.syncer("export", "--env", "sandbox", "--commit").code == 0
        assert w.syncer("apply", "--yes").code == 0
        origin = tmp_path / "origin.git"
        _git(tmp_path, "clone", "-q", "--bare", str(w.repo), str(origin))
        _git(w.repo, "remote", "add", "origin", str(origin))
        _git(w.repo, "fetch", "-q", "origin")
        yield w


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN, repository=REPOSITORY) as gh:
        yield gh


def _origin(world: Landscape) -> Path:
    return world.root / "origin.git"


def _open_pull(world: Landscape, github: FakeGitHub, branch: str) -> dict[str, Any]:
    """Push ``branch``, open its pull request and make ``refs/pull/N/{head,merge}`` as GitHub does."""
    _git(world.repo, "push", "-q", "origin", branch)
    pull = github.open_pull(branch, "main")
    number, base = pull["number"], _git(world.repo, "rev-parse", "origin/main").strip()
    head = _git(world.repo, "rev-parse", branch).strip()
    merge_dir = world.root / f"merge-{number}"
    _git(world.root, "clone", "-q", str(_origin(world)), str(merge_dir))
    _git(
        merge_dir,
        "-c",
        "user.name=GitHub",
        "-c",
        "user.email=noreply@github.com",
        "merge",
        "-q",
        "--no-ff",
        "--no-edit",
        head,
    )
    _git(
        merge_dir,
        "push",
        "-q",
        "origin",
        f"{head}:refs/pull/{number}/head",
        f"HEAD:refs/pull/{number}/merge",
    )
    merge = _git(merge_dir, "rev-parse", "HEAD").strip()
    repo = {"full_name": REPOSITORY}
    return {
        "number": number,
        "head": {"sha": head, "ref": branch, "repo": repo},
        "base": {"sha": base, "ref": "main", "repo": repo},
        "merge": merge,
    }


def _runner(
    world: Landscape,
    github: FakeGitHub,
    paths: tuple[Path, Path, Path],
    event_name: str,
    event: dict[str, Any],
    sha: str,
    ref: str,
    secrets: dict[str, str],
) -> Runner:
    action, tools, python = paths
    work = world.root / f"runner-{event_name}-{len(list(world.root.glob('runner-*')))}"
    work.mkdir()
    return Runner(
        origin=_origin(world),
        work=work,
        action_dir=action,
        python_bin=python,
        event_name=event_name,
        event=event,
        sha=sha,
        ref=ref,
        repository=REPOSITORY,
        api_url=github.url,
        secrets={"GITHUB_TOKEN": TOKEN, **secrets},
        tool_cache=tools,
    )


def _read_keys(world: Landscape) -> dict[str, str]:
    """The `syncer-report` environment: read-only keys, as the pull-request workflow expects."""
    return {
        f"SYNCER_{env.upper().replace('-', '_')}_READ_KEY": world.keys[env]["reader"]
        for env in (EU, "production-us", UK)
    }


def _by_job(results: list[JobResult]) -> dict[str, JobResult]:
    return {r.job + (f"[{r.matrix.get('environment')}]" if r.matrix else ""): r for r in results}


def _pull_request_run(
    world: Landscape,
    github: FakeGitHub,
    paths: tuple[Path, Path, Path],
    tmp_path: Path,
    branch: str,
) -> tuple[dict[str, Any], dict[str, JobResult]]:
    pull = _open_pull(world, github, branch)
    event = {
        "pull_request": {k: v for k, v in pull.items() if k != "merge"},
        "number": pull["number"],
    }
    runner = _runner(
        world,
        github,
        paths,
        "pull_request",
        event,
        pull["merge"],
        f"refs/pull/{pull['number']}/merge",
        _read_keys(world),
    )
    return pull, _by_job(runner.run(EXAMPLES / "pull-request.yml"))


@pytest.fixture
def paths(action_dir: Path, tool_cache: Path, python_bin: Path) -> tuple[Path, Path, Path]:
    return action_dir, tool_cache, python_bin


def _title_line(world: Landscape, branch: str, title: str) -> int:
    text = _git(world.repo, "show", f"{branch}:flows/{BP}/flow.yaml")
    return next(n for n, line in enumerate(text.splitlines(), 1) if f"title: {title}" in line)


def test_a_pull_request_with_a_change(
    world: Landscape, github: FakeGitHub, paths: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _git(world.repo, "checkout", "-q", "-b", "retitle")
    world.edit("sandbox", BP, retitle("Enrolment call"))
    assert world.syncer("export", "--env", "sandbox", "--commit").code == 0
    pull, jobs = _pull_request_run(world, github, paths, tmp_path, "retitle")

    for name, job in jobs.items():
        assert job.result == "success", f"{name}:\n{job.log()}"  # the green check
    assert [s.name for s in jobs["validate"].steps if s.outcome == "success"][-2:] == [
        "syncer validate",
        "syncer test",
    ]
    comments = github.comment_bodies(pull["number"])
    bodies = [b for b in comments if b.startswith("<!-- syncer-report:env=")]
    assert len(bodies) == 3  # one comment per environment, and one for the test cases
    assert len(comments) == 4 and any("test cases" in b.lower() for b in comments)
    assert all("Enrolment call" in body for body in bodies)
    assert {b.splitlines()[0] for b in bodies} == {
        f"<!-- syncer-report:env={env} -->" for env in (EU, "production-us", UK)
    }
    statuses = github.statuses(pull["head"]["sha"])
    assert set(statuses) == {"syncer/production-eu", "syncer/production-us", "syncer/production-uk"}
    assert {s["state"] for s in statuses.values()} == {"success"}
    assert statuses["syncer/production-eu"]["description"].startswith("Nothing needs a person.")
    assert "#issuecomment-" in statuses["syncer/production-eu"]["target_url"]

    report = jobs["report"]
    line = _title_line(world, "retitle", "Enrolment call")
    changed = [
        a
        for a in report.annotations
        if a.properties.get("file") == f"flows/{BP}/flow.yaml" and a.level == "notice"
    ]
    assert changed and changed[0].properties["line"] == str(line), report.log()
    assert "production-eu" in changed[0].properties["title"]
    assert "Enrolment call" in changed[0].message
    outputs = next(s for s in report.steps if s.name == "syncer report").outputs
    assert outputs["changes"] == "true" and outputs["needs-person"] == "false"
    assert '"production-eu"' in outputs["summary"] and outputs["exit-code"] == "0"
    assert Path(outputs["report-path"]).name == "syncer-report.md"
    assert "syncer-report:env=production-eu" in report.summary  # the job summary
    everything = "".join(comments) + "".join(j.log() + j.summary for j in jobs.values())
    assert CANARY not in everything and ENV_CANARY not in everything
    assert world.keys[EU]["reader"] not in everything and TOKEN not in everything


def test_a_pull_request_while_production_has_drift(
    world: Landscape, github: FakeGitHub, paths: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    world.edit(EU, BP, retitle("HOTFIX: call first"), hotfix=True)
    _git(world.repo, "checkout", "-q", "-b", "description")
    world.edit("sandbox", BP, lambda d: d["metadata"].update(description="Reviewed wording."))
    assert world.syncer("export", "--env", "sandbox", "--commit").code == 0
    pull, jobs = _pull_request_run(world, github, paths, tmp_path, "description")

    assert jobs["report"].result == "success", jobs["report"].log()  # news, not a broken build
    statuses = github.statuses(pull["head"]["sha"])
    assert statuses["syncer/production-eu"]["state"] == "failure"
    assert statuses["syncer/production-eu"]["description"].startswith("Needs a person: 1 conflict")
    assert statuses["syncer/production-us"]["state"] == "success"
    eu = next(b for b in github.comment_bodies(pull["number"]) if "env=production-eu" in b)
    assert "dr.jansen" in eu and "HOTFIX: call first" in eu and "as a hotfix" in eu
    warnings = [a for a in jobs["report"].annotations if a.level == "warning"]
    assert any("dr.jansen" in a.message for a in warnings)


def test_a_pull_request_from_a_fork_is_validated_but_not_reported(
    world: Landscape, github: FakeGitHub, paths: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _git(world.repo, "checkout", "-q", "-b", "fork-change")
    world.edit("sandbox", BP, retitle("From a fork"))
    assert world.syncer("export", "--env", "sandbox", "--commit").code == 0
    pull = _open_pull(world, github, "fork-change")
    event = {"pull_request": {**{k: v for k, v in pull.items() if k != "merge"}}}
    event["pull_request"]["head"]["repo"] = {"full_name": "someone/care-flows"}
    runner = _runner(
        world, github, paths, "pull_request", event, pull["merge"], "refs/pull/1/merge", {}
    )
    jobs = _by_job(runner.run(EXAMPLES / "pull-request.yml"))
    assert jobs["validate"].result == "success", jobs["validate"].log()
    assert jobs["report"].result == "skipped"
    assert (
        github.comment_bodies(pull["number"]) == [] and github.statuses(pull["head"]["sha"]) == {}
    )


def test_a_bad_flow_fails_validation_with_an_annotation_on_its_line(
    world: Landscape, github: FakeGitHub, paths: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _git(world.repo, "checkout", "-q", "-b", "broken")
    path = world.repo / "flows" / BP / "flow.yaml"
    lines = path.read_text("utf-8").splitlines()
    number = next(n for n, line in enumerate(lines) if line.strip().startswith("title:")) + 1
    lines[number - 1] = lines[number - 1].replace("title:", "titel:")
    path.write_text("\n".join(lines) + "\n", "utf-8")
    world.commit_all("typo")
    _, jobs = _pull_request_run(world, github, paths, tmp_path, "broken")
    assert jobs["validate"].result == "failure" and jobs["report"].result == "skipped"
    errors = [a for a in jobs["validate"].annotations if a.level == "error"]
    assert any(
        a.properties.get("file") == f"flows/{BP}/flow.yaml"
        and a.properties.get("line") == str(number)
        for a in errors
    ), jobs["validate"].log()


def test_push_to_main_reconciles_each_environment_and_backports_drift(
    world: Landscape, github: FakeGitHub, paths: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    world.edit(EU, BP, lambda d: d["spec"]["tracks"][0].update(title="EU hotfix"), hotfix=True)
    world.edit("sandbox", KNEE, lambda d: d["metadata"].update(description="Merged wording."))
    assert world.syncer("export", "--env", "sandbox", "--commit").code == 0
    _git(world.repo, "push", "-q", "origin", "main")
    sha = _git(world.repo, "rev-parse", "main").strip()
    secrets = {
        f"SYNCER_{env.upper().replace('-', '_')}_API_KEY": world.keys[env]["syncer-ci"]
        for env in (EU, "production-us", UK)
    }
    runner = _runner(
        world, github, paths, "push", {"ref": "refs/heads/main"}, sha, "refs/heads/main", secrets
    )
    jobs = _by_job(runner.run(EXAMPLES / "reconcile.yml"))
    assert set(jobs) == {f"reconcile[{e}]" for e in (EU, "production-us", UK)}
    for name, job in jobs.items():
        assert job.result == "success", f"{name}:\n{job.log()}"
    for env in (EU, "production-us"):
        assert world.live(env, KNEE)["definition"]["metadata"]["description"] == "Merged wording."
    assert world.live(EU, BP)["definition"]["spec"]["tracks"][0]["title"] == "EU hotfix"  # kept
    reconcile_eu = next(s for s in jobs[f"reconcile[{EU}]"].steps if s.name == "syncer reconcile")
    assert (
        reconcile_eu.outputs["needs-person"] == "true" and reconcile_eu.outputs["exit-code"] == "3"
    )
    backports = [p for p in github.pulls.values() if p["head"]["ref"].startswith("backport/")]
    assert len(backports) == 1 and "production-eu" in backports[0]["head"]["ref"]
    branches = _git(_origin(world), "branch", "--list", "backport/*")
    assert backports[0]["head"]["ref"] in branches


def test_the_scheduled_export_opens_a_pull_request(
    world: Landscape, github: FakeGitHub, paths: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    world.edit("sandbox", BP, retitle("Exported overnight"))
    _git(world.repo, "push", "-q", "origin", "main")
    sha = _git(world.repo, "rev-parse", "main").strip()
    secrets = {"SYNCER_SANDBOX_API_KEY": world.keys["sandbox"]["reader"]}
    runner = _runner(
        world,
        github,
        paths,
        "schedule",
        {"schedule": "0 6 * * 1-5"},
        sha,
        "refs/heads/main",
        secrets,
    )
    jobs = _by_job(runner.run(EXAMPLES / "export.yml"))
    assert jobs["export"].result == "success", jobs["export"].log()
    (pull,) = github.pulls.values()
    assert pull["head"]["ref"].startswith("export/sandbox-") and pull["base"]["ref"] == "main"
    assert BP in pull["body"]
    shown = _git(_origin(world), "show", f"{pull['head']['ref']}:flows/{BP}/flow.yaml")
    assert "Exported overnight" in shown


def test_reconcile_with_allowed_signers_writes_no_unsigned_commit(
    world: Landscape, github: FakeGitHub, paths: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    world.edit("sandbox", KNEE, lambda d: d["metadata"].update(description="Unsigned wording."))
    assert world.syncer("export", "--env", "sandbox", "--commit").code == 0
    _git(world.repo, "push", "-q", "origin", "main")
    sha = _git(world.repo, "rev-parse", "main").strip()
    secrets = {
        "SYNCER_PRODUCTION_EU_API_KEY": world.keys[EU]["syncer-ci"],
        "SYNCER_ALLOWED_SIGNERS": "alice@example.org ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
    }
    runner = _runner(world, github, paths, "push", {}, sha, "refs/heads/main", secrets)
    jobs = _by_job(runner.run(EXAMPLES / "reconcile.yml"))
    eu = jobs[f"reconcile[{EU}]"]
    assert eu.result == "failure"  # an unsigned commit is refused, loudly
    assert "not verified" in eu.log() and "alice@example.org" not in eu.summary
    live = world.live(EU, KNEE)["definition"]["metadata"]["description"]
    assert live != "Unsigned wording."  # nothing was written
    assert not any(p.name.endswith("allowed-signers") for p in world.repo.rglob("*"))
