"""Importer ``clusterxl-syslog``: ClusterXL kernel messages from ``/var/log/messages``.

Reads the ``CLUS-NNNNNN`` lines a ClusterXL or Scalable Platform member's
kernel writes to syslog (``Mar 3 02:14:07 [2026] host kernel:
[fw4_2];CLUS-120200-2: text``) and turns them into events at their own time:

- ``State change: A -> B | Reason: …`` (the local member, the syslog host)
  and ``Remote member N (state A -> B) | Reason: …`` (ClusterXL member N):
  ``member_failed`` (with the new state and the reason as the cause),
  ``member_recovered`` or ``member_admin_changed`` when the member's health
  changes (ACTIVE, ACTIVE(!), STANDBY, BACKUP are UP; DOWN, INIT, LOST, READY
  are DOWN; a reason naming ADMIN_DOWN is admin DOWN), otherwise a ``note``
  (e.g. the takeover STANDBY -> ACTIVE);
- ``Starting CUL mode because CPU[-NN] usage (P%) on the local member|remote
  member N …``: a ``load_changed`` of that member with ``cpu_pct`` = P, then a
  ``metric_observed`` of ``load.cpu_pct`` = P (what the gateway measured, judged
  on the twin after that load: it drifts only where the twin cannot show it,
  e.g. a member it has DOWN). One CPU's usage stands for the member's;
- ``Stopping CUL mode after S sec …``: no member was above the threshold for
  the last 10 s, so each member the window raised gets back the CPU the twin
  had for it before the window (the log does not say how far it fell);
- problem notifications (``… PNOTE ON|OFF``), interface ``… is down|up``,
  sync messages and every other ClusterXL code: ``note`` events with the code
  and text (the CLUS code table is not public: messages are matched by text).

Validated on ClusterXL message shapes from Check Point documentation and
community posts (R80.x–R81.x), not on Maestro itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from plugins._cp_text import (
    SYSLOG,
    SYSLOG_ISO,
    TWIN_HEALTH,
    health,
    month,
    normal_state,
    transition,
)
from twin.api import ImportContext, Record, TwinInputError, hookimpl

CLUS = re.compile(
    r"^(?:\[[A-Za-z0-9_]+\];?)?\s*CLUS-(?P<code>[0-9]{4,7})(?:-(?P<instance>[0-9]+))?:\s*(?P<text>.*)$"
)
CUL_START = re.compile(
    r"Starting CUL mode because CPU(?:-(?P<cpu>[0-9]+))? usage \((?P<pct>[0-9]+(?:\.[0-9]+)?)%\) "
    r"on the (?:(?P<local>local member)|remote member (?P<number>[0-9]+))",
    re.IGNORECASE,
)
CUL_STOP = re.compile(r"Stopping CUL mode after (?P<secs>[0-9]+) sec", re.IGNORECASE)
LOCAL_CHANGE = re.compile(
    r"^State change:\s*(?P<before>[A-Za-z!() ]+?)\s*->\s*(?P<after>[A-Za-z!()]+(?: \(admin\))?)"
    r"\s*(?:\|\s*Reason:\s*(?P<reason>.*))?$",
    re.IGNORECASE,
)
REMOTE_CHANGE = re.compile(
    r"^Remote member (?P<number>[0-9]+)\s*\(state\s*(?P<before>[A-Za-z!() ]+?)\s*->\s*"
    r"(?P<after>[A-Za-z!()]+)\)\s*(?:\|\s*Reason:\s*(?P<reason>.*))?$",
    re.IGNORECASE,
)
PNOTE = re.compile(r"\bPNOTE\b", re.IGNORECASE)
INTERFACE = re.compile(r"\binterface\b.*\bis (?:down|up)\b", re.IGNORECASE)
SYNC = re.compile(r"\bsync", re.IGNORECASE)


class ClusterXLSyslogImporter:
    """Reads ClusterXL kernel lines from ``/var/log/messages`` (see the module docstring)."""

    name = "clusterxl-syslog"
    suffixes: tuple[str, ...] = ()
    summary = (
        "/var/log/messages: ClusterXL kernel CLUS-NNNNNN lines (state changes, CUL start/stop "
        "with CPU, pnotes, interfaces, sync)"
    )

    def detect(self, sample: str) -> int:
        """How many of the first lines are ClusterXL kernel lines (0: none)."""
        hits = 0
        for line in sample.splitlines()[:2000]:
            match = SYSLOG.match(line) or SYSLOG_ISO.match(line)
            if match and CLUS.match(match.group("msg")):
                hits += 1
        return 0 if hits == 0 else 50 + min(hits, 49)

    def read(self, path: Path) -> Iterator[Record]:
        """Gateway output needs the journal's members: use ``twin import --format``."""
        raise TwinInputError(
            f"read it with `twin import JOURNAL FILE --format {self.name}` (or any SOURCE "
            f"command with --input-format {self.name})",
            source=str(path),
        )

    def parse(self, lines: Sequence[str], ctx: ImportContext) -> Iterator[Record]:
        """Yield events for the ClusterXL lines; count every other line by kind."""
        run = _Run(ctx)
        last = len(lines)
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            yield from run.line(number, line, cut=number == last and ctx.last_line_cut)


class _Run:
    """One pass over a file: the year in use, member health and open CUL windows."""

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx
        self.year: int | None = None
        self.last_month = 0
        self.health: dict[str, str] = {}
        self.cpu_before: dict[str, float] = {}
        self.cpu_now: dict[str, float] = {}

    def _time(self, number: int, match: re.Match[str]) -> str:
        if "iso" in match.groupdict() and match.groupdict().get("iso"):
            return self.ctx.utc(datetime.fromisoformat(match.group("iso").replace("Z", "+00:00")))
        mon = month(match.group("mon"))
        if mon is None:
            raise TwinInputError(f"not a month: {match.group('mon')!r}", field="time", line=number)
        if match.group("year"):
            year = int(match.group("year"))
        else:
            if self.year is None:
                self.year = self.ctx.year(number)
            elif mon < self.last_month:
                self.year += 1  # a log without years that runs over New Year
            year = self.year
        self.last_month = mon
        hour, minute, second = (int(p) for p in match.group("hms").split(":"))
        try:
            moment = datetime(year, mon, int(match.group("day")), hour, minute, second)
        except ValueError:
            raise TwinInputError(
                "not a valid date", field="time", value=match.group(0)[:20], line=number
            ) from None
        return self.ctx.utc(moment)

    def _health(self, member: str) -> str:
        if member not in self.health:
            self.health[member] = TWIN_HEALTH[self.ctx.member_state(member)]
        return self.health[member]

    def _member(self, number: int, host: str, remote: str | None) -> str:
        if remote is not None:
            return self.ctx.member(number, number=int(remote))
        return self.ctx.member(number, hostname=host)

    def line(self, number: int, line: str, *, cut: bool) -> Iterator[Record]:
        match = SYSLOG.match(line) or SYSLOG_ISO.match(line)
        if not match:
            self.ctx.skip(number, "cut off (last line)" if cut else "not a syslog line")
            return
        if match.group("prog").lower() != "kernel":
            self.ctx.skip(number, "another program's line")
            return
        clus = CLUS.match(match.group("msg"))
        if not clus:
            self.ctx.skip(number, "kernel line without a CLUS code")
            return
        ts = self._time(number, match)
        host = match.group("host")
        code = f"CLUS-{clus.group('code')}"
        text = clus.group("text").strip()
        base: dict[str, Any] = {"ts": ts}
        if start := CUL_START.search(text):
            yield from self._cul_start(number, base, host, start, code)
        elif stop := CUL_STOP.search(text):
            yield from self._cul_stop(number, base, stop)
        elif change := LOCAL_CHANGE.match(text):
            member = self._member(number, host, None)
            yield from self._change(number, base, member, change, code)
        elif change := REMOTE_CHANGE.match(text):
            member = self._member(number, host, change.group("number"))
            yield from self._change(number, base, member, change, code)
        elif cut:
            self.ctx.skip(number, "cut off (last line)")
        else:
            kind = (
                "pnote"
                if PNOTE.search(text)
                else "interface"
                if INTERFACE.search(text)
                else ("sync" if SYNC.search(text) else "other")
            )
            member = self._member(number, host, None)
            note = f"{member} {code} [{kind}]: {text}"
            yield Record(number, {**base, "type": "note", "text": note})

    def _cul_start(
        self, number: int, base: dict[str, Any], host: str, start: re.Match[str], code: str
    ) -> Iterator[Record]:
        member = self._member(number, host, start.group("number"))
        pct = min(100.0, float(start.group("pct")))
        cpu = f"CPU-{start.group('cpu')}" if start.group("cpu") else "CPU"
        if member not in self.cpu_before:
            self.cpu_before[member] = self.cpu_now.get(member, self.ctx.member_cpu(member))
        self.cpu_now[member] = pct
        # The load first, then the observation: it is judged on the twin the line describes
        # (that member at P%), not on the CPU before it (0% on a gateway without load data).
        yield Record(number, {**base, "type": "load_changed", "member": member, "cpu_pct": pct})
        yield Record(
            number,
            {
                **base,
                "type": "metric_observed",
                "subject": f"member:{member}",
                "metric": "load.cpu_pct",
                "value": pct,
                "source": f"{code} CUL start ({cpu} usage)",
            },
        )

    def _cul_stop(self, number: int, base: dict[str, Any], stop: re.Match[str]) -> Iterator[Record]:
        if not self.cpu_before:
            self.ctx.understood(number, "CUL stop without its start in this file")
            return
        for member in sorted(self.cpu_before):
            before = self.cpu_before[member]
            self.cpu_now[member] = before
            yield Record(
                number, {**base, "type": "load_changed", "member": member, "cpu_pct": before}
            )
        self.cpu_before.clear()

    def _change(
        self, number: int, base: dict[str, Any], member: str, change: re.Match[str], code: str
    ) -> Iterator[Record]:
        before, after = normal_state(change.group("before")), normal_state(change.group("after"))
        reason = (change.group("reason") or "").strip()
        now = health(after)
        if now is None:
            self.ctx.skip(number, f"unknown state {after!r}")
            return
        if now == "down" and re.search(r"admin[_ ]?down", reason, re.IGNORECASE):
            now = "admin"
        was = self._health(member)
        event = transition(member, was, now, f"{after}: {reason}" if reason else after)
        if was != "upgrading":
            self.health[member] = now
        if event is None:
            tail = f" ({reason})" if reason else ""
            note = f"{member} {code}: {before} -> {after}{tail}"
            yield Record(number, {**base, "type": "note", "text": note})
            return
        yield Record(number, {**base, **event})


@hookimpl
def twin_register_importers() -> list[object]:
    """The ``clusterxl-syslog`` importer."""
    return [ClusterXLSyslogImporter()]
