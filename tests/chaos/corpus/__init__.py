"""The chaos suite's corpus: bad inputs across files, flags, environment variables and the tenant API.

Each ``Case`` is one hostile input and what syncer must do with it: the exit code (or, for a request
straight to the tenant, the HTTP status), the words its message must hold (where: file:line:column, or
environment, flow and HTTP status; and what to do), and never a traceback, a write or a secret. Cases
that run a writing command (``apply``, ``reconcile``) change a valid flow in Git as well, so that a
syncer that skipped a check would have something to write.

The cases are data, one module per area (``files``, ``flags``, ``variables``, ``tenant``); ``run.py``
runs and judges them. Add a case for every bad input you meet.
"""

from __future__ import annotations

from . import files, flags, tenant, variables
from .case import AREAS, Case

CASES: tuple[Case, ...] = (*files.CASES, *flags.CASES, *variables.CASES, *tenant.CASES)

__all__ = ["AREAS", "CASES", "Case"]
