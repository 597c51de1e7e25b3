"""User text made safe to show: one line, escaped for Markdown, HTML or a terminal. Pure.

Everything a user typed (titles, keys, values, user names) is untrusted: it is flattened to one line,
stripped of control characters, HTML-escaped, Markdown-escaped and length-capped before it is placed in
text or a table cell; code spans are sized so that content cannot close them. ``Style`` says how a
name, a value, a command or a colour is written in Markdown or in a terminal.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..errors import CONTROL

TITLE_LIMIT = 100  # characters of a title or key shown anywhere
# Parentheses and ``!`` are left alone: they only matter next to ``[``/``]``, which are escaped.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~$])")
_ANSI = {"red": "31", "yellow": "33", "green": "32", "cyan": "36", "dim": "2", "bold": "1"}


def flatten(value: object, limit: int = TITLE_LIMIT) -> str:
    """One line, no control or bidi characters, at most ``limit`` characters (``…`` marks a cut).

    Every user-typed text passes through here before any rendering places it.
    """
    text = " ".join(CONTROL.sub(" ", unicodedata.normalize("NFC", str(value))).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def html_text(value: object, limit: int = TITLE_LIMIT) -> str:
    """User text inside raw HTML (``<summary>``): entities for HTML and for Markdown syntax alike,
    since GitHub may or may not run Markdown there."""
    text = flatten(value, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"[\\`*_\[\]#|~$\"']", lambda m: f"&#{ord(m.group())};", text)
    return text.replace("@", "@\u2060")


def md(value: object, limit: int = TITLE_LIMIT) -> str:
    """User text for Markdown inline text or a table cell: HTML neutralised, syntax escaped.

    ``@`` gets a word joiner so a title like ``@org/team`` never notifies anyone.
    """
    return _escape(flatten(value, limit))


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text).replace("@", "@\u2060")


def code_span(value: object, limit: int = TITLE_LIMIT) -> str:
    """A code span the content cannot close; ``|`` escaped so it is also safe in a table cell."""
    text = flatten(value, limit).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_with_code(value: str, limit: int = 400) -> str:
    """Text we wrote with `code` parts (breaking reasons, notes): code parts kept, the rest escaped."""
    parts = flatten(value, limit).split("`")
    return "".join(code_span(p) if i % 2 else _escape(p) for i, p in enumerate(parts))


@dataclass(frozen=True)
class Style:
    """Markdown or terminal text: how a name, a value, a command or a colour is written."""

    markdown: bool
    color: bool = False

    def name(self, value: object) -> str:
        if not flatten(value):
            return "(untitled)"  # ``**`` would render as two literal stars
        return f"*{md(value)}*" if self.markdown else f"“{flatten(value)}”"

    def text(self, value: object, limit: int = TITLE_LIMIT) -> str:
        return md(value, limit) if self.markdown else flatten(value, limit)

    def code(self, value: object) -> str:
        return code_span(value) if self.markdown else flatten(value)

    def ours(self, value: str, limit: int = 400) -> str:
        if self.markdown:
            return _md_with_code(value, limit)
        return flatten(value, limit).replace("`", "")

    def bold(self, value: str) -> str:
        return f"**{value}**" if self.markdown else self.paint(value, "bold")

    def paint(self, value: str, colour: str) -> str:
        return f"\x1b[{_ANSI[colour]}m{value}\x1b[0m" if self.color and not self.markdown else value
