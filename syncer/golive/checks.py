"""The go-live checklist of ``syncer preflight``: pure checks over what was read. No I/O.

``checklist(facts)`` turns what the tenants and Git say about one flow in one target environment
into items, each ``pass``, ``warn`` or ``block``, with a message and what to do. The checks, and why
each exists, are described in docs/go-live.md. A concealed value is never read here: items about
concealed constants and settings are built from ``has_value`` flags only. Levels, items and the
text of what to do are in ``items``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import Problem
from ..model import (
    ANN_GIT_COMMIT,
    Decision,
    Environment,
    FlowPlan,
    Status,
    is_constant_ref,
    iter_value_items,
)
from ..plan.values import git_or_environment
from ..validate import check_definition
from .items import FlowChecklist, Item, Level, fix_text

_SANDBOX_WORDS = ("sandbox", "staging", "development", "localhost")
_IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")
_CONSTANT = re.compile(r"\{\{\s*constants\.[A-Z][A-Z0-9_]*\s*\}\}")
_AUTHORITY = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)")
_API_CALLS = ("api_call", "api_call_graphql")
_MAX_PROBLEMS = 5


@dataclass(frozen=True)
class FlowFacts:
    """Everything the checks need about one flow, as read by the command.

    ``live`` is the destination's GET body (summary fields plus ``definition``), None when the flow
    is not there; ``source_live`` is the source tenant's GET body of the same flow.
    ``source_systems`` is None when the source tenant was not consulted (``source_note`` says why).
    """

    env: Environment
    plan: FlowPlan
    live: dict[str, Any] | None
    git: dict[str, Any] | None
    destination_systems: list[dict[str, Any]]
    source_name: str | None = None
    source_systems: list[dict[str, Any]] | None = None
    source_live: dict[str, Any] | None = None
    source_note: str = ""


def checklist(facts: FlowFacts) -> FlowChecklist:
    """The go-live checklist of one flow: every item, most fundamental first."""
    plan = facts.plan
    result = FlowChecklist(
        facts.env.name, plan.key, plan.definition_id, plan.title, plan.status, plan.live_revision
    )
    result.items.append(plan_status(plan, facts.env))
    annotations = (facts.live or {}).get("annotations") or {}
    result.applied_commit = str(annotations.get(ANN_GIT_COMMIT, ""))
    definition = (facts.live or {}).get("definition")
    if facts.source_note:
        source = facts.source_name or "none"
        result.items.append(
            Item("source", source, Level.WARN, facts.source_note, fix_text("source"))
        )
    if isinstance(definition, dict):
        result.items.extend(validation(definition, plan.key, facts.env.name))
    result.items.extend(identifier_systems(facts, definition or facts.git))
    result.items.extend(secret_sources(plan, facts.env))
    if isinstance(definition, dict) and facts.live is not None:
        result.items.extend(concealed_checks(definition, facts.env))
        compared = (facts.source_live or {}).get("definition")
        result.items.extend(environment_values(definition, facts.env, facts.source_name, compared))
        result.items.extend(api_endpoints(definition))
        result.items.append(published(facts.live, facts.env.name, plan.key))
    return result


_STATUS_MESSAGES = {
    Status.CREATE: "the flow is not in {env} yet",
    Status.UPDATE: "Git has changes that are not applied to the working version yet",
    Status.DRIFT: "the working version was edited in {env} since syncer's last apply{by}",
    Status.CONFLICT: "both Git and {env}{by} changed the flow since syncer's last apply",
    Status.UNMANAGED: "the flow in {env} is not managed by syncer and differs from Git",
    Status.ORPHANED: "the flow is managed by syncer in {env} but no longer in Git",
    Status.UNTRACKED: "the flow exists only in {env}: never written by syncer, not in Git",
}


def plan_status(plan: FlowPlan, env: Environment) -> Item:
    """The three-way status as a checklist item (SPEC 6)."""
    if plan.status is Status.IN_SYNC:
        return Item("plan_status", plan.key, Level.PASS, "the working version matches Git")
    users = sorted({e.user for e in plan.live_edits if e.user})
    by = f" (by {', '.join(users)})" if users else ""
    message = _STATUS_MESSAGES[plan.status].format(env=env.name, by=by)
    message += f" ({plan.reason})" if plan.reason else ""
    target = f"--env {env.name} --flow {plan.key}"
    fix = fix_text(plan.status.value, target=target, key=plan.key, env=env.name)
    level = Level.WARN if plan.status is Status.ORPHANED else Level.BLOCK
    return Item("plan_status", plan.key, level, f"{plan.status.value}: {message}", fix)


def validation(definition: dict[str, Any], key: str, environment: str) -> list[Item]:
    """The live working version checked as the file it would be in Git: its errors block, and what
    the draft leaves unfinished (an unreachable step, an empty track, ...) is a warning."""
    warnings: list[Problem] = []
    display = f"{environment}:{key} (working version)"
    problems = [str(p) for p in check_definition(definition, key, display, warnings)]
    items = []
    if not problems:
        items.append(
            Item("validation", key, Level.PASS, "the working version is a valid care flow")
        )
    else:
        message = f"the working version has {_listed(problems, 'problem')}"
        items.append(Item("validation", key, Level.BLOCK, message, fix_text("validation")))
    if warnings:
        message = (
            f"the working version is a draft: {_listed([str(w) for w in warnings], 'warning')}"
        )
        items.append(Item("draft", key, Level.WARN, message, fix_text("draft")))
    return items


def _listed(found: list[str], what: str) -> str:
    shown = "; ".join(found[:_MAX_PROBLEMS])
    more = f" (and {len(found) - _MAX_PROBLEMS} more)" if len(found) > _MAX_PROBLEMS else ""
    return f"{len(found)} {what}(s): {shown}{more}"


def identifiers_used(definition: dict[str, Any] | None) -> dict[str, str | None]:
    """Identifier name -> system URI (or None) of every ``patient_identifier`` data point."""
    used: dict[str, str | None] = {}
    spec = (definition or {}).get("spec") or {}
    for point in spec.get("data_point_definitions") or []:
        if not isinstance(point, dict) or point.get("category") != "patient_identifier":
            continue
        name = str(point.get("key") or point.get("qualified_key") or "")
        systems = [
            str(m["value"])
            for m in point.get("metadata") or []
            if isinstance(m, dict) and m.get("key") == "system" and m.get("value")
        ]
        if name:
            used[name] = systems[0] if systems else used.get(name)
    return used


def _systems(items: list[dict[str, Any]] | tuple[dict[str, Any], ...]) -> dict[str, str]:
    return {str(i.get("name")): str(i.get("system", "")) for i in items if isinstance(i, dict)}


def identifier_systems(facts: FlowFacts, definition: dict[str, Any] | None) -> list[Item]:
    """Each identifier system the flow uses or the environment lists, compared across tenants."""
    env, source_name = facts.env, facts.source_name or "the source"
    used = identifiers_used(definition)
    listed = _systems(env.identifier_systems)
    destination = _systems(facts.destination_systems)
    source = None if facts.source_systems is None else _systems(facts.source_systems)
    items = []
    for name in sorted(set(used) | set(listed)):
        expected: list[tuple[str, str]] = []
        if source is not None and name in source:
            expected.append((source_name, source[name]))
        if used.get(name):
            expected.append(("the flow's data point", str(used[name])))
        if name in listed:
            expected.append((f"environments/{env.name}.yaml", listed[name]))
        items.append(_identifier_item(name, expected, destination.get(name), env.name))
        if source is not None and name not in source:
            system = f" with system {destination[name]}" if name in destination else ""
            fix = fix_text("identifier_source", name=name, system=system, source=source_name)
            message = f"{name} does not exist in {source_name}; every environment should have it"
            items.append(Item("identifier_system", name, Level.WARN, message, fix))
    return items


def _identifier_item(
    name: str, expected: list[tuple[str, str]], actual: str | None, env: str
) -> Item:
    if actual is None:
        where = f" ({expected[0][0]} has {expected[0][1]})" if expected else ""
        system = f" with system {expected[0][1]}" if expected else ""
        fix = fix_text("identifier_missing", name=name, system=system, env=env)
        return Item(
            "identifier_system", name, Level.BLOCK, f"{name} does not exist in {env}{where}", fix
        )
    wrong: dict[str, list[str]] = {}
    for label, system in expected:
        if system != actual:
            wrong.setdefault(system, []).append(label)
    if wrong:
        message = "; ".join(
            f"{name} is {system} in {labels[0]} but {actual} in {env}{_also(labels[1:])}"
            for system, labels in wrong.items()
        )
        fix = fix_text("identifier_wrong", name=name, env=env)
        return Item("identifier_system", name, Level.BLOCK, message, fix)
    also = f", as in {_and([label for label, _ in expected])}" if expected else ""
    return Item("identifier_system", name, Level.PASS, f"{name} is {actual} in {env}{also}")


def _also(labels: list[str]) -> str:
    return f" ({_and(labels)} {'say' if len(labels) > 1 else 'says'} the same)" if labels else ""


def _and(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"


def _kind(ref: str) -> str:
    return "constant" if is_constant_ref(ref) else "extension setting"


def concealed_checks(definition: dict[str, Any], env: Environment) -> list[Item]:
    """A concealed constant or setting blank in the destination blocks (judged by ``has_value``)."""
    items = []
    for ref, item in iter_value_items(definition):
        if not item.get("concealed"):
            continue
        if item.get("has_value"):
            items.append(Item("concealed_value", ref, Level.PASS, f"{_kind(ref)} {ref} is set"))
            continue
        variable = env.secrets.get(ref)
        fix = (
            fix_text("concealed_source", variable=variable, env=env.name)
            if variable
            else fix_text("concealed", env=env.name)
        )
        message = f"{_kind(ref)} {ref} is concealed and blank in {env.name}"
        items.append(Item("concealed_value", ref, Level.BLOCK, message, fix))
    return items


def secret_sources(plan: FlowPlan, env: Environment) -> list[Item]:
    """A secret source the environment names but that is not set where syncer runs blocks: apply
    would leave (or has left) the concealed item blank. Judged from the plan's decisions, which
    carry the variable's name only (``plan.values``), never a value."""
    items = []
    for decision in plan.constants:
        if not decision.missing_source:
            continue
        message = (
            f"{_kind(decision.key)} {decision.key} would stay blank in {env.name}: its secret "
            f"source ${decision.missing_source} is not set where syncer runs"
        )
        fix = fix_text("secret_source", variable=decision.missing_source, env=env.name)
        items.append(Item("secret_source", decision.key, Level.BLOCK, message, fix))
    return items


def sandbox_hint(value: str) -> str | None:
    """Why a value looks like it belongs to a non-production environment, or None."""
    lowered = value.lower()
    word = next((w for w in _SANDBOX_WORDS if w in lowered), None)
    if word is not None:
        return f"it contains `{word}`"
    if "[::1]" in value:
        return "it points at the loopback address ::1"
    for match in _IPV4.finditer(value):
        try:
            address = ipaddress.IPv4Address(match.group(1))
        except ValueError:  # 999.1.1.1 is a version number, not an address
            continue
        if address.is_loopback or address.is_private:
            kind = "loopback" if address.is_loopback else "private"
            return f"it points at the {kind} address {address}"
    return None


def _visible(definition: dict[str, Any] | None) -> dict[str, Any]:
    items = iter_value_items(definition) if definition else iter(())
    return {ref: item.get("value") for ref, item in items if not item.get("concealed")}


def environment_values(
    definition: dict[str, Any],
    env: Environment,
    source_name: str | None,
    source_definition: dict[str, Any] | None,
) -> list[Item]:
    """A visible value that still looks like Sandbox's warns; concealed items are never read."""
    source_values = _visible(source_definition)
    items = []
    for ref, value in _visible(definition).items():
        text = "" if value is None else str(value)
        hint = sandbox_hint(text) if text else f"it is blank in {env.name}"
        reasons = [hint] if hint else []
        decision, wanted = git_or_environment(ref, None, env)
        deliberate = decision is Decision.SET_FROM_ENVIRONMENT and wanted == value
        same = bool(text) and ref in source_values and source_values[ref] == value
        if same and not deliberate:
            reasons.append(f"it is the same as in {source_name}")
        if not reasons:
            items.append(Item("environment_value", ref, Level.PASS, f"{_kind(ref)} {ref} = {text}"))
            continue
        message = f"{_kind(ref)} {ref} is {text!r} in {env.name}: {' and '.join(reasons)}"
        section = "constants" if is_constant_ref(ref) else "extensions"
        fix = fix_text("value", env=env.name, section=section)
        items.append(Item("environment_value", ref, Level.WARN, message, fix))
    return items


def iter_actions(definition: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Yield ``(step, action)`` for every action of every step of every track."""
    tracks = (definition.get("spec") or {}).get("tracks") or []
    for track in (t for t in tracks if isinstance(t, dict)):
        for step in (s for s in track.get("steps") or [] if isinstance(s, dict)):
            for action in (a for a in step.get("actions") or [] if isinstance(a, dict)):
                yield step, action


def endpoint_from_constant(endpoint: str) -> bool:
    """Whether the scheme and host of ``endpoint`` come from a ``{{constants.KEY}}`` placeholder."""
    text = endpoint.strip()
    if _CONSTANT.match(text):
        return True
    authority = _AUTHORITY.match(text)
    return bool(authority and _CONSTANT.search(authority.group(1)))


def api_endpoints(definition: dict[str, Any]) -> list[Item]:
    """An API call to a hard-coded endpoint calls the same place from every environment: warn."""
    items = []
    for step, action in iter_actions(definition):
        if action.get("type") not in _API_CALLS:
            continue
        endpoint = str((action.get("api_call") or {}).get("endpoint") or "")
        subject = str(action.get("title") or action.get("id"))
        where = f"action {subject!r} in step {step.get('title') or step.get('id')!r}"
        if endpoint_from_constant(endpoint):
            items.append(Item("api_endpoint", subject, Level.PASS, f"{where} calls {endpoint}"))
        else:
            message = f"{where} calls a hard-coded endpoint {endpoint!r}, the same everywhere"
            items.append(Item("api_endpoint", subject, Level.WARN, message, fix_text("endpoint")))
    return items


def published(live: dict[str, Any], environment: str, key: str) -> Item:
    """Whether the working version is what patients get (the latest published version)."""
    latest = live.get("latest_published")
    fix = fix_text("publish", target=f"--env {environment} --flow {key}")
    if not isinstance(latest, dict):
        message = f"the flow was never published in {environment}"
        return Item("published", key, Level.WARN, message, fix)
    if latest.get("content_hash"):
        same = latest.get("content_hash") == live.get("content_hash")
    else:  # a tenant that does not say the hash: the revision it copied is the next best proof
        same = latest.get("revision") == live.get("revision")
    version = latest.get("version")
    if same:
        message = f"version {version} (release {latest.get('release_id')}) is the working version"
        return Item("published", key, Level.PASS, message)
    message = (
        f"the working version (revision {live.get('revision')}) has changes that are not "
        f"published; the latest published version is {version} (revision {latest.get('revision')})"
    )
    return Item("published", key, Level.WARN, message, fix)
