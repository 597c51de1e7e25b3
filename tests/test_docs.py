"""The README stays true to the code (sqlite-utils' test_docs habit): the architecture table lists exactly
the modules that exist, the exit-code table is the code's, the modules called pure import no I/O library,
no command imports another, the top level reads in one screen, the command reference names every command
and only flags that exist, and every `make` target it names is in the Makefile."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from syncer import cli
from syncer.errors import EXIT_CODES

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "syncer"
README = (ROOT / "README.md").read_text("utf-8")
IO_LIBRARIES = ("httpx", "git", "sqlite3", "subprocess", "multiprocessing", "socket")
PURE = (
    "syncer.model",
    "syncer.canonical",
    "syncer.plan",
    "syncer.plan.diff",
    "syncer.plan.names",
    "syncer.plan.values",
    "syncer.plan.write",
    "syncer.report",
    "syncer.report.checklist",
    "syncer.report.ids",
    "syncer.validate",
    "syncer.awell",
    "syncer.golive",
    "syncer.testcases",
    "syncer.golive.checks",
    "syncer.backport",
)


def _section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def _modules() -> set[str]:
    """Every module of the package as the README names it: ``plan.py``, ``report/``, ``report/text.py``."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if "__pycache__" in rel.parts or rel.parts[0] == "schemas" or len(rel.parts) > 2:
            continue
        if rel.name == "__init__.py":
            if len(rel.parts) == 2:
                found.add(f"{rel.parts[0]}/")
        elif rel.name != "__main__.py":
            found.add(rel.as_posix())
    commands = {f"commands/{name.replace('-', '_')}.py" for name in cli.COMMANDS}
    return found - commands  # each command's module is the command reference's business


def test_the_architecture_table_lists_exactly_the_modules_that_exist() -> None:
    listed = set(re.findall(r"^\| `([^`]+)` \|", _section("Architecture"), re.M))
    assert listed == _modules(), (
        f"missing from the README: {sorted(_modules() - listed)}; "
        f"listed but absent: {sorted(listed - _modules())}"
    )


def test_the_top_level_reads_in_one_screen() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "syncer"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    top = {path.split("/")[1] for path in tracked if path.count("/") >= 1}
    # About 25 (issue 12): a new job joins a family folder before it adds a line here.
    assert 0 < len(top) <= 25, sorted(top)


def test_the_exit_code_table_is_the_codes() -> None:
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", _section("Command reference"), re.M)
    assert {int(code): text for code, text in rows} == EXIT_CODES


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_no_io_library(module: str) -> None:
    probe = f"import sys, json, {module}; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        ).stdout
    )
    assert not [name for name in IO_LIBRARIES if name in loaded]


def _imports(path: Path) -> set[str]:
    """Modules ``path`` imports, absolute, relative ones resolved."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_no_command_imports_another_and_none_is_found_by_string() -> None:
    commands = {f"syncer.commands.{name.replace('-', '_')}" for name in cli.COMMANDS}
    for path in (PACKAGE / "commands").glob("*.py"):
        own = f"syncer.commands.{path.stem}"
        assert not (_imports(path) & (commands - {own})), path.name
    assert "importlib" not in _imports(PACKAGE / "cli.py")


def test_the_tenant_server_imports_neither_client_nor_plan_nor_reconcile() -> None:
    """So that a test of the client against the reference tenant cannot pass because both share a bug."""
    probe = "import sys, json, syncer.tenant.app; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        ).stdout
    )
    shared = [
        name
        for name in loaded
        if name.split(".")[:2]
        in (["syncer", "client"], ["syncer", "plan"], ["syncer", "reconcile"])
    ]
    assert shared == []


def _subparsers(parser: Any) -> dict[str, Any]:
    """The sub-commands of an argparse parser, by name."""
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


_SAID_ONCE = {"--repo", "--env", "--output", "--log-format"}  # in the paragraph above the table


def _reference_rows() -> list[tuple[str, str]]:
    """(command, its synopsis) of each row of the README's command reference."""
    rows = []
    for line in _section("Command reference").splitlines():
        match = re.match(r"\| `syncer ([a-z-]+(?: serve)?)(.*?)`", line)
        if match:
            rows.append((match.group(1), match.group(2)))
    return rows


def test_the_command_reference_names_every_command_and_only_flags_that_exist() -> None:
    commands = _subparsers(cli.build_parser())
    rows = _reference_rows()
    named = {name.split()[0] for name, _synopsis in rows}
    assert named == set(commands), "the command reference and the parser disagree"
    for name, synopsis in rows:
        parser = commands[name.split()[0]]
        if " " in name:  # `tenant serve`
            parser = _subparsers(parser)[name.split()[1]]
        accepted = {option for action in parser._actions for option in action.option_strings}
        named_flags = set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", synopsis))
        for flag in named_flags:
            assert flag in accepted, f"`syncer {name}`: README names {flag}, the parser has not"
        unnamed = [
            max(action.option_strings, key=len)
            for action in parser._actions
            if action.option_strings
            and action.help != "==SUPPRESS=="  # a flag for tests, hidden from --help
            and not set(action.option_strings) & (named_flags | _SAID_ONCE | {"--help"})
        ]
        assert not unnamed, f"`syncer {name}`: the README does not name {sorted(unnamed)}"


def test_every_make_target_the_readme_names_exists() -> None:
    makefile = (ROOT / "Makefile").read_text("utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    named = set(re.findall(r"`make ([a-z][a-z-]*)", README))
    assert named <= targets, named - targets
