"""Where test-case files are: ``flows/<key>/tests/*.yaml`` in the work tree or at a Git ref.

With ``imported`` (an Awell export's ``validation.yaml``), the only modules of ``syncer.testcases`` that
read files. What ``syncer test CASES...`` names is resolved here too: a test file, a flow's folder or
its ``tests/`` folder, or a case title; and a pull request's cases are run at its base and its head.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import vcs, yamlio
from ..errors import Problem, SyncError, UsageError, ValidationError
from ..workspace import Workspace
from .cases import FLOWS_DIR, SUFFIXES, TESTS_DIR, is_case_file, tests_folder
from .suite import Review, SourceFile, Suite, compare, run_suite

if TYPE_CHECKING:
    import git


@dataclass
class Selection:
    """The files to run, the case titles to keep (none: all), and what could not be read."""

    files: list[SourceFile] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def worktree_files(root: Path, keys: Iterable[str]) -> Selection:
    """Every test-case file of the flows ``keys`` in the work tree at ``root``."""
    selection = Selection()
    for key in keys:
        folder = root / tests_folder(key)
        if folder.is_dir():
            for path in sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file()):
                _read(root, path, key, selection)
    return selection


def ref_files(repo: git.Repo, ref: str, keys: Iterable[str]) -> list[SourceFile]:
    """Every test-case file of the flows ``keys`` at Git ``ref`` (unreadable ones are skipped).

    One listing of ``flows/`` finds them, so a repository of a thousand flows costs one git call, and
    only the test files are read.
    """
    wanted = set(keys)
    found = []
    for path in vcs.paths_at(repo, ref, FLOWS_DIR):
        if is_case_file(path) and path.split("/")[1] in wanted:
            data = vcs.file_at(repo, ref, path)
            try:
                text = yamlio.decode(data or b"", path)
            except ValidationError:
                continue
            found.append(SourceFile(path, path.split("/")[1], text))
    return sorted(found, key=lambda f: f.path)


def suite_at(ws: Workspace) -> Suite:
    """Every case of the repository as ``ws`` reads it (its work tree, or its Git ref), run.

    Only the flows that have test files are loaded. Raises ``SyncError`` when the flows are invalid.
    """
    flows = ws.flows
    keys = sorted(flows)
    if ws.ref is None or ws.repo is None:
        selection = worktree_files(ws.root, keys)
    else:
        selection = Selection(files=ref_files(ws.repo, ws.ref, keys))
    documents = {f.flow_key: flows[f.flow_key].document for f in selection.files}
    suite = run_suite(documents, selection.files)
    suite.problems[:0] = selection.problems
    return suite


def review(head: Workspace, base: Workspace, base_ref: str) -> Review:
    """The head's cases run, and compared with the same cases run at ``base``: which changed outcome.

    A base that cannot be read (invalid flows, no such ref) leaves the comparison empty and says so;
    it never hides the head's results.
    """
    results = suite_at(head)
    try:
        before = suite_at(base)
    except SyncError as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        return Review(base_ref, results, [], f"the cases at `{base_ref}` could not be run: {first}")
    return Review(base_ref, results, compare(before, results))


def _read(root: Path, path: Path, key: str, selection: Selection, explicit: bool = False) -> None:
    """Read one file; a file found in the repository that links outside it is refused (not one named
    on the command line)."""
    shown = _display(root, path)
    if not explicit and not path.resolve().is_relative_to(root.resolve()):
        selection.problems.append(
            Problem(shown, "this test file leads outside the repository; it was not read.")
        )
        return
    try:
        selection.files.append(SourceFile(shown, key, yamlio.read_text(path, shown)))
    except ValidationError as exc:
        selection.problems.extend(exc.problems)


def _display(root: Path, path: Path) -> str:
    try:
        return path.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        return str(path)


def select(
    root: Path, keys: Sequence[str], named: Sequence[str], chosen_flows: Sequence[str]
) -> Selection:
    """Resolve ``syncer test``'s CASES: paths (files or folders) and case titles; none means every file.

    ``keys`` are the flows to look in; ``chosen_flows`` the ones ``--flow`` named, which a file outside
    ``flows/<key>/tests/`` (an Awell ``validation.yaml`` anywhere) needs to know which flow it tests.
    """
    paths = [n for n in named if (root / n).exists() or Path(n).exists()]
    titles = [n for n in named if n not in paths]
    if not paths:
        selection = worktree_files(root, keys)
        selection.titles = titles
        return selection
    selection = Selection(titles=titles)
    for name in paths:
        path = root / name if (root / name).exists() else Path(name)
        _select_path(root, path, keys, chosen_flows, selection)
    return selection


def _select_path(
    root: Path, path: Path, keys: Sequence[str], chosen: Sequence[str], selection: Selection
) -> None:
    relative = _display(root, path)
    parts = relative.split("/")
    if path.is_dir():
        if relative in (".", FLOWS_DIR):
            folder_keys: Sequence[str] = keys
        elif len(parts) in (2, 3) and parts[0] == FLOWS_DIR and parts[2:] in ([], [TESTS_DIR]):
            folder_keys = [parts[1]]
        else:
            raise UsageError(
                f"{relative} is not a flow's folder; name flows/<key>, flows/<key>/tests or a test file."
            )
        found = worktree_files(root, folder_keys)
        selection.files += found.files
        selection.problems += found.problems
    elif is_case_file(relative):
        _read(root, path, parts[1], selection, explicit=True)
    elif len(chosen) == 1:
        _read(root, path, chosen[0], selection, explicit=True)
    else:
        raise UsageError(
            f"{relative} is not in flows/<key>/tests/, so syncer cannot tell which flow it tests. "
            "Name the flow with exactly one --flow KEY."
        )
