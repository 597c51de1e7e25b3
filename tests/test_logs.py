"""Structured logs: one event per line, JSON or text, run ids across threads, secrets redacted."""

from __future__ import annotations

import io
import json
import logging
import threading
from pathlib import Path

import pytest

from syncer.cli import main
from syncer.report import logs

log = logging.getLogger("syncer.test")


def test_json_events_carry_the_fields_and_the_run_id_in_every_thread() -> None:
    out = io.StringIO()
    assert logs.configure("json", stream=out) == "json"
    with logs.run_context("run-1"):
        logs.event(log, "flow.updated", "updated", environment="eu", flow="intake", revision=4)
        worker = threading.Thread(target=lambda: logs.event(log, "flow.created", flow="x"))
        worker.start()
        worker.join()
    logs.event(log, "after", "no run")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0] | {"time": ""} == {
        "time": "",
        "level": "info",
        "logger": "syncer.test",
        "event": "flow.updated",
        "message": "updated",
        "environment": "eu",
        "flow": "intake",
        "revision": 4,
        "run_id": "run-1",
    }
    assert lines[1]["run_id"] == "run-1" and "run_id" not in lines[2]


def test_text_format_is_one_line_and_quiet_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(logs.ENV_VARIABLE, raising=False)
    out = io.StringIO()
    logs.configure(None, stream=out)
    logs.event(log, "flow.updated", "updated")  # info: not shown by default
    logs.event(log, "flow.failed", "two\nlines", level=logging.WARNING, flow="a b")
    (line,) = out.getvalue().splitlines()
    assert line.endswith('warning flow.failed flow="a b": two | lines')
    monkeypatch.setenv(logs.ENV_VARIABLE, "json")
    assert logs.configure(None, stream=out) == "json"


def test_registered_secrets_never_reach_a_line_whatever_carries_them() -> None:
    out = io.StringIO()
    logs.configure("json", stream=out)
    logs.register_secret("s3cr3t-api-key-value")
    try:
        raise RuntimeError("failed with s3cr3t-api-key-value in it")
    except RuntimeError:
        log.exception("oops s3cr3t-api-key-value")
    logs.event(log, "x", "y", detail="s3cr3t-api-key-value")
    text = out.getvalue()
    assert "s3cr3t-api-key-value" not in text and text.count(logs.REDACTED) >= 3


def test_every_command_takes_log_format_and_a_bad_variable_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "flows").mkdir()
    (tmp_path / "environments").mkdir()
    assert main(["--log-format", "json", "validate", "--repo", str(tmp_path)]) == 0
    assert main(["validate", "--log-format", "text", "--repo", str(tmp_path)]) == 0
    monkeypatch.setenv(logs.ENV_VARIABLE, "yaml")
    assert main(["validate", "--repo", str(tmp_path)]) == 1
    assert "SYNCER_LOG_FORMAT" in capsys.readouterr().err


@pytest.fixture(autouse=True)
def _default_logging() -> object:
    yield
    logs.configure(None)  # the next test in this process gets the default handler back
