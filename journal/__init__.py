"""The event store: an append-only, hash-chained SQLite journal.

One SQLite file (WAL) holds the events of a twin, the what-if branches forked
from it and a disposable cache of snapshots. :class:`Journal` is the whole
public surface; the modules behind it each do one job (schema, hashing, ids,
reading, appending, branches, snapshots, verifying, exporting).
"""

from __future__ import annotations

from journal.hashing import GENESIS_HASH, canonical_bytes, chain_hash
from journal.ids import new_event_id, new_event_ids
from journal.results import AppendResult, BranchInfo, VerifyResult
from journal.schema import FORMAT_VERSION
from journal.snapshots import SNAPSHOT_EVERY, STATE_KEY
from journal.store import Journal

__all__ = [
    "FORMAT_VERSION",
    "GENESIS_HASH",
    "SNAPSHOT_EVERY",
    "STATE_KEY",
    "AppendResult",
    "BranchInfo",
    "Journal",
    "VerifyResult",
    "canonical_bytes",
    "chain_hash",
    "new_event_id",
    "new_event_ids",
]
