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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from twin.errors import TwinInputError
from twin.event_files import NewEvent, normalise_time
from twin.events import EventRegistry
from twin.input_files import read_input_text
from twin.reducer import apply
from twin.state import TwinState
from twin.toml_lines import TomlTable as _Table
from twin.toml_lines import parse_toml as _parse
from twin.toml_lines import scan as _scan

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
    return read_input_text(path, "topology file")


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
