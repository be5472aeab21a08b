"""Where `twin verify`'s time goes, and what storing each event's canonical bytes would save.

    uv run python benchmarks/verify_cost.py J.db              # its first 200,000 events
    uv run python benchmarks/verify_cost.py J.db --events 50000

Reads J (never writes it) and measures, in this one process, the CPU time per
event of:

- ``verify today``: the verify loop (:func:`journal.hashing.check_rows`) over the
  stored columns: read the 13 envelope columns, encode the canonical bytes, hash;
- ``read the 13 columns``: the same rows read and nothing else;
- ``read seq and hash``: two columns read and nothing else;
- ``encode and hash``: the loop minus the reading, on rows already in memory;
- ``stored canonical bytes``: a prototype of the other format, in a scratch
  file: each row stored as ``(seq, canonical bytes, 32-byte hash)`` and checked
  by hashing the stored bytes.

The last is a prototype, not a format: verify would vouch for the canonical
bytes only, so readers would have to read them too (see docs/performance.md,
"Verify 1M ≤ 2 s"). Each figure is the fastest of ``--repeat`` runs; the
load average is printed with them, since other processes inflate CPU time too.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from journal.hashing import GENESIS_HASH, ChainCursor, canonical_bytes, check_rows
from journal.reading import COLUMNS_SQL

CHUNK = 10_000


def _rows_sql(limit: int) -> str:
    return f"SELECT {COLUMNS_SQL} FROM events WHERE seq <= {limit} ORDER BY seq"


def measure(path: Path, events: int | None, repeat: int) -> list[tuple[str, float]]:
    """``(what, CPU µs per event)`` for each measurement, fastest of ``repeat`` runs."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    head = int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])
    n = head if events is None else min(events, head)
    if n == 0:
        raise SystemExit(f"{path}: no events on the main line")
    rows_sql = _rows_sql(n)

    def verify_today() -> None:
        cursor = ChainCursor()
        rows = conn.execute(rows_sql)
        while chunk := rows.fetchmany(CHUNK):
            if not check_rows(cursor, chunk):
                raise SystemExit(f"{path}: {cursor.problem}")

    def read(sql: str) -> Callable[[], None]:
        def run() -> None:
            rows = conn.execute(sql)
            while rows.fetchmany(CHUNK):
                pass

        return run

    with tempfile.TemporaryDirectory() as scratch:
        other = sqlite3.connect(Path(scratch) / "canonical.db")
        other.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, canon BLOB, hash BLOB)")
        other.executemany(
            "INSERT INTO events VALUES (?, ?, ?)",
            (
                (r[0], canonical_bytes(*r[:12]), bytes.fromhex(r[12]))
                for r in conn.execute(rows_sql)
            ),
        )
        other.commit()
        in_memory = conn.execute(rows_sql).fetchall()

        def encode_and_hash() -> None:
            check_rows(ChainCursor(), in_memory)

        def stored_canonical() -> None:
            sha256 = hashlib.sha256
            prev = bytes.fromhex(GENESIS_HASH)
            rows = other.execute("SELECT seq, canon, hash FROM events ORDER BY seq")
            while chunk := rows.fetchmany(CHUNK):
                for seq, canon, stored in chunk:
                    prev = sha256(prev + canon).digest()
                    if prev != stored:
                        raise SystemExit(f"prototype: seq {seq} does not match")

        runs: list[tuple[str, Callable[[], None]]] = [
            ("verify today (13 columns, encode, hash)", verify_today),
            ("read the 13 columns", read(rows_sql)),
            ("read seq and hash", read(f"SELECT seq, hash FROM events WHERE seq <= {n}")),
            ("encode and hash (rows in memory)", encode_and_hash),
            ("stored canonical bytes, binary hash", stored_canonical),
        ]
        best = {what: float("inf") for what, _ in runs}
        for _ in range(repeat):
            for what, run in runs:  # alternated, so a change in load falls on every row
                started = time.process_time()
                run()
                best[what] = min(best[what], time.process_time() - started)
        other.close()
    conn.close()
    return [(what, best[what] / n * 1e6) for what, _ in runs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("journal", type=Path)
    parser.add_argument(
        "--events",
        type=int,
        default=200_000,
        help="measure the first N events (default 200,000; the rows are also held in memory)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (the fastest counts)")
    args = parser.parse_args(argv)
    if not args.journal.is_file():
        parser.error(f"{args.journal}: no such file")
    figures = measure(args.journal, args.events, max(1, args.repeat))
    for what, micros in figures:
        print(f"{what:42s} {micros:6.2f} µs/event CPU")
    print(
        f"load average {os.getloadavg()[0]:.2f}, Python {sys.version.split()[0]}, "
        f"SQLite {sqlite3.sqlite_version}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
