"""Awell's own test cases, brought along by ``syncer import-awell``: an export's ``validation.yaml``
becomes ``flows/<key>/tests/validation.yaml``.

The file is checked against the flow it is imported with, exactly as ``syncer test`` will check it, before
anything is written: a file that would not load is refused with every problem (in the export's file, with
line and column), and so is one that holds an Awell-encrypted value, which must never reach Git. It is
copied as it is, comments included: it is the author's text, not a generated one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import yamlio
from ..awell import find_encrypted
from ..awell.tables import ENCRYPTED_PREFIX
from ..errors import Problem, ValidationError
from .cases import load, tests_folder

NAMES = ("validation.yaml", "validation.yml")
TARGET = "validation.yaml"


@dataclass(frozen=True)
class ImportedCases:
    """A checked ``validation.yaml``: where it came from, where it goes, its text and what to know."""

    source: Path
    relative: Path
    text: str
    cases: int
    warnings: list[Problem]


def cases_of_export(folder: Path, key: str, document: dict[str, Any]) -> ImportedCases | None:
    """The export's test cases checked against ``document`` (its converted flow); None without any.

    Raises ``ValidationError`` with every problem when the file cannot be used.
    """
    found = [folder / name for name in NAMES if (folder / name).is_file()]
    if not found:
        return None
    source = found[0]
    return cases_of_text(source, yamlio.read_text(source, str(source)), key, document)


def cases_of_text(source: Path, text: str, key: str, document: dict[str, Any]) -> ImportedCases:
    """The test cases ``text`` checked against ``document``; ``source`` names the file in messages
    (a path, or ``REPO@COMMIT:path`` for a file read from Git by ``import-awell --from-git``)."""
    # Before any other check, whose messages may quote a value: an encrypted one is never shown.
    encrypted = (
        "its text"
        if ENCRYPTED_PREFIX in text
        else find_encrypted(yamlio.load_text(text, str(source)).data)
    )
    if encrypted:
        message = f"holds an Awell-encrypted value (at {encrypted}); it must not reach Git."
        hint = "Replace it with a test value in the export's validation.yaml, or import with --without-tests."
        raise ValidationError([Problem(str(source), message, hint=hint)])
    loaded = load(text, str(source), key, document)
    relative = Path(tests_folder(key), TARGET)
    return ImportedCases(source, relative, text, len(loaded.cases), loaded.warnings)
