"""Shared fixtures: real reference tenants on 127.0.0.1, the API keys they accept, and a valid flow.

- ``tenant_factory(name="sandbox", kind="sandbox", region="", db_path=None)`` starts a real uvicorn
  tenant in a background thread on a free port, backed by a SQLite file in ``tmp_path`` (pass ``db_path``
  to reopen the same file after a restart). Every tenant it started is stopped at teardown.
- ``ADMIN_KEY`` (all scopes), ``READER_KEY`` (read), ``WRITER_KEY`` (read+write), ``PUBLISHER_KEY``
  (read+publish); the key names (``admin``, ``reader``, ...) are the actors recorded in history.
  ``auth(key)`` gives the ``Authorization`` header.
- ``make_flow(definition_id=..., key=..., title=...)`` (also importable as ``sample_flow``) builds a small valid care-flow document (schema of
  docs/flow-format.md) with one visible and one concealed constant and one visible and one concealed
  extension setting.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from syncer.model import iter_value_items
from syncer.tenant.embedded import RunningTenant, start_tenant

ADMIN_KEY = "admin-key-0b8e1c6f2d"
READER_KEY = "reader-key-7a21f9e4c3"
WRITER_KEY = "writer-key-4c9d2e7b10"
PUBLISHER_KEY = "publisher-key-9e3a5b1d"
ALL_SCOPES = ["read", "write", "publish", "admin"]
TEST_KEYS: list[dict[str, Any]] = [
    {"name": "admin", "key": ADMIN_KEY, "scopes": ALL_SCOPES},
    {"name": "reader", "key": READER_KEY, "scopes": ["read"]},
    {"name": "writer", "key": WRITER_KEY, "scopes": ["read", "write"]},
    {"name": "publisher", "key": PUBLISHER_KEY, "scopes": ["read", "publish"]},
]

TenantFactory = Callable[..., RunningTenant]

# No wall-clock limits in tests (timing goals belong to ``make bench``): hypothesis's per-example
# deadline would fail a property on a loaded machine, so it is off for every property test.
settings.register_profile("syncer", deadline=None)
settings.load_profile("syncer")


def tenant_view(definition: dict[str, Any]) -> dict[str, Any]:
    """What a tenant returns for a stored definition: concealed values replaced by has_value."""
    view = copy.deepcopy(definition)
    for _ref, item in iter_value_items(view):
        if item.get("concealed"):
            item["has_value"] = bool(item.pop("value", None))
    return view


def auth(key: str) -> dict[str, str]:
    """The Authorization header for ``key``."""
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def tenant_factory(tmp_path: Path) -> Iterator[TenantFactory]:
    """Start real tenants; all are stopped when the test ends."""
    started: list[RunningTenant] = []

    def start(
        name: str = "sandbox",
        kind: str = "sandbox",
        *,
        region: str = "",
        db_path: Path | None = None,
        keys: Any = None,
        **options: Any,
    ) -> RunningTenant:
        path = db_path or tmp_path / f"{name}.db"
        tenant = start_tenant(name, kind, path, keys or TEST_KEYS, region=region, **options)
        started.append(tenant)
        return tenant

    yield start
    for tenant in reversed(started):
        tenant.stop()


_FLOW: dict[str, Any] = {
    "apiVersion": "syncer.careflow/v1",
    "kind": "CareFlow",
    "metadata": {"definition_id": "", "key": "", "title": "", "description": "A test flow."},
    "spec": {
        "settings": {
            "constants": [
                {
                    "id": "cst-url",
                    "key": "EHR_BASE_URL",
                    "label": "EHR URL",
                    "value": "https://ehr",
                },
                {"id": "cst-key", "key": "EHR_API_KEY", "label": "EHR API key", "concealed": True},
            ],
            "extensions": {
                "elation": {
                    "base_url": {"id": "ext-url", "label": "Base URL", "value": "https://elation"},
                    "client_secret": {"id": "ext-secret", "label": "Secret", "concealed": True},
                }
            },
        },
        "stakeholders": [
            {"id": "stk-patient", "label": {"en": "Patient"}, "clinical_app_role": "Patient"}
        ],
        "labels": [],
        "tracks": [
            {
                "id": "trk-main",
                "key": "main",
                "title": "Main",
                "steps": [
                    {
                        "id": "stp-intake",
                        "key": "intake",
                        "title": "Intake",
                        "label_definition_ids": [],
                        "actions": [],
                    }
                ],
                "transitions": [
                    {
                        "id": "trn-start",
                        "origin": {"type": "track_start", "node_id": "trk-main"},
                        "destination": {"type": "step", "node_id": "stp-intake"},
                        "default": False,
                    }
                ],
            }
        ],
        "rules": [],
        "triggers": [],
        "timings": [],
        "data_point_definitions": [],
        "dynamic_variables": [],
        "forms": [],
        "messages": [],
        "clinical_notes": [],
        "extension_webhooks": [],
    },
    "layout": {
        "tracks": {"trk-main": {"start": {"x": 0, "y": 0}, "end": {"x": 400, "y": 0}}},
        "steps": {"stp-intake": {"x": 200, "y": 0}},
    },
}


def sample_flow(
    definition_id: str = "flow-intake", key: str = "intake", title: str = "Intake"
) -> dict[str, Any]:
    """A small valid flow document (a fresh deep copy every call)."""
    flow = copy.deepcopy(_FLOW)
    flow["metadata"].update(definition_id=definition_id, key=key, title=title)
    return flow


@pytest.fixture
def make_flow() -> Callable[..., dict[str, Any]]:
    """``sample_flow`` as a fixture."""
    return sample_flow
