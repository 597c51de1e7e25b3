"""The vocabulary of the go-live checklist: levels, items, one flow's checklist, and what to do about
each finding (docs/go-live.md). Pure data, no checks: those are in ``checks``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..model import Status


class Level(StrEnum):
    """How an item weighs: ``block`` refuses ``syncer publish``, ``warn`` asks a person to look."""

    PASS = "pass"
    WARN = "warn"
    BLOCK = "block"


LEVELS: tuple[Level, ...] = (Level.BLOCK, Level.WARN, Level.PASS)  # most urgent first

# How an item's check is named for people (``plan_status`` -> "plan status" unless listed here).
_TITLES = {
    "api_endpoint": "API endpoint",
    "published": "published version",
    "source": "source environment",
}


@dataclass(frozen=True)
class Item:
    """One line of the checklist."""

    check: str
    subject: str
    level: Level
    message: str
    fix: str = ""

    @property
    def name(self) -> str:
        """How a refusal or a published version's notes refer to this item."""
        return f"{_TITLES.get(self.check, self.check.replace('_', ' '))} {self.subject}"

    def to_json(self) -> dict[str, str]:
        return {k: str(v) for k, v in vars(self).items() if v or k != "fix"}  # str(Level) = value


def count_levels(items: list[Item]) -> dict[str, int]:
    """How many items there are of each level, most urgent first."""
    return {level.value: sum(1 for i in items if i.level is level) for level in LEVELS}


@dataclass
class FlowChecklist:
    """The checklist of one flow in one environment."""

    environment: str
    key: str
    definition_id: str
    title: str
    status: Status
    live_revision: int | None
    items: list[Item] = field(default_factory=list)
    applied_commit: str = ""  # the Git commit the working version was applied from, if syncer did

    @property
    def level(self) -> Level:
        return next((lv for lv in LEVELS if any(i.level is lv for i in self.items)), Level.PASS)

    def blocking(self) -> list[Item]:
        return [i for i in self.items if i.level is Level.BLOCK]

    def counts(self) -> dict[str, int]:
        return count_levels(self.items)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "definition_id": self.definition_id,
            "title": self.title,
            "status": self.status.value,
            "live_revision": self.live_revision,
            "applied_commit": self.applied_commit or None,
            "result": self.level.value,
            "counts": self.counts(),
            "items": [i.to_json() for i in self.items],
        }


# What to do, per finding; formatted with env, key, target (``--env E --flow K``), name, system.
_FIX = {
    "source": "Set the source environment's API key variable (a read-only key is enough), so that "
    "identifier systems and values are compared with the tenant itself.",
    "orphaned": "Retire it in the tenant if nobody uses it, or restore flows/{key}/flow.yaml.",
    "create": "Promote it first: `syncer apply {target}`.",
    "update": "Apply Git first: `syncer apply {target}`.",
    "drift": "Carry the hotfix into Git with `syncer backport {target}`, or discard it with "
    "`syncer apply {target} --overwrite-drift`; then run preflight again.",
    "conflict": "Reconcile both sides: backport the hotfix (`syncer backport {target}`), merge, "
    "apply.",
    "unmanaged": "Take it over with `syncer apply {target} --adopt` after reviewing the plan.",
    "untracked": "What goes live must be what Git reviewed: copy it into Sandbox once with "
    "`syncer bootstrap --from {env} --to SANDBOX --flow {key}`, export it and review it.",
    "validation": "Fix the flow in Git and apply it; if a hotfix caused it, backport it and fix it "
    "in review.",
    "draft": "Finish the flow in Sandbox (connect or remove the step, give the track its steps, use or "
    "remove the data point), export and apply it; or go live knowingly: it never blocks.",
    "identifier_missing": "Add {name}{system} to {env} (tenant settings, or PUT "
    "/v1/tenant/identifier-systems with an admin key); identifier systems are never promoted.",
    "identifier_wrong": "Give {name} the same system everywhere: fix it in {env} (tenant settings, "
    "or PUT /v1/tenant/identifier-systems with an admin key). If {env} is right, fix the other "
    "side instead.",
    "identifier_source": "Add {name}{system} to {source} as well.",
    "concealed": "Set it in {env} (Studio, as a hotfix: a value change is not drift), or name a "
    "secret source under `secrets:` in environments/{env}.yaml and run `syncer apply`.",
    "concealed_source": "${variable} was empty or unset when syncer last applied: set it and run "
    "`syncer apply --env {env}`, or set the value in the tenant.",
    "secret_source": "Set ${variable} where syncer runs (in CI: pass the secret to the job's "
    "environment) and run `syncer apply --env {env}`; a secret is never written in a file.",
    "value": "If {env} needs its own value, set it under `{section}:` in environments/{env}.yaml "
    "and run `syncer apply`, or change it in the tenant. If the value is right, nothing to do "
    "(naming it in the environment file silences the same-as-source warning).",
    "endpoint": "Put the base URL in a constant and write the endpoint as "
    "`{{{{constants.KEY}}}}/path`, so that each environment sets its own.",
    "publish": "Publish it when this checklist is clear: `syncer publish {target}`.",
}


def fix_text(which: str, **fields: str) -> str:
    """What to do about one kind of finding, filled in with its names."""
    return _FIX[which].format(**fields)


@dataclass
class EnvironmentChecklist:
    """Every flow's checklist in one environment."""

    environment: str
    source: str | None
    git_commit: str
    flows: list[FlowChecklist] = field(default_factory=list)

    def blocked(self) -> bool:
        return any(f.blocking() for f in self.flows)

    def counts(self) -> dict[str, int]:
        return count_levels([i for f in self.flows for i in f.items])

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "source": self.source,
            "git_commit": self.git_commit,
            "result": Level.BLOCK.value if self.blocked() else Level.PASS.value,
            "summary": self.counts(),
            "flows": [f.to_json() for f in self.flows],
        }
