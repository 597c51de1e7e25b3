"""Issue 15: every defect found by probing syncer as a hostile user would, each as a whole story
over real tenants, a real Git repository and real files. Each test failed before its fix.

The chaos suite (``make chaos``, tests/chaos/) keeps finding them, with many more inputs; these are
the stories behind its numbers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from syncer import canonical, model, yamlio
from tests.faultserver import PASS, Fault, FaultProxy, Proxied

from .conftest import BP, DS, EU, EU_ONLY, retitle
from .landscape import (
    CANARY,
    ENV_CANARY,
    ENVIRONMENTS,
    Landscape,
    example_flow,
    landscape,
    tree_bytes,
    write_environment,
)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with landscape(tmp_path, monkeypatch, EU_ONLY) as w:
        w.seed("sandbox", example_flow(BP))
        assert w.syncer("export", "--env", "sandbox", "--commit").code == 0
        yield w


def _states(world: Landscape) -> dict[str, list[tuple[str, int]]]:
    """Every tenant's flows and revisions: what a write would change."""
    found = {}
    for env in world.tenants:
        with world.client(env) as tenant:
            found[env] = sorted((s["key"], s["revision"]) for s in tenant.list_flows())
    return found


def _clear(result: Any, *words: str) -> None:
    text = result.out + result.err
    assert "Traceback" not in text and result.code != 4, text
    for word in words:
        assert word in text, f"{word!r} not in:\n{text}"
    assert CANARY not in text and ENV_CANARY not in text


# -- item 1: a definition id `..` ----------------------------------------------------------------


def test_an_id_of_dots_stops_apply_before_any_write(world: Landscape) -> None:
    flow = example_flow(DS)
    flow["metadata"]["definition_id"] = ".."
    path = world.repo / "flows" / DS / "flow.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yamlio.dump(canonical.canonicalize(flow), model.flow_file_header()), "utf-8")
    world.commit_all("a flow whose id is `..`")
    before = _states(world)
    result = world.syncer("apply", "--yes")
    assert result.code == 1
    _clear(result, f"flows/{DS}/flow.yaml:", "not only dots")
    assert _states(world) == before  # BP was not written first
    assert world.syncer("export", "--env", "sandbox").code == 0  # Sandbox still exports


# -- item 4 (and 11): an environment listing a flow that is not in flows/ --------------------------


def test_an_environment_listing_a_missing_flow_stops_plan_and_apply(world: Landscape) -> None:
    spec = {**ENVIRONMENTS[EU], "flows": [BP, "remote-bp-monitorin"]}
    write_environment(world.repo, EU, world.tenants[EU].url, spec)
    world.commit_all("a typo in flows:")
    before = _states(world)
    for command in (("validate",), ("plan",), ("apply", "--yes"), ("reconcile",)):
        result = world.syncer(*command)
        assert result.code == 1, command
        _clear(result, f"environments/{EU}.yaml:", "`remote-bp-monitorin` is not in flows/")
        assert f"Did you mean `{BP}`?" in result.err
    assert _states(world) == before


def test_an_unparsable_flow_is_not_also_missing_from_flows(world: Landscape) -> None:
    spec = {**ENVIRONMENTS[EU], "flows": [BP]}
    write_environment(world.repo, EU, world.tenants[EU].url, spec)
    path = world.repo / "flows" / BP / "flow.yaml"
    path.write_text(path.read_text("utf-8") + "\n  broken: [\n", "utf-8")
    result = world.syncer("validate")
    assert result.code == 1
    _clear(result, f"flows/{BP}/flow.yaml:", "invalid YAML")
    assert "is not in flows/" not in result.err


# -- item 5: backport --to-sandbox with a read-only Sandbox key ------------------------------------


def test_backport_to_sandbox_with_a_read_only_key_creates_nothing(
    world: Landscape, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert world.syncer("apply", "--yes").code == 0
    world.edit(EU, BP, retitle("Hotfixed in Production"), hotfix=True)
    monkeypatch.setenv("SYNCER_SANDBOX_API_KEY", world.keys["sandbox"]["reader"])
    heads = {h.name for h in world.git().heads}
    head = world.git().head.commit.hexsha
    sandbox = world.live("sandbox", BP)["revision"]
    result = world.syncer("backport", "--env", EU, "--flow", BP, "--to-sandbox")
    assert result.code == 1
    _clear(result, "environment sandbox", "HTTP 403", "write", "nothing was created")
    assert world.keys["sandbox"]["reader"] not in result.out + result.err
    assert {h.name for h in world.git().heads} == heads
    assert world.git().head.commit.hexsha == head and not world.git().is_dirty()
    assert world.live("sandbox", BP)["revision"] == sandbox
    monkeypatch.setenv("SYNCER_SANDBOX_API_KEY", world.keys["sandbox"]["syncer-ci"])
    done = world.syncer("backport", "--env", EU, "--flow", BP, "--to-sandbox")
    assert done.code == 0, done.err
    assert world.live("sandbox", BP)["revision"] == sandbox + 1


# -- item 7: plan --out into a missing folder or onto a folder -------------------------------------


@pytest.mark.parametrize("where", ["missing/plan.json", "."])
def test_plan_out_that_cannot_be_written_is_refused_first(world: Landscape, where: str) -> None:
    target = world.root / where
    result = world.syncer("plan", "--out", str(target))
    assert result.code == 1 and result.out == ""
    _clear(result, "--out", str(target))
    assert "does not exist" in result.err or "is a folder" in result.err
    assert not (world.root / "missing").exists()


def test_plan_out_is_written_after_the_plan_is_printed(world: Landscape) -> None:
    target = world.root / "plan.json"
    result = world.syncer("plan", "--out", str(target), "--output", "json")
    assert result.code == 2 and json.loads(target.read_text("utf-8"))[0]["environment"] == EU
    assert json.loads(result.out)["environment"] == EU


# -- item 8: live equals desired after a lost answer ------------------------------------------------


def _via_proxy(world: Landscape, proxy: FaultProxy) -> None:
    write_environment(world.repo, EU, proxy.url, ENVIRONMENTS[EU])
    world.commit_all("production-eu behind a fault proxy")


def _first(method: str, fault: Fault) -> Any:
    used: list[bool] = []

    def rule(request: Proxied) -> Fault:
        if request.method == method and not used:
            used.append(True)
            return fault
        return PASS

    return rule


@pytest.mark.parametrize("kind", ["reset_after", "status_after", "truncate", "garbage_after"])
def test_a_write_whose_answer_was_lost_is_success(world: Landscape, kind: str) -> None:
    with FaultProxy(world.tenants[EU].url, _first("PUT", Fault(kind, status=502))) as proxy:
        _via_proxy(world, proxy)
        result = world.syncer("apply", "--yes")
        assert [f.fault for f in proxy.faults()] == [kind] and proxy.faults()[0].forwarded
    assert result.code == 0, result.err
    _clear(result, f"{EU}: {BP}: unchanged", "answer was lost")
    assert "refused" not in result.err and "needs a person" not in result.err
    assert world.live(EU, BP)["revision"] == 1  # written once, never twice
    write_environment(world.repo, EU, world.tenants[EU].url, ENVIRONMENTS[EU])
    world.commit_all("production-eu direct again")
    plan = world.syncer("plan")
    assert plan.code == 0, plan.out


def test_an_identical_apply_that_won_the_race_is_success(world: Landscape) -> None:
    """Two runners plan the same commit at once; the other one's create lands first, so this one's
    meets an existing flow (412) that is exactly what it wanted to write."""
    other = world.root / "other-runner"
    shutil.copytree(world.repo, other)

    def race(request: Proxied) -> Fault:
        if request.method == "PUT" and not ran:
            ran.append(_syncer(other, "apply", "--yes"))  # a second runner, straight to the tenant
        return PASS

    ran: list[subprocess.CompletedProcess[str]] = []
    with FaultProxy(world.tenants[EU].url, race) as proxy:
        _via_proxy(world, proxy)
        result = world.syncer("apply", "--yes")
    assert ran and ran[0].returncode == 0, ran[0].stderr
    assert result.code == 0, result.err
    _clear(result, f"{EU}: {BP}: unchanged", "another apply wrote the same")
    assert world.live(EU, BP)["revision"] == 1


def _syncer(repo: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "syncer", *argv, "--repo", str(repo)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


# -- item 9: a secret source whose variable is unset ------------------------------------------------


def test_an_unset_secret_source_is_named_and_blocks_preflight(
    world: Landscape, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROD_EU_EHR_API_KEY")
    plan = world.syncer("plan")
    _clear(plan, "EHR_API_KEY: blank", "$PROD_EU_EHR_API_KEY is not set")
    data = json.loads(world.syncer("plan", "--output", "json").out)
    decision = next(c for c in data["flows"][0]["constants"] if c["key"] == "EHR_API_KEY")
    assert decision["decision"] == "blank" and decision["missing_source"] == "PROD_EU_EHR_API_KEY"
    applied = world.syncer("apply", "--yes")
    _clear(applied, "EHR_API_KEY left blank", "$PROD_EU_EHR_API_KEY is not set")
    checked = world.syncer("preflight", "--env", EU, "--output", "json")
    assert checked.code == 3
    items = json.loads(checked.out)["flows"][0]["items"]
    blocking = [i for i in items if i["check"] == "secret_source"]
    assert blocking and blocking[0]["level"] == "block"
    assert "PROD_EU_EHR_API_KEY" in blocking[0]["message"] + blocking[0]["fix"]
    monkeypatch.setenv("PROD_EU_EHR_API_KEY", ENV_CANARY)
    assert world.syncer("apply", "--yes").code == 0  # the secret is filled once it is set
    checked = world.syncer("preflight", "--env", EU, "--output", "json")
    items = json.loads(checked.out)["flows"][0]["items"]
    assert not [i for i in items if i["check"] == "secret_source"]


# -- item 11: smaller -----------------------------------------------------------------------------------


def test_plan_and_apply_refuse_a_link_out_of_the_repository(world: Landscape) -> None:
    outside = world.root / "outside.yaml"
    path = world.repo / "flows" / BP / "flow.yaml"
    outside.write_bytes(path.read_bytes())
    path.unlink()
    os.symlink(outside, path)
    world.commit_all("a link out of the repository")
    before = _states(world)
    for command in (("validate",), ("plan",), ("apply", "--yes")):
        result = world.syncer(*command)
        assert result.code == 1, command
        _clear(result, f"flows/{BP}/flow.yaml", "outside the repository", "symbolic link")
    assert _states(world) == before


def test_reconcile_every_must_be_a_schedule(world: Landscape) -> None:
    before = _states(world), tree_bytes(world.repo)
    for every in ("-5", "0", "0.5", "nan"):
        result = world.syncer("reconcile", "--every", every, "--max-runs", "1")
        assert result.code == 1, every
        _clear(result, "--every", "at least 1")
    assert (_states(world), tree_bytes(world.repo)) == before


def test_tenant_details_are_bounded_and_masked_in_every_encoding(
    world: Landscape, tmp_path: Path
) -> None:
    """A tenant (or proxy) echoing the request in a 20,000-character detail, in escaped forms."""
    from tests.faultserver import FaultServer, Reply

    secret = 'CANARY-"quoted"\\back\tslash-e2e'
    escaped = json.dumps(secret)[1:-1]
    with FaultServer() as server:
        server.responder = lambda r: Reply(
            422,
            {
                "type": "about:blank",
                "title": "invalid",
                "status": 422,
                "detail": "you sent " + r.body.decode() + " " + "x" * 20_000,
                "errors": [{"path": f"/e/{n}", "message": escaped} for n in range(50)],
            },
            content_type="application/problem+json",
        )
        flow = yamlio.load_file(world.repo / "flows" / BP / "flow.yaml").data
        from syncer.client import TenantClient

        with TenantClient(EU, server.url, "a-key-1234567", retries=0) as client:
            for item in flow["spec"]["settings"]["constants"]:
                if item.get("concealed"):
                    item["value"] = secret
            with pytest.raises(Exception) as caught:
                client.put_flow(flow["metadata"]["definition_id"], flow, create=True)
    message = str(caught.value)
    assert escaped not in message and secret not in message and "***" in message
    assert max(len(line) for line in message.splitlines()) < 1200
    assert "more characters" in message and "and 30 more" in message


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_nul_byte_is_located_and_says_what_to_do(world: Landscape, command: str) -> None:
    path = world.repo / "flows" / BP / "flow.yaml"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    lines[5] = lines[5].rstrip("\n") + "\x00\n"
    path.write_text("".join(lines), "utf-8")
    result = world.syncer(command)
    assert result.code == 1
    _clear(result, f"flows/{BP}/flow.yaml:6:", "U+0000 (NUL)", "save the file as plain UTF-8")


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_an_oversized_file_says_what_to_do(world: Landscape, command: str) -> None:
    path = world.repo / "flows" / BP / "flow.yaml"
    with path.open("a", encoding="utf-8") as stream:
        stream.write(("# padding\n" * 1024) * 1100)
    result = world.syncer(command)
    assert result.code == 1
    _clear(result, f"flows/{BP}/flow.yaml", "over the 10485760 byte limit", "Split the flow")
