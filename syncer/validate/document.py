"""Schema and meaning checks of one loaded document: a care flow or an environment.

Every finding is a ``Problem`` that names the file, line and column and says what to do. The schema
messages come from ``schema``; the meaning checks of a care flow from ``semantics``; those of an
environment (cron, time zones, signed commits, identifier systems) are here.
"""

from __future__ import annotations

import difflib
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from ..canonical import render_flow, to_file_form
from ..errors import ConfigError, Problem, ValidationError
from ..model import SIGNERS_ENV, plain_http_to_remote, signers_variable_of
from ..yamlio import Document, JsonPath, document_from_data
from . import semantics
from .environment import duration_seconds
from .schema import Finding, SchemaKind, full_schema_findings, quoted, schema_findings


def _empty(doc: Document, what: str) -> Problem:
    return Problem(
        doc.path, f"the file is empty; {what}.", 1, 1, "See docs/flow-format.md and SPEC 4."
    )


def _located(doc: Document, problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


def check_flow(
    doc: Document,
    expected_key: str | None = None,
    warnings: list[Problem] | None = None,
    *,
    compiled: bool = True,
) -> list[Problem]:
    """Schema and meaning problems of one care-flow document; ``expected_key`` is its folder name.

    Findings that do not make the flow wrong (a text naming a deleted dynamic variable) go to
    ``warnings`` when a list is given, and are never in the result. ``compiled=False`` runs the schema
    check without the compiled fast path (the differential tests compare both).
    """
    if doc.data is None:
        return [
            _empty(
                doc, "a care flow starts with `apiVersion: syncer.careflow/v1` and `kind: CareFlow`"
            )
        ]
    findings = _schema(doc.data, "careflow", compiled)
    problems = [doc.problem(f.path, f.message, f.hint) for f in findings]
    metadata = doc.data.get("metadata") if isinstance(doc.data, dict) else None
    key = metadata.get("key") if isinstance(metadata, dict) else None
    if expected_key is not None and isinstance(key, str) and key != expected_key:
        problems.append(
            doc.problem(
                ("metadata", "key"),
                f"metadata.key {quoted(key)} does not match its folder `flows/{expected_key}/`.",
                "The key and the folder name must be equal: rename the folder or change the key.",
            )
        )
    if isinstance(doc.data, dict) and not any(f.structural for f in findings):
        errors, found_warnings = semantics.check_meaning(doc)
        problems.extend(errors)
        if warnings is not None:
            warnings.extend(found_warnings)
    return _located(doc, problems)


def check_environment(
    doc: Document, expected_name: str | None = None, *, compiled: bool = True
) -> list[Problem]:
    """Schema and meaning problems of one environment document; ``expected_name`` is its file stem
    (``compiled`` as for ``check_flow``)."""
    if doc.data is None:
        return [
            _empty(
                doc,
                "an environment starts with `apiVersion: syncer.careflow/v1` and `kind: Environment`",
            )
        ]
    findings = _schema(doc.data, "environment", compiled)
    problems = [doc.problem(f.path, f.message, f.hint) for f in findings]
    data = doc.data if isinstance(doc.data, dict) else {}
    name = data.get("name")
    if expected_name is not None and isinstance(name, str) and name != expected_name:
        problems.append(
            doc.problem(
                ("name",),
                f"name {quoted(name)} does not match the file name `{expected_name}.yaml`.",
                "The name and the file name must be equal: rename the file or change the name.",
            )
        )
    if data and not any(f.structural for f in findings):
        problems.extend(_environment_meaning(doc, data))
    return _located(doc, problems)


def _schema(data: Any, kind: SchemaKind, compiled: bool) -> list[Finding]:
    return schema_findings(data, kind) if compiled else full_schema_findings(data, kind)


def _environment_meaning(doc: Document, data: dict[str, Any]) -> Iterator[Problem]:
    for index, window in enumerate(data.get("windows") or []):
        path: JsonPath = ("windows", index)
        if not _cron_valid(str(window.get("cron"))):
            yield doc.problem(
                (*path, "cron"),
                f"{quoted(window.get('cron'))} is not a valid cron expression.",
                "Use five fields: minute hour day-of-month month day-of-week, e.g. `0 7 * * 1-5`.",
            )
        elif not _cron_fires(str(window.get("cron"))):
            yield doc.problem(
                (*path, "cron"),
                f"{quoted(window.get('cron'))} never fires (a day no month has, such as 30 February).",
                "Check the day-of-month and month fields, e.g. `0 0 28 2 *` for 28 February.",
            )
        if _seconds(window.get("duration")) > _DURATION_LIMIT:
            yield doc.problem(
                (*path, "duration"),
                f"a window of {quoted(window.get('duration'))} is longer than a year (366d).",
                "Write at most 366d; a freeze with no end is not a window: give the environment no "
                "`target` role instead, or add a deny window each year.",
            )
        if not _timezone_valid(str(window.get("timezone"))):
            zone = str(window.get("timezone"))
            close = difflib.get_close_matches(zone, sorted(zoneinfo.available_timezones()), n=1)
            hint = f"Did you mean `{close[0]}`?" if close else "Use an IANA name such as `UTC`."
            yield doc.problem(
                (*path, "timezone"), f"{quoted(zone)} is not a known time zone.", hint
            )
    yield from _trust_problems(doc, data)
    seen: set[str] = set()
    for index, system in enumerate(data.get("identifier_systems") or []):
        if system.get("name") in seen:
            yield doc.problem(
                ("identifier_systems", index, "name"),
                f"identifier system {quoted(system.get('name'))} is listed twice.",
                "List each identifier system once.",
            )
        seen.add(system.get("name"))


def _trust_problems(doc: Document, data: dict[str, Any]) -> Iterator[Problem]:
    """Where the API key goes and who vouches for a commit (SPEC 4, trust boundaries)."""
    url = data.get("url")
    if isinstance(url, str) and plain_http_to_remote(url):
        # The URL is never echoed: it may carry credentials.
        yield doc.problem(
            ("url",),
            "`url` is plain http:// to a host that is not loopback: the API key would travel in "
            "clear text.",
            "Use the tenant's https:// URL (http:// is only for 127.0.0.1, ::1 and localhost).",
        )
    verify = data.get("verify") or {}
    if "allowed_signers" in verify:
        yield doc.problem(
            ("verify", "allowed_signers"),
            "`verify.allowed_signers` names a file in the repository, so the commit being verified "
            "could add its own key there and vouch for itself; it is refused.",
            "Keep the allowed-signers file outside the repository, set an environment variable to "
            "its path, and name that variable: `allowed_signers_env: SYNCER_ALLOWED_SIGNERS`.",
        )
    elif _foreign_signers_variable(data):
        name = str(data.get("name", ""))
        own = signers_variable_of(name)
        yield doc.problem(
            ("verify", "allowed_signers_env"),
            f"`verify.allowed_signers_env` must be `{own}` or `{SIGNERS_ENV}`: syncer verifies "
            "whenever one of those is set, whatever the commit says; with any other name a commit "
            "could switch its own verification off by deleting `verify`.",
            f"Name `{own}` (this environment) or `{SIGNERS_ENV}` (every environment), and set it in "
            "the job to the allowed-signers file's path, outside the repository.",
        )
    elif verify.get("signed_commits") and not verify.get("allowed_signers_env"):
        yield doc.problem(
            ("verify",),
            "`verify.signed_commits` is true but `allowed_signers_env` is missing.",
            "Name the environment variable that holds the allowed-signers file's path, e.g. "
            "`allowed_signers_env: SYNCER_ALLOWED_SIGNERS`; the file lives outside the repository.",
        )


def _cron_valid(expression: str) -> bool:
    from croniter import croniter

    return len(expression.split()) == 5 and bool(croniter.is_valid(expression))


def _cron_fires(expression: str) -> bool:
    """Whether a valid cron expression ever fires (``0 0 30 2 *`` does not; 29 February does)."""
    from croniter import CroniterBadDateError, croniter

    try:
        croniter(expression, datetime(2000, 1, 1, tzinfo=UTC)).get_next(datetime)
    except CroniterBadDateError:
        return False
    return True


_DURATION_LIMIT = 366 * 24 * 3600


def _seconds(duration: Any) -> int:
    """A window's duration in seconds, 0 when it is not one (the schema words that)."""
    try:
        return duration_seconds(str(duration))
    except ConfigError:
        return 0


def _timezone_valid(name: str) -> bool:
    if not zoneinfo.available_timezones():  # no tz database here: nothing to check against
        return True
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def check_rendered(
    document: dict[str, Any],
    text: str,
    display: str,
    key: str,
    warnings: list[Problem] | None = None,
) -> list[Problem]:
    """Problems of a flow file syncer rendered (``text`` is ``render_flow(document)``), located in
    ``text`` without parsing it back."""
    try:
        return check_flow(document_from_data(document, text, display), key, warnings)
    except ValidationError as exc:
        return exc.problems


def check_definition(
    definition: dict[str, Any], key: str, display: str, warnings: list[Problem] | None = None
) -> list[Problem]:
    """A tenant's definition checked as the file it would be in Git: file form, text, located check."""
    document = to_file_form(definition)
    return check_rendered(document, render_flow(document), display, key, warnings)


def _foreign_signers_variable(data: dict[str, Any]) -> bool:
    """``verify.allowed_signers_env`` names a variable that is not the operator's (``model``)."""
    variable = (data.get("verify") or {}).get("allowed_signers_env")
    if not isinstance(variable, str) or not variable:
        return False
    return variable not in (SIGNERS_ENV, signers_variable_of(str(data.get("name", ""))))
