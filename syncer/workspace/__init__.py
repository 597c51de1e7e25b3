"""The repository layout: flows and environments, from the work tree or from a Git ref.

Everything read here is validated before anyone acts on it: ``flows()`` and ``environments()`` raise one
``ValidationError`` listing every problem in the repository, so that ``apply`` stops before its first write.

Parsed flows are cached by Git blob id (content-addressed, so a stale entry is impossible; see
``parse_cache``). A flow is known by its ``Digest`` (ids, hashes, values) and its document is loaded only
when someone asks for it: a no-op reconcile of a work tree whose files did not change neither reads nor
hashes them, and never parses YAML or runs the schema again.
"""

from __future__ import annotations

import os
import stat as stat_module
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from .. import vcs
from ..canonical import Digest, digest, ignore_key, shape_hash
from ..errors import ConfigError, Problem, ValidationError
from ..model import ENVIRONMENTS_DIR, FLOWS_DIR, Environment, Role
from ..validate import (
    check_environment,
    check_flow,
    cross_check_environment,
    outside_problem,
    parse_environment,
)
from ..yamlio import Document, decode, load_text, write_text_atomically
from . import cache as parse_cache
from .cache import cache_dir
from .collector import collector_paused

_UNREADABLE = "Fix the file's permissions, or remove it (or the link) from the repository."

__all__ = ["ENVIRONMENTS_DIR", "FLOWS_DIR", "FlowFile", "Workspace", "cache_dir"]


class FlowFile:
    """One care-flow file of the repository, valid.

    ``digest`` (ids, hashes, constant values) is all a plan needs when the tenant proves the flow in sync;
    ``document`` is read from the parse cache (or parsed again) the first time someone asks for it.
    """

    def __init__(
        self,
        key: str,
        path: str,
        blob: str,
        digest: Digest,
        load: Callable[[], dict[str, Any]],
    ) -> None:
        self.key = key
        self.path = path  # repository-relative
        self.blob = blob
        self.digest = digest
        self._load = load
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FlowFile({self.key!r}, {self.path!r}, blob={self.blob[:12]})"

    @property
    def definition_id(self) -> str:
        return self.digest.definition_id

    @property
    def warnings(self) -> list[Problem]:
        """What the draft leaves unfinished (an unreachable step, ...): said, never blocking."""
        return self.digest.warning_problems()

    @property
    def title(self) -> str:
        return self.digest.title

    @cached_property
    def document(self) -> dict[str, Any]:
        return self._load()

    def shape_hash(self, ignore: Iterable[str] = ()) -> str:
        """``canonical.shape_hash`` of the document, from the digest when it has it."""
        name = ignore_key(ignore)
        found = self.digest.shape_hashes.get(name)
        if found is None:
            found = shape_hash(self.document, ignore)
            with self._lock:
                self.digest.shape_hashes[name] = found
        return found


@dataclass(frozen=True)
class _File:
    """A file found in the repository: its bytes are read only when needed."""

    path: str
    blob: str
    read: Callable[[], bytes]
    digest: Digest | None = None  # known from the work tree index
    stat: os.stat_result | None = None  # a work tree file's, taken before it was read


class Workspace:
    """A GitOps repository, read at the work tree (``ref=None``) or at a Git ref."""

    def __init__(self, root: Path | str, ref: str | None = None) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise ConfigError(f"repository folder {root} does not exist. Pass --repo PATH.")
        self.ref = ref
        self.repo = vcs.open_repo(self.root)
        if ref is not None and self.repo is None:
            raise ConfigError(f"--ref needs a Git repository, and {self.root} is not one.")
        self._commit = vcs.resolve(self.repo, ref) if ref and self.repo else None
        self._environment_documents: dict[str, Document] = {}  # name -> its checked file

    # -- files -----------------------------------------------------------------------------------

    def _files(self, folder: str) -> list[tuple[str, str, bytes]]:
        """(relative path, blob id, bytes) of every file under ``folder``."""
        return [(f.path, f.blob, f.read()) for f in self._lazy_files(folder, None)]

    def _lazy_files(
        self, folder: str, index: parse_cache.WorktreeIndex | None, flows_only: bool = False
    ) -> list[_File]:
        """Every file under ``folder`` (with ``flows_only``, only the ``<folder>/<key>/flow.yaml``
        files); with an ``index``, unchanged work tree files are not read."""
        if self._commit is not None and self.repo is not None:
            return [
                _File(f.path, f.blob, f.read) for f in vcs.files_at(self.repo, self._commit, folder)
            ]
        base = self.root / folder
        if not base.is_dir():
            return []
        if not base.resolve().is_relative_to(self.root):
            raise ValidationError([outside_problem(folder, self.root)])
        listed: list[tuple[str, os.stat_result, tuple[str, Digest | None] | None]] = []
        problems: list[Problem] = []
        for rel in _flow_paths(base, folder) if flows_only else _walk(base, folder):
            info = self._stat_inside(rel, problems)
            if info is not None and stat_module.S_ISREG(info.st_mode):
                listed.append((rel, info, None if index is None else index.lookup(rel, info)))
        if problems:
            raise ValidationError(problems)
        # The others are hashed now, on several threads (reading and SHA-1 release the GIL), and read
        # again only if their digest is not cached, so that memory stays bounded.
        unknown = [rel for rel, _info, known in listed if known is None]
        with ThreadPoolExecutor(min(8, 2 * (os.cpu_count() or 1))) as pool:
            hashed = dict(zip(unknown, pool.map(self._hash, unknown), strict=True))
        found = []
        for rel, info, known in listed:
            blob, digest = known if known is not None else (hashed[rel], None)
            found.append(_File(rel, blob, _reader(self.root / rel, blob), digest, info))
        return found

    def _stat_inside(self, rel: str, problems: list[Problem]) -> os.stat_result | None:
        """The file's stat; a link that leads out of the repository (as ``validate`` refuses it),
        to nothing, or a file that cannot be read is a problem instead."""
        path = self.root / rel
        try:
            info = path.lstat()
            if not stat_module.S_ISLNK(info.st_mode):
                return info  # one system call for the usual case: no link
            if not path.resolve().is_relative_to(self.root):
                problems.append(outside_problem(rel, self.root))
                return None
            return path.stat()
        except OSError as exc:
            why = "it is a link to nothing" if path.is_symlink() else exc.strerror or str(exc)
            problems.append(Problem(rel, f"cannot read the file: {why}.", hint=_UNREADABLE))
            return None

    def _hash(self, rel: str) -> str:
        return vcs.blob_id((self.root / rel).read_bytes())

    @cached_property
    def git_commit(self) -> str:
        """The commit the desired state comes from (``worktree`` outside Git or before the first
        commit). Always a real commit: uncommitted edits are listed in ``uncommitted`` instead."""
        if self._commit:
            return self._commit
        return vcs.head_commit(self.repo) or "worktree"

    @cached_property
    def uncommitted(self) -> tuple[str, ...]:
        """Files under ``flows/`` and ``environments/`` that differ from the commit (work tree only):
        modified, staged or untracked."""
        if self._commit or self.repo is None or vcs.head_commit(self.repo) is None:
            return ()
        return tuple(vcs.dirty_files(self.repo, [FLOWS_DIR, ENVIRONMENTS_DIR]))

    # -- environments ----------------------------------------------------------------------------

    @cached_property
    def environments(self) -> dict[str, Environment]:
        problems: list[Problem] = []
        found: dict[str, Environment] = {}
        for rel, _blob, data in self._files(ENVIRONMENTS_DIR):
            if not rel.endswith((".yaml", ".yml")):
                continue
            name = Path(rel).stem
            try:
                doc = load_text(decode(data, rel), rel)
            except ValidationError as exc:
                problems.extend(exc.problems)
                continue
            found_problems = check_environment(doc, name)
            problems.extend(found_problems)
            if not found_problems:
                found[name] = parse_environment(doc.data, rel)
                self._environment_documents[name] = doc
        if problems:
            raise ValidationError(problems)
        return found

    def environment(self, name: str) -> Environment:
        envs = self.environments
        if name not in envs:
            known = ", ".join(sorted(envs)) or "none"
            raise ConfigError(
                f"unknown environment `{name}` (known: {known}). "
                f"Add {ENVIRONMENTS_DIR}/{name}.yaml or fix --env."
            )
        return envs[name]

    def select(self, names: Sequence[str], role: Role) -> list[Environment]:
        """The environments named (all of ``role`` when none), refusing the wrong role."""
        if not names:
            chosen = [e for e in self.environments.values() if e.role is role]
            if not chosen:
                raise ConfigError(
                    f"no {role.value} environment in {ENVIRONMENTS_DIR}/. Add one, or pass --env."
                )
            return sorted(chosen, key=lambda e: e.name)
        chosen = [self.environment(n) for n in dict.fromkeys(names)]
        for env in chosen:
            if env.role is not role:
                raise ConfigError(_wrong_role(env, role))
        return chosen

    # -- flows -----------------------------------------------------------------------------------

    @cached_property
    def flows(self) -> dict[str, FlowFile]:
        """Every flow in the repository, validated; raises with every problem found."""
        problems: list[Problem] = []
        found: dict[str, FlowFile] = {}
        ignores = self._ignore_sets()
        with collector_paused():  # thousands of small objects at once; nothing cyclic
            index = parse_cache.WorktreeIndex(self.root) if self._commit is None else None
            files = self._lazy_files(FLOWS_DIR, index, flows_only=index is not None)
        for file in files:
            parts = file.path.split("/")
            if len(parts) != 3 or parts[2] != "flow.yaml":
                continue
            key = parts[1]
            try:
                flow = self._flow_file(file, key, ignores)
            except ValidationError as exc:
                problems.extend(exc.problems)
                continue
            found[key] = flow
            if index is not None and file.stat is not None:
                index.record(file.path, file.stat, file.blob, flow.digest)
        problems.extend(_duplicate_ids(found.values()))
        if problems:
            raise ValidationError(problems)
        if index is not None:
            index.keep_only({flow.path for flow in found.values()})
            index.save()
        return found

    def _ignore_sets(self) -> list[tuple[str, ...]]:
        """The environments' ``ignore`` paths, so that digests carry every shape hash a plan needs."""
        try:
            environments = self.environments
        except ValidationError:  # reported by whoever reads the environments
            return []
        return [env.ignore for env in environments.values() if env.ignore]

    def _flow_file(self, file: _File, key: str, ignores: list[tuple[str, ...]]) -> FlowFile:
        """The flow in ``file``: its digest from the index or the cache, else parsed and validated."""
        found = file.digest or parse_cache.load_digest(file.blob)
        document: dict[str, Any] | None = None
        if found is None or found.key != key:
            warnings: list[Problem] = []
            document = self._parse_flow(file.path, file.read(), key, warnings)
            found = digest(document, warnings=warnings)
            if parse_cache.remember(file.blob, document, found):
                document = None  # in the cache now: loaded again only if someone needs it
        load = self._loader(file, key, document)
        missing = [paths for paths in ignores if ignore_key(paths) not in found.shape_hashes]
        if missing:
            loaded = load()
            for paths in missing:
                found.shape_hashes[ignore_key(paths)] = shape_hash(loaded, paths)
            parse_cache.save_digest(file.blob, found)
        return FlowFile(key, file.path, file.blob, found, load)

    def _loader(
        self, file: _File, key: str, parsed: dict[str, Any] | None
    ) -> Callable[[], dict[str, Any]]:
        def load() -> dict[str, Any]:
            if parsed is not None:
                return parsed
            document = parse_cache.load_document(file.blob)
            if document is not None and document.get("metadata", {}).get("key") == key:
                return document
            data = file.read()  # the cached document went missing: parse the same bytes again
            warnings: list[Problem] = []
            document = self._parse_flow(file.path, data, key, warnings)
            parse_cache.remember(file.blob, document, digest(document, warnings=warnings))
            return document

        return load

    def _parse_flow(
        self, rel: str, data: bytes, key: str, warnings: list[Problem] | None = None
    ) -> dict[str, Any]:
        doc = load_text(decode(data, rel), rel)
        problems = check_flow(doc, key, warnings)
        if problems:
            raise ValidationError(problems)
        result: dict[str, Any] = doc.data
        return result

    def flows_for(self, env: Environment, keys: Iterable[str] = ()) -> dict[str, FlowFile]:
        """The flows ``env`` receives, optionally narrowed to ``keys`` (unknown keys are errors)."""
        wanted = list(keys)
        flows = self.flows
        self._check_against_flows(env, flows)
        for key in wanted:
            if key not in flows:
                raise ConfigError(
                    f"no flow `{key}` in {FLOWS_DIR}/ (known: {', '.join(sorted(flows))})."
                )
        return {k: f for k, f in flows.items() if env.selects(k) and (not wanted or k in wanted)}

    def _check_against_flows(self, env: Environment, flows: dict[str, FlowFile]) -> None:
        """``validate``'s checks of an environment against the flows (listed flows exist, no secret
        as a value): a plan that skipped them would write what validate refuses."""
        self.environments  # noqa: B018 (reads the documents the problems are located in)
        document = self._environment_documents.get(env.name)
        if document is None:
            return
        values = {
            key: (flow.path, [(ref, concealed) for ref, concealed, _value in flow.digest.values])
            for key, flow in flows.items()
        }
        problems, _warnings = cross_check_environment(document, values)
        if problems:
            raise ValidationError(problems)

    def flow_at(self, commit: str, key: str) -> dict[str, Any] | None:
        """The flow ``key`` as it was at ``commit``, if that commit is known here and valid."""
        if self.repo is None or not commit or commit == "worktree":
            return None
        sha = commit.removesuffix("-dirty")
        rel = f"{FLOWS_DIR}/{key}/flow.yaml"
        try:
            data = vcs.file_at(self.repo, sha, rel)
        except Exception:  # an unknown commit is not an error here: the caller degrades gracefully
            return None
        if data is None:
            return None
        blob = vcs.blob_id(data)
        cached = parse_cache.load_document(blob)
        if cached is not None and cached.get("metadata", {}).get("key") == key:
            return cached
        warnings: list[Problem] = []
        try:
            document = self._parse_flow(rel, data, key, warnings)
        except ValidationError:
            return None
        parse_cache.remember(blob, document, digest(document, warnings=warnings))
        return document


def _walk(base: Path, prefix: str) -> list[str]:
    """Repository-relative paths of everything under ``base``, in ``sorted(base.rglob("*"))`` order
    (path parts compared one by one), without building a ``Path`` per entry."""
    found: list[str] = []
    for folder, dirs, files in os.walk(base):
        inside = os.path.relpath(folder, base).replace(os.sep, "/")
        stem = prefix if inside == "." else f"{prefix}/{inside}"
        found.extend(f"{stem}/{name}" for name in (*dirs, *files))
    return sorted(found, key=lambda rel: rel.split("/"))


def _flow_paths(base: Path, prefix: str) -> list[str]:
    """The ``<key>/flow.yaml`` files ``_walk`` would list (it does not enter linked folders either),
    without listing every folder."""
    found = []
    with os.scandir(base) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                candidate = os.path.join(entry.path, "flow.yaml")
                if os.path.lexists(candidate):
                    found.append(f"{prefix}/{entry.name}/flow.yaml")
    return sorted(found, key=lambda rel: rel.split("/"))


def _reader(path: Path, blob: str) -> Callable[[], bytes]:
    """Read a file the index vouched for, refusing it if it changed since (mid-run edits)."""

    def read() -> bytes:
        data = path.read_bytes()
        if vcs.blob_id(data) != blob:
            raise ConfigError(f"{path} changed while syncer was reading the repository; run again.")
        return data

    return read


def _duplicate_ids(flows: Iterable[FlowFile]) -> list[Problem]:
    seen: dict[str, str] = {}
    problems = []
    for flow in sorted(flows, key=lambda f: f.path):
        other = seen.setdefault(flow.definition_id, flow.path)
        if other != flow.path:
            problems.append(
                Problem(
                    flow.path,
                    f"definition_id `{flow.definition_id}` is also used by {other}.",
                    hint="Each care flow has exactly one file; ids are never copied or remapped.",
                )
            )
    return problems


def _wrong_role(env: Environment, wanted: Role) -> str:
    if wanted is Role.TARGET:
        return (
            f"environment `{env.name}` has role {env.role.value}: syncer only writes to target "
            "environments (Git -> Production is one-way). Use `syncer export` to read from it."
        )
    return (
        f"environment `{env.name}` has role {env.role.value}: export reads only from a source "
        "(Sandbox) environment; Production changes come back through `syncer backport`."
    )


def ensure_schemas(root: Path) -> list[str]:
    """Copy the packaged JSON Schemas into ``<root>/schemas/`` where missing, so that the files'
    ``$schema`` headers resolve in an editor; returns the repository-relative paths written."""
    written = []
    for entry in sorted(resources.files("syncer.schemas").iterdir(), key=lambda item: item.name):
        path = root / "schemas" / entry.name
        if entry.name.endswith(".json") and entry.is_file() and not path.exists():
            write_text_atomically(path, entry.read_text("utf-8"))
            written.append(path.relative_to(root).as_posix())
    return written
