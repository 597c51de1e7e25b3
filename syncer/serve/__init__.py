"""The reconciler as a service (``syncer serve``): schedule and webhook, run history, status page,
metrics and health. docs/operations.md is the operator's guide.

| module | its job |
|---|---|
| ``service`` | settings; one run: record it, reconcile, record what it found; readiness |
| ``engine`` | one reconcile run with the record the service keeps (the reconcile library underneath) |
| ``scheduler`` | one run at a time; a trigger during a run queues one more, never more; the period and jitter |
| ``history`` | the run history (sqlite3), the only module that writes SQL |
| ``records`` | plain data the history keeps and the page and metrics read |
| ``snapshot`` | a finished run as records: flow states after the run, words and diagrams rendered once |
| ``diagram`` | Mermaid flowcharts drawn as SVG on the server |
| ``pages``, ``detail_pages`` | the HTML |
| ``metrics`` | Prometheus metrics on a registry of their own |
| ``webhook`` | GitHub's HMAC signature and push events |
| ``app`` | the Starlette routes, token check and security headers |
| ``server`` | where it may listen, uvicorn, SIGTERM |
"""

from __future__ import annotations

from .server import serve
from .service import Service, Settings, settings_for

__all__ = ["Service", "Settings", "serve", "settings_for"]
