"""Importer ``asg-stat``: captures of ``asg stat -v`` (Scalable Platform, Maestro's ancestor).

Each capture has a block per site (``| Chassis 1   STANDBY |``; ``Site 1``
is read too) with rows ``| SGM ID  State  Process  Policy Date |``: the
SGM ID is the slot in that chassis (or a full ``<site>_<member>`` id), the
state ``UP``, ``DOWN``, ``DOWN (admin)`` or ``DETACHED``. Cells are split on
``|`` and then on runs of spaces, so a capture whose whitespace was
collapsed reads the same.

Consecutive captures are diffed, the first against the journal:
``member_failed`` / ``member_recovered`` / ``member_admin_changed`` for a
member whose state changes, and ``site_failover`` when another site is
ACTIVE, at the capture's time (the ``date`` line before it; a capture
without one takes the previous event's time). Members are the ids the
output prints (chassis 1, SGM 3 is ``1_03``); ``--create-members`` adds the
ones the journal lacks, at that site. Validated on the R76SP documentation's
example (61000/41000 chassis), not on Maestro output, which no public source
shows verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from plugins._captures import Capture, Timeline, prompt
from plugins._cp_text import health, normal_state
from twin.api import ImportContext, Record, TwinInputError, hookimpl

SITE_HEADER = re.compile(
    r"^(?:Chassis|Site)\s+(?P<site>[0-9]+)\s+(?P<state>ACTIVE|STANDBY)\b", re.I
)
ROW_HEADER = re.compile(r"^(?:SGM|Member)\s+ID\s+State\b", re.IGNORECASE)
ROW = re.compile(
    r"^(?P<id>[0-9]+(?:_[0-9]+)?)\s*(?P<local>\(local\))?\s+(?P<state>DOWN\s*\(admin\)|UP|DOWN|"
    r"DETACHED)(?=\s|$)(?:\s+(?P<process>.*?))?$",
    re.IGNORECASE,
)
COMMAND = re.compile(r"\basg\s+stat\b", re.IGNORECASE)
POLICY_DATE = re.compile(
    r"\s*\b(?:NA|[0-9]{1,2}[A-Za-z]{3}[0-9]{2,4}(?:\s+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?)$"
)
OTHER_CELL = re.compile(r"^(?:VSX\s+)?System\s+Status|^VS\s+ID:|^-+$", re.IGNORECASE)


def _cells(text: str) -> list[str]:
    """The ``|``-separated cells of a line, whitespace collapsed, empty ones dropped."""
    return [" ".join(c.split()) for c in text.split("|") if c.strip()]


def _dashes(text: str) -> bool:
    return bool(re.fullmatch(r"[\s|+=-]*-[\s|+=-]*", text))


class AsgStatImporter:
    """Reads ``asg stat -v`` captures (see the module docstring)."""

    name = "asg-stat"
    suffixes: tuple[str, ...] = ()
    summary = (
        "captures of `asg stat -v` (per-site ACTIVE/STANDBY blocks, SGM rows), diffed into "
        "member failures, recoveries, admin changes and site failovers"
    )

    def detect(self, sample: str) -> int:
        """High when the sample has a site block and an SGM row header."""
        flat = [cell for line in sample.splitlines() for cell in _cells(line)]
        sites = any(SITE_HEADER.match(c) for c in flat)
        rows = any(ROW_HEADER.match(c) for c in flat)
        if sites and rows:
            return 90
        return 40 if rows and COMMAND.search(sample) else 0

    def read(self, path: Path) -> Iterator[Record]:
        """Gateway output needs the journal's members: use ``twin import --format``."""
        raise TwinInputError(
            f"read it with `twin import JOURNAL FILE --format {self.name}`", source=str(path)
        )

    def parse(self, lines: Sequence[str], ctx: ImportContext) -> Iterator[Record]:
        """Split into captures (prompt, date line, or a site seen twice), then diff them."""
        timeline = Timeline(ctx)
        run = _Run(ctx, timeline)
        last = len(lines)
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            seen = prompt(text)
            if seen is not None:
                yield from run.close()
                if COMMAND.search(seen[1]):
                    run.open(number, seen[0])
                    for cell in _cells(seen[1])[1:]:
                        yield from run.cell(number, cell, cut=False)
                else:
                    ctx.understood(number, "prompt line")
                continue
            if timeline.see_time(number, text):
                yield from run.close()
                continue
            if _dashes(text):
                continue
            cells = _cells(text)
            cut = number == last and ctx.last_line_cut
            for cell in cells:
                yield from run.cell(number, cell, cut=cut)
        yield from run.close()


class _Run:
    """The capture being read: its site blocks and rows."""

    def __init__(self, ctx: ImportContext, timeline: Timeline) -> None:
        self.ctx = ctx
        self.timeline = timeline
        self.capture: Capture | None = None
        self.site: int | None = None
        self.active: int | None = None
        self.sites_seen: set[int] = set()
        self.pending: list[Record] = []
        self.twin_active: int | None = ctx.state.active_site

    def open(self, number: int, host: str | None) -> None:
        self.capture = Capture(number, host or None, self.timeline.take_time())
        self.site, self.active, self.sites_seen, self.pending = None, None, set(), []

    def close(self) -> Iterator[Record]:
        if self.capture is None:
            return
        yield from self.pending
        if self.active is not None and self.active != self._twin_active():
            record = {"type": "site_failover", "site": self.active}
            if self.capture.time is not None:
                record = {"ts": self.capture.time, **record}
            yield Record(self.capture.line, record)
            self.twin_active = self.active
        if self.capture.time is None:
            self.ctx.remark(
                f"the capture at line {self.capture.line} has no time: its events take the "
                "previous event's time, or the import's in an empty journal (put a `date` "
                "line before it)"
            )
        self.capture = None

    def _twin_active(self) -> int | None:
        if self.twin_active is None:
            # The first site the import creates becomes the ACTIVE one (site_added).
            created = sorted(int(m.partition("_")[0]) for m in self.ctx.report.created)
            return created[0] if created else None
        return self.twin_active

    def cell(self, number: int, cell: str, *, cut: bool) -> Iterator[Record]:
        site = SITE_HEADER.match(cell)
        if site is not None:
            site_no = int(site.group("site"))
            if self.capture is None or site_no in self.sites_seen:
                yield from self.close()
                self.open(number, None)
            assert self.capture is not None
            self.sites_seen.add(site_no)
            self.site = site_no
            if site.group("state").upper() == "ACTIVE":
                self.active = site_no
            return
        if ROW_HEADER.match(cell) or OTHER_CELL.match(cell):
            self.ctx.understood(number, "header")
            return
        row = ROW.match(cell)
        if row is None or self.capture is None or self.site is None:
            kind = (
                "cut off (last line)"
                if cut
                else ("outside a capture" if self.capture is None else "not an asg stat row")
            )
            self.ctx.skip(number, kind)
            return
        ident = row.group("id")
        member_id = ident if "_" in ident else f"{self.site}_{int(ident):02d}"
        hostname = self.capture.host if row.group("local") else None
        member = self.ctx.member(
            number, member_id=member_id, hostname=hostname, site=int(member_id.partition("_")[0])
        )
        state = normal_state(row.group("state"))
        now = "down" if state == "DETACHED" else health(state)
        if now is None:
            self.ctx.skip(number, f"unknown state {state!r}")
            return
        process = POLICY_DATE.sub("", (row.group("process") or "").strip())
        cause = f"{state} ({process})" if process and now == "down" else state
        changed = list(self.timeline.change(number, self.capture.time, member, now, cause))
        if not changed:
            self.ctx.understood(number, "member state unchanged")
        self.pending.extend(changed)


@hookimpl
def twin_register_importers() -> list[object]:
    """The ``asg-stat`` importer."""
    return [AsgStatImporter()]
