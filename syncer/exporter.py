"""Sandbox working versions -> canonical files under ``flows/`` (the export half of the loop).

Deciding which files change, and writing them. Concealed values never reach disk: the tenant never
returns them, and ``canonical.to_file_form`` drops any ``value`` or ``has_value`` on a concealed item
anyway.

Every file is validated before anything is written. What was validated is remembered in the parse cache
by blob id (``parse_cache``), so that the next plan does not parse these files again, and so that a
re-export proves an unchanged flow unchanged without rendering or validating it: the file on disk is
one syncer wrote (``Digest.canonical``) from a document with the same fingerprint.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent import futures
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import vcs
from .backport.pulls import open_pull
from .canonical import digest, fingerprint, ignore_key, render_flow, shape_hash, to_file_form
from .client import client_for
from .errors import ConfigError, GitError, Problem, ValidationError
from .github import GitHub
from .model import FLOW_KEY_PATTERN, Environment
from .validate import check_rendered
from .workspace import FLOWS_DIR, Workspace, ensure_schemas
from .workspace import cache as parse_cache
from .yamlio import decode, load_text, refuse_links_out, write_text_atomically

if TYPE_CHECKING:
    import git


@dataclass
class ExportResult:
    written: list[str] = field(default_factory=list)  # repository-relative paths
    unchanged: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    removed_paths: list[str] = field(default_factory=list)
    deleted_in_source: list[str] = field(
        default_factory=list
    )  # keys still in Git, gone from Sandbox
    revisions: dict[str, int] = field(default_factory=dict)
    schemas: list[str] = field(default_factory=list)  # schema files copied into the repository
    commit: str | None = None  # the commit made (``commit=True``), None when nothing changed
    branch: str | None = None  # the branch the files were written on (None: detached HEAD)
    warnings: list[Problem] = field(default_factory=list)  # drafts: said, never blocking


def export(
    ws: Workspace,
    env: Environment,
    flow_keys: Sequence[str] = (),
    *,
    branch: str | None = None,
    commit: bool = False,
    message: str | None = None,
    force: bool = False,
) -> ExportResult:
    """Export the working versions of ``env`` (a source environment; all flows or ``flow_keys``)
    into ``flows/``, on ``branch`` (created from HEAD when new) and committed when ``commit``.
    Every file is validated before the first one is written, and a file with uncommitted changes
    someone else made is never overwritten unless ``force`` (``_refuse_overwrites``); the commit
    holds only the files the export wrote."""
    repo = vcs.require_repo(ws.root) if (commit or branch) else ws.repo
    known = existing_ids(ws.root)
    with client_for(env) as tenant:
        summaries = tenant.list_flows()
        ids = [str(s["definition_id"]) for s in _select(summaries, flow_keys, env)]
        with tenant.iter_flows(ids) as flows:  # each flow is rendered and checked while more arrive
            ignores = [e.ignore for e in ws.environments.values() if e.ignore]
            texts, result = plan_files(ws.root, flows, known, os.cpu_count() or 1, ignores)
    live_ids = {str(s["definition_id"]) for s in summaries}
    if not flow_keys:
        result.deleted_in_source = sorted(k for i, k in known.items() if i not in live_ids)
    refuse_links_out(ws.root, [*result.written, *result.removed_paths])
    if not force:
        _refuse_overwrites(ws.root, repo, [*result.written, *result.removed_paths])
    if branch and repo is not None:
        if vcs.branch_exists(repo, branch):
            vcs.checkout(repo, branch)
        else:
            vcs.checkout_new_branch(repo, branch)
    if repo is not None:
        result.branch = vcs.current_branch(repo)
    for rel in result.written:
        write_text_atomically(ws.root / rel, texts[rel])
    for rel in result.removed_paths:
        (ws.root / rel).unlink(missing_ok=True)
    result.schemas = ensure_schemas(ws.root)
    if commit and repo is not None:
        result.commit = _commit(repo, env.name, result, message)
    return result


def _refuse_overwrites(root: Path, repo: git.Repo | None, paths: Sequence[str]) -> None:
    """Refuse, naming them, to overwrite or remove files with uncommitted changes (every file,
    outside Git) unless their bytes are what an earlier export wrote (the parse cache knows them as
    canonical): a person's work is never lost to an export."""
    if not paths:
        return
    dirty = set(vcs.dirty_files(repo, [FLOWS_DIR])) if repo is not None else set(paths)
    kept = [rel for rel in paths if rel in dirty and not _written_by_export(root / rel)]
    if kept:
        more = f" and {len(kept) - 10} more" if len(kept) > 10 else ""
        where = "uncommitted changes" if repo is not None else "changes (not a Git repository)"
        raise GitError(
            f"export would overwrite {where} in {', '.join(kept[:10])}{more}; nothing was "
            "written. Commit or stash them first, or pass --force to overwrite them."
        )


def _written_by_export(path: Path) -> bool:
    try:
        data = path.read_bytes()
    except OSError:
        return True  # nothing there to lose
    known = parse_cache.load_digest(vcs.blob_id(data))
    return known is not None and known.canonical


def _select(
    summaries: list[dict[str, Any]], keys: Sequence[str], env: Environment
) -> list[dict[str, Any]]:
    if not keys:
        return summaries
    by_key = {str(s.get("key")): s for s in summaries}
    missing = [k for k in keys if k not in by_key]
    if missing:
        raise ConfigError(
            f"{env.name} has no flow {', '.join(missing)} (it has: {', '.join(sorted(by_key))})."
        )
    return [by_key[k] for k in keys]


def _commit(repo: git.Repo, env: str, result: ExportResult, message: str | None) -> str | None:
    """Commit what the export wrote; the message names the source and each flow's revision."""
    if not result.written and not result.removed_paths and not result.schemas:
        return None
    changed = sorted({p.split("/")[1] for p in result.written})
    lines = [
        message or f"Export {len(changed)} flow(s) from {env}",
        "",
        f"Source environment: {env}",
    ]
    lines += [f"- {key}: revision {result.revisions.get(key, '?')}" for key in changed]
    paths = [*result.written, *result.removed_paths, *result.schemas]
    return vcs.commit(repo, paths, "\n".join(lines) + "\n")


def existing_ids(root: Path) -> dict[str, str]:
    """definition_id -> flow key of every readable flow file in the work tree (lenient)."""
    found: dict[str, str] = {}
    base = root / FLOWS_DIR
    for path in sorted(base.glob("*/flow.yaml")) if base.is_dir() else []:
        try:
            data = path.read_bytes()
            known = parse_cache.load_digest(vcs.blob_id(data))
            if known is not None:  # validated before: its definition_id without parsing it
                found[known.definition_id] = path.parent.name
                continue
            document = load_text(decode(data, str(path)), str(path)).data
            found[str(document["metadata"]["definition_id"])] = path.parent.name
        except (ValidationError, KeyError, TypeError):
            continue
    return found


def plan_files(
    root: Path,
    flows: Iterable[dict[str, Any]],
    known: dict[str, str],
    workers: int = 1,
    ignores: Sequence[tuple[str, ...]] = (),
) -> tuple[dict[str, str], ExportResult]:
    """Render every fetched flow and decide what changes on disk; validates before anything is written.

    ``texts`` holds the files to write; a flow proven unchanged (see the module docstring) is listed
    in ``unchanged`` without being rendered. With ``workers`` > 1, files are validated in that many
    processes once there are more than a few (see ``_Validator``). ``ignores`` are the repository's
    environments' ignored paths: the cache then holds the shape hashes the next plan compares.
    """
    with _Validator(workers, tuple(ignores)) as validator:
        return _plan_files(root, flows, known, validator)


def _plan_files(
    root: Path, flows: Iterable[dict[str, Any]], known: dict[str, str], validator: _Validator
) -> tuple[dict[str, str], ExportResult]:
    result = ExportResult()
    rendered: dict[str, Callable[[], tuple[str, list[Problem]]]] = {}  # text and problems, by path
    order: list[str] = []
    problems: list[Callable[[], list[Problem]]] = []  # in flow order, as found
    owners = {key: definition_id for definition_id, key in known.items()}
    for live in flows:
        definition = live["definition"]  # the file form is made where the file is rendered
        metadata = definition["metadata"]
        key = str(metadata["key"])
        rel = f"{FLOWS_DIR}/{key}/flow.yaml"
        order.append(rel)
        if not _proven_unchanged(root, rel, key, definition):
            rendered[rel] = validator.check(rel, key, definition)
            problems.append(_problems_of(rendered[rel]))
        previous = known.get(str(metadata["definition_id"]))
        clash = owners.get(key)
        if clash is not None and clash != metadata["definition_id"]:
            problems.append(
                _found(
                    Problem(
                        rel,
                        f"already holds flow {clash}, but the tenant's flow with key "
                        f"`{key}` has definition_id {metadata['definition_id']}.",
                        hint="Ids are never remapped: rename one of the two flows.",
                    )
                )
            )
        if previous and previous != key:
            result.renamed.append((previous, key))
            result.removed_paths.append(f"{FLOWS_DIR}/{previous}/flow.yaml")
        result.revisions[key] = int(live.get("revision", 0))
    found = [problem for problems_of in problems for problem in problems_of()]
    result.warnings = [problem for problem in found if problem.warning]
    errors = [problem for problem in found if not problem.warning]
    if errors:
        raise ValidationError(errors)
    texts = {rel: outcome()[0] for rel, outcome in rendered.items()}
    for rel in dict.fromkeys(order):
        text = texts.get(rel)
        path = root / rel
        if text is None or (path.is_file() and path.read_bytes() == text.encode("utf-8")):
            result.unchanged.append(rel)
            texts.pop(rel, None)
        else:
            result.written.append(rel)
    return texts, result


def _problems_of(
    outcome: Callable[[], tuple[str, list[Problem]]],
) -> Callable[[], list[Problem]]:
    return lambda: outcome()[1]


def _found(*problems: Problem) -> Callable[[], list[Problem]]:
    return lambda: list(problems)


class _Validator:
    """Renders and checks flow files (``_render_and_check``), in worker processes once more than
    ``_IN_PROCESS`` files need it and ``workers`` > 1: rendering and checking a flow is CPU-bound and
    takes longer than fetching it, so it runs on every core while this process fetches.

    ``check`` returns a callable giving the file's text and problems, so that the problems are
    reported in flow order, as they would be in one process. At most two files per worker wait in the
    queue, which keeps memory bounded and the fetching in step with the checking.
    """

    _IN_PROCESS = 8

    def __init__(self, workers: int, ignores: tuple[tuple[str, ...], ...] = ()) -> None:
        self._workers = workers
        self._ignores = ignores
        self._checked = 0
        self._pool: ProcessPoolExecutor | None = None
        self._queued: deque[Future[tuple[str, list[Problem]]]] = deque()

    def check(
        self, rel: str, key: str, definition: dict[str, Any]
    ) -> Callable[[], tuple[str, list[Problem]]]:
        self._checked += 1
        if self._workers <= 1 or self._checked <= self._IN_PROCESS:
            outcome = _render_and_check(rel, key, definition, self._ignores)
            return lambda: outcome
        if self._pool is None:
            # spawn, not fork: this process runs the HTTP client's threads.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self._workers, mp_context=context)
        while len(self._queued) >= 2 * self._workers:
            futures.wait([self._queued.popleft()])
        future = self._pool.submit(_render_and_check, rel, key, definition, self._ignores)
        self._queued.append(future)
        return future.result

    def __enter__(self) -> _Validator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


_Ignores = tuple[tuple[str, ...], ...]


def _proven_unchanged(root: Path, rel: str, key: str, definition: dict[str, Any]) -> bool:
    """The file at ``rel`` is what rendering the tenant's ``definition`` would write, known without
    rendering it (the file form is made only when such a file is there)."""
    if not FLOW_KEY_PATTERN.match(key):
        return False  # never touch a path built from a key that is not a safe slug
    try:
        data = (root / rel).read_bytes()
    except OSError:
        return False
    known = parse_cache.load_digest(vcs.blob_id(data))
    return (
        known is not None
        and known.canonical
        and known.key == key
        and known.fingerprint == fingerprint(to_file_form(definition))
    )


def _render_and_check(
    rel: str, key: str, definition: dict[str, Any], ignores: _Ignores = ()
) -> tuple[str, list[Problem]]:
    """The file form of the tenant's ``definition``, its text, and its problems (see ``_check``)."""
    document = to_file_form(definition)
    text = render_flow(document)
    return text, _check(text, rel, key, document, ignores)


def _check(
    text: str, rel: str, key: str, document: dict[str, Any], ignores: _Ignores = ()
) -> list[Problem]:
    """Problems of the file ``text`` (rendered from ``document``), its warnings (flagged) included;
    known without checking again when the same bytes were validated before. A valid file is remembered
    in the parse cache."""
    blob = vcs.blob_id(text.encode("utf-8"))
    known = parse_cache.load_digest(blob)
    if known is not None and known.key == key:  # these very bytes were validated before
        missing = [paths for paths in ignores if ignore_key(paths) not in known.shape_hashes]
        if missing or not known.canonical:
            shapes = {ignore_key(paths): shape_hash(document, paths) for paths in missing}
            shapes.update(known.shape_hashes)
            parse_cache.save_digest(
                blob, dataclasses.replace(known, canonical=True, shape_hashes=shapes)
            )
        return known.warning_problems()
    found: list[Problem] = []
    problems = check_rendered(document, text, f"{rel} (from the tenant)", key, found)
    # A warning does not stop the export, so the file is written: it is named by its place in Git,
    # which is also how plan and apply say it again from the cached digest.
    warnings = [dataclasses.replace(w, path=rel) for w in found]
    if not problems:
        checked = digest(document, canonical=True, ignores=ignores, warnings=warnings)
        parse_cache.remember(blob, document, checked)
    return problems + warnings


def propose(
    ws: Workspace,
    env: Environment,
    result: ExportResult,
    base: str,
    remote: str = "origin",
    open_pr: bool = True,
) -> dict[str, Any] | None:
    """Push the export's branch to ``remote`` and (``open_pr``) open or update its pull request into
    ``base``; nothing when the export committed nothing. Returns the pull request (number, url,
    action) or None."""
    if result.commit is None or not result.branch:
        return None
    repo = vcs.require_repo(ws.root)
    vcs.push(repo, remote, result.branch)
    if not open_pr:
        return None
    changed = sorted({p.split("/")[1] for p in result.written})
    title = f"Export {len(changed)} flow(s) from {env.name}"
    lines = [
        f"The working versions of {env.name}, exported by `syncer export` for review.",
        "",
        *[f"- `{key}`: revision {result.revisions.get(key, '?')}" for key in changed],
        "",
        "syncer comments on this pull request with what it would do in each environment.",
    ]
    with GitHub.from_env() as github:
        return open_pull(github, title, "\n".join(lines) + "\n", result.branch, base)
