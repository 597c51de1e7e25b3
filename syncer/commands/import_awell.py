"""``syncer import-awell``: an Awell Studio Source Control export → ``flows/<key>/flow.yaml``.

``PATH [--key KEY] [--force]`` reads an export folder (or a folder of them, one per care flow);
``--from-git REPO [--ref REF] [--history]`` reads the Git repository Awell Studio pushes to and commits
each imported version with its provenance. An export's ``validation.yaml`` comes along into
``flows/<key>/tests/`` unless ``--without-tests``. Everything is read, converted and checked before
anything is written, so bad input changes nothing; encrypted values never reach the file
(``syncer.awell``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..awell import repo as awell_repo
from ..errors import EXIT_OK, Problem, UsageError
from ..testcases.imported import ImportedCases
from ..workspace import ensure_schemas


def run(args: argparse.Namespace) -> int:
    """Import ``args.path``, or ``args.from_git`` at ``args.ref`` (every version with ``--history``)."""
    repo = Path(args.repo)
    if (args.path is None) == (args.from_git is None):
        raise UsageError("give an export folder PATH, or --from-git REPO (not both).")
    if args.from_git is None and (args.ref or args.history):
        raise UsageError(
            "--ref and --history read a Git repository: use them with --from-git REPO."
        )
    if args.from_git is not None and args.force:
        raise UsageError(
            "--force is for PATH: --from-git commits what it writes, so `git revert` undoes it."
        )
    if args.from_git is None:
        imported = awell_repo.import_folder(
            Path(args.path), repo, args.key, force=args.force, with_tests=not args.without_tests
        )
        copied = ensure_schemas(repo)
        for flow in imported:
            _print_flow(flow)
        for schema in copied:
            print(f"Copied {schema}")
        return EXIT_OK
    versions = awell_repo.import_from_git(
        args.from_git,
        args.ref,
        repo,
        args.key,
        history=args.history,
        with_tests=not args.without_tests,
        progress=_print_version,
    )
    if not versions:
        print("Nothing to import: every published version is already committed here.")
        return EXIT_OK
    last = {flow.key: flow for version in versions for flow in version.flows}
    for flow in last.values():
        _print_flow(flow, brief=True)
    return EXIT_OK


def _print_version(version: awell_repo.Version) -> None:
    publish = version.provenance.publish
    what = f"published version {publish.version}" if publish else "commit"
    release = f", release {publish.release_id}" if publish and publish.release_id else ""
    keys = ", ".join(flow.key for flow in version.flows)
    made = f"committed {version.commit[:12]}" if version.commit else "no change, no commit"
    print(f"{version.provenance.commit[:12]} ({what}{release}): {keys} — {made}")


def _print_flow(flow: awell_repo.Imported, *, brief: bool = False) -> None:
    metadata = flow.result.document["metadata"]
    if not brief:
        print(
            f"Imported care flow {metadata['title']!r} ({metadata['definition_id']}) from {flow.source}"
        )
        print(f"  into {flow.file.relative}")
        counts = ", ".join(f"{name} {count}" for name, count in flow.result.counts.items())
        print(f"Components: {counts}")
    if flow.result.concealed:
        print("Concealed, set it per environment (the encrypted value was dropped, not written):")
        for item in flow.result.concealed:
            print(f"  - {item}")
    if flow.ignored and not brief:
        print(f"Not read (not part of a care-flow definition): {', '.join(flow.ignored)}")
    _print_tests(flow.tests)
    _print_warnings(flow.file.relative, flow.file.warnings)


def _print_tests(tests: ImportedCases | None) -> None:
    if tests is None:
        return
    count = f"{tests.cases} case{'' if tests.cases == 1 else 's'}"
    print(
        f"Test cases: {tests.source.name} ({count}) into {tests.relative.as_posix()}; run `syncer test`"
    )
    for warning in tests.warnings:
        print(f"warning: {warning}")


def _print_warnings(relative: str, warnings: list[Problem]) -> None:
    """A working version is a draft: what is unfinished is said, and nothing is refused for it."""
    if not warnings:
        print(f"Valid: `syncer validate` finds nothing to fix in {relative}.")
        return
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{relative}: {len(warnings)} warning(s), none blocking; `syncer validate` repeats them.")
