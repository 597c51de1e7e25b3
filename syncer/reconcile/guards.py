"""Whether the reconciler may write to an environment now: its sync windows and its commit verification.

Plan and report always run; only writes are held. The reasons are sentences a person reads in the run's
output and report.
"""

from __future__ import annotations

from datetime import datetime

from .. import vcs
from ..model import Environment
from ..workspace import Workspace
from .windows import writes_allowed


def may_write(ws: Workspace, env: Environment, at: datetime) -> tuple[bool, str]:
    """(allowed, why not) for writes to ``env`` at ``at``, from the state ``ws`` reads."""
    allowed, why = writes_allowed(env.windows, at)
    if not allowed:
        return False, why
    if env.signed_commits:
        if ws.repo is None:
            return False, "verify.signed_commits needs a Git repository"
        ref = ws.ref or "HEAD"
        signers = ws.root / (env.allowed_signers or ".syncer/allowed_signers")
        ok, message = vcs.verify_signature(ws.repo, ref, signers)
        if not ok:
            return False, f"commit {ref} is not signed by an allowed signer ({message})"
    return True, ""
