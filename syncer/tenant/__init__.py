"""The reference tenant server (SPEC 5): a Sandbox or Production tenant in one SQLite file.

- ``storage``: the SQLite store (WAL, one ``BEGIN IMMEDIATE`` transaction per write);
- ``tables``: its tables, and the statements the store's methods share;
- ``preconditions``: why a write is refused, If-Match / If-None-Match;
- ``concealed``: concealed values split off requests before anything else sees them;
- ``auth``: API keys (hashed) and scopes;
- ``http``: problem+json errors, bounded JSON bodies, entity tags;
- ``app``: the Starlette app, ``create_app(store, keyring)``;
- ``embedded``: ``start_tenant(...)`` runs one in a background thread (tests, ``make demo``).

This package never imports ``syncer.client``, ``plan``, ``diff`` or ``apply``: a test of the client against
this server cannot pass just because both sides share a bug.
"""

from __future__ import annotations

from .app import create_app
from .auth import Keyring, Principal
from .embedded import RunningTenant, start_tenant
from .storage import Store

__all__ = ["Keyring", "Principal", "RunningTenant", "Store", "create_app", "start_tenant"]
