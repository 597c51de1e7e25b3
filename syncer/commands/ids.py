"""`syncer ids`: the identifiers integrations need, per environment and flow. Read-only.

Ids are stable across environments (SPEC 1), except the release id of a published version, which
each tenant mints. The live tenant is read; a flow Git has but the tenant has not yet is listed from
Git and marked ``"source": "git"`` (its release id is null).

Per flow: the definition id, the latest published version and release id, data point definition ids
by key (``qualified_key`` when the key is empty or shared by several data points, the id itself as a
last resort), and form keys -> form ids with question keys -> question ids.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..errors import EXIT_OK, ConfigError
from ..model import Environment, Role
from ..report.safe_text import code_span, flatten, md
from ..workspace import Workspace
from ._common import client, emit, in_parallel, workspace

Ids = dict[str, Any]


def run(args: argparse.Namespace) -> int:
    ws = workspace(args)
    if args.env:  # named environments may be of any role: Sandbox integrations need ids too
        envs = [ws.environment(name) for name in dict.fromkeys(args.env)]
    else:
        envs = ws.select([], Role.TARGET)
    ws.flows  # validate the whole Git state once, before any request  # noqa: B018
    found: list[tuple[str, list[Ids]]] = in_parallel(
        envs, lambda env: (env.name, collect(ws, env, args.flow))
    )
    emit(render(dict(found), args.output))
    return EXIT_OK


def collect(ws: Workspace, env: Environment, keys: Sequence[str] = ()) -> list[Ids]:
    """The ids of every flow ``env`` has or receives (or only ``keys``), live ones first-hand."""
    with client(env) as tenant:
        summaries = {str(s["key"]): s for s in tenant.list_flows()}
        git = {k: f.document for k, f in ws.flows.items() if env.selects(k)}
        wanted = list(dict.fromkeys(keys)) or sorted(set(summaries) | set(git))
        unknown = [k for k in wanted if k not in summaries and k not in git]
        if unknown:
            known = ", ".join(sorted(set(summaries) | set(git))) or "none"
            raise ConfigError(
                f"no flow `{unknown[0]}` in {env.name} or in flows/ for it (known: {known}); "
                "check --flow."
            )
        live_ids = [str(summaries[k]["definition_id"]) for k in wanted if k in summaries]
        live = tenant.get_flows(live_ids)
    result = []
    for key in wanted:
        if key in summaries:
            summary = summaries[key]
            body = live[str(summary["definition_id"])]
            result.append(flow_ids(key, body["definition"], summary, "tenant"))
        else:
            result.append(flow_ids(key, git[key], None, "git"))
    return result


def flow_ids(
    key: str, definition: dict[str, Any], summary: dict[str, Any] | None, source: str
) -> Ids:
    """The ids of one flow document; ``summary`` (the tenant's) gives the published release."""
    spec = definition.get("spec") or {}
    published = (summary or {}).get("latest_published")
    published = published if isinstance(published, dict) else {}
    return {
        "key": key,
        "title": str((definition.get("metadata") or {}).get("title", "")),
        "source": source,
        "definition_id": str(definition["metadata"]["definition_id"]),
        "revision": (summary or {}).get("revision"),
        "version": published.get("version"),
        "release_id": published.get("release_id"),
        "data_points": data_point_ids(spec.get("data_point_definitions") or []),
        "forms": {
            str(form.get("key") or form["id"]): {
                "id": str(form["id"]),
                "questions": {
                    str(q.get("key") or q["id"]): str(q["id"])
                    for q in form.get("questions") or []
                    if isinstance(q, dict) and "id" in q
                },
            }
            for form in spec.get("forms") or []
            if isinstance(form, dict) and "id" in form
        },
    }


def data_point_ids(points: list[Any]) -> dict[str, str]:
    """Data point definition ids by key, so that no two share a name (see the module docstring)."""
    valid = [p for p in points if isinstance(p, dict) and "id" in p]
    keys = Counter(str(p.get("key") or "") for p in valid)
    names: dict[str, str] = {}
    for point in sorted(valid, key=lambda p: str(p["id"])):
        key = str(point.get("key") or "")
        name = key if key and keys[key] == 1 else str(point.get("qualified_key") or "")
        if not name or name in names:
            name = str(point["id"])
        names[name] = str(point["id"])
    return dict(sorted(names.items()))


# -- rendering ------------------------------------------------------------------------------------


def render(found: dict[str, list[Ids]], output: str) -> str:
    """``json`` ({environment: {flow: ids}}), ``env`` (shell lines), ``markdown`` or ``text``."""
    if output == "json":
        data = {env: {flow["key"]: flow for flow in flows} for env, flows in found.items()}
        return json.dumps(data, indent=2, ensure_ascii=False)
    if output == "env":
        return "\n".join(_env_lines(found))
    if output == "markdown":
        return "\n".join(line for env, flows in found.items() for line in _markdown(env, flows))
    return "\n".join(line for env, flows in found.items() for line in _text(env, flows))


def env_name(*parts: str) -> str:
    """A safe shell variable name: ``homeBpReading`` -> ``HOME_BP_READING``."""
    words = []
    for part in parts:
        spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", part)
        words.append(re.sub(r"[^A-Za-z0-9]+", "_", spaced).strip("_").upper())
    name = "_".join(w for w in words if w)
    return name if not name[:1].isdigit() else f"_{name}"


def _pairs(environment: str, flow: Ids) -> list[tuple[str, str]]:
    prefix = ("SYNCER", environment, flow["key"])
    pairs = [
        (env_name(*prefix, "DEFINITION_ID"), flow["definition_id"]),
        (env_name(*prefix, "RELEASE_ID"), flow["release_id"] or ""),
    ]
    for key, value in flow["data_points"].items():
        pairs.append((env_name(*prefix, "DATA_POINT", key), value))
    for key, form in flow["forms"].items():
        pairs.append((env_name(*prefix, "FORM", key, "ID"), form["id"]))
        for question, value in form["questions"].items():
            pairs.append((env_name(*prefix, "FORM", key, "QUESTION", question), value))
    return pairs


def _env_lines(found: dict[str, list[Ids]]) -> list[str]:
    lines: list[str] = []
    seen: set[str] = set()
    for environment, flows in found.items():
        for flow in flows:
            origin = "from Git: not in the tenant yet" if flow["source"] == "git" else "live"
            lines.append(f"# {environment} {flow['key']} ({origin})")
            for name, value in _pairs(environment, flow):
                while name in seen:  # two keys that differ only in punctuation or case
                    name += "_"
                seen.add(name)
                lines.append(f"{name}={shlex.quote(str(value)) if value else ''}")
    return lines


def _markdown(environment: str, flows: list[Ids]) -> list[str]:
    lines = [f"## {code_span(environment)}", ""]
    for flow in flows:
        origin = " — from Git, not in the tenant yet" if flow["source"] == "git" else ""
        lines += [f"### {md(flow['title'])} ({code_span(flow['key'])}){origin}", ""]
        lines += ["| What | Key | Id |", "|---|---|---|"]
        rows = [("definition", flow["key"], flow["definition_id"])]
        release = flow["release_id"] or "not published"
        rows.append(("release", f"version {flow['version']}" if flow["version"] else "", release))
        rows += [("data point", k, v) for k, v in flow["data_points"].items()]
        for key, form in flow["forms"].items():
            rows.append(("form", key, form["id"]))
            rows += [("question", f"{key}.{q}", v) for q, v in form["questions"].items()]
        lines += [f"| {what} | {md(k)} | {code_span(v)} |" for what, k, v in rows]
        lines.append("")
    return lines


def _text(environment: str, flows: list[Ids]) -> list[str]:
    lines = [environment]
    for flow in flows:
        origin = " (from Git: not in the tenant yet)" if flow["source"] == "git" else ""
        lines.append(f"  {flatten(flow['key'])}{origin}")
        lines.append(f"    definition_id  {flow['definition_id']}")
        version = f" (version {flow['version']})" if flow["version"] else ""
        lines.append(f"    release_id     {flow['release_id'] or 'not published'}{version}")
        for key, value in flow["data_points"].items():
            lines.append(f"    data point     {flatten(key)} = {flatten(value)}")
        for key, form in flow["forms"].items():
            lines.append(f"    form           {flatten(key)} = {flatten(form['id'])}")
            for question, value in form["questions"].items():
                lines.append(
                    f"      question     {flatten(f'{key}.{question}')} = {flatten(value)}"
                )
    return lines
