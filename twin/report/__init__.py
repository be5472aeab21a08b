"""Postmortem reports: ``twin report SOURCE -o FILE.html|FILE.md``.

:func:`build_report` gathers what the report says (:mod:`twin.report.model`);
:func:`write_report` draws the plots (:mod:`twin.report.plots`) and writes
one self-contained HTML file (SVG inline) or a Markdown file with PNGs beside
it. Files are written whole or not at all: everything goes to temporary
files that are renamed into place at the end.

Example::

    with open_source("examples/incident-0412.jsonl", manager) as src:
        report = build_report(src, manager, manager.profile())
    written = write_report(report, Path("inc-0412.html"))
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twin.errors import TwinInputError
from twin.report.model import Comparison, ParameterRow, Report, build_report

__all__ = [
    "FORMATS",
    "Comparison",
    "ParameterRow",
    "Report",
    "build_report",
    "check_output",
    "write_report",
]

FORMATS = (".html", ".htm", ".md")


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _atomic(files: dict[Path, bytes]) -> None:
    """Write every file to a temporary name first, then rename them all into place."""
    temps: list[tuple[Path, Path]] = []
    try:
        for path, data in files.items():
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            temps.append((Path(name), path))
        mode = 0o666 & ~_umask()
        for temp, path in temps:
            os.chmod(temp, mode)  # mkstemp makes 0600; a report is an ordinary file
            os.replace(temp, path)
    except BaseException:
        for temp, _path in temps:
            temp.unlink(missing_ok=True)
        raise


def check_output(path: Path) -> None:
    """Refuse an output the report cannot be written to (before any work is done).

    Raises:
        TwinInputError: a suffix other than .html/.md, or a folder that does not exist.
    """
    if path.suffix.lower() not in FORMATS:
        raise TwinInputError(
            "the report is HTML or Markdown: name it FILE.html or FILE.md",
            field="-o",
            value=str(path),
        )
    if not path.parent.is_dir():
        raise TwinInputError(f"no such folder {str(path.parent)!r}", field="-o", value=str(path))


def write_report(
    report: Report, path: Path, *, tick: Callable[[int, int], Any] | None = None
) -> list[Path]:
    """Draw and write ``report`` to ``path`` (``.html`` or ``.md``); return the files written.

    Raises:
        TwinInputError: another suffix, or a folder that does not exist.
    """
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise TwinInputError(
            "the report is HTML or Markdown: name it FILE.html or FILE.md",
            field="-o",
            value=str(path),
        )
    if not path.parent.is_dir():
        raise TwinInputError(f"no such folder {str(path.parent)!r}", field="-o", value=str(path))
    from twin.report import html, markdown, plots  # matplotlib loads only when a report is drawn

    if suffix in (".html", ".htm"):
        drawn = plots.draw(report, svg=True, png=False, tick=tick)
        files = {path: html.render(report, drawn).encode("utf-8")}
    else:
        drawn = plots.draw(report, svg=False, png=True, tick=tick)
        stem = path.stem
        files = {path.parent / markdown.png_name(stem, p): p.png for p in drawn}
        files[path] = markdown.render(report, drawn, stem).encode("utf-8")
    _atomic(files)
    return sorted(files)
