"""The reference tenant's SQLite tables, and the statements ``Store`` shares: sqlite3 only.

Tables (``PRAGMA user_version`` = ``SCHEMA_VERSION``):

- ``tenant``        one row: name, kind, region, identifier systems;
- ``flows``         the working version of each flow, its revision and annotations; ``definition`` is the
                    public document (concealed items carry ``has_value``, never a value);
- ``flow_secrets``  the values of concealed constants and settings, by flow and item id. ``secret`` is the
                    only column that ever holds a concealed value (plain text: this is a local reference
                    server, not a vault);
- ``history``       every revision of every flow, as written (append-only: triggers refuse UPDATE and
                    DELETE, also when the flow is deleted);
- ``versions``      published versions (immutable: triggers refuse UPDATE and DELETE);
- ``deletions``     who deleted a flow at which revision (its history and versions stay).

The functions here take a connection ``Store`` opened (and its transaction); they never open one.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .preconditions import KeyInUse, Write

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS tenant (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL, kind TEXT NOT NULL, region TEXT NOT NULL,
    identifier_systems TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS flows (
    definition_id TEXT PRIMARY KEY, key TEXT NOT NULL, title TEXT NOT NULL,
    revision INTEGER NOT NULL, content_hash TEXT NOT NULL, definition TEXT NOT NULL,
    annotations TEXT NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL,
    edit_source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS flow_secrets (
    definition_id TEXT NOT NULL REFERENCES flows (definition_id) ON DELETE CASCADE,
    item_id TEXT NOT NULL, secret TEXT NOT NULL, PRIMARY KEY (definition_id, item_id));
CREATE TABLE IF NOT EXISTS history (
    definition_id TEXT NOT NULL, revision INTEGER NOT NULL, at TEXT NOT NULL, user TEXT NOT NULL,
    edit_source TEXT NOT NULL, hotfix INTEGER NOT NULL, content_hash TEXT NOT NULL,
    definition TEXT NOT NULL, PRIMARY KEY (definition_id, revision));
CREATE TABLE IF NOT EXISTS versions (
    definition_id TEXT NOT NULL, version INTEGER NOT NULL, release_id TEXT NOT NULL UNIQUE,
    published_at TEXT NOT NULL, published_by TEXT NOT NULL, notes TEXT, revision INTEGER NOT NULL,
    content_hash TEXT NOT NULL, definition TEXT NOT NULL, PRIMARY KEY (definition_id, version));
CREATE TABLE IF NOT EXISTS deletions (
    definition_id TEXT NOT NULL, revision INTEGER NOT NULL, at TEXT NOT NULL, user TEXT NOT NULL,
    PRIMARY KEY (definition_id, revision));
CREATE TRIGGER IF NOT EXISTS versions_immutable BEFORE UPDATE ON versions
    BEGIN SELECT RAISE(ABORT, 'published versions are immutable'); END;
CREATE TRIGGER IF NOT EXISTS history_append_only BEFORE UPDATE ON history
    BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS history_kept BEFORE DELETE ON history
    BEGIN SELECT RAISE(ABORT, 'history is kept, also of a deleted flow'); END;
CREATE TRIGGER IF NOT EXISTS versions_kept BEFORE DELETE ON versions
    BEGIN SELECT RAISE(ABORT, 'published versions are kept, also of a deleted flow'); END;
"""

LATEST = """
LEFT JOIN versions v ON v.definition_id = f.definition_id
    AND v.version = (SELECT MAX(version) FROM versions WHERE definition_id = f.definition_id)
"""
SUMMARY_COLUMNS = """f.definition_id, f.key, f.title, f.revision, f.content_hash, f.annotations,
    f.updated_at, f.updated_by, f.edit_source, v.version, v.release_id, v.published_at,
    v.revision AS published_revision, v.content_hash AS published_hash"""


_VERSION_FIELDS = ("version", "release_id", "published_at", "published_by", "notes", "revision")


def insert(conn: sqlite3.Connection, table: str, definition_id: str, row: dict[str, Any]) -> None:
    """Insert ``row``; for ``flows`` an upsert (INSERT OR REPLACE would delete the row's secrets)."""
    columns = ["definition_id", *row]
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    if table == "flows":
        sql += " ON CONFLICT (definition_id) DO UPDATE SET "
        sql += ", ".join(f"{c} = excluded.{c}" for c in row)
    conn.execute(sql, [definition_id, *row.values()])


def next_revision(conn: sqlite3.Connection, definition_id: str) -> int:
    """The revision a create gets: 1, or the one after a deleted flow's last (its history stays)."""
    row = conn.execute(
        "SELECT COALESCE(MAX(revision), 0) FROM history WHERE definition_id = ?", (definition_id,)
    ).fetchone()
    return int(row[0]) + 1


def version_row(row: dict[str, Any], *, with_definition: bool) -> dict[str, Any]:
    """A ``versions`` row as the API shows a published version."""
    data = {k: row[k] for k in (*_VERSION_FIELDS, "content_hash")}
    if with_definition:
        data["definition"] = json.loads(row["definition"])
    return data


def history_row(row: dict[str, Any], *, with_definition: bool) -> dict[str, Any]:
    """A ``history`` row as the API shows a revision."""
    data = {k: row[k] for k in ("revision", "at", "user", "edit_source", "content_hash")}
    data["hotfix"] = bool(row["hotfix"])
    if with_definition:
        data["definition"] = json.loads(row["definition"])
    return data


def check_key_free(conn: sqlite3.Connection, definition_id: str, key: str) -> None:
    """Refuse (``KeyInUse``) a key another flow of the tenant has."""
    # Keys name folders in Git (flows/<key>/), so two flows of one tenant cannot share one.
    row = conn.execute(
        "SELECT definition_id FROM flows WHERE key = ? AND definition_id != ?", (key, definition_id)
    ).fetchone()
    if row is not None:
        raise KeyInUse(f"flow key {key!r} is already used by flow {row['definition_id']}.")


def merged_secrets(conn: sqlite3.Connection, write: Write) -> dict[str, str]:
    """The flow's secrets after this write (item id -> JSON text): sent values win, else kept."""
    old = dict(
        conn.execute(
            "SELECT item_id, secret FROM flow_secrets WHERE definition_id = ?",
            (write.definition_id,),
        ).fetchall()
    )
    merged: dict[str, str] = {}
    for slot in write.incoming.concealed_slots:
        if slot in write.incoming.secrets:
            value = write.incoming.secrets[slot]
            if value is not None:
                merged[slot] = json.dumps(value)
        elif slot in old:
            merged[slot] = old[slot]
    return merged


def replace_secrets(conn: sqlite3.Connection, definition_id: str, secrets: dict[str, str]) -> None:
    """Store exactly ``secrets`` (from ``merged_secrets``) as the flow's concealed values."""
    # Secrets of items that are gone or no longer concealed are dropped with the rest.
    conn.execute("DELETE FROM flow_secrets WHERE definition_id = ?", (definition_id,))
    conn.executemany(
        "INSERT INTO flow_secrets VALUES (?, ?, ?)",
        [(definition_id, slot, text) for slot, text in secrets.items()],
    )
