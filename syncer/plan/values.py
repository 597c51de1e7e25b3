"""Values of constants and extension settings (SPEC 1 and 6). Pure.

Two rules live here, each written once:

- **the environment's value beats Git's** (``git_or_environment``): a value an environment file names
  for a constant or setting is the desired value there; otherwise Git's value is;
- **the constants decision table** (``constant_decisions``): per value item, what apply does with it
  (``keep_destination``, ``set_from_git``, ``set_from_environment``, ``set_from_secret``, ``blank``).
  A concealed item whose secret source variable is named but unset is ``blank`` with
  ``missing_source`` set: the plan names the variable and preflight blocks on it.

Both the document path (a fetched live definition) and the fast path (a flow file's ``Digest`` and the
tenant's list summary) ask these functions, so they cannot disagree.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..canonical import Digest, ignore_key, layout_hash, plain_copy, shape_hash
from ..model import (
    ANN_FILLED_PREFIX,
    ANN_VALUE_PREFIX,
    ConstantDecision,
    Decision,
    Environment,
    iter_value_items,
)

SecretCheck = Callable[[str], bool]  # is the secret source (an environment variable) set?
Wanted = tuple[str, bool, Any]  # (ref, concealed, desired value; None when concealed)


def git_or_environment(ref: str, git_value: Any, env: Environment) -> tuple[Decision, Any]:
    """The desired value of ``ref`` in ``env``: the environment file's when it names one, else Git's."""
    present, value = env.override_for(ref)
    if present:
        return Decision.SET_FROM_ENVIRONMENT, value
    return Decision.SET_FROM_GIT, git_value


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
        decision, value = git_or_environment(ref, item.get("value"), env)
        if decision is Decision.SET_FROM_ENVIRONMENT:
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


@dataclass(frozen=True)
class Expected:
    """What syncer writes for a flow in an environment, in the terms its annotations record."""

    shape_hash: str
    layout_hash: str
    values: tuple[Wanted, ...]  # per value item, the environment's values applied


def wanted_values(desired: dict[str, Any]) -> tuple[Wanted, ...]:
    """(ref, concealed, value) of every value item of a desired document (``desired_for``'s result)."""
    return tuple(
        (ref, bool(item.get("concealed")), None if item.get("concealed") else item.get("value"))
        for ref, item in iter_value_items(desired)
    )


def expected_from_document(desired: dict[str, Any], env: Environment) -> Expected:
    """The expectation for a desired document (``desired_for``'s result)."""
    return Expected(shape_hash(desired, env.ignore), layout_hash(desired), wanted_values(desired))


def expected_from_digest(digest: Digest, env: Environment, shape: str | None = None) -> Expected:
    """The same expectation from a flow file's digest, without its document (``shape`` is the
    digest's shape hash for ``env.ignore``, when the caller has it)."""
    values: list[Wanted] = []
    for ref, concealed, value in digest.values:
        values.append((ref, True, None) if concealed else (ref, False, _desired(ref, value, env)))
    if shape is None:
        shape = digest.shape_hashes[ignore_key(env.ignore)]
    return Expected(shape, digest.layout_hash, tuple(values))


def _desired(ref: str, git_value: Any, env: Environment) -> Any:
    return git_or_environment(ref, git_value, env)[1]


def live_items(live_definition: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The value items of a live definition by ref (concealed ones carry ``has_value`` only)."""
    return dict(iter_value_items(live_definition)) if live_definition else {}


def recorded_items(
    wanted: Iterable[Wanted], annotations: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """The value items a tenant holds when its revision is still the one syncer wrote: what the
    annotations recorded (the flow's list summary says so without fetching the definition)."""
    items: dict[str, dict[str, Any]] = {}
    for ref, concealed, value in wanted:
        if concealed:
            filled = annotations.get(ANN_FILLED_PREFIX + ref) == "true"
            items[ref] = {"concealed": True, "has_value": filled}
        elif ANN_VALUE_PREFIX + ref in annotations:
            items[ref] = {"value": value}
    return items


def constant_decisions(
    wanted: Iterable[Wanted],
    live: Mapping[str, dict[str, Any]] | None,
    annotations: Mapping[str, str],
    env: Environment,
    secret_available: SecretCheck,
) -> list[ConstantDecision]:
    """The constants table of SPEC 1 and 6: one decision per constant and extension setting.

    ``live`` is the destination's value items by ref (None when the flow is not there yet).
    """
    decisions = []
    for ref, concealed, value in wanted:
        live_item = (live or {}).get(ref)
        if concealed:
            decisions.append(_concealed_decision(ref, live_item, env, secret_available))
        else:
            decisions.append(_plain_decision(ref, value, live_item, annotations, env))
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
    if variable:
        # The environment file names a source, so a blank is a mistake of where syncer runs (a CI
        # secret not passed in), never a choice: say which variable, and preflight blocks on it.
        note = (
            f"its secret source ${variable} is not set where syncer runs; set it and apply again "
            f"(until then {env.name} keeps a blank value)"
        )
        return ConstantDecision(ref, True, Decision.BLANK, note=note, missing_source=variable)
    return ConstantDecision(
        ref, True, Decision.BLANK, note="no secret source in the environment file"
    )


def _plain_decision(
    ref: str,
    wanted: Any,
    live_item: dict[str, Any] | None,
    annotations: Mapping[str, str],
    env: Environment,
) -> ConstantDecision:
    decision, _ = git_or_environment(ref, wanted, env)
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


def _blank(value: Any) -> bool:
    return value is None or value == ""
