"""Where an imported version came from: Awell Studio's publish commits, and the commits syncer makes.

Awell Studio pushes every published version of a care flow to its Source Control repository as one
commit whose message starts ``Publish version N from Awell Studio`` and carries ``Tag: <release id>`` and
``Care flow ID: <definition id>`` lines (plus the publisher's e-mail address and the version notes, which
syncer does not copy: an address is personal data, and neither is provenance). ``syncer import-awell
--from-git`` records the provenance as Git trailers in the commit it makes; ``--history`` reads them back
to know which published versions it already replayed. Pure: text in, text out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_PUBLISH = re.compile(r"^\s*Publish version (\d+)\b")
_TAG = re.compile(r"^\s*Tag:\s*(\S+)\s*$", re.M)
_FLOW = re.compile(r"^\s*Care flow ID:\s*(\S+)\s*$", re.M)
_SAFE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_MAX_VERSION_DIGITS = 1000  # Python reads at most 4300 digits
SOURCE_COMMIT = "Awell-Source-Commit"
_IMPORTED = re.compile(rf"^{SOURCE_COMMIT}:\s*([0-9a-f]{{40}})\s*$", re.M)


@dataclass(frozen=True)
class Publish:
    """What Studio's commit message says about the version it pushed."""

    version: int
    release_id: str | None
    definition_id: str | None


def parse_publish(message: str) -> Publish | None:
    """The published version a Studio commit message describes, or None for any other commit."""
    match = _PUBLISH.match(message)
    if match is None or len(match.group(1)) > _MAX_VERSION_DIGITS:
        return None  # a version no Studio numbers (and Python would not read) is not Studio's
    return Publish(int(match.group(1)), _safe(_TAG, message), _safe(_FLOW, message))


def _safe(pattern: re.Pattern[str], message: str) -> str | None:
    found = pattern.search(message)
    return found.group(1) if found and _SAFE.match(found.group(1)) else None


@dataclass(frozen=True)
class Provenance:
    """One import from a Git repository: the source, its commit and what Studio said about it."""

    source: str  # the repository location, credentials removed
    commit: str
    publish: Publish | None


def commit_message(provenance: Provenance, flows: Iterable[tuple[str, str, str]]) -> str:
    """The message of the commit syncer makes for one imported version.

    ``flows`` are ``(key, definition id, title)`` of the flows written. The trailers are machine
    readable (``git log --format='%(trailers)'``).
    """
    items = sorted(flows)
    publish = provenance.publish
    names = ", ".join(key for key, _, _ in items) or "no flow"
    if publish is not None:
        subject = f"Import Awell care flow {names}: published version {publish.version}"
    else:
        subject = f"Import Awell care flow {names} at {provenance.commit[:12]}"
    body = [f"From {provenance.source} at {provenance.commit}."]
    body += [
        f"- flows/{key}/flow.yaml: {_one_line(title)!r} ({flow_id})"
        for key, flow_id, title in items
    ]
    trailers = []
    if publish is not None:
        trailers += [f"Awell-Version: {publish.version}"]
        if publish.release_id:
            trailers.append(f"Awell-Release-Id: {publish.release_id}")
        if publish.definition_id:
            trailers.append(f"Awell-Care-Flow-Id: {publish.definition_id}")
    trailers += [
        f"{SOURCE_COMMIT}: {provenance.commit}",
        f"Awell-Source: {_one_line(provenance.source)}",
    ]
    return "\n".join([subject, "", *body, "", *trailers]) + "\n"


def imported_commits(messages: Iterable[str]) -> set[str]:
    """The source commits already imported, from the messages of a repository's commits."""
    return {sha for message in messages for sha in _IMPORTED.findall(message)}


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]
