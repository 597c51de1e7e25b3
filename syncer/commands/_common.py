"""What the commands share: the repository, writing output, colour, confirmation and exit codes.

Commands hold no library logic: each unpacks its arguments once and passes plain values to the library.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..errors import Problem, UsageError
from ..model import EnvironmentPlan
from ..report import render_json, render_markdown, render_text
from ..workspace import Workspace
from ..yamlio import write_text_atomically


def workspace(repo: str, ref: str | None = None) -> Workspace:
    return Workspace(Path(repo), ref)


def color_enabled() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def render(plans: Sequence[EnvironmentPlan], output: str, overwriting: str | None = None) -> str:
    """The plans as ``json``, ``markdown`` or ``text`` (coloured on a terminal); ``overwriting``
    names the flow whose drift this run overwrites."""
    if output == "json":
        return render_json(list(plans))
    if output == "markdown":
        return render_markdown(list(plans), overwriting=overwriting)
    return render_text(list(plans), color=color_enabled(), overwriting=overwriting)


def emit(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def say(text: str) -> None:
    """A line for the person running the command (stderr), beside the data on stdout."""
    print(text, file=sys.stderr)


def say_warnings(warnings: Iterable[Problem]) -> None:
    """Each warning with its location (a draft's unfinished parts): said, never a reason to stop."""
    for warning in warnings:
        say(f"warning: {warning}")


def say_drafts(ws: Workspace, plans: Sequence[EnvironmentPlan]) -> None:
    """The warnings of every Git flow the plans cover, once per flow (SPEC 3: drafts are drafts)."""
    flows = ws.flows
    for key in sorted({f.key for plan in plans for f in plan.flows}):
        if key in flows:
            say_warnings(flows[key].warnings)


def output_file(path: str, option: str) -> Path:
    """The file an option names, refused before any work when it cannot be written (a missing
    folder, a folder), so that a long plan or run is not lost at its end."""
    target = Path(path)
    if target.is_dir():
        raise UsageError(
            f"{option} {path} is a folder; name a file, e.g. {option} {target / 'plan.json'}."
        )
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(
            f"{option} {path}: the folder {folder} does not exist; create it (mkdir -p {folder}) "
            "or name a file in an existing folder. Nothing was done."
        )
    return target


def write_output(path: str, option: str, text: str) -> None:
    """Write ``text`` to the file ``option`` names, atomically; an error says what was not saved."""
    target = output_file(path, option)
    try:
        write_text_atomically(target, text)
    except OSError as exc:
        raise UsageError(
            f"cannot write {option} {path}: {exc.strerror or exc}; the output above was not saved "
            "there. Choose a file you can write."
        ) from None


def write_json(path: str, data: object, option: str = "--out") -> None:
    write_output(path, option, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def confirm(question: str, yes: bool) -> bool:
    """Ask on a terminal; ``--yes`` or no terminal means yes."""
    if yes or not sys.stdin.isatty():
        return True
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def exactly_one(values: Sequence[str], what: str, why: str) -> str:
    if len(dict.fromkeys(values)) != 1:
        raise UsageError(f"{why}: pass exactly one {what}.")
    return values[0]
