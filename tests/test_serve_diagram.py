"""Server-side SVG of the reports' Mermaid: well-formed, escaped, every step drawn, loops survive."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from syncer import yamlio
from syncer.report import mermaid
from syncer.serve.diagram import decode, parse, render_svg

ROOT = Path(__file__).resolve().parents[1]
SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: str) -> list[str]:
    tree = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in tree.iter(f"{SVG}text")]


def test_every_example_track_draws_every_step_and_edge() -> None:
    for path in sorted((ROOT / "flows").glob("*/flow.yaml")):
        spec = yamlio.load_file(path).data["spec"]
        rules = {r["id"]: r for r in spec.get("rules") or []}
        points = {d["id"]: d for d in spec.get("data_point_definitions") or []}
        for track in spec["tracks"]:
            text = mermaid.track_flowchart(track, None, rules, points)
            svg = render_svg(text, track["title"], track["id"])
            tree = ET.fromstring(svg)  # well-formed XML
            assert tree.get("role") == "img"
            drawn = " ".join(_texts(svg))
            for step in track["steps"]:
                assert step["title"].split()[0] in drawn
            assert len(tree.findall(f"{SVG}path")) == len(track["transitions"])
            assert len(parse(text).edges) == len(track["transitions"])


def test_hostile_titles_stay_text() -> None:
    title = '</text><script>alert(1)</script>"]] --> x'
    text = mermaid.track_flowchart(
        {"id": "t", "steps": [{"id": "s1", "title": title}], "transitions": []}, None, {}, {}
    )
    svg = render_svg(text, "<b>track</b>", "u1")
    assert "<script" not in svg and "<b>" not in svg
    tree = ET.fromstring(svg)
    assert "".join(_texts(svg)).replace(" ", "").startswith("Start")
    assert "<script>" in "".join(tree.itertext())  # shown as the characters the author typed


def test_a_loop_and_an_undeclared_node_still_draw() -> None:
    text = (
        'flowchart TD\n  track_start([Start])\n  a["Ask"]\n  b["Check"]\n  track_start --> a\n'
        '  a --> b\n  b -->|"retry"| a\n  b -.-> ghost\n  class a,b changed\n'
        "  classDef changed fill:#fff8c5,stroke:#9a6700,color:#4d2d00\n"
    )
    svg = render_svg(text, "loop")
    tree = ET.fromstring(svg)
    assert len(tree.findall(f"{SVG}path")) == 4
    assert 'stroke-dasharray="5 4"' in svg and "retry" in svg and "ghost" in svg
    assert svg.count('data-state="changed"') == 2


def test_decode_reverses_mermaid_entities() -> None:
    assert decode("#quot;a#quot; #35;1 #lt;b#gt; #40;x#41;") == '"a" #1 <b> (x)'


@settings(max_examples=60, deadline=None)
@given(
    titles=st.lists(st.text(min_size=1, max_size=80), min_size=1, max_size=6),
    edges=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=12),
)
def test_any_titles_and_any_graph_give_well_formed_svg(
    titles: list[str], edges: list[tuple[int, int]]
) -> None:
    steps = [{"id": f"s{i}", "title": t} for i, t in enumerate(titles)]
    transitions = [
        {
            "id": f"t{n}",
            "origin": {"type": "step", "node_id": f"s{a % len(titles)}"},
            "destination": {"type": "step", "node_id": f"s{b % len(titles)}"},
        }
        for n, (a, b) in enumerate(edges)
    ]
    text = mermaid.track_flowchart(
        {"id": "t", "steps": steps, "transitions": transitions}, None, {}, {}
    )
    svg = render_svg(text, "property", "p")
    tree = ET.fromstring(svg)
    assert len([g for g in tree.iter(f"{SVG}g")]) == len(titles) + 2  # steps, Start, End
    width, height = float(tree.get("width", "0")), float(tree.get("height", "0"))
    for rect in tree.iter(f"{SVG}rect"):
        assert float(rect.get("x", "0")) >= 0 and float(rect.get("y", "0")) >= 0
        assert float(rect.get("x", "0")) + float(rect.get("width", "0")) <= width + 0.5
        assert float(rect.get("y", "0")) + float(rect.get("height", "0")) <= height + 0.5
