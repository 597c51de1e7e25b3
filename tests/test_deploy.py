"""The deployment files say what the code does: alert rules name real metrics, manifests run real
`syncer` command lines with the probes and policies docs/operations.md promises. (`make lint` runs
hadolint and kubernetes-validate on the same files.)"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from syncer import cli
from syncer.serve.metrics import Metrics

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def _documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / name).read_text()) if d]


def _metric_names() -> set[str]:
    metrics = Metrics(300)
    metrics.flows.labels("production-eu", "drift").set(1)
    metrics.requests.labels("production-eu", "200").inc()
    metrics.last_success.labels("production-eu").set(1)
    for name in ("drift", "conflict", "window", "refused", "up"):
        getattr(metrics, name).labels("production-eu").set(0)
    return {s.name for family in metrics.registry.collect() for s in family.samples}


def test_every_alert_parses_and_names_metrics_that_exist() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus-rules.yaml").read_text())["groups"][0]["rules"]
    known = _metric_names()
    alerts = {rule["alert"] for rule in rules}
    assert {"SyncerStalled", "SyncerNewDrift", "SyncerRepeatedFailures"} <= alerts
    for rule in rules:
        promql_parser.parse(rule["expr"])  # raises on a syntax error
        for name in re.findall(r"\bsyncer_\w+", rule["expr"]):
            assert name in known, f"{rule['alert']} names {name}, which syncer does not export"


def _parses(argv: list[str]) -> Any:
    return cli.build_parser().parse_args(argv)


def test_the_deployment_runs_one_serve_with_probes_and_secrets_from_a_secret() -> None:
    deployment = next(d for d in _documents("serve.yaml") if d["kind"] == "Deployment")
    spec = deployment["spec"]
    assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate"
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    container = next(c for c in pod["containers"] if c["name"] == "syncer")
    args = _parses(container["args"])
    assert args.command == "serve" and args.host == "0.0.0.0" and args.fetch == "origin"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["envFrom"] == [{"secretRef": {"name": "syncer-secrets"}}]
    assert "value" not in json.dumps([e for e in container.get("env", []) if "KEY" in e["name"]])
    assert pod["terminationGracePeriodSeconds"] > 120  # longer than serve's wait for the write


def test_the_cronjob_alternative_runs_reconcile_and_never_overlaps() -> None:
    (cronjob,) = _documents("cronjob.yaml")
    assert cronjob["kind"] == "CronJob" and cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert _parses(container["args"]).command == "reconcile"
    assert container["envFrom"] == [{"secretRef": {"name": "syncer-secrets"}}]


def test_secret_names_match_the_code_and_the_example_environments() -> None:
    secrets = next(
        d for d in _documents("secret.example.yaml") if d["metadata"]["name"] == "syncer-secrets"
    )
    keys = set(secrets["stringData"])
    assert {"SYNCER_STATUS_TOKEN", "SYNCER_WEBHOOK_SECRET"} <= keys
    for path in (ROOT / "environments").glob("production-*.yaml"):
        data = yaml.safe_load(path.read_text())
        assert data["api_key_env"] in keys, path.name


def test_the_image_runs_serve_as_a_non_root_user() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER 10001", text, re.M)
    cmd = json.loads(re.search(r"^CMD (.+)$", text, re.M).group(1))  # type: ignore[union-attr]
    assert _parses(cmd).command == "serve"
    assert "pip uninstall --yes pip" in text  # no installer left in the image
