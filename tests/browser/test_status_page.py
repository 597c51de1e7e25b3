"""The status page in a real browser: headless Chromium opens what `syncer serve` serves against real
tenants, reads the table and the drift banner, opens a flow page and finds the diagram drawn as SVG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.landscape import Landscape, example_flow, landscape
from tests.e2e.serving import serving, settings

from .chromium import browser

FLOWS = ["depression-screening", "post-op-knee-recovery", "remote-bp-monitoring"]
BP = "remote-bp-monitoring"
TOKEN = "browser-test-token-5d0c2a9e71"


def _retitle(definition: dict[str, Any]) -> None:
    definition["spec"]["tracks"][0]["steps"][0]["title"] = "Urgent advice (call first)"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with landscape(tmp_path, monkeypatch) as w:
        for key in FLOWS:
            w.seed("sandbox", example_flow(key))
        assert w.syncer("export", "--env", "sandbox", "--commit").code == 0
        assert w.syncer("apply", "--yes").code == 0
        w.edit("production-eu", BP, _retitle, hotfix=True)
        yield w


def test_status_page_table_banner_and_flow_diagram(world: Landscape, tmp_path: Path) -> None:
    config = settings(world.repo, tmp_path / "serve.db", status_token=TOKEN)
    with serving(config) as served, browser() as chromium:
        served.wait_runs(1)
        context = chromium.new_context(
            extra_http_headers={"Authorization": f"Bearer {TOKEN}"},
            java_script_enabled=False,  # the page must work without any script
            viewport={"width": 1280, "height": 900},
        )
        page = context.new_page()
        page.goto(served.url + "/")
        table = page.locator("table.flows")
        assert table.locator("thead th").all_inner_texts() == [
            "Flow",
            "production-eu",
            "production-us",
        ]
        row = table.locator("tbody tr", has_text=BP)
        assert "drift" in row.locator("td").nth(0).inner_text()
        assert "in sync" in row.locator("td").nth(1).inner_text()
        banner = page.get_by_role("alert").filter(has_text="edited in Production")
        assert "dr.jansen" in banner.inner_text() and "hotfix" in banner.inner_text()
        page.screenshot(path=str(tmp_path / "status-page.png"), full_page=True)

        row.locator("td").nth(0).get_by_role("link").click()
        assert page.url.endswith(f"/flows/production-eu/{BP}")
        svg = page.locator("figure.diagram svg")
        assert svg.count() >= 1
        assert svg.first.get_attribute("role") == "img"
        assert "Urgent advice (call first)" in (svg.first.text_content() or "")
        assert svg.first.locator("[data-state=changed]").count() == 1
        box = svg.first.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
        page.screenshot(path=str(tmp_path / "flow-page.png"), full_page=True)
        assert (tmp_path / "status-page.png").stat().st_size > 10_000
        context.close()
