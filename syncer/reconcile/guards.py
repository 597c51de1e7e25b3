"""Whether a run may write to an environment: the commit's signature (``verify``) and the sync windows.

Plan and report always run, with one exception: a commit that ``verify`` refuses is not trusted, and
neither are the environment files in it, so the tenant they name is not contacted at all. A window only
defers writes. Each refusal is a ``model.Hold``: a sentence a person reads in the run's output and
report, naming the commit and its signer, or the window and when it next opens.

The allowed signers never come from the repository being verified (a commit would vouch for itself):
``verify.allowed_signers_env`` names an environment variable the operator sets to a file outside it,
and only the operator's two names are allowed there: ``$SYNCER_ALLOWED_SIGNERS`` (every environment)
and ``$SYNCER_ALLOWED_SIGNERS_<ENVIRONMENT>`` (one). Either, when set, makes verification mandatory
whatever the environment file says, so that a commit cannot switch its own verification off.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from .. import vcs
from ..model import SIGNERS_ENV, Environment, Hold, HoldKind, Window, signers_variable_of
from ..workspace import Workspace
from .windows import is_open, next_open, writes_allowed

__all__ = ["SIGNERS_ENV", "may_write", "signer_variables", "verify_hold", "window_hold"]


def signer_variables(env: Environment) -> list[str]:
    """The variables naming the allowed-signers files a commit written to ``env`` must satisfy: the
    environment's own (``verify``), and each of the operator's (``$SYNCER_ALLOWED_SIGNERS``,
    ``$SYNCER_ALLOWED_SIGNERS_<ENV>``) that is set, whatever the commit's environment file says."""
    names = [env.allowed_signers_env or SIGNERS_ENV] if env.signed_commits else []
    for operator in (SIGNERS_ENV, signers_variable_of(env.name)):
        if os.environ.get(operator, "").strip() and operator not in names:
            names.append(operator)
    return names


def verify_hold(ws: Workspace, env: Environment) -> Hold | None:
    """Why ``ws``'s commit may not be written to ``env`` (None: it may, or no verification is due)."""
    variables = signer_variables(env)
    if not variables:
        return None
    commit = ws.git_commit
    if ws.repo is None or commit == "worktree":
        return _refused(env, "", "", "verification needs a Git repository with a commit")
    if ws.uncommitted:
        why = f"the work tree has uncommitted changes ({', '.join(ws.uncommitted[:5])}), which nobody signed"
        return _refused(env, commit, "", why)
    for variable in variables:
        hold = _check(ws, env, commit, variable)
        if hold is not None:
            return hold
    return None


def _check(ws: Workspace, env: Environment, commit: str, variable: str) -> Hold | None:
    value = os.environ.get(variable, "").strip()
    if not value:
        return _refused(
            env,
            commit,
            "",
            f"${variable} is not set; set it to the path of the allowed-signers file (git's SSH "
            "format), kept outside the repository",
        )
    path = Path(value).expanduser().resolve()
    if path.is_relative_to(ws.root):
        return _refused(
            env,
            commit,
            "",
            f"${variable} points into the repository being verified ({path}), where a commit could "
            "add its own key and vouch for itself; keep the allowed-signers file outside the "
            "repository",
        )
    if not path.is_file():
        return _refused(env, commit, "", f"${variable} names {path}, which is not a file")
    assert ws.repo is not None
    signature = vcs.verify_commit(ws.repo, commit, path)
    if signature.good:
        return None
    return _refused(
        env, commit, signature.signer or "unsigned", _signature_problem(signature, variable)
    )


def _signature_problem(signature: vcs.Signature, variable: str) -> str:
    """What is wrong with the signature, and what to do about it."""
    key = f"SSH key {signature.signer}" if signature.signer else "an unknown key"
    sign = f"have an allowed signer (listed in the file ${variable} names) sign a commit on top"
    return {
        "unsigned": f"it is unsigned; {sign}",
        "unknown_key": f"it is signed by {key}, which is not an allowed signer; {sign}, or the "
        "operator adds that key to the allowed-signers file (never through the repository)",
        "bad": f"its signature ({key}) does not match its content: it was altered after signing; "
        f"{sign}",
        "expired": f"it is signed by {key}, which has expired; {sign}",
        "revoked": f"it is signed by {key}, which has been revoked; {sign}",
    }.get(
        signature.status,
        f"its signature could not be checked ({signature.detail or 'git could not verify it'})",
    )


def _refused(env: Environment, commit: str, signer: str, why: str) -> Hold:
    named = f"commit {commit[:12]}" if commit else "the commit"
    message = (
        f"{named} was not verified for {env.name}: {why}. syncer neither planned nor wrote "
        f"anything there (verify: only commits signed by an allowed signer are written)."
    )
    return Hold(HoldKind.VERIFY, message, commit=commit, signer=signer or "unsigned")


def window_hold(env: Environment, at: datetime, pending: int, *, hint: str = "") -> Hold | None:
    """Why writes to ``env`` are deferred at ``at`` (None: a window allows them)."""
    allowed, _why = writes_allowed(env.windows, at)
    if allowed:
        return None
    window = _holding_window(env.windows, at)
    opens = next_open(env.windows, at)
    when = (
        f"writes are next allowed at {opens:%Y-%m-%d %H:%M} UTC"
        if opens is not None
        else f"syncer found no time soon when writes are allowed; check `windows` in {env.path}"
    )
    waiting = f"{pending} pending write{'' if pending == 1 else 's'}" if pending else "nothing"
    message = f"writes to {env.name} are held by {window}: {waiting} deferred; {when}.{hint}"
    return Hold(
        HoldKind.WINDOW,
        message,
        window=window,
        next_open=opens.strftime("%Y-%m-%dT%H:%M:%SZ") if opens is not None else "",
        pending=pending,
    )


def _holding_window(windows: tuple[Window, ...], at: datetime) -> str:
    denying = [w for w in windows if w.kind == "deny" and is_open(w, at)]
    if denying:
        return " and ".join(f"the deny window {_describe(w)}" for w in denying)
    allows = ", ".join(_describe(w) for w in windows if w.kind == "allow")
    return f"the allow windows (none open now: {allows})"


def _describe(window: Window) -> str:
    hours, rest = divmod(window.duration_seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if n]
    return f"`{window.cron}` for {''.join(parts) or '0s'} ({window.timezone})"


def may_write(ws: Workspace, env: Environment, at: datetime) -> tuple[bool, str]:
    """(allowed, why not) for writes to ``env`` at ``at``, from the state ``ws`` reads."""
    hold = verify_hold(ws, env) or window_hold(env, at, 0)
    return (hold is None, hold.message if hold else "")
