"""What the trust-boundary stories need beyond a landscape: real SSH signing keys and signed commits
(``ssh-keygen``, git's ``gpg.format=ssh``), an operator's allowed-signers file outside the repository,
and a listener on 127.0.0.1 that records every request it gets (an attacker's host collecting keys)."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .landscape import CANARY, ENV_CANARY, PROJECT, Landscape

if shutil.which("ssh-keygen") is None:  # .ci/system-packages.sh installs it (openssh-client)
    pytest.skip("ssh-keygen (OpenSSH) is needed to sign commits", allow_module_level=True)


def assert_nothing_leaked(world: Landscape) -> None:
    """No API key and no concealed value in anything any command printed."""
    printed = "".join(world.outputs)
    for keys in world.keys.values():
        for key in keys.values():
            assert key not in printed
    assert CANARY not in printed and ENV_CANARY not in printed


def assert_plan_schema(data: object) -> None:
    """``data`` (plan or reconcile JSON output) follows ``schemas/plan.schema.json``."""
    from jsonschema import Draft202012Validator

    schema = json.loads((PROJECT / "schemas" / "plan.schema.json").read_text("utf-8"))
    errors = list(Draft202012Validator(schema).iter_errors(data))
    assert errors == [], errors[0].message


@dataclass(frozen=True)
class Signer:
    """A person with an SSH signing key (ed25519, no passphrase)."""

    name: str
    email: str
    key: Path  # the private key; ``key.with_suffix(".pub")`` is its public half

    @property
    def public(self) -> str:
        return self.key.with_suffix(".pub").read_text("utf-8").strip()

    @property
    def fingerprint(self) -> str:
        out = subprocess.run(
            ["ssh-keygen", "-l", "-E", "sha256", "-f", str(self.key.with_suffix(".pub"))],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return out.split()[1]  # "256 SHA256:... comment (ED25519)"


def make_signer(folder: Path, name: str) -> Signer:
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / name
    email = f"{name}@example.org"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", email, "-f", str(key)], check=True
    )
    return Signer(name, email, key)


def allowed_signers(path: Path, *signers: Signer) -> Path:
    """An allowed-signers file (git's SSH format) listing ``signers``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{s.email} {s.public}\n" for s in signers), "utf-8")
    return path


def commit(world: Landscape, message: str, signer: Signer | None = None) -> str:
    """Commit everything in the work tree, signed by ``signer`` (``git commit -S``, which runs
    ``ssh-keygen -Y sign``) or unsigned."""
    repo = world.git()
    repo.git.add("--all")
    who = signer.name if signer else "Unsigned Author"
    email = signer.email if signer else "unsigned@example.org"
    config = ["-c", f"user.name={who}", "-c", f"user.email={email}"]
    if signer is not None:
        config += ["-c", "gpg.format=ssh", "-c", f"user.signingkey={signer.key}"]
    sign = ["-S"] if signer else ["--no-gpg-sign"]
    repo.git.execute(["git", *config, "commit", "--allow-empty", *sign, "-m", message])
    return repo.head.commit.hexsha


@dataclass
class Listener:
    """An HTTP server that answers like an empty tenant and records every request's headers."""

    url: str
    requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def authorizations(self) -> list[str]:
        return [r["authorization"] for r in self.requests if r.get("authorization")]


@contextmanager
def listener() -> Iterator[Listener]:
    found: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            found.append({k.lower(): v for k, v in self.headers.items()} | {"path": self.path})
            body = json.dumps({"items": []}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Listener(f"http://127.0.0.1:{server.server_address[1]}", found)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
