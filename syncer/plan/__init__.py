"""The three-way model (SPEC 6): desired (Git), last applied (annotations), live (tenant). Pure.

This package alone decides a flow's status. Shapes are compared by hash (``canonical.shape_hash``: no
layout, no constant values, minus the environment's ``ignore`` paths); values are judged by the constants
rules (``values``); layout is cosmetic.

    live absent, no other flow has the key       -> create
    live absent, another flow has the key        -> conflict   (ids are never remapped)
    no syncer annotations:  P == D -> in_sync,   else unmanaged (apply --adopt takes it over)
    P == D                                       -> in_sync (update when only values/layout must be written)
    P == L, D != L                               -> update
    P != L, D == L                               -> drift      (never overwritten)
    P != L, D != L, D != P                       -> conflict   (never overwritten)
    annotated in the tenant, gone from Git       -> orphaned   (never deleted)
    not annotated, only in the tenant            -> untracked  (informational: never written)

Two paths reach a verdict and must agree (a property test holds them to it): ``classify`` judges a
fetched live definition; ``settled`` proves an in-sync verdict from the tenant's list summary and the flow
file's ``Digest`` alone, without loading either document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..canonical import shape_hash
from ..errors import EXIT_ATTENTION, EXIT_CHANGES, EXIT_OK
from ..model import (
    ANN_APPLIED_REVISION,
    ANN_FILLED_PREFIX,
    ANN_LAST_APPLIED_HASH,
    ANN_LAYOUT_HASH,
    ANN_VALUE_PREFIX,
    NEEDS_PERSON,
    WRITES,
    Change,
    Component,
    Environment,
    EnvironmentPlan,
    FlowPlan,
    Status,
    is_managed,
)
from . import diff
from .values import (
    Expected,
    SecretCheck,
    constant_decisions,
    desired_for,
    encode_value,
    expected_from_digest,
    expected_from_document,
    live_items,
    recorded_items,
    wanted_values,
)
from .write import annotations_after, annotations_stale, git_moved_layout, write_body

__all__ = [
    "Expected",
    "SecretCheck",
    "annotations_after",
    "annotations_stale",
    "classify",
    "desired_for",
    "encode_value",
    "exit_code",
    "expected_from_digest",
    "expected_from_document",
    "has_changes",
    "is_managed",
    "needs_person",
    "quick_in_sync",
    "settled",
    "settled_by_summary",
    "write_body",
]


def needs_person(plans: Sequence[EnvironmentPlan]) -> bool:
    """Whether a flow waits for a person: drift, conflict, unmanaged or orphaned."""
    return any(flow.status in NEEDS_PERSON for plan in plans for flow in plan.flows)


def has_changes(plans: Sequence[EnvironmentPlan]) -> bool:
    """Whether apply would write a flow (create or update), an environment's trust settings change,
    or a new environment was not contacted (a hold)."""
    writes = any(flow.status in WRITES for plan in plans for flow in plan.flows)
    return writes or any(plan.environment_changes or plan.hold is not None for plan in plans)


def exit_code(plans: Sequence[EnvironmentPlan]) -> int:
    """SPEC 7 for a plan: 3 when a flow needs a person, 2 when something would be written (or an
    environment's trust settings change, or a new environment was not contacted), else 0 (an
    untracked flow, only in the tenant, is news, not work)."""
    if needs_person(plans):
        return EXIT_ATTENTION
    if has_changes(plans):
        return EXIT_CHANGES
    return EXIT_OK


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


class _SettledPlan(FlowPlan):
    """An in-sync verdict whose desired document is loaded only when something reads ``desired``.

    A no-op plan of a thousand flows must not hold a thousand documents (several hundred kilobytes of
    objects each) per environment; the few renderings that draw an in-sync flow still get it.
    """

    _desired_value: dict[str, Any] | None = None
    _desired_load: Callable[[], dict[str, Any]] | None = None

    @property
    def desired(self) -> dict[str, Any] | None:
        if self._desired_value is None and self._desired_load is not None:
            self._desired_value = self._desired_load()
            self._desired_load = None
        return self._desired_value

    @desired.setter
    def desired(self, value: dict[str, Any] | None) -> None:
        self._desired_value = value
        self._desired_load = None


def settled(
    key: str,
    definition_id: str,
    title: str,
    expected: Expected,
    summary: dict[str, Any],
    env: Environment,
    secret_available: SecretCheck,
    load_desired: Callable[[], dict[str, Any]],
) -> FlowPlan:
    """The in-sync verdict ``settled_by_summary`` proved; ``desired`` loads on first access."""
    annotations = summary.get("annotations") or {}
    live = recorded_items(expected.values, annotations)
    decisions = constant_decisions(expected.values, live, annotations, env, secret_available)
    plan = _SettledPlan(
        key,
        definition_id,
        title,
        Status.IN_SYNC,
        constants=decisions,
        live_revision=int(summary["revision"]),
        desired_hash=expected.shape_hash,
    )
    plan._desired_load = load_desired
    return plan


def classify(
    key: str,
    desired: dict[str, Any] | None,
    live: dict[str, Any] | None,
    env: Environment,
    secret_available: SecretCheck,
    desired_hash: str | None = None,
    *,
    clash: dict[str, Any] | None = None,
) -> FlowPlan:
    """The verdict for one flow. ``live`` is the tenant's GET body (summary fields + definition), or a
    list summary when Git has no such flow; ``clash`` is the summary of another flow in the tenant
    that has this flow's key (only looked at when the flow itself is absent there).

    ``desired_hash``, when the caller knows it (from the file's digest), is ``shape_hash(desired,
    env.ignore)``.
    """
    if desired is None:
        if live is None:
            raise ValueError(f"flow {key}: neither Git nor the tenant has it")
        return _tenant_only(key, live)
    meta = desired["metadata"]
    plan = FlowPlan(
        key, meta["definition_id"], meta.get("title", ""), Status.IN_SYNC, desired=desired
    )
    plan.desired_hash = desired_hash or shape_hash(desired, env.ignore)
    wanted = wanted_values(desired)
    if live is None:
        plan.constants = constant_decisions(wanted, None, {}, env, secret_available)
        return _absent(plan, clash)
    definition = live["definition"]
    annotations = live.get("annotations") or {}
    plan.live = definition
    plan.live_annotations = annotations
    plan.live_revision = int(live["revision"])
    items = live_items(definition)
    plan.constants = constant_decisions(wanted, items, annotations, env, secret_available)
    live_shape = shape_hash(definition, env.ignore)
    plan.status = _status(plan.desired_hash, live_shape, annotations)
    if plan.status in (Status.DRIFT, Status.CONFLICT):
        plan.changes = diff.diff(desired, definition, env.ignore)  # what the tenant did
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


def _absent(plan: FlowPlan, clash: dict[str, Any] | None) -> FlowPlan:
    """Git has the flow, the tenant has not: a create, unless another flow there holds the key."""
    if clash is not None and str(clash.get("definition_id")) != plan.definition_id:
        # Ids are sacred: never create a second flow under the same key, never remap the id.
        plan.status = Status.CONFLICT
        plan.reason = (
            f"the tenant has a different flow with key `{plan.key}` (definition_id "
            f"{clash['definition_id']}, Git has {plan.definition_id}); ids are never remapped. "
            "Rename one of them, or remove the stray flow in the tenant."
        )
        return plan
    plan.status = Status.CREATE
    flow = Component("flow", plan.definition_id, plan.key, plan.title)
    plan.changes = [Change("flow", "added", trail=[flow], description=f"flow {plan.title} created")]
    return plan


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


def _tenant_only(key: str, live: dict[str, Any]) -> FlowPlan:
    """A flow the tenant has and Git has not (for this environment): orphaned when syncer wrote it,
    untracked when it was made in the tenant (by hand, in Studio); neither is ever written."""
    annotations = live.get("annotations") or {}
    if is_managed(annotations):
        status = Status.ORPHANED
        reason = (
            "managed by syncer in this tenant but no longer in Git for this environment; "
            "it is never deleted automatically"
        )
    else:
        status = Status.UNTRACKED
        reason = (
            "exists only in this tenant (made there, never written by syncer) and not in Git "
            "for this environment; syncer leaves it alone"
        )
    return FlowPlan(
        key,
        str(live["definition_id"]),
        str(live.get("title", "")),
        status,
        live_revision=int(live.get("revision", 0)),
        reason=reason,
    )
