"""The snapshot cache stays bounded per journal, however many profiles are tried."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from journal.snapshots import KEYS_KEPT
from tests.cli_helpers import run_twin

ROWS = [
    {"ts": "2026-03-14T01:00:00Z", "type": "site_added", "site": 1},
    {"type": "group_created", "group": 1},
    {"type": "member_added", "member": "1_01", "group": 1, "site": 1},
    *({"type": "load_changed", "group": 1, "cpu_pct": i % 90} for i in range(200)),
]


def engine_keys(journal: Path) -> list[str]:
    with sqlite3.connect(journal) as conn:
        rows = conn.execute("SELECT DISTINCT key FROM snapshots WHERE key LIKE 'engine:%'")
        return sorted(str(r[0]) for r in rows)


def test_trying_many_profiles_keeps_only_the_latest_few(tmp_path: Path) -> None:
    source = tmp_path / "e.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    journal = tmp_path / "j.db"
    run_twin("init", journal)
    run_twin("import", journal, source)
    seen: list[set[str]] = []
    for n in range(KEYS_KEPT + 2):
        profile = tmp_path / f"p{n}.toml"
        profile.write_text(f'[parameters]\n"sync.network_gbps" = {10 + n}\n', encoding="utf-8")
        assert run_twin("run", journal, "--profile", profile, "--format", "jsonl").code == 0
        seen.append(set(engine_keys(journal)))
    assert len(seen[-1]) == KEYS_KEPT
    newest = seen[-1] - seen[-2]
    assert len(newest) == 1  # the profile just used is always kept
    assert not (seen[0] & seen[-1])  # the first profile's snapshots were evicted
    listing = run_twin("snapshots", journal)
    assert listing.code == 0
    assert f"kept: the {KEYS_KEPT} keys of each kind written most recently" in listing.out


def test_planted_rows_claiming_to_be_newer_cannot_evict_what_was_just_written(
    tmp_path: Path,
) -> None:
    source = tmp_path / "e.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    journal = tmp_path / "j.db"
    run_twin("init", journal)
    run_twin("import", journal, source)
    with sqlite3.connect(journal) as conn:
        conn.executemany(
            "INSERT INTO snapshots (key, branch, seq, digest, blob, created_at) "
            "VALUES (?, '', 64, '', x'00', '9999-12-31T00:00:00Z')",
            [(f"engine:planted:{i}",) for i in range(KEYS_KEPT + 2)],
        )
    assert run_twin("run", journal, "--format", "jsonl").code == 0
    keys = engine_keys(journal)
    assert len(keys) == KEYS_KEPT
    assert any(not k.startswith("engine:planted") for k in keys)
