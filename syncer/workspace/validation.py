"""``syncer validate`` at the speed of the parse cache: unchanged files are not checked again, changed
ones are checked in worker processes, and no document is held longer than its check.

A flow file is known unchanged by its stat signature (the work tree index) or its Git blob id: the
cache then holds its ``Digest``, which was written only after the very same bytes passed every check,
with the warnings that check gave. Everything else goes through ``validate.check_flow_target``, in one
worker process per core when there are more than a few files, and a valid file is remembered (document,
digest, warnings) so that the next ``validate`` or ``plan`` does not parse it again. The cross-file
checks (``validate.repository``) need only the small ``FlowCheck`` of each file.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from .. import vcs, yamlio
from ..canonical import Digest, digest
from ..errors import ValidationError
from ..model import ENVIRONMENTS_DIR
from ..validate.repository import (
    FlowCheck,
    FlowTarget,
    RepositoryCheck,
    check_flow_target,
    check_repository,
)
from . import cache as parse_cache

IN_PROCESS = 4  # at most this many files to check: no worker processes (starting them costs more)


def validate_repository(repo: Path, paths: Sequence[Path] = ()) -> RepositoryCheck:
    """``validate.check_repository`` with the parse cache and worker processes (module docstring)."""
    return check_repository(repo, paths, _check_cached)


def _check_cached(root: Path, targets: list[FlowTarget]) -> list[FlowCheck]:
    index = parse_cache.WorktreeIndex(root)
    ignores = _ignore_sets(root)
    found: dict[int, FlowCheck] = {}
    todo: list[tuple[int, FlowTarget, os.stat_result | None]] = []
    for position, target in enumerate(targets):
        known, info = _known(index, target)
        if known is not None:
            found[position] = known
        else:
            todo.append((position, target, info))
    work = [(target, ignores) for _position, target, _info in todo]
    for (position, target, info), (check, blob, known_digest) in zip(todo, _run(work), strict=True):
        found[position] = check
        if known_digest is not None and info is not None and blob is not None:
            index.record(target.display, info, blob, known_digest)
    index.save()
    return [found[position] for position in range(len(targets))]


def _known(
    index: parse_cache.WorktreeIndex, target: FlowTarget
) -> tuple[FlowCheck | None, os.stat_result | None]:
    """The check of an unchanged file, from the index or the cache; None when it must be checked."""
    try:
        info = target.file.stat()
    except OSError:
        return None, None
    recorded = index.lookup(target.display, info)
    blob, known = recorded if recorded is not None else (None, None)
    if known is None:
        try:
            blob = vcs.blob_id(target.file.read_bytes())
        except OSError:
            return None, info
        known = parse_cache.load_digest(blob)
    if known is None or known.key != target.expected_key:
        return None, info
    assert blob is not None
    index.record(target.display, info, blob, known)
    return _from_digest(target, known), info


def _from_digest(target: FlowTarget, known: Digest) -> FlowCheck:
    warnings = [dataclasses.replace(w, path=target.display) for w in known.warning_problems()]
    return FlowCheck(
        target.display,
        warnings=warnings if target.wanted else [],
        readable=True,
        key=known.key,
        definition_id=known.definition_id,
        values=tuple((ref, concealed) for ref, concealed, _value in known.values),
        unchanged=True,
    )


_Work = tuple[FlowTarget, tuple[tuple[str, ...], ...]]
_Result = tuple[FlowCheck, str | None, Digest | None]


def _run(work: list[_Work]) -> list[_Result]:
    """Check files here when there are few, else in one worker process per core (in order)."""
    workers = min(os.cpu_count() or 1, max(1, len(work) // IN_PROCESS))
    if len(work) <= IN_PROCESS or workers <= 1:
        return [_check_file(item) for item in work]
    context = multiprocessing.get_context("spawn")  # no inherited locks or threads
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        return list(pool.map(_check_file, work, chunksize=4))


def _check_file(item: _Work) -> _Result:
    """Check one flow file (in a worker process); remember it in the parse cache when valid."""
    target, ignores = item
    check, doc = check_flow_target(
        FlowTarget(target.file, target.display, target.expected_key, True)
    )
    if not target.wanted:
        check.problems, check.warnings = [], []
    if doc is None or check.problems or not target.wanted or not isinstance(doc.data, dict):
        return check, None, None
    blob = vcs.blob_id(doc.text.encode("utf-8"))
    known = digest(doc.data, ignores=ignores, warnings=check.warnings)
    parse_cache.remember(blob, doc.data, known)
    return check, blob, known


def _ignore_sets(root: Path) -> tuple[tuple[str, ...], ...]:
    """The environments' ``ignore`` paths (read leniently: their problems are reported elsewhere), so
    that the digests written hold every shape hash a later plan compares."""
    found: list[tuple[str, ...]] = []
    folder = root / ENVIRONMENTS_DIR
    for path in sorted(folder.glob("*.y*ml")) if folder.is_dir() else []:
        try:
            data: Any = yamlio.load_file(path).data
        except ValidationError:
            continue
        ignore = data.get("ignore") if isinstance(data, dict) else None
        if isinstance(ignore, list) and ignore and all(isinstance(i, str) for i in ignore):
            found.append(tuple(ignore))
    return tuple(dict.fromkeys(found))
