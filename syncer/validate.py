"""Validation of flow and environment files: JSON Schema (jsonschema) plus meaning checks.

Every finding is a ``Problem`` that names the file, line and column and says what to do. Schema messages are
written here rather than taken from jsonschema, for two reasons: they should speak the user's language
("unknown field `titel`. Did you mean `title`?"), and they must never echo a value, because the value in
the wrong place may be a secret (a literal under ``secrets:``, a ``value`` of a concealed constant).

- ``check_flow`` / ``check_environment``: one loaded document;
- ``check_repository`` / ``validate_repository``: the files of a GitOps repository, with cross-checks
  (flow keys and definition ids unique, environments agree with the flows' concealed constants);
- ``parse_environment``: a validated environment document as ``model.Environment``.

The meaning checks of a care flow live in ``semantics``.
"""

from __future__ import annotations

import difflib
import json
import re
import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema import ValidationError as SchemaError

from . import semantics, yamlio
from .errors import ConfigError, Problem, ValidationError
from .model import FLOW_KEY_PATTERN, Environment, Role, Window, iter_value_items
from .yamlio import Document, JsonPath

Kind = Literal["careflow", "environment"]
SCHEMA_FILES = {"careflow": "careflow.v1.schema.json", "environment": "environment.v1.schema.json"}

_SLUG = "^[a-z0-9][a-z0-9-]{0,62}$"
_TYPE_WORDS = {
    "string": "a string",
    "object": "a mapping",
    "array": "a list",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "empty (null)",
}
_PATTERN_HINTS = {
    _SLUG: "Use lower-case letters, digits and `-` (at most 63), e.g. `depression-screening`.",
    "^[A-Z][A-Z0-9_]*$": "Use UPPER_SNAKE, e.g. `EHR_BASE_URL`.",
    "^[A-Z_][A-Z0-9_]*$": "Name an environment variable in UPPER_SNAKE, e.g. `PROD_EU_EHR_API_KEY`.",
    "^[A-Za-z0-9_.:-]+$": "Ids use letters, digits, `_`, `-`, `.` and `:` only.",
    "^(?=[0-9])([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$": "Write a duration such as 11h, 30m, 90s or 1h30m.",
    "^https?://[^\\s]+$": "Write the tenant API base URL, e.g. `https://tenant.example.org`.",
}
_MAYBE_SECRET = frozenset({"api_key_env", "from_env", "url"})
_DURATION = re.compile(r"^(?=[0-9])(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$")


@dataclass(frozen=True)
class _Finding:
    path: JsonPath
    message: str
    hint: str | None = None
    structural: bool = False


@cache
def _validator(kind: Kind) -> Draft202012Validator:
    text = resources.files("syncer.schemas").joinpath(SCHEMA_FILES[kind]).read_text("utf-8")
    return Draft202012Validator(json.loads(text))


def schema_problems(data: Any, kind: Kind) -> list[tuple[tuple[str | int, ...], str]]:
    """Every JSON Schema violation of ``data`` as ``(path, message)``, in document order."""
    return [
        (f.path, f"{f.message} {f.hint}" if f.hint else f.message) for f in _findings(data, kind)
    ]


def _findings(data: Any, kind: Kind) -> list[_Finding]:
    errors = sorted(
        _validator(kind).iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]
    )
    found: dict[tuple[JsonPath, str], _Finding] = {}
    for error in errors:
        for finding in _describe(error):
            found.setdefault((finding.path, finding.message), finding)
    return list(found.values())


def _where(path: JsonPath) -> str:
    text = "".join(f"[{e}]" if isinstance(e, int) else f".{e}" for e in path).lstrip(".")
    return f"`{text}`" if text else "the document"


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    names = {dict: "a mapping", list: "a list", str: "a string", type(None): "empty (null)"}
    return names.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return f"`{text}`" if len(text) <= 60 else f"`{text[:57]}...`"


def _describe(error: SchemaError) -> list[_Finding]:
    path, validator = tuple(error.absolute_path), str(error.validator)
    handler = _HANDLERS.get(validator)
    if handler is not None:
        return handler(error, path)
    if validator in ("minLength", "maxLength", "minimum", "maximum", "uniqueItems", "minItems"):
        return [
            _Finding(path, f"{_where(path)} {_LIMITS[validator].format(error.validator_value)}")
        ]
    return [_Finding(path, f"{_where(path)} is not valid ({validator}).", structural=True)]


_LIMITS = {
    "minLength": "must not be shorter than {} character(s).",
    "maxLength": "must not be longer than {} characters.",
    "minimum": "must be at least {}.",
    "maximum": "must be at most {}.",
    "uniqueItems": "lists the same item twice; each may appear once.",
    "minItems": "must have at least {} item(s).",
}


def _required(error: SchemaError, path: JsonPath) -> list[_Finding]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    properties = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    findings = []
    for name in error.validator_value:
        if name not in instance:
            description = str(properties.get(name, {}).get("description", "")).rstrip(".")
            hint = (
                f"Add `{name}` ({description[:1].lower()}{description[1:]})."
                if description
                else None
            )
            findings.append(_Finding(path, f"{_where(path)} is missing `{name}`.", hint))
    return findings


def _unknown_fields(error: SchemaError, path: JsonPath) -> list[_Finding]:
    if error.validator_value is not False or not isinstance(error.instance, dict):
        return []
    allowed = _allowed_properties(error.schema, error.instance)
    findings = []
    for name in error.instance:
        if name not in allowed:
            close = difflib.get_close_matches(str(name), sorted(allowed), n=1, cutoff=0.6)
            hint = (
                f"Did you mean `{close[0]}`?"
                if close
                else f"Allowed here: {', '.join(sorted(allowed))}."
            )
            findings.append(
                _Finding((*path, name), f"unknown field `{name}` in {_where(path)}.", hint)
            )
    return findings


def _allowed_properties(schema: dict[str, Any], instance: dict[str, Any]) -> set[str]:
    """Properties the schema knows for this instance, including those of ``if``/``then`` branches that apply
    (all of them when none applies, so that a wrong ``type`` is reported once, not as many unknown fields)."""
    allowed = set(schema.get("properties", {}))
    branches = [b for b in schema.get("allOf", []) if "if" in b and "then" in b]
    matching = [b for b in branches if Draft202012Validator(b["if"]).is_valid(instance)]
    for branch in matching or branches:
        allowed |= set(branch["then"].get("properties", {}))
    return allowed


def _not(error: SchemaError, path: JsonPath) -> list[_Finding]:
    if error.validator_value == {"required": ["value"]}:
        return [
            _Finding(
                (*path, "value"),
                f"{_where(path)} is `concealed: true`, so it must not have a `value` in the file.",
                "Remove `value:`; secrets never go into Git. An environment gives it under `secrets:` "
                "as `{from_env: VARIABLE}`.",
            )
        ]
    return [_Finding(path, f"{_where(path)} is not valid here.")]


def _type(error: SchemaError, path: JsonPath) -> list[_Finding]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if "from_env" in schema.get("properties", {}):
        return [
            _Finding(
                path,
                f"secret {_where(path[-1:])} must be `{{from_env: VARIABLE}}`, not a literal value.",
                "A secret is never written in this file: put it in an environment variable and name that "
                "variable with from_env.",
            )
        ]
    expected = error.validator_value
    words = " or ".join(
        _TYPE_WORDS.get(t, t) for t in ([expected] if isinstance(expected, str) else expected)
    )
    message = f"{_where(path)} must be {words}, not {_kind_of(error.instance)}."
    return [_Finding(path, message, schema.get("description"), structural=True)]


def _enum(error: SchemaError, path: JsonPath) -> list[_Finding]:
    options = [str(o) for o in error.validator_value]
    shown = _shown(error.instance) if isinstance(error.instance, str) else _kind_of(error.instance)
    close = difflib.get_close_matches(str(error.instance), options, n=1, cutoff=0.5)
    hint = f"Did you mean `{close[0]}`?" if close else None
    return [
        _Finding(
            path, f"{_where(path)} is {shown}, which is not one of: {', '.join(options)}.", hint
        )
    ]


def _const(error: SchemaError, path: JsonPath) -> list[_Finding]:
    hint = "Leave `concealed` out for a visible value." if path[-1:] == ("concealed",) else None
    return [_Finding(path, f"{_where(path)} must be {_shown(error.validator_value)}.", hint)]


def _pattern(error: SchemaError, path: JsonPath) -> list[_Finding]:
    hint = _PATTERN_HINTS.get(
        str(error.validator_value), f"It must match `{error.validator_value}`."
    )
    if "propertyNames" in error.absolute_schema_path:
        name = str(error.instance)
        return [
            _Finding((*path, name), f"{_shown(name)} is not a valid name in {_where(path)}.", hint)
        ]
    if (
        path[-1:] and path[-1] in _MAYBE_SECRET
    ):  # a pasted key or a URL with a password: never repeat it
        return [_Finding(path, f"{_where(path)} is not valid.", hint)]
    return [
        _Finding(path, f"{_where(path)} is {_shown(error.instance)}, which is not valid.", hint)
    ]


def _one_of(error: SchemaError, path: JsonPath) -> list[_Finding]:
    """Descend into the one branch of the instance's type, if there is exactly one; else describe."""
    branches = error.validator_value
    fitting = [i for i, b in enumerate(branches) if _type_fits(b, error.instance)]
    if len(fitting) == 1 and branches[fitting[0]].get("type") in ("object", "array"):
        inner = [c for c in error.context or () if c.relative_schema_path[0] == fitting[0]]
        return [f for c in inner for f in _describe(c)]
    description = (error.schema.get("description") or "").rstrip(".")
    what = f": {description[0].lower()}{description[1:]}" if description else ""
    return [_Finding(path, f"{_where(path)} is not valid{what}.", structural=True)]


def _type_fits(branch: dict[str, Any], instance: Any) -> bool:
    kind = branch.get("type")
    if kind is None:
        return "const" in branch and type(branch["const"]) is type(instance)
    return bool(Draft202012Validator({"type": kind}).is_valid(instance))


_HANDLERS = {
    "required": _required,
    "additionalProperties": _unknown_fields,
    "unevaluatedProperties": _unknown_fields,
    "not": _not,
    "type": _type,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "oneOf": _one_of,
    "anyOf": _one_of,
}


# --- one document --------------------------------------------------------------------------------------


def _empty(doc: Document, what: str) -> Problem:
    return Problem(
        doc.path, f"the file is empty; {what}.", 1, 1, "See docs/flow-format.md and SPEC 4."
    )


def _located(doc: Document, problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


def check_flow(
    doc: Document, expected_key: str | None = None, warnings: list[Problem] | None = None
) -> list[Problem]:
    """Schema and meaning problems of one care-flow document; ``expected_key`` is its folder name.

    Findings that do not make the flow wrong (a text naming a deleted dynamic variable) go to
    ``warnings`` when a list is given, and are never in the result.
    """
    if doc.data is None:
        return [
            _empty(
                doc, "a care flow starts with `apiVersion: syncer.careflow/v1` and `kind: CareFlow`"
            )
        ]
    findings = _findings(doc.data, "careflow")
    problems = [doc.problem(f.path, f.message, f.hint) for f in findings]
    metadata = doc.data.get("metadata") if isinstance(doc.data, dict) else None
    key = metadata.get("key") if isinstance(metadata, dict) else None
    if expected_key is not None and isinstance(key, str) and key != expected_key:
        problems.append(
            doc.problem(
                ("metadata", "key"),
                f"metadata.key {_shown(key)} does not match its folder `flows/{expected_key}/`.",
                "The key and the folder name must be equal: rename the folder or change the key.",
            )
        )
    if isinstance(doc.data, dict) and not any(f.structural for f in findings):
        errors, found_warnings = semantics.check_meaning(doc)
        problems.extend(errors)
        if warnings is not None:
            warnings.extend(found_warnings)
    return _located(doc, problems)


def check_environment(doc: Document, expected_name: str | None = None) -> list[Problem]:
    """Schema and meaning problems of one environment document; ``expected_name`` is its file stem."""
    if doc.data is None:
        return [
            _empty(
                doc,
                "an environment starts with `apiVersion: syncer.careflow/v1` and `kind: Environment`",
            )
        ]
    findings = _findings(doc.data, "environment")
    problems = [doc.problem(f.path, f.message, f.hint) for f in findings]
    data = doc.data if isinstance(doc.data, dict) else {}
    name = data.get("name")
    if expected_name is not None and isinstance(name, str) and name != expected_name:
        problems.append(
            doc.problem(
                ("name",),
                f"name {_shown(name)} does not match the file name `{expected_name}.yaml`.",
                "The name and the file name must be equal: rename the file or change the name.",
            )
        )
    if data and not any(f.structural for f in findings):
        problems.extend(_environment_meaning(doc, data))
    return _located(doc, problems)


def _environment_meaning(doc: Document, data: dict[str, Any]) -> Iterator[Problem]:
    for index, window in enumerate(data.get("windows") or []):
        path: JsonPath = ("windows", index)
        if not _cron_valid(str(window.get("cron"))):
            yield doc.problem(
                (*path, "cron"),
                f"{_shown(window.get('cron'))} is not a valid cron expression.",
                "Use five fields: minute hour day-of-month month day-of-week, e.g. `0 7 * * 1-5`.",
            )
        if not _timezone_valid(str(window.get("timezone"))):
            zone = str(window.get("timezone"))
            close = difflib.get_close_matches(zone, sorted(zoneinfo.available_timezones()), n=1)
            hint = f"Did you mean `{close[0]}`?" if close else "Use an IANA name such as `UTC`."
            yield doc.problem(
                (*path, "timezone"), f"{_shown(zone)} is not a known time zone.", hint
            )
    verify = data.get("verify") or {}
    if verify.get("signed_commits") and not verify.get("allowed_signers"):
        yield doc.problem(
            ("verify",),
            "`verify.signed_commits` is true but `allowed_signers` is missing.",
            "Name the allowed-signers file, e.g. `allowed_signers: .syncer/allowed_signers`.",
        )
    seen: set[str] = set()
    for index, system in enumerate(data.get("identifier_systems") or []):
        if system.get("name") in seen:
            yield doc.problem(
                ("identifier_systems", index, "name"),
                f"identifier system {_shown(system.get('name'))} is listed twice.",
                "List each identifier system once.",
            )
        seen.add(system.get("name"))


def _cron_valid(expression: str) -> bool:
    from croniter import croniter

    return len(expression.split()) == 5 and bool(croniter.is_valid(expression))


def _timezone_valid(name: str) -> bool:
    if not zoneinfo.available_timezones():  # no tz database here: nothing to check against
        return True
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


# --- environments as data ------------------------------------------------------------------------------


def duration_seconds(text: str) -> int:
    """``11h``, ``30m``, ``90s``, ``1d``, ``1h30m`` -> seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ConfigError(f"`{text}` is not a duration; write e.g. 11h, 30m or 90s.")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def parse_environment(data: dict[str, Any], path: str) -> Environment:
    """A validated environment document as ``model.Environment`` (see ``check_environment``)."""
    try:
        flows = data.get("flows", "all")
        verify = data.get("verify") or {}
        return Environment(
            name=data["name"],
            role=Role(data["role"]),
            region=str(data.get("region", "")),
            url=str(data["url"]).rstrip("/"),
            api_key_env=data["api_key_env"],
            flows=None if flows == "all" else tuple(flows),
            constants=dict(data.get("constants") or {}),
            secrets={
                ref: source["from_env"] for ref, source in (data.get("secrets") or {}).items()
            },
            extensions={
                name: dict(values) for name, values in (data.get("extensions") or {}).items()
            },
            identifier_systems=tuple(dict(s) for s in data.get("identifier_systems") or []),
            ignore=tuple(data.get("ignore") or []),
            windows=tuple(_window(w) for w in data.get("windows") or []),
            signed_commits=bool(verify.get("signed_commits", False)),
            allowed_signers=verify.get("allowed_signers"),
            path=path,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(
            f"{path}: the environment is not valid ({exc}); run `syncer validate`."
        ) from None


def _window(data: dict[str, Any]) -> Window:
    return Window(
        kind=str(data["kind"]),
        cron=str(data["cron"]),
        duration_seconds=duration_seconds(str(data["duration"])),
        timezone=str(data["timezone"]),
    )


def is_flow_key(text: str) -> bool:
    """Whether ``text`` is a safe flow key (a slug; no path traversal)."""
    return bool(FLOW_KEY_PATTERN.match(text))


# --- a repository --------------------------------------------------------------------------------------


@dataclass
class RepositoryCheck:
    """What ``check_repository`` found: blocking problems, warnings, and how many files it read."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    flows: int = 0
    environments: int = 0


@dataclass
class _Targets:
    flows: dict[Path, str | None] = field(default_factory=dict)  # file -> expected key
    environments: dict[Path, str | None] = field(default_factory=dict)  # file -> expected name
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def validate_repository(repo: Path, paths: Sequence[Path] = ()) -> list[Problem]:
    """Every blocking problem of the repository's flows and environments (or only of ``paths``)."""
    return check_repository(repo, paths).problems


def check_repository(repo: Path, paths: Sequence[Path] = ()) -> RepositoryCheck:
    """Validate ``flows/*/flow.yaml`` and ``environments/*.yaml``, or the given files and folders.

    A path outside the repository (symbolic links resolved) is refused. Environments are checked against
    every flow of the repository, even when only the environment was named.
    """
    root = repo.resolve()
    if not root.is_dir():
        message = "the repository folder does not exist."
        return RepositoryCheck([Problem(str(repo), message, hint="Point --repo at it.")])
    targets = _targets(root, paths)
    result = RepositoryCheck(targets.problems, targets.warnings)
    flows = _check_flows(root, targets, result)
    for file, expected in targets.environments.items():
        result.environments += 1
        doc = _load(root, file, result)
        if doc is not None:
            result.problems.extend(check_environment(doc, expected))
            if isinstance(doc.data, dict):
                _cross_check(root, doc, flows, result)
    result.problems.sort(key=lambda p: (p.path, p.line or 0, p.column or 0))
    return result


def _check_flows(root: Path, targets: _Targets, result: RepositoryCheck) -> dict[str, Document]:
    """Check the targeted flows; load every flow (the environments are checked against them all)."""
    layout = [f for f in _layout_files(root) if f.name == "flow.yaml" and _inside(root, f)]
    everything = {f: f.parent.name for f in layout} | targets.flows
    flows: dict[str, Document] = {}
    result.flows = len(targets.flows)
    for file, expected in everything.items():
        wanted = file in targets.flows
        doc = _load(root, file, result if wanted else None)
        if doc is not None:
            flows[doc.path] = doc
            if wanted:
                result.problems.extend(check_flow(doc, expected, result.warnings))
    wanted_paths = {_display(root, file) for file in targets.flows}
    for path, what in ((("metadata", "key"), "flow key"), (("metadata", "definition_id"), "id")):
        result.problems.extend(_shared(flows, wanted_paths, path, what))
    return flows


def _display(root: Path, file: Path) -> str:
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return str(file)


def _load(root: Path, file: Path, result: RepositoryCheck | None) -> Document | None:
    try:
        return yamlio.load_file(file, _display(root, file))
    except ValidationError as exc:
        if result is not None:
            result.problems.extend(exc.problems)
        return None


def _inside(root: Path, path: Path) -> bool:
    return path.resolve().is_relative_to(root)


def _layout_files(root: Path) -> list[Path]:
    """``flows/*/flow.yaml`` and ``environments/*.yaml`` as the work tree names them (links unresolved)."""
    flows = sorted((root / "flows").glob("*/flow.yaml"))
    environments = [
        p for p in sorted((root / "environments").glob("*.y*ml")) if p.suffix in (".yaml", ".yml")
    ]
    return [*flows, *environments]


def _targets(root: Path, paths: Sequence[Path]) -> _Targets:
    targets = _Targets()
    for given in paths or [root]:
        path = given if given.is_absolute() or not (root / given).exists() else root / given
        if not path.exists():
            targets.problems.append(Problem(str(given), "no such file or folder."))
        elif not _inside(root, path):
            targets.problems.append(_outside(str(given), root))
        elif path.is_dir():
            folder = path.resolve()
            for file in _layout_files(root):
                if file.is_relative_to(folder):
                    _add_file(root, file, targets, explicit=False)
            if folder in (root, root / "flows"):
                _flag_flow_folders(root, targets)
        else:
            lexical = path.absolute()
            _add_file(
                root, lexical if lexical.is_relative_to(root) else path.resolve(), targets, True
            )
    return targets


def _outside(shown: str, root: Path) -> Problem:
    return Problem(
        shown,
        f"`{shown}` is outside the repository {root}; syncer validate reads only files in it.",
        hint="Move the file into the repository, or point --repo at the one that holds it.",
    )


def _add_file(root: Path, path: Path, targets: _Targets, explicit: bool) -> None:
    """Classify one file by where the work tree has it; a link that leads out of the repository is refused."""
    parts = path.relative_to(root).parts
    if not _inside(root, path):
        targets.problems.append(_outside(_display(root, path), root))
    elif len(parts) == 3 and parts[0] == "flows" and parts[2] == "flow.yaml":
        targets.flows[path] = parts[1]
    elif len(parts) == 2 and parts[0] == "environments" and path.suffix in (".yaml", ".yml"):
        targets.environments[path] = path.stem
    elif explicit:
        message = "this is neither a care flow nor an environment file."
        hint = "syncer validate reads flows/<key>/flow.yaml and environments/<name>.yaml."
        targets.problems.append(Problem(_display(root, path), message, hint=hint))


def _flag_flow_folders(root: Path, targets: _Targets) -> None:
    for folder in sorted((root / "flows").glob("*")):
        shown = _display(root, folder)
        if not folder.is_dir():
            continue
        if not (folder / "flow.yaml").exists():
            hint = "Each flow lives in flows/<key>/flow.yaml; add it or remove the folder."
            targets.warnings.append(Problem(shown, "this folder has no flow.yaml.", hint=hint))
        elif not is_flow_key(folder.name):
            message = f"the folder name `{folder.name}` is not a valid flow key."
            targets.problems.append(Problem(shown, message, hint=_PATTERN_HINTS[_SLUG]))


def _shared(
    flows: dict[str, Document], wanted: set[str], path: JsonPath, what: str
) -> Iterator[Problem]:
    """A problem for each wanted flow whose value at ``path`` another flow also has."""
    owners: dict[str, list[str]] = {}
    for display, doc in sorted(flows.items()):
        value = _get(doc.data, path)
        if isinstance(value, str):
            owners.setdefault(value, []).append(display)
    for value, displays in owners.items():
        for display in displays:
            others = ", ".join(d for d in displays if d != display)
            if display in wanted and others:
                message = f"{what} `{value}` is also used by {others}."
                hint = f"Each flow in the repository needs its own {what}."
                yield flows[display].problem(path, message, hint)


def _get(data: Any, path: JsonPath) -> Any:
    for element in path:
        data = data.get(element) if isinstance(data, dict) else None
    return data


def _value_refs(flows: list[Document]) -> dict[str, tuple[bool, str]]:
    """Every constant and extension-setting ref of the flows -> (concealed, the file that has it)."""
    refs: dict[str, tuple[bool, str]] = {}
    for doc in flows:
        try:
            items = list(iter_value_items(doc.data))
        except (AttributeError, TypeError):  # a malformed flow; its own problems are reported
            continue
        for ref, item in items:
            concealed = item.get("concealed") is True
            if concealed or ref not in refs:
                refs[ref] = (concealed, doc.path)
    return refs


def _cross_check(
    root: Path, doc: Document, flows: dict[str, Document], result: RepositoryCheck
) -> None:
    """An environment against the flows it receives: they exist, secrets only for concealed items."""
    data: dict[str, Any] = doc.data
    keys = {str(_get(f.data, ("metadata", "key"))): f for f in flows.values()}
    listed = data.get("flows", "all")
    listed = listed if isinstance(listed, list) else "all"
    for index, key in enumerate(listed if isinstance(listed, list) else []):
        if isinstance(key, str) and key not in keys:
            hint = semantics.suggest(key, {k: k for k in keys}) or "Add the flow or unlist it."
            result.problems.append(
                doc.problem(("flows", index), f"flow `{key}` is not in flows/.", hint)
            )
    refs = _value_refs([f for k, f in keys.items() if listed == "all" or k in listed])
    for path, ref in _environment_values(data):
        _check_value_entry(doc, path, ref, refs, result)
    for ref in _mapping(data.get("secrets")):
        _check_secret_entry(doc, str(ref), refs, result)
    verify = _mapping(data.get("verify"))
    signers = str(verify.get("allowed_signers", ""))
    if verify.get("signed_commits") is True and signers and not _repository_file(root, signers):
        message = f"`{signers}` is not a file in the repository."
        hint = "Commit the allowed-signers file (git SSH format) at that path."
        result.problems.append(doc.problem(("verify", "allowed_signers"), message, hint))


def _repository_file(root: Path, relative: str) -> bool:
    return (root / relative).is_file() and _inside(root, root / relative)


def _mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _environment_values(data: dict[str, Any]) -> list[tuple[JsonPath, str]]:
    """``(path, ref)`` of every value the environment gives: constants by key, settings as ext.setting."""
    values: list[tuple[JsonPath, str]] = [
        (("constants", k), str(k)) for k in _mapping(data.get("constants"))
    ]
    for extension, settings in _mapping(data.get("extensions")).items():
        values += [(("extensions", extension, s), f"{extension}.{s}") for s in _mapping(settings)]
    return values


def _check_value_entry(
    doc: Document,
    path: JsonPath,
    ref: str,
    refs: dict[str, tuple[bool, str]],
    result: RepositoryCheck,
) -> None:
    concealed, where = refs.get(ref, (False, ""))
    if concealed:
        message = f"`{ref}` is concealed in {where}; its value must not be written in this file."
        hint = f"Remove it here and add `secrets: {{{ref}: {{from_env: VARIABLE}}}}` instead."
        result.problems.append(doc.problem(path, message, hint))
    elif not where:
        message = f"`{ref}` is not a constant or extension setting of the flows this environment receives."
        hint = (
            semantics.suggest(ref, {r: r for r in refs}) or "Remove it, or check the flows' keys."
        )
        result.warnings.append(doc.problem(path, message, hint))


def _check_secret_entry(
    doc: Document, ref: str, refs: dict[str, tuple[bool, str]], result: RepositoryCheck
) -> None:
    concealed, where = refs.get(ref, (False, ""))
    if concealed:
        return
    if where:
        message = (
            f"secret `{ref}` names a visible item of {where}; `secrets:` fills concealed ones only."
        )
        hint = "Give a visible value under `constants:` or `extensions:` instead."
        result.problems.append(doc.problem(("secrets", ref), message, hint))
        return
    # A near miss is a typo that would leave a real secret blank: an error. A name nothing resembles
    # is only a warning, like an unused constant: the file may land before the flow that needs it.
    message = f"secret `{ref}` names no concealed constant or setting of the flows it receives."
    concealed_refs = {r: r for r, (hidden, _where) in refs.items() if hidden}
    suggestion = semantics.suggest(ref, concealed_refs)
    hint = suggestion or "Use `KEY` for a constant, `extension.setting` for a setting."
    found = result.problems if suggestion else result.warnings
    found.append(doc.problem(("secrets", ref), message, hint))
