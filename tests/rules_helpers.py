"""Shared helper of the rule tests: a seeded generator of valid random core events."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path
from typing import Any

Spec = tuple[str, dict[str, Any]]


def group_load(group: int = 1, **load: Any) -> Spec:
    """A group-level load_changed event."""
    return ("load_changed", {"group": group, **load})


class EventGenerator:
    """Valid random events over the core catalog, from a seed (a shadow of the state)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.members: dict[str, dict[str, Any]] = {}
        self.vs: dict[str, str] = {}
        self.links: dict[str, tuple[str, str]] = {}
        self.orchestrators = ["mho-1", "mho-2", "mho-3"]
        self.groups = [1, 2]
        self.next_member = {1: 1, 2: 1}
        self.next_vs = 0

    def genesis(self) -> list[Spec]:
        """Two sites, three orchestrators, two groups, members and links."""
        events: list[Spec] = [
            ("site_added", {"site": 1}),
            ("site_added", {"site": 2}),
            ("orchestrator_added", {"orchestrator": "mho-1", "site": 1}),
            ("orchestrator_added", {"orchestrator": "mho-2", "site": 1}),
            ("orchestrator_added", {"orchestrator": "mho-3", "site": 2}),
            ("group_created", {"group": 1}),
            ("group_created", {"group": 2, "hypersync": False}),
        ]
        for _ in range(7):
            events.append(self._add_member(1, 1))
        for _ in range(3):
            events.append(self._add_member(1, 2))
        for _ in range(4):
            events.append(self._add_member(2, 1))
        events += [
            self._add_link("s1", "1_01", "mho-1", gbps=10.0, jumbo=True),
            self._add_link("s2", "1_02", "mho-2", gbps=1.0, dedicated=False),
            self._add_link("s3", "mho-1", "mho-3", gbps=10.0, jumbo=True),
            self._add_link("d1", "1_03", "mho-1", kind="downlink"),
        ]
        return events

    def _add_member(self, group: int, site: int) -> Spec:
        n = self.next_member[site]
        self.next_member[site] += 1
        member = f"{site}_{n:02d}"
        self.members[member] = {"group": group, "upgrading": False, "previous": False}
        rng = self.rng
        data: dict[str, Any] = {"member": member, "group": group, "site": site}
        data["cores"] = rng.choice([8, 16, 32])
        data["memory_gb"] = rng.choice([16, 32, 64, 128])
        if rng.random() < 0.5:
            data["weight"] = rng.randint(0, 512)
        if rng.random() < 0.5:
            data["connections_capacity"] = rng.choice([2_000_000, 8_000_000, 20_000_000])
        if rng.random() < 0.5:
            data["throughput_gbps"] = rng.choice([10.0, 40.0])
        if rng.random() < 0.3:
            data["blades"] = ["fw", "ips", "appi", "urlf", "av", "ab"][: rng.randint(1, 6)]
        return ("member_added", data)

    def _add_link(self, link: str, a: str, b: str, kind: str = "sync", **extra: Any) -> Spec:
        self.links[link] = (a, b)
        return ("link_added", {"link": link, "a": a, "b": b, "kind": kind, **extra})

    def events(self, n: int) -> list[Spec]:
        """The genesis plus ``n`` random events."""
        out = self.genesis()
        while len(out) < n:
            out.append(self.next())
        return out

    def next(self) -> Spec:
        """One random valid event."""
        rng = self.rng
        roll = rng.random()
        member = rng.choice(sorted(self.members))
        if roll < 0.40:
            load: dict[str, Any] = {}
            if rng.random() < 0.8:
                load["connections"] = rng.randint(0, 40_000_000)
            if rng.random() < 0.6:
                load["cps"] = rng.uniform(0, 400_000)
            if rng.random() < 0.5:
                load["cpu_pct"] = rng.uniform(0, 100)
            if rng.random() < 0.4 or not load:
                load["throughput_gbps"] = rng.uniform(0, 200)
            return group_load(rng.choice(self.groups), **load)
        if roll < 0.50:
            key = rng.choice(["connections", "cps", "cpu_pct", "throughput_gbps"])
            value = rng.randint(0, 5_000_000) if key == "connections" else rng.uniform(0, 100)
            return ("load_changed", {"member": member, key: value})
        if roll < 0.60:
            kind = rng.choice(["member_failed", "member_recovered", "member_admin_changed"])
            if kind == "member_admin_changed":
                return (kind, {"member": member, "up": rng.random() < 0.5})
            return (kind, {"member": member})
        if roll < 0.65:
            return ("weight_changed", {"member": member, "weight": rng.randint(0, 512)})
        if roll < 0.71:
            return self._upgrade(member)
        if roll < 0.77:
            if self.vs and rng.random() < 0.5:
                vs = rng.choice(sorted(self.vs))
                del self.vs[vs]
                return ("vs_removed", {"vs": vs})
            self.next_vs += 1
            self.vs[f"vs{self.next_vs}"] = member
            memory = rng.choice([2.0, 8.0, 30.0])
            return (
                "vs_created",
                {"vs": f"vs{self.next_vs}", "member": member, "memory_gb": memory},
            )
        if roll < 0.79:
            return (
                "hypersync_changed",
                {"group": rng.choice(self.groups), "enabled": rng.random() < 0.5},
            )
        if roll < 0.81:
            return ("checkpoint_interval_changed", {"seconds": rng.choice([5, 30, 60, 65, 600])})
        if roll < 0.83:
            return ("site_failover", {"site": rng.choice([1, 2])})
        if roll < 0.87 and self.links:
            link = rng.choice(sorted(self.links))
            return (rng.choice(["link_failed", "link_restored"]), {"link": link})
        if roll < 0.90:
            kind = rng.choice(["orchestrator_failed", "orchestrator_recovered"])
            return (kind, {"orchestrator": rng.choice(self.orchestrators)})
        if roll < 0.95:
            if len(self.members) > 6 and rng.random() < 0.5:
                return self._remove(member)
            site = rng.choice([1, 2])
            return self._add_member(rng.choice(self.groups), site)
        if roll < 0.97 and len(self.links) < 24:
            name = f"x{len(self.links)}_{rng.randint(0, 1 << 30)}"
            orchestrator = rng.choice(self.orchestrators)
            return self._add_link(name, member, orchestrator, gbps=rng.choice([1.0, 10.0, 40.0]))
        return ("note", {"text": "a remark"})

    def _upgrade(self, member: str) -> Spec:
        record = self.members[member]
        if record["upgrading"]:
            record["upgrading"] = False
            if self.rng.random() < 0.7:
                record["previous"] = True
                return ("upgrade_finished", {"member": member, "version": "R82"})
            return ("upgrade_rolled_back", {"member": member})
        if record["previous"] and self.rng.random() < 0.3:
            record["previous"] = False
            return ("upgrade_rolled_back", {"member": member})
        record["upgrading"] = True
        return ("upgrade_started", {"member": member, "to_version": "R82"})

    def _remove(self, member: str) -> Spec:
        del self.members[member]
        for vs in [k for k, v in self.vs.items() if v == member]:
            del self.vs[vs]
        for link in [k for k, (a, b) in self.links.items() if member in (a, b)]:
            del self.links[link]
        return ("member_removed", {"member": member})


def mypy_strict(folder: Path, *files: str) -> subprocess.CompletedProcess[str]:
    """``mypy --strict`` over plugin ``files`` in ``folder`` (as a plugin author would run it)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(folder / ".mypy_cache"),
            *files,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
