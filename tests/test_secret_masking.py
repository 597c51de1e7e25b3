"""One masking function for every encoding a secret takes on the wire (issue 15, items 2 and 3).

A tenant that echoed a request body in its error used to leak a concealed value containing `"`, `\\`
or a tab in its JSON-escaped form: the masking knew only the raw form. ``model.mask_secrets`` knows raw,
JSON-escaped (once and twice), repr-escaped, URL-encoded (either case) and base64 (any alignment);
the client's messages and the tenant's error answers both use it, and API keys are masked the same way.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncer import errors
from syncer.client import TenantClient
from syncer.model import mask_secrets
from tests.conftest import sample_flow
from tests.faultserver import FaultServer, Reply

SECRETS = st.text(
    st.sampled_from(list('ab"\\\t\n/+=?&%é€ \x00:') + list("xyz0123")), min_size=12, max_size=40
)
AROUND = st.text(st.sampled_from(list("abc {}\"'\\:,")), max_size=8)


def _json(text: str) -> str:
    return json.dumps(text)[1:-1]


ENCODINGS = {
    "raw": lambda s: s,
    "json": _json,
    "json-ascii": lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
    "json-twice": lambda s: _json(_json(s)),
    "repr": lambda s: repr(s)[1:-1],
    "url": lambda s: quote(s, safe=""),
    "url-path": quote,
    "url-lower": lambda s: re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(s, safe="")),
    "url-form": quote_plus,
    "base64": lambda s: base64.b64encode(s.encode()).decode(),
    "base64-url": lambda s: base64.urlsafe_b64encode(s.encode()).decode(),
    "base64-bare": lambda s: base64.b64encode(s.encode()).decode().rstrip("="),
}


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
@given(secret=SECRETS, before=AROUND, after=AROUND)
def test_every_encoding_of_a_secret_is_masked(
    encoding: str, secret: str, before: str, after: str
) -> None:
    encoded = ENCODINGS[encoding](secret)
    masked = mask_secrets(f"{before}{encoded}{after}", [secret])
    assert encoded not in masked and "***" in masked


def _recoverable(text: str, secret: bytes) -> bool:
    """Whether any base64 run left in ``text`` decodes (at any alignment) to bytes holding the
    secret's middle: what an attacker could get back."""
    middle = secret[3:-3]
    for run in re.findall(r"[A-Za-z0-9+/_-]{8,}", text):
        for start in range(4):
            piece = run[start:]
            piece = piece[: len(piece) - len(piece) % 4]
            for decode in (base64.b64decode, base64.urlsafe_b64decode):
                try:
                    if middle in decode(piece):
                        return True
                except (binascii.Error, ValueError):
                    continue
    return False


@given(secret=SECRETS, prefix=st.binary(max_size=5), suffix=st.binary(max_size=5))
def test_a_secret_inside_a_longer_base64_text_is_masked(
    secret: str, prefix: bytes, suffix: bytes
) -> None:
    """`Authorization: Basic base64(user:secret)` and the like: the secret at any byte offset."""
    raw = secret.encode()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        text = encode(prefix + raw + suffix).decode()
        assert not _recoverable(mask_secrets(text, [secret]), raw)


def test_nothing_else_is_masked() -> None:
    assert mask_secrets("an ordinary message", ["s3cret-value-123"]) == "an ordinary message"
    assert mask_secrets("x", []) == "x" and mask_secrets("", ["y"]) == ""


# -- the client: a tenant that echoes the request -----------------------------------------------------


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_a_tenant_echoing_a_secret_in_any_encoding_is_masked(encoding: str) -> None:
    secret = 'p"a\\ss\tw0rd-CANARY-é'
    with FaultServer() as server:
        detail = "rejected value " + ENCODINGS[encoding](secret)
        errors_list = [{"path": "/definition", "message": ENCODINGS[encoding](secret)}]
        server.responder = lambda r: Reply(
            422,
            {"title": "x", "status": 422, "detail": detail, "errors": errors_list},
            content_type="application/problem+json",
        )
        flow = sample_flow()
        flow["spec"]["settings"]["constants"][1]["value"] = secret
        client = TenantClient("production-eu", server.url, "key-0123456789", retries=0)
        with client, pytest.raises(errors.Rejected) as caught:
            client.put_flow("flow-intake", flow, create=True)
    message = str(caught.value)
    assert ENCODINGS[encoding](secret) not in message and "***" in message
    assert "production-eu" in message and "HTTP 422" in message


def test_the_api_key_is_masked_in_what_a_tenant_echoes() -> None:
    key = "key-AbC+/=0123456789"
    with FaultServer() as server:
        server.responder = lambda r: Reply(
            500,
            {"detail": f"bad header {r.header('authorization')} / {quote(key)}"},
            content_type="application/problem+json",
        )
        client = TenantClient("production-eu", server.url, key, retries=0)
        with client, pytest.raises(errors.TenantError) as caught:
            client.list_flows()
    assert key not in str(caught.value) and quote(key, safe="") not in str(caught.value)
