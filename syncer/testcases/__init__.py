"""Care-flow test cases: Awell's ``validation.yaml`` format, checked, run offline and judged.

A flow's cases live in ``flows/<key>/tests/*.yaml`` (schema: ``schemas/careflow-tests.v1.schema.json``).

- ``cases``: a file read and checked into ``CaseDefinition``\\ s (``schema`` and ``checks`` do the checking);
- ``suite``: running files against their flows (``syncer.simulate``), and comparing two runs;
- ``judge``: a run against its expectations, every failure explained;
- ``render``: text, Markdown and JSON;
- ``files``: finding the files in the work tree or at a Git ref (the only file reading here).
"""

from __future__ import annotations

from .cases import CaseDefinition, CaseFile, Expectation, load
from .judge import CaseResult, Verdict
from .suite import OutcomeChange, SourceFile, Suite, compare, run_suite

__all__ = [
    "CaseDefinition",
    "CaseFile",
    "CaseResult",
    "Expectation",
    "OutcomeChange",
    "SourceFile",
    "Suite",
    "Verdict",
    "compare",
    "load",
    "run_suite",
]
