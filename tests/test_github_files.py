"""The GitHub files (action.yml, examples/github/*.yml, .pre-commit-hooks.yaml) against syncer itself:
every syncer command line in them parses with syncer's own argument parser, every workflow pins its
actions and asks for the least it needs, and secrets come only from ``secrets.*``."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from syncer import cli
from tests.actions_runner import load_yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / "examples" / "github").glob("*.yml"))
ACTION = load_yaml(ROOT / "action.yml")
# Values an expression stands for, by what it names (a number, a commit, an environment, ...).
SAMPLES = {
    "number": "12",
    "sha": "0123456789abcdef0123456789abcdef01234567",
    "environment": "production-eu",
    "name": "export/sandbox-2026-01-01",
}


def _sample(expression: str) -> str:
    last = expression.strip().split(".")[-1]
    return SAMPLES.get(last, "x")


def _expand(text: str) -> str:
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: _sample(m.group(1)), text)


def _steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    if "jobs" in data:
        return [s for job in data["jobs"].values() for s in job.get("steps") or []]
    return list(data["runs"]["steps"])


def _command_lines() -> list[tuple[str, list[str]]]:
    """Every syncer invocation: the action's ``with: {command, args}`` and ``syncer ...`` in scripts."""
    found = []
    for path in [*WORKFLOWS, ROOT / "action.yml"]:
        for step in _steps(load_yaml(path)):
            given = step.get("with") or {}
            if str(step.get("uses", "")).split("@")[0].endswith("/syncer"):
                argv = [given["command"], *shlex.split(_expand(str(given.get("args", ""))))]
                found.append((f"{path.name}: {step.get('name')}", argv))
            for line in str(step.get("run") or "").splitlines():
                match = re.match(r"\s*syncer\s+(.*)", line)
                if match:
                    found.append(
                        (f"{path.name}: {line.strip()}", shlex.split(_expand(match.group(1))))
                    )
    hook = load_yaml(ROOT / ".pre-commit-hooks.yaml")
    for entry in hook:
        found.append(
            (
                f".pre-commit-hooks.yaml: {entry['id']}",
                [*entry["entry"].split()[1:], "flows/x/flow.yaml"],
            )
        )
    return found


def test_the_files_hold_syncer_command_lines() -> None:
    commands = {argv[0] for _where, argv in _command_lines()}
    assert {"validate", "test", "report", "reconcile", "export"} <= commands


@pytest.mark.parametrize("where, argv", _command_lines(), ids=lambda value: str(value)[:60])
def test_every_command_line_parses(where: str, argv: list[str]) -> None:
    extra = []
    if argv[0] in ("validate", "plan", "report") and "--output" not in argv:
        extra = ["--output", "github"]  # what the action adds
    try:
        args = cli.build_parser().parse_args([*argv, *extra])
    except SystemExit as exc:
        pytest.fail(f"{where}: `syncer {' '.join(argv)}` does not parse (exit {exc.code})")
    assert args.command == argv[0]


def test_the_action_adds_only_options_its_commands_know() -> None:
    script = next(s["run"] for s in ACTION["runs"]["steps"] if s.get("id") == "run")
    parser = cli.build_parser()
    for command in ("validate", "plan", "report"):
        parser.parse_args([command, "--output", "github"])
    parser.parse_args(["report", "--out", "/tmp/x.md"])
    parser.parse_args(["reconcile", "--report", "/tmp/x.md"])
    assert "--output github" in script and "--out " in script and "--report " in script


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_pin_actions_and_ask_for_the_least(path: Path) -> None:
    data = load_yaml(path)
    assert data["permissions"] == {}, "the workflow grants nothing by default"
    for job_id, job in data["jobs"].items():
        assert "permissions" in job, f"{job_id} says which permissions it needs"
        assert "write-all" not in str(job["permissions"]) and "admin" not in str(job["permissions"])
        for step in job["steps"]:
            if "uses" in step:
                assert re.search(r"@[0-9a-f]{40}$", step["uses"]), f"{step['uses']} is not pinned"
    triggers = data.get("on") or data.get(True)
    assert "pull_request_target" not in (triggers or {})


def test_secrets_come_only_from_secrets() -> None:
    for path in [*WORKFLOWS, ROOT / "action.yml"]:
        text = path.read_text("utf-8")
        for name, value in re.findall(
            r"^\s+([A-Z][A-Z0-9_]*(?:KEY|TOKEN|SECRET)[A-Z0-9_]*):\s*(.+)$", text, re.M
        ):
            assert re.fullmatch(r"\$\{\{ secrets\.[A-Z0-9_]+ \}\}", value.strip()), (
                f"{path.name}: {name}"
            )


def test_the_pull_request_workflow_never_runs_the_pull_requests_syncer() -> None:
    data = load_yaml(ROOT / "examples" / "github" / "pull-request.yml")
    for job in data["jobs"].values():
        for step in job["steps"]:
            uses = str(step.get("uses", ""))
            assert not uses.startswith("./"), "an action from the pull request's own checkout"
            assert "pip install" not in str(step.get("run", "")), "code installed from the checkout"
    report = data["jobs"]["report"]
    assert "head.repo.full_name == github.repository" in report["if"]
    assert any(
        'git checkout "$BASE_SHA" -- environments/' in str(s.get("run")) for s in report["steps"]
    )
