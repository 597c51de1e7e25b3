"""An environment as the trusted side knows it, for commands that read a reviewed head. Pure.

``report --base REF`` and ``plan --ref REF`` plan a pull request's head: its flows, and its environment
files for everything a reviewer should see the effect of (constants, secrets sources, flows, ignore).
Where an API key goes is not among them: ``url`` and ``api_key_env`` come from the base (the trusted
side), so a change cannot point a Production key at a host of its choosing. Every setting that decides
where the key goes, whether syncer writes to the tenant, which commits it trusts or when it writes, and
that differs between base and head, is a ``SettingChange`` the plan carries for the reviewer.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit, urlunsplit

from ..model import Environment, SettingChange

# What syncer took from the base, and what the reviewer should weigh about the head's value.
_NOTES = {
    "url": "syncer called the base's URL; the head's is never sent a key before this change is "
    "merged. Review where it points: after the merge, the API key goes there",
    "api_key_env": "syncer read the API key from the base's variable; after the merge, the key is "
    "read from the head's",
    "role": "the role decides whether syncer writes to this tenant; review it",
    "verify": "after the merge, this decides which commits syncer writes here; review it",
    "windows": "after the merge, this decides when syncer writes here; review it",
}


def trusted_environment(
    base: Environment, head: Environment
) -> tuple[Environment, list[SettingChange]]:
    """``head`` with the base's ``url`` and ``api_key_env``, and every trust setting that differs."""
    trusted = dataclasses.replace(head, url=base.url, api_key_env=base.api_key_env)
    changes = [
        SettingChange(name, before, after, _NOTES[name])
        for name in _NOTES
        if (before := _setting(base, name)) != (after := _setting(head, name))
    ]
    return trusted, changes


def _setting(env: Environment, name: str) -> str:
    if name == "role":
        return env.role.value
    if name == "verify":
        if not env.signed_commits:
            return "signed_commits: false"
        return f"signed_commits: true, allowed_signers_env: {env.allowed_signers_env or ''}"
    if name == "windows":
        return "; ".join(
            f"{w.kind} `{w.cron}` for {w.duration_seconds}s ({w.timezone})" for w in env.windows
        )
    if name == "url":
        return _without_credentials(env.url)
    return str(getattr(env, name))


def _without_credentials(url: str) -> str:
    """A URL fit for a report: user and password (if a file ever held them) masked."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"***@{host}"))
