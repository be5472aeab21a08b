"""Writing plan files from the command line: a commented skeleton, and one more step.

Operators do not want to hand-write TOML for a quick question, so
``twin plan new`` writes a skeleton and ``twin plan add`` appends a
``[[step]]`` (validated first; the file is replaced whole, never half-written).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from twin.errors import TwinInputError


def toml_value(value: Any) -> str:
    """A Python value as TOML: strings escaped, numbers, booleans, lists of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    text = str(value)
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def step_text(
    event_type: str,
    data: Mapping[str, Any],
    *,
    label: str | None = None,
    duration: str | None = None,
    reason: str | None = None,
) -> str:
    """The ``[[step]]`` table of one step (with a blank line before it)."""
    lines = ["", "[[step]]"]
    if label:
        lines.append(f"label = {toml_value(label)}")
    if duration:
        lines.append(f"duration = {toml_value(duration)}")
    lines.append(f"type = {toml_value(event_type)}")
    for key, value in data.items():
        lines.append(f"{key} = {toml_value(value)}")
    if reason:
        lines.append(f"reason = {toml_value(reason)}")
    return "\n".join(lines) + "\n"


COMMENT_COLUMN = 23
"""Where the skeleton's end-of-line comments start (0-based), unless a line is longer."""

WIDEST_COMMENTED = 60
"""A line longer than this (a long base path) has its comment on the line above instead."""


def _commented(rows: list[tuple[str, str]]) -> str:
    """``code  # comment`` lines with every comment in one column.

    The column is :data:`COMMENT_COLUMN`, or further right when a line needs it; a
    line too long to share a column (over :data:`WIDEST_COMMENTED`) gets its comment
    on the line above.
    """
    fitting = [len(code) for code, _ in rows if len(code) <= WIDEST_COMMENTED]
    column = max([COMMENT_COLUMN, *(n + 2 for n in fitting)])
    out = []
    for code, comment in rows:
        if len(code) > WIDEST_COMMENTED:
            out += [comment, code]
        else:
            out.append(f"{code.ljust(column)}{comment}")
    return "\n".join(out)


def skeleton(name: str, base: str | None, at: int | None) -> str:
    """A commented plan file to start from."""
    base_line = f"base = {toml_value(base)}" if base else '# base = "prod.db"'
    at_line = f"at = {at}" if at is not None else 'at = "end"'
    head = _commented(
        [
            (base_line, "# a journal or event file, relative to this file"),
            (at_line, '# a seq number, or "end"'),
            ('# profile = "seed"', "# or a profile .toml, relative to this file"),
        ]
    )
    return f"""# A change plan: `twin plan check` applies each [[step]] to a what-if copy of
# the base and checks every [[expect]]. The base is never written. Exit code: 0 all
# hold, 1 an expectation fails, 2 the plan is invalid. Format: docs/plans.md.

[plan]
name = {toml_value(name)}
{head}

# Add steps with `twin plan add PLAN TYPE key=value... --label "…" --duration 20m`,
# or write them here; each is one event of the catalog (docs/events.md):
#
# [[step]]
# label = "drain 1_03"
# duration = "20m"
# type = "member_admin_changed"
# member = "1_03"
# up = false

# Checked after every step unless `after` says otherwise (a step number, a label, "last").
[[expect]]
metric = "convergence.failover_s"   # subject defaults to "system"
below = 1.0
band = true                         # the band's worst end must be below too

[[expect]]
max_severity = "warning"            # no error finding at any step

# [[expect]]
# after = "last"
# metric = "capacity.utilization"
# below = 0.8
#
# [[expect]]
# absent = "convergence.cpu-overload"
"""


def write_whole(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` at once (a temporary file, then a rename).

    Raises:
        TwinInputError: the folder does not exist or cannot be written.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise TwinInputError(f"no such folder {str(folder)!r}", source=str(path))
    temp: str | None = None
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
        temp = None
    except OSError as exc:
        raise TwinInputError(f"cannot write the plan: {exc}", source=str(path)) from None
    finally:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
