"""YAML nested 20,000 levels deep (issue #15, item 7): validate, plan and apply each say where and what
to do, exit 1, print no traceback, and write nothing to any tenant.

The deep value sits inside a real flow committed to Git, once in flow style (``[[[[...]]]]``, which the
fast C loader reads) and once behind a tab (which only the full loader reads), so both loaders' paths
meet it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from syncer.yamlio import MAX_DEPTH

from .landscape import Landscape, landscape

FLOW = "depression-screening"
FLOWS = ("depression-screening", "post-op-knee-recovery", "remote-bp-monitoring")


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from .landscape import example_flow

    with landscape(tmp_path, monkeypatch) as w:
        for key in FLOWS:
            w.seed("sandbox", example_flow(key))
        assert w.syncer("export", "--env", "sandbox", "--commit").code == 0
        yield w


def _bury(world: Landscape, before_value: str) -> int:
    """Give the flow's title a value nested 20,000 levels deep; returns the line it is on."""
    path = world.repo / "flows" / FLOW / "flow.yaml"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    number = next(n for n, line in enumerate(lines) if line.startswith("  title:"))
    lines[number] = f"  title: {before_value}{'[' * 20_000}{']' * 20_000}\n"
    path.write_text("".join(lines), "utf-8")
    world.commit_all("a deep title")
    return number + 1


@pytest.mark.parametrize("loader", ["fast", "full"])
def test_deep_nesting_is_a_located_error_in_validate_plan_and_apply(
    world: Landscape, loader: str
) -> None:
    if loader == "full":  # a raw tab in a quoted key sends the whole file to the full loader
        path = world.repo / "flows" / FLOW / "flow.yaml"
        text = path.read_text("utf-8").replace("kind: CareFlow", "kind: CareFlow\n'x\ty': 1")
        path.write_text(text, "utf-8")
    line = _bury(world, "")
    where = f"flows/{FLOW}/flow.yaml:{line}:"
    before = {env: world.client(env).list_flows() for env in ("production-eu", "production-us")}
    for argv in (("validate",), ("plan",), ("apply", "--yes")):
        result = world.syncer(*argv)
        assert result.code == 1, (argv, result.err)
        assert "Traceback" not in result.err + result.out, argv
        assert where in result.err, (argv, result.err)
        assert f"nested more than {MAX_DEPTH} levels" in result.err
        assert "flatten this value" in result.err
    after = {env: world.client(env).list_flows() for env in ("production-eu", "production-us")}
    assert after == before == {"production-eu": [], "production-us": []}
