"""The field tables that map Awell Studio's Source Control export to the canonical care-flow file.

Both directions (``awell`` imports, ``awell_export`` exports) read these tables, so a field can only be
renamed in one place. The canonical names are fixed by ``docs/flow-format.md``; the Awell names are the
ones in a real export (``../shared/fixtures/awell-source-control-export/``).

A table lists ``(awell name, canonical name)`` pairs in the order Awell writes them. Fields a table does not
list are either *structural* (consumed by the mapping code: nesting, layout, checks against the care-flow
definition id), *volatile* (timestamps and editor ids, dropped on purpose), or unknown — and an unknown field
is carried verbatim under the component's ``vendor_fields`` (``syncer.awell.vendor``), never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Pairs = tuple[tuple[str, str], ...]

# Awell stamps every component with these; SPEC 3 keeps editor ids and timestamps out of the file.
VOLATILE: frozenset[str] = frozenset({"created", "last_updated"})

# The prefix of an Awell-encrypted value (base64 of OpenSSL's "Salted__"): never written anywhere.
ENCRYPTED_PREFIX = "U2FsdGVkX1"


def pairs(*names: str | tuple[str, str]) -> Pairs:
    """Build a table: a plain name keeps its name, a pair renames (Awell camelCase → snake_case)."""
    return tuple((name, name) if isinstance(name, str) else name for name in names)


def reverse(table: Pairs) -> Pairs:
    """The same table read the other way (canonical → Awell)."""
    return tuple((canonical, awell) for awell, canonical in table)


def rename(data: Mapping[str, Any], table: Pairs) -> tuple[dict[str, Any], list[str]]:
    """Copy the fields of ``data`` that ``table`` names, renamed and in table order.

    Returns the copy and the names of the fields the table does not know (in ``data`` order), so the
    caller can report them.
    """
    known = {source for source, _ in table}
    copied = {target: data[source] for source, target in table if source in data}
    return copied, [name for name in data if name not in known]


@dataclass(frozen=True)
class ComponentTable:
    """One Awell component type: its file, the key that wraps each entry, and how its fields map."""

    folder: str  # the export folder and file name: <folder>/<folder>.json
    type: str  # the entry's "type"
    payload: str  # the key holding the component in an entry (usually equal to type)
    fields: Pairs  # copied (and renamed) as they are
    structural: frozenset[str] = frozenset()  # consumed by the mapping code
    volatile: frozenset[str] = VOLATILE

    @property
    def file(self) -> str:
        return f"{self.folder}/{self.folder}.json"

    def known(self, extra: Pairs = ()) -> frozenset[str]:
        """Every Awell field an entry of this kind may carry."""
        own = {awell for awell, _ in self.fields} | {awell for awell, _ in extra}
        return frozenset({"_key", "definition_id"}) | own | self.structural | self.volatile


PATHWAY = ComponentTable("pathways", "pathway", "pathway", pairs("title", "description", "team_id"))
SETTINGS = ComponentTable(
    "settings",
    "settings",
    "pathway_settings",
    pairs("reminders"),
    structural=frozenset({"plugins", "constants"}),
)
STAKEHOLDER = ComponentTable(
    "stakeholders", "stakeholder", "stakeholder", pairs("label", "clinical_app_role")
)
LABEL = ComponentTable("labels", "label", "label", pairs("color", "text"))
TRACK = ComponentTable(
    "tracks",
    "track",
    "track",
    pairs("title", "key"),
    structural=frozenset({"start_coordinates", "end_coordinates"}),
)
STEP = ComponentTable(
    "steps",
    "step",
    "step",
    pairs("title", "key", "label_definition_ids", "documentation"),
    structural=frozenset({"type", "action_definition_ids", "track_definition_id", "coordinates"}),
)
ACTION = ComponentTable(
    "actions",
    "action",
    "action",
    pairs("title", "type", "stakeholder_definition_ids", "location_definition_ids"),
    structural=frozenset({"step_definition_id"}),
)
TRANSITION = ComponentTable(
    "transitions",
    "transition",
    "transition",
    pairs("origin", "destination", "rule_definition_id", "timing_definition_id", "default"),
)
RULE = ComponentTable("rules", "rule", "rule", pairs("conditions", "boolean_operator"))
TRIGGER = ComponentTable(
    "triggers",
    "trigger",
    "trigger",
    pairs("settings", "timer"),
    structural=frozenset({"pathway_id", "target_id", "target_type"}),
)
TIMING = ComponentTable("timings", "timing", "timing", pairs("delay"))
DATA_POINT_DEFINITION = ComponentTable(
    "data_point_definitions",
    "data_point_definition",
    "data_point_definition",
    pairs(
        "source_definition_id",
        "category",
        "key",
        ("valueType", "value_type"),
        "qualified_key",
        ("data_point_metadata", "metadata"),
        ("possibleValues", "possible_values"),
        "optional",
        "pii",
        "unit",
        "range",
    ),
)
DYNAMIC_VARIABLE = ComponentTable(
    "dynamic_variables",
    "dynamic_variable",
    "dynamic_variable",
    pairs(
        "transformations", "data_point_definition_id", "data_point_property", "fallback", "label"
    ),
)
FORM = ComponentTable(
    "forms",
    "form",
    "form",
    pairs("title", "key", "team_ids"),
    structural=frozenset({"question_definition_ids"}),
    volatile=VOLATILE | {"user_id"},  # the editor who created the form
)
QUESTION = ComponentTable(
    "questions",
    "question",
    "question",
    pairs(
        ("dataPointValueType", "data_point_value_type"),
        ("questionType", "question_type"),
        ("userQuestionType", "user_question_type"),
        "key",
        "title",
        ("keyManuallyModified", "key_manually_modified"),
        "options",
        ("questionConfig", "question_config"),
        "rule_definition_id",
    ),
    structural=frozenset({"form_definition_id"}),
)
MESSAGE = ComponentTable(
    "messages",
    "message",
    "message",
    pairs(
        "body",
        "dynamic_variable_definition_ids",
        "html_body",
        "attachments",
        "format",
        "subject",
        "constant_ids",
    ),
)
CLINICAL_NOTE = ComponentTable(
    "clinical_notes", "clinical_note", "clinical_note", pairs("narratives", "context")
)
EXTENSION_WEBHOOK = ComponentTable(
    "extension_webhooks",
    "extension_webhook",
    "extension_webhook",
    pairs("extension", "webhook_key", "endpoint_url"),
    structural=frozenset({"pathway_definition_id"}),
)

KINDS: tuple[ComponentTable, ...] = (
    PATHWAY,
    SETTINGS,
    STAKEHOLDER,
    LABEL,
    TRACK,
    STEP,
    ACTION,
    TRANSITION,
    RULE,
    TRIGGER,
    TIMING,
    DATA_POINT_DEFINITION,
    DYNAMIC_VARIABLE,
    FORM,
    QUESTION,
    MESSAGE,
    CLINICAL_NOTE,
    EXTENSION_WEBHOOK,
)
KIND_BY_FOLDER: dict[str, ComponentTable] = {kind.folder: kind for kind in KINDS}
KIND_BY_TYPE: dict[str, ComponentTable] = {kind.type: kind for kind in KINDS}
REQUIRED_FOLDERS: tuple[str, ...] = (PATHWAY.folder, SETTINGS.folder)

# Components that are nested elsewhere in the canonical file, and where their list lives in ``spec``.
TOP_LEVEL_LISTS: tuple[tuple[ComponentTable, str], ...] = (
    (STAKEHOLDER, "stakeholders"),
    (LABEL, "labels"),
    (RULE, "rules"),
    (TIMING, "timings"),
    (DATA_POINT_DEFINITION, "data_point_definitions"),
    (DYNAMIC_VARIABLE, "dynamic_variables"),
    (MESSAGE, "messages"),
    (CLINICAL_NOTE, "clinical_notes"),
)


@dataclass(frozen=True)
class ActionShape:
    """The type-specific fields of one action type (docs/flow-format.md, the action table)."""

    fields: Pairs
    items: Mapping[str, Pairs] = field(
        default_factory=dict
    )  # lists of objects, renamed item by item
    objects: Mapping[str, Pairs] = field(default_factory=dict)  # objects, renamed


# An action of a type syncer does not model: its common fields are known, its own ones are carried.
UNMODELLED_ACTION = ActionShape(())

_HTTP_CALL = pairs("method", "endpoint", "headers", "body", "mappings")
_GRAPHQL_CALL = pairs("endpoint", "headers", "query", "variables", "mappings")

ACTION_SHAPES: dict[str, ActionShape] = {
    "form": ActionShape(pairs("form_definition_id", "form_display_mode")),
    "message": ActionShape(pairs("message_definition_id")),
    "checklist": ActionShape(pairs("checklist")),
    "calculation": ActionShape(
        pairs("calculation_inputs", "calculation_definition_id"),
        items={"calculation_inputs": pairs("calculation_input_id", "data_point_definition_id")},
    ),
    "api_call": ActionShape(pairs("api_call"), objects={"api_call": _HTTP_CALL}),
    "api_call_graphql": ActionShape(pairs("api_call"), objects={"api_call": _GRAPHQL_CALL}),
    "clinical_note": ActionShape(pairs("clinical_note_definition_id")),
    "push_to_emr": ActionShape(pairs("emr_report_definition_id", "emr_report")),
    "plugin": ActionShape(
        pairs(
            "plugin_key",
            "plugin_action_key",
            "plugin_fields",
            "extension_data_points",
            "extension_data_point_mappings",
        ),
        items={
            "plugin_fields": pairs(
                "description",
                "id",
                "label",
                "required",
                "type",
                ("stringType", "string_type"),
                "value",
                "options",
            ),
            "extension_data_points": pairs("key", ("valueType", "value_type")),
            "extension_data_point_mappings": pairs(
                "extension_data_point_key", "id", "data_point_definition_id"
            ),
        },
    ),
}

# An extension setting and an Awell constant: ``obfuscated`` becomes ``concealed`` (and loses its value).
SETTING_FIELDS: frozenset[str] = frozenset({"id", "label", "obfuscated", "value"})
CONSTANT_FIELDS: frozenset[str] = frozenset({"id", "label", "obfuscated", "value"})
