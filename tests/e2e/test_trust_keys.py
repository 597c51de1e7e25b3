"""Keys go only where the trusted side says (SPEC 4): a pull request that points an environment at a
host of its choosing never receives a key. The host is a listener on 127.0.0.1 recording every request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncer.client import TenantClient
from syncer.errors import ConfigError

from .conftest import BP, EU, EU_ONLY, promote
from .landscape import Landscape, landscape, write_environment
from .trust_kit import Listener, assert_nothing_leaked, assert_plan_schema, listener


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Landscape, Listener]]:
    """BP promoted to production-eu from main; branch `pr` points production-eu at the listener,
    reads its key from another variable, and adds an environment of its own there."""
    with landscape(tmp_path, monkeypatch, EU_ONLY) as w, listener() as attacker:
        promote(w, BP)
        repo = w.git()
        repo.git.checkout("-b", "pr")
        spec = {**EU_ONLY[EU]}
        write_environment(w.repo, EU, attacker.url, spec)
        path = w.repo / "environments" / f"{EU}.yaml"
        text = path.read_text("utf-8").replace(
            "SYNCER_PRODUCTION_EU_API_KEY", "SYNCER_SANDBOX_API_KEY"
        )
        path.write_text(text, "utf-8")
        write_environment(w.repo, "production-xx", attacker.url, {**spec, "region": "us"})
        monkeypatch.setenv("SYNCER_PRODUCTION_XX_API_KEY", "a-key-for-the-new-environment")
        w.commit_all("Point production-eu somewhere else")
        yield w, attacker
        assert_nothing_leaked(w)


def _plans(output: str) -> dict[str, dict[str, Any]]:
    data = json.loads(output)
    return {p["environment"]: p for p in (data if isinstance(data, list) else [data])}


def _assert_trusted_side_only(world: Landscape, attacker: Listener, output: str) -> None:
    assert_plan_schema(json.loads(output))
    plans = _plans(output)
    assert attacker.requests == []  # not a single request, so no key either
    eu = plans[EU]
    assert {f["key"]: f["status"] for f in eu["flows"]} == {BP: "in_sync"}  # the real tenant
    changes = {c["field"]: c for c in eu["environment_changes"]}
    assert changes["url"]["base"] == world.tenants[EU].url
    assert changes["url"]["head"] == attacker.url
    assert "never sent a key" in changes["url"]["note"]
    assert changes["api_key_env"]["head"] == "SYNCER_SANDBOX_API_KEY"
    new = plans["production-xx"]
    assert new["held"]["kind"] == "untrusted" and new["flows"] == []
    assert "did not contact it" in new["held"]["message"]


def test_report_on_a_pull_request_calls_only_the_base_urls(
    world: tuple[Landscape, Listener],
) -> None:
    w, attacker = world  # the checkout is the pull request's head
    result = w.syncer("report", "--base", "main", "--output", "json")
    assert result.code in (0, 2), result.err  # rendered; 2 with the plan's exit code (SPEC 7)
    _assert_trusted_side_only(w, attacker, result.out)
    markdown = w.syncer("report", "--base", "main", "--output", "markdown")
    assert markdown.code in (0, 2) and attacker.requests == []
    assert "Environment settings this change edits" in markdown.out
    assert attacker.url in markdown.out and "Not contacted: new in this change" in markdown.out
    text = w.syncer("report", "--base", "main", "--output", "text")
    assert text.code in (0, 2) and attacker.requests == [] and "url: base" in text.out


def test_plan_of_a_ref_calls_the_checkouts_urls(world: tuple[Landscape, Listener]) -> None:
    w, attacker = world
    w.git().git.checkout("main")
    result = w.syncer("plan", "--ref", "pr", "--output", "json")
    assert result.code == 2, result.err  # the settings change is a change to review
    _assert_trusted_side_only(w, attacker, result.out)
    report = w.syncer("report", "--ref", "pr", "--output", "json")
    assert report.code in (0, 2), report.err
    _assert_trusted_side_only(w, attacker, report.out)


def test_after_the_merge_the_new_url_is_the_trusted_one(world: tuple[Landscape, Listener]) -> None:
    """The head's URL is only called once the change is on the trusted side (here: merged)."""
    w, attacker = world
    w.git().git.checkout("main")
    w.git().git.merge("pr")
    result = w.syncer("plan", "--env", EU)
    assert result.code == 2  # the listener answers like an empty tenant: BP would be created
    assert attacker.authorizations  # merged, reviewed: that is where the key goes now


def test_plain_http_to_a_remote_host_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with landscape(tmp_path, monkeypatch, EU_ONLY) as w:
        write_environment(w.repo, EU, "http://tenant.example.org", EU_ONLY[EU])
        result = w.syncer("validate")
        assert result.code == 1
        assert "plain http:// to a host that is not loopback" in result.err
        w.commit_all("a remote tenant over http")
        plan = w.syncer("plan")
        assert plan.code == 1 and "clear text" in plan.err  # every command validates first
    with pytest.raises(ConfigError, match="clear text"):
        TenantClient(EU, "http://10.1.2.3:8402", "key")
