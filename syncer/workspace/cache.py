"""What syncer learned from flow files, kept between runs under ``$SYNCER_CACHE_DIR``.

Everything is keyed by Git blob id, which names the file's exact bytes, so an entry can never be stale:

- ``<blob>.json``: the parsed document, written only for a file that passed every check;
- ``<blob>.digest.json``: its ``canonical.Digest`` (ids, hashes, constant values), so that a plan whose
  flows are in sync never loads a document;
- ``worktrees/<hash of the folder>.json``: for a work tree, each flow file's stat signature (size, times,
  inode) with its blob id and digest, so that an unchanged file is neither read nor hashed. Like git's own
  index, a signature is trusted only when the file had not changed for a while before it was recorded
  (a "racily clean" file is hashed again), and any write to a file changes its ``ctime``.

The folder's name carries syncer's version and a fingerprint of the rules a file was checked by (the
packaged JSON Schemas and the source of the loader, the checks and the canonical form), so that a
verdict is never reused after those change, even between two builds of one version.

The cache is an optimisation: a missing, damaged or unwritable cache only costs time.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from .. import __version__
from ..canonical import Digest

RACY_NS = 3_000_000_000  # a file changed less than this before it was recorded is hashed next time


def cache_dir() -> Path:
    base = os.environ.get("SYNCER_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "syncer"
    )
    return Path(base) / f"parsed-v{__version__}-{rules_fingerprint()}"


# What decides whether a file is valid and what its digest holds (relative to the package).
_RULES = ("schemas", "validate", "yamlio", "canonical.py", "model.py")


@functools.cache
def rules_fingerprint() -> str:
    """A short hash of the schemas and the source of the loader, the checks and the canonical form."""
    package = Path(__file__).resolve().parents[1]
    found = hashlib.sha256()
    for name in _RULES:
        entry = package / name
        files = (
            sorted(entry.glob("*.py")) + sorted(entry.glob("*.json")) if entry.is_dir() else [entry]
        )
        for file in files:
            try:
                found.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
            except OSError:
                continue  # an installation without sources: the version alone tells
    return found.hexdigest()[:12]


def load_document(blob: str) -> dict[str, Any] | None:
    try:
        document = json.loads((cache_dir() / f"{blob}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def load_digest(blob: str) -> Digest | None:
    try:
        data = json.loads((cache_dir() / f"{blob}.digest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return Digest.from_json(data)


def remember(blob: str, document: dict[str, Any], digest: Digest) -> bool:
    """Record a valid document and its digest; False when the cache could not be written."""
    return _write(cache_dir() / f"{blob}.json", document) and save_digest(blob, digest)


def save_digest(blob: str, digest: Digest) -> bool:
    return _write(cache_dir() / f"{blob}.digest.json", digest.to_json())


def _write(path: Path, data: Any) -> bool:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
        os.replace(tmp, path)
    except OSError:
        return False  # the cache is an optimisation; a read-only home must not break a run
    return True


def signature(stat: os.stat_result) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev]


class WorktreeIndex:
    """Blob ids (and digests) of a work tree's files by stat signature; see the module docstring."""

    def __init__(self, root: Path) -> None:
        name = hashlib.sha1(str(root).encode(), usedforsecurity=False).hexdigest()[:20]
        self.path = cache_dir() / "worktrees" / f"{name}.json"
        self._entries: dict[str, Any] = {}
        self._looked_up: dict[str, tuple[Digest, int]] = {}
        self._changed = False
        try:
            data = json.loads(self.path.read_text("utf-8"))
            if isinstance(data, dict) and data.get("root") == str(root):
                self._entries = dict(data.get("files") or {})
        except (OSError, ValueError):
            pass
        self._root = str(root)

    def lookup(self, rel: str, stat: os.stat_result) -> tuple[str, Digest | None] | None:
        """(blob, digest) recorded for ``rel`` when its signature is unchanged."""
        entry = self._entries.get(rel)
        if not isinstance(entry, dict) or entry.get("stat") != signature(stat):
            return None
        digest = Digest.from_json(entry.get("digest"))
        if digest is not None:
            self._looked_up[rel] = (digest, len(digest.shape_hashes))
        return str(entry["blob"]), digest

    def record(self, rel: str, stat: os.stat_result, blob: str, digest: Digest | None) -> None:
        seen = self._looked_up.get(rel)
        if seen is not None and seen[0] is digest and seen[1] == len(seen[0].shape_hashes):
            return  # found here this run, and nothing was added to it since
        if time.time_ns() - max(stat.st_mtime_ns, stat.st_ctime_ns) < RACY_NS:
            if self._entries.pop(rel, None) is not None:  # racily clean: hashed again next time
                self._changed = True
            return
        entry = {
            "stat": signature(stat),
            "blob": blob,
            "digest": digest.to_json() if digest else None,
        }
        if self._entries.get(rel) != entry:
            self._entries[rel] = entry
            self._changed = True

    def keep_only(self, rels: set[str]) -> None:
        for rel in set(self._entries) - rels:
            del self._entries[rel]
            self._changed = True

    def save(self) -> None:
        if self._changed:
            _write(self.path, {"root": self._root, "files": self._entries})
            self._changed = False
