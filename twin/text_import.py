"""Importing what gateways print: text importers, member placement and the import report.

An event file (``.jsonl``, ``.csv``) already holds events. What a Check Point
gateway prints — ``/var/log/messages``, ``cphaprob state``, ``asg stat -v`` —
holds facts about members named the way the gateway names them (a syslog
host, a ClusterXL member number, a ``<chassis>_<slot>`` id). A *text
importer* (registered with ``twin_register_importers``, like any importer)
reads such text; this module gives it what it needs and turns what it yields
into events:

- :class:`ImportOptions`: ``--map NAME=MEMBER``, ``--create-members``,
  ``--year``, ``--tz``, ``--strict`` as the user gave them;
- :class:`ImportContext`: handed to the importer's ``parse(lines, ctx)``. It
  places a name on a member of the journal (:meth:`ImportContext.member`),
  knows the journal's state at the point of import, turns gateway times into
  UTC, and counts every line that did not become an event, by kind
  (:meth:`ImportContext.skip`, :meth:`ImportContext.understood`);
- :func:`import_text`: runs an importer on a file and returns the events
  (members created first when ``--create-members`` asks for them) and an
  :class:`ImportReport` for people.

A text importer is an object with ``name``, ``suffixes`` (usually empty: it
is chosen by ``--format`` or by content), ``summary``, ``detect(sample) ->
int`` (0: not this format; higher: more certain) and ``parse(lines, ctx)``
yielding :class:`~twin.event_files.Record` objects (``type``, ``ts`` and the
data fields, with the member ids ``ctx.member`` returned).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import orjson

from twin.errors import TwinInputError
from twin.event_files import Importer, NewEvent, Record, to_new_event
from twin.events import MEMBER_ID, EventRegistry
from twin.input_files import check_input_file
from twin.state import UP, TwinState, member_sort_key

SAMPLE_CHARS = 65536
"""How much of a file :func:`detect_format` shows each importer's ``detect``."""

REASON_CHARS = 240
"""Longest source line kept in an imported event's ``reason``."""

_HOST_ID = re.compile(r"-ch0*([1-9][0-9]*)-0*([0-9]+)$", re.IGNORECASE)
"""Scalable Platform / Maestro member hostnames end in ``-ch<site>-<member>`` (``gw-ch01-02``)."""

_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])([0-9]{1,2}):?([0-9]{2})?$", re.IGNORECASE)


@runtime_checkable
class TextImporter(Protocol):
    """An importer of text a gateway prints (register it with ``twin_register_importers``).

    Attributes:
        name: the format's name (``--format NAME``, ``twin import --list-formats``).
        suffixes: file name endings it claims (usually none: chosen by content).
        summary: one line on what it reads, shown by ``--list-formats``.
    """

    name: str
    suffixes: tuple[str, ...]
    summary: str

    def detect(self, sample: str) -> int:
        """How sure it is that ``sample`` (the start of a file) is its format: 0 = not at all."""

    def parse(self, lines: Sequence[str], ctx: ImportContext) -> Iterator[Record]:
        """Yield the records (``type``, ``ts``, data fields) that ``lines`` hold, in order.

        ``lines`` are the file's lines without their line ends; record line
        numbers are 1-based indexes into it. Every line that yields nothing is
        reported with ``ctx.skip`` or ``ctx.understood``.
        """

    def read(self, path: Path) -> Iterator[Record]:
        """The plain importer interface: refuse, pointing at ``twin import --format``."""


def is_text_importer(importer: object) -> bool:
    """True if ``importer`` reads gateway text (has ``detect`` and ``parse``)."""
    return callable(getattr(importer, "detect", None)) and callable(
        getattr(importer, "parse", None)
    )


def parse_zone(text: str | None) -> tzinfo | None:
    """``--tz``: an IANA zone (``Europe/Berlin``), ``UTC``, or an offset (``+02:00``).

    Raises:
        TwinInputError: an unknown zone.
    """
    if text is None:
        return None
    text = text.strip()
    if text.upper() in ("UTC", "GMT", "Z"):
        return UTC
    match = _OFFSET.match(text)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        hours, minutes = int(match.group(2)), int(match.group(3) or 0)
        if hours > 14 or minutes > 59:
            raise TwinInputError("offset out of range", field="--tz", value=text)
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise TwinInputError(
            "unknown time zone; give an IANA name such as Europe/Berlin, UTC, or +02:00",
            field="--tz",
            value=text,
        ) from None


def parse_map(items: Iterable[str]) -> dict[str, str]:
    """``--map NAME=MEMBER`` items as a dict keyed by lower-case NAME.

    Raises:
        TwinInputError: an item without ``=``, or a MEMBER that is not a member id.
    """
    table: dict[str, str] = {}
    for item in items:
        name, sep, member = item.partition("=")
        name, member = name.strip(), member.strip()
        if not sep or not name or not member:
            raise TwinInputError(
                "give NAME=MEMBER, e.g. cor-fw02=1_02 or 2=1_02", field="--map", value=item
            )
        if not MEMBER_ID.match(member):
            raise TwinInputError(
                "MEMBER must be a member id of the form <site>_<n>, e.g. 1_02",
                field="--map",
                value=item,
            )
        table[name.lower()] = member
    return table


@attrs.frozen
class ImportOptions:
    """How to read gateway text: the options of ``twin import`` (and of every SOURCE).

    Attributes:
        format: the importer to use (``--format``/``--input-format``); None: detect.
        member_map: lower-case NAME (hostname or member number) → member id (``--map``).
        create_members: add members the journal does not have (``--create-members``).
        year: the year of times printed without one (``--year``).
        tz: the zone of times printed without one (``--tz``); None: UTC.
        strict: refuse the file if any line is skipped (``--strict``).
    """

    format: str | None = None
    member_map: Mapping[str, str] = attrs.field(factory=dict)
    create_members: bool = False
    year: int | None = None
    tz: tzinfo | None = None
    strict: bool = False

    @property
    def given(self) -> bool:
        """True if any option beyond ``format`` was given."""
        return bool(
            self.member_map
            or self.create_members
            or self.year is not None
            or self.tz is not None
            or self.strict
        )


@attrs.define
class ImportReport:
    """What an import read, for people.

    Attributes:
        format: the importer's name.
        detected: True if the format was detected from the content.
        lines: lines read.
        events: events produced, by type.
        understood: lines understood that change nothing in the twin, by kind.
        skipped: lines not understood, by kind.
        first_skipped: the first line number of each skipped kind.
        created: members added by ``--create-members`` (id → the name that placed it).
        remarks: anything else people should know (times taken as UTC...).
    """

    format: str
    detected: bool = False
    lines: int = 0
    events: Counter[str] = attrs.field(factory=Counter)
    understood: Counter[str] = attrs.field(factory=Counter)
    skipped: Counter[str] = attrs.field(factory=Counter)
    first_skipped: dict[str, int] = attrs.field(factory=dict)
    created: dict[str, str] = attrs.field(factory=dict)
    remarks: list[str] = attrs.field(factory=list)

    def summary_lines(self, *, written: bool = True) -> list[str]:
        """The report as a few lines of plain text (callers make it terminal-safe).

        ``written=False`` (a dry run) says what an import would do: ``would create
        members:`` rather than ``created members:``.
        """
        out = []
        total = sum(self.events.values())
        kinds = ", ".join(f"{t} ×{n}" for t, n in sorted(self.events.items()))
        out.append(f"read {self.lines} lines as {self.format}: {total} events ({kinds or 'none'})")
        if self.created:
            made = ", ".join(f"{m} ({name})" for m, name in self.created.items())
            out.append(f"{'created' if written else 'would create'} members: {made}")
        if self.understood:
            kinds = ", ".join(f"{k} ×{n}" for k, n in sorted(self.understood.items()))
            out.append(f"understood, no change to the twin: {kinds}")
        if self.skipped:
            kinds = ", ".join(
                f"{k} ×{n} (first at line {self.first_skipped[k]})"
                for k, n in sorted(self.skipped.items())
            )
            out.append(f"skipped {sum(self.skipped.values())} lines: {kinds}")
        out.extend(self.remarks)
        return out

    def to_json(self) -> dict[str, Any]:
        """Plain data (for scripts)."""
        return {
            "format": self.format,
            "detected": self.detected,
            "lines": self.lines,
            "events": dict(sorted(self.events.items())),
            "understood": dict(sorted(self.understood.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "first_skipped": dict(sorted(self.first_skipped.items())),
            "created": dict(self.created),
            "remarks": list(self.remarks),
        }


def _id_key(member_id: str) -> tuple[int, int] | None:
    match = MEMBER_ID.match(member_id)
    return (int(match.group(1)), int(match.group(2))) if match else None


class ImportContext:
    """What a text importer may use while it parses (see the module docstring).

    Args:
        state: the journal's reducer state where the events will land (read only).
        options: the user's options.
        source: the file's name, for messages.
        importer: the importer's name (the actor of created members).
    """

    def __init__(
        self, state: TwinState, options: ImportOptions, source: str, importer: str
    ) -> None:
        self.state = state
        self.options = options
        self.source = source
        self.importer = importer
        self.report = ImportReport(importer)
        self._aliases: dict[str, str] = {}
        self._created: dict[str, dict[str, Any]] = {}
        self._sites: set[int] = set()
        self._groups: set[int] = set()
        self._naive_times = False
        self.last_line_cut = False
        self.earliest: str | None = None
        """True if the file's last line has no line end (a copy cut off mid-line)."""

    # -- lines that become no event ------------------------------------------------------

    def skip(self, line: int, kind: str) -> None:
        """Count a line not understood (``kind`` says what it was, e.g. ``other program``).

        Raises:
            TwinInputError: ``--strict`` was given.
        """
        if self.options.strict:
            raise TwinInputError(
                f"not understood ({kind}); --strict refuses the file (drop --strict to skip "
                "such lines and see them counted)",
                source=self.source,
                line=line,
            )
        self.report.skipped[kind] += 1
        self.report.first_skipped.setdefault(kind, line)

    def understood(self, line: int, kind: str) -> None:
        """Count a line understood that changes nothing in the twin (e.g. ``ACTIVE -> STANDBY``)."""
        del line
        self.report.understood[kind] += 1

    def remark(self, text: str) -> None:
        """Tell people something about the whole import (shown once)."""
        if text not in self.report.remarks:
            self.report.remarks.append(text)

    # -- time ---------------------------------------------------------------------------

    def year(self, line: int) -> int:
        """The year for a time printed without one (``--year``).

        Raises:
            TwinInputError: ``--year`` was not given.
        """
        if self.options.year is None:
            raise TwinInputError(
                "this time has no year; give --year YYYY (and --tz ZONE if it is not UTC)",
                source=self.source,
                line=line,
            )
        return self.options.year

    def utc(self, moment: datetime) -> str:
        """``moment`` as ISO 8601 UTC; a time without a zone is in ``--tz`` (default UTC)."""
        if moment.tzinfo is None:
            if self.options.tz is None:
                self._naive_times = True
            moment = moment.replace(tzinfo=self.options.tz or UTC)
        moment = moment.astimezone(UTC)
        spec = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
        text = moment.strftime(spec)
        if self.earliest is None or text < self.earliest:
            self.earliest = text
        return text

    # -- members ------------------------------------------------------------------------

    def member_state(self, member_id: str) -> str:
        """The member's state where the import lands (``UP`` for a member it creates)."""
        record = self.state.members.get(member_id)
        return UP if record is None else str(record["state"])

    def member_cpu(self, member_id: str) -> float:
        """The member's CPU % where the import lands (0 for a member it creates)."""
        record = self.state.members.get(member_id)
        return 0.0 if record is None else float(record["cpu_pct"])

    def member(
        self,
        line: int,
        *,
        hostname: str | None = None,
        number: int | None = None,
        member_id: str | None = None,
        site: int | None = None,
        group: int | None = None,
    ) -> str:
        """Place what the output names on a member of the journal and return its id.

        Tried in order: ``--map`` (by hostname, then by member number), an id the
        output prints (``1_3`` matches ``1_03``), a ``member_added`` with that
        ``hostname``, a hostname in the Scalable Platform form ``…-ch01-03``,
        what this import already placed; then, with ``--create-members``, a new
        member (site ``site`` or 1, group ``group`` or 1).

        Args:
            line: the line that names it (for the refusal).
            hostname: the name the member's output prints (syslog host, prompt, Name column).
            number: its ClusterXL member number (``ID``/``Number`` column, "member 2").
            member_id: an id the output prints (``1_03``, or chassis and slot).
            site: the site the output says it is at.
            group: the group the output says it is in.

        Raises:
            TwinInputError: it cannot be placed (naming the line and the ways to place it).
        """
        keys = []
        if hostname:
            keys.append(f"host:{hostname.lower()}")
        if number is not None:
            keys.append(f"number:{number}")
        if member_id:
            keys.append(f"id:{member_id}")
        found = self._resolve(hostname, number, member_id)
        if found is None:
            found = self._create(line, hostname, number, member_id, site, group)
        for key in keys:
            self._aliases.setdefault(key, found)
        return found

    def _known(self, member_id: str) -> str | None:
        """The journal's (or this import's) spelling of ``member_id`` (``1_3`` → ``1_03``)."""
        if member_id in self.state.members or member_id in self._created:
            return member_id
        key = _id_key(member_id)
        if key is None:
            return None
        for known in (*self.state.members, *self._created):
            if _id_key(known) == key:
                return known
        return None

    def _resolve(
        self, hostname: str | None, number: int | None, member_id: str | None
    ) -> str | None:
        table = self.options.member_map
        for name in (hostname, None if number is None else str(number)):
            if name is not None and name.lower() in table:
                return self._mapped(table[name.lower()], name, hostname)
        if member_id:
            known = self._known(member_id)
            if known is not None:
                return known
        for key in (
            f"host:{hostname.lower()}" if hostname else None,
            f"number:{number}" if number is not None else None,
            f"id:{member_id}" if member_id else None,
        ):
            if key is not None and key in self._aliases:
                return self._aliases[key]
        if hostname:
            found = self.state.member_by_hostname(hostname)
            if found is not None:
                return found
            for made, record in self._created.items():
                if str(record.get("hostname", "")).lower() == hostname.lower():
                    return made
            match = _HOST_ID.search(hostname)
            if match:
                return self._known(f"{int(match.group(1))}_{int(match.group(2)):02d}")
        return None

    def _mapped(self, target: str, name: str, hostname: str | None) -> str:
        known = self._known(target)
        if known is not None:
            return known
        if self.options.create_members:
            key = _id_key(target)
            assert key is not None  # parse_map checked the form
            return self._add(target, key[0], 1, name, hostname)
        raise TwinInputError(
            f"--map sends {name!r} to member {target}, which the journal does not have "
            "(add it, or give --create-members)",
            field="--map",
            value=f"{name}={target}",
        )

    def _create(
        self,
        line: int,
        hostname: str | None,
        number: int | None,
        member_id: str | None,
        site: int | None,
        group: int | None,
    ) -> str:
        shown = hostname or (f"member {number}" if number is not None else member_id) or "?"
        if not self.options.create_members:
            ways = []
            if hostname:
                ways.append(f"--map {hostname}=<member id>")
            if number is not None:
                ways.append(f"--map {number}=<member id>")
            if hostname:
                ways.append(f'hostname = "{hostname}" on its member_added')
            ways.append("--create-members")
            have = ", ".join(sorted(self.state.members, key=member_sort_key)[:8]) or "none yet"
            raise TwinInputError(
                f"cannot place {shown!r} on a member of the journal (members: {have}); "
                f"give {' or '.join(ways)}",
                field="member",
                value=shown,
                source=self.source,
                line=line,
            )
        if member_id and _id_key(member_id) is not None:
            key = _id_key(member_id)
            assert key is not None
            new_id = f"{key[0]}_{key[1]:02d}"
        elif hostname and _HOST_ID.search(hostname):
            match = _HOST_ID.search(hostname)
            assert match is not None
            new_id = f"{int(match.group(1))}_{int(match.group(2)):02d}"
        elif number is not None:
            new_id = f"{site or 1}_{number:02d}"
        else:
            new_id = self._next_free(site or 1)
        if self._known(new_id) is not None:
            # The id is taken by another name: the next free one at that site.
            new_id = self._next_free(int(new_id.partition("_")[0]))
        key = _id_key(new_id)
        assert key is not None
        return self._add(new_id, key[0], group or 1, shown, hostname)

    def _next_free(self, site: int) -> str:
        n = 1
        while self._known(f"{site}_{n:02d}") is not None:
            n += 1
        return f"{site}_{n:02d}"

    def _add(
        self, member_id: str, site: int, group: int, shown: str, hostname: str | None = None
    ) -> str:
        if site not in self.state.sites and site not in self._sites:
            self._sites.add(site)
        if group not in self.state.groups and group not in self._groups:
            self._groups.add(group)
        record: dict[str, Any] = {"member": member_id, "group": group, "site": site}
        if hostname and self.state.member_by_hostname(hostname) is None:
            record["hostname"] = hostname
        self._created[member_id] = record
        self.report.created[member_id] = shown
        return member_id

    def creation_records(self) -> list[Record]:
        """``site_added``, ``group_created`` and ``member_added`` for what this import created."""
        out: list[Record] = []
        for site in sorted(self._sites):
            out.append(Record(0, {"type": "site_added", "site": site}))
        for group in sorted(self._groups):
            out.append(Record(0, {"type": "group_created", "group": group}))
        for member_id in sorted(self._created, key=member_sort_key):
            out.append(Record(0, {"type": "member_added", **self._created[member_id]}))
        return out

    def finish(self) -> None:
        """Add the remarks that depend on the whole import."""
        if self._naive_times:
            self.remark("times printed without a zone were taken as UTC (give --tz ZONE)")


def _event_id(importer: str, text: str, record: Record, ts: str | None) -> str:
    data = orjson.dumps(record.fields, option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256(f"{importer}\n{text}\n{ts}\n".encode() + data).hexdigest()
    return f"{importer}:{digest[:32]}"


def read_lines(path: Path) -> tuple[list[str], str]:
    """The file's lines (without line ends) and its name as shown.

    Bytes that are not UTF-8 are replaced (a log may mix encodings).

    Raises:
        TwinInputError: the file cannot be read.
    """
    shown = str(path)
    check_input_file(path, "event file")  # a regular file of a bounded size: never /dev/zero
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TwinInputError(f"cannot read: {exc.strerror}", source=shown) from None
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines, shown


def ends_mid_line(path: Path) -> bool:
    """True if the file's last line has no line end (a copy cut off mid-line)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            if handle.tell() == 0:
                return False
            handle.seek(-1, 2)
            return handle.read(1) not in (b"\n", b"\r")
    except OSError:
        return False


def detect_format(path: Path, importers: Sequence[Importer]) -> Importer | None:
    """The text importer most sure that ``path`` is its format (None if none is).

    Raises:
        TwinInputError: two importers are equally sure (``--format`` must choose), or
            ``path`` is not a regular file (a FIFO would block, a device never end).
    """
    check_input_file(path, "event file")
    try:
        with path.open("rb") as handle:
            sample = handle.read(SAMPLE_CHARS).decode("utf-8", errors="replace")
    except OSError as exc:
        raise TwinInputError(f"cannot read: {exc.strerror}", source=str(path)) from None
    scored = []
    for importer in importers:
        if not is_text_importer(importer):
            continue
        score = int(importer.detect(sample))  # type: ignore[attr-defined]
        if score > 0:
            scored.append((score, importer.name, importer))
    if not scored:
        return None
    scored.sort(key=lambda s: (-s[0], s[1]))
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        names = ", ".join(s[1] for s in scored if s[0] == scored[0][0])
        raise TwinInputError(f"could be any of {names}; choose one with --format", source=str(path))
    return scored[0][2]


def refuse_nothing_read(
    report: ImportReport, path: Path, importers: Sequence[Importer], option: str
) -> None:
    """Refuse a file read with a format the user chose when none of its lines was that format.

    A forced ``--format`` (``--input-format``) that understands no line is a mistake,
    not an empty import: every line was skipped, and nothing says so unless this does.

    Raises:
        TwinInputError: no event and no understood line, but skipped lines; names the
            format the content looks like, if one does.
    """
    if sum(report.events.values()) or sum(report.understood.values()) or not report.skipped:
        return
    kinds = ", ".join(f"{k} ×{n}" for k, n in sorted(report.skipped.items()))
    try:
        found = detect_format(path, importers)
    except TwinInputError:
        found = None
    hint = (
        f"; its content looks like {found.name} (leave {option} out to read it that way)"
        if found is not None and found.name != report.format
        else "; see twin import --list-formats"
    )
    raise TwinInputError(
        f"no line reads as {report.format} output ({sum(report.skipped.values())} lines "
        f"skipped: {kinds}){hint}",
        field=option,
        value=report.format,
        source=str(path),
    )


def import_text(
    path: Path,
    importer: Importer,
    options: ImportOptions,
    state: TwinState,
    registry: EventRegistry,
) -> tuple[list[NewEvent], ImportReport]:
    """Run a text importer on ``path`` and return the events to append, and the report.

    The events are decoded and checked field by field here; the journal checks
    them against its state when they are appended (all or nothing). Each
    event's ``reason`` names the file and line it came from and its
    ``event_id`` is derived from that line and the event, so importing the
    same text twice appends nothing the second time.

    Raises:
        TwinInputError: a line that names a member which cannot be placed, a
            time without a year and no ``--year``, a skipped line under
            ``--strict``, or an event the catalog refuses.
    """
    lines, shown = read_lines(path)
    ctx = ImportContext(state, options, shown, importer.name)
    ctx.report.lines = len(lines)
    if ends_mid_line(path) and lines:
        ctx.last_line_cut = True
        ctx.remark(f"the last line ({len(lines)}) has no line end: the copy may be cut off")
    try:
        records = list(importer.parse(lines, ctx))  # type: ignore[attr-defined]
    except TwinInputError as exc:
        raise exc.located(shown) from None
    ctx.finish()
    first_ts = ctx.earliest
    if first_ts is not None and state.occurred_at and str(first_ts) < state.occurred_at:
        ctx.remark(
            f"the first imported time ({first_ts}) is earlier than the journal's last event "
            f"({state.occurred_at}): the timeline runs backwards there (a topology file can "
            "set [deployment] ts)"
        )
    created = ctx.creation_records()
    out: list[NewEvent] = []
    name = Path(shown).name
    for record in [*created, *records]:
        fields = dict(record.fields)
        if record.line == 0:
            made_for = ctx.report.created.get(str(fields.get("member", "")), "")
            text = f"created by --create-members for {made_for}".rstrip()
            fields.setdefault("reason", f"{name}: {text}")
            if first_ts is not None:
                fields.setdefault("ts", first_ts)
        else:
            text = lines[record.line - 1] if 0 < record.line <= len(lines) else ""
            clipped = text.strip()[:REASON_CHARS]
            fields.setdefault("reason", f"{name}:{record.line}: {clipped}")
        fields.setdefault("actor", f"twin import ({importer.name})")
        stripped = {k: v for k, v in fields.items() if k not in ("reason", "actor", "event_id")}
        fields.setdefault(
            "event_id",
            _event_id(importer.name, text, Record(record.line, stripped), fields.get("ts")),
        )
        new = to_new_event(Record(record.line, fields, record.text), registry, source=shown)
        ctx.report.events[new.type] += 1
        out.append(new)
    return out, ctx.report
