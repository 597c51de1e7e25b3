"""API keys of the reference tenant: who is calling, and what they may do.

A key has a name (the actor recorded in history as ``updated_by`` and ``user``) and scopes (``read``,
``write``, ``publish``, ``admin``). Scopes do not imply each other: a key that should read and write lists
both. Only the SHA-256 digest of a key is kept in memory; API keys are long random tokens, so a fast hash
is enough (a slow KDF protects guessable passwords, and would only add latency to every request here).

Keys come from a YAML file (``--keys FILE``: a list of ``{name, key, scopes}``; ``key_sha256`` may replace
``key`` so that the file holds no secret) or from ``SYNCER_TENANT_KEYS`` (``name:key:scope+scope,...``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, SyncError
from ..yamlio import load_file

SCOPES: tuple[str, ...] = ("read", "write", "publish", "admin")
KEYS_ENV = "SYNCER_TENANT_KEYS"
_MIN_KEY_LENGTH = 8


def digest(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    name: str
    scopes: frozenset[str]

    def can(self, scope: str) -> bool:
        return scope in self.scopes


class Keyring:
    """The known keys, by digest. Build it with ``from_entries``, ``from_env_value`` or ``from_file``."""

    def __init__(self, digests: Mapping[str, Principal]) -> None:
        if not digests:
            raise ConfigError("no API keys are configured; the tenant would refuse every request.")
        self._by_digest = dict(digests)

    def authenticate(self, key: str) -> Principal | None:
        """The principal owning ``key``, or None. Compares digests in constant time."""
        wanted = digest(key)
        found: Principal | None = None
        for stored, principal in self._by_digest.items():
            if hmac.compare_digest(stored, wanted):
                found = principal
        return found

    @property
    def names(self) -> list[str]:
        return sorted(p.name for p in self._by_digest.values())

    @classmethod
    def from_entries(cls, entries: Iterable[Mapping[str, Any]], source: str = "keys") -> Keyring:
        """Keys from mappings ``{name, key | key_sha256, scopes}``; errors name ``source``."""
        digests: dict[str, Principal] = {}
        for index, entry in enumerate(entries):
            where = f"{source}: entry {index + 1}"
            if not isinstance(entry, Mapping):
                raise ConfigError(f"{where} must be a mapping with name, key and scopes.")
            key_digest, principal = _entry(entry, where)
            if key_digest in digests:
                raise ConfigError(
                    f"{where}: the same key is listed twice; give every key its own value."
                )
            digests[key_digest] = principal
        return cls(digests)

    @classmethod
    def from_env_value(cls, value: str, source: str = KEYS_ENV) -> Keyring:
        """Keys from ``name:key:scope+scope,...`` (the key may itself contain ``:``)."""
        entries: list[dict[str, Any]] = []
        for index, part in enumerate(p.strip() for p in value.split(",")):
            if not part:
                continue
            name, sep, rest = part.partition(":")
            key, sep2, scopes = rest.rpartition(":")
            if not (sep and sep2):
                raise ConfigError(
                    f"{source}: entry {index + 1} is not name:key:scope+scope (for example "
                    "ci:s3cret-token:read+write)."
                )
            entries.append({"name": name, "key": key, "scopes": scopes.split("+")})
        return cls.from_entries(entries, source)

    @classmethod
    def from_file(cls, path: Path) -> Keyring:
        """Keys from a YAML list of ``{name, key, scopes}``."""
        try:
            data = load_file(path).data
        except SyncError as exc:
            raise ConfigError(f"cannot read the keys file: {exc}") from None
        if not isinstance(data, list):
            raise ConfigError(f"{path}: expected a YAML list of {{name, key, scopes}}.")
        return cls.from_entries(data, str(path))

    @classmethod
    def coerce(cls, keys: Keyring | str | Iterable[Mapping[str, Any]]) -> Keyring:
        """Accept a keyring, a ``SYNCER_TENANT_KEYS`` value, or a list of key mappings."""
        if isinstance(keys, Keyring):
            return keys
        if isinstance(keys, str):
            return cls.from_env_value(keys, "keys")
        return cls.from_entries(keys)


def _entry(entry: Mapping[str, Any], where: str) -> tuple[str, Principal]:
    unknown = sorted(set(entry) - {"name", "key", "key_sha256", "scopes"})
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)}.")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(
            f"{where}: `name` must be a non-empty string (it is recorded in history)."
        )
    scopes = entry.get("scopes")
    if isinstance(scopes, str):
        scopes = scopes.replace("+", " ").replace(",", " ").split()
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        raise ConfigError(
            f"{where} ({name}): `scopes` must list one or more of {', '.join(SCOPES)}."
        )
    bad = sorted(set(scopes) - set(SCOPES))
    if bad:
        raise ConfigError(
            f"{where} ({name}): unknown scope(s) {', '.join(bad)}; use {', '.join(SCOPES)}."
        )
    return _key_digest(entry, where, name), Principal(name.strip(), frozenset(scopes))


def _key_digest(entry: Mapping[str, Any], where: str, name: str) -> str:
    key, hashed = entry.get("key"), entry.get("key_sha256")
    if (key is None) == (hashed is None):
        raise ConfigError(f"{where} ({name}): give exactly one of `key` or `key_sha256`.")
    if hashed is not None:
        text = str(hashed).lower()
        if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
            raise ConfigError(f"{where} ({name}): `key_sha256` must be 64 hexadecimal digits.")
        return text
    if not isinstance(key, str) or len(key) < _MIN_KEY_LENGTH:
        # The key itself is never echoed: this message may end up in CI logs.
        raise ConfigError(
            f"{where} ({name}): `key` must be a string of at least {_MIN_KEY_LENGTH} characters."
        )
    return digest(key)
