"""What changed between two points of a journal: topology, metrics, findings, events.

Metric values are compared with :func:`twin.units.same`, so float noise from
summing in another order is not reported as a change.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs

from twin.engine import Engine
from twin.replay import Replay
from twin.stored_events import USABLE_ERRORS, explain
from twin.units import same

# Fields of a record whose change people care about in a diff (derived load is in the metrics).
WATCHED = {
    "members": ("state", "version", "weight", "site", "group", "cause", "vs_memory_gb"),
    "links": ("up", "gbps", "dedicated", "jumbo"),
    "orchestrators": ("up",),
    "sites": ("active",),
    "groups": ("hypersync", "mode"),
}


@attrs.frozen
class Point:
    """The twin at one seq, kept as plain data."""

    seq: int
    state: dict[str, Any]
    metrics: dict[str, dict[str, dict[str, float]]]
    findings: list[dict[str, Any]]


def capture(engine: Engine, seq: int) -> Point:
    """Copy what the engine holds now."""
    return Point(
        seq,
        engine.state.to_canonical(),
        engine.metrics.to_json(),
        [f.to_json() for f in engine.findings],
    )


def _index(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(r.get("id", r.get("vs"))): r for r in records}


def topology_changes(a: Point, b: Point) -> list[dict[str, Any]]:
    """Added, removed and changed sites, orchestrators, groups, members and links."""
    changes: list[dict[str, Any]] = []
    for table, fields in WATCHED.items():
        before, after = _index(a.state[table]), _index(b.state[table])
        kind = table[:-1]
        for key in sorted(set(before) | set(after)):
            if key not in before:
                changes.append({"kind": kind, "id": key, "change": "added"})
            elif key not in after:
                changes.append({"kind": kind, "id": key, "change": "removed"})
            else:
                for field in fields:
                    old, new = before[key].get(field), after[key].get(field)
                    if old != new:
                        changes.append(_change(kind, key, field, before[key], after[key]))
    return changes


def _change(
    kind: str, key: str, field: str, before: dict[str, Any], after: dict[str, Any]
) -> dict[str, Any]:
    """One changed field; a member's default weight (None) is given as its value (its cores)."""
    row: dict[str, Any] = {
        "kind": kind,
        "id": key,
        "change": field,
        "a": before.get(field),
        "b": after.get(field),
    }
    if kind == "member" and field == "weight":
        for side, record in (("a", before), ("b", after)):
            if record.get("weight") is None and record.get("cores") is not None:
                row[side] = record["cores"]
                row[f"{side}_default"] = True
    return row


def metric_changes(a: Point, b: Point) -> list[dict[str, Any]]:
    """Every metric whose value differs, sorted by the size of the relative change."""
    rows: list[dict[str, Any]] = []
    for subject in sorted(set(a.metrics) | set(b.metrics)):
        names_a, names_b = a.metrics.get(subject, {}), b.metrics.get(subject, {})
        for name in sorted(set(names_a) | set(names_b)):
            va = names_a.get(name, {}).get("value")
            vb = names_b.get(name, {}).get("value")
            if same(va, vb):  # float noise (3412999.999999999 vs 3413000.0) is no change
                continue
            delta = None if va is None or vb is None else vb - va
            pct = None
            if delta is not None and va:
                pct = delta / abs(va) * 100.0
            rows.append(
                {"subject": subject, "metric": name, "a": va, "b": vb, "delta": delta, "pct": pct}
            )

    def size(row: dict[str, Any]) -> float:
        if row["pct"] is not None:
            return abs(float(row["pct"]))
        return float("inf") if row["delta"] is None or row["delta"] else 0.0

    rows.sort(key=lambda r: (-size(r), r["subject"], r["metric"]))
    return rows


def finding_changes(a: Point, b: Point) -> dict[str, list[dict[str, Any]]]:
    """Findings raised (active at B, not at A) and resolved (active at A, not at B)."""
    key_a = {(f["rule"], f["subject"]): f for f in a.findings}
    key_b = {(f["rule"], f["subject"]): f for f in b.findings}
    return {
        "raised": [key_b[k] for k in sorted(key_b) if k not in key_a],
        "resolved": [key_a[k] for k in sorted(key_a) if k not in key_b],
    }


def diff(a: Point, b: Point, events_between: Counter[str]) -> dict[str, Any]:
    """The whole diff as plain data (``twin diff --format json``)."""
    return {
        "a": a.seq,
        "b": b.seq,
        "topology": topology_changes(a, b),
        "metrics": metric_changes(a, b),
        "findings": finding_changes(a, b),
        "events": dict(sorted(events_between.items())),
    }


def diff_between(replay: Replay, a: int, b: int, *, label: str | None = None) -> dict[str, Any]:
    """What changed from after event ``a`` to after event ``b`` (``twin diff``'s content).

    Seeks A, then steps on to B when they are close (counting the events
    between), or seeks B from its own snapshot when they are far apart.
    ``replay``'s engine is left at B.

    Args:
        replay: the journal (or branch) with the profile and rules in use.
        a: the earlier event (0: before the first).
        b: the later event.
        label: the source as named to people (for an event that cannot be replayed).

    Raises:
        TwinInputError: ``a`` or ``b`` is outside 0..head, or a stored event that the
            installed code cannot replay (named by its seq).
    """
    journal, branch = replay.journal, replay.branch
    replay.at(a)
    point_a = capture(replay.engine, a)
    counts: Counter[str] = Counter()
    if b - a <= replay.snapshot_every or not replay.snapshot_every:
        engine = replay.engine  # close together: step on from A
        for env in journal.read(a + 1, b, branch=branch):
            try:
                engine.step(env)
            except USABLE_ERRORS:
                explained = explain(journal.registry, env, label or journal.path)
                if explained is None:
                    raise
                raise explained from None
            counts[env.type] += 1
    else:  # far apart: seek B from its snapshot, only count the events between
        counts.update(env.type for env in journal.read(a + 1, b, branch=branch))
        replay.at(b)
    point_b = capture(replay.engine, b)
    return diff(point_a, point_b, counts)
