"""What the checks of a test-case file share: located findings and "Did you mean ...?" hints."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import Problem
from ..yamlio import Document, JsonPath


def suggest(value: str, known: Iterable[str]) -> str | None:
    """A "Did you mean ...?" for ``value`` among ``known`` (case differences first, then spelling)."""
    names = sorted(set(known) - {""})
    for name in names:
        if name.lower() == value.lower():
            return f"Did you mean `{name}`?"
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
    return f"Did you mean `{close[0]}`?" if close else None


def hint_for(value: str, known: Iterable[str], otherwise: str) -> str:
    return suggest(value, known) or otherwise


@dataclass
class Findings:
    """Errors and warnings about one file, located."""

    doc: Document
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def error(self, path: JsonPath, message: str, hint: str | None = None) -> None:
        self.errors.append(self.doc.problem(path, message, hint))

    def warn(self, path: JsonPath, message: str, hint: str | None = None) -> None:
        self.warnings.append(self.doc.problem(path, message, hint))
