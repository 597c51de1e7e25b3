"""The tree a run writes (``apply``, ``reconcile``): exactly one commit, never an unrecorded edit.

- The commit is the one ``--ref`` names, else HEAD; the recorded ``syncer.io/git-commit`` is always it.
- When signatures are due for an environment of the run (``guards.signer_variables``), the commit's own
  tree is read, never the work tree, and a work tree with uncommitted changes is refused: what is
  written is what was signed.
- Without verification a clean work tree is read (it equals HEAD, and its index makes a no-op run
  cheap); uncommitted changes under ``flows/`` or ``environments/`` are refused unless ``allow_dirty``,
  and then every write records them (``syncer.io/uncommitted``).

Whether verification is due is read from the environment files *at the commit*, so an uncommitted edit
cannot switch it off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigError, GitError
from ..model import Environment
from ..workspace import Workspace
from .guards import signer_variables

__all__ = ["Tree", "pin"]


@dataclass(frozen=True)
class Tree:
    """What a run writes: the workspace to read, its environments, and the commit it records."""

    ws: Workspace
    environments: list[Environment]
    commit: str
    verified: bool  # signatures are checked for at least one environment of the run


def pin(ws: Workspace, envs: Sequence[Environment], *, allow_dirty: bool = False) -> Tree:
    """The tree a run over ``envs`` (read from ``ws``) writes; refuses uncommitted changes unless
    ``allow_dirty`` (never when a signature is due)."""
    if ws.repo is None or ws.git_commit == "worktree":
        state = "is not a Git repository" if ws.repo is None else "has no commit yet"
        raise ConfigError(
            f"apply and reconcile write committed state, so that every write names its commit, and "
            f"{ws.root} {state}. Commit the flows and environments, then run again."
        )
    committed = ws if ws.ref else Workspace(ws.root, ws.git_commit)
    at_commit = [_at_commit(committed, env.name) for env in envs]
    verified = any(signer_variables(env) for env in at_commit)
    if ws.ref:
        return Tree(ws, at_commit, ws.git_commit, verified)
    dirty = ws.uncommitted
    if dirty and (verified or not allow_dirty):
        raise GitError(_dirty_message(dirty, committed.git_commit, verified))
    if verified:
        return Tree(committed, at_commit, committed.git_commit, True)
    return Tree(ws, list(envs), ws.git_commit, False)


def _at_commit(committed: Workspace, name: str) -> Environment:
    try:
        return committed.environments[name]
    except KeyError:
        raise ConfigError(
            f"environment `{name}` is not in commit {committed.git_commit[:12]}: commit "
            f"environments/{name}.yaml first; nothing was written."
        ) from None


def _dirty_message(dirty: Sequence[str], commit: str, verified: bool) -> str:
    more = f" and {len(dirty) - 10} more" if len(dirty) > 10 else ""
    files = ", ".join(dirty[:10]) + more
    if verified:
        return (
            f"the work tree has uncommitted changes ({files}), and signatures are verified here: "
            f"syncer writes exactly the signed commit {commit[:12]}, never edits nobody signed. "
            "Commit them (signed) or stash them, then run again; nothing was written."
        )
    return (
        f"the work tree has uncommitted changes ({files}). apply and reconcile write committed "
        "state, so that every write names a real commit. Commit them, or pass --allow-dirty to "
        "write them anyway (each write then records them in syncer.io/uncommitted); nothing was "
        "written."
    )
