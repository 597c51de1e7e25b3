"""The run history: the only module that talks to the database (SQLite through sqlite3).

Three tables answer "what did syncer do to production-eu last Tuesday" without Git archaeology:
``runs`` (one row per run: start, end, commit, trigger, result, counts), ``run_environments`` (each
environment of a run, with its report as JSON) and the latest-state tables ``flow_states`` and
``environment_states`` the status page reads. A run's row is written when it starts and completed
when it ends, in one transaction with everything it found; a row still open when the service starts
again belongs to a process that died (kill -9, OOM, power) and is marked ``interrupted``.

To add PostgreSQL, implement the same public methods over another driver; nothing outside this module
writes SQL. SQLite runs in WAL mode with ``synchronous=NORMAL``, which survives a killed process.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..tenant.storage import make_private
from .records import (
    Diagram,
    EnvironmentRecord,
    EnvironmentState,
    FlowState,
    RunRecord,
    utc_now,
)

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, trigger TEXT NOT NULL,
    git_commit TEXT NOT NULL DEFAULT '', result TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',
    counts TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started_at);
CREATE TABLE IF NOT EXISTS run_environments (
    run_id TEXT NOT NULL REFERENCES runs (id), environment TEXT NOT NULL, result TEXT NOT NULL,
    detail TEXT NOT NULL, window_deferred INTEGER NOT NULL, verify_refused INTEGER NOT NULL,
    counts TEXT NOT NULL, report TEXT NOT NULL, PRIMARY KEY (run_id, environment));
CREATE INDEX IF NOT EXISTS run_environments_by_name ON run_environments (environment, run_id);
CREATE TABLE IF NOT EXISTS flow_states (
    environment TEXT NOT NULL, flow TEXT NOT NULL, state TEXT NOT NULL,
    PRIMARY KEY (environment, flow));
CREATE TABLE IF NOT EXISTS environment_states (
    environment TEXT PRIMARY KEY, state TEXT NOT NULL);
"""
INTERRUPTED_DETAIL = (
    "the service stopped during this run (killed or crashed) and found it unfinished at {at}; every "
    "flow is either as before or fully written, and the next run completes the rest"
)


class History:
    """The run history in one SQLite file; safe to share between threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            make_private(self.path)  # 0600: editor names, drift and titles the token protects
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(
                f"cannot open the run history {self.path}: {exc}. Point --db at a writable file "
                "(its folder is created), or fix its permissions."
            ) from None

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"the run history {self.path} was written by a newer syncer (schema {version}); "
                "upgrade syncer or use another --db."
            )
        self._db.executescript(SCHEMA)
        self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise ConfigError(
                    f"the run history {self.path} could not be written: {exc}"
                ) from None

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return list(self._db.execute(sql, args))
            except sqlite3.Error as exc:
                raise ConfigError(f"the run history {self.path} could not be read: {exc}") from None

    # --- writes ---

    def recover_interrupted(self) -> list[str]:
        """Mark every run left unfinished by a dead process as interrupted; returns their ids."""
        now = utc_now()
        with self._transaction() as db:
            ids = [r["id"] for r in db.execute("SELECT id FROM runs WHERE finished_at IS NULL")]
            db.execute(
                "UPDATE runs SET finished_at = ?, result = 'interrupted', detail = ? "
                "WHERE finished_at IS NULL",
                (now, INTERRUPTED_DETAIL.format(at=now)),
            )
        return ids

    def start_run(self, run: RunRecord) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO runs (id, started_at, trigger, result) VALUES (?, ?, ?, 'running')",
                (run.id, run.started_at, run.trigger),
            )

    def finish_run(
        self,
        run: RunRecord,
        flows: Sequence[FlowState] = (),
        environments: Sequence[EnvironmentState] = (),
        reached: Sequence[str] = (),
        known: Sequence[str] | None = None,
    ) -> None:
        """Complete ``run`` and replace the latest states it found, in one transaction.

        The flows of each environment in ``reached`` (the run got its tenant's list) are replaced by
        ``flows``; an environment the run could not reach keeps the states it had. ``known`` (the
        environments the repository has now) drops the states of environments that are gone.
        """
        with self._transaction() as db:
            _write_run(db, run)
            for state in environments:
                db.execute(
                    "INSERT OR REPLACE INTO environment_states VALUES (?, ?)",
                    (state.environment, json.dumps(asdict(state))),
                )
            _replace_flow_states(db, flows, reached, known)

    def prune(self, before: str) -> int:
        """Forget finished runs that started before ``before`` (ISO time); returns how many."""
        with self._transaction() as db:
            old = "SELECT id FROM runs WHERE started_at < ? AND finished_at IS NOT NULL"
            db.execute(f"DELETE FROM run_environments WHERE run_id IN ({old})", (before,))
            return int(db.execute(f"DELETE FROM runs WHERE id IN ({old})", (before,)).rowcount)

    # --- reads ---

    def runs(
        self,
        limit: int = 20,
        *,
        environment: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[RunRecord]:
        """Runs newest first; ``environment`` keeps those that reached it, ``since``/``until`` are
        ISO times (a date alone means its midnight UTC)."""
        where, args = ["1 = 1"], []
        if environment:
            where.append("id IN (SELECT run_id FROM run_environments WHERE environment = ?)")
            args.append(environment)
        if since:
            where.append("started_at >= ?")
            args.append(since)
        if until:
            where.append("started_at < ?")
            args.append(until)
        rows = self._query(
            f"SELECT * FROM runs WHERE {' AND '.join(where)} ORDER BY started_at DESC, rowid DESC "
            "LIMIT ?",
            [*args, max(1, limit)],
        )
        return [self._run(row, environments=False) for row in rows]

    def run(self, run_id: str) -> RunRecord | None:
        rows = self._query("SELECT * FROM runs WHERE id = ?", (run_id,))
        return self._run(rows[0], environments=True) if rows else None

    def last_finished(self) -> RunRecord | None:
        rows = self._query(
            "SELECT * FROM runs WHERE finished_at IS NOT NULL AND result != 'interrupted' "
            "ORDER BY finished_at DESC LIMIT 1"
        )
        return self._run(rows[0], environments=False) if rows else None

    def flow_states(self) -> list[FlowState]:
        rows = self._query("SELECT state FROM flow_states ORDER BY flow, environment")
        return [_flow_state(json.loads(row["state"])) for row in rows]

    def flow_state(self, environment: str, flow: str) -> FlowState | None:
        rows = self._query(
            "SELECT state FROM flow_states WHERE environment = ? AND flow = ?", (environment, flow)
        )
        return _flow_state(json.loads(rows[0]["state"])) if rows else None

    def environment_states(self) -> list[EnvironmentState]:
        rows = self._query("SELECT state FROM environment_states ORDER BY environment")
        return [EnvironmentState(**json.loads(row["state"])) for row in rows]

    def _run(self, row: sqlite3.Row, *, environments: bool) -> RunRecord:
        run = RunRecord(
            id=row["id"],
            started_at=row["started_at"],
            trigger=row["trigger"],
            finished_at=row["finished_at"],
            git_commit=row["git_commit"],
            result=row["result"],
            detail=row["detail"],
            counts=json.loads(row["counts"]),
        )
        if environments:
            rows = self._query(
                "SELECT * FROM run_environments WHERE run_id = ? ORDER BY environment", (run.id,)
            )
            run.environments = [
                EnvironmentRecord(
                    r["environment"],
                    r["result"],
                    r["detail"],
                    bool(r["window_deferred"]),
                    bool(r["verify_refused"]),
                    json.loads(r["counts"]),
                    json.loads(r["report"]),
                )
                for r in rows
            ]
        return run


def _write_run(db: sqlite3.Connection, run: RunRecord) -> None:
    db.execute(
        "UPDATE runs SET finished_at = ?, git_commit = ?, result = ?, detail = ?, counts = ? "
        "WHERE id = ?",
        (
            run.finished_at or utc_now(),
            run.git_commit,
            run.result,
            run.detail,
            json.dumps(run.counts),
            run.id,
        ),
    )
    for env in run.environments:
        db.execute(
            "INSERT OR REPLACE INTO run_environments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run.id,
                env.environment,
                env.result,
                env.detail,
                int(env.window_deferred),
                int(env.verify_refused),
                json.dumps(env.counts),
                json.dumps(env.report),
            ),
        )


def _replace_flow_states(
    db: sqlite3.Connection,
    flows: Sequence[FlowState],
    reached: Sequence[str],
    known: Sequence[str] | None,
) -> None:
    for name in reached:
        db.execute("DELETE FROM flow_states WHERE environment = ?", (name,))
    if known is not None:
        marks = ", ".join("?" for _ in known) or "''"
        for table in ("flow_states", "environment_states"):
            db.execute(f"DELETE FROM {table} WHERE environment NOT IN ({marks})", list(known))
    for flow in flows:
        db.execute(
            "INSERT INTO flow_states VALUES (?, ?, ?)",
            (flow.environment, flow.flow, json.dumps(asdict(flow))),
        )


def _flow_state(data: dict[str, Any]) -> FlowState:
    data["diagrams"] = [Diagram(**d) for d in data.get("diagrams") or []]
    return FlowState(**data)
