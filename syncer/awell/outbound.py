"""Canonical care-flow document → Awell Studio Source Control export. Pure: data in, data out.

The reverse of ``syncer.awell``, for teams moving from Git back to Awell Studio and for the round-trip
test: every component file, ``_key`` = ``definition_id`` = the component's id, Awell's field names, nested
components flattened again with their parent references (``track_definition_id``, ``step_definition_id``,
``form_definition_id``, ``pathway_id``...) and their order lists (``action_definition_ids``,
``question_definition_ids``), canvas coordinates taken back from ``layout``.

A concealed constant or extension setting is written ``obfuscated: true`` with no value at all: the value
is not in Git, and whoever imports the folder into Awell sets it there. Timestamps and editor ids are not
invented: they are simply absent.

Components are written grouped the way Awell nests them (steps track by track, actions step by step in their
order, questions form by form); within a group the canonical order (by id) is used, because Awell's own
order (creation time) is not kept in Git.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import Problem, ValidationError
from ..model import VENDOR_COMPONENTS, VENDOR_ENTRY_FIELDS, VENDOR_FIELDS
from . import tables as t
from . import vendor
from .entries import FOLDER_PATTERN

AwellExport = dict[str, list[dict[str, Any]]]  # folder → entries


def to_awell(document: Mapping[str, Any], display: str = "flow.yaml") -> AwellExport:
    """Convert a canonical care-flow document into Awell's component arrays, by folder.

    ``display`` names the source file in error messages. Raises ``ValidationError`` listing every part of
    the document that has no place in an Awell export (an unknown field, a missing id, a wrong shape).
    """
    exporter = _Exporter(document, display)
    exporter.export()
    if exporter.problems:
        raise ValidationError(exporter.problems)
    return exporter.out


def concealed_count(export: AwellExport) -> int:
    """How many settings and constants were written obfuscated (so without a value)."""
    settings = export.get(t.SETTINGS.folder) or [{}]
    payload = settings[0].get(t.SETTINGS.payload) or {}
    items = [item for group in (payload.get("plugins") or {}).values() for item in group.values()]
    items += payload.get("constants") or []
    return sum(1 for item in items if item.get("obfuscated") is True)


class _Exporter:
    """Walks the canonical document and fills ``out``; shape problems go to ``problems``."""

    def __init__(self, document: Mapping[str, Any], display: str) -> None:
        self.display = display
        self.problems: list[Problem] = []
        self.out: AwellExport = {kind.folder: [] for kind in t.KINDS}
        root = self.mapping(document, "(document)")
        self.metadata = self.mapping(root.get("metadata"), "metadata")
        self.spec = self.mapping(root.get("spec"), "spec")
        layout = self.mapping(root.get("layout", {}), "layout")
        self.track_layout = self.mapping(layout.get("tracks", {}), "layout.tracks")
        self.step_layout = self.mapping(layout.get("steps", {}), "layout.steps")
        flow_id = self.metadata.get("definition_id")
        if not isinstance(flow_id, str) or not flow_id:
            self.problem("metadata.definition_id", "must be the care-flow definition id.")
        self.flow_id = str(flow_id)

    # --- helpers ----------------------------------------------------------------------------------

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(self.display, f"`{where}` {message}"))

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        self.problem(where, "must be a mapping.")
        return {}

    def items(self, value: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
        """The components of a list, each with its path (``spec.tracks[ID]``)."""
        if not isinstance(value, list):
            self.problem(where, "must be a list.")
            return []
        result = []
        for index, item in enumerate(value):
            item_id = item.get("id") if isinstance(item, dict) else None
            if not isinstance(item_id, str) or not item_id:
                self.problem(f"{where}[{index}]", "must be a mapping with an `id`.")
                continue
            result.append((f"{where}[{item_id}]", item))
        return result

    def emit(self, kind: t.ComponentTable, payload: dict[str, Any], where: str) -> None:
        """Add one entry, with what was carried verbatim merged back where it came from."""
        conflicts: list[tuple[str, str]] = []
        merged = vendor.merged(payload, where, conflicts)
        for path, message in conflicts:
            self.problem(path, message)
        envelope = vendor.entry_fields(merged)
        entry = {"type": kind.type, kind.payload: merged}
        for name, value in envelope.items():
            if name in entry:
                self.problem(f"{where}.{VENDOR_ENTRY_FIELDS}.{name}", "names a field of the entry.")
            else:
                entry[name] = value
        self.out[kind.folder].append(entry)

    def unflat(
        self,
        kind: t.ComponentTable,
        item: dict[str, Any],
        where: str,
        extra: t.Pairs = (),
        nested: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        """A component's own fields with Awell's names, ``_key`` and ``definition_id`` first."""
        data, unknown = t.rename(item, t.reverse(kind.fields + extra))
        for name in unknown:
            if name in (VENDOR_FIELDS, VENDOR_ENTRY_FIELDS):
                data[name] = item[name]  # merged back by ``emit``
            elif name != "id" and name not in nested:
                self.problem(
                    f"{where}.{name}", f"is not a field of a {kind.type} in Awell's export."
                )
        return {"_key": item["id"], "definition_id": item["id"], **data}

    def renamed(self, value: Any, where: str, table: t.Pairs) -> Any:
        """A nested object (or list of objects) of an action, with Awell's field names."""
        if isinstance(value, list):
            return [self.renamed(item, f"{where}[{i}]", table) for i, item in enumerate(value)]
        if not isinstance(value, dict):
            self.problem(where, "must be a mapping.")
            return value
        data, unknown = t.rename(value, t.reverse(table))
        for name in unknown:
            if name == VENDOR_FIELDS:
                data[name] = value[name]  # merged back by ``emit``
            else:
                self.problem(f"{where}.{name}", "is not a field Awell knows here.")
        return data

    # --- components -------------------------------------------------------------------------------

    def export(self) -> None:
        self.emit(t.PATHWAY, self.pathway(), "spec")
        self.emit(t.SETTINGS, self.settings(), "spec.settings")
        for kind, name in t.TOP_LEVEL_LISTS:
            for where, item in self.items(self.spec.get(name, []), f"spec.{name}"):
                self.emit(kind, self.unflat(kind, item, where), where)
        for where, track in self.items(self.spec.get("tracks", []), "spec.tracks"):
            self.track(where, track)
        for where, trigger in self.items(self.spec.get("triggers", []), "spec.triggers"):
            self.trigger(where, trigger)
        for where, form in self.items(self.spec.get("forms", []), "spec.forms"):
            self.form(where, form)
        webhooks = self.spec.get("extension_webhooks", [])
        for where, webhook in self.items(webhooks, "spec.extension_webhooks"):
            payload = self.unflat(t.EXTENSION_WEBHOOK, webhook, where)
            payload["pathway_definition_id"] = self.flow_id
            self.emit(t.EXTENSION_WEBHOOK, payload, where)
        self.carried_components()

    def carried_components(self) -> None:
        """Component files syncer does not model, written back as they came in."""
        carried = self.mapping(self.spec.get(VENDOR_COMPONENTS, {}), f"spec.{VENDOR_COMPONENTS}")
        for folder, entries in carried.items():
            where = f"spec.{VENDOR_COMPONENTS}.{folder}"
            if not isinstance(folder, str) or not FOLDER_PATTERN.match(folder):
                self.problem(where, "is not a component folder name (a-z, 0-9 and `_`).")
            elif folder in self.out:
                self.problem(
                    where, "is a component file syncer models; its entries belong in spec."
                )
            elif not isinstance(entries, list):
                self.problem(where, "must be a list.")
            else:
                self.out[folder] = list(entries)

    def pathway(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"_key": self.flow_id, "definition_id": self.flow_id}
        payload["title"] = self.metadata.get("title", "")
        if self.metadata.get("description"):  # Awell has no empty description to give back
            payload["description"] = self.metadata["description"]
        if "team_id" in self.spec:
            payload["team_id"] = self.spec["team_id"]
        for name in (VENDOR_FIELDS, VENDOR_ENTRY_FIELDS):  # the pathway's, kept in spec
            if name in self.spec:
                payload[name] = self.spec[name]
        return payload

    def settings(self) -> dict[str, Any]:
        settings = self.mapping(self.spec.get("settings", {}), "spec.settings")
        data, unknown = t.rename(settings, t.reverse(t.SETTINGS.fields))
        for name in unknown:
            if name in (VENDOR_FIELDS, VENDOR_ENTRY_FIELDS):
                data[name] = settings[name]  # merged back by ``emit``
            elif name not in ("extensions", "constants"):
                self.problem(f"spec.settings.{name}", "is not a setting in Awell's export.")
        payload = {"_key": self.flow_id, "definition_id": self.flow_id, **data}
        if "extensions" in settings:
            extensions = self.mapping(settings["extensions"], "spec.settings.extensions")
            payload["plugins"] = {
                name: self.plugin(name, self.mapping(items, f"spec.settings.extensions.{name}"))
                for name, items in extensions.items()
            }
        if "constants" in settings:
            constants = self.items(settings["constants"], "spec.settings.constants")
            payload["constants"] = [self.value_item(item, where) for where, item in constants]
        return payload

    def plugin(self, extension: str, items: dict[str, Any]) -> dict[str, Any]:
        where = f"spec.settings.extensions.{extension}"
        return {
            name: self.value_item(self.mapping(item, f"{where}.{name}"), f"{where}.{name}")
            for name, item in items.items()
        }

    def value_item(self, item: dict[str, Any], where: str) -> dict[str, Any]:
        """An extension setting or constant; a concealed one is obfuscated and has no value."""
        for name in item:
            if name not in ("id", "key", "label", "value", "concealed", VENDOR_FIELDS):
                self.problem(
                    f"{where}.{name}", "is not a field of a constant or extension setting."
                )
        result = {name: item[name] for name in ("id", "label") if name in item}
        concealed = item.get("concealed") is True
        result["obfuscated"] = concealed
        if "value" in item and not concealed:
            result["value"] = item["value"]
        if VENDOR_FIELDS in item:
            result[VENDOR_FIELDS] = item[VENDOR_FIELDS]  # merged back by ``emit``
        return result

    def track(self, where: str, track: dict[str, Any]) -> None:
        payload = self.unflat(t.TRACK, track, where, nested=frozenset({"steps", "transitions"}))
        corners = self.mapping(
            self.track_layout.get(track["id"], {}), f"layout.tracks.{track['id']}"
        )
        for name in ("start", "end"):
            if name in corners:
                payload[f"{name}_coordinates"] = corners[name]
        self.emit(t.TRACK, payload, where)
        for step_where, step in self.items(track.get("steps", []), f"{where}.steps"):
            self.step(step_where, step, track["id"])
        for edge_where, transition in self.items(
            track.get("transitions", []), f"{where}.transitions"
        ):
            self.emit(t.TRANSITION, self.unflat(t.TRANSITION, transition, edge_where), edge_where)

    def step(self, where: str, step: dict[str, Any], track_id: str) -> None:
        fields = self.unflat(t.STEP, step, where, nested=frozenset({"actions"}))
        actions = self.items(step.get("actions", []), f"{where}.actions")
        carried = dict(fields.pop(VENDOR_FIELDS, None) or {})
        step_type = carried.pop("type", "step")  # a kind of step syncer does not model
        payload = {"_key": fields.pop("_key"), "type": step_type, **fields}
        if carried:
            payload[VENDOR_FIELDS] = carried
        payload["action_definition_ids"] = [action["id"] for _, action in actions]
        payload["track_definition_id"] = track_id
        if step["id"] in self.step_layout:
            payload["coordinates"] = self.step_layout[step["id"]]
        self.emit(t.STEP, payload, where)
        for action_where, action in actions:
            self.action(action_where, action, step["id"])

    def action(self, where: str, action: dict[str, Any], step_id: str) -> None:
        shape = t.ACTION_SHAPES.get(str(action.get("type")), t.UNMODELLED_ACTION)
        payload = self.unflat(t.ACTION, action, where, extra=shape.fields)
        for name, table in {**shape.items, **shape.objects}.items():
            if name in payload:
                payload[name] = self.renamed(payload[name], f"{where}.{name}", table)
        self.emit(t.ACTION, {**payload, "step_definition_id": step_id}, where)

    def trigger(self, where: str, trigger: dict[str, Any]) -> None:
        payload = self.unflat(t.TRIGGER, trigger, where, nested=frozenset({"target"}))
        payload["pathway_id"] = self.flow_id
        target = self.mapping(trigger.get("target", {}), f"{where}.target")
        for name in target:
            if name not in ("type", "id"):
                self.problem(f"{where}.target.{name}", "is not a field of a trigger target.")
        for name in ("id", "type"):
            if name in target:
                payload[f"target_{name}"] = target[name]
        self.emit(t.TRIGGER, payload, where)

    def form(self, where: str, form: dict[str, Any]) -> None:
        payload = self.unflat(t.FORM, form, where, nested=frozenset({"questions"}))
        questions = self.items(form.get("questions", []), f"{where}.questions")
        payload["question_definition_ids"] = [question["id"] for _, question in questions]
        self.emit(t.FORM, payload, where)
        for question_where, question in questions:
            fields = self.unflat(t.QUESTION, question, question_where)
            self.emit(t.QUESTION, {**fields, "form_definition_id": form["id"]}, question_where)
