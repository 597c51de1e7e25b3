"""Mermaid flowcharts drawn as SVG on the server, so the status page shows them with no script and no
network. Pure: text in, text out.

It reads the subset of Mermaid that ``report.mermaid`` writes (``flowchart TD``; ``id([Start])`` and
``id["label"]`` nodes; ``-->`` and dotted ``-.->`` edges with an optional ``|"label"|``; ``classDef``
and ``class`` lines) and ignores any other line. Layout is layered, as Mermaid's own: a depth-first
search from the start turns loops into back edges, every node gets the layer of its longest path from
the start, the end sits at the bottom, and a few barycentre sweeps order each layer to uncross edges.

Every label is decoded from Mermaid's entity codes and then XML-escaped, so a title such as
``</text><script>`` stays text. Colours use SVG presentation attributes (no ``style``), so the page can
forbid inline styles in its Content-Security-Policy.
"""

from __future__ import annotations

import html
import re
import textwrap
from dataclasses import dataclass, field

WRAP = 26  # characters per label line
CHAR_WIDTH = 7.2  # average advance of a 12 px sans-serif glyph
LINE_HEIGHT = 16
PAD_X, PAD_Y = 14, 9
GAP_X, GAP_Y = 36, 64
MARGIN = 16
DEFAULT_STYLE = {"fill": "#f6f8fa", "stroke": "#57606a", "color": "#1f2328"}
TERMINAL_STYLE = {"fill": "#ddf4ff", "stroke": "#0969da", "color": "#0a3069"}

_NODE = re.compile(r'^\s*(\w+)(\(\[|\[)"?(.*?)"?(\]\)|\])\s*$')
_EDGE = re.compile(r'^\s*(\w+)\s+(-->|-\.->)(?:\|"(.*)"\|)?\s+(\w+)\s*$')
_CLASSDEF = re.compile(r"^\s*classDef\s+(\w+)\s+(.+)$")
_CLASS = re.compile(r"^\s*class\s+([\w,]+)\s+(\w+)\s*$")
_ENTITY = re.compile(r"#(\d+|quot|lt|gt|amp);")
_NAMED = {"quot": '"', "lt": "<", "gt": ">", "amp": "&"}


@dataclass
class Node:
    id: str
    label: str
    terminal: bool = False  # the Start/End pills
    css_class: str = ""
    lines: list[str] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0
    x: float = 0.0  # centre
    y: float = 0.0  # top
    layer: int = 0


@dataclass
class Edge:
    source: str
    target: str
    label: str = ""
    dotted: bool = False


@dataclass
class Chart:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    styles: dict[str, dict[str, str]] = field(default_factory=dict)


def decode(text: str) -> str:
    """Mermaid's entity codes (``#35;``, ``#quot;``) back to characters."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        return _NAMED[code] if code in _NAMED else chr(int(code))

    return _ENTITY.sub(one, text)


def parse(text: str) -> Chart:
    """The nodes, edges and class styles of a flowchart; lines it does not know are skipped."""
    chart = Chart()
    for line in text.splitlines():
        if match := _EDGE.match(line):
            source, arrow, words, target = match.groups()
            chart.edges.append(Edge(source, target, decode(words or ""), arrow == "-.->"))
        elif match := _NODE.match(line):
            node_id, opening, words, _closing = match.groups()
            chart.nodes[node_id] = Node(node_id, decode(words), terminal=opening == "([")
        elif match := _CLASSDEF.match(line):
            chart.styles[match.group(1)] = _style(match.group(2))
        elif match := _CLASS.match(line):
            for node_id in match.group(1).split(","):
                if node_id in chart.nodes:
                    chart.nodes[node_id].css_class = match.group(2)
    for edge in chart.edges:  # an edge may name a node no line declared
        for node_id in (edge.source, edge.target):
            chart.nodes.setdefault(node_id, Node(node_id, node_id))
    return chart


def _style(text: str) -> dict[str, str]:
    style = {}
    for part in text.split(","):
        key, _, value = part.partition(":")
        if key.strip() in ("fill", "stroke", "color", "stroke-dasharray"):
            style[key.strip()] = re.sub(r"[^#\w .-]", "", value.strip())
    return style


def render_svg(text: str, title: str, uid: str = "d") -> str:
    """The flowchart ``text`` as a standalone ``<svg>``; ``uid`` keeps its ids unique in a page."""
    chart = parse(text)
    if not chart.nodes:
        return ""
    rows = _layers(chart)
    _measure(chart)
    height = _place(chart, rows)
    routes = _routes(chart, rows)
    width = (
        max([n.x + n.width / 2 for n in chart.nodes.values()] + [r.right for r in routes]) + MARGIN
    )
    uid = re.sub(r"[^A-Za-z0-9_-]", "_", uid)
    parts = [_header(chart, title, uid, width, height)]
    parts += [_edge(route, uid) for route in routes]
    parts += [_node(chart, node) for node in chart.nodes.values()]
    return "".join(parts) + "</svg>"


def _layers(chart: Chart) -> list[list[str]]:
    forward = _forward_edges(chart)
    layer = dict.fromkeys(chart.nodes, 0)
    order = _topological(chart, forward)
    for node_id in order:
        for edge in forward:
            if edge.source == node_id:
                layer[edge.target] = max(layer[edge.target], layer[node_id] + 1)
    if "track_end" in layer:
        others = [v for k, v in layer.items() if k != "track_end"]
        layer["track_end"] = max([*others, 0]) + 1
    if "track_start" in layer:
        layer["track_start"] = 0
    rows: list[list[str]] = [[] for _ in range(max(layer.values()) + 1)]
    for node_id in chart.nodes:
        rows[layer[node_id]].append(node_id)
    return _uncross([row for row in rows if row], forward)


def _forward_edges(chart: Chart) -> list[Edge]:
    """The edges left once a depth-first search from the start has turned each loop's last edge back."""
    out: dict[str, list[Edge]] = {n: [] for n in chart.nodes}
    for edge in chart.edges:
        out[edge.source].append(edge)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[int] = set()
    roots = ["track_start"] if "track_start" in chart.nodes else []
    for root in [*roots, *chart.nodes]:
        if root in state:
            continue
        stack = [(root, iter(out[root]))]
        state[root] = 1
        while stack:
            node_id, edges = stack[-1]
            step = next(edges, None)
            if step is None:
                state[node_id] = 2
                stack.pop()
            elif state.get(step.target) == 1:
                back.add(id(step))
            elif step.target not in state:
                state[step.target] = 1
                stack.append((step.target, iter(out[step.target])))
    return [e for e in chart.edges if id(e) not in back and e.source != e.target]


def _topological(chart: Chart, forward: list[Edge]) -> list[str]:
    incoming = dict.fromkeys(chart.nodes, 0)
    for edge in forward:
        incoming[edge.target] += 1
    ready = [n for n in chart.nodes if incoming[n] == 0]
    order = []
    while ready:
        node_id = ready.pop(0)
        order.append(node_id)
        for edge in forward:
            if edge.source == node_id:
                incoming[edge.target] -= 1
                if incoming[edge.target] == 0:
                    ready.append(edge.target)
    return order


def _uncross(rows: list[list[str]], forward: list[Edge]) -> list[list[str]]:
    """Barycentre sweeps, down then up: each node moves towards the mean place of its neighbours."""
    for sweep in range(4):
        downwards = sweep % 2 == 0
        sequence = range(1, len(rows)) if downwards else range(len(rows) - 2, -1, -1)
        for index in sequence:
            neighbours = rows[index - 1] if downwards else rows[index + 1]
            rows[index] = _ordered(rows[index], neighbours, forward, downwards)
    return rows


def _ordered(row: list[str], neighbours: list[str], forward: list[Edge], down: bool) -> list[str]:
    place = {n: i for i, n in enumerate(neighbours)}
    near: dict[str, list[int]] = {n: [] for n in row}
    for edge in forward:
        mine, other = (edge.target, edge.source) if down else (edge.source, edge.target)
        if mine in near and other in place:
            near[mine].append(place[other])
    here = {n: i for i, n in enumerate(row)}
    return sorted(row, key=lambda n: sum(near[n]) / len(near[n]) if near[n] else here[n])


def _measure(chart: Chart) -> None:
    for node in chart.nodes.values():
        node.lines = textwrap.wrap(node.label, WRAP, break_long_words=True) or [""]
        longest = max(len(line) for line in node.lines)
        node.width = max(72.0, longest * CHAR_WIDTH + 2 * PAD_X)
        node.height = len(node.lines) * LINE_HEIGHT + 2 * PAD_Y


def _place(chart: Chart, rows: list[list[str]]) -> float:
    """Centre each layer on the widest one, leaving room on the left for the widest edge label;
    returns the height."""
    widths = [sum(chart.nodes[n].width for n in row) + GAP_X * (len(row) - 1) for row in rows]
    labels = [_label_width(e.label) for e in chart.edges if e.label]
    total = max([*widths, max(labels, default=0.0)]) + 2 * MARGIN
    y = float(MARGIN)
    for layer, (row, row_width) in enumerate(zip(rows, widths, strict=True)):
        x = (total - row_width) / 2
        for node_id in row:
            node = chart.nodes[node_id]
            node.x, node.y, node.layer = x + node.width / 2, y, layer
            x += node.width + GAP_X
        y += max(chart.nodes[n].height for n in row) + GAP_Y
    return y - GAP_Y + MARGIN


@dataclass
class Route:
    """How one edge is drawn: its path, where its label goes, and how far right it reaches."""

    path: str
    label: str
    label_x: float
    label_y: float
    anchor: str  # "middle" on a short edge, "start" beside a lane
    dotted: bool
    right: float


def _routes(chart: Chart, rows: list[list[str]]) -> list[Route]:
    """Next-layer edges go straight down; longer and backward edges take a lane to the right of
    the layers they pass, so they never cross a node."""
    lanes = 0
    routes = []
    for edge in chart.edges:
        a, b = chart.nodes[edge.source], chart.nodes[edge.target]
        if b.layer == a.layer + 1:
            routes.append(_straight(edge, a, b))
            continue
        low, high = sorted((a.layer, b.layer))
        passed = [chart.nodes[n] for row in rows[low : high + 1] for n in row]
        lane = max(n.x + n.width / 2 for n in passed) + 24 + 16 * lanes
        lanes += 1
        routes.append(_around(edge, a, b, lane))
    return routes


def _straight(edge: Edge, a: Node, b: Node) -> Route:
    x1, y1, x2, y2 = a.x, a.y + a.height, b.x, b.y
    g = GAP_Y / 2
    path = f"M {x1:.1f} {y1:.1f} C {x1:.1f} {y1 + g:.1f}, {x2:.1f} {y2 - g:.1f}, {x2:.1f} {y2:.1f}"
    # Nearer the target than the source, so the labels of a fan-out sit apart (Bezier at t = 0.65).
    t, u = 0.65, 0.35
    label_x = u**3 * x1 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t**3 * x2
    label_y = u**3 * y1 + 3 * u * u * t * (y1 + g) + 3 * u * t * t * (y2 - g) + t**3 * y2
    right = label_x + _label_width(edge.label) / 2 if edge.label else x2
    return Route(path, edge.label, label_x, label_y, "middle", edge.dotted, right)


def _around(edge: Edge, a: Node, b: Node, lane: float) -> Route:
    x1, y1 = a.x + a.width / 2, a.y + a.height / 2
    x2, y2 = b.x + b.width / 2, b.y + b.height / 2
    turn = 14.0 if y2 > y1 else -14.0
    path = (
        f"M {x1:.1f} {y1:.1f} L {lane - 12:.1f} {y1:.1f} Q {lane:.1f} {y1:.1f}, {lane:.1f} "
        f"{y1 + turn:.1f} L {lane:.1f} {y2 - turn:.1f} Q {lane:.1f} {y2:.1f}, {lane - 12:.1f} "
        f"{y2:.1f} L {x2:.1f} {y2:.1f}"
    )
    label_y = (y1 + y2) / 2
    right = lane + 6 + (_label_width(edge.label) if edge.label else 0)
    return Route(path, edge.label, lane + 6, label_y, "start", edge.dotted, right)


def _label_width(text: str) -> float:
    return len(_short(text)) * 6.4 + 10


def _short(text: str) -> str:
    return textwrap.shorten(text, 40, placeholder="…")


def _header(chart: Chart, title: str, uid: str, width: float, height: float) -> str:
    steps = [n for n in chart.nodes.values() if not n.terminal]
    marked = [f"{n.label}" for n in steps]
    desc = f"{len(steps)} step{'s' if len(steps) != 1 else ''}: " + "; ".join(marked)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" role="img" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'aria-labelledby="{uid}-title {uid}-desc" font-family="system-ui, sans-serif" '
        f'font-size="12"><title id="{uid}-title">{_x(title)}</title>'
        f'<desc id="{uid}-desc">{_x(desc)}</desc>'
        f'<defs><marker id="{uid}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        f'fill="#57606a"/></marker></defs>'
    )


def _edge(route: Route, uid: str) -> str:
    dash = ' stroke-dasharray="5 4"' if route.dotted else ""
    path = (
        f'<path d="{route.path}" fill="none" stroke="#57606a" stroke-width="1.4"{dash} '
        f'marker-end="url(#{uid}-arrow)"/>'
    )
    if not route.label:
        return path
    text, w = _short(route.label), _label_width(route.label)
    left = route.label_x - w / 2 if route.anchor == "middle" else route.label_x
    return path + (
        f'<rect x="{left:.1f}" y="{route.label_y - 9:.1f}" width="{w:.1f}" height="18" rx="3" '
        f'fill="#ffffff" stroke="#d0d7de"/><text x="{left + w / 2:.1f}" '
        f'y="{route.label_y + 4:.1f}" text-anchor="middle" font-size="11" fill="#1f2328">'
        f"{_x(text)}</text>"
    )


def _node(chart: Chart, node: Node) -> str:
    style = {**(TERMINAL_STYLE if node.terminal else DEFAULT_STYLE)}
    style.update(chart.styles.get(node.css_class, {}))
    radius = node.height / 2 if node.terminal else 6
    dash = style.get("stroke-dasharray", "")
    dash_attr = f' stroke-dasharray="{_x(dash)}"' if dash else ""
    state = f' data-state="{_x(node.css_class)}"' if node.css_class else ""
    left = node.x - node.width / 2
    parts = [
        f'<g class="node"{state}><rect x="{left:.1f}" y="{node.y:.1f}" width="{node.width:.1f}" '
        f'height="{node.height:.1f}" rx="{radius:.1f}" fill="{_x(style["fill"])}" '
        f'stroke="{_x(style["stroke"])}" stroke-width="1.5"{dash_attr}/>'
    ]
    for index, line in enumerate(node.lines):
        baseline = node.y + PAD_Y + LINE_HEIGHT * index + 12
        parts.append(
            f'<text x="{node.x:.1f}" y="{baseline:.1f}" text-anchor="middle" '
            f'fill="{_x(style["color"])}">{_x(line)}</text>'
        )
    return "".join(parts) + "</g>"


def _x(text: str) -> str:
    return html.escape(text, quote=True)
