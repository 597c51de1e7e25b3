"""What apply writes for a planned flow: the body of the PUT and the annotations that record it. Pure.

The body is Git's shape with the decided values, the layout the tenant keeps (unless Git moved boxes
since the last apply) and the environment's ignored paths; the annotations are the last-applied record of
SPEC 6. A concealed value is read (through a callback) only here, at the last moment, and never kept.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from ..canonical import layout_hash, plain_copy
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
    Decision,
    Environment,
    FlowPlan,
    is_managed,
    iter_value_items,
)
from .values import encode_value


def git_moved_layout(annotations: dict[str, str], desired: dict[str, Any]) -> bool:
    """Layout is written only when Git's layout changed since the last apply (it is cosmetic, so a
    box moved in the tenant is kept until Git moves boxes again)."""
    return is_managed(annotations) and annotations.get(ANN_LAYOUT_HASH) != layout_hash(desired)


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
    plan: FlowPlan,
    *,
    git_commit: str,
    actor: str,
    now: str,
    revision: int,
    notes: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The annotations written with a flow: the last-applied record of SPEC 6, and ``notes`` about
    this write (uncommitted files written, a window overridden), which the next write drops.

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
    result.update({k: v for k, v in (notes or {}).items() if k.startswith(ANNOTATION_PREFIX)})
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
