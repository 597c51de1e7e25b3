"""An environment file as data: a validated environment document as ``model.Environment``."""

from __future__ import annotations

import re
from typing import Any

from ..errors import ConfigError
from ..model import Environment, Role, Window

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
            allowed_signers_env=verify.get("allowed_signers_env"),
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
