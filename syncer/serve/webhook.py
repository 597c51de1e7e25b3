"""GitHub's push webhook: is this delivery signed with our secret, and does it name the watched branch?

GitHub signs the raw body with HMAC-SHA256 under the webhook's secret and sends
``X-Hub-Signature-256: sha256=<hex>``. The check runs on the exact bytes received, before the body is
parsed, and compares in constant time (``hmac.compare_digest``). Pure: bytes in, a verdict out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from ..report.safe_text import flatten

MAX_BODY = 25 * 1024 * 1024  # GitHub caps a delivery at 25 MB
SIGNATURE_HEADER = "x-hub-signature-256"


def signature(secret: str, body: bytes) -> str:
    """The header value GitHub sends for ``body`` (tests and tools use it too)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``body`` under ``secret``."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(signature(secret, body).encode(), header.strip().encode())


@dataclass(frozen=True)
class Delivery:
    """What a signed delivery asks for: ``run`` or not, and why, in words for the answer and log."""

    run: bool
    reason: str
    who: str = ""


def judge(event: str, body: bytes, branch: str | None) -> Delivery:
    """A signed delivery: a push to ``refs/heads/<branch>`` runs; anything else is acknowledged."""
    if event == "ping":
        return Delivery(False, "pong")
    if event != "push":
        return Delivery(False, f"event {event or '(none)'} ignored; only push triggers a run")
    try:
        payload: Any = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json can read
        return Delivery(False, "the push payload is not JSON syncer reads; nothing to do")
    if not isinstance(payload, dict):
        return Delivery(False, "the push payload is not a JSON object; nothing to do")
    ref = str(payload.get("ref") or "")
    if branch and ref != f"refs/heads/{branch}":
        return Delivery(False, f"push to {ref or '(no ref)'} ignored; watching refs/heads/{branch}")
    pusher = payload.get("pusher") if isinstance(payload.get("pusher"), dict) else {}
    who = _shown(str((pusher or {}).get("name") or "unknown"), 100)
    after = _shown(str(payload.get("after") or ""), 12)
    return Delivery(
        True, f"push to {ref}", f"push by {who} ({after})" if after else f"push by {who}"
    )


def _shown(text: str, limit: int) -> str:
    """A name from the payload as a log line and the run history can hold it: one line, no control
    or bidi character (``flatten``), and no lone surrogate (SQLite refuses to store one)."""
    return flatten(text.encode("utf-8", "replace").decode("utf-8"), limit)
