"""The service: settings, and what happens in one run (start the record, reconcile, record it all).

``Service`` owns the history, the metrics and the scheduler. A run is recorded as it starts, so a
process killed mid-run leaves an open row that the next start marks ``interrupted``; a run stopped by
SIGTERM finishes the write in flight and is recorded as ``interrupted`` with the flows it left.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from .. import vcs
from ..errors import ConfigError, SyncError
from ..report import logs
from . import snapshot
from .engine import RunOutcome, reconcile
from .history import History
from .metrics import Metrics
from .records import EnvironmentState, RunRecord, parse_time, utc_now
from .scheduler import Scheduler, Trigger

log = logging.getLogger(__name__)
PROBE_TIMEOUT = 2.0
PROBE_CACHE_SECONDS = 10.0


@dataclass(frozen=True)
class Settings:
    """Everything ``syncer serve`` was told, unpacked once."""

    repo: Path
    environments: tuple[str, ...]
    ref: str | None
    every: float
    jitter: float
    db: Path
    actor: str
    fetch: str | None = None
    branch: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    status_token: str | None = None
    webhook_secret: str | None = None
    keep_days: float = 400.0  # the run history kept; older runs are pruned after each run

    @property
    def watched(self) -> str:
        """The Git ref reconciled; empty for the work tree."""
        return self.ref or ""


MIN_TOKEN = 16


_WEEK = 7 * 24 * 3600


def settings_for(
    repo: Path,
    environments: tuple[str, ...],
    ref: str | None,
    every: float,
    jitter: float | None,
    db: Path | None,
    actor: str,
    *,
    fetch: str | None = None,
    branch: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8080,
    keep_days: float = 400.0,
) -> Settings:
    """The settings, with defaults filled and the two secrets read from the environment."""
    token = os.environ.get("SYNCER_STATUS_TOKEN", "").strip() or None
    if token is not None and len(token) < MIN_TOKEN:
        raise ConfigError(
            f"$SYNCER_STATUS_TOKEN is {len(token)} characters; use at least {MIN_TOKEN} random "
            "ones (for example `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)."
        )
    if not 1 <= every <= _WEEK:  # `not`: NaN fails every comparison
        raise ConfigError(
            f"--every {every:g}: give the seconds between runs, from 1 to {_WEEK} (a week)."
        )
    if jitter is not None and not 0 <= jitter <= every:
        raise ConfigError(f"--jitter {jitter:g}: give 0 to {every:g} seconds (at most --every).")
    if not 1 <= keep_days <= 36500:
        raise ConfigError(f"--keep-days {keep_days:g}: give 1 to 36500 days of run history.")
    database = db or default_db()
    if database.resolve().is_relative_to(repo.resolve()):
        raise ConfigError(
            f"--db {database} is inside the repository {repo}: the run history would make its work "
            "tree dirty, and a run refuses a dirty tree. Keep it outside (the default is "
            "~/.local/state/syncer/serve.db, or $SYNCER_DB)."
        )
    if fetch and not ref:
        name = branch or _checked_out(repo)
        if not name:
            raise ConfigError(
                f"--fetch {fetch} needs --ref (for example {fetch}/main) or --branch: "
                "HEAD is detached, so there is no branch to follow."
            )
        ref = f"{fetch}/{name}"
    return Settings(
        repo=repo,
        environments=environments,
        ref=ref,
        every=every,
        jitter=every / 10 if jitter is None else jitter,
        db=database,
        actor=actor,
        fetch=fetch,
        branch=branch,
        host=host,
        port=port,
        status_token=token,
        webhook_secret=os.environ.get("SYNCER_WEBHOOK_SECRET", "").strip() or None,
        keep_days=keep_days,
    )


def default_db() -> Path:
    """``$SYNCER_DB``, else the state folder (never inside the repository: it must stay clean)."""
    if os.environ.get("SYNCER_DB"):
        return Path(os.environ["SYNCER_DB"])
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "syncer" / "serve.db"


def watched_branch(settings: Settings) -> str | None:
    """The branch a webhook push must name: ``--branch``, else the branch in ``--ref``, else the
    checked-out one; None (any push triggers a run) when none can be told."""
    if settings.branch:
        return settings.branch
    ref = settings.ref
    if ref and settings.fetch and ref.startswith(settings.fetch + "/"):
        return ref[len(settings.fetch) + 1 :]
    if ref:
        return (
            ref.removeprefix("refs/heads/") if "/" not in ref.removeprefix("refs/heads/") else None
        )
    return _checked_out(settings.repo)


def _checked_out(repo: Path) -> str | None:
    found = vcs.open_repo(repo)
    return vcs.current_branch(found) if found is not None else None


class Service:
    """Runs reconcile on a schedule and on demand, and remembers every run."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.history = History(settings.db)
        self.metrics = Metrics(settings.every)
        self.scheduler = Scheduler(self._run, settings.every, settings.jitter)
        self.branch = watched_branch(settings)
        self._probes: dict[str, tuple[float, bool]] = {}
        self._probe_lock = threading.Lock()
        for run_id in self.history.recover_interrupted():
            logs.event(
                log,
                "run.interrupted",
                "a run of a previous process never finished",
                level=logging.WARNING,
                run_id=run_id,
            )
        self._refresh_gauges()

    def start(self) -> None:
        self.scheduler.start()

    def stop(self, timeout: float | None = None) -> None:
        """Finish the write in flight, record the run, stop; then close the history."""
        self.scheduler.stop(timeout)
        self.history.close()

    def trigger(self, trigger: Trigger) -> str:
        return self.scheduler.request(trigger)

    # --- one run ---

    def _run(self, trigger: Trigger) -> None:
        record = RunRecord(secrets.token_hex(6), utc_now(), str(trigger))
        self.history.start_run(record)
        with logs.run_context(record.id):
            logs.event(log, "run.started", f"run started ({trigger})", trigger=str(trigger))
            self.metrics.in_progress.set(1)
            try:
                outcome = self._reconcile()
            except Exception as exc:  # a bug must not end the service; it is recorded and logged
                log.exception("internal error during the run")
                outcome = RunOutcome(error=f"internal error: {type(exc).__name__}: {exc}")
            finally:
                self.metrics.in_progress.set(0)
            self._record(record, outcome)

    def _reconcile(self) -> RunOutcome:
        s = self.settings
        if s.fetch:
            try:
                repo = vcs.require_repo(s.repo)
                vcs.fetch(repo, s.fetch)
            except SyncError as exc:
                logs.event(log, "git.fetch_failed", str(exc), level=logging.ERROR)
                return RunOutcome(error=str(exc))
        return reconcile(s.repo, s.environments, s.ref, s.actor, lambda: self.scheduler.stopping)

    def _record(self, record: RunRecord, outcome: RunOutcome) -> None:
        now = datetime.now(UTC)
        finished = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        snapshot.run_record(record, outcome, finished)
        previous = {e.environment: e for e in self.history.environment_states()}
        flows = [
            state
            for env in outcome.environments
            for state in snapshot.flow_states(env, record.id, self.settings.actor, finished)
        ]
        envs = [
            snapshot.environment_state(env, record.id, now, previous.get(env.name))
            for env in outcome.environments
        ]
        reached = [env.name for env in outcome.environments if env.plan is not None]
        known = None if outcome.error else [env.name for env in outcome.environments]
        self.history.finish_run(record, flows, envs, reached, known)
        cutoff = now - timedelta(days=self.settings.keep_days)
        self.history.prune(cutoff.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
        self.metrics.observe_run(record)
        for env in outcome.environments:
            self.metrics.observe_requests(env.name, env.requests)
        self._refresh_gauges()
        level = logging.INFO if record.result in ("ok", "attention") else logging.WARNING
        logs.event(
            log,
            "run.finished",
            record.detail or record.result,
            level=level,
            status=record.result,
            duration=record.duration(),
            writes=record.counts.get("writes", 0),
            commit=record.git_commit[:12],
        )

    def _refresh_gauges(self) -> None:
        states = self.history.flow_states()
        self.metrics.set_states(snapshot.status_counts(states), self.history.environment_states())

    # --- health ---

    def readiness(self) -> tuple[bool, list[str]]:
        """Ready when a run finished within two periods and every tenant answers its /healthz."""
        problems = []
        last = self.history.last_finished()
        finished = parse_time(last.finished_at) if last else None
        if finished is None:
            problems.append("no run has finished yet")
        else:
            age = (datetime.now(UTC) - finished).total_seconds()
            if age > 2 * self.settings.every:
                problems.append(
                    f"the last run finished {age:.0f} s ago, more than two periods "
                    f"({2 * self.settings.every:.0f} s)"
                )
        for env in self.history.environment_states():
            if env.url and not self._reachable(env):
                problems.append(f"tenant {env.environment} does not answer /healthz")
        return not problems, problems

    def _reachable(self, env: EnvironmentState) -> bool:
        now = time.monotonic()
        with self._probe_lock:
            cached = self._probes.get(env.url)
        if cached and now - cached[0] < PROBE_CACHE_SECONDS:
            return cached[1]
        try:  # no API key: /healthz is public, and a probe must not spread credentials
            ok = httpx.get(env.url.rstrip("/") + "/healthz", timeout=PROBE_TIMEOUT).is_success
        except httpx.HTTPError:
            ok = False
        with self._probe_lock:
            self._probes[env.url] = (now, ok)
        return ok
