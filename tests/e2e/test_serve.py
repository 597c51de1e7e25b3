"""`syncer serve` against real tenants: runs, history, the page, metrics, the webhook, the token."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import git
import pytest
from prometheus_client.parser import text_string_to_metric_families

from syncer.cli import main
from syncer.serve import webhook

from .conftest import BP, FLOWS, retitle
from .landscape import CANARY, ENV_CANARY, ENVIRONMENTS, Landscape, example_flow, landscape
from .serving import Served, serving, settings

SECRET = "webhook-secret-for-tests-8c1f"
TOKEN = "status-token-for-tests-0123456789"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with landscape(tmp_path, monkeypatch) as w:
        for key in FLOWS:
            w.seed("sandbox", example_flow(key))
        assert w.syncer("export", "--env", "sandbox", "--commit").code == 0
        yield w


def metrics(served: Served) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = served.http.get("/metrics").text
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def gauge(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def push(served: Served, body: dict[str, Any], secret: str | None = SECRET, **headers: str) -> Any:
    raw = json.dumps(body).encode()
    sent = {"X-GitHub-Event": "push", "Content-Type": "application/json", **headers}
    if secret is not None:
        sent["X-Hub-Signature-256"] = webhook.signature(secret, raw)
    return served.http.post("/hooks/github", content=raw, headers=sent)


def test_first_run_applies_and_the_page_metrics_and_history_show_it(
    world: Landscape, tmp_path: Path
) -> None:
    with serving(settings(world.repo, tmp_path / "serve.db")) as served:
        served.wait_runs(1)
        runs = served.service.history.runs()
        assert [r.result for r in runs] == ["ok"] and runs[0].trigger == "start"
        assert runs[0].counts["writes"] == 5  # 3 flows in production-eu, 2 in production-us
        states = {(s.environment, s.flow): s for s in served.service.history.flow_states()}
        assert {s.status for s in states.values()} == {"in_sync"}
        assert states[("production-eu", BP)].applied_commit == world.git().head.commit.hexsha
        assert states[("production-eu", BP)].live_revision == 1
        page = served.http.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none'
        assert "<table" in page.text and "production-us" in page.text and "in sync" in page.text
        assert "not in this environment" in page.text  # production-us does not take every flow
        samples = metrics(served)
        assert gauge(samples, "syncer_flows", environment="production-eu", status="in_sync") == 3
        assert gauge(samples, "syncer_runs_total", result="ok") == 1
        assert gauge(samples, "syncer_drift_flows", environment="production-eu") == 0
        assert (
            gauge(samples, "syncer_tenant_requests_total", environment="production-eu", code="201")
            == 3
        )
        assert served.http.get("/healthz").json() == {"status": "ok"}
        ready = served.http.get("/readyz")
        assert ready.status_code == 200, ready.text
        audit = served.http.get("/api/runs", params={"environment": "production-us"}).json()
        assert [r["id"] for r in audit["runs"]] == [runs[0].id]
        one = served.http.get(f"/api/runs/{runs[0].id}").json()
        eu = next(e for e in one["environments"] if e["environment"] == "production-eu")
        assert {r["action"] for r in eu["report"]["results"]} == {"created"}


def test_planted_drift_reaches_the_gauge_banner_and_flow_page_after_a_webhook_run(
    world: Landscape, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = settings(world.repo, tmp_path / "serve.db", webhook_secret=SECRET, branch="main")
    with serving(config) as served:
        served.wait_runs(1)
        world.edit("production-eu", BP, retitle("Call the patient first"), hotfix=True)
        answer = push(
            served, {"ref": "refs/heads/main", "after": "abc123", "pusher": {"name": "ana"}}
        )
        assert answer.status_code == 202, answer.text
        served.wait_runs(2)
        latest = served.service.history.runs()[0]
        assert latest.trigger == "webhook: push by ana (abc123)" and latest.result == "attention"
        samples = metrics(served)
        assert gauge(samples, "syncer_drift_flows", environment="production-eu") == 1
        assert gauge(samples, "syncer_flows", environment="production-eu", status="drift") == 1
        page = served.http.get("/").text
        assert 'class="banner banner-drift" role="alert"' in page and "dr.jansen" in page
        flow = served.http.get(f"/flows/production-eu/{BP}")
        assert flow.status_code == 200
        assert "Call the patient first" in flow.text and "<svg" in flow.text
        assert "backport" in flow.text  # the report in words says what to do
        run = served.service.history.run(latest.id)
        assert run is not None
        reports = {e.environment: e.report["plan"] for e in run.environments}
        assert [f["key"] for f in reports["production-eu"]["flows"]] == [BP]  # only the news
        assert reports["production-eu"]["in_sync_not_listed"] == 2
        assert reports["production-us"]["flows"] == []
        assert served.http.get("/flows/production-eu/nope").status_code == 404


def test_bad_signatures_are_refused_and_change_nothing(world: Landscape, tmp_path: Path) -> None:
    config = settings(world.repo, tmp_path / "serve.db", webhook_secret=SECRET, branch="main")
    with serving(config) as served:
        served.wait_runs(1)
        before = served.service.history.runs()
        body = {"ref": "refs/heads/main", "after": "abc", "pusher": {"name": "mallory"}}
        assert push(served, body, secret=None).status_code == 401
        assert push(served, body, secret="not-the-secret").status_code == 401
        raw = json.dumps(body).encode()
        tampered = served.http.post(
            "/hooks/github",
            content=raw + b" ",
            headers={
                "X-GitHub-Event": "push",
                "X-Hub-Signature-256": webhook.signature(SECRET, raw),
            },
        )
        assert tampered.status_code == 401
        other = push(served, {**body, "ref": "refs/heads/feature"})
        assert other.status_code == 200 and other.json()["queued"] is False
        assert push(served, {"zen": "hi"}, **{"X-GitHub-Event": "ping"}).json()["detail"] == "pong"
        assert served.service.scheduler.pending is None and served.service.scheduler.running is None
        assert served.service.scheduler.runs_done == 1
        assert served.service.history.runs() == before


def test_webhook_is_off_without_a_secret(world: Landscape, tmp_path: Path) -> None:
    with serving(settings(world.repo, tmp_path / "serve.db")) as served:
        served.wait_runs(1)
        answer = push(served, {"ref": "refs/heads/main"}, secret="anything")
        assert answer.status_code == 404 and "SYNCER_WEBHOOK_SECRET" in answer.text
        assert served.service.scheduler.runs_done == 1


def test_the_token_guards_everything_but_probes_and_the_webhook(
    world: Landscape, tmp_path: Path
) -> None:
    with serving(settings(world.repo, tmp_path / "serve.db", status_token=TOKEN)) as served:
        served.wait_runs(1)
        for path in ("/", "/metrics", "/runs", "/api/runs", f"/flows/production-eu/{BP}"):
            answer = served.http.get(path)
            assert answer.status_code == 401, path
            assert "Basic" in answer.headers["www-authenticate"]
            assert (
                served.http.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
            )
            assert (
                served.http.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code
                == 200
            )
        basic = base64.b64encode(f"anyone:{TOKEN}".encode()).decode()
        assert served.http.get("/", headers={"Authorization": f"Basic {basic}"}).status_code == 200
        assert served.http.get("/healthz").status_code == 200
        assert served.http.get("/readyz").status_code in (200, 503)
        assert (
            served.http.post("/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 405
        )


def test_refuses_a_public_address_without_a_token_and_a_short_token(
    world: Landscape, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNCER_STATUS_TOKEN", raising=False)
    code = main(["serve", "--repo", str(world.repo), "--host", "0.0.0.0", "--port", "0"])
    err = capsys.readouterr().err
    assert code == 1 and "SYNCER_STATUS_TOKEN" in err and "Traceback" not in err
    monkeypatch.setenv("SYNCER_STATUS_TOKEN", "short")
    assert main(["serve", "--repo", str(world.repo), "--port", "0"]) == 1
    assert "at least 16" in capsys.readouterr().err


def test_a_deny_window_defers_writes_and_the_page_says_when_they_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hour = datetime.now(UTC).hour  # a deny window that opened this hour and lasts two
    deny = {"kind": "deny", "cron": f"0 {hour} * * *", "duration": "2h", "timezone": "UTC"}
    envs = {
        "sandbox": ENVIRONMENTS["sandbox"],
        "production-eu": {**ENVIRONMENTS["production-eu"], "windows": [deny]},
    }
    with landscape(tmp_path, monkeypatch, envs) as world:
        world.seed("sandbox", example_flow(BP))
        assert world.syncer("export", "--env", "sandbox", "--commit").code == 0
        with serving(settings(world.repo, tmp_path / "serve.db")) as served:
            served.wait_runs(1)
            run = served.service.history.run(served.service.history.runs()[0].id)
            assert run is not None and run.result == "deferred"
            assert run.environments[0].window_deferred and not run.environments[0].verify_refused
            assert world.syncer("plan").code == 2  # nothing was written
            page = served.http.get("/").text
            assert "Writes to production-eu are held" in page
            resume = datetime.now(UTC).replace(minute=0, second=0) + timedelta(hours=2)
            assert f'writes resume <time datetime="{resume:%Y-%m-%dT%H:%M}' in page
            assert "update (pending)" in page or "create (pending)" in page
            samples = metrics(served)
            assert gauge(samples, "syncer_window_holds_writes", environment="production-eu") == 1
            assert gauge(samples, "syncer_runs_total", result="deferred") == 1


def test_no_concealed_value_or_key_in_any_page_metric_log_or_the_database(
    world: Landscape, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    keys = [k for env in world.keys.values() for k in env.values()]
    config = settings(world.repo, tmp_path / "serve.db", webhook_secret=SECRET, branch="main")
    main(["--log-format", "json", "validate", "--repo", str(world.repo)])  # JSON logs from here on
    with serving(config) as served:
        served.wait_runs(1)
        world.edit("production-eu", BP, retitle("Hotfix"), hotfix=True)
        world.edit("sandbox", "depression-screening", retitle("Changed in Sandbox"))
        assert world.syncer("export", "--env", "sandbox", "--commit").code == 0
        push(served, {"ref": "refs/heads/main", "after": "x", "pusher": {"name": "ana"}})
        served.wait_runs(2)
        paths = ["/", "/runs", "/metrics", "/api/runs"]
        paths += [f"/runs/{r.id}" for r in served.service.history.runs()]
        paths += [f"/api/runs/{r.id}" for r in served.service.history.runs()]
        paths += [f"/flows/{s.environment}/{s.flow}" for s in served.service.history.flow_states()]
        everything = "\n".join(served.http.get(p).text for p in paths)
    captured = capfd.readouterr()
    assert '"event": "flow.created"' in captured.err and '"run_id"' in captured.err
    everything += captured.out + captured.err + "\n".join(world.outputs)
    for db in tmp_path.glob("serve.db*"):
        everything += db.read_bytes().decode("utf-8", "replace")
    for secret in (CANARY, ENV_CANARY, *keys):
        assert secret not in everything


def test_fetch_follows_the_remote_without_touching_the_checkout(
    world: Landscape, tmp_path: Path
) -> None:
    origin = tmp_path / "origin.git"
    world.git().git.clone("--bare", str(world.repo), str(origin))
    world.git().git.remote("add", "origin", str(origin))
    checkout = tmp_path / "checkout"
    world.git().git.clone(str(origin), str(checkout))
    before = git.Repo(checkout).head.commit.hexsha
    config = settings(
        checkout, tmp_path / "serve.db", fetch="origin", ref="origin/main", webhook_secret=SECRET
    )
    with serving(config) as served:
        served.wait_runs(1)
        world.edit("sandbox", BP, retitle("Merged on main"))
        assert world.syncer("export", "--env", "sandbox", "--commit").code == 0
        world.git().git.push("origin", "main")
        merged = world.git().head.commit.hexsha
        assert served.service.branch == "main"
        answer = push(
            served, {"ref": "refs/heads/main", "after": merged, "pusher": {"name": "ana"}}
        )
        assert answer.status_code == 202
        served.wait_runs(2)
        state = served.service.history.flow_state("production-eu", BP)
        assert state is not None and state.applied_commit == merged and state.outcome == "updated"
        live = world.live("production-eu", BP)["definition"]
        assert live["spec"]["tracks"][0]["steps"][0]["title"] == "Merged on main"
    assert git.Repo(checkout).head.commit.hexsha == before  # the work tree never moved


def test_readiness_fails_when_a_tenant_stops_answering(world: Landscape, tmp_path: Path) -> None:
    with serving(settings(world.repo, tmp_path / "serve.db")) as served:
        assert served.http.get("/readyz").status_code in (200, 503)
        served.wait_runs(1)
        assert served.http.get("/readyz").status_code == 200
        world.tenants["production-us"].stop()
        served.service._probes.clear()  # the probe answer is cached for ten seconds
        answer = served.http.get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["problems"] == ["tenant production-us does not answer /healthz"]


def test_verify_refusing_the_commit_is_recorded_as_refused_not_deferred(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    envs = {
        "sandbox": ENVIRONMENTS["sandbox"],
        "production-eu": {
            **ENVIRONMENTS["production-eu"],
            "verify": {"signed_commits": True, "allowed_signers_env": "SYNCER_ALLOWED_SIGNERS"},
        },
    }
    trust = tmp_path / "operator" / "allowed_signers"  # outside the repository: nobody in it
    trust.parent.mkdir()
    trust.write_text("", "utf-8")
    monkeypatch.setenv("SYNCER_ALLOWED_SIGNERS", str(trust))
    with landscape(tmp_path, monkeypatch, envs) as world:
        world.seed("sandbox", example_flow(BP))
        assert world.syncer("export", "--env", "sandbox", "--commit").code == 0
        with serving(settings(world.repo, tmp_path / "serve.db")) as served:
            served.wait_runs(1)
            run = served.service.history.run(served.service.history.runs()[0].id)
            assert run is not None and run.result == "refused"
            (env,) = run.environments
            assert env.verify_refused and not env.window_deferred and "unsigned" in env.detail
            assert world.syncer("plan").code == 2  # nothing was written
            page = served.http.get("/").text
            assert "Verify refused the commit for production-eu" in page
            samples = metrics(served)
            assert gauge(samples, "syncer_verify_refused", environment="production-eu") == 1
            assert gauge(samples, "syncer_window_holds_writes", environment="production-eu") == 0


def test_an_oversized_delivery_is_refused_before_it_is_read_whole(
    world: Landscape, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook, "MAX_BODY", 1000)
    config = settings(world.repo, tmp_path / "serve.db", webhook_secret=SECRET)
    with serving(config) as served:
        served.wait_runs(1)
        body = b"x" * 5000

        def chunks() -> Any:
            yield from (body[i : i + 500] for i in range(0, len(body), 500))

        sent = {"X-GitHub-Event": "push", "X-Hub-Signature-256": webhook.signature(SECRET, body)}
        assert served.http.post("/hooks/github", content=chunks(), headers=sent).status_code == 413
        assert served.http.post("/hooks/github", content=body, headers=sent).status_code == 413
        assert served.service.scheduler.runs_done == 1


def test_hostile_deliveries_and_hosts_found_by_probing(world: Landscape, tmp_path: Path) -> None:
    """A signed push nested past what json reads was a 500 with a traceback; a lone surrogate in the
    pusher's name killed the run thread; without a token, any Host was answered (DNS rebinding)."""
    config = settings(world.repo, tmp_path / "serve.db", webhook_secret=SECRET)
    with serving(config) as served:
        served.wait_runs(1)
        deep = b'{"ref": "refs/heads/main", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        sent = {"X-GitHub-Event": "push", "X-Hub-Signature-256": webhook.signature(SECRET, deep)}
        answer = served.http.post("/hooks/github", content=deep, headers=sent)
        assert answer.status_code == 200 and answer.json()["queued"] is False

        raw = b'{"ref": "refs/heads/main", "pusher": {"name": "\\ud800\\u001b[31m"}}'
        sent = {"X-GitHub-Event": "push", "X-Hub-Signature-256": webhook.signature(SECRET, raw)}
        assert served.http.post("/hooks/github", content=raw, headers=sent).status_code == 202
        served.wait_runs(2)
        assert served.service.scheduler.alive
        assert served.http.get("/healthz").status_code == 200
        (latest,) = served.http.get("/api/runs").json()["runs"][:1]
        assert "\x1b" not in json.dumps(latest) and "\\ud800" not in json.dumps(latest)

        rebound = served.http.get("/api/runs", headers={"Host": "attacker.example"})
        assert rebound.status_code == 421 and "runs" not in rebound.text
        assert served.http.get("/api/runs", headers={"Host": "localhost:1"}).status_code == 200
    assert oct((tmp_path / "serve.db").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--every", "nan"), ("--every", "inf"), ("--jitter", "inf"), ("--keep-days", "nan")],
)
def test_a_schedule_that_is_not_a_number_of_seconds_is_refused(
    world: Landscape, tmp_path: Path, flag: str, value: str
) -> None:
    """`--every nan` ran every second; `inf` killed the run thread with OverflowError."""
    result = world.syncer("serve", flag, value, "--db", str(tmp_path / "serve.db"))
    assert result.code == 1 and flag in result.err and "Traceback" not in result.err
    assert not (tmp_path / "serve.db").exists()


def test_only_two_webhook_bodies_are_read_at_once(world: Landscape, tmp_path: Path) -> None:
    """Found by probing: 30 unsigned 24 MB deliveries at once held 674 MB (each body is read whole
    before its signature can be checked). Two slow uploads hold the two read slots; a third is 503."""
    import socket
    from urllib.parse import urlsplit

    config = settings(world.repo, tmp_path / "serve.db", webhook_secret=SECRET)
    with serving(config) as served:
        served.wait_runs(1)
        address = urlsplit(served.url)
        slow = []
        for _ in range(2):
            conn = socket.create_connection((address.hostname, address.port))
            conn.sendall(
                b"POST /hooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n"
                b"X-GitHub-Event: push\r\nX-Hub-Signature-256: sha256=00\r\n\r\n" + b"x" * 10
            )  # the rest of the body never comes: the handler waits, holding a slot
            slow.append(conn)
        try:
            answer = None
            for _ in range(100):  # until both slow uploads are inside the handler
                answer = push(served, {"ref": "refs/heads/main"})
                if answer.status_code == 503:
                    break
            assert answer is not None and answer.status_code == 503, answer
            assert "busy" in answer.json()["detail"]
        finally:
            for conn in slow:
                conn.close()
        for _ in range(100):  # the slots are free again once the uploads are gone
            if push(served, {"ref": "refs/heads/other"}).status_code == 200:
                break
        else:
            raise AssertionError("the read slots were never released")
