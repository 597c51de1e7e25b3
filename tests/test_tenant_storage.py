"""The tenant's SQLite store, without HTTP: WAL, identity, atomic writes, immutability, secrets apart."""

from __future__ import annotations

import ast
import contextlib
import json
import sqlite3
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from syncer.errors import ConfigError
from syncer.tenant import concealed
from syncer.tenant.preconditions import KeyInUse, StaleRevision, ViewOnly, Write
from syncer.tenant.storage import Store
from syncer.tenant.tables import SCHEMA_VERSION

FlowBuilder = Callable[..., dict[str, Any]]


def write(
    flow: dict[str, Any],
    *,
    revision: int | None = None,
    annotations: dict[str, str] | None = None,
    actor: str = "tester",
    edit_source: str = "api",
    hotfix: bool = False,
) -> Write:
    return Write(
        definition_id=flow["metadata"]["definition_id"],
        incoming=concealed.split(flow),
        annotations=annotations,
        if_match=None if revision is None else (str(revision),),
        if_none_match=("*",) if revision is None else None,
        actor=actor,
        edit_source=edit_source,
        hotfix=hotfix,
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "tenant.db", name="sandbox", kind="sandbox", region="eu")


def test_new_database_is_wal_and_versioned(store: Store) -> None:
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.tenant() == {
        "name": "sandbox",
        "kind": "sandbox",
        "region": "eu",
        "identifier_systems": [],
    }


def test_reopening_checks_identity_and_keeps_region(store: Store) -> None:
    again = Store(store.path, name="sandbox", kind="sandbox")
    assert again.region == "eu"
    assert Store(store.path, name="sandbox", kind="sandbox", region="uk").region == "uk"
    with pytest.raises(ConfigError, match="holds tenant 'sandbox' \\(sandbox\\)"):
        Store(store.path, name="sandbox", kind="production")
    with pytest.raises(ConfigError, match="holds tenant"):
        Store(store.path, name="other", kind="sandbox")


def test_bad_database_files_are_config_errors(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ConfigError, match="cannot open the tenant database"):
        Store(garbage, name="x", kind="sandbox")
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ConfigError, match="newer syncer"):
        Store(newer, name="x", kind="sandbox")
    with pytest.raises(ConfigError, match="kind must be one of"):
        Store(tmp_path / "k.db", name="x", kind="staging")


def test_write_create_update_and_preconditions(store: Store, make_flow: FlowBuilder) -> None:
    flow = make_flow()
    record, created = store.write_flow(write(flow, annotations={"a": "1"}))
    assert created and record.revision == 1 and record.summary["annotations"] == {"a": "1"}
    with pytest.raises(StaleRevision):
        store.write_flow(write(flow))  # create of an existing flow
    record, created = store.write_flow(write(flow, revision=1))
    assert not created and record.revision == 2 and record.summary["annotations"] == {"a": "1"}
    with pytest.raises(StaleRevision):
        store.write_flow(write(flow, revision=1))
    bare = Write("flow-intake", concealed.split(flow), None, None, None, "tester")
    with pytest.raises(StaleRevision, match="send If-Match"):
        store.write_flow(bare)
    history = store.history("flow-intake")
    assert history is not None and [h["revision"] for h in history] == [2, 1]


def test_refused_write_changes_nothing(store: Store, make_flow: FlowBuilder) -> None:
    store.write_flow(write(make_flow()))
    other = make_flow("flow-other", key="intake")
    with pytest.raises(KeyInUse):
        store.write_flow(write(other))
    assert store.get_flow("flow-other") is None and store.history("flow-other") is None
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM history").fetchone()[0] == 1


def test_production_refuses_studio_edits_unless_hotfix(
    tmp_path: Path, make_flow: FlowBuilder
) -> None:
    production = Store(tmp_path / "p.db", name="prod", kind="production")
    flow = make_flow()
    with pytest.raises(ViewOnly):
        production.write_flow(write(flow, edit_source="studio"))
    record, _ = production.write_flow(write(flow, edit_source="syncer"))
    assert record.summary["view_only"] is True
    with pytest.raises(ViewOnly):
        production.write_flow(write(flow, revision=1, edit_source="studio"))
    record, _ = production.write_flow(write(flow, revision=1, edit_source="studio", hotfix=True))
    entry = production.history_entry("flow-intake", 2)
    assert entry is not None and entry["hotfix"] is True and entry["edit_source"] == "studio"


def test_secrets_live_only_in_their_table(store: Store, make_flow: FlowBuilder) -> None:
    flow = make_flow()
    flow["spec"]["settings"]["constants"][1]["value"] = "hidden-1"
    store.write_flow(write(flow))
    with sqlite3.connect(store.path) as conn:
        secrets = conn.execute("SELECT item_id, secret FROM flow_secrets").fetchall()
        stored = json.loads(conn.execute("SELECT definition FROM flows").fetchone()[0])
    assert secrets == [("cst-key", json.dumps("hidden-1"))]
    constant = stored["spec"]["settings"]["constants"][1]
    assert constant["has_value"] is True and "value" not in constant
    # Keeping (no value) and blanking ("") both work at the store level too.
    store.write_flow(write(make_flow(), revision=1))
    assert _secret_count(store) == 1
    blank = make_flow()
    blank["spec"]["settings"]["constants"][1]["value"] = ""
    store.write_flow(write(blank, revision=2))
    assert _secret_count(store) == 0


def _secret_count(store: Store) -> int:
    with sqlite3.connect(store.path) as conn:
        count: int = conn.execute("SELECT COUNT(*) FROM flow_secrets").fetchone()[0]
    return count


def test_versions_and_history_are_immutable(store: Store, make_flow: FlowBuilder) -> None:
    store.write_flow(write(make_flow()))
    release = store.publish("flow-intake", "publisher", None)
    assert release["version"] == 1 and "definition" not in release
    with sqlite3.connect(store.path) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            conn.execute("UPDATE versions SET notes = 'changed'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE history SET user = 'someone else'")
    stored = store.version("flow-intake", 1)
    assert stored is not None and stored.pop("definition")["metadata"]["key"] == "intake"
    assert stored == release


def test_delete_removes_the_working_version_and_keeps_the_record(
    store: Store, make_flow: FlowBuilder
) -> None:
    """Issue 15, item 10: an admin DELETE used to erase history and published versions."""
    flow = make_flow()
    flow["spec"]["settings"]["constants"][1]["value"] = "hidden"
    store.write_flow(write(flow))
    store.write_flow(write(make_flow("flow-keep", key="keep")))
    release = store.publish("flow-intake", "p", "n")
    for blind in (None, ("*",)):
        with pytest.raises(StaleRevision):
            store.delete_flow("flow-intake", blind)
    store.delete_flow("flow-intake", ("1",), "admin")
    counts = {}
    with sqlite3.connect(store.path) as conn:
        for table in ("flows", "flow_secrets", "history", "versions", "deletions"):
            rows = conn.execute(f"SELECT COUNT(*) FROM {table} WHERE definition_id = 'flow-intake'")
            counts[table] = rows.fetchone()[0]
        with pytest.raises(sqlite3.IntegrityError, match="kept"):
            conn.execute("DELETE FROM history")
        with pytest.raises(sqlite3.IntegrityError, match="kept"):
            conn.execute("DELETE FROM versions")
    assert counts == {"flows": 0, "flow_secrets": 0, "history": 1, "versions": 1, "deletions": 1}
    assert store.get_flow("flow-intake") is None and store.get_flow("flow-keep") is not None
    again, created = store.write_flow(write(make_flow()))
    assert created and again.revision == 2  # its history continues; revision 1 is still there
    assert [h["revision"] for h in store.history("flow-intake") or []] == [2, 1]
    assert (store.version("flow-intake", 1) or {}).get("release_id") == release["release_id"]


def test_database_files_are_private(tmp_path: Path, make_flow: FlowBuilder) -> None:
    """Issue 15, item 10: the database and its WAL were world-readable, with secrets inside."""
    path = tmp_path / "private.db"
    path.write_bytes(b"")
    path.chmod(0o644)
    store = Store(path, name="sandbox", kind="sandbox")
    with contextlib.closing(sqlite3.connect(path)) as reader:  # the WAL lives while one is open
        reader.execute("SELECT COUNT(*) FROM flows").fetchone()
        store.write_flow(write(make_flow()))
        files = [path, path.with_name("private.db-wal"), path.with_name("private.db-shm")]
        assert {f.name: oct(stat.S_IMODE(f.stat().st_mode)) for f in files} == {
            f.name: "0o600" for f in files
        }
    fresh = tmp_path / "fresh" / "new.db"
    Store(fresh, name="sandbox", kind="sandbox")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_racing_store_writes_serialise(store: Store, make_flow: FlowBuilder) -> None:
    store.write_flow(write(make_flow()))
    barrier, outcomes = threading.Barrier(8), []

    def attempt(index: int) -> None:
        flow = make_flow()
        flow["metadata"]["title"] = f"writer {index}"
        barrier.wait()
        try:
            store.write_flow(write(flow, revision=1))
            outcomes.append("won")
        except StaleRevision:
            outcomes.append("stale")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["stale"] * 7 + ["won"]
    record = store.get_flow("flow-intake")
    assert record is not None and record.revision == 2


def test_identifier_systems_round_trip(store: Store) -> None:
    systems = [{"name": "MRN", "display_name": "MRN", "system": "https://x/mrn"}]
    assert store.set_identifier_systems(systems)["identifier_systems"] == systems
    assert (
        Store(store.path, name="sandbox", kind="sandbox").tenant()["identifier_systems"] == systems
    )


def test_split_takes_every_concealed_value_out(make_flow: FlowBuilder) -> None:
    flow = make_flow()
    settings = flow["spec"]["settings"]
    settings["constants"][1]["value"] = "c-secret"
    settings["constants"][0]["has_value"] = True  # echoed junk on a visible item is dropped too
    settings["constants"].append(
        {"id": "no-key", "label": "x", "concealed": True, "value": "k-secret"}
    )
    settings["extensions"]["elation"]["client_secret"]["value"] = {"nested": "e-secret"}
    incoming = concealed.split(flow)
    text = json.dumps(incoming.definition)
    assert "c-secret" not in text and "k-secret" not in text and "e-secret" not in text
    assert "has_value" not in text
    assert incoming.secrets == {
        "cst-key": "c-secret",
        "no-key": "k-secret",
        "ext-secret": {"nested": "e-secret"},
    }
    assert incoming.redact("x c-secret y k-secret") == "x *** y ***"
    assert (
        flow["spec"]["settings"]["constants"][1]["value"] == "c-secret"
    )  # the input is not modified


def test_tenant_never_imports_the_client_side() -> None:
    """A client test cannot pass just because both sides share a bug (STYLE: tenant/ imports)."""
    forbidden = {"client", "plan", "diff", "apply"}
    package = Path(__file__).parents[1] / "syncer"
    sources = [*sorted((package / "tenant").glob("*.py")), package / "commands" / "tenant.py"]
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(alias.name for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            parts = {part for name in names for part in name.split(".")}
            assert not parts & forbidden, f"{source.name} imports {parts & forbidden}"
