"""The repository layout: flows and environments, from the work tree or from a Git ref.

Everything read here is validated before anyone acts on it: ``flows()`` and ``environments()`` raise one
``ValidationError`` listing every problem in the repository, so that ``apply`` stops before its first write.

Parsed flows are cached by Git blob id (content-addressed, so a stale entry is impossible): a no-op
reconcile re-reads bytes, never re-parses YAML or re-runs the schema for a file that did not change.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from . import __version__, vcs
from .errors import ConfigError, Problem, ValidationError
from .model import Environment, Role
from .validate import check_environment, check_flow, parse_environment
from .yamlio import decode, load_text

FLOWS_DIR = "flows"
ENVIRONMENTS_DIR = "environments"


@dataclass(frozen=True)
class FlowFile:
    """One care-flow file as read from the repository."""

    key: str
    path: str  # repository-relative
    document: dict[str, Any]
    blob: str

    @property
    def definition_id(self) -> str:
        return str(self.document["metadata"]["definition_id"])

    @property
    def title(self) -> str:
        return str(self.document["metadata"].get("title", ""))


def cache_dir() -> Path:
    base = os.environ.get("SYNCER_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "syncer"
    )
    return Path(base) / f"parsed-v{__version__}"


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

    # -- files -----------------------------------------------------------------------------------

    def _files(self, folder: str) -> list[tuple[str, str, bytes]]:
        """(relative path, blob id, bytes) of every file under ``folder``."""
        if self._commit is not None and self.repo is not None:
            return [(f.path, f.blob, f.data) for f in vcs.files_at(self.repo, self._commit, folder)]
        base = self.root / folder
        if not base.is_dir():
            return []
        found = []
        for path in sorted(base.rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                found.append((path.relative_to(self.root).as_posix(), vcs.blob_id(data), data))
        return found

    @cached_property
    def git_commit(self) -> str:
        """The commit the desired state comes from; ``<sha>-dirty`` for uncommitted flow edits."""
        if self._commit:
            return self._commit
        head = vcs.head_commit(self.repo)
        if head is None or self.repo is None:
            return "worktree"
        dirty = vcs.dirty_files(self.repo, [FLOWS_DIR, ENVIRONMENTS_DIR])
        return f"{head}-dirty" if dirty else head

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
        for rel, blob, data in self._files(FLOWS_DIR):
            parts = rel.split("/")
            if len(parts) != 3 or parts[2] != "flow.yaml":
                continue
            key = parts[1]
            try:
                document = self._load_flow(rel, blob, data, key)
            except ValidationError as exc:
                problems.extend(exc.problems)
                continue
            found[key] = FlowFile(key, rel, document, blob)
        problems.extend(_duplicate_ids(found.values()))
        if problems:
            raise ValidationError(problems)
        return found

    def _load_flow(self, rel: str, blob: str, data: bytes, key: str) -> dict[str, Any]:
        cached = cache_dir() / f"{blob}.json"
        if cached.is_file():
            try:
                document: dict[str, Any] = json.loads(cached.read_text("utf-8"))
                if document.get("metadata", {}).get("key") == key:
                    return document
            except (OSError, ValueError):
                pass
        doc = load_text(decode(data, rel), rel)
        problems = check_flow(doc, key)
        if problems:
            raise ValidationError(problems)
        _write_cache(cached, doc.data)
        result: dict[str, Any] = doc.data
        return result

    def flows_for(self, env: Environment, keys: Iterable[str] = ()) -> dict[str, FlowFile]:
        """The flows ``env`` receives, optionally narrowed to ``keys`` (unknown keys are errors)."""
        wanted = list(keys)
        flows = self.flows
        for key in wanted:
            if key not in flows:
                raise ConfigError(
                    f"no flow `{key}` in {FLOWS_DIR}/ (known: {', '.join(sorted(flows))})."
                )
        return {k: f for k, f in flows.items() if env.selects(k) and (not wanted or k in wanted)}

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
        try:
            return self._load_flow(rel, vcs.blob_id(data), data, key)
        except ValidationError:
            return None


def _write_cache(path: Path, data: Any) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # the cache is an optimisation; a read-only home must not break a run


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


SCHEMA_FILES = ("careflow.v1.schema.json", "environment.v1.schema.json", "plan.schema.json")


def ensure_schemas(root: Path) -> list[str]:
    """Copy the JSON Schemas into ``<root>/schemas/`` when missing, so ``$schema`` headers resolve."""
    from importlib import resources

    written = []
    target = root / "schemas"
    for name in SCHEMA_FILES:
        source = resources.files("syncer.schemas").joinpath(name)
        path = target / name
        if source.is_file() and not path.exists():
            target.mkdir(parents=True, exist_ok=True)
            path.write_text(source.read_text("utf-8"), "utf-8")
            written.append(path.relative_to(root).as_posix())
    return written


def atomic_write(path: Path, text: str) -> None:
    """Write a file so that a reader sees the old bytes or the new ones, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, path)
