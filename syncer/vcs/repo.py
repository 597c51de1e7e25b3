"""A repository: open or create it, resolve refs, read files at a ref, commit, push, fetch.

gitpython and git errors are translated into ``GitError`` here, with what to do.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import git
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError

from ..errors import GitError

# gitpython talks to one long-running `git cat-file` per repository: reads from several threads (the
# planner's environments) take turns.
_OBJECTS = threading.RLock()


def blob_id(data: bytes) -> str:
    """Git's blob id of ``data`` (what ``git hash-object`` prints), computed without git."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class TreeFile:
    path: str  # repository-relative, forward slashes
    blob: str
    read: Callable[[], bytes]  # the blob's bytes, read from the object store only when asked

    @property
    def data(self) -> bytes:
        return self.read()


def open_repo(path: Path) -> git.Repo | None:
    """The Git repository at ``path``, or None when ``path`` is not inside one."""
    try:
        return git.Repo(path, search_parent_directories=False)
    except (InvalidGitRepositoryError, NoSuchPathError):
        return None


def init_repo(path: Path, user: str, email: str, branch: str = "main") -> git.Repo:
    """A new repository at ``path`` with a committer identity of its own (scratch repositories)."""
    repo = git.Repo.init(path, initial_branch=branch)
    with repo.config_writer() as config:
        config.set_value("user", "name", user)
        config.set_value("user", "email", email)
    return repo


def require_repo(path: Path) -> git.Repo:
    repo = open_repo(path)
    if repo is None:
        raise GitError(f"{path} is not a Git repository. Run `git init` there, or pass --repo.")
    return repo


def head_commit(repo: git.Repo | None) -> str | None:
    if repo is None:
        return None
    try:
        return repo.head.commit.hexsha
    except ValueError:  # no commits yet
        return None


def resolve(repo: git.Repo, ref: str) -> str:
    try:
        return repo.commit(ref).hexsha
    except GitCommandError as exc:
        raise GitError(
            f"unknown Git ref `{ref}`: {_git_message(exc)}. Check the branch, tag or commit name."
        ) from None
    except (ValueError, git.BadName) as exc:
        raise GitError(
            f"unknown Git ref `{ref}`: {exc}. Check the branch, tag or commit name."
        ) from None


def files_at(repo: git.Repo, ref: str, folder: str) -> Iterator[TreeFile]:
    """Every file under ``folder`` in the tree of ``ref``, without touching the work tree. A file's
    bytes are read from the object store only when someone asks for them (a cached digest of its
    blob id may make that unnecessary)."""
    commit = repo.commit(resolve(repo, ref))
    try:
        tree = commit.tree / folder
    except KeyError:
        return
    for item in blobs(tree, commit.hexsha):
        yield TreeFile(str(item.path), item.hexsha, _blob_reader(item))


def blobs(tree: git.Tree, commit: str) -> list[git.Blob]:
    """Every file of ``tree`` (of ``commit``); a tree Git itself would refuse to check out (an entry
    named ``..``, ``.git`` or holding a ``/``) is an error, never read."""
    try:
        return [item for item in tree.traverse() if isinstance(item, git.Blob)]
    except ValueError:  # gitpython: "Invalid repository path"
        raise GitError(
            f"commit {commit[:12]} has a tree entry Git refuses to check out (a name such as `..` "
            "or `.git`), so nothing of it is read. Import or apply a commit whose tree Git can "
            "check out."
        ) from None


def _blob_reader(blob: git.Blob) -> Callable[[], bytes]:
    def read() -> bytes:
        with _OBJECTS:
            data: bytes = blob.data_stream.read()
        return data

    return read


def paths_at(repo: git.Repo, ref: str, folder: str) -> list[str]:
    """The paths of every file under ``folder`` at ``ref`` (one ``git ls-tree``; no file is read)."""
    commit = resolve(repo, ref)
    try:
        listed = repo.git.ls_tree("-r", "--name-only", commit, "--", folder)
    except GitCommandError as exc:
        raise GitError(f"cannot list {folder} at `{ref}`: {exc.stderr.strip() or exc}") from None
    return [line for line in listed.splitlines() if line]


def file_at(repo: git.Repo, ref: str, path: str) -> bytes | None:
    with _OBJECTS:
        try:
            blob = repo.commit(ref).tree / path
        except (KeyError, GitCommandError, ValueError, git.BadName):
            return None
        data: bytes = blob.data_stream.read()
    return data


def dirty_files(repo: git.Repo, paths: Sequence[str] = ()) -> list[str]:
    """Modified, staged or untracked files (optionally only under ``paths``), each named: an
    untracked folder is listed file by file, a rename by both of its paths. Also what ``git status``
    hides: an ignored YAML file (syncer reads it all the same) and an edit to a file marked
    skip-worktree or assume-unchanged."""
    args = ["--porcelain=v1", "-z", "--untracked-files=all", "--ignored=traditional", "--", *paths]
    entries = repo.git.status(*args).split("\0")
    found: set[str] = set()
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        if entry.startswith("!!") and not entry.endswith(_READ_SUFFIXES):
            continue  # ignored, and nothing syncer reads (an editor's backup, a .DS_Store)
        found.add(entry[3:])
        if entry[0] in "RC":  # a rename or copy: its source path follows
            found.add(entries[index])
            index += 1
    return sorted(found | set(_hidden_edits(repo, paths)))


_READ_SUFFIXES = (".yaml", ".yml")


def _hidden_edits(repo: git.Repo, paths: Sequence[str]) -> list[str]:
    """Files marked skip-worktree (``S``) or assume-unchanged (a lower-case tag) whose content differs
    from the index: ``git status`` does not show them, and a run would write them unrecorded."""
    hidden = []
    for line in repo.git.ls_files("-v", "-z", "--", *paths).split("\0"):
        if len(line) > 2 and (line[0] == "S" or line[0].islower()):
            hidden.append(line[2:])
    if not hidden:
        return []
    staged = {}
    for line in repo.git.ls_files("-s", "-z", "--", *hidden).split("\0"):
        if line:
            meta, path = line.split("\t", 1)
            staged[path] = meta.split()[1]
    root = Path(repo.working_tree_dir or ".")
    present = [path for path in hidden if (root / path).is_file()]  # sparse checkout: left out
    if not present:
        return []
    hashed = repo.git.hash_object("--", *present).splitlines()  # one git, in the order given
    return [path for path, blob in zip(present, hashed, strict=True) if blob != staged.get(path)]


def current_branch(repo: git.Repo) -> str | None:
    try:
        return repo.active_branch.name
    except TypeError:  # detached HEAD
        return None


def branch_exists(repo: git.Repo, name: str) -> bool:
    return name in [h.name for h in repo.heads]


def checkout_new_branch(repo: git.Repo, name: str, start: str = "HEAD") -> None:
    if branch_exists(repo, name):
        raise GitError(
            f"branch `{name}` already exists. Pick another name with --branch, or delete it."
        )
    try:
        repo.git.checkout("-b", name, start)
    except GitCommandError as exc:
        raise GitError(f"cannot create branch `{name}`: {_git_message(exc)}") from None


def checkout(repo: git.Repo, name: str) -> None:
    try:
        repo.git.checkout(name)
    except GitCommandError as exc:
        raise GitError(f"cannot check out `{name}`: {_git_message(exc)}") from None


def commit(
    repo: git.Repo, paths: Sequence[str], message: str, *, allow_empty: bool = False
) -> str | None:
    """Stage ``paths`` (additions and deletions) and commit exactly them; None when nothing changed,
    unless ``allow_empty`` asks for a commit all the same (a record that something happened).

    Only ``paths`` go into the commit: whatever else a person staged stays staged and uncommitted.
    """
    known = [p for p in paths if _tracked_or_present(repo, p)]
    if not known and not allow_empty:
        return None
    try:
        if known:
            repo.git.add("--all", "--", *known)
        if not known or not repo.git.diff("--cached", "--name-only", "--", *known):
            if not allow_empty:
                return None
            # ``--only`` without paths: an empty commit that takes nothing a person staged along.
            empty = ["commit", "-m", message, "--no-verify", "--allow-empty", "--only"]
            repo.git.execute(["git", *_identity_args(repo), *empty])
            return repo.head.commit.hexsha
        repo.git.execute(
            ["git", *_identity_args(repo), "commit", "-m", message, "--no-verify", "--", *known]
        )
    except GitCommandError as exc:
        raise GitError(f"git commit failed: {_git_message(exc)}") from None
    return repo.head.commit.hexsha


def _tracked_or_present(repo: git.Repo, rel: str) -> bool:
    """A path git can stage: present in the work tree, or known to the index (a deletion)."""
    if (Path(repo.working_tree_dir or ".") / rel).exists():
        return True
    return bool(repo.git.ls_files("--", rel))


def _git_message(exc: GitCommandError) -> str:
    """What git said, without the command line gitpython puts around it."""
    text = (exc.stderr or "").strip()
    for prefix in ("stderr:", "error:", "fatal:"):
        text = text.removeprefix(prefix).strip()
    return text.strip("'").strip() or f"git exited with status {exc.status}"


def _identity_args(repo: git.Repo) -> list[str]:
    """A fallback committer identity for machines without one (CI often has none)."""
    reader = repo.config_reader()
    args: list[str] = []
    if not reader.get_value("user", "name", ""):
        args += ["-c", "user.name=syncer"]
    if not reader.get_value("user", "email", ""):
        args += ["-c", "user.email=syncer@localhost"]
    return args


def push(repo: git.Repo, remote: str, branch: str) -> None:
    if remote not in [r.name for r in repo.remotes]:
        raise GitError(
            f"the repository has no remote `{remote}`. Add it with `git remote add {remote} URL`, "
            "or push the branch by hand."
        )
    try:
        repo.git.push(remote, f"{branch}:{branch}")
    except GitCommandError as exc:
        raise GitError(f"git push to `{remote}` failed: {_git_message(exc)}") from None


def fetch(repo: git.Repo, remote: str) -> None:
    """``git fetch REMOTE`` (``syncer serve --fetch``): moves remote-tracking refs, never the work tree."""
    try:
        repo.git.fetch(remote, "--prune")
    except GitCommandError as exc:
        raise GitError(
            f"git fetch from `{remote}` failed: {exc.stderr.strip() or exc}. Check the remote's URL "
            "and credentials; the run reconciles nothing until the fetch works."
        ) from None
