"""What the Awell tests share: where the exports are, and an export compared component by component.

The round trip is exact modulo what SPEC 3 keeps out of Git on purpose: timestamps and editor ids
(``created``, ``last_updated``, a form's ``user_id``) and obfuscated (encrypted) values.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from syncer.awell import tables

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "fixtures" / "awell-source-control-export"
MINI = ROOT / "tests" / "fixtures" / "awell-mini"
VARIANTS = ROOT / "tests" / "fixtures" / "awell-variants"
ENCRYPTED = tables.ENCRYPTED_PREFIX


REAL_ABSENT = (
    f"the real Awell export is not at {REAL} "
    "(it lives in ../shared/fixtures/, beside the project, and is read in place)"
)


def real_export() -> Path:
    """The real export, or a skip that says where it was looked for."""
    if not REAL.is_dir():
        pytest.skip(REAL_ABSENT)
    return REAL


def present(export: Path) -> Path:
    """``export``, or a skip when it is the real export and that is absent."""
    return real_export() if export == REAL else export


def exports(real: str = "real", mini: str = "mini") -> list[Any]:
    """Parameters for a test over both exports: the mini one always runs, the real one skips (with
    the reason) where it is absent."""
    absent = [] if REAL.is_dir() else [pytest.mark.skip(REAL_ABSENT)]
    return [pytest.param(REAL, id=real, marks=absent), pytest.param(MINI, id=mini)]


def components(folder: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Every entry of an export by (folder, ``_key``), without what the round trip may lose."""
    result: dict[tuple[str, str], dict[str, Any]] = {}
    for file in sorted(folder.glob("*/*.json")):
        if file.parent.name != file.stem:
            continue
        for index, entry in enumerate(json.loads(file.read_text("utf-8"))):
            entry = copy.deepcopy(entry)
            kind = tables.KIND_BY_TYPE.get(str(entry.get("type")))
            payload_key = kind.payload if kind else str(entry.get("type"))
            payload = entry.get(payload_key)
            if isinstance(payload, dict):
                for name in kind.volatile if kind else tables.VOLATILE:
                    payload.pop(name, None)
                if kind is tables.SETTINGS and isinstance(payload.get("constants"), list):
                    payload["constants"].sort(key=lambda item: str(item.get("id")))
                key = str(payload.get("_key", index))
            else:
                key = str(index)
            forget_secrets(entry)
            assert (file.stem, key) not in result, (file, key)
            result[(file.stem, key)] = entry
    return result


def forget_secrets(value: Any) -> None:
    """Drop what import drops by design: obfuscated values and anything encrypted."""
    if isinstance(value, dict):
        if value.get("obfuscated") is True:
            value.pop("value", None)
        for key in list(value):
            if ENCRYPTED in str(key) or (isinstance(value[key], str) and ENCRYPTED in value[key]):
                del value[key]
            else:
                forget_secrets(value[key])
    elif isinstance(value, list):
        value[:] = [v for v in value if not (isinstance(v, str) and ENCRYPTED in v)]
        for item in value:
            forget_secrets(item)


def assert_same_components(original: Path, exported: Path) -> None:
    before, after = components(original), components(exported)
    assert sorted(after) == sorted(before)
    for key, entry in before.items():
        assert after[key] == entry, key
