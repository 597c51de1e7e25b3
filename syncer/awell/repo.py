"""Imported care flows into a syncer repository: from an export folder, or from the Git repository
Awell Studio pushes to — at one ref, or every published version replayed as one commit each.

Everything is read, converted and checked before anything is written, so bad input changes nothing:
each flow file is checked exactly as ``syncer validate`` checks it, and a value syncer cannot keep is an
error naming the export file, the component's ``_key`` and the field (``awell.flow_file``). A flow already
in the repository (by definition id) keeps its key when its title changes. Git is reached only through
``vcs``; the commit made for an imported version records where it came from (``provenance``), and
``--history`` skips what an earlier run already committed, so a rerun after a failure converges.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import vcs, yamlio
from ..errors import EXIT_ERROR, GitError, Problem, RefusedError, UsageError, ValidationError
from ..model import FLOW_KEY_PATTERN, FLOWS_DIR
from ..testcases.cases import SUFFIXES, load, tests_folder
from ..testcases.imported import NAMES as TEST_FILES
from ..testcases.imported import ImportedCases, cases_of_export, cases_of_text
from ..workspace import ensure_schemas
from . import FlowFile, ImportResult, flow_file, to_canonical
from .folder import COMPONENT_FILE, ExportFolder, export_roots, find_exports, read_export, read_tree
from .provenance import SOURCE_COMMIT, Provenance, commit_message, imported_commits, parse_publish

if TYPE_CHECKING:
    import git


@dataclass
class Imported:
    """One converted, checked flow, and where it came from."""

    result: ImportResult
    file: FlowFile
    source: str  # the export folder, or REPO@COMMIT:folder
    ignored: list[str] = field(default_factory=list)
    tests: ImportedCases | None = None  # Awell's validation.yaml, for flows/<key>/tests/

    @property
    def key(self) -> str:
        return str(self.result.document["metadata"]["key"])

    @property
    def definition_id(self) -> str:
        return str(self.result.document["metadata"]["definition_id"])


@dataclass
class Version:
    """One source commit imported by ``import_from_git``: its flows and the commit syncer made."""

    provenance: Provenance
    flows: list[Imported]
    commit: str | None  # None: nothing to commit (the same files were there already)
    copied: list[str] = field(default_factory=list)


# --- from a folder -------------------------------------------------------------------------------------


def import_folder(
    path: Path, repo: Path, key: str | None, *, force: bool, with_tests: bool = True
) -> list[Imported]:
    """Convert every export folder at ``path`` and write its flow file (and its test cases, unless
    not ``with_tests``); nothing is written unless all of them convert and check. An existing flow
    or test file is only replaced with ``force``."""
    exports = find_exports(path)
    _one_key_for_one_flow(key, len(exports))
    known = known_flows(repo)
    imported = []
    for folder in exports:
        flow = _convert(read_export(folder), str(folder), key, known)
        if with_tests:
            flow.tests = cases_of_export(folder, flow.key, flow.result.document)
            _not_read(flow)
        imported.append(flow)
    _check_distinct(imported)
    for flow in imported:
        _check_target(repo, flow, force=force, known=known)
        _check_tests_target(repo, flow.tests, replace=force)
        _check_kept_tests(repo, flow)
    yamlio.refuse_links_out(repo, [p for flow in imported for p in _targets(flow)])
    for flow in imported:
        _write(repo, flow)
    return imported


def _not_read(flow: Imported) -> None:
    if flow.tests is not None:  # REPO@COMMIT:validation.yaml from Git: the file's own name
        read = flow.tests.source.name.rsplit(":", 1)[-1]
        flow.ignored = [name for name in flow.ignored if name != read]


def _targets(flow: Imported) -> list[Path]:
    """The repository-relative files ``_write`` writes for ``flow``."""
    return [Path(flow.file.relative), *([flow.tests.relative] if flow.tests else [])]


def _write(repo: Path, flow: Imported) -> list[str]:
    """Write the flow's file (and its test cases); returns the repository-relative paths."""
    yamlio.write_text_atomically(repo / flow.file.relative, flow.file.text)
    if flow.tests is None:
        return [flow.file.relative]
    yamlio.write_text_atomically(repo / flow.tests.relative, flow.tests.text)
    return [flow.file.relative, flow.tests.relative.as_posix()]


def _check_tests_target(repo: Path, tests: ImportedCases | None, *, replace: bool) -> None:
    """A test file already in the repository is only replaced when asked (it may hold local cases)."""
    if tests is None:
        return
    target = repo / tests.relative
    if target.exists() and not replace and target.read_bytes() != tests.text.encode("utf-8"):
        raise RefusedError(
            f"{tests.relative.as_posix()} already exists; nothing was written. Pass --force to"
            " overwrite it, or --without-tests to import the flow alone.",
            exit_code=EXIT_ERROR,
        )


def _check_kept_tests(repo: Path, flow: Imported) -> None:
    """The test files the import leaves in place must still fit the imported flow (``validate``
    checks them against it): a case naming a step the new version dropped stops the import."""
    replaced = flow.tests.relative.as_posix() if flow.tests is not None else None
    folder = repo / tests_folder(flow.key)
    problems: list[Problem] = []
    for path in sorted(folder.glob("*")) if folder.is_dir() else []:
        relative = f"{tests_folder(flow.key)}/{path.name}"
        if path.suffix not in SUFFIXES or relative == replaced or not path.is_file():
            continue
        try:
            load(yamlio.read_text(path, relative), relative, flow.key, flow.result.document)
        except ValidationError as exc:
            problems += exc.problems
    if problems:
        said = Problem(
            tests_folder(flow.key),
            f"these test cases no longer fit the imported version of `{flow.key}` (from "
            f"{flow.source}); nothing was written.",
            hint="Update or remove them (or import the version's own tests: leave out "
            "--without-tests), then import again.",
        )
        raise ValidationError([*problems, said])


def _convert(folder: ExportFolder, source: str, key: str | None, known: dict[str, str]) -> Imported:
    result = to_canonical(folder.components, key=key, source=source, known_keys=known)
    return Imported(result, flow_file(result, source), source, folder.ignored)


def _one_key_for_one_flow(key: str | None, count: int) -> None:
    if key is not None and count > 1:
        raise UsageError(
            f"--key names one flow, but the source holds {count} care flows; import without --key"
            " (each gets the key it already has in the repository, or a slug of its title)."
        )


def _check_distinct(imported: Sequence[Imported]) -> None:
    """Two export folders must not be the same care flow, nor land in the same file."""
    seen: dict[str, str] = {}
    for flow in imported:
        for name in (flow.definition_id, flow.key):
            if name in seen and seen[name] != flow.source:
                raise ValidationError(
                    [
                        Problem(
                            flow.source,
                            f"is care flow {flow.definition_id} ({flow.key}), like {seen[name]};"
                            " nothing was written.",
                            hint="Import one of them, or give each care flow its own folder.",
                        )
                    ]
                )
            seen[name] = flow.source


def _check_target(repo: Path, flow: Imported, *, force: bool, known: dict[str, str]) -> None:
    """Refuse to overwrite a flow without --force, and to import one care flow under two keys."""
    target = repo / flow.file.relative
    if target.exists() and not force:
        raise RefusedError(
            f"{flow.file.relative} already exists; nothing was written. Pass --force to overwrite"
            " it, or --key to import under another key.",
            exit_code=EXIT_ERROR,
        )
    other = known.get(flow.definition_id)
    if other is not None and other != flow.key:
        raise RefusedError(
            f"care flow {flow.definition_id} is already in the repository as"
            f" {FLOWS_DIR}/{other}/flow.yaml; nothing was written. Import it with --key {other}"
            " --force to update that file.",
            exit_code=EXIT_ERROR,
        )


def known_flows(repo: Path) -> dict[str, str]:
    """The flows of the repository's work tree: definition id → key."""
    known: dict[str, str] = {}
    for path in sorted((repo / FLOWS_DIR).glob("*/flow.yaml")):
        if not FLOW_KEY_PATTERN.match(path.parent.name):
            continue
        try:
            data = yamlio.load_file(path).data
        except ValidationError:
            continue  # an unreadable neighbour is `syncer validate`'s business, not the importer's
        metadata = data.get("metadata") if isinstance(data, dict) else None
        value = metadata.get("definition_id") if isinstance(metadata, dict) else None
        if isinstance(value, str):
            known.setdefault(value, path.parent.name)
    return known


# --- from Awell's Git repository ---------------------------------------------------------------------


def import_from_git(
    location: str,
    ref: str | None,
    repo: Path,
    key: str | None,
    *,
    history: bool,
    with_tests: bool = True,
    progress: Callable[[Version], None] = lambda version: None,
) -> list[Version]:
    """Import the export(s) of ``location`` at ``ref`` (default: its HEAD) into the syncer repository
    ``repo`` and commit them; with ``history``, every published version reachable from ``ref``, oldest
    first, one commit each (versions an earlier run committed are skipped). ``progress`` hears of each
    version once it is committed."""
    target = vcs.require_repo(repo)
    _require_clean_flows(target)
    with tempfile.TemporaryDirectory(prefix="syncer-awell-") as scratch:
        source = vcs.open_source(location, Path(scratch) / "source")
        shown = vcs.shown_location(location)
        commits = _source_commits(source, ref or "HEAD", history, shown)
        done = imported_commits(vcs.commit_messages(target)) if history else set()
        versions = []
        for info in commits:
            if info.sha in done:
                continue
            provenance = Provenance(shown, info.sha, parse_publish(info.message))
            version = _import_commit(
                source, provenance, repo, target, key, allow_empty=history, with_tests=with_tests
            )
            versions.append(version)
            progress(version)
    return versions


def _require_clean_flows(target: git.Repo) -> None:
    dirty = vcs.dirty_files(target, [FLOWS_DIR, "schemas"])
    if dirty:
        raise GitError(
            f"{', '.join(dirty[:10])} has uncommitted changes, so nothing was imported: the import"
            " commits what it writes and must not take your work with it. Commit or stash them first."
        )


def _source_commits(source: git.Repo, ref: str, history: bool, shown: str) -> list[vcs.CommitInfo]:
    if not history:
        return [vcs.commit_info(source, ref)]
    published = [c for c in vcs.history(source, ref) if parse_publish(c.message)]
    if not published:
        raise UsageError(
            f'{shown} has no commit from Awell Studio ("Publish version N from Awell Studio") reachable'
            f" from {ref}; import one ref with --from-git {shown} --ref REF instead."
        )
    return published


def _import_commit(
    source: git.Repo,
    provenance: Provenance,
    repo: Path,
    target: git.Repo,
    key: str | None,
    *,
    allow_empty: bool,
    with_tests: bool,
) -> Version:
    sha = provenance.commit
    display = f"{provenance.source}@{sha[:12]}"
    files = vcs.tree_files(source, sha, _wanted)
    roots = export_roots(files)
    if not roots:
        raise ValidationError(
            [Problem(display, "holds no Awell Studio export (no pathways/pathways.json).")]
        )
    _one_key_for_one_flow(key, len(roots))
    known = known_flows(repo)
    imported = []
    for root in roots:
        flow = _convert(read_tree(files, root, display), f"{display}:{root or '/'}", key, known)
        if with_tests:
            flow.tests = _tree_cases(files, root, display, flow)
            _not_read(flow)
        imported.append(flow)
    _check_distinct(imported)
    for flow in imported:
        _check_same_flow(flow, known)
        _check_tests_target(repo, flow.tests, replace=_imported_before(target, flow.tests))
        _check_kept_tests(repo, flow)
    yamlio.refuse_links_out(repo, [p for flow in imported for p in _targets(flow)])
    paths = [path for flow in imported for path in _write(repo, flow)]
    copied = ensure_schemas(repo)
    paths += copied
    message = commit_message(
        provenance,
        [(f.key, f.definition_id, str(f.result.document["metadata"]["title"])) for f in imported],
    )
    commit = vcs.commit(target, paths, message, allow_empty=allow_empty)
    return Version(provenance, imported, commit, copied)


def _wanted(path: str) -> bool:
    """The files of a source tree the import reads: component files and Awell's test cases."""
    return bool(COMPONENT_FILE.match(path)) or path.rsplit("/", 1)[-1] in TEST_FILES


def _tree_cases(
    files: dict[str, bytes], root: str, display: str, flow: Imported
) -> ImportedCases | None:
    prefix = f"{root}/" if root else ""
    for name in TEST_FILES:
        if prefix + name in files:
            shown = f"{display}:{prefix}{name}"
            text = yamlio.decode(files[prefix + name], shown)
            return cases_of_text(Path(shown), text, flow.key, flow.result.document)
    return None


def _imported_before(target: git.Repo, tests: ImportedCases | None) -> bool:
    """Whether the test file was last written by an import (so the next import may replace it), not
    by a person adding cases of their own."""
    if tests is None:
        return False
    message = vcs.last_message(target, tests.relative.as_posix())
    return message is None or f"{SOURCE_COMMIT}:" in message


def _check_same_flow(flow: Imported, known: dict[str, str]) -> None:
    """With --key, the key must not already hold another care flow."""
    for definition_id, key in known.items():
        if key == flow.key and definition_id != flow.definition_id:
            raise RefusedError(
                f"{FLOWS_DIR}/{key}/flow.yaml holds care flow {definition_id}, not"
                f" {flow.definition_id}; nothing was written. Pick another --key.",
                exit_code=EXIT_ERROR,
            )
