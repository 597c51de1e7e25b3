"""The only gitpython user: read files at a ref, commit, push, verify signatures, replay a history.

- ``repo``: open or create a repository, refs, files at a ref, commits, push and fetch;
- ``history``: commit messages, and a repository to read from (Awell's Source Control repository);
- ``signatures``: commit signatures against an allowed-signers file;
- ``branches``: a file committed on a branch and back (backports), and the clean-tree guard.

gitpython and git errors are translated into ``GitError`` in these modules, with what to do.
"""

from __future__ import annotations

from .branches import branch_holds, commit_on_branch, ref_exists, require_clean
from .history import (
    CommitInfo,
    commit_info,
    commit_messages,
    history,
    last_message,
    open_source,
    shown_location,
    tree_files,
    tree_paths,
)
from .repo import (
    TreeFile,
    blob_id,
    branch_exists,
    checkout,
    checkout_new_branch,
    commit,
    current_branch,
    dirty_files,
    fetch,
    file_at,
    files_at,
    head_commit,
    init_repo,
    open_repo,
    paths_at,
    push,
    require_repo,
    resolve,
)
from .signatures import Signature, verify_commit

__all__ = [
    "CommitInfo",
    "Signature",
    "TreeFile",
    "blob_id",
    "branch_exists",
    "branch_holds",
    "checkout",
    "checkout_new_branch",
    "commit",
    "commit_info",
    "commit_messages",
    "commit_on_branch",
    "current_branch",
    "dirty_files",
    "fetch",
    "file_at",
    "files_at",
    "head_commit",
    "history",
    "init_repo",
    "last_message",
    "open_repo",
    "open_source",
    "paths_at",
    "push",
    "ref_exists",
    "require_clean",
    "require_repo",
    "resolve",
    "shown_location",
    "tree_files",
    "tree_paths",
    "verify_commit",
]
