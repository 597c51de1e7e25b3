"""Re-take the README's screenshot: the demo story with `syncer serve`, shot by headless Chromium.

python -m tests.browser.screenshot docs/status-page.png     (make screenshot)
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from .chromium import FLAGS, chromium_path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_a_run(url: str, demo: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if demo.poll() is not None:
            raise SystemExit(f"the demo exited with {demo.returncode}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("the demo's status page did not become ready")


def main(out: Path) -> int:
    path = chromium_path()
    if path is None:
        print("no Chromium: run .ci/install-browser", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    port = _free_port()
    with tempfile.TemporaryDirectory() as work:
        argv = [sys.executable, "-m", "syncer", "demo", "--workdir", work, "--serve", str(port)]
        demo = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_for_a_run(url, demo)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=path, args=FLAGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(url + "/")
                page.screenshot(path=str(out), full_page=True)
                browser.close()
        finally:
            demo.send_signal(signal.SIGINT)
            demo.wait(60)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/status-page.png")))
