"""`syncer preflight`: the go-live checklist per flow and target environment. Read-only.

This module reads (the destination tenant, the source tenant, Git, the three-way plan) and renders;
the checks themselves are pure and live in ``syncer.preflight``. ``check_environment`` is shared
with ``syncer publish``, which refuses while an item blocks.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..client import TenantClient
from ..errors import EXIT_ATTENTION, EXIT_OK, ConfigError
from ..model import Environment, FlowPlan, Role, Status, iter_value_items
from ..plan import classify, is_managed
from ..planner import plan_environment, secret_available
from ..preflight import FlowFacts, checklist
from ..preflight_items import LEVELS, FlowChecklist, Item, Level, count_levels
from ..report.safe_text import code_span, flatten, md
from ..workspace import Workspace
from ._common import client, color_enabled, emit, in_parallel, workspace


def run(args: argparse.Namespace) -> int:
    ws = workspace(args)
    envs = ws.select(args.env, Role.TARGET)
    ws.flows  # validate the whole Git state once, before any request  # noqa: B018
    results: list[EnvironmentChecklist] = in_parallel(
        envs, lambda env: check_environment(ws, env, args.flow)
    )
    emit(render(results, args.output))
    return EXIT_ATTENTION if any(r.blocked() for r in results) else EXIT_OK


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


# -- reading --------------------------------------------------------------------------------------


@dataclass
class _Source:
    """What the source (Sandbox) tenant says, or why it was not asked."""

    name: str | None
    systems: list[dict[str, Any]] | None = None
    flows: dict[str, dict[str, Any]] = field(default_factory=dict)  # definition_id -> GET body
    note: str = ""


def check_environment(
    ws: Workspace, env: Environment, flow_keys: Sequence[str] = ()
) -> EnvironmentChecklist:
    """Read what the checklist needs for ``env`` (optionally only ``flow_keys``) and check it."""
    with client(env) as tenant:
        systems = _identifier_systems(tenant.tenant())
        summaries = tenant.list_flows()
        plans = _plans(ws, env, tenant, flow_keys, summaries)
        present = {str(s["definition_id"]) for s in summaries}
        live = tenant.get_flows([p.definition_id for p in plans if p.definition_id in present])
    source = _source(ws, env, [p.definition_id for p in plans])
    result = EnvironmentChecklist(env.name, source.name, ws.git_commit)
    for plan in plans:
        flow = ws.flows.get(plan.key)
        facts = FlowFacts(
            env=env,
            plan=plan,
            live=_without_secrets(live.get(plan.definition_id)),
            git=flow.document if flow is not None else None,
            destination_systems=systems,
            source_name=source.name,
            source_systems=source.systems,
            source_live=_without_secrets(source.flows.get(plan.definition_id)),
            source_note=source.note,
        )
        result.flows.append(checklist(facts))
    return result


def _plans(
    ws: Workspace,
    env: Environment,
    tenant: TenantClient,
    keys: Sequence[str],
    summaries: list[dict[str, Any]],
) -> list[FlowPlan]:
    """The three-way plan of the flows asked for; a flow only the tenant has is judged as well."""
    if not keys:
        return plan_environment(ws, env, tenant).flows
    by_key = {str(s.get("key")): s for s in summaries}
    in_git: list[str] = []
    tenant_only: list[str] = []
    for key in dict.fromkeys(keys):
        if key in ws.flows:
            if not env.selects(key):
                raise ConfigError(
                    f"environment {env.name} does not receive flow `{key}` (see `flows:` in "
                    f"environments/{env.name}.yaml); drop --flow {key} or add it there."
                )
            in_git.append(key)
        elif key in by_key:
            tenant_only.append(key)
        else:
            known = ", ".join(sorted(set(ws.flows) | set(by_key))) or "none"
            raise ConfigError(
                f"no flow `{key}` in flows/ or in {env.name} (known: {known}); check --flow."
            )
    plans = plan_environment(ws, env, tenant, in_git).flows if in_git else []
    for key in tenant_only:
        plans.append(_tenant_only(key, by_key[key], env))
    return plans


def _tenant_only(key: str, summary: dict[str, Any], env: Environment) -> FlowPlan:
    plan = classify(key, None, summary, env, secret_available)
    if not is_managed(summary.get("annotations") or {}):
        plan.status = Status.UNMANAGED
        plan.reason = f"not in Git: export it from the source environment into flows/{key}/ first"
    return plan


def _source(ws: Workspace, env: Environment, ids: list[str]) -> _Source:
    """The source environment's tenant: its identifier systems and its copies of the flows."""
    sources = [e for e in ws.environments.values() if e.role is Role.SOURCE]
    if not sources:
        return _Source(None, note="no source environment in environments/: nothing to compare with")
    # Several sources: the one in the same region is the natural reference.
    chosen = sorted(sources, key=lambda e: (e.region != env.region, e.name))[0]
    if not os.environ.get(chosen.api_key_env, "").strip():
        # No key for the source here (a Production-only CI job): compare with Git only, and say so.
        return _Source(
            chosen.name,
            note=f"{chosen.name} was not consulted: ${chosen.api_key_env} is not set",
        )
    with client(chosen) as tenant:
        systems = _identifier_systems(tenant.tenant())
        present = {str(s["definition_id"]) for s in tenant.list_flows()}
        flows = tenant.get_flows([i for i in ids if i in present])
    return _Source(chosen.name, systems, flows)


def _identifier_systems(tenant_info: dict[str, Any]) -> list[dict[str, Any]]:
    systems = tenant_info.get("identifier_systems") or []
    return [s for s in systems if isinstance(s, dict)] if isinstance(systems, list) else []


def _without_secrets(flow: dict[str, Any] | None) -> dict[str, Any] | None:
    """A tenant never returns a concealed value; should one ever do, it stops here."""
    if flow is None:
        return None
    definition = flow.get("definition")
    if isinstance(definition, dict):
        for _ref, item in iter_value_items(definition):
            if item.get("concealed"):
                item.pop("value", None)
    return flow


# -- rendering ------------------------------------------------------------------------------------

_MARK = {"pass": "✓", "warn": "!", "block": "✗"}
_EMOJI = {"pass": "✅", "warn": "⚠️", "block": "⛔"}
_COLOUR = {"pass": "32", "warn": "33", "block": "31"}


def render(results: Sequence[EnvironmentChecklist], output: str) -> str:
    """The checklists as ``json`` (one object, or an array for several environments), ``markdown``
    or ``text``."""
    if output == "json":
        data = [r.to_json() for r in results]
        return json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False)
    if output == "markdown":
        return "\n".join(line for r in results for line in _markdown(r))
    return "\n".join(line for r in results for line in _text(r, color_enabled()))


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[level.value]} {level.value}" for level in LEVELS)


def _text(result: EnvironmentChecklist, color: bool) -> list[str]:
    def paint(text: str, level: str) -> str:
        return f"\x1b[{_COLOUR[level]}m{text}\x1b[0m" if color else text

    versus = f", compared with {result.source}" if result.source else ""
    lines = [f"{result.environment}{versus}: {_counts(result.counts())}"]
    for flow in result.flows:
        level = flow.level.value
        head = f"{flatten(flow.key)} — {flatten(flow.title)}: {paint(level.upper(), level)}"
        lines.append(f"  {head} ({_counts(flow.counts())})")
        for item in _ordered(flow):
            mark = paint(f"{_MARK[item.level.value]} {item.level.value:<5}", item.level.value)
            lines.append(f"    {mark} {flatten(item.name)}: {flatten(item.message, 400)}")
            if item.fix and item.level.value != "pass":
                lines.append(f"            → {flatten(item.fix, 400).replace('`', '')}")
    if not result.flows:
        lines.append("  no flows to check")
    verdict = "BLOCKED: fix the block items before publishing" if result.blocked() else "ready"
    lines.append(f"  {paint(verdict, 'block' if result.blocked() else 'pass')}")
    return lines


def _ordered(flow: FlowChecklist) -> list[Item]:
    rank = {level: index for index, level in enumerate(LEVELS)}
    return sorted(flow.items, key=lambda item: rank[item.level])


def _markdown(result: EnvironmentChecklist) -> list[str]:
    versus = f" (compared with {code_span(result.source)})" if result.source else ""
    verdict = "⛔ blocked" if result.blocked() else "✅ ready to publish"
    lines = [
        f"## Preflight: {code_span(result.environment)}{versus} — {verdict}",
        "",
        f"{_counts(result.counts())}; Git commit {code_span(result.git_commit)}.",
        "",
    ]
    for flow in result.flows:
        emoji = _EMOJI[flow.level.value]
        lines += [f"### {emoji} {md(flow.title)} ({code_span(flow.key)})", ""]
        lines += ["| | Check | Finding | What to do |", "|---|---|---|---|"]
        for item in _ordered(flow):
            fix = _md_code(item.fix) if item.level.value != "pass" else ""
            cells = [_EMOJI[item.level.value], md(item.name), md(item.message, 400), fix]
            lines.append(f"| {' | '.join(cells)} |")
        lines.append("")
    return lines


def _md_code(text: str) -> str:
    """Our own fix text: `command` parts as code spans, the rest escaped (spaces kept)."""
    parts = flatten(text, 400).split("`")
    return "".join(code_span(p) if i % 2 else _md_spaced(p) for i, p in enumerate(parts))


def _md_spaced(text: str) -> str:
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() and text.strip() else ""
    return f"{lead}{md(text, 400)}{trail}" if text.strip() else text
