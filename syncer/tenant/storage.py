"""The reference tenant's storage: one SQLite file in WAL mode, sqlite3 only.

The tables, and the statements the methods below share, are in ``tables``; ``flow_secrets.secret`` is
the only column that ever holds a concealed value.

Every write runs in one ``BEGIN IMMEDIATE`` transaction on its own connection, so concurrent writers are
serialised by SQLite and a revision check inside the transaction decides which of two racing writers wins.
"""

from __future__ import annotations

import json
import os
import secrets as tokens
import sqlite3
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..canonical import content_hash
from ..errors import ConfigError
from .concealed import public_definition
from .preconditions import (
    FlowMissing,
    StaleRevision,
    ViewOnly,
    Write,
    check_preconditions,
    matches,
    refuse_blind,
    stale_detail,
)
from .tables import (
    LATEST,
    SCHEMA,
    SCHEMA_VERSION,
    SUMMARY_COLUMNS,
    check_key_free,
    history_row,
    insert,
    merged_secrets,
    next_revision,
    replace_secrets,
    version_row,
)

KINDS = ("sandbox", "production")
EDIT_SOURCES = ("studio", "syncer", "api")


def utc_now() -> str:
    """ISO-8601 UTC with a ``Z``, to the millisecond."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_private(path: Path) -> None:
    """The database, its WAL and its shared-memory file readable and writable by their owner only
    (0600): they hold concealed values in plain text (``flow_secrets``) and every flow's history.
    File permissions are all that protects them at rest (docs/tenant.md)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))  # created private, never briefly open
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and stat.S_IMODE(file.stat().st_mode) != 0o600:
            file.chmod(0o600)


@dataclass(frozen=True)
class FlowRecord:
    """A flow's summary, and its definition when it was asked for."""

    summary: dict[str, Any]
    definition: dict[str, Any] | None = field(default=None)

    @property
    def revision(self) -> int:
        return int(self.summary["revision"])


class Store:
    """The tenant's data. Cheap to share between threads: each call opens its own connection."""

    def __init__(self, path: Path, *, name: str, kind: str, region: str = "") -> None:
        if kind not in KINDS:
            raise ConfigError(f"tenant kind must be one of {', '.join(KINDS)}, not {kind!r}.")
        self.path = Path(path)
        self.busy_timeout = 30.0
        try:
            make_private(self.path)
            self._initialise(name, kind, region)
            make_private(self.path)  # the WAL and shared-memory files SQLite just made
        except (sqlite3.Error, OSError) as exc:
            raise ConfigError(f"cannot open the tenant database {self.path}: {exc}.") from None
        info = self.tenant()
        self.name, self.kind, self.region = info["name"], info["kind"], info["region"]

    # -- connections -----------------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            # FULL: a write the API acknowledged survives a power cut, not only a process crash.
            conn.execute("PRAGMA synchronous = FULL")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connection() as conn:
            # IMMEDIATE takes the write lock up front: the revision read below cannot go stale.
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _initialise(self, name: str, kind: str, region: str) -> None:
        with self._connection() as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ConfigError(
                    f"{self.path} was written by a newer syncer (schema {version}); upgrade syncer."
                )
            # Idempotent DDL in one transaction (one fsync, and never half a schema).
            script = f"PRAGMA user_version = {SCHEMA_VERSION};"
            conn.executescript(f"BEGIN IMMEDIATE; {SCHEMA} {script} COMMIT;")
        with self._transaction() as conn:
            row = conn.execute("SELECT name, kind, region FROM tenant").fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO tenant (id, name, kind, region) VALUES (1, ?, ?, ?)",
                    (name, kind, region),
                )
            elif (row["name"], row["kind"]) != (name, kind):
                raise ConfigError(
                    f"{self.path} holds tenant {row['name']!r} ({row['kind']}), not {name!r} ({kind});"
                    " use another --db file or the same --name and --kind."
                )
            elif region and region != row["region"]:
                conn.execute("UPDATE tenant SET region = ?", (region,))

    # -- tenant ----------------------------------------------------------------------------------

    def tenant(self) -> dict[str, Any]:
        with self._connection() as conn:
            row = conn.execute("SELECT * FROM tenant").fetchone()
        return {
            "name": row["name"],
            "kind": row["kind"],
            "region": row["region"],
            "identifier_systems": json.loads(row["identifier_systems"]),
        }

    def set_identifier_systems(self, systems: list[dict[str, str]]) -> dict[str, Any]:
        with self._transaction() as conn:
            conn.execute("UPDATE tenant SET identifier_systems = ?", (json.dumps(systems),))
        return self.tenant()

    # -- flows -----------------------------------------------------------------------------------

    @property
    def view_only(self) -> bool:
        """Every flow of a production tenant is view-only (SPEC 5)."""
        return bool(self.kind == "production")

    def list_flows(self) -> list[FlowRecord]:
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT {SUMMARY_COLUMNS} FROM flows f {LATEST} ORDER BY f.key, f.definition_id"
            ).fetchall()
        return [FlowRecord(self._summary(row)) for row in rows]

    def get_flow(self, definition_id: str) -> FlowRecord | None:
        with self._connection() as conn:
            return self._read_flow(conn, definition_id)

    def _read_flow(self, conn: sqlite3.Connection, definition_id: str) -> FlowRecord | None:
        row = conn.execute(
            f"SELECT {SUMMARY_COLUMNS}, f.definition FROM flows f {LATEST}"
            " WHERE f.definition_id = ?",
            (definition_id,),
        ).fetchone()
        if row is None:
            return None
        return FlowRecord(self._summary(row), json.loads(row["definition"]))

    def _summary(self, row: sqlite3.Row) -> dict[str, Any]:
        published = None
        if row["version"] is not None:
            published = {
                "version": row["version"],
                "release_id": row["release_id"],
                "published_at": row["published_at"],
                "revision": row["published_revision"],
                "content_hash": row["published_hash"],
            }
        return {
            "definition_id": row["definition_id"],
            "key": row["key"],
            "title": row["title"],
            "revision": row["revision"],
            "content_hash": row["content_hash"],
            "view_only": self.view_only,
            "updated_at": row["updated_at"],
            "updated_by": row["updated_by"],
            "edit_source": row["edit_source"],
            "annotations": json.loads(row["annotations"]),
            "latest_published": published,
        }

    def write_flow(self, write: Write) -> tuple[FlowRecord, bool]:
        """Create or update a flow atomically; returns the new record and whether it was created."""
        with self._transaction() as conn:
            current = self._read_flow(conn, write.definition_id)
            check_preconditions(current.revision if current else None, write)
            if self.view_only and write.edit_source == "studio" and not write.hotfix:
                raise ViewOnly(
                    f"flow {write.definition_id} is view-only in {self.kind} tenant {self.name};"
                    " a Studio edit needs the header X-Hotfix: true."
                )
            metadata = write.incoming.definition["metadata"]
            check_key_free(conn, write.definition_id, str(metadata["key"]))
            secrets = merged_secrets(conn, write)
            definition = public_definition(write.incoming, set(secrets))
            annotations = write.annotations
            if annotations is None:
                annotations = current.summary["annotations"] if current else {}
            revision = current.revision + 1 if current else next_revision(conn, write.definition_id)
            self._save(conn, write, definition, revision, annotations)
            replace_secrets(conn, write.definition_id, secrets)
            record = self._read_flow(conn, write.definition_id)
        assert record is not None
        return record, current is None

    def _save(
        self,
        conn: sqlite3.Connection,
        write: Write,
        definition: dict[str, Any],
        revision: int,
        annotations: dict[str, str],
    ) -> None:
        now, digest, text = utc_now(), content_hash(definition), json.dumps(definition)
        metadata = definition["metadata"]
        flow = {
            "key": str(metadata["key"]),
            "title": str(metadata.get("title", "")),
            "revision": revision,
            "content_hash": digest,
            "definition": text,
            "annotations": json.dumps(annotations),
            "updated_at": now,
            "updated_by": write.actor,
            "edit_source": write.edit_source,
        }
        insert(conn, "flows", write.definition_id, flow)
        entry = {"revision": revision, "at": now, "user": write.actor, "hotfix": write.hotfix}
        entry |= {"edit_source": write.edit_source, "content_hash": digest, "definition": text}
        insert(conn, "history", write.definition_id, entry)

    def delete_flow(
        self, definition_id: str, if_match: tuple[str, ...] | None, actor: str = "admin"
    ) -> None:
        """Remove a flow's working version and its secrets (simulates a deletion in Sandbox).

        Its history and published versions stay: they are the record of what was written and what
        patients got, and are append-only and immutable. The deletion is recorded in ``deletions``;
        re-creating the id continues its revision numbers, so that its history stays one line.
        """
        with self._transaction() as conn:
            current = self._read_flow(conn, definition_id)
            if current is None:
                raise FlowMissing(f"flow {definition_id} does not exist.")
            refuse_blind(definition_id, current.revision, if_match)
            if not if_match or not matches(if_match, current.revision):
                raise StaleRevision(stale_detail(definition_id, current.revision, if_match))
            for table in ("flow_secrets", "flows"):
                conn.execute(f"DELETE FROM {table} WHERE definition_id = ?", (definition_id,))
            row = {"revision": current.revision, "at": utc_now(), "user": actor}
            insert(conn, "deletions", definition_id, row)

    # -- publishing and history ------------------------------------------------------------------

    def publish(self, definition_id: str, actor: str, notes: str | None) -> dict[str, Any]:
        """Copy the working version into a new immutable version (1, 2, ...)."""
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT revision, content_hash, definition FROM flows WHERE definition_id = ?",
                (definition_id,),
            ).fetchone()
            if row is None:
                raise FlowMissing(f"flow {definition_id} does not exist.")
            latest = conn.execute(
                "SELECT COALESCE(MAX(version), 0) FROM versions WHERE definition_id = ?",
                (definition_id,),
            ).fetchone()[0]
            version = {"version": latest + 1, "release_id": tokens.token_urlsafe(12)}
            version |= {"published_at": utc_now(), "published_by": actor, "notes": notes}
            version |= {k: row[k] for k in ("revision", "content_hash", "definition")}
            insert(conn, "versions", definition_id, version)
        return version_row(version, with_definition=False)

    def versions(self, definition_id: str) -> list[dict[str, Any]] | None:
        """Published versions, newest first; None when the flow does not exist."""
        return self._listing(definition_id, "versions", "version", version_row)

    def version(self, definition_id: str, number: int) -> dict[str, Any] | None:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT * FROM versions WHERE definition_id = ? AND version = ?",
                (definition_id, number),
            ).fetchone()
        return version_row(dict(row), with_definition=True) if row else None

    def history(self, definition_id: str) -> list[dict[str, Any]] | None:
        """Every revision, newest first, without definitions; None when the flow does not exist."""
        return self._listing(definition_id, "history", "revision", history_row)

    def history_entry(self, definition_id: str, revision: int) -> dict[str, Any] | None:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT * FROM history WHERE definition_id = ? AND revision = ?",
                (definition_id, revision),
            ).fetchone()
        return history_row(dict(row), with_definition=True) if row else None

    def _listing(
        self, definition_id: str, table: str, order: str, shape: Callable[..., dict[str, Any]]
    ) -> list[dict[str, Any]] | None:
        with self._connection() as conn:
            conn.execute("BEGIN")  # one snapshot for both reads
            exists = conn.execute(
                "SELECT 1 FROM flows WHERE definition_id = ?", (definition_id,)
            ).fetchone()
            rows = conn.execute(
                f"SELECT * FROM {table} WHERE definition_id = ? ORDER BY {order} DESC",
                (definition_id,),
            ).fetchall()
            conn.execute("COMMIT")
        if exists is None:
            return None
        return [shape(dict(row), with_definition=table == "versions") for row in rows]
