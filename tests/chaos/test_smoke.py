"""The chaos suite's smoke, in ``make test``: a few cases of every kind, judged like ``make chaos``
judges them all; and the corpus itself checked (its size, its areas, the README's tally)."""

from __future__ import annotations

import re
from pathlib import Path

from .corpus import AREAS, CASES
from .faults import PLAN
from .run import KILLS, SMOKE_CASES, run

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_corpus_covers_every_area_with_sixty_bad_inputs_or_more() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names)), "case names are unique"
    assert len(CASES) >= 60
    assert {case.area for case in CASES} == set(AREAS)
    assert set(SMOKE_CASES) <= set(names)
    assert {case.area for case in CASES if case.name in SMOKE_CASES} == set(AREAS)


def test_the_readme_quotes_a_tally_of_this_suite() -> None:
    """The README's reliability section quotes the latest `make chaos` tally: its case count is this
    corpus's (bad inputs, proxy faults and kill runs), so a new case means a new run and a new quote."""
    text = README.read_text("utf-8")
    found = re.search(r"chaos: (\d+) cases, (\d+) clear, (\d+) wrote nothing, 0 tracebacks, "
                      r"0 half-applied, 0 secrets or keys printed", text)  # fmt: skip
    assert found, "README.md quotes no chaos tally"
    total, clear, nothing = (int(n) for n in found.groups())
    assert total == len(CASES) + len(PLAN) + KILLS == clear
    assert nothing == len(CASES)


def test_the_chaos_smoke_finds_nothing(tmp_path: Path) -> None:
    report = run(tmp_path, smoke=True, seed=15)
    assert report.passed, "\n".join(report.failures())
    assert len(report.verdicts) == len(SMOKE_CASES) and report.runs
