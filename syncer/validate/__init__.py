"""Validation of flow and environment files: the API the rest of syncer imports, in one place.

Every finding is a ``Problem`` that names the file, line and column and says what to do.

- ``check_flow`` / ``check_environment``: one loaded document (``document_check``);
- ``check_repository`` / ``validate_repository``: the files of a GitOps repository, with cross-checks
  (flow keys and definition ids unique, environments agree with the flows' concealed constants)
  (``repository_check``);
- ``schema_problems``: the JSON Schema violations of a document, in the user's words
  (``schema_messages``);
- ``parse_environment``: a validated environment document as ``model.Environment`` (here).

The meaning checks of a care flow live in ``semantics``.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ConfigError
from ..model import Environment, Role, Window
from .document import check_environment, check_flow
from .repository import RepositoryCheck, check_repository, is_flow_key, validate_repository
from .schema import SchemaKind, schema_problems

__all__ = [
    "RepositoryCheck",
    "SchemaKind",
    "check_environment",
    "check_flow",
    "check_repository",
    "duration_seconds",
    "is_flow_key",
    "parse_environment",
    "schema_problems",
    "validate_repository",
]

# --- environments as data ------------------------------------------------------------------------------

_DURATION = re.compile(r"^(?=[0-9])(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$")


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
