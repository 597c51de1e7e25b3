"""The ids manifest of ``syncer ids`` as JSON, shell lines, Markdown or text. Pure."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from .safe_text import code_span, flatten, md

Ids = dict[str, Any]


def render_ids(found: dict[str, list[Ids]], output: str) -> str:
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
