"""What `state`, `diff` and `profile` print, as a user sees it in a pipe (golden text).

The expected text is written by hand from the scenario and the formulas in
docs/rules.md, not captured from the program:

- two 32-core, 64 GB members on one site, HyperSync off, one 10 GbE sync link;
- the group carries 2,000,000 connections, 100,000 cps, 10 Gbps at 85% CPU
  (each member: 1,000,000 connections, 85% CPU, 5 Gbps);
- 1_01 saw 1_02 join (one membership change): fragmentation
  0.25 × (1 − e^−0.01) = 0.249%, so its capacity is 10,000,000 × (1 − 0.00249)
  = 9,975,125 and the system's 19,975,125; utilization 2,000,000 ÷ that = 10.0%;
- CPU above 80% → failover 8.0 s, band 7–9 s, and a cpu-overload per member;
- throughput capacity 2 × 20 Gbps × 0.99 = 39.6 Gbps, carried 10.0 Gbps;
- then the sync link fails (sync capacity 10 → 0 Gbps), the checkpoint
  interval goes to 300 s (1 + 1.4 × ln 5 / ln 10 = 1.98×, +97.9%), and 1_02's
  weight is set to 32, its default (the cores), which changes no load.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli_helpers import ROOT, run_twin, run_twin_process

TS = "2026-03-14T02:00:00Z"
SCENARIO = [
    {"type": "site_added", "site": 1, "name": "Lab"},
    {"type": "orchestrator_added", "orchestrator": "mho-1a", "site": 1},
    {"type": "orchestrator_added", "orchestrator": "mho-1b", "site": 1},
    {"type": "group_created", "group": 1, "hypersync": False},
    {"type": "member_added", "member": "1_01", "group": 1, "site": 1, "cores": 32, "memory_gb": 64},
    {"type": "member_added", "member": "1_02", "group": 1, "site": 1, "cores": 32, "memory_gb": 64},
    {
        "type": "link_added",
        "link": "sync-1",
        "a": "mho-1a",
        "b": "mho-1b",
        "kind": "sync",
        "gbps": 10,
        "jumbo": True,
    },
    {
        "type": "load_changed",
        "group": 1,
        "connections": 2_000_000,
        "cps": 100_000,
        "cpu_pct": 85,
        "throughput_gbps": 10,
    },
    {"type": "link_failed", "link": "sync-1"},
    {"type": "checkpoint_interval_changed", "seconds": 300},
    {"type": "weight_changed", "member": "1_02", "weight": 32},
]

STATE_AT_8 = """\
golden.jsonl after #8 load_changed at 2026-03-14T02:00:00Z (profile seed)
deployment
├── site 1 Lab — ACTIVE
│   ├── ● mho-1a MHO-140
│   └── ● mho-1b MHO-140
└── group 1 (gateway, HyperSync off), SMO 1_01
    ├── ● 1_01 UP         R81.20   cpu  85.0%  conns    1,000,000
    └── ● 1_02 UP         R81.20   cpu  85.0%  conns    1,000,000
system metrics
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━┓
┃ metric                       ┃      value ┃      band ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━┩
│ capacity.connections_max     │ 19,975,125 │           │
│ capacity.utilization         │      10.0% │           │
│ checkpoint.disk_write_factor │      1.00× │           │
│ convergence.dead_timer_s     │     10.0 s │           │
│ convergence.failover_s       │      8.0 s │ 7.0–9.0 s │
│ latency.setup_us             │     1.2 µs │           │
│ members.active               │          2 │           │
│ members.total                │          2 │           │
│ memory.fragmentation         │      0.25% │           │
│ sync.capacity_gbps           │  10.0 Gbps │           │
│ sync.traffic_gbps            │     0 Gbps │           │
│ sync.unsynced_connections    │          0 │           │
│ sync.utilization             │         0% │           │
│ throughput.capacity_gbps     │  39.6 Gbps │           │
│ throughput.gbps              │  10.0 Gbps │           │
└──────────────────────────────┴────────────┴───────────┘
2 active findings
  ✖ convergence.cpu-overload member:1_01: CPU 85% > 80%: failover converges in 7-9 s (since #8)
  ✖ convergence.cpu-overload member:1_02: CPU 85% > 80%: failover converges in 7-9 s (since #8)
"""

DIFF_8_11 = """\
#8 → #11
events between: checkpoint_interval_changed ×1, link_failed ×1, weight_changed ×1
topology
┏━━━━━━━━┳━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━┓
┃ kind   ┃ id     ┃ change ┃ A            ┃ B  ┃
┡━━━━━━━━╇━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━┩
│ member │ 1_02   │ weight │ 32 (default) │ 32 │
│ link   │ sync-1 │ up     │ yes          │ no │
└────────┴────────┴────────┴──────────────┴────┘
metrics (largest change first)
┏━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━┓
┃ subject ┃ metric                       ┃         A ┃      B ┃          Δ ┃     Δ% ┃
┡━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━┩
│ system  │ sync.capacity_gbps           │ 10.0 Gbps │ 0 Gbps │ -10.0 Gbps │  -100% │
│ system  │ checkpoint.disk_write_factor │     1.00× │  1.98× │     +0.98× │ +97.9% │
└─────────┴──────────────────────────────┴───────────┴────────┴────────────┴────────┘
""" + (
    "+ ⚠ checkpoint.interval system: checkpoint interval 300 s (recommended 60 s) writes"
    " 1.98× as much to disk (> 1.10×)\n"
    "+ ✖ sync.link-down link:sync-1: sync link sync-1 is down (link failed): no sync path"
    " left: failover is not stateful\n"
)

LAB_PROFILE = """\
[profile]
name = "lab"

[parameters]
"capacity.default_connections" = 12000000

[parameters."hypersync.capacity_factor"]
value = 0.6
low = 0.55
high = 0.65
source = "our lab, March 2026"
"""

# Blocks of `twin profile --profile lab.toml`, one per parameter: the two overridden
# ones as the file sets them, and seed ones in each kind of unit.
PROFILE_BLOCKS = {
    "capacity.default_connections": (
        "capacity.default_connections = 12,000,000 connections  measured\n  profile lab (lab.toml)"
    ),
    "hypersync.capacity_factor": (
        "hypersync.capacity_factor = 60.0% (band 55.0–65.0%)  measured\n  our lab, March 2026"
    ),
    "convergence.overload_s": "convergence.overload_s = 8.0 s (band 7.0–9.0 s)  seed",
    "sync.growth_per_member": "sync.growth_per_member = 10.0% (band 8.0–12.0%)  seed",
    "latency.setup_us.standalone": "latency.setup_us.standalone = 1.2 µs  seed",
    "checkpoint.saturation_ratio": "checkpoint.saturation_ratio = 10.00×  assumption",
    "memory.bytes_per_connection": "memory.bytes_per_connection = 1,000 B  assumption",
    "convergence.max_members": "convergence.max_members = 52 members  seed",
    "throughput.default_gbps": "throughput.default_gbps = 20.0 Gbps",
}


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.rstrip("\n").splitlines()]


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "golden.jsonl"
    path.write_text("".join(json.dumps({"ts": TS, **row}) + "\n" for row in SCENARIO))
    return path


def test_state_prints_the_topology_metrics_in_their_units_and_findings(
    scenario: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(scenario.parent)
    result = run_twin("state", scenario.name, "--at", "8")
    assert result.code == 0, result.err
    assert _lines(result.out) == _lines(STATE_AT_8)


def test_diff_prints_topology_metrics_and_findings_in_their_units(
    scenario: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(scenario.parent)
    result = run_twin("diff", scenario.name, "8", "11")
    assert result.code == 0, result.err
    assert _lines(result.out) == _lines(DIFF_8_11)


def test_profile_prints_values_in_their_units_with_bands_and_provenance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lab.toml").write_text(LAB_PROFILE)
    monkeypatch.chdir(tmp_path)
    result = run_twin("profile", "--profile", "lab.toml")
    assert result.code == 0, result.err
    blocks = {
        block.split(" = ", 1)[0]: block.rstrip()
        for block in result.out.split("\n\n")[1:]
        if " = " in block
    }
    for name, expected in PROFILE_BLOCKS.items():
        assert blocks[name].startswith(expected), name


def test_piped_tables_never_cut_a_number_short() -> None:
    # A real process with its stdout on a pipe and a narrow COLUMNS.
    incident = ROOT / "examples" / "incident-0412.jsonl"
    narrow = {"COLUMNS": "50"}
    state = run_twin_process("state", incident, "--at", "238", env=narrow)
    diff = run_twin_process("diff", incident, "230", "240", env=narrow)
    assert state.code == 0 and diff.code == 0
    for output in (state.out, diff.out):
        assert "…" not in output
    assert re.search(r"│ capacity\.connections_max +│ +23,892,758 │", state.out)
    # Piped, diff lists every changed metric (on a terminal, the 60 largest).
    rows = json.loads(run_twin("diff", incident, "230", "240", "--format", "json").out)["metrics"]
    listed = [
        line for line in diff.out.splitlines() if re.match(r"│ (system|group:|member:)", line)
    ]
    assert len(rows) > 60
    assert len(listed) == len(rows)
