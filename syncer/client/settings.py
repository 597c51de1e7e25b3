"""How the client talks to tenants, decided once per process: the request timeout, the TLS context, what
an API key may contain."""

from __future__ import annotations

import functools
import math
import os
import ssl

import httpx

from syncer import errors


def check_api_key(key: str, environment: str, where: str) -> None:
    """Refuse a key no HTTP header can carry (a line break, a space, a non-ASCII character) before
    httpx does, because httpx's own error would quote it; this message never shows the key."""
    bad = next((c for c in key if not ("!" <= c <= "~")), None)
    if bad is None:
        return
    what = {"\r": "a carriage return", "\n": "a line break", " ": "a space", "\t": "a tab"}.get(
        bad, f"the character U+{ord(bad):04X}"
    )
    raise errors.ConfigError(
        f"environment {environment}: the API key in {where} contains {what}; an API key is "
        "printable ASCII without spaces. Copy the key again from the tenant (a file read with a "
        "trailing line break or a pasted character is the usual cause)."
    )


@functools.lru_cache(maxsize=1)
def ssl_context() -> ssl.SSLContext:
    """httpx's default context (certifi, or SSL_CERT_FILE/SSL_CERT_DIR), built once: loading the CA
    bundle costs ~20 ms, and reconcile opens one client per environment."""
    return httpx.create_ssl_context()


TIMEOUT_ENV = "SYNCER_HTTP_TIMEOUT"  # seconds each request may take (connect, read, write)
_DEFAULT_TIMEOUT = 10.0


def request_timeout() -> float:
    """``$SYNCER_HTTP_TIMEOUT`` (a slow tenant, or a test that must not wait long), else 10 s."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return _DEFAULT_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0.1 <= seconds <= 600:  # NaN fails too
        raise errors.ConfigError(
            f"${TIMEOUT_ENV} is {text[:40]!r}; set it to the seconds a tenant request may take, "
            f"between 0.1 and 600 (default {_DEFAULT_TIMEOUT:g}), or unset it."
        )
    return seconds
