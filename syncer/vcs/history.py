"""History: commit messages, and a repository to read from (Awell's Source Control repository)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import git
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError

from ..errors import GitError
from .repo import blobs, head_commit, resolve


def commit_messages(repo: git.Repo) -> list[str]:
    """The message of every commit reachable from HEAD (none in a repository without commits)."""
    if head_commit(repo) is None:
        return []
    try:
        out: str = repo.git.log("--format=%B%x00")
    except GitCommandError as exc:
        raise GitError(f"cannot read the history: {exc.stderr.strip() or exc}") from None
    return [message.strip() for message in out.split("\x00") if message.strip()]


def last_message(repo: git.Repo, path: str) -> str | None:
    """The message of the last commit that changed ``path`` (None when none did)."""
    if head_commit(repo) is None:
        return None
    try:
        out: str = repo.git.log("-1", "--format=%B", "--", path)
    except GitCommandError as exc:
        raise GitError(f"cannot read the history of {path}: {exc.stderr.strip() or exc}") from None
    return out.strip() or None


# -- a repository to read from (Awell's Source Control repository) --------------------------------


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    message: str
    committed_at: str  # ISO 8601


_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[^/\s:@]+@[^/\s:]+:)", re.I)
_CREDENTIALS = re.compile(r"^([a-z][a-z0-9+.-]*://)[^/@\s]*@", re.I)


def shown_location(location: str) -> str:
    """A repository location safe to print or record: user names and tokens taken out of URLs."""
    return _CREDENTIALS.sub(r"\1", location)


def open_source(location: str, scratch: Path) -> git.Repo:
    """The repository at ``location``: a local path (a clone, bare or not), or a clone URL, which is
    cloned (bare) into ``scratch``. Errors say what was tried, never with credentials."""
    local = Path(location)
    if local.exists():
        try:
            return git.Repo(local, search_parent_directories=False)
        except (InvalidGitRepositoryError, NoSuchPathError):
            raise GitError(
                f"{location} is not a Git repository. Give the clone of the repository Awell Studio"
                " pushes to, or its clone URL."
            ) from None
    if not _URL.match(location):
        raise GitError(f"{location} does not exist, and it is not a clone URL.")
    try:
        return git.Repo.clone_from(location, scratch, bare=True, multi_options=["--quiet"])
    except GitCommandError as exc:
        detail = shown_location(
            (exc.stderr or "").strip().splitlines()[-1:][0] if exc.stderr else ""
        )
        raise GitError(
            f"cannot clone {shown_location(location)}: {detail or 'git clone failed'}. Check the URL"
            " and your access to it (git's own credentials are used)."
        ) from None


def history(repo: git.Repo, ref: str) -> list[CommitInfo]:
    """The commits reachable from ``ref`` along first parents, oldest first."""
    sha = resolve(repo, ref)
    commits = repo.iter_commits(sha, first_parent=True)
    found = [
        CommitInfo(c.hexsha, str(c.message), c.committed_datetime.isoformat()) for c in commits
    ]
    return list(reversed(found))


def commit_info(repo: git.Repo, ref: str) -> CommitInfo:
    found = repo.commit(resolve(repo, ref))
    return CommitInfo(found.hexsha, str(found.message), found.committed_datetime.isoformat())


def tree_files(repo: git.Repo, ref: str, wanted: Callable[[str], bool]) -> dict[str, bytes]:
    """The files of ``ref``'s tree whose path ``wanted`` accepts (path → bytes)."""
    commit = repo.commit(resolve(repo, ref))
    return {
        str(item.path): item.data_stream.read()
        for item in blobs(commit.tree, commit.hexsha)
        if wanted(str(item.path))
    }


def tree_paths(repo: git.Repo, ref: str) -> list[str]:
    """Every file path of ``ref``'s tree, without reading a file."""
    commit = repo.commit(resolve(repo, ref))
    return [str(item.path) for item in blobs(commit.tree, commit.hexsha)]
