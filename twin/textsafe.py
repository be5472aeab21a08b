"""Text from data, made safe to show on a terminal.

Anything read from a journal, an event file, a profile, a plan or a file
name is a stranger's text. Printed raw, it can move the cursor, clear the
screen, set the window title (ESC sequences, C1 controls such as U+009B),
hide or reorder what follows (bidi overrides and isolates such as U+202E,
zero-width and other invisible format characters) or fake extra lines (CR,
LF, U+2028). Every place where text from data reaches a terminal passes it
through :func:`safe_text` first, which shows each such character visibly
escaped (``\\x1b``, ``\\u202e``), the way Python's ``repr`` does.

The second rule lives with the output code, not here (this module imports
no rich or textual): **never pass data through Rich markup**. Print data as
``rich.text.Text(safe_text(value))``, or ``rich.markup.escape(safe_text(value))``
inside a markup string; Textual's ``DataTable`` reads a ``str`` cell as
markup, so give it ``Text`` cells. ``twin.cli._common.shown`` does the CLI's
markup case in one call.

Machine output (JSON) keeps its values: :func:`safe_json` only rewrites the
unsafe characters inside JSON strings as ``\\uXXXX`` escapes, which decode to
the same text.

Ids (member, link, event ids...) may not contain such characters at all:
:func:`first_unsafe` finds one so the event checks can refuse it.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["UNSAFE_CATEGORIES", "first_unsafe", "is_safe", "safe_json", "safe_text"]

UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
"""Unicode categories never shown raw: controls (C0, DEL, C1), format characters
(bidi overrides and isolates, zero-width characters, soft hyphen, BOM), line and
paragraph separators, and lone surrogates."""

_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
_category = unicodedata.category


def _escape(char: str) -> str:
    short = _SHORT.get(char)
    if short is not None:
        return short
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _unsafe(char: str) -> bool:
    return _category(char) in UNSAFE_CATEGORIES


def safe_text(value: object, *, keep_newlines: bool = False) -> str:
    """``str(value)`` with every control, format, bidi and separator character escaped.

    The result holds no character that a terminal acts on or that changes how
    the text around it is displayed; everything else is unchanged (so text that
    is already safe comes back as it is, and applying it twice changes nothing).

    Args:
        value: anything; ``str()`` of it is made safe.
        keep_newlines: keep ``\\n`` as a line break (multi-line text such as a
            pretty-printed envelope); every other character is still escaped.

    Returns:
        The text, safe for a terminal. It may still contain ``[`` and ``]``:
        escape Rich markup separately, or print it as ``rich.text.Text``.
    """
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the fast path: no control, format or separator at all
        return text
    if keep_newlines:
        return "\n".join(safe_text(part) for part in text.split("\n"))
    return "".join(_escape(c) if _unsafe(c) else c for c in text)


def first_unsafe(text: str) -> str | None:
    """The first character of ``text`` that :func:`safe_text` would escape, or None."""
    if text.isprintable():
        return None
    for char in text:
        if _unsafe(char):
            return char
    return None


def is_safe(text: str) -> bool:
    """True if ``text`` holds no control, format, bidi or separator character."""
    return first_unsafe(text) is None


_NON_ASCII = re.compile(r"[\x7f-\U0010ffff]")


def _json_escape(match: re.Match[str]) -> str:
    char = match.group(0)
    if not _unsafe(char):
        return char
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def safe_json(data: bytes) -> bytes:
    """JSON text (UTF-8) with DEL, C1, bidi, format and separator characters as ``\\uXXXX``.

    The JSON encoder already escapes C0 controls; the characters this rewrites
    can only occur inside JSON strings, where the escape decodes to the same
    character, so the document means exactly what it meant.

    Args:
        data: a UTF-8 JSON document, e.g. from ``orjson.dumps``.

    Returns:
        The same document, safe to print on a terminal.
    """
    if data.isascii() and b"\x7f" not in data:
        return data
    return _NON_ASCII.sub(_json_escape, data.decode("utf-8")).encode("utf-8")
