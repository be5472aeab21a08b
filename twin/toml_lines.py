"""Where things are in a TOML file: table headers and keys with their line numbers.

``tomllib`` parses TOML but forgets where each value was. Input files (topology
files, plan files) must name the line of a bad key, so :func:`scan` walks the
(valid) text once and records the line of every table header and key,
following strings (multi-line ones too) and comments so that a ``key =`` inside
a string is never taken for a key.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import attrs

from twin.errors import TwinInputError

_BARE = r"[A-Za-z0-9_-]+"
_NAME = rf"(?:{_BARE}|\"[^\"]*\"|'[^']*')"
_ARRAY_HEADER = re.compile(rf"\[\[\s*({_NAME}(?:\s*\.\s*{_NAME})*)\s*\]\]")
_TABLE_HEADER = re.compile(rf"\[\s*({_NAME}(?:\s*\.\s*{_NAME})*)\s*\]")
_KEY = re.compile(rf"({_NAME})\s*[=.]")
_TOML_LINE = re.compile(r"at line (\d+)")


@attrs.define
class TomlTable:
    """Where one table sits in the file: its header line and the lines of its keys.

    Attributes:
        name: the dotted header name (``step``, ``step.expect``); ``""`` for the root.
        array: True for an ``[[array]]`` header.
        line: the header's line (1 for the root table).
        keys: each key's first line within this table.
    """

    name: str
    array: bool
    line: int
    keys: dict[str, int] = attrs.field(factory=dict)


def unquote(name: str) -> str:
    """A TOML key or header part without its quotes."""
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
        return name[1:-1]
    return name


def _header_name(raw: str) -> str:
    return ".".join(unquote(part) for part in re.split(r"\s*\.\s*", raw.strip()))


def _string_state(line: str, open_quote: str | None) -> str | None:
    """Follow TOML strings and comments across one line.

    Args:
        line: the line's text.
        open_quote: the multi-line string delimiter open at the start of the line, if any.

    Returns:
        The multi-line string delimiter still open at the end of the line, if any.
    """
    i = 0
    n = len(line)
    while i < n:
        if open_quote is not None:
            end = line.find(open_quote, i)
            if open_quote == '"""':
                # skip escaped characters inside a multi-line basic string
                while end != -1 and _escaped(line, end):
                    end = line.find(open_quote, end + 1)
            if end == -1:
                return open_quote
            i = end + 3
            while i < n and line[i] == open_quote[0]:  # up to two quotes may end the string
                i += 1
            open_quote = None
            continue
        char = line[i]
        if char == "#":
            return None
        if line.startswith('"""', i) or line.startswith("'''", i):
            open_quote = line[i : i + 3]
            i += 3
        elif char == '"':
            i += 1
            while i < n and line[i] != '"':
                i += 2 if line[i] == "\\" else 1
            i += 1
        elif char == "'":
            end = line.find("'", i + 1)
            i = n if end == -1 else end + 1
        else:
            i += 1
    return open_quote


def _escaped(line: str, index: int) -> bool:
    backslashes = 0
    while index - backslashes - 1 >= 0 and line[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def scan(text: str) -> list[TomlTable]:
    """Find every table header and key in a (valid) TOML text, with its line number.

    The first entry is the root table (line 1): keys given before any header;
    then one entry per header, in file order.
    """
    tables = [TomlTable("", False, 1)]
    open_quote: str | None = None
    for number, line in enumerate(text.split("\n"), start=1):  # TOML counts \n only
        if open_quote is None:
            stripped = line.lstrip()
            array = _ARRAY_HEADER.match(stripped)
            table = None if array else _TABLE_HEADER.match(stripped)
            if array or table:
                match = array or table
                assert match is not None
                tables.append(TomlTable(_header_name(match.group(1)), bool(array), number))
            else:
                key = _KEY.match(stripped)
                if key:
                    tables[-1].keys.setdefault(unquote(key.group(1)), number)
        open_quote = _string_state(line, open_quote)
    return tables


def parse_toml(text: str, shown: str) -> dict[str, Any]:
    """Parse TOML text; a syntax error becomes one located line (``file:line: not valid TOML``).

    Raises:
        TwinInputError: the text is not valid TOML, or is nested too deeply to read.
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        raise TwinInputError(
            f"not valid TOML: {exc}", source=shown, line=int(found.group(1)) if found else None
        ) from None
    except RecursionError:
        raise TwinInputError(
            "not valid here: arrays or tables nested too deeply to read", source=shown
        ) from None
