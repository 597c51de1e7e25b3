"""``syncer tenant serve``: run the reference tenant server in the foreground on 127.0.0.1."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from ..errors import EXIT_OK, ConfigError

if TYPE_CHECKING:
    from ..tenant.auth import Keyring


def load_keyring(keys_file: str | None) -> Keyring:
    """Keys from ``--keys FILE``, else from ``SYNCER_TENANT_KEYS``; a ConfigError when neither is set."""
    from ..tenant.auth import KEYS_ENV, Keyring

    if keys_file:
        path = Path(keys_file)
        if not path.is_file():
            raise ConfigError(f"the keys file {keys_file} does not exist.")
        return Keyring.from_file(path)
    value = os.environ.get(KEYS_ENV, "").strip()
    if not value:
        raise ConfigError(
            f"no API keys: pass --keys FILE (a YAML list of {{name, key, scopes}}) or set {KEYS_ENV}"
            " (name:key:scope+scope,...)."
        )
    return Keyring.from_env_value(value)


class _Terminated(Exception):
    """SIGTERM arrived: a supervisor stopping the server, which is a normal end (exit 0)."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


def run(args: argparse.Namespace) -> int:
    """Serve until stopped: SIGTERM ends gracefully with 0, Ctrl-C with 130 (interrupted)."""
    # Imported here, not at the top: every command's start would otherwise load the web server.
    from ..tenant.app import create_app
    from ..tenant.embedded import HOST, bind_socket, server_for
    from ..tenant.storage import Store

    keyring = load_keyring(args.keys)
    store = Store(Path(args.db), name=args.name, kind=args.kind, region=args.region)
    sock = bind_socket(args.port)
    port = sock.getsockname()[1]
    print(
        f"tenant {store.name} ({store.kind}{', ' + store.region if store.region else ''})"
        f" serving http://{HOST}:{port} from {args.db}; keys: {', '.join(keyring.names)}",
        file=sys.stderr,
    )
    server = server_for(create_app(store, keyring), quiet=False)
    if threading.current_thread() is threading.main_thread():
        # uvicorn shuts down gracefully on SIGTERM, then re-raises it to the handler found here.
        signal.signal(signal.SIGTERM, _on_sigterm)
    with contextlib.suppress(_Terminated):
        server.run(sockets=[sock])
    return EXIT_OK
