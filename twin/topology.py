"""Topology files: the ``.toml`` that ``twin init --topology`` turns into genesis events.

A topology file lists what a deployment is made of as arrays of tables whose
keys are exactly the fields of the event each table becomes (contract §2)::

    [deployment]                 # optional
    name = "prod"                # -> note "topology prod" (the first event)
    checkpoint_interval_s = 60   # -> checkpoint_interval_changed (the last event)

    [[site]]                     # -> site_added
    site = 1
    name = "DC North"

    [[orchestrator]]             # -> orchestrator_added
    orchestrator = "mho-1a"
    site = 1

    [[group]]                    # -> group_created
    group = 1

    [[member]]                   # -> member_added
    member = "1_01"
    group = 1
    site = 1
    cores = 32

    [[link]]                     # -> link_added
    link = "sync-1a"
    a = "mho-1a"
    b = "mho-2a"
    kind = "sync"

Events come out in dependency order whatever the order of the tables in the
file: the deployment note, then sites, orchestrators, groups, members, links
and finally the settings; within a kind, in file order. Each event names the
file and the line of its table's header, and the whole topology is checked
by applying it to an empty twin, so a member of an unknown group or a link to
an unknown orchestrator is refused before anything is written. Errors point
at the offending key's line when it can be found, else at the table's header.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from twin.errors import TwinInputError
from twin.event_files import NewEvent, normalise_time
from twin.events import EventRegistry
from twin.reducer import apply
from twin.state import TwinState

#: Table name → the event type each of its entries becomes, in the order they are emitted.
TABLE_EVENTS: dict[str, str] = {
    "site": "site_added",
    "orchestrator": "orchestrator_added",
    "group": "group_created",
    "member": "member_added",
    "link": "link_added",
}

#: Keys of the optional ``[deployment]`` table.
DEPLOYMENT_KEYS: dict[str, str] = {
    "name": "a name for the deployment; recorded as the note 'topology NAME'",
    "checkpoint_interval_s": "state checkpoint interval; becomes checkpoint_interval_changed",
    "ts": "domain time of every genesis event (ISO 8601); default: none given",
    "actor": "who recorded the genesis events; default: none given",
}

TABLES = ("deployment", *TABLE_EVENTS)

_BARE = r"[A-Za-z0-9_-]+"
_NAME = rf"(?:{_BARE}|\"[^\"]*\"|'[^']*')"
_ARRAY_HEADER = re.compile(rf"\[\[\s*({_NAME}(?:\s*\.\s*{_NAME})*)\s*\]\]")
_TABLE_HEADER = re.compile(rf"\[\s*({_NAME}(?:\s*\.\s*{_NAME})*)\s*\]")
_KEY = re.compile(rf"({_NAME})\s*[=.]")
_TOML_LINE = re.compile(r"at line (\d+)")


@attrs.define
class _Table:
    """Where one table sits in the file: its header line and the lines of its keys."""

    name: str
    array: bool
    line: int
    keys: dict[str, int] = attrs.field(factory=dict)


def _unquote(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
        return name[1:-1]
    return name


def _header_name(raw: str) -> str:
    return ".".join(_unquote(part) for part in re.split(r"\s*\.\s*", raw.strip()))


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


def _scan(text: str) -> list[_Table]:
    """Find every table header and key in a (valid) TOML text, with its line number.

    The first entry is the root table (line 1): keys given before any header.
    """
    tables = [_Table("", False, 1)]
    open_quote: str | None = None
    for number, line in enumerate(text.split("\n"), start=1):  # TOML counts \n only
        if open_quote is None:
            stripped = line.lstrip()
            array = _ARRAY_HEADER.match(stripped)
            table = None if array else _TABLE_HEADER.match(stripped)
            if array or table:
                match = array or table
                assert match is not None
                tables.append(_Table(_header_name(match.group(1)), bool(array), number))
            else:
                key = _KEY.match(stripped)
                if key:
                    tables[-1].keys.setdefault(_unquote(key.group(1)), number)
        open_quote = _string_state(line, open_quote)
    return tables


@attrs.frozen
class _Entry:
    """One entry of a topology table: its data and where it is in the file."""

    kind: str
    data: Mapping[str, Any]
    line: int | None
    keys: Mapping[str, int]

    def line_of(self, field: str | None) -> int | None:
        """The line of ``field`` in this entry, else the entry's header line."""
        if field is not None and field in self.keys:
            return self.keys[field]
        return self.line


def _root_line(tables: list[_Table], name: str) -> int | None:
    for table in tables:
        if table.name == name or table.name.startswith(name + "."):
            return table.line
    return tables[0].keys.get(name)


def _entries(doc: dict[str, Any], tables: list[_Table], kind: str, shown: str) -> list[_Entry]:
    """The entries of table ``kind``, each with its header line and key lines."""
    items = doc.get(kind)
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise TwinInputError(
            f"must be an array of tables: write [[{kind}]] before each entry",
            field=kind,
            source=shown,
            line=_root_line(tables, kind),
        )
    headers = [t for t in tables if t.array and t.name == kind]
    if len(headers) == len(items):
        return [_Entry(kind, item, h.line, h.keys) for item, h in zip(items, headers, strict=True)]
    # An inline array (``member = [{...}, {...}]``): the entries share the key's line.
    line = _root_line(tables, kind)
    return [_Entry(kind, item, line, {}) for item in items]


def _check_tables(doc: dict[str, Any], tables: list[_Table], shown: str) -> None:
    for name in doc:
        if name in TABLES:
            continue
        hint = difflib.get_close_matches(name, TABLES, n=1)
        tail = f"did you mean [[{hint[0]}]]?" if hint else f"valid: {', '.join(TABLES)}"
        raise TwinInputError(
            f"unknown table; {tail}",
            field=name,
            value=name,
            source=shown,
            line=_root_line(tables, name),
        )


def _deployment(
    doc: dict[str, Any], tables: list[_Table], shown: str
) -> tuple[dict[str, Any], _Entry | None]:
    raw = doc.get("deployment")
    if raw is None:
        return {}, None
    header = next((t for t in tables if t.name == "deployment"), None)
    line = header.line if header else _root_line(tables, "deployment")
    if not isinstance(raw, dict):
        raise TwinInputError(
            "must be a table: write [deployment] once, then its keys",
            field="deployment",
            source=shown,
            line=line,
        )
    entry = _Entry("deployment", raw, line, header.keys if header else {})
    for key in raw:
        if key not in DEPLOYMENT_KEYS:
            hint = difflib.get_close_matches(key, DEPLOYMENT_KEYS, n=1)
            tail = f"did you mean {hint[0]!r}?" if hint else f"valid: {', '.join(DEPLOYMENT_KEYS)}"
            raise TwinInputError(
                f"unknown key in [deployment]; {tail}",
                field=key,
                value=raw[key],
                source=shown,
                line=entry.line_of(key),
            )
    settings: dict[str, Any] = {}
    for key in ("name", "actor"):
        if key in raw:
            value = raw[key]
            if not isinstance(value, str) or not value.strip():
                raise TwinInputError(
                    f"must be a non-empty string (got {value!r})",
                    field=key,
                    value=value,
                    source=shown,
                    line=entry.line_of(key),
                )
            settings[key] = value.strip()
    if "ts" in raw:
        value = raw["ts"]
        if isinstance(value, dt.datetime):
            value = value.isoformat()
        try:
            settings["ts"] = normalise_time(value, "ts")
        except TwinInputError as exc:
            raise exc.located(shown, entry.line_of("ts")) from None
    return settings, entry


def _read_text(path: Path, shown: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TwinInputError("no such topology file", source=shown) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TwinInputError(f"cannot read topology file: {exc}", source=shown) from None


def _parse(text: str, shown: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        raise TwinInputError(
            f"not valid TOML: {exc}", source=shown, line=int(found.group(1)) if found else None
        ) from None


def read_topology(path: str | Path, registry: EventRegistry) -> list[NewEvent]:
    """Read a topology file and return its genesis events, checked, in dependency order.

    The order is: the deployment's ``name`` as a ``note`` (if given), then
    ``site_added``, ``orchestrator_added``, ``group_created``,
    ``member_added``, ``link_added`` (each kind in file order) and last
    ``checkpoint_interval_changed`` (if ``checkpoint_interval_s`` is given).
    Every event carries ``source`` (the path as given) and ``line`` (its
    table's header line); ``occurred_at`` and ``actor`` come from the
    deployment's ``ts`` and ``actor`` if it gives them.

    Args:
        path: the ``.toml`` file.
        registry: the event types known (decoding and field checks happen there).

    Returns:
        The genesis events, ready for a journal's append.

    Raises:
        TwinInputError: unreadable file or invalid TOML; an unknown table (the
            closest name is suggested) or key; a bad value; or an event the
            twin refuses (an unknown group, site, member or orchestrator, a
            duplicate id). One error, located at ``file:line`` and naming the field.
    """
    path = Path(path)
    shown = str(path)
    text = _read_text(path, shown)
    doc = _parse(text, shown)
    tables = _scan(text)
    _check_tables(doc, tables, shown)
    settings, deployment = _deployment(doc, tables, shown)
    planned: list[tuple[_Entry, str, dict[str, Any], str | None]] = []
    if "name" in settings and deployment is not None:
        planned.append((deployment, "note", {"text": f"topology {settings['name']}"}, "name"))
    for kind, event_type in TABLE_EVENTS.items():
        for entry in _entries(doc, tables, kind, shown):
            planned.append((entry, event_type, dict(entry.data), None))
    if deployment is not None and "checkpoint_interval_s" in deployment.data:
        data = {"seconds": deployment.data["checkpoint_interval_s"]}
        planned.append((deployment, "checkpoint_interval_changed", data, "checkpoint_interval_s"))

    if not planned:
        raise TwinInputError(
            "the topology defines nothing; expected [[site]], [[orchestrator]], [[group]], "
            "[[member]] and [[link]] tables",
            source=shown,
        )

    events: list[NewEvent] = []
    state = TwinState()
    occurred_at = settings.get("ts")
    for seq, (entry, event_type, data, renamed) in enumerate(planned, start=1):
        try:
            event = registry.decode(event_type, data)
            apply(state, event, seq=seq, occurred_at=occurred_at or "")
        except TwinInputError as exc:  # EventDataError, InvalidEventError
            field = renamed or exc.field
            raise type(exc)(
                exc.problem,
                field=field,
                value=exc.value,
                source=shown,
                line=entry.line_of(field),
            ) from None
        events.append(
            NewEvent(
                event=event,
                type=event_type,
                occurred_at=occurred_at,
                actor=settings.get("actor"),
                source=shown,
                line=entry.line,
            )
        )
    return events
