"""Plain data: environments, flow documents, plan entries and statuses. No I/O."""

from __future__ import annotations

import base64
import functools
import ipaddress
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

API_VERSION = "syncer.careflow/v1"
FLOW_KIND = "CareFlow"
ENVIRONMENT_KIND = "Environment"

FLOW_KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
CONSTANT_KEY_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*$")

# The one rule for every id (a care-flow definition id, a component id), shared by the JSON Schema
# (`$defs/id`), the OpenAPI file, validate, the client and the tenant: letters, digits and `_ . : -`, at
# most 256 characters, and never only dots: `.` and `..` are path segments that name another URL.
# Matched as JSON Schema matches a `pattern` (``re.search``), so that validate and the client agree.
ID_PATTERN = r"^[A-Za-z0-9_.:-]*[A-Za-z0-9_:-][A-Za-z0-9_.:-]*$"
ID_MAX_LENGTH = 256
ID_RULE = "letters, digits, `_`, `-`, `.` and `:` (not only dots), at most 256"
_ID = re.compile(ID_PATTERN)

FLOWS_DIR = "flows"

# What the canonical format does not model, kept verbatim (docs/flow-format.md, "vendor_fields"): a
# component's own unknown fields, the unknown fields of its export entry, and unknown component files.
VENDOR_FIELDS = "vendor_fields"
VENDOR_ENTRY_FIELDS = "vendor_entry_fields"
VENDOR_COMPONENTS = "vendor_components"
VERBATIM_KEYS: frozenset[str] = frozenset({VENDOR_FIELDS, VENDOR_ENTRY_FIELDS, VENDOR_COMPONENTS})
ENVIRONMENTS_DIR = "environments"

VALUE_TYPES: tuple[str, ...] = (
    "string",
    "number",
    "boolean",
    "date",
    "telephone",
    "numbers_array",
    "strings_array",
    "json",
    "attachments_array",
)
"""A data point's value types as Awell names them (``value_type``, ``data_point_value_type``)."""

SIGNERS_ENV = "SYNCER_ALLOWED_SIGNERS"
"""The operator's variable naming the allowed-signers file for every environment of a run."""


def signers_variable_of(environment: str) -> str:
    """The operator's variable for one environment's allowed signers, e.g.
    ``SYNCER_ALLOWED_SIGNERS_PRODUCTION_EU``. With ``SIGNERS_ENV`` these are the only names
    ``verify.allowed_signers_env`` may use: syncer verifies whenever one of them is set, so that a
    commit cannot switch its own verification off by deleting ``verify``."""
    return f"{SIGNERS_ENV}_{re.sub(r'[^A-Z0-9]', '_', environment.upper())}"


ANNOTATION_PREFIX = "syncer.io/"
ANN_LAST_APPLIED_HASH = "syncer.io/last-applied-hash"
ANN_LAYOUT_HASH = "syncer.io/last-applied-layout-hash"
ANN_GIT_COMMIT = "syncer.io/git-commit"
ANN_APPLIED_AT = "syncer.io/applied-at"
ANN_APPLIED_BY = "syncer.io/applied-by"
ANN_APPLIED_REVISION = "syncer.io/applied-revision"
ANN_FLOW_KEY = "syncer.io/flow-key"
ANN_VALUE_PREFIX = "syncer.io/value."
ANN_FILLED_PREFIX = "syncer.io/secret-filled."
ANN_EXPORTED_HASH = "syncer.io/exported-hash"
ANN_BOOTSTRAP = "syncer.io/bootstrapped-from"
ANN_UNCOMMITTED = "syncer.io/uncommitted"  # apply --allow-dirty: the uncommitted files it wrote
ANN_WINDOW_OVERRIDE = "syncer.io/window-override"  # apply --override-window: who, when and why


def flow_file_header(depth: int = 2) -> str:
    return f"# yaml-language-server: $schema={'../' * depth}schemas/careflow.v1.schema.json"


ENVIRONMENT_HEADER = "# yaml-language-server: $schema=../schemas/environment.v1.schema.json"


def iter_value_items(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(ref, item)`` for every constant (ref ``KEY``) and extension setting (``ext.setting``).

    The items are the live dicts inside ``document``, so callers may change them in place.
    """
    settings = (document.get("spec") or {}).get("settings") or {}
    for constant in settings.get("constants") or []:
        if isinstance(constant, dict) and "key" in constant:
            yield str(constant["key"]), constant
    for extension, items in sorted((settings.get("extensions") or {}).items()):
        if not isinstance(items, dict):
            continue
        for name, item in sorted(items.items()):
            if isinstance(item, dict):
                yield f"{extension}.{name}", item


def is_safe_id(text: object) -> bool:
    """Whether ``text`` is an id (``ID_PATTERN``): safe in a URL path segment and a file name."""
    return isinstance(text, str) and len(text) <= ID_MAX_LENGTH and bool(_ID.search(text))


# -- concealed values on the wire ---------------------------------------------------------------------

MASK = "***"
_PERCENT = re.compile(r"(%[0-9A-F]{2})")
_MIN_CORE = 8  # a shorter base64 fragment of a secret would mask unrelated text, and reveal little


@functools.lru_cache(maxsize=1024)
def secret_forms(value: str) -> frozenset[str]:
    """Every text a secret can take in an answer or a message: raw, JSON-escaped (ASCII-only or not,
    once or twice, as a JSON string inside a JSON string), Python-repr-escaped, URL-encoded (path,
    query and form style) and base64 (standard and URL-safe, padded or not, and the part of it that
    stays the same at any byte offset inside a longer base64 text)."""
    forms = {value}
    for once in (json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]):
        forms |= {once, json.dumps(once)[1:-1]}
    forms |= {repr(value)[1:-1], quote(value, safe=""), quote(value), quote_plus(value)}
    raw = value.encode("utf-8", "surrogatepass")
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode("ascii")
        forms |= {whole, whole.rstrip("=")}
        for shift in (0, 1, 2):  # the secret after 0, 1 or 2 bytes of something, before more
            coded = encode(b"\0" * shift + raw).decode("ascii")
            core = coded[4 if shift else 0 : 4 * ((shift + len(raw)) // 3)]
            if len(core) >= _MIN_CORE:
                forms.add(core)
    return frozenset(form for form in forms if form)


def mask_secrets(text: str, secrets: Iterable[Any], mask: str = MASK) -> str:
    """``text`` with every form (``secret_forms``) of every non-empty secret replaced by ``mask``.

    The one masking function: the client's error messages, the tenant's error answers and every log
    line (``report.logs.redact``) use it.
    """
    forms = {f for s in secrets if s not in (None, "") for f in secret_forms(str(s))}
    if not forms or not text:
        return text
    ordered = sorted(forms, key=lambda form: (-len(form), form))  # longest first: no partial masks
    pattern = "|".join(_case_free_percent(form) for form in ordered)
    return re.sub(pattern, lambda _match: mask, text)


def _case_free_percent(form: str) -> str:
    """``form`` as a regular expression whose ``%XX`` escapes match in either case."""
    pieces = _PERCENT.split(form)
    return "".join(
        f"%[{p[1]}{p[1].lower()}][{p[2]}{p[2].lower()}]" if _PERCENT.fullmatch(p) else re.escape(p)
        for p in pieces
    )


def is_managed(annotations: dict[str, str]) -> bool:
    """Whether syncer wrote this flow: its last-applied record is in the tenant's annotations."""
    return ANN_LAST_APPLIED_HASH in annotations


def plain_http_to_remote(url: str) -> bool:
    """Whether ``url`` would carry an API key in clear text off this machine: ``http://`` to a host
    that is not loopback (127.0.0.0/8, ::1, ``localhost``)."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "http":
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def is_constant_ref(ref: str) -> bool:
    """Constants are ``UPPER_SNAKE``; extension settings are ``extension.setting``."""
    return "." not in ref


class Role(StrEnum):
    SOURCE = "source"
    TARGET = "target"


@dataclass(frozen=True)
class Window:
    kind: str  # allow | deny
    cron: str
    duration_seconds: int
    timezone: str


@dataclass(frozen=True)
class Environment:
    """One tenant the repository knows (SPEC 4)."""

    name: str
    role: Role
    region: str
    url: str
    api_key_env: str
    flows: tuple[str, ...] | None  # None means all
    constants: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(
        default_factory=dict
    )  # constant/setting ref -> environment variable
    extensions: dict[str, dict[str, Any]] = field(default_factory=dict)
    identifier_systems: tuple[dict[str, str], ...] = ()
    ignore: tuple[str, ...] = ()
    windows: tuple[Window, ...] = ()
    signed_commits: bool = False
    allowed_signers_env: str | None = None  # the variable holding the allowed-signers file's path
    path: str = ""

    def selects(self, flow_key: str) -> bool:
        return self.flows is None or flow_key in self.flows

    def override_for(self, ref: str) -> tuple[bool, Any]:
        """The environment's value for a constant or setting ref, if it names one."""
        if is_constant_ref(ref):
            if ref in self.constants:
                return True, self.constants[ref]
            return False, None
        extension, _, setting = ref.partition(".")
        values = self.extensions.get(extension) or {}
        if setting in values:
            return True, values[setting]
        return False, None


class Status(StrEnum):
    IN_SYNC = "in_sync"
    CREATE = "create"
    UPDATE = "update"
    DRIFT = "drift"
    CONFLICT = "conflict"
    UNMANAGED = "unmanaged"
    ORPHANED = "orphaned"
    UNTRACKED = "untracked"  # only in the tenant, never written by syncer: informational


STATUSES: tuple[Status, ...] = tuple(Status)
NEEDS_PERSON: frozenset[Status] = frozenset(
    {Status.DRIFT, Status.CONFLICT, Status.UNMANAGED, Status.ORPHANED}
)
WRITES: frozenset[Status] = frozenset({Status.CREATE, Status.UPDATE})


class Decision(StrEnum):
    KEEP_DESTINATION = "keep_destination"
    SET_FROM_GIT = "set_from_git"
    SET_FROM_ENVIRONMENT = "set_from_environment"
    SET_FROM_SECRET = "set_from_secret"
    BLANK = "blank"


@dataclass
class ConstantDecision:
    """What apply does with one constant or extension setting. Never carries a concealed value."""

    key: str
    concealed: bool
    decision: Decision
    value: Any = None  # the value to write (non-concealed only); None for concealed
    changed: bool = False  # whether the write changes the destination's value
    note: str = ""
    missing_source: str = ""  # the secret source variable the environment names but is not set

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "key": self.key,
            "concealed": self.concealed,
            "decision": self.decision.value,
        }
        if not self.concealed and self.value is not None:
            data["value"] = self.value
        if self.changed:
            data["changed"] = True
        if self.note:
            data["note"] = self.note
        if self.missing_source:
            data["missing_source"] = self.missing_source
        return data


@dataclass(frozen=True)
class Component:
    """One step of a change's trail: which component, named for a reader."""

    kind: str  # flow, settings, constant, extension_setting, track, step, action, transition, rule, trigger, timing,
    # data_point_definition, dynamic_variable, form, question, message, clinical_note, extension_webhook, ...
    id: str
    key: str = ""
    title: str = ""
    type: str = ""  # the action type (message, form, ...) or trigger type, when there is one

    def to_json(self) -> dict[str, str]:
        data = {"kind": self.kind, "id": self.id}
        for name in ("key", "title", "type"):
            if getattr(self, name):
                data[name] = getattr(self, name)
        return data


@dataclass
class Change:
    """One semantic difference. ``path`` names components by key or id, never by list index;
    ``trail`` names the same components for a reader; ``field`` is the attribute that changed
    (empty when a whole component was added or removed)."""

    path: str
    kind: str  # changed | added | removed
    before: Any = None
    after: Any = None
    description: str = ""
    breaking: bool = False
    cosmetic: bool = False
    trail: list[Component] = field(default_factory=list)
    field: str = ""
    breaking_reason: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "kind": self.kind}
        if self.trail:
            data["trail"] = [c.to_json() for c in self.trail]
        if self.field:
            data["field"] = self.field
        if self.breaking_reason:
            data["breaking_reason"] = self.breaking_reason
        if self.kind != "added":
            data["before"] = self.before
        if self.kind != "removed":
            data["after"] = self.after
        if self.description:
            data["description"] = self.description
        if self.breaking:
            data["breaking"] = True
        if self.cosmetic:
            data["cosmetic"] = True
        return data


@dataclass
class LiveEdit:
    revision: int
    user: str
    at: str
    hotfix: bool
    edit_source: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "user": self.user,
            "at": self.at,
            "hotfix": self.hotfix,
            "edit_source": self.edit_source,
        }


@dataclass
class FlowPlan:
    """The three-way verdict for one flow in one environment."""

    key: str
    definition_id: str
    title: str
    status: Status
    breaking: bool = False
    cosmetic_only: bool = False
    changes: list[Change] = field(default_factory=list)
    live_edits: list[LiveEdit] = field(default_factory=list)
    constants: list[ConstantDecision] = field(default_factory=list)
    live_revision: int | None = None
    desired_hash: str = ""
    reason: str = ""
    git_side: list[Change] = field(
        default_factory=list
    )  # conflict: what Git changed since last applied
    # The documents compared, for renderings that draw them (Mermaid); never serialised, never holding a
    # concealed value (desired carries no secret, live comes from the tenant with has_value only).
    desired: dict[str, Any] | None = None
    live: dict[str, Any] | None = None
    live_annotations: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "key": self.key,
            "definition_id": self.definition_id,
            "title": self.title,
            "status": self.status.value,
            "breaking": self.breaking,
            "cosmetic_only": self.cosmetic_only,
            "changes": [c.to_json() for c in self.changes],
            "live_edits": [e.to_json() for e in self.live_edits],
            "constants": [c.to_json() for c in self.constants],
            "live_revision": self.live_revision,
            "desired_hash": self.desired_hash,
        }
        if self.reason:
            data["reason"] = self.reason
        if self.git_side:
            data["git_side"] = [c.to_json() for c in self.git_side]
        return data


class HoldKind(StrEnum):
    WINDOW = "window"  # a sync window deferred the writes
    VERIFY = "verify"  # the commit is not signed by an allowed signer: nothing planned or written
    UNTRUSTED = "untrusted"  # new in the reviewed change: no trusted URL, so not contacted


@dataclass(frozen=True)
class Hold:
    """Why an environment got no writes in a run (or was not even contacted). Reports name it."""

    kind: HoldKind
    message: str  # a sentence for a person: what held, why, and what to do
    commit: str = ""  # verify: the refused commit
    signer: str = ""  # verify: the allowed signer, the key's fingerprint, or "unsigned"
    window: str = ""  # window: the window that holds writes now
    next_open: str = ""  # window: when writes are next allowed (ISO 8601, UTC); "" = not soon
    pending: int = 0  # window: the writes the plan holds back

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind.value, "message": self.message}
        for name in ("commit", "signer", "window", "next_open"):
            if getattr(self, name):
                data[name] = getattr(self, name)
        if self.kind is HoldKind.WINDOW:
            data["pending"] = self.pending
        return data


@dataclass(frozen=True)
class SettingChange:
    """A setting of an environment file that differs between the trusted base and the reviewed head."""

    field: str  # url | api_key_env | role | verify | windows
    base: str
    head: str
    note: str  # what syncer did about it (e.g. called the base's URL, never the head's)

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "base": self.base, "head": self.head, "note": self.note}


@dataclass
class EnvironmentPlan:
    environment: str
    git_commit: str
    flows: list[FlowPlan] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    uncommitted: tuple[str, ...] = ()  # work tree files that differ from git_commit
    hold: Hold | None = None  # why nothing was (or will be) written here
    environment_changes: list[SettingChange] = field(default_factory=list)  # base -> head

    def summary(self) -> dict[str, int]:
        counts = {status.value: 0 for status in STATUSES}
        for flow in self.flows:
            counts[flow.status.value] += 1
        return counts

    def pending_writes(self) -> int:
        """How many flows apply would create or update."""
        return sum(1 for flow in self.flows if flow.status in WRITES)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "environment": self.environment,
            "git_commit": self.git_commit,
            "summary": self.summary(),
            "flows": [f.to_json() for f in self.flows],
        }
        if self.errors:
            data["errors"] = list(self.errors)
        if self.uncommitted:
            data["uncommitted"] = list(self.uncommitted)
        if self.hold is not None:
            data["held"] = self.hold.to_json()
        if self.environment_changes:
            data["environment_changes"] = [c.to_json() for c in self.environment_changes]
        return data
