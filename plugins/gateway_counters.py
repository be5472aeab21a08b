"""Importer ``gateway-counters``: ``fw tab -s``, ``fw ctl pstat`` and ``cphaprob syncstat``.

Key/value outputs (the notes' second tier) that carry numbers the model
also computes. Each capture follows a prompt line that names its host
(``[Expert@cor-fw01:0]# fw tab -t connections -s``), perhaps after a
``date`` line that says when it was taken; the host is placed on a member
like any other name (``--map``, a member's ``hostname``, ``--create-members``).

- ``fw tab -t connections -s``: the ``connections`` row's ``#VALS`` becomes a
  ``metric_observed`` of ``load.connections`` on that member (``#PEAK`` is
  kept in the source text);
- ``fw ctl pstat``: ``Concurrent Connections: P% (N out of L)`` becomes
  ``load.connections`` = N and ``capacity.connections_max`` = L; the memory
  line is read and kept as a note (the model's memory metrics count other
  things);
- ``cphaprob syncstat`` / ``show cluster statistics sync``: ``Sync status:``
  becomes a ``note``; its counters are read and change nothing.

Validated on a 2010 first-hand capture (``fw tab -s``, ``fw ctl pstat``) and
the R80.20 CLI Reference's ``cphaprob syncstat`` example, not on Maestro.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from plugins._captures import Timeline, prompt
from twin.api import ImportContext, Record, TwinInputError, hookimpl

FW_TAB = re.compile(r"\bfw\s+tab\b.*-s\b", re.IGNORECASE)
PSTAT = re.compile(r"\bfw\s+ctl\s+pstat\b", re.IGNORECASE)
SYNCSTAT = re.compile(
    r"\bcphaprob\s+(?:-\S+\s+)*syncstat\b|show\s+cluster\s+statistics\s+sync", re.I
)
TAB_HEADER = re.compile(r"^\s*HOST\s+NAME\s+ID\s+#VALS\s+#PEAK", re.IGNORECASE)
TAB_ROW = re.compile(
    r"^\s*(?P<host>\S+)\s+(?P<name>connections)\s+(?P<id>[0-9]+)\s+(?P<vals>[0-9]+)\s+"
    r"(?P<peak>[0-9]+)(?:\s+(?P<slinks>[0-9]+))?\s*$",
    re.IGNORECASE,
)
CONCURRENT = re.compile(
    r"Concurrent\s+Connections:\s*(?P<pct>[0-9.]+)%\s*\((?P<now>[0-9]+)\s+out\s+of\s+"
    r"(?P<limit>[0-9]+)\)",
    re.IGNORECASE,
)
MEMORY = re.compile(r"Memory\s+used:\s*(?P<text>.*)$", re.IGNORECASE)
SYNC_STATUS = re.compile(r"^\s*Sync\s+status:\s*(?P<status>.+?)\s*$", re.IGNORECASE)
KNOWN = re.compile(
    r"^\s*(?:Machine\s+Capacity\s+Summary|Aggressive\s+Aging|Delta\s+Sync\s+Statistics|Drops:|"
    r"Sync\s+at\s+risk:|Sent\s+updates:|Received\s+updates:|Queue\s+sizes|Timers:|Reset\s+on\b|"
    r"[A-Za-z][A-Za-z ()/-]+\.{3,}\s*[0-9]+\s*$|[A-Za-z][A-Za-z ()/-]+:\s*$)",
    re.IGNORECASE,
)


class GatewayCountersImporter:
    """Reads ``fw tab -s``, ``fw ctl pstat`` and ``cphaprob syncstat`` captures."""

    name = "gateway-counters"
    suffixes: tuple[str, ...] = ()
    summary = (
        "captures of `fw tab -t connections -s`, `fw ctl pstat` and `cphaprob syncstat`: "
        "connections and their limit as observed metrics, sync status as notes"
    )

    def detect(self, sample: str) -> int:
        """Sure when a capture's command or table is there."""
        hits = sum(
            1
            for pattern in (TAB_HEADER, CONCURRENT, SYNC_STATUS)
            if any(pattern.search(line) for line in sample.splitlines())
        )
        return 0 if hits == 0 else 70 + hits

    def read(self, path: Path) -> Iterator[Record]:
        """Gateway output needs the journal's members: use ``twin import --format``."""
        raise TwinInputError(
            f"read it with `twin import JOURNAL FILE --format {self.name}`", source=str(path)
        )

    def parse(self, lines: Sequence[str], ctx: ImportContext) -> Iterator[Record]:
        """One capture at a time: the prompt names the host and the command."""
        timeline = Timeline(ctx)
        host: str | None = None
        command = ""
        ts: str | None = None
        last = len(lines)
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            seen = prompt(text)
            if seen is not None:
                host, command = (seen[0] or None), seen[1]
                ts = timeline.take_time()
                if not (
                    FW_TAB.search(command) or PSTAT.search(command) or SYNCSTAT.search(command)
                ):
                    ctx.understood(number, "prompt line")
                continue
            if timeline.see_time(number, text):
                continue
            cut = number == last and ctx.last_line_cut
            yield from self._line(number, text, host, command, ts, ctx, cut)

    def _line(
        self,
        number: int,
        text: str,
        host: str | None,
        command: str,
        ts: str | None,
        ctx: ImportContext,
        cut: bool,
    ) -> Iterator[Record]:
        base: dict[str, Any] = {} if ts is None else {"ts": ts}
        row = TAB_ROW.match(text)
        concurrent = CONCURRENT.search(text)
        status = SYNC_STATUS.match(text)
        if not (row or concurrent or status or MEMORY.search(text)):
            if TAB_HEADER.match(text) or KNOWN.match(text):
                ctx.understood(number, "counter or heading")
            else:
                ctx.skip(number, "cut off (last line)" if cut else "not a counter line")
            return
        if host is None:
            ctx.skip(number, "no prompt line names the host")
            return
        member = ctx.member(number, hostname=host)
        subject = f"member:{member}"
        if row is not None:
            yield Record(
                number,
                {
                    **base,
                    "type": "metric_observed",
                    "subject": subject,
                    "metric": "load.connections",
                    "value": int(row.group("vals")),
                    "source": f"fw tab -t connections -s (#VALS; #PEAK {row.group('peak')})",
                },
            )
        elif concurrent is not None:
            for metric, value in (
                ("load.connections", int(concurrent.group("now"))),
                ("capacity.connections_max", int(concurrent.group("limit"))),
            ):
                yield Record(
                    number,
                    {
                        **base,
                        "type": "metric_observed",
                        "subject": subject,
                        "metric": metric,
                        "value": value,
                        "source": "fw ctl pstat (Concurrent Connections)",
                    },
                )
        elif status is not None:
            note = f"{member} sync status: {status.group('status')}"
            yield Record(number, {**base, "type": "note", "text": note})
        else:
            memory = MEMORY.search(text)
            assert memory is not None
            note = f"{member} fw ctl pstat memory used: {memory.group('text').strip()}"
            yield Record(number, {**base, "type": "note", "text": note})


@hookimpl
def twin_register_importers() -> list[object]:
    """The ``gateway-counters`` importer."""
    return [GatewayCountersImporter()]
