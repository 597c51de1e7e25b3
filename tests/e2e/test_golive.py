"""Go-live end to end: preflight, publish and ids over real HTTP, real tenants, a real Git repo."""

from __future__ import annotations

import io
import json
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from syncer import yamlio
from syncer.model import ENVIRONMENT_HEADER, iter_value_items
from syncer.tenant.embedded import start_tenant

from .conftest import BP, BP_ONLY, EU
from .landscape import CANARY, ENV_CANARY, Landscape, example_flow, landscape, write_environment

MRN = "https://awellhealth.com/identifiers/mrn"
WRONG_MRN = "https://eu.example.org/identifiers/mrn"
PROD_SECRET = "prod-elation-secret-7f3c"  # set in Production by a person; as secret as the canaries


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Landscape]:
    with landscape(tmp_path, monkeypatch, BP_ONLY) as w:
        w.seed("sandbox", example_flow(BP))
        yield w


# -- helpers --------------------------------------------------------------------------------------


def _promote(world: Landscape) -> None:
    assert world.syncer("export", "--env", "sandbox", "--commit").code == 0
    result = world.syncer("apply", "--yes")
    assert result.code == 0, result.err


def _systems(world: Landscape, env: str, system: str) -> None:
    with world.client(env) as tenant:
        tenant.put_identifier_systems([{"name": "MRN", "display_name": "MRN", "system": system}])


def _declare_identifiers(world: Landscape, env: str, system: str = MRN) -> None:
    """What the environment file says the tenant must have (landscape does not write this key)."""
    path = world.repo / "environments" / f"{env}.yaml"
    data = yamlio.load_file(path).data
    data["identifier_systems"] = [{"name": "MRN", "system": system}]
    path.write_text(yamlio.dump(data, ENVIRONMENT_HEADER), "utf-8")
    world.commit_all(f"{env}: identifier systems")


def _set_value(ref: str, value: str) -> Callable[[dict[str, Any]], None]:
    def change(definition: dict[str, Any]) -> None:
        for found, item in iter_value_items(definition):
            if found == ref:
                item["value"] = value

    return change


def _preflight(world: Landscape, *argv: str) -> tuple[int, dict[str, Any]]:
    result = world.syncer("preflight", "--env", EU, "--output", "json", *argv)
    assert result.out, result.err
    return result.code, json.loads(result.out)


def _items(report: dict[str, Any], key: str = BP) -> dict[tuple[str, str], dict[str, Any]]:
    flow = next(f for f in report["flows"] if f["key"] == key)
    return {(i["check"], i["subject"]): i for i in flow["items"]}


def _versions(world: Landscape, env: str = EU) -> list[dict[str, Any]]:
    with world.client(env) as tenant:
        return tenant.versions(example_flow(BP)["metadata"]["definition_id"])


def _ready(world: Landscape) -> None:
    """Promoted, identifier systems equal, every concealed value set: nothing blocks."""
    _systems(world, "sandbox", MRN)
    _systems(world, EU, MRN)
    _declare_identifiers(world, EU)
    _promote(world)
    world.edit(EU, BP, _set_value("elation.client_secret", PROD_SECRET), hotfix=True)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the story ------------------------------------------------------------------------------------


def test_blocked_then_fixed_then_published(world: Landscape) -> None:
    _systems(world, "sandbox", MRN)
    _systems(world, EU, WRONG_MRN)
    _declare_identifiers(world, EU)
    _promote(world)

    code, report = _preflight(world, "--flow", BP)
    assert code == 3 and report["result"] == "block"
    items = _items(report)
    mrn = items[("identifier_system", "MRN")]
    assert mrn["level"] == "block"
    assert f"MRN is {MRN} in sandbox but {WRONG_MRN} in {EU}" in mrn["message"]
    assert "identifier-systems" in mrn["fix"]
    secret = items[("concealed_value", "elation.client_secret")]
    assert secret["level"] == "block" and "blank" in secret["message"]
    assert items[("concealed_value", "EHR_API_KEY")]["level"] == "pass"  # filled from $PROD_EU_...
    assert items[("plan_status", BP)]["level"] == "pass"
    assert items[("published", BP)]["level"] == "warn"  # never published
    assert items[("validation", BP)]["level"] == "pass"
    threshold = items[("environment_value", "ALERT_THRESHOLD_SYSTOLIC")]
    assert threshold["level"] == "warn" and "same as in sandbox" in threshold["message"]
    assert items[("environment_value", "EHR_BASE_URL")]["level"] == "pass"  # set by the env file

    refused = world.syncer("publish", "--env", EU, "--flow", BP, "--yes")
    assert refused.code == 3
    assert "identifier system MRN" in refused.err
    assert "concealed value elation.client_secret" in refused.err
    assert _versions(world) == []

    # What a team does: set the secret in Production (a value change, not drift) and fix the tenant.
    world.edit(EU, BP, _set_value("elation.client_secret", PROD_SECRET), hotfix=True)
    _systems(world, EU, MRN)
    plan = json.loads(world.syncer("plan", "--env", EU, "--output", "json").out)
    assert {f["key"]: f["status"] for f in plan["flows"]}[BP] == "in_sync"
    code, report = _preflight(world)
    assert code == 0 and report["result"] == "pass", report

    published = world.syncer("publish", "--env", EU, "--flow", BP, "--yes", "--output", "json")
    assert published.code == 0, published.err
    release = json.loads(published.out)["published"][0]["release_id"]
    [version] = _versions(world)
    assert version["release_id"] == release
    notes = version["notes"]
    assert f"git-commit: {world.git().head.commit.hexsha}" in notes
    assert "actor: ci-bot" in notes
    assert "preflight: 0 block" in notes and "blocking: none" in notes

    code, report = _preflight(world)
    assert code == 0 and _items(report)[("published", BP)]["level"] == "pass"

    ids = json.loads(world.syncer("ids", "--env", EU, "--output", "json").out)
    flow = ids[EU][BP]
    assert flow["release_id"] == release and flow["source"] == "tenant"
    assert flow["definition_id"] == example_flow(BP)["metadata"]["definition_id"]
    assert flow["data_points"]["MRN"] == "vNie3rMeZyZh"
    assert flow["forms"]["homeBpReading"]["questions"]["systolic"] == "Di3YjOKbx4jV"
    lines = world.syncer("ids", "--env", EU, "--output", "env").out.splitlines()
    assert f"SYNCER_PRODUCTION_EU_REMOTE_BP_MONITORING_RELEASE_ID={release}" in lines
    assert "SYNCER_PRODUCTION_EU_REMOTE_BP_MONITORING_DEFINITION_ID=aFrMdzm6aJhP" in lines


def test_concealed_values_never_leave_the_tenants(world: Landscape, tmp_path: Path) -> None:
    _ready(world)
    world.edit(EU, BP, _set_value("elation.base_url", "http://10.2.3.4/api"), hotfix=True)
    for output in ("text", "json", "markdown"):
        world.syncer("preflight", "--output", output)
    for output in ("json", "env", "markdown", "text"):
        assert world.syncer("ids", "--output", output).code == 0
    assert world.syncer("ids", "--env", "sandbox", "--output", "json").code == 0
    world.syncer("publish", "--env", EU, "--flow", BP, "--yes", "--force")
    world.syncer("publish", "--env", EU, "--flow", BP, "--yes", "--output", "json")
    everything = "\n".join(world.outputs) + json.dumps(_versions(world))
    assert "http://10.2.3.4/api" in everything  # a visible value is shown (and warned about) ...
    for secret in (CANARY, ENV_CANARY, PROD_SECRET):  # ... a concealed one never
        assert secret not in everything


def test_force_publishes_despite_blockers_and_records_them(world: Landscape) -> None:
    _systems(world, "sandbox", MRN)
    _systems(world, EU, MRN)
    _promote(world)  # elation.client_secret stays blank
    result = world.syncer("publish", "--env", EU, "--flow", BP, "--yes", "--force")
    assert result.code == 0, result.err
    [version] = _versions(world)
    assert "blocking: concealed value elation.client_secret" in version["notes"]
    assert "forced: yes" in version["notes"]


def test_source_without_a_key_is_a_warning_not_a_failure(
    world: Landscape, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ready(world)
    monkeypatch.delenv("SYNCER_SANDBOX_API_KEY")
    code, report = _preflight(world, "--flow", BP)
    assert code == 0
    items = _items(report)
    assert items[("source", "sandbox")]["level"] == "warn"
    assert "SYNCER_SANDBOX_API_KEY" in items[("source", "sandbox")]["message"]
    assert items[("identifier_system", "MRN")]["level"] == "pass"  # still checked against Git


def test_text_and_markdown_name_the_blocking_items(world: Landscape) -> None:
    _systems(world, "sandbox", MRN)
    _systems(world, EU, WRONG_MRN)
    _promote(world)
    text = world.syncer("preflight", "--env", EU)
    assert text.code == 3 and "identifier system MRN" in text.out and "BLOCKED" in text.out
    markdown = world.syncer("preflight", "--env", EU, "--output", "markdown")
    assert markdown.code == 3 and "## Preflight" in markdown.out
    assert "| ⛔ | concealed value elation.client\\_secret |" in markdown.out


def test_publish_asks_on_a_terminal(world: Landscape, monkeypatch: pytest.MonkeyPatch) -> None:
    _ready(world)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    result = world.syncer("publish", "--env", EU, "--flow", BP)
    assert result.code == 0 and "nothing published" in result.err
    assert _versions(world) == []
    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    assert world.syncer("publish", "--env", EU, "--flow", BP).code == 0
    assert len(_versions(world)) == 1


# -- bad input and faults -------------------------------------------------------------------------


def test_drifted_flow_is_never_published(world: Landscape) -> None:
    _ready(world)

    def retitle(definition: dict[str, Any]) -> None:
        definition["spec"]["tracks"][0]["steps"][0]["title"] = "HOTFIX: call first"

    world.edit(EU, BP, retitle, hotfix=True)
    code, report = _preflight(world, "--flow", BP)
    status = _items(report)[("plan_status", BP)]
    assert code == 3 and status["level"] == "block" and "drift" in status["message"]
    assert "dr.jansen" in status["message"]
    result = world.syncer("publish", "--env", EU, "--flow", BP, "--yes", "--force")
    assert result.code == 3 and "drift" in result.err and "even with --force" in result.err
    assert _versions(world) == []


def test_publish_without_publish_scope(world: Landscape, monkeypatch: pytest.MonkeyPatch) -> None:
    _ready(world)
    monkeypatch.setenv("SYNCER_PRODUCTION_EU_API_KEY", world.keys[EU]["studio"])  # read+write
    result = world.syncer("publish", "--env", EU, "--flow", BP, "--yes")
    assert result.code == 1
    assert "HTTP 403" in result.err and "scope publish" in result.err
    assert "Traceback" not in result.err
    assert _versions(world) == []


def test_key_that_cannot_read(
    world: Landscape, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "no-read-key-51f0e2a9"
    entries = [{"name": "blind", "key": key, "scopes": ["write", "publish"]}]
    with start_tenant("production-uk", "production", tmp_path / "uk.db", entries) as uk:
        write_environment(world.repo, "production-uk", uk.url, {"role": "target", "region": "uk"})
        monkeypatch.setenv("SYNCER_PRODUCTION_UK_API_KEY", key)
        for argv in (
            ("preflight", "--env", "production-uk"),
            ("ids", "--env", "production-uk"),
            ("publish", "--env", "production-uk", "--flow", BP, "--yes"),
        ):
            result = world.syncer(*argv)
            assert result.code == 1, argv
            assert "HTTP 403" in result.err and "scope read" in result.err, result.err


def test_tenant_that_does_not_answer(world: Landscape, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    write_environment(world.repo, "production-uk", url, {"role": "target", "region": "uk"})
    monkeypatch.setenv("SYNCER_PRODUCTION_UK_API_KEY", "any-key-123456")
    for argv in (
        ("preflight", "--env", "production-uk"),
        ("ids", "--env", "production-uk", "--output", "env"),
        ("publish", "--env", "production-uk", "--flow", BP, "--yes"),
    ):
        result = world.syncer(*argv)
        assert result.code == 1, argv
        assert "could not be reached" in result.err and "production-uk" in result.err


def test_flow_that_does_not_exist(world: Landscape) -> None:
    _promote(world)
    for argv in (
        ("preflight", "--env", EU, "--flow", "no-such-flow"),
        ("publish", "--env", EU, "--flow", "no-such-flow", "--yes"),
        ("ids", "--env", EU, "--flow", "no-such-flow"),
    ):
        result = world.syncer(*argv)
        assert result.code == 1 and "no-such-flow" in result.err, (argv, result.err)


def test_flow_in_git_but_not_in_the_tenant(world: Landscape) -> None:
    assert world.syncer("export", "--env", "sandbox", "--commit").code == 0
    code, report = _preflight(world, "--flow", BP)
    status = _items(report)[("plan_status", BP)]
    assert code == 3 and status["level"] == "block" and "create" in status["message"]
    result = world.syncer("publish", "--env", EU, "--flow", BP, "--yes", "--force")
    assert result.code == 1 and "nothing to publish" in result.err
    ids = json.loads(world.syncer("ids", "--env", EU, "--output", "json").out)
    assert ids[EU][BP]["source"] == "git" and ids[EU][BP]["release_id"] is None
    env_lines = world.syncer("ids", "--env", EU, "--output", "env").out
    assert "(from Git: not in the tenant yet)" in env_lines


def test_publish_needs_one_environment_and_a_flow(world: Landscape) -> None:
    result = world.syncer("publish", "--env", EU, "--yes")
    assert result.code == 1 and "--flow" in result.err
    result = world.syncer("publish", "--env", EU, "--env", "production-us", "--flow", BP)
    assert result.code == 1 and "exactly one --env" in result.err
    result = world.syncer("publish", "--env", "sandbox", "--flow", BP, "--yes")
    assert result.code == 1 and "source" in result.err
