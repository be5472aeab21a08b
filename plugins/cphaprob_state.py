"""Importer ``cphaprob-state``: captures of ``cphaprob state`` / ``show cluster state``.

A file holds one or more captures, each usually after a prompt line
(``[Expert@host:0]# cphaprob state``, ``Member1> show cluster state``) and
perhaps a ``date`` line that says when it was taken. Both header dialects
are read — ``ID  Unique Address  Assigned Load  State  Name`` (R80.40 and
later) and ``Number  Unique Address  Assigned Load  State`` (older, VSLS;
also ``Firewall State (*)``) — with states in either case, ``ACTIVE(!)``,
``ACTIVE!``, ``DOWN``, ``INIT``, ``READY``, ``LOST``, ``STANDBY``,
``BACKUP``; a capture whose whitespace was collapsed onto one line reads
the same.

Consecutive captures are diffed, the first against the journal: a member
whose health changes gets ``member_failed`` (cause: its state and, for the
local member, the active PNOTEs), ``member_recovered`` or
``member_admin_changed``, at the capture's time (its ``date`` line, else the
latest ``Event time`` it prints). Where the capture's own ``Last member state
change event`` or ``Last cluster failover event`` explains the change, the
event takes that block's time and reason. Those blocks are also kept as
``note`` events at their own time (once, although every capture repeats
them), and so is a degraded ``ACTIVE(!)``.

Members are placed by ``--map`` (``2=1_02`` for the ``ID`` column, or the
``Name``), by hostnames (the ``Name`` column, the prompt's host for the
``(local)`` row) or, with ``--create-members``, as ``1_0N`` for member N.
Validated on ClusterXL output from Check Point documentation (R80.40–R82),
not on Maestro itself (where ``g_all -a cphaprob state`` prints one per member).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from plugins._captures import Capture, Timeline, prompt
from plugins._cp_text import STATES, ctime, health, normal_state
from twin.api import ImportContext, Record, TwinInputError, hookimpl

_STATE = STATES
_WHEN = r"(?:[A-Za-z]{3}\s+)?[A-Za-z]{3}\s+[0-9]{1,2}\s+[0-9:]{7,8}(?:\s+[A-Za-z]{2,5})?\s+[0-9]{4}"

HEADER = re.compile(
    r"\b(?P<id>ID|Number)\s+Unique\s+Address\s+(?:Assigned\s+Load\s+)?"
    r"(?:Firewall\s+State\s*\(\*\)|State)(?P<name>\s+Name\b)?",
    re.IGNORECASE,
)
ROW = re.compile(
    r"(?<![0-9.])(?P<num>[0-9]{1,3})\s*(?P<local>\(local\))?\s+"
    r"(?P<ip>[0-9]{1,3}(?:\.[0-9]{1,3}){3})\s+(?:(?P<load>[0-9]{1,3})\s*%\s+)?"
    rf"(?P<state>{_STATE})",
    re.IGNORECASE,
)
NAME_AFTER = re.compile(r"\s+(?P<name>[A-Za-z][A-Za-z0-9._-]*)")
END_OF_TABLE = re.compile(
    r"\b(?:Active\s+PNOTEs|Last\s+member\s+state|Last\s+cluster\s+failover|"
    r"Cluster\s+failover\s+count|Local\s+member\s+is)",
    re.IGNORECASE,
)
PNOTES = re.compile(
    r"Active\s+PNOTEs:\s*(?P<p>.*?)\s*(?=Last\s+member|Last\s+cluster|Cluster\s+failover|"
    r"Local\s+member|\bv\s+Cluster|$)",
    re.IGNORECASE,
)
MEMBER_EVENT = re.compile(
    r"Last\s+member\s+state\s+change\s+event:.*?State\s+change:\s*(?P<a>\S+)\s*->\s*(?P<b>\S+)"
    r"\s+Reason\s+for\s+state\s+change:\s*(?P<r>.*?)\s+Event\s+time:\s*"
    rf"(?P<t>{_WHEN})",
    re.IGNORECASE,
)
FAILOVER_EVENT = re.compile(
    r"Last\s+cluster\s+failover\s+event:\s*Transition\s+to\s+new\s+ACTIVE:\s*Member\s+"
    r"(?P<a>[0-9]+)\s*->\s*Member\s+(?P<b>[0-9]+)\s+Reason:\s*(?P<r>.*?)\s+Event\s+time:\s*"
    rf"(?P<t>{_WHEN})",
    re.IGNORECASE,
)
SINCE = re.compile(rf"Local\s+member\s+is\s+in\s+current\s+state\s+since\s+(?P<t>{_WHEN})", re.I)
COMMAND = re.compile(r"cphaprob(?:\s+-\S+)*\s+state\b|show\s+cluster\s+state", re.IGNORECASE)
MODE = re.compile(r"^\s*Cluster\s+Mode:", re.IGNORECASE)

KNOWN_LINE = re.compile(
    r"^\s*(?:v\s+)?(?:Cluster\s+Mode|Sync\s+Mode|Active\s+PNOTEs|Last\s+member\s+state\s+change"
    r"|Event\s+Code|State\s+change|Reason(?:\s+for\s+state\s+change)?|Event\s+time"
    r"|Last\s+cluster\s+failover|Transition\s+to\s+new\s+ACTIVE|Cluster\s+failover\s+count"
    r"|Failover\s+counter|Time\s+of\s+counter\s+reset|Local\s+member\s+is\s+in\s+current\s+state)\b",
    re.IGNORECASE,
)


def _when(text: str) -> str:
    return " ".join(text.split())


class CphaprobStateImporter:
    """Reads ``cphaprob state`` captures (see the module docstring)."""

    name = "cphaprob-state"
    suffixes: tuple[str, ...] = ()
    summary = (
        "captures of `cphaprob state` / `show cluster state` (both header dialects), "
        "diffed into member failures, recoveries and admin changes"
    )

    def detect(self, sample: str) -> int:
        """High when the sample has the member table's header."""
        if HEADER.search(" ".join(sample.split())):
            return 80 if COMMAND.search(sample) or MODE.search(sample) else 60
        return 0

    def read(self, path: Path) -> Iterator[Record]:
        """Gateway output needs the journal's members: use ``twin import --format``."""
        raise TwinInputError(
            f"read it with `twin import JOURNAL FILE --format {self.name}`", source=str(path)
        )

    def parse(self, lines: Sequence[str], ctx: ImportContext) -> Iterator[Record]:
        """Split the file into captures, then diff them in order."""
        timeline = Timeline(ctx)
        current: Capture | None = None
        last = len(lines)
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            seen = prompt(text)
            if seen is not None:
                host, command = seen
                if current is not None:
                    yield from self._capture(current, timeline)
                    current = None
                if COMMAND.search(command):
                    current = Capture(number, host or None, timeline.take_time())
                    if HEADER.search(command) or MODE.search(command):
                        current.parts.append((number, command))
                else:
                    ctx.understood(number, "prompt line")
                continue
            if timeline.see_time(number, text):
                if current is not None and current.parts:
                    yield from self._capture(current, timeline)
                    current = None
                continue
            if MODE.search(text) and (current is None or _has_table(current)):
                if current is not None:
                    yield from self._capture(current, timeline)
                current = Capture(number, None, timeline.take_time())
            if current is None:
                cut = number == last and ctx.last_line_cut
                ctx.skip(number, "cut off (last line)" if cut else "outside a capture")
                continue
            current.parts.append((number, text))
        if current is not None:
            yield from self._capture(current, timeline)

    def _capture(self, capture: Capture, timeline: Timeline) -> Iterator[Record]:
        ctx = timeline.ctx
        text, marks = capture.joined()
        header = HEADER.search(text)
        for number, part in capture.parts:
            if not (KNOWN_LINE.match(part) or HEADER.search(part) or ROW.search(part)):
                ctx.skip(number, "not part of a cphaprob state capture")
        if ctx.last_line_cut and capture.parts[-1][0] == ctx.report.lines:
            ctx.skip(capture.parts[-1][0], "cut off (last line)")
        if header is None:
            ctx.skip(capture.line, "capture without a member table")
            return
        end = END_OF_TABLE.search(text, header.end())
        table = text[header.end() : end.start() if end else len(text)]
        with_name = header.group("name") is not None
        base = header.end()
        member_event = MEMBER_EVENT.search(text)
        failover = FAILOVER_EVENT.search(text)
        since = SINCE.search(text)
        ts = capture.time
        if ts is None:
            times = [m.group("t") for m in (member_event, failover, since) if m is not None]
            parsed = [ctime(_when(t)) for t in times]
            found = sorted(ctx.utc(p) for p in parsed if p is not None)
            ts = found[-1] if found else None
            if ts is None:
                ctx.remark(
                    f"the capture at line {capture.line} has no time: its events take the "
                    "previous event's time, or the import's in an empty journal (put a `date` "
                    "line before it)"
                )
        pnotes_match = PNOTES.search(text)
        pnotes = (pnotes_match.group("p").strip() if pnotes_match else "") or "None"
        out: list[tuple[str | None, int, dict[str, Any]]] = []
        members: dict[int, str] = {}
        rows = 0
        for row in ROW.finditer(table):
            rows += 1
            line = Capture.line_at(marks, base + row.start(), capture.line)
            name = None
            if with_name:
                after = NAME_AFTER.match(table, row.end())
                if after is not None and not ROW.match(table, after.start() + 1):
                    name = after.group("name")
            local = row.group("local") is not None
            hostname = name or (capture.host if local else None)
            number = int(row.group("num"))
            member = ctx.member(line, number=number, hostname=hostname)
            members[number] = member
            state = normal_state(row.group("state"))
            now = health(state)
            if now is None:
                ctx.skip(line, f"unknown state {state!r}")
                continue
            cause = state
            if local and pnotes.lower() != "none":
                cause = f"{state}: Active PNOTEs: {pnotes}"
            when, why = ts, cause
            if local and member_event is not None and health(member_event.group("b")) == now:
                when = ctx.utc(ctime(_when(member_event.group("t"))) or _never())
                why = f"{normal_state(member_event.group('b'))}: {member_event.group('r').strip()}"
            if (
                failover is not None
                and int(failover.group("a")) == number
                and now != "up"
                and timeline.health_of(member) == "up"
            ):
                when = ctx.utc(ctime(_when(failover.group("t"))) or _never())
                why = f"{state}: {failover.group('r').strip()}"
            changed = list(timeline.change(line, when, member, now, why))
            for record in changed:
                out.append((when, record.line, record.fields))
            if not changed:
                if state.startswith("ACTIVE") and state != "ACTIVE":
                    tail = f" (Active PNOTEs: {pnotes})" if local else ""
                    for record in timeline.note_once(line, ts, f"{member} is {state}{tail}"):
                        out.append((ts, record.line, record.fields))
                else:
                    ctx.understood(line, "member state unchanged")
        if rows == 0:
            ctx.skip(capture.line, "member table without rows")
        for block, kind in ((member_event, "member"), (failover, "failover")):
            if block is None:
                continue
            when = ctx.utc(ctime(_when(block.group("t"))) or _never())
            line = Capture.line_at(marks, block.start(), capture.line)
            if kind == "member":
                own = next((m for n, m in members.items() if _is_local(table, n)), None)
                who = own or "the local member"
                note = f"{who} {block.group('a')} -> {block.group('b')}: {block.group('r').strip()}"
            else:
                a, b = int(block.group("a")), int(block.group("b"))
                names = (members.get(a, f"member {a}"), members.get(b, f"member {b}"))
                note = f"ClusterXL failover {names[0]} -> {names[1]}: {block.group('r').strip()}"
            for record in timeline.note_once(line, when, note):
                out.append((when, record.line, record.fields))
        out.sort(key=lambda item: (item[0] or "", item[1]))
        for _when_ts, line, fields in out:
            yield Record(line, fields)


def _has_table(capture: Capture) -> bool:
    return any(HEADER.search(text) for _n, text in capture.parts)


def _is_local(table: str, number: int) -> bool:
    return re.search(rf"(?<![0-9.]){number}\s*\(local\)", table, re.IGNORECASE) is not None


def _never() -> Any:
    raise TwinInputError("an Event time that is not a date", field="Event time")


@hookimpl
def twin_register_importers() -> list[object]:
    """The ``cphaprob-state`` importer."""
    return [CphaprobStateImporter()]
