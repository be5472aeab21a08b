"""Input files the twin reads: regular files only, of a bounded size, decoded strictly.

An event file, topology, profile or plan path may point anywhere: a symlink
to ``/dev/zero`` reads forever (or dies with MemoryError), a FIFO blocks
forever, a huge file fills memory. Every reader of user input goes through
:func:`check_input_file` (or :func:`read_input_text`, which also decodes), so
each of those is one line, exit 2, before anything is read.

Limits can be raised with the environment variable ``TWIN_MAX_INPUT_MB``
(megabytes, for every kind of input file).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from twin.errors import TwinInputError

MB = 1_000_000

EVENT_FILE_LIMIT = 4_096 * MB
"""Default largest event file (streamed, so the limit is about time, not memory)."""

DOCUMENT_LIMIT = 16 * MB
"""Default largest TOML document (topology, profile, plan: read whole)."""

LIMIT_ENV = "TWIN_MAX_INPUT_MB"


def _size(count: int) -> str:
    """``12.3 MB``, ``4 kB``, ``512 bytes``."""
    if count >= MB:
        return f"{count / MB:,.1f} MB".replace(".0 MB", " MB")
    if count >= 1000:
        return f"{count / 1000:,.1f} kB".replace(".0 kB", " kB")
    return f"{count} bytes"


def limit_for(default: int) -> int:
    """The size limit in bytes: ``TWIN_MAX_INPUT_MB`` if set, else ``default``.

    Raises:
        TwinInputError: ``TWIN_MAX_INPUT_MB`` is not a positive number.
    """
    raw = os.environ.get(LIMIT_ENV, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < 1e9:
        raise TwinInputError(
            "must be a number of megabytes greater than 0", field=LIMIT_ENV, value=raw
        )
    return int(value * MB)


def _a(what: str) -> str:
    """``what`` with its indefinite article: "an event file", "a profile"."""
    return f"{'an' if what[:1].lower() in 'aeiou' else 'a'} {what}"


def check_input_file(path: str | Path, what: str, *, limit: int | None = EVENT_FILE_LIMIT) -> Path:
    """``path`` if it is a regular file no larger than the limit; else one clear error.

    Symlinks are followed: a link to a regular file is fine, a link to a device is not.

    Args:
        path: the file given.
        what: what it should be, for messages ("event file", "profile"...).
        limit: the default size limit in bytes (``TWIN_MAX_INPUT_MB`` overrides it);
            None for no limit (a journal, which is never read whole).

    Raises:
        TwinInputError: missing, not a regular file (a folder, device, FIFO or
            socket), unreadable, or too large.
    """
    file = Path(path)
    shown = str(path)
    try:
        info = file.stat()
    except FileNotFoundError:
        missing = "no such file" if " or " in what else f"no such {what}"
        raise TwinInputError(missing, source=shown) from None
    except OSError as exc:
        raise TwinInputError(f"cannot read the {what}: {exc.strerror}", source=shown) from None
    if stat.S_ISDIR(info.st_mode):
        raise TwinInputError(f"is a folder, not {_a(what)}", source=shown)
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a FIFO (named pipe)"
            if stat.S_ISFIFO(info.st_mode)
            else "a device"
            if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
            else "a socket"
            if stat.S_ISSOCK(info.st_mode)
            else "not a regular file"
        )
        raise TwinInputError(f"is {kind}; {_a(what)} must be a regular file", source=shown)
    if limit is None:
        return file
    allowed = limit_for(limit)
    if info.st_size > allowed:
        raise TwinInputError(
            f"is {_size(info.st_size)}, larger than the {_size(allowed)} limit for {what}s; "
            f"raise it with {LIMIT_ENV}=<megabytes>",
            source=shown,
        )
    return file


def read_input_text(path: str | Path, what: str, *, limit: int = DOCUMENT_LIMIT) -> str:
    """The whole text of a small input file (UTF-8; a leading BOM is ignored).

    Raises:
        TwinInputError: as :func:`check_input_file`, or the file is not UTF-8 text
            (naming the line of the first bad byte).
    """
    file = check_input_file(path, what, limit=limit)
    allowed = limit_for(limit)
    shown = str(path)
    try:
        with file.open("rb") as handle:
            data = handle.read(allowed + 1)
    except OSError as exc:
        raise TwinInputError(f"cannot read the {what}: {exc.strerror}", source=shown) from None
    if len(data) > allowed:  # it grew while we looked
        raise TwinInputError(
            f"is larger than the {_size(allowed)} limit for {what}s; "
            f"raise it with {LIMIT_ENV}=<megabytes>",
            source=shown,
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TwinInputError(
            f"cannot read the {what}: it is not UTF-8 text (byte 0x{data[exc.start]:02x} "
            "cannot be decoded); save it as UTF-8",
            source=shown,
            line=line,
        ) from None
