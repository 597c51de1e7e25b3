"""API keys are never printed (issue 15, item 3): a key containing CR/LF used to be echoed in the error,
a non-ASCII key ended in a traceback, and a keys file with a repeated key printed both keys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from syncer import errors
from syncer.client import client_for
from syncer.model import Environment, Role


@pytest.mark.parametrize(
    ("key", "said"),
    [
        ("good-key-123\r\nX-Injected: 1", "a carriage return"),
        ("good-key-123\nsecond-line", "a line break"),
        ("clé-secrète-123456", "U+00E9"),
        ("two words-123456", "a space"),
    ],
)
def test_an_api_key_no_header_can_carry_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, key: str, said: str
) -> None:
    monkeypatch.setenv("SYNCER_PRODUCTION_EU_API_KEY", key)
    env = Environment(
        "production-eu",
        Role.TARGET,
        "eu",
        "http://127.0.0.1:1",
        "SYNCER_PRODUCTION_EU_API_KEY",
        None,
    )
    with pytest.raises(errors.ConfigError) as caught:
        client_for(env)
    message = str(caught.value)
    assert said in message and "$SYNCER_PRODUCTION_EU_API_KEY" in message
    assert key.strip() not in message and "secrète" not in message and "good-key" not in message


def test_a_keys_file_with_a_repeated_key_prints_neither(tmp_path: Path) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text(
        "- {name: ci, key: first-secret-key-111, key: second-secret-key-222, scopes: [read]}\n",
        "utf-8",
    )
    command = [
        sys.executable, "-m", "syncer", "tenant", "serve", "--name", "t", "--kind", "sandbox",
        "--port", "0", "--db", str(tmp_path / "t.db"), "--keys", str(keys),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "first-secret-key-111" not in done.stderr and "second-secret-key-222" not in done.stderr
    assert "keys.yaml:1:" in done.stderr and "duplicate key `key`" in done.stderr
