"""``syncer import-awell PATH [--key KEY] [--force]``: an Awell Studio export → ``flows/<key>/flow.yaml``.

Everything is read and converted before anything is written, so bad input changes nothing. Encrypted values
never reach the file: the mapping drops them (``syncer.awell``) and the written text is checked once more.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import awell, model, validate, yamlio
from ..awell import folder as awellio
from ..awell.tables import ENCRYPTED_PREFIX
from ..errors import EXIT_ERROR, EXIT_OK, Problem, RefusedError, ValidationError
from ..testcases.imported import ImportedCases, cases_of_export
from ..workspace import ensure_schemas
from ..yamlio import write_text_atomically


def run(args: argparse.Namespace) -> int:
    """Convert the export folder ``args.path`` into a canonical flow file under ``args.repo``."""
    repo = Path(args.repo)
    source = Path(args.path)
    folder = awellio.read_export(source)
    result = awell.to_canonical(folder.components, key=args.key, source=str(source))
    text = yamlio.dump(result.document, model.flow_file_header())
    metadata = result.document["metadata"]
    relative = Path("flows", metadata["key"], "flow.yaml")
    if ENCRYPTED_PREFIX in text:  # unreachable by design; a last guard before the disk
        raise ValidationError([Problem(str(relative), "would contain an encrypted Awell value.")])
    tests = (
        None if args.without_tests else cases_of_export(source, metadata["key"], result.document)
    )
    _check_target(repo, relative, metadata["definition_id"], force=args.force)
    if tests is not None:
        _check_tests_target(repo, tests, force=args.force)
    write_text_atomically(repo / relative, text)
    if tests is not None:
        write_text_atomically(repo / tests.relative, tests.text)
    copied = ensure_schemas(repo)
    ignored = [name for name in folder.ignored if tests is None or name != tests.source.name]
    _print_summary(result, relative, source, ignored, copied)
    _print_tests(tests)
    _print_validation(yamlio.load_text(text, relative.as_posix()), metadata["key"])
    return EXIT_OK


def _check_tests_target(repo: Path, tests: ImportedCases, *, force: bool) -> None:
    """A test file already in the repository is only replaced with --force (it may hold local cases)."""
    target = repo / tests.relative
    if target.exists() and not force and target.read_bytes() != tests.text.encode("utf-8"):
        raise RefusedError(
            f"{tests.relative.as_posix()} already exists; nothing was written. Pass --force to"
            " overwrite it, or --without-tests to import the flow alone.",
            exit_code=EXIT_ERROR,
        )


def _print_tests(tests: ImportedCases | None) -> None:
    if tests is None:
        return
    count = f"{tests.cases} case{'' if tests.cases == 1 else 's'}"
    print(
        f"Test cases: {tests.source.name} ({count}) into {tests.relative.as_posix()}; run `syncer test`"
    )
    for warning in tests.warnings:
        print(f"warning: {warning}")


def _check_target(repo: Path, relative: Path, definition_id: str, *, force: bool) -> None:
    """Refuse to overwrite a flow without --force, and to import one care flow under two keys."""
    target = repo / relative
    if target.exists() and not force:
        raise RefusedError(
            f"{relative} already exists; nothing was written. Pass --force to overwrite it,"
            " or --key to import under another key.",
            exit_code=EXIT_ERROR,
        )
    for other in sorted((repo / "flows").glob("*/flow.yaml")):
        if other.parent.name == relative.parent.name:
            continue
        if _definition_id(other) == definition_id:
            shown = other.relative_to(repo)
            raise RefusedError(
                f"care flow {definition_id} is already in the repository as {shown}; nothing was"
                f" written. Import it with --key {other.parent.name} --force to update that file.",
                exit_code=EXIT_ERROR,
            )


def _definition_id(path: Path) -> str | None:
    try:
        data = yamlio.load_file(path).data
    except ValidationError:
        return None  # an unreadable neighbour is `syncer validate`'s business, not the importer's
    metadata = data.get("metadata") if isinstance(data, dict) else None
    value = metadata.get("definition_id") if isinstance(metadata, dict) else None
    return value if isinstance(value, str) else None


def _print_summary(
    result: awell.ImportResult,
    relative: Path,
    source: Path,
    ignored: list[str],
    copied: list[str],
) -> None:
    metadata = result.document["metadata"]
    print(f"Imported care flow {metadata['title']!r} ({metadata['definition_id']}) from {source}")
    print(f"  into {relative.as_posix()}")
    counts = ", ".join(f"{name} {count}" for name, count in result.counts.items())
    print(f"Components: {counts}")
    if result.concealed:
        print("Concealed, set it per environment (the encrypted value was dropped, not written):")
        for item in result.concealed:
            print(f"  - {item}")
    if ignored:
        print(f"Not read (not part of a care-flow definition): {', '.join(ignored)}")
    for schema in copied:
        print(f"Copied {schema}")


def _print_validation(document: yamlio.Document, key: str) -> None:
    """Say what ``syncer validate`` will say about the new file.

    An Awell working version may be unfinished (a dangling reference, an unreachable step); the file is
    a faithful copy of it all the same, so it is written and its problems are listed to be fixed in a
    reviewed change, not refused.
    """
    warnings: list[Problem] = []
    problems = validate.check_flow(document, key, warnings)
    if not problems and not warnings:
        print("Valid: `syncer validate` finds nothing to fix.")
        return
    for problem in problems:
        print(f"problem: {problem}")
    for warning in warnings:
        print(f"warning: {warning}")
    blocking = f"{len(problems)} problem(s), which block promotion, and " if problems else ""
    print(f"{blocking}{len(warnings)} warning(s); `syncer validate` repeats them.")
