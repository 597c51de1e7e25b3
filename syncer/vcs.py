"""The only gitpython user: read files at a ref, commit on a branch, push, verify signatures.

gitpython and git errors are translated into ``GitError`` here, with what to do.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import git
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError

from .errors import GitError
from .yamlio import write_text_atomically

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
    for item in tree.traverse():
        if isinstance(item, git.Blob):
            yield TreeFile(str(item.path), item.hexsha, _blob_reader(item))


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
    untracked folder is listed file by file, a rename by both of its paths."""
    args = ["--porcelain=v1", "-z", "--untracked-files=all", "--", *paths]
    entries = repo.git.status(*args).split("\0")
    found: set[str] = set()
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        found.add(entry[3:])
        if entry[0] in "RC":  # a rename or copy: its source path follows
            found.add(entries[index])
            index += 1
    return sorted(found)


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
    tree = repo.commit(resolve(repo, ref)).tree
    return {
        str(item.path): item.data_stream.read()
        for item in tree.traverse()
        if isinstance(item, git.Blob) and wanted(str(item.path))
    }


def tree_paths(repo: git.Repo, ref: str) -> list[str]:
    """Every file path of ``ref``'s tree, without reading a file."""
    tree = repo.commit(resolve(repo, ref)).tree
    return [str(item.path) for item in tree.traverse() if isinstance(item, git.Blob)]


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


@dataclass(frozen=True)
class Signature:
    """What git says about a commit's signature, checked against one allowed-signers file."""

    commit: str
    subject: str
    status: str  # good | unsigned | unknown_key | bad | expired | revoked | unchecked
    signer: (
        str  # the allowed signer's name (good), the key's fingerprint (other signed), "" unsigned
    )
    detail: str = ""  # why a signature could not be checked

    @property
    def good(self) -> bool:
        return self.status == "good"


# git's %G? letters: https://git-scm.com/docs/pretty-formats
_SIGNATURE_STATUS = {
    "G": "good",
    "N": "unsigned",
    "U": "unknown_key",  # a valid signature by a key that no allowed signer holds
    "B": "bad",
    "X": "expired",
    "Y": "expired",
    "R": "revoked",
    "E": "unchecked",
}


def verify_commit(repo: git.Repo, ref: str, allowed_signers: Path) -> Signature:
    """Check ``ref``'s signature (git SSH signatures) against ``allowed_signers``.

    ssh-keygen is named explicitly, so that no configured program stands in for it; the result comes
    from git's signature placeholders, not from parsing its messages.
    """
    sha = resolve(repo, ref)
    try:
        out = repo.git.execute(
            [
                "git",
                "-c",
                "gpg.format=ssh",
                "-c",
                "gpg.ssh.program=ssh-keygen",
                "-c",
                f"gpg.ssh.allowedSignersFile={allowed_signers}",
                "show",
                "-s",
                "--no-show-signature",
                "--format=%G?%x00%GS%x00%GF%x00%s",
                sha,
            ]
        )
    except GitCommandError as exc:
        return Signature(sha, "", "unchecked", "", _git_message(exc))
    letter, signer, fingerprint, subject = [*str(out).split("\x00"), "", "", ""][:4]
    status = _SIGNATURE_STATUS.get(letter.strip(), "unchecked")
    detail = ""
    if status == "unchecked" and shutil.which("ssh-keygen") is None:
        detail = "ssh-keygen (OpenSSH) is not installed on this machine"
    name = signer if status == "good" else fingerprint
    return Signature(sha, subject.strip(), status, name.strip(), detail)


# -- branches for a single file (backports) ---------------------------------------------------


def commit_on_branch(
    repo: git.Repo, root: Path, branch: str, start: str, rel: str, text: str, message: str
) -> str | None:
    """Commit ``text`` as ``rel`` on ``branch`` (created from ``start`` unless it exists), then go
    back to where the work tree was. Returns the new commit, or None when the file was already so."""
    original = current_branch(repo) or head_commit(repo)
    if original is None:
        raise GitError("the repository has no commit yet; commit the flows first.")
    if branch_exists(repo, branch):
        checkout(repo, branch)
    else:
        checkout_new_branch(repo, branch, start)
    written = False
    try:
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


def fetch(repo: git.Repo, remote: str) -> None:
    """``git fetch REMOTE`` (``syncer serve --fetch``): moves remote-tracking refs, never the work tree."""
    try:
        repo.git.fetch(remote, "--prune")
    except GitCommandError as exc:
        raise GitError(
            f"git fetch from `{remote}` failed: {exc.stderr.strip() or exc}. Check the remote's URL "
            "and credentials; the run reconciles nothing until the fetch works."
        ) from None
