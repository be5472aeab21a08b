"""The import's fast path for ``load_changed`` lines stores exactly what the general path stores.

Nine lines in ten of a monitored deployment's event file are load samples, so
:func:`twin.event_files._fast_load` decodes them without the general
machinery. It may only take a line the general path takes and must build the
same event and envelope; anything odd (an ``occurred_at`` spelling, a time
that is not canonical, a whole-number id, a null, a value out of range) goes
to the general path, which decodes it the same way as before or explains
what is wrong. Checked here twice: a whole file imported with the fast path
on and off gives the same journal row by row, and hypothesis throws odd but
possibly valid load lines at both decoders.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journal.appending
import twin.event_files
from journal import Journal, snapshots
from twin.errors import TwinInputError
from twin.event_files import Record, _fast_load, to_new_event
from twin.events import default_registry

REGISTRY = default_registry()

GENESIS: list[dict[str, Any]] = [
    {"ts": "2026-03-14T01:00:00Z", "type": "site_added", "site": 1},
    {"type": "group_created", "group": 1, "mode": "gateway"},
    *(
        {"type": "member_added", "member": f"1_0{n}", "group": 1, "site": 1, "cores": 16}
        for n in range(1, 5)
    ),
]

# Spellings the general path accepts, each either taken by the fast path or not.
ODD_LOADS: list[dict[str, Any]] = [
    {"type": "load_changed", "group": 1, "cps": 100, "ts": "2026-03-14T01:00:01Z"},
    {"type": "load_changed", "group": 1, "cpu_pct": 40, "serving": 3},
    {"type": "load_changed", "member": "1_02", "cpu_pct": 40.5, "connections": 0},
    {"type": "load_changed", "member": "1_02", "cps": 1e15, "throughput_gbps": 0.0},
    {"type": "load_changed", "group": 1, "cps": 1.5, "occurred_at": "2026-03-14T01:00:02Z"},
    {"type": "load_changed", "group": 1, "cps": 1.5, "ts": "2026-03-14T03:00:02+02:00"},
    {"type": "load_changed", "group": 1, "cps": 1.5, "ts": "2026-03-14T01:00:03.250Z"},
    {"type": "load_changed", "group": 1, "cps": 1.5, "ts": "2026-03-14 01:00:04"},
    {"type": "load_changed", "group": 1, "cps": 2.5, "ts": None, "member": None, "cpu_pct": None},
    {"type": "load_changed", "group": 1, "cps": 2.5, "correlation_id": 42, "causation_id": "c"},
    {"type": "load_changed", "group": 1, "cps": 2.5, "actor": "", "reason": "why not"},
    {"type": "load_changed", "member": "1_03", "cps": 3, "correlation_id": "", "actor": None},
    {"type": "load_changed", "member": "1_03", "cps": 3, "event_id": "own-1"},
    {"type": "load_changed", "member": "1_03", "cps": 3, "event_id": "own-1"},  # a re-send
    {"type": "load_changed", "member": "1_03", "cps": 4, "event_id": 77},
    {"type": "load_changed", "group": 1, "cps": 4, "ts": "2026-03-29T01:00:00Z"},
    {"type": "load_changed", "group": 1, "cps": 4, "ts": "2026-02-28T23:59:59Z"},
]


def typical(i: int) -> dict[str, Any]:
    """A line as a monitor writes it (the benchmark's spelling), member or group."""
    line: dict[str, Any] = {"ts": f"2026-03-14T02:{i // 60 % 60:02d}:{i % 60:02d}Z"}
    line["type"] = "load_changed"
    if i % 3:
        line["group"] = 1
    else:
        line["member"] = f"1_0{1 + i % 4}"
    line |= {"connections": 1000 + i, "cps": 50.5 + i % 7, "cpu_pct": float(i % 101)}
    line |= {"throughput_gbps": 1.25, "actor": "monitor", "correlation_id": "BENCH"}
    return line


def other(i: int) -> dict[str, Any]:
    """Structure changes between the loads (they change what ``serving`` records)."""
    member = f"1_0{1 + i % 4}"
    if i % 2:
        return {"type": "member_failed", "member": member, "cause": "test"}
    return {"type": "member_recovered", "member": member}


def lines(count: int) -> list[dict[str, Any]]:
    out = list(GENESIS)
    for i in range(count):
        out.append(typical(i))
        if i % 50 == 25:
            out.append(other(i // 50))
        if i % 40 == 5:
            out.append(ODD_LOADS[(i // 40) % len(ODD_LOADS)])
    return [*out, *ODD_LOADS]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated ids and the append time are the only things two imports may differ by."""
    counter = itertools.count(1)
    monkeypatch.setattr(
        journal.appending,
        "new_event_ids",
        lambda n: [f"00000000-0000-7000-8000-{next(counter):012d}" for _ in range(n)],
    )
    monkeypatch.setattr(journal.appending, "utc_now", lambda: "2026-12-02T18:00:00.000000Z")


TABLES = {
    "events": "SELECT * FROM events ORDER BY seq",
    # (created_at is the wall clock of whoever wrote the snapshot)
    "snapshots": "SELECT key, branch, seq, digest, blob FROM snapshots ORDER BY 1, 2, 3",
    "meta": "SELECT * FROM meta WHERE key LIKE 'head:%' ORDER BY key",
}


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in TABLES.items()}


def general_paths(monkeypatch: pytest.MonkeyPatch, general: bool) -> None:
    """Turn the load fast paths off (decoding a line, and storing a load the twin knows).

    Called with the fast paths on first: turning them off is not undone.
    """
    monkeypatch.setattr(twin.event_files, "FAST_LOADS", not general)
    if general:
        monkeypatch.setattr(journal.appending, "_load_data", lambda event, state: None)


def import_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: Path
) -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, list[tuple[Any, ...]]]]:
    out = []
    for fast in (True, False):
        deterministic(monkeypatch)
        general_paths(monkeypatch, not fast)
        target = tmp_path / f"fast-{fast}.db"
        with Journal.create(target) as j:
            j.import_file(source)
        out.append(dump(target))
    return out[0], out[1]


def test_a_file_imported_with_and_without_the_fast_path_gives_the_same_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshots, "STRUCTURE_EVERY", 500)  # a few structure snapshots too
    source = write_jsonl(tmp_path / "events.jsonl", lines(3000))
    fast, general = import_both_ways(tmp_path, monkeypatch, source)
    assert len(fast["events"]) > 3000
    assert len(fast["snapshots"]) >= 5
    for name in TABLES:
        assert len(fast[name]) == len(general[name]), name
        for a, b in zip(fast[name], general[name], strict=True):
            assert a == b, name
    # The import folded the structure: group loads record how many members served.
    serving = [json.loads(r[10]).get("serving") for r in fast["events"] if '"group"' in r[10]]
    assert {s for s in serving if s is not None} >= {3, 4}


def test_the_fast_path_takes_the_usual_spelling() -> None:
    """Else the comparison above would compare the general path with itself."""
    for i in range(6):
        assert _fast_load(typical(i), "f.jsonl", i + 1) is not None


BAD_LOADS = [
    ({"type": "load_changed", "member": "1_09", "cps": 1.0}, "member", "1_09"),  # unknown
    ({"type": "load_changed", "group": 7, "cps": 1.0}, "group", "7"),
    ({"type": "load_changed", "member": "1_01", "cpu_pct": 101}, "cpu_pct", "between 0 and 100"),
    ({"type": "load_changed", "group": 1, "cps": -1}, "cps", "negative"),
    ({"type": "load_changed", "group": 1, "cps": 1, "serving": 0}, "serving", "greater than 0"),
    ({"type": "load_changed", "member": "1_01", "serving": 2, "cps": 1}, "serving", "group"),
    ({"type": "load_changed", "group": 1}, "connections", "at least one"),
    ({"type": "load_changed", "group": 1, "cps": "1"}, "cps", "number"),
    ({"type": "load_changed", "group": 1, "cps": 1, "ts": "soon"}, "ts", "ISO 8601"),
    (
        {"type": "load_changed", "group": 1, "cps": 1, "correlation_id": "a\u202eb"},
        "correl",
        "bidi",
    ),
    (
        {"type": "load_changed", "group": 1, "cps": 1, "occured_at": "x"},
        "occured_at",
        "occurred_at",
    ),
]


@pytest.mark.parametrize(("bad", "field", "says"), BAD_LOADS)
def test_a_bad_load_line_is_refused_as_before_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: dict[str, Any], field: str, says: str
) -> None:
    source = write_jsonl(tmp_path / "bad.jsonl", [*lines(30), bad])
    messages = []
    for fast in (True, False):
        general_paths(monkeypatch, not fast)
        target = tmp_path / f"bad-{fast}.db"
        with Journal.create(target) as j, pytest.raises(TwinInputError) as caught:
            j.import_file(source)
        messages.append(str(caught.value))
        assert dump(target)["events"] == []
    assert messages[0] == messages[1]
    line = len(lines(30)) + 1
    assert f"bad.jsonl:{line}:" in messages[0], messages[0]
    assert field in messages[0] and says in messages[0], messages[0]


# -- one line at a time: the fast path never accepts what the general path refuses ------------

NUMBERS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0, 100, 101, 10**15, 10**15 + 1, -(10**15), 2**63 - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 99.99, 100.0, 100.000001, 1e15, 1.0000001e15]),
    st.sampled_from(["1", "", "1.5"]),
)
TEXTS = st.one_of(
    st.none(),
    st.integers(-2, 2),
    st.booleans(),
    st.sampled_from(["", "monitor", "BENCH", "a\u202eb", "tab\there", "x\x00", "é", "\u00a0"]),
    st.text(max_size=4),
)
TIMES = st.one_of(
    st.none(),
    st.integers(0, 2),
    st.sampled_from(
        [
            "2026-03-14T01:00:00Z",
            "2026-03-14T01:00:00z",
            "2026-03-14T01:00:00",
            "2026-03-14T01:00:00+00:00",
            "2026-03-14T01:00:00.000Z",
            "2026-02-29T01:00:00Z",
            "2026-02-30T01:00:00Z",
            "0000-01-01T00:00:00Z",
            "2026-03-14T24:00:00Z",
            " 2026-03-14T01:00:00Z",
            "",
        ]
    ),
)
SUBJECTS = st.one_of(
    st.none(), st.booleans(), st.integers(-1, 3), st.sampled_from(["1_01", "", "1\x1b01", "x"])
)
KEY_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "member": SUBJECTS,
    "group": SUBJECTS,
    "connections": NUMBERS,
    "cps": NUMBERS,
    "cpu_pct": NUMBERS,
    "throughput_gbps": NUMBERS,
    "serving": NUMBERS,
    "ts": TIMES,
    "occurred_at": TIMES,
    "actor": TEXTS,
    "reason": TEXTS,
    "correlation_id": TEXTS,
    "causation_id": TEXTS,
    "event_id": TEXTS,
    "bogus": NUMBERS,
    "occured_at": TIMES,
}


@st.composite
def load_lines(draw: st.DrawFn) -> dict[str, Any]:
    line = typical(draw(st.integers(0, 500)))
    for key in draw(st.lists(st.sampled_from(sorted(line)), max_size=3)):
        if key != "type":
            line.pop(key, None)
    for key in draw(st.lists(st.sampled_from(sorted(KEY_VALUES)), max_size=4, unique=True)):
        line[key] = draw(KEY_VALUES[key], label=key)
    return line


@settings(max_examples=300, deadline=None)
@given(line=load_lines())
def test_a_load_line_decodes_the_same_on_both_paths(line: dict[str, Any]) -> None:
    agree(line)


def agree(line: dict[str, Any]) -> None:
    """The fast path refuses ``line`` or decodes it exactly as the general path does."""
    fast = _fast_load(dict(line), "f.jsonl", 7)
    try:
        general = to_new_event(Record(7, dict(line)), REGISTRY, source="f.jsonl")
    except TwinInputError:
        assert fast is None, f"the fast path took a line the general path refuses: {line!r}"
        return
    if fast is None:
        return
    assert fast == general
    # Equal is not enough: 1 == 1.0 == True, but they are stored differently.
    for name in ("member", "group", "connections", "cps", "cpu_pct", "throughput_gbps"):
        assert type(getattr(fast.event, name)) is type(getattr(general.event, name))
    assert type(fast.event.serving) is type(general.event.serving)
    assert json.dumps(fast.event.to_data()) == json.dumps(general.event.to_data())
    for name in ("event_id", "occurred_at", "actor", "reason", "correlation_id", "causation_id"):
        assert type(getattr(fast, name)) is type(getattr(general, name))


@pytest.mark.parametrize("key", sorted(KEY_VALUES))
def test_every_odd_value_of_every_key_decodes_the_same_on_both_paths(key: str) -> None:
    odd: list[Any] = [None, True, False, 0, -1, 1, 3, 100, 101, -0.0, 0.5, 99.99, 100.0]
    odd += [100.000001, 10**15, 10**15 + 1, -(10**15), 1e15, 1.0000001e15, 2**63 - 1]
    odd += [float("nan"), float("inf"), "", "1", "1_01", "1_05", "a\u202eb", "x\x00", "\u00a0"]
    odd += ["2026-03-14T01:00:00Z", "2026-03-14T01:00:00", "2026-02-29T01:00:00Z", [], {}]
    for member in (True, False):
        base = typical(0 if member else 1)
        for value in odd:
            agree({**base, key: value})
        agree({k: v for k, v in base.items() if k != key})
