"""Why the tenant refuses a write, and the HTTP preconditions (RFC 9110 If-Match / If-None-Match).

A ``Refusal`` carries the HTTP status the API answers with. ``check_preconditions`` runs inside the
write transaction, against the revision read in it, so a stale tag can never slip through a race.
"""

from __future__ import annotations

from dataclasses import dataclass

from .concealed import Incoming


class Refusal(Exception):
    """A write the store refused; ``status`` is the HTTP status the API answers with."""

    status = 409
    title = "Conflict"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class FlowMissing(Refusal):
    status, title = 404, "Not Found"


class StaleRevision(Refusal):
    status, title = 412, "Precondition Failed"


class ViewOnly(Refusal):
    status, title = 409, "View-only flow"


class KeyInUse(Refusal):
    status, title = 409, "Flow key in use"


@dataclass(frozen=True)
class Write:
    """One PUT: what to store, and the preconditions it was sent with (entity tags without quotes)."""

    definition_id: str
    incoming: Incoming
    annotations: dict[str, str] | None
    if_match: tuple[str, ...] | None
    if_none_match: tuple[str, ...] | None
    actor: str
    edit_source: str = "api"
    hotfix: bool = False


def matches(tags: tuple[str, ...], revision: int) -> bool:
    return "*" in tags or str(revision) in tags


def stale_detail(definition_id: str, revision: int | None, sent: tuple[str, ...] | None) -> str:
    if revision is None:
        return f"flow {definition_id} does not exist; create it with If-None-Match: *."
    if not sent:
        return (
            f'flow {definition_id} exists at revision {revision}; send If-Match: "{revision}"'
            " with the revision you read. Nothing was changed."
        )
    return (
        f"flow {definition_id} is at revision {revision}, not the one in If-Match;"
        " read it again and retry. Nothing was changed."
    )


def refuse_blind(definition_id: str, revision: int | None, tags: tuple[str, ...] | None) -> None:
    """``If-Match: *`` matches any revision (RFC 9110), which makes an update or a delete blind: the
    API needs the revision that was read, so ``*`` is refused like a missing If-Match (412)."""
    if tags is not None and "*" in tags:
        current = f'; it is at revision {revision}, send If-Match: "{revision}"' if revision else ""
        raise StaleRevision(
            f"If-Match: * would change flow {definition_id} without saying which revision was "
            f"read{current} after reading it. Nothing was changed."
        )


def check_preconditions(revision: int | None, write: Write) -> None:
    """``revision`` is the flow's current one (None: no such flow). RFC 9110 order: If-Match, then
    If-None-Match; beyond the RFC, a create needs ``If-None-Match: *`` and an update needs If-Match
    with a revision (never ``*``), so a write can never land blind."""
    flow = write.definition_id
    refuse_blind(flow, revision, write.if_match)
    if write.if_match is not None and (revision is None or not matches(write.if_match, revision)):
        raise StaleRevision(stale_detail(flow, revision, write.if_match))
    if (
        write.if_none_match is not None
        and revision is not None
        and matches(write.if_none_match, revision)
    ):
        raise StaleRevision(
            f'flow {flow} already exists (revision {revision}); update it with If-Match: "{revision}".'
        )
    if revision is None and write.if_none_match != ("*",):
        raise StaleRevision(stale_detail(flow, None, write.if_match))
    if revision is not None and write.if_match is None:
        raise StaleRevision(stale_detail(flow, revision, None))
