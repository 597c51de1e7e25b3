"""Prometheus metrics of the service, on a registry of its own (prometheus-client).

Names and labels are part of the contract with ``deploy/prometheus-rules.yaml`` (a test parses every
rule and checks that each metric it names is defined here). Labels carry environment names, statuses,
results and HTTP codes: never a flow title, a user, or a value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from ..model import STATUSES
from .engine import RESULTS
from .records import EnvironmentState, RunRecord, parse_time

CONTENT_TYPE = CONTENT_TYPE_LATEST
DURATION_BUCKETS = (0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


class Metrics:
    """Every metric ``/metrics`` shows; updated after each run, restored from the history at start."""

    def __init__(self, period: float) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.runs = Counter("syncer_runs", "Runs by result.", ["result"], registry=r)
        self.duration = Histogram(
            "syncer_run_duration_seconds",
            "Wall time of a run.",
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.flows = Gauge(
            "syncer_flows",
            "Flows by environment and status after the last run.",
            ["environment", "status"],
            registry=r,
        )
        self.drift = Gauge("syncer_drift_flows", "Drifted flows.", ["environment"], registry=r)
        self.conflict = Gauge(
            "syncer_conflict_flows", "Conflicting flows.", ["environment"], registry=r
        )
        self.last_success = Gauge(
            "syncer_last_successful_run_timestamp_seconds",
            "When the environment was last reconciled without error (Unix time).",
            ["environment"],
            registry=r,
        )
        self.last_run = Gauge(
            "syncer_last_run_timestamp_seconds",
            "When the last run finished (Unix time).",
            registry=r,
        )
        self.requests = Counter(
            "syncer_tenant_requests",
            "Tenant API answers by HTTP status code.",
            ["environment", "code"],
            registry=r,
        )
        self.window = Gauge(
            "syncer_window_holds_writes",
            "1 while a sync window holds the environment's writes.",
            ["environment"],
            registry=r,
        )
        self.refused = Gauge(
            "syncer_verify_refused",
            "1 when verify refused the commit in the last run.",
            ["environment"],
            registry=r,
        )
        self.up = Gauge(
            "syncer_environment_up",
            "1 when the last run reached the environment's tenant.",
            ["environment"],
            registry=r,
        )
        self.in_progress = Gauge(
            "syncer_run_in_progress", "1 while a run is in flight.", registry=r
        )
        self.period = Gauge(
            "syncer_schedule_period_seconds", "The configured period between runs.", registry=r
        )
        self.period.set(period)
        for result in RESULTS:
            self.runs.labels(result)  # every result shows, at 0, before it first happens

    def observe_run(self, run: RunRecord) -> None:
        self.runs.labels(run.result).inc()
        seconds = run.duration()
        if seconds is not None:
            self.duration.observe(seconds)
        finished = parse_time(run.finished_at)
        if finished is not None:
            self.last_run.set(finished.timestamp())

    def observe_requests(self, environment: str, codes: Mapping[int, int]) -> None:
        for code, count in codes.items():
            self.requests.labels(environment, str(code)).inc(count)

    def set_states(
        self, counts: Mapping[str, Mapping[str, int]], environments: Iterable[EnvironmentState]
    ) -> None:
        """The gauges from the latest states (after a run, or from the history at start)."""
        for environment, by_status in counts.items():
            for status in STATUSES:
                self.flows.labels(environment, status.value).set(by_status.get(status.value, 0))
            self.drift.labels(environment).set(by_status.get("drift", 0))
            self.conflict.labels(environment).set(by_status.get("conflict", 0))
        for env in environments:
            self.window.labels(env.environment).set(0 if env.window_open else 1)
            self.refused.labels(env.environment).set(1 if env.verify_refused else 0)
            self.up.labels(env.environment).set(1 if env.reached else 0)
            success = parse_time(env.last_success_at)
            if success is not None:
                self.last_success.labels(env.environment).set(success.timestamp())

    def render(self) -> bytes:
        return generate_latest(self.registry)
