"""``bench/results.md``: the machine, the data, and one table row per measurement."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from bench.landscape import Size
from bench.measure import PROJECT
from bench.scenarios import MB, Bench


def _bytes(count: float) -> str:
    if count >= MB:
        return f"{count / MB:.1f} MB"
    if count >= 1024:
        return f"{count / 1024:.0f} KB"
    return f"{count:.0f} B"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _project_commit() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "syncer"],
            cwd=PROJECT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{sha}{' + uncommitted changes' if dirty else ''}"


def report(bench: Bench, size: Size, elapsed: float) -> str:
    repo_bytes = sum(p.stat().st_size for p in bench.here.repo.glob("flows/*/flow.yaml"))
    lines = [
        "# syncer benchmark results",
        "",
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {os.cpu_count()} CPUs ({_cpu_model()}), {platform.platform()}",
        f"- Python {platform.python_version()} ({platform.python_implementation()})",
        f"- syncer: commit {_project_commit()}",
        f"- data: {size.flows} generated flows of {size.steps} steps (seed {size.seed}), "
        f"{_bytes(repo_bytes)} of YAML; 3 target tenants; one flow of {size.big_steps} steps",
        "- tenants: reference tenant servers (`syncer tenant serve`, SQLite), one process each, "
        "over HTTP on 127.0.0.1",
        f"- whole run: {elapsed:.0f} s (`make bench`)",
        "",
        "Times are wall-clock seconds of the command inside a fresh process (interpreter start and "
        "imports excluded, see *process* for the whole process); the median of the runs shown. "
        "The floor is the same scenario's unavoidable work with the bare libraries "
        "(`bench/floors.py`); *ratio* is syncer / floor. Peak RSS is the measured process's own "
        "(`ru_maxrss`). Requests and bytes are syncer's, as its HTTP client counts them.",
        "",
        "| scenario | syncer | floor | ratio | process | peak RSS | HTTP requests | sent / received "
        "| targets |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in bench.rows:
        s = row.syncer
        floor = f"{row.floor['wall']:.2f} s" if row.floor else "–"
        ratio = "–" if row.ratio is None else f"{row.ratio:.{2 if row.ratio < 100 else 0}f}×"
        targets = "<br>".join(f"{'✅' if ok else '❌'} {text}" for text, ok in row.targets) or "–"
        runs = f" ({row.runs} runs)" if row.runs > 1 else ""
        rss = f"{s['rss'] / MB:.0f} MB"
        if row.section in ("export", "validate") and s.get("rss_children", 0):
            rss += f" + child processes ({s['rss_children'] / MB:.0f} MB at most)"
        lines.append(
            f"| {row.scenario}{runs} | {s['wall']:.2f} s | {floor} | {ratio} "
            f"| {s['process_wall']:.2f} s | {rss} | {s['requests']} "
            f"| {_bytes(s['bytes_sent'])} / {_bytes(s['bytes_received'])} | {targets} |"
        )
    lines += ["", "Notes and requests by route:", ""]
    for row in bench.rows:
        routes = ", ".join(f"`{k}` {v}" for k, v in sorted(row.syncer.get("routes", {}).items()))
        walls = ", ".join(f"{w:.2f}" for w in row.syncer["walls"])
        floors = ", ".join(f"{w:.2f}" for w in row.floor["walls"]) if row.floor else "–"
        lines.append(
            f"- {row.scenario}: {row.note + '; ' if row.note else ''}runs {walls} s "
            f"(floor {floors} s); {routes or 'no requests'}"
        )
    return "\n".join(lines) + "\n"
