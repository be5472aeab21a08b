"""Write a realistic, valid N-event ``.jsonl`` for the benchmarks (deterministic, seeded).

The file starts with the genesis events of ``examples/dual-site.toml`` (2 sites,
4 orchestrators, one Security Group of 12 members, 33 links), then a long run
dominated by load samples, as a monitored deployment's journal is:

======================  ======  ==================================================
event                   share   notes
======================  ======  ==================================================
load_changed (group)    ~84%    connections, cps, CPU and throughput, every ~2 s
load_changed (member)   ~7%     a member's own sample (hot spots)
vs_created/vs_removed   ~3%     Virtual System churn, at most 64 GB per member
link_failed/restored    ~1.5%   at most 3 links down at once
member_failed/recovered ~1.5%   with a pnote cause; at most 2 faulted at once
upgrade_* (MVC waves)   ~1%     member by member to the next version; some rolled back
note                    ~0.5%
member_admin_changed    ~0.5%   admin DOWN then UP
weight_changed          ~0.3%
orchestrator_*          ~0.1%
site_failover           ~0.1%
checkpoint_interval     ~0.05%
======================  ======  ==================================================

That is the ``group`` mix (the default). The ``member`` mix swaps the two
kinds of sample: about 84% member samples (each member's monitor reports its
own connections, cps, CPU and throughput) and about 7% group samples. The two
mixes load the engine differently: a group sample changes every member of the
group, a member sample one member.

Every event is valid where it lands (the generator tracks what the reducer
would refuse), so the whole file imports. The same ``--events`` and ``--seed``
always give the same bytes.

    uv run python benchmarks/generate.py --events 200000 --mix member -o bench.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from twin.events import default_registry
from twin.topology import read_topology

ROOT = Path(__file__).resolve().parents[1]
TOPOLOGY = ROOT / "examples" / "dual-site.toml"
START = datetime(2026, 1, 5, tzinfo=UTC)
VERSIONS = ("R81.20", "R82", "R82.10", "R83")
CAUSES = (
    "pnote:Interface Active Check",
    "pnote:Problem Notification",
    "pnote:CoreXL Configuration",
    "pnote:Init",
    "hw:psu",
)
NOTES = (
    "shift handover",
    "asg alert (performance): CPU above threshold",
    "policy installed from SmartConsole",
    "config pulled from the SMO",
    "drop_monitor shows correction-layer drops",
)
VS_LIMIT_GB = 64.0

# (kind, weight): how often each kind of event is drawn; load samples fill the rest.
MIX = (
    ("member_load", 70),
    ("vs", 30),
    ("link", 15),
    ("member_fault", 15),
    ("upgrade", 10),
    ("note", 5),
    ("admin", 5),
    ("weight", 3),
    ("orchestrator", 1),
    ("failover", 1),
    ("checkpoint", 0.5),
)
OTHER_SHARE = 0.16


class Fleet:
    """What the reducer would know, so that every generated event applies."""

    def __init__(self, genesis: list[dict[str, Any]]) -> None:
        self.members = [e["member"] for e in genesis if e["type"] == "member_added"]
        self.links = [e["link"] for e in genesis if e["type"] == "link_added"]
        self.orchestrators = [
            e["orchestrator"] for e in genesis if e["type"] == "orchestrator_added"
        ]
        self.sites = sorted({e["site"] for e in genesis if e["type"] == "site_added"})
        version = next(
            e.get("version", VERSIONS[0]) for e in genesis if e["type"] == "member_added"
        )
        self.version = dict.fromkeys(self.members, version)
        self.faulted: set[str] = set()
        self.admin_down: set[str] = set()
        self.upgrading: str | None = None
        self.wave: list[str] = []
        self.links_down: set[str] = set()
        self.orchestrators_down: set[str] = set()
        self.vs: dict[str, tuple[str, float]] = {}
        self.vs_counter = 0
        self.active = self.sites[0]

    def vs_memory(self, member: str) -> float:
        return sum(gb for owner, gb in self.vs.values() if owner == member)

    def healthy(self) -> list[str]:
        return [
            m
            for m in self.members
            if m not in self.faulted and m not in self.admin_down and m != self.upgrading
        ]


def genesis_lines() -> list[dict[str, Any]]:
    """The topology's genesis events as file lines."""
    events = read_topology(TOPOLOGY, default_registry())
    return [{"type": e.type, **e.event.to_data()} for e in events]


def _load(rng: random.Random, step: int) -> dict[str, Any]:
    # a daily cycle plus noise: 3-6M connections, 100-250k cps, 40-75% CPU
    phase = (step % 43_200) / 43_200.0
    level = 0.5 - 0.5 * abs(2 * phase - 1)
    return {
        "type": "load_changed",
        "group": 1,
        "connections": int(3_000_000 + 3_000_000 * level * rng.uniform(0.9, 1.0)),
        "cps": round(100_000 + 150_000 * level * rng.uniform(0.9, 1.0), 1),
        "cpu_pct": round(40 + 35 * level * rng.uniform(0.9, 1.0), 1),
        "throughput_gbps": round(15 + 30 * level * rng.uniform(0.9, 1.0), 2),
        "actor": "monitor",
    }


MIXES = ("group", "member")
"""The load mixes: which kind of load sample dominates."""


def _member_sample(rng: random.Random, step: int, member: str) -> dict[str, Any]:
    # one member's share of the daily cycle, with its own noise
    phase = (step % 43_200) / 43_200.0
    level = 0.5 - 0.5 * abs(2 * phase - 1)
    return {
        "type": "load_changed",
        "member": member,
        "connections": int(250_000 + 250_000 * level * rng.uniform(0.8, 1.2)),
        "cps": round(8_000 + 12_000 * level * rng.uniform(0.8, 1.2), 1),
        "cpu_pct": round(min(100.0, 40 + 35 * level * rng.uniform(0.8, 1.3)), 1),
        "throughput_gbps": round(1.2 + 2.5 * level * rng.uniform(0.8, 1.2), 2),
        "actor": "monitor",
    }


def _other(
    kind: str, fleet: Fleet, rng: random.Random, mix: str = "group", step: int = 0
) -> dict[str, Any] | None:
    """One non-sample event of ``kind``, or None if none fits the fleet right now."""
    healthy = fleet.healthy()
    if kind == "member_load" and mix == "member":
        return _load(rng, step)  # the member mix swaps the kinds of sample
    if kind == "member_load":
        member = rng.choice(fleet.members)
        return {
            "type": "load_changed",
            "member": member,
            "cpu_pct": round(rng.uniform(30, 95), 1),
            "connections": rng.randrange(200_000, 1_500_000),
            "actor": "monitor",
        }
    if kind == "vs":
        if fleet.vs and (len(fleet.vs) > 20 or rng.random() < 0.5):
            vs = rng.choice(sorted(fleet.vs))
            del fleet.vs[vs]
            return {"type": "vs_removed", "vs": vs, "actor": "ops:carol", "reason": "VS retired"}
        member = rng.choice(fleet.members)
        memory = float(rng.choice((4, 8, 12, 16)))
        if fleet.vs_memory(member) + memory > VS_LIMIT_GB:
            return None
        fleet.vs_counter += 1
        vs = f"vs-{fleet.vs_counter}"
        fleet.vs[vs] = (member, memory)
        return {
            "type": "vs_created",
            "vs": vs,
            "member": member,
            "memory_gb": memory,
            "actor": "ops:carol",
            "reason": "VS onboarding",
        }
    if kind == "link":
        if fleet.links_down and (len(fleet.links_down) >= 3 or rng.random() < 0.5):
            link = rng.choice(sorted(fleet.links_down))
            fleet.links_down.discard(link)
            return {"type": "link_restored", "link": link, "actor": "monitor"}
        link = rng.choice([k for k in fleet.links if k not in fleet.links_down])
        fleet.links_down.add(link)
        return {"type": "link_failed", "link": link, "actor": "monitor"}
    if kind == "member_fault":
        if fleet.faulted and (len(fleet.faulted) >= 2 or rng.random() < 0.5):
            member = rng.choice(sorted(fleet.faulted))
            fleet.faulted.discard(member)
            return {"type": "member_recovered", "member": member, "actor": "monitor"}
        if not healthy:
            return None
        member = rng.choice(healthy)
        fleet.faulted.add(member)
        return {
            "type": "member_failed",
            "member": member,
            "cause": rng.choice(CAUSES),
            "actor": "monitor",
        }
    if kind == "upgrade":
        return _upgrade(fleet, rng)
    if kind == "note":
        return {"type": "note", "text": rng.choice(NOTES), "actor": "ops:alice"}
    if kind == "admin":
        if fleet.admin_down:
            member = rng.choice(sorted(fleet.admin_down))
            fleet.admin_down.discard(member)
            up = True
        elif healthy:
            member = rng.choice(healthy)
            fleet.admin_down.add(member)
            up = False
        else:
            return None
        return {
            "type": "member_admin_changed",
            "member": member,
            "up": up,
            "actor": "ops:bob",
            "reason": "maintenance test" if not up else "maintenance done",
        }
    if kind == "weight":
        return {
            "type": "weight_changed",
            "member": rng.choice(fleet.members),
            "weight": rng.choice((16, 24, 32, 40, 48)),
            "actor": "ops:bob",
            "reason": "rebalance",
        }
    if kind == "orchestrator":
        if fleet.orchestrators_down:
            mho = sorted(fleet.orchestrators_down)[0]
            fleet.orchestrators_down.discard(mho)
            return {"type": "orchestrator_recovered", "orchestrator": mho, "actor": "monitor"}
        mho = rng.choice(fleet.orchestrators)
        fleet.orchestrators_down.add(mho)
        return {"type": "orchestrator_failed", "orchestrator": mho, "actor": "monitor"}
    if kind == "failover":
        others = [s for s in fleet.sites if s != fleet.active]
        if not others:
            return None
        fleet.active = others[0]
        return {
            "type": "site_failover",
            "site": fleet.active,
            "actor": "ops:alice",
            "reason": "planned site test",
        }
    if kind == "checkpoint":
        return {
            "type": "checkpoint_interval_changed",
            "seconds": rng.choice((30, 60, 60, 120, 300)),
            "actor": "ops:bob",
            "reason": "tuning",
        }
    raise ValueError(kind)


def _upgrade(fleet: Fleet, rng: random.Random) -> dict[str, Any] | None:
    """Rolling MVC waves: one member at a time to the next version; some are rolled back."""
    if fleet.upgrading is not None:
        member = fleet.upgrading
        fleet.upgrading = None
        if rng.random() < 0.1:
            return {
                "type": "upgrade_rolled_back",
                "member": member,
                "actor": "ops:alice",
                "reason": "sp_upgrade --revert",
            }
        target = VERSIONS[(VERSIONS.index(fleet.version[member]) + 1) % len(VERSIONS)]
        fleet.version[member] = target
        return {"type": "upgrade_finished", "member": member, "version": target, "actor": "monitor"}
    if not fleet.wave:
        fleet.wave = list(fleet.members)
    member = fleet.wave.pop(0)
    if member in fleet.faulted or member in fleet.admin_down:
        return None
    fleet.upgrading = member
    target = VERSIONS[(VERSIONS.index(fleet.version[member]) + 1) % len(VERSIONS)]
    return {
        "type": "upgrade_started",
        "member": member,
        "to_version": target,
        "actor": "ops:alice",
        "reason": "MVC upgrade wave",
    }


def lines(n_events: int, seed: int = 7, mix: str = "group") -> list[dict[str, Any]]:
    """The first ``n_events`` lines (genesis included), each with ``ts``."""
    if mix not in MIXES:
        raise ValueError(f"mix must be one of {', '.join(MIXES)}, not {mix!r}")
    rng = random.Random(seed)
    genesis = genesis_lines()
    fleet = Fleet(genesis)
    kinds = [k for k, _w in MIX]
    weights = [w for _k, w in MIX]
    moment = START
    out: list[dict[str, Any]] = []
    for line in genesis[:n_events]:
        out.append({"ts": moment.strftime("%Y-%m-%dT%H:%M:%SZ"), **line, "actor": "topology"})
    step = 0
    while len(out) < n_events:
        step += 1
        moment += timedelta(seconds=rng.randint(1, 3))
        line: dict[str, Any] | None = None
        if rng.random() < OTHER_SHARE:
            line = _other(rng.choices(kinds, weights)[0], fleet, rng, mix, step)
        if line is None:
            if mix == "member":
                line = _member_sample(rng, step, rng.choice(fleet.members))
            else:
                line = _load(rng, step)
        out.append({"ts": moment.strftime("%Y-%m-%dT%H:%M:%SZ"), **line, "correlation_id": "BENCH"})
    return out


def write(path: str | Path, n_events: int, seed: int = 7, mix: str = "group") -> Path:
    """Write the file (one compact JSON object per line) and return its path.

    The lines go to a temporary file beside it, renamed into place when complete:
    the benchmarks reuse a file that exists, so an interrupted run must not leave
    a truncated one under the final name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    encode = json.JSONEncoder(separators=(",", ":")).encode
    partial = path.with_name(f"{path.name}.partial")
    try:
        with partial.open("w", encoding="utf-8") as handle:
            for line in lines(n_events, seed, mix):
                handle.write(encode(line))
                handle.write("\n")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def main(argv: list[str] | None = None) -> int:
    """Command line: ``generate.py --events N [--seed S] -o FILE``."""
    parser = argparse.ArgumentParser(description="Write a benchmark event file.")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--mix", choices=MIXES, default="group", help="which load sample dominates")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    write(args.output, args.events, args.seed, args.mix)
    print(f"wrote {args.output} ({args.events} events, {args.mix} mix)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
