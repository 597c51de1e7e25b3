"""The syncer exception tree and the exit-code table.

Every error a user can cause or meet is a ``SyncError``; the command line maps it to exit code 1 and prints
its message (never a traceback). Anything else that escapes is a bug: exit code 4 with a traceback.

    SyncError
    ├── UsageError            bad command-line arguments or an impossible combination of options
    ├── ConfigError           an environment file or repository layout problem
    ├── ValidationError       a flow or environment file failed schema or meaning checks (carries Problems)
    ├── GitError              a git operation failed (dirty tree, unknown ref, failed push)
    ├── TenantError           the tenant API answered with an error or not at all (environment, flow, status)
    │   ├── TenantUnreachable     connection refused, reset, timeout
    │   ├── AuthError             401 / 403
    │   ├── NotFound              404
    │   ├── PreconditionFailed    412: the flow moved since it was read
    │   └── Rejected              409 / 422: the tenant refused the content
    ├── GitHubError           the GitHub REST API answered with an error
    └── RefusedError          a guard refused the operation on purpose (exit 3 where the spec says so)

Errors from outside libraries (httpx, gitpython, ruamel.yaml, sqlite3) are translated at the module that
owns the library, so that a message always names the file, the environment, the flow or the status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Control, zero-width and bidi-override characters: they can hide, reorder or recolour what a person
# reads (``report.safe_text`` strips them from rendered text; messages show them escaped).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_lines(text: str) -> str:
    """``text`` with its lines kept and every other control, zero-width or bidi character shown as its
    escape (``\\x1b``): a value quoted in a message cannot move the cursor, recolour or hide text."""
    return "\n".join(
        CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), line)
        for line in text.split("\n")
    )


EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_ATTENTION = 3
EXIT_BUG = 4
EXIT_INTERRUPTED = 130

# What each exit code means (SPEC 7): ``syncer --help`` prints it, and the README's table is this one.
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "done, nothing pending",
    EXIT_ERROR: "error: bad input, unreachable tenant, auth, invalid YAML, a commit `verify` refused "
    "(one paragraph on stderr, no traceback)",
    EXIT_CHANGES: "`plan`/`report` found changes to apply; `apply`/`reconcile`: a sync window "
    "deferred writes",
    EXIT_ATTENTION: "drift, conflict, unmanaged or orphaned flows need a person (wins over 2); "
    "`preflight` blocked; `publish` refused; a `test` case fails",
    EXIT_BUG: "unexpected internal error (traceback, please file a bug)",
    EXIT_INTERRUPTED: "interrupted",
}


@dataclass(frozen=True)
class Problem:
    """One finding about a file: where it is and what to do about it."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    hint: str | None = None
    # Where in the document the finding is (keys and list indexes), when a document check made it: lets
    # a caller name the finding in its own terms (the importer names the Awell component and field).
    node: tuple[str | int, ...] | None = field(default=None, compare=False, repr=False)
    warning: bool = field(default=False, compare=False)  # said, never a reason to stop (a draft)

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.message}"
        if self.hint:
            text += f" {self.hint}"
        return terminal_lines(text)


class SyncError(Exception):
    """Base of every error a user can meet; ``exit_code`` is what the command line returns."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(SyncError):
    """Bad command-line arguments."""


class ConfigError(SyncError):
    """An environment file or the repository layout is wrong."""


class ValidationError(SyncError):
    """One or more files failed validation; ``problems`` lists every finding."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = [str(p) for p in self.problems]
        count = len(lines)
        head = f"{count} problem{'s' if count != 1 else ''} found:" if count > 1 else ""
        super().__init__("\n".join([head, *lines]) if head else lines[0] if lines else "invalid")


class GitError(SyncError):
    """A git operation failed."""


class TenantError(SyncError):
    """The tenant API failed; the message names the environment, the flow and the HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        environment: str | None = None,
        flow: str | None = None,
        status: int | None = None,
    ) -> None:
        self.environment = environment
        self.flow = flow
        self.status = status
        self.detail = message  # without the [environment, flow, status] prefix
        parts = []
        if environment:
            parts.append(f"environment {environment}")
        if flow:
            parts.append(f"flow {flow}")
        if status is not None:
            parts.append(f"HTTP {status}")
        prefix = f"[{', '.join(parts)}] " if parts else ""
        super().__init__(prefix + message)


class TenantUnreachable(TenantError):
    """The tenant did not answer (refused, reset, timed out)."""


class AuthError(TenantError):
    """The API key is missing, unknown (401) or lacks a scope (403)."""


class NotFound(TenantError):
    """The tenant has no such resource (404)."""


class PreconditionFailed(TenantError):
    """The flow changed since it was read (412); nothing was written."""


class Rejected(TenantError):
    """The tenant refused the content (409 view-only, 422 invalid)."""


class GitHubError(SyncError):
    """The GitHub REST API answered with an error."""


class RefusedError(SyncError):
    """A guard refused on purpose; the message says which guard and how to get past it."""

    def __init__(self, message: str, exit_code: int = EXIT_ATTENTION) -> None:
        super().__init__(message)
        self.exit_code = exit_code
