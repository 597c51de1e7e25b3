"""The two paths to a verdict agree: the fast path (a flow file's ``Digest`` and the tenant's list summary)
and the document path (the fetched live definition) give the same status and the same constants decisions
whenever the fast path settles a flow, and the fast path settles what syncer has just written."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from syncer.canonical import digest
from syncer.model import Environment, Role, Status, iter_value_items
from syncer.plan import (
    annotations_after,
    classify,
    desired_for,
    expected_from_digest,
    expected_from_document,
    settled,
    settled_by_summary,
    write_body,
)
from tests.conftest import tenant_view
from tests.strategies import careflows

SECRET = "s3cret-value-never-shown"
_VALUES = st.one_of(st.none(), st.text(max_size=8), st.integers(-5, 5), st.booleans())


def _environment(
    refs: list[str], concealed: list[str], draw: st.DrawFn, name: str = "production-eu"
) -> Environment:
    constants: dict[str, Any] = {}
    extensions: dict[str, dict[str, Any]] = {}
    for ref in refs:
        if draw(st.booleans()):
            value = draw(_VALUES)
            if "." in ref:
                extension, _, setting = ref.partition(".")
                extensions.setdefault(extension, {})[setting] = value
            else:
                constants[ref] = value
    secrets = {ref: f"VAR_{i}" for i, ref in enumerate(concealed) if draw(st.booleans())}
    return Environment(
        name, Role.TARGET, "eu", "https://eu.example.org", "KEY", None,
        constants=constants, secrets=secrets, extensions=extensions,
    )  # fmt: skip


@st.composite
def _worlds(draw: st.DrawFn) -> tuple[dict[str, Any], Environment, Environment, set[str]]:
    """A flow, the environment syncer applied it with, the one it plans with now, and the secret
    variables that are set."""
    document = draw(careflows())
    items = list(iter_value_items(document))
    plain = [ref for ref, item in items if not item.get("concealed")]
    concealed = [ref for ref, item in items if item.get("concealed")]
    applied_with = _environment(plain, concealed, draw)
    planned_with = applied_with if draw(st.booleans()) else _environment(plain, concealed, draw)
    available = {f"VAR_{i}" for i in range(len(concealed)) if draw(st.booleans())}
    return document, applied_with, planned_with, available


def _written(document: dict[str, Any], env: Environment, available: set[str]) -> dict[str, Any]:
    """The tenant's GET body right after syncer created the flow with ``env``."""
    plan = classify("k", desired_for(document, env), None, env, available.__contains__)
    body = write_body(plan, env, lambda variable: SECRET if variable in available else None)
    annotations = annotations_after(plan, git_commit="c1", actor="ci", now="t", revision=1)
    return {
        "definition_id": document["metadata"]["definition_id"],
        "key": "k",
        "revision": 1,
        "definition": tenant_view(body),
        "annotations": annotations,
    }


def _pending_secret(env: Environment, live: dict[str, Any]) -> bool:
    """A blank concealed item the environment names a source for: the fast path asks the tenant."""
    items = dict(iter_value_items(live["definition"]))
    return any(ref in env.secrets and not items[ref].get("has_value") for ref in items)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
@given(_worlds())
def test_the_digest_path_and_the_document_path_agree(
    world: tuple[dict[str, Any], Environment, Environment, set[str]],
) -> None:
    document, applied_with, env, available = world
    found = digest(document, ignores=[env.ignore])
    desired = desired_for(document, env)
    fast = expected_from_digest(found, env)
    assert fast == expected_from_document(desired, env)
    live = _written(document, applied_with, available)
    summary = {k: v for k, v in live.items() if k != "definition"}
    full = classify("k", desired, live, env, available.__contains__)
    if settled_by_summary(fast, summary, env):
        event("settled by the list summary")
        quick = settled(
            "k", found.definition_id, found.title, fast, summary, env, available.__contains__,
            lambda: desired,
        )  # fmt: skip
        assert full.status is quick.status is Status.IN_SYNC
        assert [d.to_json() for d in quick.constants] == [d.to_json() for d in full.constants]
        assert quick.desired_hash == full.desired_hash and quick.desired == desired
    else:
        event(f"document path: {full.status.value}")
        if env == applied_with:  # exactly as syncer wrote it: only a fillable secret needs a look
            assert _pending_secret(env, live), "the fast path must settle a flow as syncer wrote it"
