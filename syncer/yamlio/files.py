"""Files in and out, safely: the size limit, strict UTF-8 with a located error, writes that are atomic,
keep a file's mode and never leave the repository through a symbolic link."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ..errors import ConfigError, Problem, ValidationError

MAX_FILE_BYTES = 10 * 1024 * 1024


_TOO_LARGE_HINT = "Split the flow or remove embedded data; care-flow files are text."


def too_large(display: str, size: int | None = None) -> ValidationError:
    what = f"the file is {size} bytes, over" if size is not None else "the file is over"
    return ValidationError(
        [Problem(display, f"{what} the {MAX_FILE_BYTES} byte limit.", hint=_TOO_LARGE_HINT)]
    )


def read_text(path: Path, display: str | None = None) -> str:
    """Read a UTF-8 file no larger than ``MAX_FILE_BYTES``; errors name the file and the place."""
    shown = display or str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ValidationError([Problem(shown, f"cannot read the file: {exc.strerror}.")]) from None
    if size > MAX_FILE_BYTES:
        raise too_large(shown, size)
    return decode(path.read_bytes(), shown)


def decode(raw: bytes, display: str) -> str:
    """Decode UTF-8 strictly; a bad byte is reported with its line and column."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", errors="replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        raise ValidationError(
            [
                Problem(
                    display,
                    f"byte 0x{raw[exc.start]:02x} is not valid UTF-8.",
                    line,
                    column,
                    hint="Save the file as UTF-8.",
                )
            ]
        ) from None


_UMASK = os.umask(0o022)  # read once, at import, before any thread runs; set back at once
os.umask(_UMASK)


def refuse_links_out(root: Path, targets: Iterable[str | Path]) -> None:
    """Refuse, before anything is written, a target (relative to ``root``) that a symbolic link leads
    out of ``root``: a write through ``flows/<key>`` linked elsewhere would change a file outside the
    repository."""
    top = root.resolve()
    for rel in targets:
        target = root / rel
        where = target.resolve()  # follows every link on the way, the file's own included
        if not where.is_relative_to(top):
            raise ConfigError(
                f"{Path(rel).as_posix()} leads outside the repository through a symbolic link (to "
                f"{where}); syncer writes only inside {top}, and nothing was written. Replace the "
                "link with a real folder or file."
            )


def write_text_atomically(target: Path, text: str) -> None:
    """Write to a temporary file beside the target, then rename: a reader never sees half a file.
    The file keeps its mode, or gets the one any new file gets here (``0666`` less the umask), not
    the ``0600`` of a temporary file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mode = 0o666 & ~_UMASK
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
