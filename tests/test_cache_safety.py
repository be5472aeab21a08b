"""A journal from a stranger: nothing in its cache tables runs, and nothing there is believed.

The snapshots table sits outside the hash chain, so anyone can INSERT any row.
These tests plant hostile rows — a pickle that would write a file when
unpickled, forged plain-data states, genuine blobs moved to other rows — and
check that every command that reads snapshots runs nothing, ignores the rows,
prints what a clean journal prints, and rebuilds the cache.
"""

from __future__ import annotations

import json
import pickle
import sqlite3
import zlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journal import STATE_KEY, Journal
from journal.cache_seal import MAGIC, unseal
from journal.snapshots import STRUCTURE_KEY
from tests.cli_helpers import run_twin as twin
from tests.test_cli import topology_rows, write_jsonl
from twin.events import default_registry
from twin.reducer import apply
from twin.state import TwinState
from twin.state_data import from_canonical
from twin.testing.builders import smoke_events
from twin.testing.strategies import event_sequences

HEAD = 1090


class _Payload:
    """Unpickling this writes a file: the proof that code from the journal ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def _long_events(tmp_path: Path) -> Path:
    """#1-#9 topology, #10-#1089 group loads, #1090 1_02 fails (state snapshot at #1000)."""
    rows = topology_rows(4)
    rows += [
        {"type": "load_changed", "group": 1, "cps": 1000 + n, "cpu_pct": 40 + n % 50}
        for n in range(1080)
    ]
    rows.append({"type": "member_failed", "member": "1_02", "cause": "pnote"})
    return write_jsonl(tmp_path / "long.jsonl", rows)


def _journal(tmp_path: Path, name: str) -> Path:
    db = tmp_path / name
    assert twin("init", db).code == 0
    assert twin("import", db, _long_events(tmp_path)).code == 0
    return db


def _keys(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [k for (k,) in conn.execute("SELECT DISTINCT key FROM snapshots")]


def _plant(db: Path, rows: list[tuple[str, int, bytes]]) -> None:
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT OR REPLACE INTO snapshots (key, branch, seq, digest, blob, created_at) "
            "VALUES (?, '', ?, '', ?, '2026-01-01T00:00:00Z')",
            rows,
        )


def _hostile_blobs(marker: Path) -> list[bytes]:
    evil = pickle.dumps(_Payload(marker))
    return [
        evil,  # the old format: a bare pickle
        zlib.compress(evil),  # the old engine format: a compressed pickle
        MAGIC + b"\0" * 32 + evil,  # dressed as a sealed blob, with a made-up seal
        MAGIC + b"\0" * 32 + zlib.compress(evil),
    ]


def test_planted_pickles_run_nothing_and_are_ignored_by_every_reading_command(
    tmp_path: Path,
) -> None:
    clean = _journal(tmp_path, "clean.db")
    hostile = _journal(tmp_path, "hostile.db")
    # Let the twin write its own caches first, so that real keys exist to aim at.
    assert twin("state", hostile).code == 0
    assert any(k.startswith("engine:") for k in _keys(hostile))
    # The reducer-state and structure keys too (an import writes the structure only
    # every 10,000 events, and the state only when a reader folds it).
    keys = sorted({*_keys(hostile), STATE_KEY, STRUCTURE_KEY})
    marker = tmp_path / "pwned"
    blobs = _hostile_blobs(marker)
    # Every cache key and every seq a reader could pick, with every kind of hostile blob.
    _plant(
        hostile,
        [(key, seq, blobs[seq % len(blobs)]) for key in keys for seq in range(1, HEAD + 1)],
    )

    for args in (
        ("state", "--at", "1050", "--format", "json"),
        ("run", "--from", "1080", "--to", str(HEAD), "--format", "jsonl"),
        ("diff", "100", str(HEAD), "--format", "json"),
    ):
        got = twin(args[0], hostile, *args[1:])
        want = twin(args[0], clean, *args[1:])
        assert got.code == 0 and got.traceback is None, got.err
        assert not marker.exists(), f"`twin {args[0]}` ran code from the journal"
        assert got.out == want.out
    appended = twin("append", hostile, "note", "text=still safe")
    assert appended.code == 0, appended.err
    assert not marker.exists()
    assert twin("verify", hostile).code == 0


def test_the_cache_is_rebuilt_over_rows_that_do_not_open(tmp_path: Path) -> None:
    db = _journal(tmp_path, "j.db")
    marker = tmp_path / "pwned"
    planted = pickle.dumps(_Payload(marker))
    with Journal.open(db) as j:
        j.state_at(HEAD)  # writes the state snapshot at #1000
    _plant(db, [(STATE_KEY, 1000, planted), (STATE_KEY, 500, planted)])
    with Journal.open(db) as j:
        state = j.state_at(HEAD)
    assert not marker.exists()
    assert state.members["1_02"]["state"] == "DOWN"
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT seq, blob FROM snapshots WHERE key = ? ORDER BY seq", (STATE_KEY,)
        ).fetchall()
    assert [seq for seq, _ in rows] == [500, 1000]
    rows = [(seq, blob) for seq, blob in rows if seq == 1000]
    # Replaced by the twin's own sealed rows, which open again.
    for seq, blob in rows:
        assert unseal(f"{STATE_KEY}\x00\x00{seq}", blob) is not None


def test_metric_history_chunks_planted_or_moved_are_not_believed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    import twin.history
    from twin.history import MetricHistory
    from twin.plugin_manager import TwinPluginManager

    chunk = 256
    monkeypatch.setattr(twin.history, "CHUNK", chunk)
    db = _journal(tmp_path, "j.db")
    manager = TwinPluginManager(autoload=False).load()
    profile = manager.profile()
    with Journal.open(db, registry=manager.event_registry()) as j:
        history = MetricHistory.open(j, manager, profile, series=[("system", "load.cps")])
        want = history.column("load.cps")
        key = history.key
    assert chunk <= HEAD, "the journal holds a full chunk, which is kept"
    marker = tmp_path / "pwned"
    blobs = _hostile_blobs(marker)
    with sqlite3.connect(db) as conn:
        (genuine,) = conn.execute(
            "SELECT blob FROM snapshots WHERE key = ? AND seq = ?", (key, chunk)
        ).fetchone()
    # Pickles and forged seals at every seq; the genuine sealed chunk moved one row on.
    _plant(db, [(key, seq, blobs[seq % len(blobs)]) for seq in range(1, HEAD + 1)])
    _plant(db, [(key, chunk + 1, genuine)])
    with Journal.open(db, registry=manager.event_registry()) as j:
        again = MetricHistory.open(j, manager, profile, series=[("system", "load.cps")])
        assert np.array_equal(again.column("load.cps"), want, equal_nan=True)
    assert not marker.exists()


def _forged_state(db: Path, seq: int) -> bytes:
    """A plain-data state that lies: the member that will fail is shown DOWN_ADMIN already."""
    with Journal.open(db) as j:
        state = j.state_at(seq)
    data = state.to_canonical()
    for member in data["members"]:
        member["state"], member["admin_down"] = "DOWN_ADMIN", True
    return zlib.compress(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))


def test_a_forged_plain_data_state_is_not_believed(tmp_path: Path) -> None:
    db = _journal(tmp_path, "j.db")
    forged = _forged_state(db, 1000)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM snapshots")
    _plant(db, [(STATE_KEY, 1000, forged), (STATE_KEY, HEAD, MAGIC + b"\1" * 32 + forged)])
    with Journal.open(db) as j:
        state = j.state_at(HEAD)
    assert [m["state"] for _, m in sorted(state.members.items())] == ["UP", "DOWN", "UP", "UP"]
    shown = json.loads(twin("state", db, "--format", "json").out)
    states = {n["id"]: n.get("state") for n in shown["topology"]["nodes"]}
    assert states["member:1_01"] == "UP" and states["member:1_02"] == "DOWN"


def test_a_genuine_snapshot_moved_to_another_row_is_not_used(tmp_path: Path) -> None:
    db = _journal(tmp_path, "j.db")
    with Journal.open(db) as j:
        j.state_at(HEAD)
    with sqlite3.connect(db) as conn:
        (blob,) = conn.execute(
            "SELECT blob FROM snapshots WHERE key = ? AND seq = 1000", (STATE_KEY,)
        ).fetchone()
        conn.execute("DELETE FROM snapshots")
    # The state after #1000 presented as the state after the last event (where 1_02 is
    # DOWN): the seal names its row, so it does not open there.
    _plant(db, [(STATE_KEY, HEAD, blob)])
    with Journal.open(db) as j:
        state = j.state_at(HEAD)
    assert state.seq == HEAD and state.members["1_02"]["state"] == "DOWN"


def test_snapshots_written_under_another_users_key_are_not_read(tmp_path: Path) -> None:
    db = _journal(tmp_path, "j.db")
    theirs = {"TWIN_CACHE_KEY_FILE": str(tmp_path / "stranger.key")}
    ours = {"TWIN_CACHE_KEY_FILE": str(tmp_path / "mine.key")}
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM snapshots")
    assert twin("state", db, env=theirs).code == 0
    before = _keys(db)
    with sqlite3.connect(db) as conn:
        stranger_rows = conn.execute("SELECT key, seq, blob FROM snapshots").fetchall()
    assert len(stranger_rows) == HEAD // 64
    # Our process does not open them, and writes its own in their place.
    assert twin("state", db, env=ours).code == 0
    with sqlite3.connect(db) as conn:
        now = {(k, s): b for k, s, b in conn.execute("SELECT key, seq, blob FROM snapshots")}
    assert set(_keys(db)) == set(before)
    assert all(now[(k, s)] != b for k, s, b in stranger_rows)


REGISTRY = default_registry()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=event_sequences(max_events=50), split=st.integers(min_value=0, max_value=80))
def test_a_state_rebuilt_from_plain_data_continues_exactly(events: Any, split: int) -> None:
    decoded = [REGISTRY.decode(kind, data) for kind, data in events]
    split = min(split, len(decoded))
    state = TwinState()
    for seq, event in enumerate(decoded[:split], start=1):
        apply(state, event, seq=seq)
    rebuilt = from_canonical(orjson.loads(orjson.dumps(state.to_canonical())))
    assert rebuilt.digest() == state.digest()
    assert rebuilt.node_link_data() == state.node_link_data()
    for seq, event in enumerate(decoded[split:], start=split + 1):
        apply(state, event, seq=seq)
        apply(rebuilt, event, seq=seq)
        assert rebuilt.digest() == state.digest()
        assert rebuilt.node_link_data() == state.node_link_data()


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.pop("members"),
        lambda d: d["members"][0].update(group=99),
        lambda d: d["groups"][0]["members"].append("9_99"),
        lambda d: d["links"][0].update(a="member:9_99"),
        lambda d: d["members"][0].update(cores="sixteen"),
        lambda d: d.update(seq=-1),
        lambda d: d["sites"].append(dict(d["sites"][0])),
    ],
)
def test_state_data_that_does_not_hold_together_is_refused(damage: Any) -> None:
    state = TwinState()
    for seq, (kind, data) in enumerate(smoke_events(), start=1):
        apply(state, REGISTRY.decode(kind, data), seq=seq)
    data = state.to_canonical()
    assert from_canonical(data).digest() == state.digest()  # undamaged, it loads
    damage(data)
    with pytest.raises(ValueError, match=r"\w"):  # any reason, as long as it is refused
        from_canonical(data)
