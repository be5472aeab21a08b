"""Generate ``incident-0412.jsonl``, the bundled incident that ``twin demo`` replays.

The file is self-contained: its first lines are the genesis events of
``dual-site.toml`` (in the order ``twin init --topology`` makes them), then the
night of 2026-04-12 as the monitoring, the pager and the operators recorded it.
The story is told in ``README.md``.

Deterministic (one seeded RNG, stdlib only): running it again rewrites the file
byte for byte. ``--check`` compares instead of writing and exits 1 on a difference.

    uv run python examples/make_incident.py           # rewrite examples/incident-0412.jsonl
    uv run python examples/make_incident.py --check   # is the committed file up to date?
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TOPOLOGY = HERE / "dual-site.toml"
OUTPUT = HERE / "incident-0412.jsonl"

SEED = 412
DAY = datetime(2026, 4, 12, tzinfo=UTC)
INCIDENT = "INC-0412"
GENESIS_AT = "00:55:00"
SAMPLES_FROM = "01:00:00"
SAMPLES_TO = "03:50:00"
SAMPLE_EVERY_S = 30

OLD_VERSION = "R81.20"
NEW_VERSION = "R82"
UPGRADED = ["2_01", "2_02", "2_03", "2_04", "2_05", "2_06"]  # logical group B: the standby site
HOT_MEMBER = "1_03"
STORY_START = 214  # `twin demo` opens the TUI here (a `# bookmark:` line of the file)
SITE_MEMBERS = 6

# Group load as the monitor would see it with all six members of the ACTIVE site
# serving: (time, connections, cps, throughput Gbps, mean CPU %). Between the
# knots the load moves linearly; each sample adds a little noise.
LOAD_CURVE = [
    ("01:00:00", 3_400_000, 122_000, 18.0, 44.0),
    ("01:40:00", 3_300_000, 116_000, 17.0, 42.0),
    ("02:00:00", 3_600_000, 135_000, 21.0, 47.0),  # the nightly batch replication starts
    ("02:10:00", 5_300_000, 215_000, 37.0, 64.0),
    ("02:14:00", 5_900_000, 245_000, 43.0, 70.0),  # peak
    ("02:27:00", 5_700_000, 236_000, 41.0, 68.0),
    ("02:45:00", 3_300_000, 118_000, 17.5, 43.0),  # batch done
    ("03:50:00", 3_000_000, 104_000, 15.0, 40.0),
]


def at(clock: str) -> datetime:
    """``HH:MM:SS`` on the incident night."""
    h, m, s = (int(p) for p in clock.split(":"))
    return DAY + timedelta(hours=h, minutes=m, seconds=s)


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with a Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- genesis: the topology, exactly as twin init --topology reads it ------------------------------


def genesis() -> list[dict[str, Any]]:
    """The topology's tables as genesis event lines (note, sites ... links, settings)."""
    doc = tomllib.loads(TOPOLOGY.read_text(encoding="utf-8"))
    envelope = {
        "ts": iso(at(GENESIS_AT)),
        "actor": "topology",
        "reason": f"genesis from {TOPOLOGY.name}",
    }
    out: list[dict[str, Any]] = []
    deployment = doc.get("deployment", {})
    if "name" in deployment:
        out.append({"type": "note", "text": f"topology {deployment['name']}"})
    for table, event_type in (
        ("site", "site_added"),
        ("orchestrator", "orchestrator_added"),
        ("group", "group_created"),
        ("member", "member_added"),
        ("link", "link_added"),
    ):
        out.extend({"type": event_type, **entry} for entry in doc.get(table, []))
    if "checkpoint_interval_s" in deployment:
        seconds = deployment["checkpoint_interval_s"]
        out.append({"type": "checkpoint_interval_changed", "seconds": seconds})
    return [{"ts": envelope["ts"], **line, **_tail(envelope)} for line in out]


def _tail(envelope: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in envelope.items() if k != "ts"}


# -- the story ------------------------------------------------------------------------------------


def story() -> list[tuple[datetime, dict[str, Any]]]:
    """Every event of the night except the periodic group load samples."""
    events: list[tuple[datetime, dict[str, Any]]] = []

    def add(clock: str, actor: str, reason: str | None = None, **fields: Any) -> None:
        line: dict[str, Any] = dict(fields)
        line["actor"] = actor
        if reason is not None:
            line["reason"] = reason
        events.append((at(clock), line))

    alice, bob, carol, dave = "ops:alice", "ops:bob", "ops:carol", "ops:dave"

    # 01:00 the maintenance window opens: MVC upgrade of the standby site (group B).
    add(
        "01:00:10",
        alice,
        type="note",
        text="MW-0412 opens: MVC upgrade of site 2 (logical group B) to R82; "
        "SMO image auto-clone disabled",
    )
    add(
        "01:02:00",
        bob,
        "cut checkpoint disk writes during MW-0412",
        type="checkpoint_interval_changed",
        seconds=300,
    )
    start = at("01:05:00")
    for index, member in enumerate(UPGRADED):
        began = start + timedelta(minutes=8 * index)
        done = began + timedelta(minutes=6, seconds=5 * index)
        reason = f"MW-0412 MVC upgrade, group B, {index + 1}/{len(UPGRADED)}"
        add(
            began.strftime("%H:%M:%S"),
            alice,
            reason,
            type="upgrade_started",
            member=member,
            to_version=NEW_VERSION,
        )
        add(
            done.strftime("%H:%M:%S"),
            "monitor",
            type="upgrade_finished",
            member=member,
            version=NEW_VERSION,
        )
    add(
        "01:53:30",
        alice,
        type="note",
        text="site 2 on R82, site 1 stays on R81.20 (MVC) until the sync path is re-validated",
    )

    # 01:20-01:56 a Virtual System capacity test on site 1: create, remove, create again.
    test = "VS capacity test for the Q2 onboarding"
    for clock, kind, vs, member, memory in (
        ("01:20:15", "vs_created", "vs-11", "1_05", 24),
        ("01:23:40", "vs_created", "vs-12", "1_05", 24),
        ("01:26:05", "vs_created", "vs-13", "1_05", 32),
        ("01:29:30", "vs_created", "vs-14", "1_05", 28),  # 108 GB of 128: over the 80% limit
        ("01:33:00", "vs_removed", "vs-14", None, None),
        ("01:36:20", "vs_created", "vs-21", "1_06", 16),
        ("01:39:45", "vs_removed", "vs-12", None, None),
        ("01:42:10", "vs_created", "vs-22", "1_06", 16),
        ("01:45:30", "vs_removed", "vs-21", None, None),
        ("01:48:50", "vs_created", "vs-15", "1_05", 20),
        ("01:52:15", "vs_removed", "vs-13", None, None),
        ("01:55:40", "vs_removed", "vs-22", None, None),
    ):
        if kind == "vs_created":
            add(clock, carol, test, type=kind, vs=vs, member=member, memory_gb=memory)
        elif vs == "vs-14":
            add(clock, carol, "vs-14 pushed 1_05 over the 80% VS memory limit", type=kind, vs=vs)
        else:
            add(clock, carol, test, type=kind, vs=vs)

    # 02:03-02:11 a hot spot: elephant flows of the batch job pin 1_03.
    for clock, cpu, conns in (
        ("02:03:20", 78.5, 1_210_000),
        ("02:05:20", 82.0, 1_290_000),
        ("02:07:20", 86.4, 1_360_000),
        ("02:09:20", 88.9, 1_420_000),
        ("02:11:20", 91.2, 1_470_000),
    ):
        add(
            clock, "monitor", type="load_changed", member=HOT_MEMBER, cpu_pct=cpu, connections=conns
        )
    add(
        "02:05:45",
        "asg-alert",
        type="note",
        text="asg alert (performance): site 1, member 1_03: CPU above 80%",
    )
    add(
        "02:09:05",
        "monitor",
        "mho-1b port 1/49 (sync to mho-2b) down",
        type="link_failed",
        link="sync-1b",
    )
    add(
        "02:11:40",
        "monitor",
        type="member_failed",
        member=HOT_MEMBER,
        cause="pnote:Interface Active Check",
    )
    add(
        "02:14:00",
        "pager",
        type="note",
        text="02:14 pager fired: CPU above 80% on site 1 (1_01, 1_02, 1_04-1_06) after 1_03 failed",
    )
    add(
        "02:16:30",
        alice,
        "isolate 1_03 (pnote Interface Active Check) for investigation",
        type="member_admin_changed",
        member=HOT_MEMBER,
        up=False,
    )
    add(
        "02:19:10",
        alice,
        "try to return 1_03 to service",
        type="member_admin_changed",
        member=HOT_MEMBER,
        up=True,
    )
    add(
        "02:19:40",
        alice,
        type="note",
        text="admin UP did not lift the fault: 1_03 stays DOWN (pnote Interface Active Check)",
    )
    add(
        "02:23:50",
        dave,
        "replaced the transceiver in mho-1b port 1/49",
        type="link_restored",
        link="sync-1b",
    )
    add(
        "02:26:00",
        alice,
        "site 1 degraded (1_03 down, CPU above 80%): fail over to site 2",
        type="site_failover",
        site=2,
    )
    add(
        "02:40:00",
        alice,
        type="note",
        text="batch replication finished; load back at night level",
    )
    add(
        "02:52:30",
        "monitor",
        "1_03 back after its downlink DAC was reseated",
        type="member_recovered",
        member=HOT_MEMBER,
    )
    add(
        "03:05:00",
        alice,
        "site 1 healthy again (6/6 UP): fail back",
        type="site_failover",
        site=1,
    )

    # 03:10 the change board calls the upgrade off until the root cause is known.
    add(
        "03:10:00",
        alice,
        type="note",
        text="change board: roll site 2 back to R81.20 until the INC-0412 RCA is done",
    )
    for index, member in enumerate(UPGRADED):
        clock = (at("03:12:00") + timedelta(minutes=4 * index)).strftime("%H:%M:%S")
        add(
            clock,
            alice,
            "sp_upgrade --revert (MVC rollback)",
            type="upgrade_rolled_back",
            member=member,
        )
    add("03:30:30", carol, "VS capacity test over", type="vs_removed", vs="vs-11")
    add("03:31:00", carol, "VS capacity test over", type="vs_removed", vs="vs-15")
    add(
        "03:44:00",
        bob,
        "back to the recommended 60 s: 300 s raised disk writes",
        type="checkpoint_interval_changed",
        seconds=60,
    )
    add(
        "03:50:00",
        alice,
        type="note",
        text="INC-0412 resolved; follow-ups: RCA of 1_03 Interface Active Check, "
        "jumbo frames on sync-1b, re-plan the R82 upgrade",
    )
    return events


# -- the group load samples -----------------------------------------------------------------------


def _curve(moment: datetime) -> tuple[float, float, float, float]:
    knots = [(at(clock), values) for clock, *values in LOAD_CURVE]
    for (t0, v0), (t1, v1) in itertools.pairwise(knots):
        if t0 <= moment <= t1:
            f = (moment - t0) / (t1 - t0)
            a, b, c, d = (x + (y - x) * f for x, y in zip(v0, v1, strict=True))
            return a, b, c, d
    a, b, c, d = knots[-1][1]
    return a, b, c, d


def sample_times(rng: random.Random) -> Iterator[datetime]:
    """About every 30 s, with the monitor's few seconds of jitter."""
    moment, end = at(SAMPLES_FROM), at(SAMPLES_TO)
    while moment <= end:
        yield moment + timedelta(seconds=rng.randint(-4, 4) if moment > at(SAMPLES_FROM) else 0)
        moment += timedelta(seconds=SAMPLE_EVERY_S)


class Serving:
    """How many members of the ACTIVE site are UP: the monitor's CPU is their mean."""

    def __init__(self) -> None:
        self.active = 1
        self.down: set[str] = set()

    def apply(self, line: dict[str, Any]) -> None:
        """Follow the events that change who serves."""
        kind = line["type"]
        member = line.get("member")
        if kind in ("member_failed", "upgrade_started"):
            self.down.add(member)
        elif kind in ("member_recovered", "upgrade_finished", "upgrade_rolled_back"):
            self.down.discard(member)
        elif kind == "site_failover":
            self.active = line["site"]

    def count(self) -> int:
        up = [n for n in range(1, SITE_MEMBERS + 1) if f"{self.active}_{n:02d}" not in self.down]
        return len(up) or SITE_MEMBERS


def group_sample(moment: datetime, serving: int, rng: random.Random) -> dict[str, Any]:
    """One group-level load sample: the offered load, and the mean CPU of who serves."""
    conns, cps, gbps, cpu = _curve(moment)
    wobble = 1.0 + 0.02 * math.sin(moment.timestamp() / 600.0)
    noise = [rng.uniform(-0.015, 0.015) for _ in range(4)]
    cpu_now = cpu * wobble * (1 + noise[3]) * SITE_MEMBERS / serving
    return {
        "type": "load_changed",
        "group": 1,
        "connections": int(round(conns * wobble * (1 + noise[0]), -3)),
        "cps": int(round(cps * wobble * (1 + noise[1]), -2)),
        "throughput_gbps": round(gbps * wobble * (1 + noise[2]), 1),
        "cpu_pct": round(min(cpu_now, 99.0), 1),
        "actor": "monitor",
    }


# -- putting it together --------------------------------------------------------------------------


def incident_lines() -> list[dict[str, Any]]:
    """Every line of the file after genesis, in time order."""
    rng = random.Random(SEED)
    stamped: list[tuple[datetime, int, int, dict[str, Any] | None]] = []
    for index, (moment, line) in enumerate(story()):
        stamped.append((moment, 0, index, line))
    for index, moment in enumerate(sample_times(rng)):
        stamped.append((moment, 1, index, None))  # filled in below, in time order
    stamped.sort(key=lambda item: (item[0], item[1], item[2]))
    serving = Serving()
    out: list[dict[str, Any]] = []
    for moment, _kind, _index, line in stamped:
        if line is None:
            line = group_sample(moment, serving.count(), rng)
        else:
            serving.apply(line)
        out.append({"ts": iso(moment), **line, "correlation_id": INCIDENT})
    return out


def render() -> str:
    """The whole file as text."""
    header = [
        "# INC-0412: a night on the dual-site Maestro deployment of dual-site.toml.",
        "# Generated by examples/make_incident.py (seeded); do not edit by hand, regenerate.",
        "# The first lines are the topology's genesis events; the story is in examples/README.md.",
        f"# bookmark: {STORY_START} 02:05 1_03 runs hot: the first sign of INC-0412 "
        "(the sync link fails at #225, 1_03 at #233, the pager fires at #238)",
    ]
    body = [json.dumps(line) for line in (*genesis(), *incident_lines())]
    return "\n".join([*header, *body]) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, compare) ``incident-0412.jsonl``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run examples/make_incident.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    events = sum(1 for line in text.splitlines() if not line.startswith("#"))
    print(f"wrote {args.output} ({events} events)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
