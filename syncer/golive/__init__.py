"""Going live (docs/go-live.md): the preflight checklist, publishing, and the ids integrations need.

The face is the checklist's vocabulary, pure data (``items``); the pure checks are in ``checks``. What
reads tenants lives beside them: ``gather`` (what preflight reads, then checks), ``publish`` (publishing
at exactly the checked revision) and ``ids`` (the ids manifest). Renderings are in
``syncer.report.checklist`` and ``syncer.report.ids``.
"""

from __future__ import annotations

from .items import LEVELS, EnvironmentChecklist, FlowChecklist, Item, Level, count_levels, fix_text

__all__ = [
    "LEVELS",
    "EnvironmentChecklist",
    "FlowChecklist",
    "Item",
    "Level",
    "count_levels",
    "fix_text",
]
