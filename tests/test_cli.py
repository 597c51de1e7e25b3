"""The command line: every command's --help works and is documented; errors map to exit codes."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from syncer import cli
from syncer.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [command, "serve", "--help"] if command == "tenant" else [command, "--help"]
    assert cli.main(argv) == 0
    assert "usage: syncer" in capsys.readouterr().out


@pytest.mark.parametrize("command", [c for c in _commands() if c != "demo"])
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"syncer {command}" in (ROOT / "README.md").read_text("utf-8")


def test_every_command_is_in_the_static_table() -> None:
    assert sorted(cli.COMMANDS) == _commands()
    for command, run in cli.COMMANDS.items():
        module = command.replace("-", "_")
        assert run.__module__ == f"syncer.commands.{module}" and run.__name__ == "run"


def test_usage_error_is_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["no-such-command"]) == 1
    assert cli.main(["plan", "--output", "yaml"]) == 1


def test_user_error_is_one_paragraph_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["plan", "--repo", str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def test_bug_is_exit_4_with_traceback_and_interrupt_is_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(_args: argparse.Namespace) -> int:
        raise RuntimeError("unexpected")

    monkeypatch.setitem(cli.COMMANDS, "validate", boom)
    assert cli.main(["validate"]) == 4
    err = capsys.readouterr().err
    assert "Traceback" in err and "bug" in err

    def interrupted(_args: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "validate", interrupted)
    assert cli.main(["validate"]) == 130

    def refused(_args: argparse.Namespace) -> int:
        raise ConfigError("missing thing; do this")

    monkeypatch.setitem(cli.COMMANDS, "validate", refused)
    assert cli.main(["validate"]) == 1


def test_publish_help_says_one_environment(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["publish", "--help"]) == 0
    out = capsys.readouterr().out.splitlines()
    env_help = next(line for line in out if line.strip().startswith("--env NAME"))
    assert "exactly one" in env_help and "repeatable" not in env_help


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--port", "99999"],
        ["demo", "--serve", "99999"],
        ["tenant", "serve", "--name", "t", "--kind", "sandbox", "--port", "-1", "--db", "t.db"],
        ["serve", "--port", "eighty"],
    ],
)
def test_every_port_is_checked_before_anything_runs(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by a newcomer's walk-through: `serve --port 99999` ended in a traceback (exit 4)."""
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "--port" in err or "--serve" in err
    assert "Traceback" not in err


def test_serve_keeps_its_run_history_outside_the_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/operations.md says the database is never inside the repository; it was accepted."""
    import git

    git.Repo.init(tmp_path)
    code = cli.main(["serve", "--repo", str(tmp_path), "--db", str(tmp_path / "serve.db")])
    assert code == 1
    err = capsys.readouterr().err
    assert "inside the repository" in err and "Traceback" not in err
    assert not (tmp_path / "serve.db").exists()


def test_an_error_quoting_a_value_cannot_drive_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by probing: an id holding ESC reached stderr raw (terminal escapes through a message)."""
    flow = tmp_path / "flows" / "x" / "flow.yaml"
    flow.parent.mkdir(parents=True)
    flow.write_text('"ti\\u001b[2Jtle": x\n', "utf-8")  # an unknown field is named
    assert cli.main(["validate", "--repo", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b" in err
