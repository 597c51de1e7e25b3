"""The demo story (`make demo`) runs end to end and tells what it promises."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import git
import httpx


def test_demo_tells_the_whole_story(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NO_COLOR": "1", "COLUMNS": "120"}
    result = subprocess.run(
        [sys.executable, "-m", "syncer", "demo", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout + result.stderr
    for promise in ("Seeded Sandbox", "Export", "Apply", "Hotfix", "not overwritten", "Done"):
        assert promise in out
    assert "published in production-eu: nothing" in out
    assert "CONFLICT" in out or "DRIFT" in out
    assert "remote-bp-monitoring: skipped" in out  # the hotfix was not overwritten
    assert (workdir / "report.md").is_file()
    repo = git.Repo(workdir / "repo")
    assert len(list(repo.iter_commits())) == 3  # environments, export, second export
    _the_closing_commands_work(out.split("Done", 1)[1], env, workdir)


def _the_closing_commands_work(closing: str, env: dict[str, str], workdir: Path) -> None:
    """The demo's tenants stopped with it; its last lines say how to start production-eu again and
    run the next step. Follow them as printed: they must work."""
    assert "have stopped" in closing
    commands = [line[2:] for line in closing.splitlines() if line.startswith("$ ")]
    exported, serve, backport = commands
    name, _, value = exported.removeprefix("export ").partition("=")
    shell = {**env, name: value}
    assert serve.endswith(" &")
    server = subprocess.Popen(
        ["bash", "-c", serve.removesuffix(" &")],
        env=shell,
        start_new_session=True,  # its own process group, stopped below by its id
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = serve.split("--port ", 1)[1].split()[0]
        _wait_for(f"http://127.0.0.1:{port}/healthz", server)
        done = subprocess.run(
            ["bash", "-c", backport], env=shell, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Backport of `remote-bp-monitoring`" in done.stdout
        repo = git.Repo(workdir / "repo")
        assert any(h.name.startswith("backport/production-eu/") for h in repo.heads)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert os.environ.get(name) != value  # the key lived only in the commands' environment


def _wait_for(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while True:
        if server.poll() is not None:
            raise AssertionError(f"the tenant did not start: {server.communicate()[1]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer"
        time.sleep(0.1)
