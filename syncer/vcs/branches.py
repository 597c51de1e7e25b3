"""Branches for a single file (backports): commit a file on a branch and come back; guards."""

from __future__ import annotations

from pathlib import Path

import git

from ..errors import GitError
from ..yamlio import refuse_links_out, write_text_atomically
from .repo import (
    branch_exists,
    checkout,
    checkout_new_branch,
    commit,
    current_branch,
    dirty_files,
    file_at,
    head_commit,
    resolve,
)


def commit_on_branch(
    repo: git.Repo, root: Path, branch: str, start: str, rel: str, text: str, message: str
) -> str | None:
    """Commit ``text`` as ``rel`` on ``branch`` (created from ``start`` unless it exists), then go
    back to where the work tree was. Returns the new commit, or None when the file was already so."""
    original = current_branch(repo) or head_commit(repo)
    if original is None:
        raise GitError("the repository has no commit yet; commit the flows first.")
    refuse_links_out(root, [rel])  # before a branch exists
    if branch_exists(repo, branch):
        checkout(repo, branch)
    else:
        checkout_new_branch(repo, branch, start)
    written = False
    try:
        refuse_links_out(root, [rel])  # the branch's own tree may differ
        path = root / rel
        if path.is_file() and path.read_text("utf-8") == text:
            return None
        write_text_atomically(path, text)
        written = True
        sha = commit(repo, [rel], message)
        written = False
        return sha
    finally:
        if written:  # the commit failed: put the branch's file back so checkout can leave cleanly
            _restore(repo, root, rel)
        checkout(repo, original)


def branch_holds(repo: git.Repo, branch: str, rel: str, text: str) -> bool:
    """True when ``branch`` already holds exactly ``text`` at ``rel`` (a rerun converges); False
    when there is no such branch; an error when the branch holds something else."""
    if not branch_exists(repo, branch):
        return False
    if file_at(repo, branch, rel) == text.encode("utf-8"):
        return True
    raise GitError(
        f"branch `{branch}` already exists and holds something else. Pick another name with "
        f"--branch, or delete it with `git branch -D {branch}`; nothing was changed."
    )


def ref_exists(repo: git.Repo, ref: str) -> bool:
    try:
        resolve(repo, ref)
    except GitError:
        return False
    return True


def require_clean(repo: git.Repo, what: str) -> None:
    """Refuse to work in a dirty work tree, naming the files (untracked ones too)."""
    dirty = dirty_files(repo)
    if dirty:
        more = " ..." if len(dirty) > 20 else ""
        raise GitError(
            f"the work tree has uncommitted changes, so {what} changed nothing: "
            f"{', '.join(dirty[:20])}{more}. Commit or stash them (or run from a clean clone), "
            "then run it again."
        )


def _restore(repo: git.Repo, root: Path, rel: str) -> None:
    data = file_at(repo, "HEAD", rel)
    path = root / rel
    if data is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(data)
