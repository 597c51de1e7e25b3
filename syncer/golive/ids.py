"""The identifiers integrations need, per environment and flow (``syncer ids``). Read-only.

Ids are stable across environments (SPEC 1), except the release id of a published version, which
each tenant mints. The live tenant is read; a flow Git has but the tenant has not yet is listed from
Git and marked ``"source": "git"`` (its release id is null).

Per flow: the definition id, the latest published version and release id, data point definition ids
by key (``qualified_key`` when the key is empty or shared by several data points, the id itself as a
last resort), and form keys -> form ids with question keys -> question ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..client import client_for
from ..errors import ConfigError
from ..model import Environment
from ..workspace import Workspace

Ids = dict[str, Any]


def collect(ws: Workspace, env: Environment, keys: Sequence[str] = ()) -> list[Ids]:
    """The ids of every flow ``env`` has or receives (or only ``keys``), live ones first-hand."""
    with client_for(env) as tenant:
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
