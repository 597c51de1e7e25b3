"""Awell → canonical, the component graph: tracks, steps, actions, transitions, triggers, forms.

``Importer`` turns the entries of an export (already checked and indexed by ``_key`` in ``syncer.awell``)
into canonical components, nesting children in their parents in the order the parents list them, and
collecting every problem in ``Issues`` instead of stopping at the first. A field syncer does not model is
carried under the component's ``vendor_fields``; only what cannot be placed (a reference to a missing
parent, an id given twice) is a problem. Pure: data in, data out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import Problem, ValidationError
from ..model import VENDOR_ENTRY_FIELDS, VENDOR_FIELDS
from . import tables as t

Entries = dict[str, dict[str, Any]]  # _key -> component, in file order
Envelopes = dict[tuple[str, str], dict[str, Any]]  # (type, _key) -> fields next to the entry's type


class Issues:
    """Collects every problem of one import, so that a run reports them all at once."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def add(self, file: str, subject: str, message: str, hint: str | None = None) -> None:
        path = "/".join(part for part in (self.source.rstrip("/"), file) if part) or "(export)"
        self.problems.append(
            Problem(path, f"{subject}: {message}" if subject else message, hint=hint)
        )

    def component(
        self, kind: t.ComponentTable, key: str, message: str, hint: str | None = None
    ) -> None:
        self.add(kind.file, f"{kind.type} `{key}`", message, hint)

    def raise_if_any(self) -> None:
        if self.problems:
            raise ValidationError(self.problems)


class Importer:
    """Builds canonical components from indexed entries; problems go to ``issues``."""

    def __init__(
        self, entries: dict[str, Entries], issues: Issues, envelopes: Envelopes | None = None
    ) -> None:
        self.entries = entries
        self.issues = issues
        self.envelopes = envelopes or {}
        self.layout: dict[str, dict[str, Any]] = {"tracks": {}, "steps": {}}
        self.pathway_id = next(iter(entries[t.PATHWAY.type]))

    def flat(
        self, kind: t.ComponentTable, key: str, payload: dict[str, Any], extra: t.Pairs = ()
    ) -> dict[str, Any]:
        """The component's plain fields, renamed, with ``id`` first; a field syncer does not model is
        carried verbatim under ``vendor_fields`` (and the entry's own extra fields under
        ``vendor_entry_fields``), never dropped."""
        data, _ = t.rename(payload, kind.fields + extra)
        known = kind.known(extra)
        carried = {name: value for name, value in payload.items() if name not in known}
        component: dict[str, Any] = {"id": key, **data}
        if carried:
            component[VENDOR_FIELDS] = carried
        envelope = self.envelopes.get((kind.type, key))
        if envelope:
            component[VENDOR_ENTRY_FIELDS] = dict(envelope)
        return component

    def tracks(self) -> list[dict[str, Any]]:
        tracks: dict[str, dict[str, Any]] = {}
        for key, payload in self.entries[t.TRACK.type].items():
            tracks[key] = {**self.flat(t.TRACK, key, payload), "steps": [], "transitions": []}
            corners = {
                name: payload[f"{name}_coordinates"]
                for name in ("start", "end")
                if f"{name}_coordinates" in payload
            }
            if corners:
                self.layout["tracks"][key] = corners
        step_tracks = self.steps(tracks)
        for key, payload in self.entries[t.TRANSITION.type].items():
            transition = self.flat(t.TRANSITION, key, payload)
            track_id = self.end(key, payload, "origin", tracks, step_tracks)
            self.end(key, payload, "destination", tracks, step_tracks)
            if track_id is not None:
                tracks[track_id]["transitions"].append(transition)
        return list(tracks.values())

    def steps(self, tracks: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Nest steps (with their actions) in tracks; returns step id → track id."""
        actions = self.actions()
        placed: set[str] = set()
        step_tracks: dict[str, str] = {}
        for key, payload in self.entries[t.STEP.type].items():
            track_id = payload.get("track_definition_id")
            if not isinstance(track_id, str) or track_id not in tracks:
                self.issues.component(
                    t.STEP,
                    key,
                    f"`track_definition_id` names track `{track_id}`, which does not exist.",
                )
                continue
            step = self.flat(t.STEP, key, payload)
            if (
                payload.get("type", "step") != "step"
            ):  # a kind of step syncer does not model: carried
                step.setdefault(VENDOR_FIELDS, {})["type"] = payload["type"]
            ids = payload.get("action_definition_ids", [])
            step["actions"] = self.children(
                t.STEP, key, "action_definition_ids", ids, actions, placed
            )
            if "coordinates" in payload:
                self.layout["steps"][key] = payload["coordinates"]
            tracks[track_id]["steps"].append(step)
            step_tracks[key] = track_id
        self.unplaced(t.ACTION, "step", actions, placed, step_tracks)
        return step_tracks

    def actions(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Every action, with the step it names, by id."""
        steps = self.entries[t.STEP.type]
        result: dict[str, tuple[str, dict[str, Any]]] = {}
        for key, payload in self.entries[t.ACTION.type].items():
            step_id = payload.get("step_definition_id")
            if not isinstance(step_id, str) or step_id not in steps:
                self.issues.component(
                    t.ACTION,
                    key,
                    f"`step_definition_id` names step `{step_id}`, which does not exist.",
                )
                continue
            result[key] = (step_id, self.action(key, payload))
        return result

    def action(self, key: str, payload: dict[str, Any]) -> dict[str, Any]:
        action_type = payload.get("type")
        # An action type syncer does not model keeps its own fields under vendor_fields.
        shape = t.ACTION_SHAPES.get(str(action_type), t.UNMODELLED_ACTION)
        action = self.flat(t.ACTION, key, payload, shape.fields)
        for name, table in shape.items.items():
            if name in action:
                action[name] = self.items(key, name, action[name], table)
        for name, table in shape.objects.items():
            if name in action:
                action[name] = self.object(key, name, action[name], table)
        return action

    def items(self, key: str, name: str, value: Any, table: t.Pairs) -> Any:
        if not isinstance(value, list):
            self.issues.component(t.ACTION, key, f"field `{name}` must be an array.")
            return value
        return [
            self.object(key, f"{name}[{index}]", item, table) for index, item in enumerate(value)
        ]

    def object(self, key: str, name: str, value: Any, table: t.Pairs) -> Any:
        if not isinstance(value, dict):
            self.issues.component(t.ACTION, key, f"field `{name}` must be an object.")
            return value
        data, unknown = t.rename(value, table)
        if unknown:
            data[VENDOR_FIELDS] = {field: value[field] for field in unknown}
        return data

    def children(
        self,
        kind: t.ComponentTable,
        key: str,
        field: str,
        ids: Any,
        children: dict[str, tuple[str, dict[str, Any]]],
        placed: set[str],
    ) -> list[dict[str, Any]]:
        """The children a parent lists (actions of a step, questions of a form), in its order."""
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            self.issues.component(kind, key, f"field `{field}` must be an array of ids.")
            return []
        result = []
        for child_id in ids:
            owner, child = children.get(child_id, (None, None))
            if child is None:
                message = f"`{field}` names `{child_id}`, which does not exist."
            elif owner != key:
                message = f"`{field}` names `{child_id}`, which belongs to `{owner}`."
            elif child_id in placed:
                message = f"`{field}` names `{child_id}` twice."
            else:
                placed.add(child_id)
                result.append(child)
                continue
            self.issues.component(kind, key, message)
        return result

    def unplaced(
        self,
        kind: t.ComponentTable,
        parent: str,
        children: dict[str, tuple[str, dict[str, Any]]],
        placed: set[str],
        parents: Mapping[str, str],
    ) -> None:
        """Report children whose parent exists but does not list them (they would be lost)."""
        for child_id, (owner, _) in children.items():
            if child_id not in placed and owner in parents:
                self.issues.component(
                    kind,
                    child_id,
                    f"its {parent} `{owner}` does not list it, so its place is unknown.",
                )

    def end(
        self,
        key: str,
        payload: dict[str, Any],
        name: str,
        tracks: Mapping[str, Any],
        step_tracks: Mapping[str, str],
    ) -> str | None:
        """Check a transition's origin or destination; return the track it lies in."""
        end = payload.get(name)
        kinds = {"origin": ("track_start", "step"), "destination": ("track_end", "step")}[name]
        node_type = end.get("type") if isinstance(end, dict) else None
        node_id = end.get("node_id") if isinstance(end, dict) else None
        node_id = node_id if isinstance(node_id, str) else ""
        if node_type not in kinds:
            message = f"`{name}.type` is `{node_type}`; expected one of {', '.join(kinds)}."
        elif node_type == "step" and node_id in step_tracks:
            return step_tracks[node_id]
        elif node_type != "step" and node_id in tracks:
            return node_id
        else:
            what = "step" if node_type == "step" else "track"
            message = f"`{name}.node_id` names {what} `{node_id}`, which does not exist."
        self.issues.component(t.TRANSITION, key, message)
        return None

    # --- triggers, forms, extension webhooks ------------------------------------------------------

    def triggers(self) -> list[dict[str, Any]]:
        result = []
        for key, payload in self.entries[t.TRIGGER.type].items():
            trigger = self.flat(t.TRIGGER, key, payload)
            self.same_flow(t.TRIGGER, key, payload, "pathway_id")
            target = {k: payload[f"target_{k}"] for k in ("type", "id") if f"target_{k}" in payload}
            tracks = self.entries[t.TRACK.type]
            if target.get("type") == "track" and str(target.get("id")) not in tracks:
                self.issues.component(
                    t.TRIGGER,
                    key,
                    f"`target_id` names track `{target.get('id')}`, which does not exist.",
                )
            if target:
                trigger["target"] = target
            result.append(trigger)
        return result

    def forms(self) -> list[dict[str, Any]]:
        questions: dict[str, tuple[str, dict[str, Any]]] = {}
        for key, payload in self.entries[t.QUESTION.type].items():
            form_id = payload.get("form_definition_id")
            if not isinstance(form_id, str) or form_id not in self.entries[t.FORM.type]:
                self.issues.component(
                    t.QUESTION,
                    key,
                    f"`form_definition_id` names form `{form_id}`, which does not exist.",
                )
                continue
            questions[key] = (form_id, self.flat(t.QUESTION, key, payload))
        placed: set[str] = set()
        result = []
        for key, payload in self.entries[t.FORM.type].items():
            form = self.flat(t.FORM, key, payload)
            ids = payload.get("question_definition_ids", [])
            field = "question_definition_ids"
            form["questions"] = self.children(t.FORM, key, field, ids, questions, placed)
            result.append(form)
        self.unplaced(
            t.QUESTION, "form", questions, placed, {k: k for k in self.entries[t.FORM.type]}
        )
        return result

    def webhooks(self) -> list[dict[str, Any]]:
        result = []
        for key, payload in self.entries[t.EXTENSION_WEBHOOK.type].items():
            self.same_flow(t.EXTENSION_WEBHOOK, key, payload, "pathway_definition_id")
            result.append(self.flat(t.EXTENSION_WEBHOOK, key, payload))
        return result

    def same_flow(
        self, kind: t.ComponentTable, key: str, payload: dict[str, Any], field: str
    ) -> None:
        """A component naming its care flow must name this one; the name is then implied."""
        if field in payload and payload[field] != self.pathway_id:
            self.issues.component(
                kind,
                key,
                f"`{field}` is `{payload[field]}`, not this care flow `{self.pathway_id}`.",
            )
