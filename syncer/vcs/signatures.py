"""Commit signatures (git SSH signing) checked against an allowed-signers file."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import git
from git.exc import GitCommandError

from .repo import _git_message, resolve


@dataclass(frozen=True)
class Signature:
    """What git says about a commit's signature, checked against one allowed-signers file."""

    commit: str
    subject: str
    status: str  # good | unsigned | unknown_key | bad | expired | revoked | unchecked
    signer: (
        str  # the allowed signer's name (good), the key's fingerprint (other signed), "" unsigned
    )
    detail: str = ""  # why a signature could not be checked

    @property
    def good(self) -> bool:
        return self.status == "good"


# git's %G? letters: https://git-scm.com/docs/pretty-formats
_SIGNATURE_STATUS = {
    "G": "good",
    "N": "unsigned",
    "U": "unknown_key",  # a valid signature by a key that no allowed signer holds
    "B": "bad",
    "X": "expired",
    "Y": "expired",
    "R": "revoked",
    "E": "unchecked",
}


def verify_commit(repo: git.Repo, ref: str, allowed_signers: Path) -> Signature:
    """Check ``ref``'s signature (git SSH signatures) against ``allowed_signers``.

    ssh-keygen is named explicitly, so that no configured program stands in for it; the result comes
    from git's signature placeholders, not from parsing its messages.
    """
    sha = resolve(repo, ref)
    try:
        out = repo.git.execute(
            [
                "git",
                "-c",
                "gpg.format=ssh",
                "-c",
                "gpg.ssh.program=ssh-keygen",
                "-c",
                f"gpg.ssh.allowedSignersFile={allowed_signers}",
                "show",
                "-s",
                "--no-show-signature",
                "--format=%G?%x00%GS%x00%GF%x00%s",
                sha,
            ]
        )
    except GitCommandError as exc:
        return Signature(sha, "", "unchecked", "", _git_message(exc))
    letter, signer, fingerprint, subject = [*str(out).split("\x00"), "", "", ""][:4]
    status = _SIGNATURE_STATUS.get(letter.strip(), "unchecked")
    detail = ""
    if status == "unchecked" and shutil.which("ssh-keygen") is None:
        detail = "ssh-keygen (OpenSSH) is not installed on this machine"
    name = signer if status == "good" else fingerprint
    return Signature(sha, subject.strip(), status, name.strip(), detail)
