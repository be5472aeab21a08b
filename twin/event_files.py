"""Event files: ``.jsonl`` and ``.csv`` readers, and turning their records into events.

An event file holds one event per line (contract §3): ``type`` plus the data
fields flat, and optionally ``ts`` (alias ``occurred_at``), ``actor``,
``reason``, ``correlation_id``, ``causation_id`` and ``event_id``. Blank lines
and lines starting with ``#`` are skipped. A ``.csv`` with the same column
names is accepted too; empty cells are absent fields.

Plugins add readers for other formats with ``twin_register_importers``; each
is an :class:`Importer`.
"""

from __future__ import annotations

import csv
import difflib
import json
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import attrs
import orjson

from twin.errors import TwinInputError
from twin.event_catalog import LoadChanged
from twin.events import Event, EventRegistry
from twin.field_kinds import MAX_MAGNITUDE
from twin.input_files import check_input_file
from twin.textsafe import first_unsafe

ENVELOPE_KEYS = (
    "ts",
    "occurred_at",
    "actor",
    "reason",
    "correlation_id",
    "causation_id",
    "event_id",
)


@attrs.frozen(slots=True)
class Record:
    """One event as read from a file, before it is decoded.

    Attributes:
        line: 1-based line number in the file.
        fields: ``type``, envelope keys and data fields as read.
        text: True if values are text to be coerced (CSV cells, ``key=value``).
    """

    line: int
    fields: dict[str, Any]
    text: bool = False


@attrs.frozen(slots=True)
class NewEvent:
    """An event on its way into a journal: the decoded event plus its envelope fields.

    Attributes:
        event: the decoded event.
        type: its public type name (the original name for an opaque event).
        event_id: producer-supplied id, or None to have the journal generate one.
        occurred_at: domain time (normalised ISO 8601 UTC), or None for "same as previous".
        actor: who recorded it.
        reason: why.
        correlation_id: plan or incident id.
        causation_id: the event that caused it.
        source: where it came from (a file), for error messages.
        line: the line in ``source``.
    """

    event: Event
    type: str
    event_id: str | None = None
    occurred_at: str | None = None
    actor: str | None = None
    reason: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    source: str | None = None
    line: int | None = None


class Importer(Protocol):
    """A reader for an event file format (register it with ``twin_register_importers``).

    Attributes:
        name: short name shown by ``twin plugins``.
        suffixes: file name endings it reads (``.log``, ``.asg.txt``).
    """

    name: str
    suffixes: tuple[str, ...]

    def read(self, path: Path) -> Iterator[Record]:
        """Yield the file's records in order, each with its line number.

        Raise :class:`~twin.errors.TwinInputError` (with ``line``) for a line it cannot read.
        """


# A time already in the canonical form, and certainly a real one (days up to 28 exist in
# every month): returned as it is, without parsing. Anything else is parsed.
_CANONICAL_TIME = re.compile(
    r"(?!0000)[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z"
)


def normalise_time(value: Any, field: str = "ts") -> str:
    """Parse an ISO 8601 time and return it as UTC ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``.

    A time without a zone is taken as UTC.

    Raises:
        TwinInputError: not an ISO 8601 time.
    """
    if type(value) is str and _CANONICAL_TIME.fullmatch(value):
        return value
    if not isinstance(value, str) or not value.strip():
        raise TwinInputError(
            f"must be an ISO 8601 time such as 2026-03-14T02:10:00Z (got {value!r})",
            field=field,
            value=value,
        )
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise TwinInputError(
            f"must be an ISO 8601 time such as 2026-03-14T02:10:00Z (got {value!r})",
            field=field,
            value=value,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise TwinInputError(
            f"is outside the years 0001-9999 once converted to UTC (got {value!r})",
            field=field,
            value=value,
        ) from None
    # Spelled out rather than strftime: %Y does not pad years before 1000 everywhere.
    m = moment
    text = f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
    return f"{text}.{m.microsecond:06d}Z" if m.microsecond else f"{text}Z"


class JsonLinesImporter:
    """Reads ``.jsonl`` / ``.ndjson``: one JSON object per line."""

    name: str = "jsonl"
    suffixes: tuple[str, ...] = (".jsonl", ".ndjson")

    def read(self, path: Path) -> Iterator[Record]:
        """Yield one record per non-blank, non-comment line."""
        for number, fields in _json_lines(path):
            yield Record(number, fields)


def _json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each non-blank, non-comment line of a JSON lines file as its number and object.

    Raises:
        TwinInputError: a line that is not JSON, not an object, or gives a key twice.
    """
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line or line.startswith(b"#"):
                continue
            try:
                fields = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise TwinInputError(f"not valid JSON: {exc}", line=number) from None
            if not isinstance(fields, dict):
                raise TwinInputError("each line must be a JSON object with a type", line=number)
            if line.count(b'":') != len(fields) or _SPACE_BEFORE_COLON.search(line):
                _refuse_duplicate_keys(line, number)
            yield number, fields


# Every key in a JSON text ends with `"` then optional blanks then `:`. If a line
# shows exactly as many `":` as its object has keys, and no blank before a colon,
# no key can be there twice; only other lines take the slower exact check.
_SPACE_BEFORE_COLON = re.compile(rb'"[ \t\r\n]+:')


def _refuse_duplicate_keys(line: bytes, number: int) -> None:
    """Refuse a JSON line that gives a key twice (JSON parsers keep the last one silently).

    Raises:
        TwinInputError: the first key given twice, at any depth.
    """

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                raise TwinInputError(
                    "given twice in one object; give each key once", field=key, line=number
                )
            seen[key] = value
        return seen

    try:
        json.loads(line, object_pairs_hook=pairs)
    except RecursionError:
        raise TwinInputError("nested too deeply to read", line=number) from None
    except ValueError as exc:  # what orjson took, the standard parser should take too
        raise TwinInputError(f"not valid JSON: {exc}", line=number) from None


class CsvImporter:
    """Reads ``.csv`` with a header row of the same names as the JSON lines use.

    Quoting is read strictly: a quote that opens a cell and is never closed
    (which would otherwise swallow every row after it into one cell) or text
    after a closing quote refuses the file, naming the line the row starts on.
    """

    name: str = "csv"
    suffixes: tuple[str, ...] = (".csv",)

    def read(self, path: Path) -> Iterator[Record]:
        """Yield one record per data row; empty cells are absent fields."""
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            header: list[str] | None = None
            start = 1  # the line the next row starts on (a quoted cell may span lines)
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise _csv_error(exc, start) from None
                number, start = start, reader.line_num + 1
                if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
                    continue
                if header is None:
                    header = [h.strip() for h in row]
                    if "type" not in header:
                        raise TwinInputError(
                            "the header row needs a 'type' column", field="type", line=number
                        )
                    named = [h for h in header if h]
                    twice = next((h for h in named if named.count(h) > 1), None)
                    if twice is not None:
                        raise TwinInputError(
                            "column given twice in the header; give each column once",
                            field=twice,
                            line=number,
                        )
                    continue
                if len(row) != len(header):  # a cut or run-on row: refuse, never guess
                    raise TwinInputError(
                        f"{len(row)} cells but the header has {len(header)} columns"
                        " (an empty cell is an absent field: keep its comma)",
                        line=number,
                    )
                fields = {h: c for h, c in zip(header, row, strict=False) if h and c.strip() != ""}
                yield Record(number, fields, text=True)


def _envelope_typo(
    exc: TwinInputError, event_type: str, registry: EventRegistry
) -> TwinInputError | None:
    """An unknown field spelled like an envelope key (``occured_at``): say which one it means.

    Only on the error path; a name close to one of the event's own fields keeps
    the registry's hint.
    """
    if registry.get(event_type) is None or not isinstance(exc.field, str):
        return None
    own = registry.fields(event_type)
    if exc.field in own or difflib.get_close_matches(exc.field, own, n=1):
        return None  # not an unknown field, or the registry's own hint stands
    close = difflib.get_close_matches(exc.field, ENVELOPE_KEYS, n=1, cutoff=0.75)
    if not close:
        return None
    return TwinInputError(
        f"unknown field for {event_type}; did you mean {close[0]!r}? (a key of every event, "
        f"valid: {', '.join(ENVELOPE_KEYS)})",
        field=exc.field,
        value=exc.value,
    )


def _csv_error(exc: csv.Error, line: int) -> TwinInputError:
    """A CSV reading error as one line naming where the bad row starts."""
    if "unexpected end of data" in str(exc):
        return TwinInputError(
            'a quoted cell opens on this line and is never closed (a missing ")', line=line
        )
    return TwinInputError(f"not valid CSV: {exc}", line=line)


BUILTIN_IMPORTERS: tuple[Importer, ...] = (JsonLinesImporter(), CsvImporter())


def importer_for(path: Path, extra: Sequence[Importer] = ()) -> Importer:
    """The importer whose suffix matches ``path`` (plugins' first, then the built-ins)."""
    name = path.name.lower()
    for importer in (*extra, *BUILTIN_IMPORTERS):
        if any(name.endswith(s) for s in importer.suffixes):
            return importer
    known = sorted({s for i in (*extra, *BUILTIN_IMPORTERS) for s in i.suffixes})
    raise TwinInputError(
        f"unknown event file format; valid: {', '.join(known)}, or a journal (.db)",
        source=str(path),
    )


_ENVELOPE_SET = frozenset(ENVELOPE_KEYS)

TEXT_KEYS = ("actor", "reason", "correlation_id", "causation_id", "event_id")
"""Envelope keys whose values are text."""

ID_KEYS = frozenset({"correlation_id", "causation_id", "event_id"})
"""Envelope keys that are ids: whole numbers are taken as their digits; no control characters."""


def _envelope_text(key: str, value: Any) -> str | None:
    """An envelope text field as given, or a one-line refusal naming it.

    Raises:
        TwinInputError: not a string (ids may also be whole numbers), or an id
            with a control or invisible character.
    """
    if value is None:
        return None
    if key in ID_KEYS and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        kinds = "a string or a whole number" if key in ID_KEYS else "a string"
        raise TwinInputError(f"must be {kinds} (got {value!r})", field=key, value=value)
    if key in ID_KEYS:
        found = first_unsafe(value)
        if found is not None:
            raise TwinInputError(
                f"must not contain control, bidi or invisible characters "
                f"(found U+{ord(found):04X}; got {value!r})",
                field=key,
                value=value,
            )
    return value


def to_new_event(
    record: Record,
    registry: EventRegistry,
    *,
    source: str | None = None,
    allow_unknown: bool = False,
) -> NewEvent:
    """Decode one record into a :class:`NewEvent`.

    Raises:
        TwinInputError: located at ``source:line`` with the field and what would be valid.
    """
    try:
        given = record.fields
        event_type = given.get("type")
        if not isinstance(event_type, str) or not event_type:
            raise TwinInputError(
                "every event needs a type, e.g. member_added", field="type", value=event_type
            )
        fields: dict[str, Any] = {}
        envelope: dict[str, Any] = {}
        for key, value in given.items():
            if key in _ENVELOPE_SET:
                envelope[key] = value
            elif key != "type":
                fields[key] = value
        time_key = "ts" if "ts" in envelope else "occurred_at"
        occurred = envelope.get(time_key)
        if "ts" in envelope and "occurred_at" in envelope:
            raise TwinInputError(
                "give ts or occurred_at, not both", field="occurred_at", value=occurred
            )
        try:
            event = registry.decode(
                event_type, fields, coerce=record.text, allow_unknown=allow_unknown
            )
        except TwinInputError as exc:
            raise _envelope_typo(exc, event_type, registry) or exc from None
        text_fields = {
            key: _envelope_text(key, envelope[key]) for key in TEXT_KEYS if key in envelope
        }
        return NewEvent(
            event=event,
            type=event_type,
            occurred_at=None if occurred is None else normalise_time(occurred, time_key),
            source=source,
            line=record.line,
            **text_fields,
        )
    except TwinInputError as exc:
        raise exc.located(source, record.line) from None


def read_event_file(
    path: str | Path,
    registry: EventRegistry,
    *,
    importers: Sequence[Importer] = (),
    allow_unknown: bool = False,
) -> Iterator[NewEvent]:
    """Read and decode a whole event file, one :class:`NewEvent` per event, in order.

    Raises:
        TwinInputError: the first bad line, as ``file:line: field: problem``.
    """
    path = Path(path)
    shown = str(path)
    check_input_file(path, "event file")  # a regular file (not a FIFO or /dev/zero), not huge
    importer = importer_for(path, importers)
    try:
        if (
            type(importer) is JsonLinesImporter
            and FAST_LOADS
            and registry.get("load_changed") is (LoadChanged)
        ):
            yield from _read_json_lines(path, registry, shown, allow_unknown)
            return
        for record in importer.read(path):
            yield to_new_event(record, registry, source=shown, allow_unknown=allow_unknown)
    except TwinInputError as exc:
        raise exc.located(shown) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TwinInputError(f"cannot read: {exc}", source=shown) from None


# -- the import hot path: load samples -------------------------------------------------------

FAST_LOADS = True
"""Decode ``load_changed`` lines of JSON lines files on :func:`_fast_load` (tests turn it off)."""

_LOAD_KEYS = frozenset(
    {
        "type",
        "ts",
        "actor",
        "reason",
        "correlation_id",
        "causation_id",
        "event_id",
        "member",
        "group",
        "connections",
        "cps",
        "cpu_pct",
        "throughput_gbps",
        "serving",
    }
)
"""The keys a line may have for :func:`_fast_load` (``occurred_at`` and the rest: general path)."""


def _read_json_lines(
    path: Path, registry: EventRegistry, shown: str, allow_unknown: bool
) -> Iterator[NewEvent]:
    """:func:`read_event_file` for a JSON lines file: load samples take :func:`_fast_load`."""
    fast = _fast_load
    for number, fields in _json_lines(path):
        if fields.get("type") == "load_changed":
            new = fast(fields, shown, number)
            if new is not None:
                yield new
                continue
        yield to_new_event(
            Record(number, fields), registry, source=shown, allow_unknown=allow_unknown
        )


_MAX = MAX_MAGNITUDE
_new = object.__new__
_set = {a.name: getattr(LoadChanged, a.name).__set__ for a in attrs.fields(LoadChanged)}
_set_member = _set["member"]
_set_group = _set["group"]
_set_connections = _set["connections"]
_set_cps = _set["cps"]
_set_cpu = _set["cpu_pct"]
_set_throughput = _set["throughput_gbps"]
_set_serving = _set["serving"]
_canonical_time = _CANONICAL_TIME.fullmatch


def _fast_load(fields: dict[str, Any], source: str, line: int) -> NewEvent | None:
    """A ``load_changed`` line as :func:`to_new_event` decodes it, or None for the general path.

    It accepts a subset of what the general path accepts: only the keys of
    :data:`_LOAD_KEYS`, exact JSON types, a canonical ``ts``, printable ids
    and text; every value is kept as given, so the event and its envelope are
    equal to the general path's. Anything else (an error too) returns None and
    the general path decodes it or explains what is wrong.
    """
    if not fields.keys() <= _LOAD_KEYS:
        return None
    get = fields.get
    member = get("member")
    group = get("group")
    serving = get("serving")
    if member is None:
        if type(group) is not int or not -_MAX <= group <= _MAX:
            return None
        if serving is not None and (type(serving) is not int or not 0 < serving <= _MAX):
            return None
    elif (
        group is not None
        or serving is not None
        or type(member) is not str
        or not member
        or not member.isprintable()
    ):
        return None
    connections = get("connections")
    cps = get("cps")
    cpu = get("cpu_pct")
    throughput = get("throughput_gbps")
    if connections is not None and (type(connections) is not int or not 0 <= connections <= _MAX):
        return None
    if cps is not None and (type(cps) not in (float, int) or not 0 <= cps <= _MAX):
        return None
    if cpu is not None and (type(cpu) not in (float, int) or not 0 <= cpu <= 100):
        return None
    if throughput is not None and (
        type(throughput) not in (float, int) or not 0 <= throughput <= _MAX
    ):
        return None
    if connections is None and cps is None and cpu is None and throughput is None:
        return None
    ts = get("ts")
    if ts is not None and (type(ts) is not str or not _canonical_time(ts)):
        return None
    actor = get("actor")
    reason = get("reason")
    if (actor is not None and type(actor) is not str) or (
        reason is not None and type(reason) is not str
    ):
        return None
    correlation = get("correlation_id")
    causation = get("causation_id")
    event_id = get("event_id")
    for given in (correlation, causation, event_id):
        if given is not None and (type(given) is not str or not given.isprintable()):
            return None
    event = _new(LoadChanged)
    _set_member(event, member)
    _set_group(event, group)
    _set_connections(event, connections)
    _set_cps(event, cps)
    _set_cpu(event, cpu)
    _set_throughput(event, throughput)
    _set_serving(event, serving)
    return NewEvent(
        event,
        "load_changed",
        event_id,
        ts,
        actor,
        reason,
        correlation,
        causation,
        source,
        line,
    )
