"""Who writes: one ``actor()`` for apply, reconcile and publish, and it works in a bare container."""

from __future__ import annotations

import pwd

import pytest

from syncer.reconcile.apply import actor


def test_actor_prefers_syncer_actor_then_github_actor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    monkeypatch.setenv("SYNCER_ACTOR", "ci-bot")
    assert actor() == "ci-bot"
    monkeypatch.delenv("SYNCER_ACTOR")
    assert actor() == "octocat"


def test_actor_in_a_bare_container_has_no_user_name_and_still_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No SYNCER_ACTOR, GITHUB_ACTOR, LOGNAME or USER, and a uid with no passwd entry: there,
    ``getpass.getuser()`` raises (nothing real here has no passwd entry for the test's uid)."""
    for name in ("SYNCER_ACTOR", "GITHUB_ACTOR", "LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)

    def no_entry(uid: int) -> pwd.struct_passwd:
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    assert actor() == "unknown"
