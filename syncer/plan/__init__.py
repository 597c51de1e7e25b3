"""The three-way model (SPEC 6): desired (Git), last applied (annotations), live (tenant). Pure.

Shapes are compared by hash (``canonical.shape_hash``: no layout, no constant values, minus the
environment's ``ignore`` paths); values are judged by the constants rules; layout is cosmetic.

    live absent                                  -> create
    no syncer annotations:  P == D -> in_sync,   else unmanaged (apply --adopt takes it over)
    P == D                                       -> in_sync (update when only values/layout must be written)
    P == L, D != L                               -> update
    P != L, D == L                               -> drift      (never overwritten)
    P != L, D != L, D != P                       -> conflict   (never overwritten)
    annotated in the tenant, gone from Git       -> orphaned   (never deleted)
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..canonical import Digest, ignore_key, layout_hash, plain_copy, shape_hash
from ..model import (
    ANN_APPLIED_AT,
    ANN_APPLIED_BY,
    ANN_APPLIED_REVISION,
    ANN_BOOTSTRAP,
    ANN_EXPORTED_HASH,
    ANN_FILLED_PREFIX,
    ANN_FLOW_KEY,
    ANN_GIT_COMMIT,
    ANN_LAST_APPLIED_HASH,
    ANN_LAYOUT_HASH,
    ANN_VALUE_PREFIX,
    ANNOTATION_PREFIX,
    Change,
    Component,
    ConstantDecision,
    Decision,
    Environment,
    FlowPlan,
    Status,
    iter_value_items,
)
from . import diff

SecretCheck = Callable[[str], bool]  # is the secret source for this ref available?


def desired_for(flow: dict[str, Any], env: Environment) -> dict[str, Any]:
    """The flow as ``env`` should have it: Git's document with the environment's values applied.

    Concealed items carry no value here, ever; a secret is read only at the moment of writing.
    """
    document: dict[str, Any] = plain_copy(flow)
    for ref, item in iter_value_items(document):
        if item.get("concealed"):
            item.pop("value", None)
            item.pop("has_value", None)
            continue
        present, value = env.override_for(ref)
        if present:
            item["value"] = value
    return document


def encode_value(value: Any) -> str:
    """Annotation values are strings; JSON keeps ``"10"`` and ``10`` apart."""
    if value is None or isinstance(value, str | int):  # bool is an int; floats: 0.0 == -0.0
        return _encode_scalar(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@functools.lru_cache(maxsize=4096, typed=True)  # typed: 1, 1.0 and True are equal keys otherwise
def _encode_scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def is_managed(annotations: dict[str, str]) -> bool:
    return ANN_LAST_APPLIED_HASH in annotations


def _live_items(live_definition: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return dict(iter_value_items(live_definition)) if live_definition else {}


def _blank(value: Any) -> bool:
    return value is None or value == ""


def constant_decisions(
    desired: dict[str, Any],
    live_definition: dict[str, Any] | None,
    annotations: dict[str, str],
    env: Environment,
    secret_available: SecretCheck,
) -> list[ConstantDecision]:
    """The constants rules of SPEC 1 and 6, one decision per constant and extension setting."""
    live = _live_items(live_definition)
    decisions = []
    for ref, item in iter_value_items(desired):
        live_item = live.get(ref)
        if item.get("concealed"):
            decisions.append(_concealed_decision(ref, live_item, env, secret_available))
        else:
            decisions.append(_plain_decision(ref, item, live_item, annotations, env))
    return decisions


def _concealed_decision(
    ref: str, live_item: dict[str, Any] | None, env: Environment, secret_available: SecretCheck
) -> ConstantDecision:
    if live_item is not None and live_item.get("has_value"):
        return ConstantDecision(ref, True, Decision.KEEP_DESTINATION, note="set in the destination")
    variable = env.secrets.get(ref)
    if variable and secret_available(variable):
        return ConstantDecision(
            ref, True, Decision.SET_FROM_SECRET, changed=True, note=f"from ${variable}"
        )
    note = f"${variable} is not set" if variable else "no secret source in the environment file"
    return ConstantDecision(ref, True, Decision.BLANK, note=note)


def _plain_decision(
    ref: str,
    item: dict[str, Any],
    live_item: dict[str, Any] | None,
    annotations: dict[str, str],
    env: Environment,
) -> ConstantDecision:
    from_env, _ = env.override_for(ref)
    decision = Decision.SET_FROM_ENVIRONMENT if from_env else Decision.SET_FROM_GIT
    wanted = item.get("value")
    if live_item is None or live_item.get("concealed"):
        return ConstantDecision(ref, False, decision, wanted, changed=True)
    current = live_item.get("value")
    recorded = annotations.get(ANN_VALUE_PREFIX + ref)
    if recorded is not None:
        changed_in_destination = encode_value(current) != recorded
    else:  # never promoted by syncer: a non-blank value that differs was set there by someone
        changed_in_destination = not _blank(current) and current != wanted
    if changed_in_destination:
        return ConstantDecision(
            ref, False, Decision.KEEP_DESTINATION, current, note="changed in the destination"
        )
    return ConstantDecision(ref, False, decision, wanted, changed=current != wanted)


@dataclass(frozen=True)
class Expected:
    """What syncer writes for a flow in an environment, in the terms its annotations record."""

    shape_hash: str
    layout_hash: str
    values: tuple[tuple[str, bool, Any], ...]  # (ref, concealed, desired value) per value item


def expected_from_document(desired: dict[str, Any], env: Environment) -> Expected:
    """The expectation for a desired document (``desired_for``'s result)."""
    values = tuple(
        (ref, bool(item.get("concealed")), item.get("value"))
        for ref, item in iter_value_items(desired)
    )
    return Expected(shape_hash(desired, env.ignore), layout_hash(desired), values)


def expected_from_digest(digest: Digest, env: Environment, shape: str | None = None) -> Expected:
    """The same expectation from a flow file's digest, without its document: the environment's values
    applied as ``desired_for`` applies them (``shape`` is the digest's shape hash for ``env.ignore``)."""
    values = []
    for ref, concealed, value in digest.values:
        if concealed:
            values.append((ref, True, None))
            continue
        present, override = env.override_for(ref)
        values.append((ref, False, override if present else value))
    if shape is None:
        shape = digest.shape_hashes[ignore_key(env.ignore)]
    return Expected(shape, digest.layout_hash, tuple(values))


def quick_in_sync(desired: dict[str, Any], summary: dict[str, Any], env: Environment) -> bool:
    """True when the list summary alone proves the flow is in sync (no per-flow request needed)."""
    return settled_by_summary(expected_from_document(desired, env), summary, env)


def settled_by_summary(expected: Expected, summary: dict[str, Any], env: Environment) -> bool:
    """``quick_in_sync`` for an expectation.

    The tenant's revision still being the one syncer wrote means nothing changed there since; then the
    flow is in sync when Git's shape, layout and values equal what syncer wrote.
    """
    annotations = summary.get("annotations") or {}
    if not is_managed(annotations):
        return False
    if annotations.get(ANN_APPLIED_REVISION) != str(summary.get("revision")):
        return False
    if annotations.get(ANN_LAST_APPLIED_HASH) != expected.shape_hash:
        return False
    if annotations.get(ANN_LAYOUT_HASH) != expected.layout_hash:
        return False
    for ref, concealed, value in expected.values:
        if concealed:
            if ref in env.secrets and annotations.get(ANN_FILLED_PREFIX + ref) != "true":
                return False  # a blank secret the environment could now fill
        elif annotations.get(ANN_VALUE_PREFIX + ref) != encode_value(value):
            return False
    return True


def classify(
    key: str,
    desired: dict[str, Any] | None,
    live: dict[str, Any] | None,
    env: Environment,
    secret_available: SecretCheck,
    desired_hash: str | None = None,
) -> FlowPlan:
    """The verdict for one flow. ``live`` is the tenant's GET body (summary fields + definition).

    ``desired_hash``, when the caller knows it (from the file's digest), is ``shape_hash(desired,
    env.ignore)``.
    """
    if desired is None:
        assert live is not None
        return _orphaned(key, live)
    meta = desired["metadata"]
    plan = FlowPlan(
        key, meta["definition_id"], meta.get("title", ""), Status.IN_SYNC, desired=desired
    )
    plan.desired_hash = desired_hash or shape_hash(desired, env.ignore)
    if live is None:
        plan.status = Status.CREATE
        flow = Component("flow", plan.definition_id, key, plan.title)
        plan.changes = [
            Change("flow", "added", trail=[flow], description=f"flow {plan.title} created")
        ]
        plan.constants = constant_decisions(desired, None, {}, env, secret_available)
        return plan
    definition = live["definition"]
    annotations = live.get("annotations") or {}
    plan.live = definition
    plan.live_annotations = annotations
    plan.live_revision = int(live["revision"])
    plan.constants = constant_decisions(desired, definition, annotations, env, secret_available)
    live_shape = shape_hash(definition, env.ignore)
    plan.status = _status(plan.desired_hash, live_shape, annotations)
    if plan.status in (Status.DRIFT, Status.CONFLICT):
        plan.changes = diff.diff(
            desired, definition, env.ignore
        )  # what the tenant did, Git -> live
    else:
        plan.changes = diff.diff(definition, desired, env.ignore)  # what apply does, live -> Git
    if plan.status is Status.IN_SYNC and _needs_write(plan, definition, annotations, desired):
        plan.status = Status.UPDATE
    plan.breaking = diff.breaking(plan.changes)
    plan.cosmetic_only = diff.cosmetic_only(plan.changes)
    return plan


def _status(desired_shape: str, live_shape: str, annotations: dict[str, str]) -> Status:
    if not is_managed(annotations):
        return Status.IN_SYNC if live_shape == desired_shape else Status.UNMANAGED
    last = annotations[ANN_LAST_APPLIED_HASH]
    if live_shape == desired_shape:
        return Status.IN_SYNC
    if live_shape == last:
        return Status.UPDATE
    if desired_shape == last:
        return Status.DRIFT
    return Status.CONFLICT


def git_moved_layout(annotations: dict[str, str], desired: dict[str, Any]) -> bool:
    """Layout is written only when Git's layout changed since the last apply (it is cosmetic, so a
    box moved in the tenant is kept until Git moves boxes again)."""
    return is_managed(annotations) and annotations.get(ANN_LAYOUT_HASH) != layout_hash(desired)


def _needs_write(
    plan: FlowPlan, live: dict[str, Any], annotations: dict[str, str], desired: dict[str, Any]
) -> bool:
    """An in-sync shape still needs a write when a value or Git's layout must change."""
    if any(c.changed for c in plan.constants):
        return True
    if git_moved_layout(annotations, desired) and live.get("layout") != desired.get("layout"):
        return True
    plan.changes = [c for c in plan.changes if not c.cosmetic]
    return False


def annotations_stale(plan: FlowPlan) -> bool:
    """An in-sync flow whose annotations no longer describe it (e.g. after a backport merged)."""
    if plan.live is None or plan.desired is None:
        return False
    annotations = plan.live_annotations or {}
    if not is_managed(annotations):
        return True
    return annotations.get(ANN_LAST_APPLIED_HASH) != plan.desired_hash or annotations.get(
        ANN_APPLIED_REVISION
    ) != str(plan.live_revision)


def _orphaned(key: str, live: dict[str, Any]) -> FlowPlan:
    return FlowPlan(
        key,
        str(live["definition_id"]),
        str(live.get("title", "")),
        Status.ORPHANED,
        live_revision=int(live.get("revision", 0)),
        reason="managed by syncer in this tenant but no longer in Git for this environment; "
        "it is never deleted automatically",
    )


def write_body(
    plan: FlowPlan, env: Environment, secret_value: Callable[[str], str | None]
) -> dict[str, Any]:
    """The definition to PUT: Git's shape, the decided values, the kept layout and ignored paths.

    Concealed values are absent (the tenant keeps what it has) except a blank filled from the
    environment's secret source, read through ``secret_value`` at this last moment.
    """
    assert plan.desired is not None
    body: dict[str, Any] = plain_copy(plan.desired)
    live = plan.live
    annotations = {} if live is None else (plan.live_annotations or {})
    if live is not None:
        if not git_moved_layout(annotations, plan.desired) and "layout" in live:
            body["layout"] = plain_copy(live["layout"])
        for dotted in env.ignore:
            _copy_path(live, body, dotted)
    items = dict(iter_value_items(body))
    for decision in plan.constants:
        item = items.get(decision.key)
        if item is None:
            continue
        item.pop("has_value", None)
        if not decision.concealed:
            item["value"] = decision.value
            continue
        item.pop("value", None)
        variable = env.secrets.get(decision.key)
        if decision.decision is Decision.SET_FROM_SECRET and variable:
            secret = secret_value(variable)
            if secret:
                item["value"] = secret
    return body


def _copy_path(source: dict[str, Any], target: dict[str, Any], dotted: str) -> None:
    """Set ``target`` at ``dotted`` to ``source``'s value there (the environment owns that path)."""
    parts = dotted.split(".")
    src: Any = source
    dst: Any = target
    for part in parts[:-1]:
        if not isinstance(src, dict) or part not in src:
            return
        src = src[part]
        dst = dst.setdefault(part, {}) if isinstance(dst, dict) else None
        if dst is None:
            return
    if isinstance(src, dict) and parts[-1] in src and isinstance(dst, dict):
        dst[parts[-1]] = copy.deepcopy(src[parts[-1]])


def annotations_after(
    plan: FlowPlan, *, git_commit: str, actor: str, now: str, revision: int
) -> dict[str, str]:
    """The annotations written with a flow: the last-applied record of SPEC 6.

    A value kept because the destination changed it keeps its *old* record, so that it stays
    "changed in the destination" and is never overwritten by a later promotion.
    """
    assert plan.desired is not None
    old = dict(plan.live_annotations or {})
    result = {k: v for k, v in old.items() if not k.startswith(ANNOTATION_PREFIX)}
    result.update(
        {
            ANN_LAST_APPLIED_HASH: plan.desired_hash,
            ANN_LAYOUT_HASH: layout_hash(plan.desired),
            ANN_GIT_COMMIT: git_commit,
            ANN_APPLIED_AT: now,
            ANN_APPLIED_BY: actor,
            ANN_APPLIED_REVISION: str(revision),
            ANN_FLOW_KEY: plan.key,
        }
    )
    for keep in (ANN_EXPORTED_HASH, ANN_BOOTSTRAP):
        if keep in old:
            result[keep] = old[keep]
    for decision in plan.constants:
        if decision.concealed:
            filled = decision.decision in (Decision.KEEP_DESTINATION, Decision.SET_FROM_SECRET)
            result[ANN_FILLED_PREFIX + decision.key] = "true" if filled else "false"
        elif decision.decision is Decision.KEEP_DESTINATION:
            previous = old.get(ANN_VALUE_PREFIX + decision.key)
            if previous is not None:
                result[ANN_VALUE_PREFIX + decision.key] = previous
        else:
            result[ANN_VALUE_PREFIX + decision.key] = encode_value(decision.value)
    return result
