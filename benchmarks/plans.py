"""What a change plan costs on a long base: loading the base, and checking 20 steps.

One command; every figure is the median of ``--repeat`` runs, next to a bare
baseline measured in this run on the same journal:

    uv run python benchmarks/plans.py                  # a 100,000-event base, 20 steps
    uv run python benchmarks/plans.py --events 20000   # quicker

Rows (seconds):

- *replay to the end (baseline)*: ``Replay(journal, snapshot_every=0).at(head)``, every
  rule on every event, nothing saved: what any evaluation of the whole base costs.
- *plan base load, cold, replayed*: ``WhatIf.open`` of a journal with no engine snapshots
  (read-only, so it saves none either), every event through the rules, as ``twin whatif``
  loads its base: ÷ the replay baseline.
- *plan base load, cold, folded*: the same with ``fold=True``, as ``twin plan check`` loads
  it: the reducer state folded to the end, every rule evaluated once there (the run checks
  that its metrics and findings equal the replayed load's): ÷ the replay baseline.
- *seek to the end (baseline)* and *plan base load, warm*: the same after a ``twin run``
  left engine snapshots in the journal (the usual case for a journal you work with).
- *20 steps, bare engine (baseline)*: ``Engine.step`` on the 20 steps' envelopes after the
  base, nothing else.
- *20 steps checked*: ``check_plan`` minus its base load: preconditions, the engine,
  copying the watched metrics and judging 5 expectations after every step.
- *plan check, cold / warm, end to end*: ``check_plan`` as ``twin plan check`` runs it.
- *plan base load, event file*: ``WhatIf.open(fold=True)`` of the ``.jsonl`` itself (imported
  into memory, then folded, as ``twin plan check`` does): ÷ the replay baseline.

The data is ``generate.py``'s (the dual-site deployment, then a monitored journal's mix of
events), cached under ``WORKDIR/data``. Results go to ``WORKDIR/plans.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import generate  # beside this script, which Python puts first on sys.path

from journal import Journal
from twin.envelope import Envelope
from twin.fork import WhatIf
from twin.plan import parse_plan
from twin.plan.check import check_plan
from twin.plan.edit import step_text
from twin.plugin_manager import TwinPluginManager
from twin.replay import Replay

HERE = Path(__file__).resolve().parent

STEPS: list[tuple[str, dict[str, Any]]] = [
    *[
        ("member_added", {"member": f"1_9{n}", "group": 1, "site": 1, "cores": 32})
        for n in range(1, 5)
    ],
    *[
        ("link_added", {"link": f"dl-1_9{n}-1a", "a": f"1_9{n}", "b": "mho-1a", "kind": "downlink"})
        for n in range(1, 5)
    ],
    ("load_changed", {"group": 1, "connections": 6_000_000, "cps": 248_000, "cpu_pct": 70.0}),
    ("member_failed", {"member": "1_91"}),
    ("load_changed", {"group": 1, "connections": 5_000_000, "cps": 200_000, "cpu_pct": 60.0}),
    ("member_recovered", {"member": "1_91"}),
    ("weight_changed", {"member": "1_92", "weight": 64}),
    ("upgrade_started", {"member": "1_93", "to_version": "R82"}),
    ("upgrade_finished", {"member": "1_93", "version": "R82"}),
    ("upgrade_rolled_back", {"member": "1_93"}),
    ("member_admin_changed", {"member": "1_94", "up": False}),
    ("member_admin_changed", {"member": "1_94", "up": True}),
    ("link_failed", {"link": "dl-1_91-1a"}),
    ("link_restored", {"link": "dl-1_91-1a"}),
]
"""20 steps that fit whatever state the generated base ends in (they touch new members)."""

EXPECTS = """
[[expect]]
metric = "convergence.failover_s"
below = 10.0
band = true

[[expect]]
max_severity = "error"

[[expect]]
absent = "twin.rule-crashed"

[[expect]]
metric = "capacity.utilization"
below = 2.0

[[expect]]
after = "last"
metric = "members.total"
above = 1
"""


def median(values: list[float]) -> float:
    """The median of the runs."""
    return float(statistics.median(values))


def timed(fn: Callable[[], Any]) -> float:
    """Seconds one call of ``fn`` takes."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def plan_text(base: str) -> str:
    """The benchmark plan on ``base``: the 20 steps and 5 expectations."""
    text = f'[plan]\nname = "benchmark"\nbase = "{base}"\n'
    for kind, data in STEPS:
        text += step_text(kind, data, duration="5m")
    return text + EXPECTS


def replay_to_end(path: Path, manager: TwinPluginManager, *, snapshots: bool) -> float:
    """The baseline: evaluate the whole base (or seek its end from snapshots), nothing saved."""
    with Journal.open(path, registry=manager.event_registry()) as journal:
        replay = Replay(journal, manager, manager.profile(), snapshot_every=0)
        replay.use_snapshots = snapshots
        return timed(lambda: replay.at())


def load(base: Path, manager: TwinPluginManager, *, fold: bool = False) -> float:
    """``WhatIf.open`` at the end of ``base`` (a journal read-only, or an event file)."""
    started = time.perf_counter()
    with WhatIf.open(base, manager, manager.profile(), fold=fold) as session:
        seconds = time.perf_counter() - started
        assert session.base_seq > 0
    return seconds


def loaded(base: Path, manager: TwinPluginManager, *, fold: bool) -> tuple[Any, Any, bool]:
    """What a load of ``base`` ends with: its metrics, its findings, whether it was folded."""
    with WhatIf.open(base, manager, manager.profile(), fold=fold) as session:
        findings = sorted(
            (a.finding.rule, a.finding.subject, a.finding.severity.value, a.finding.message)
            for a in session.findings
        )
        return session.metrics.to_json(), findings, session.folded


def same_either_way(base: Path, manager: TwinPluginManager) -> bool:
    """The folded load ends where the replayed one does (metrics exactly, every finding).

    Returns whether it was folded (a base of at most ``FOLD_BEYOND`` events is replayed).
    """
    metrics, findings, folded = loaded(base, manager, fold=True)
    replayed_metrics, replayed_findings, _ = loaded(base, manager, fold=False)
    assert findings == replayed_findings, "folded and replayed findings differ"
    assert metrics == replayed_metrics, "folded and replayed metrics differ"
    return bool(folded)


def bare_steps(path: Path, manager: TwinPluginManager, plan: Any) -> float:
    """The baseline for the steps: ``Engine.step`` on the same 20 envelopes, nothing else."""
    with WhatIf.open(path, manager, manager.profile()) as session:
        for step in plan.steps:  # build the envelopes as the plan would (untimed)
            session.apply(step.event)
        envelopes: list[Envelope] = [p.envelope for p in session.proposed]
        session.rewind(0)
        engine = session.engine
        started = time.perf_counter()
        for envelope in envelopes:
            engine.step(envelope)
        return time.perf_counter() - started


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure every row; return the results."""
    work: Path = args.workdir
    data = work / "data" / f"events-{args.events}-seed{args.seed}.jsonl"
    if not data.exists():
        print(f"generating {args.events:,} events ...", file=sys.stderr, flush=True)
        generate.write(data, args.events, args.seed)
    scratch = work / "plans-scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    manager = TwinPluginManager(autoload=False).load()
    cold = scratch / "cold.db"
    print("importing the base ...", file=sys.stderr, flush=True)
    with Journal.create(cold, registry=manager.event_registry()) as journal:
        journal.import_file(data)
        head = journal.head()
    warm = scratch / "warm.db"
    shutil.copy(cold, warm)
    print("a `twin run` over the warm copy (engine snapshots) ...", file=sys.stderr, flush=True)
    with Journal.open(warm, registry=manager.event_registry()) as journal:
        for _frame in Replay(journal, manager, manager.profile()).frames():
            pass
    plans = {}
    for name, base in (("cold", cold), ("warm", warm), ("events", data.resolve())):
        path = scratch / f"{name}.toml"
        path.write_text(plan_text(str(base)), encoding="utf-8")
        plans[name] = parse_plan(path.read_text(encoding="utf-8"), path, manager.event_registry())

    def check(name: str) -> float:
        return timed(lambda: check_plan(plans[name], manager, manager.profile()))

    # Interleaved: each run measures every row once, so a baseline and the row compared with
    # it see the same load on a shared machine (runs drift by tens of percent otherwise).
    measurements: dict[str, Callable[[], float]] = {
        "replay_end": lambda: replay_to_end(cold, manager, snapshots=False),
        "load_cold": lambda: load(cold, manager),
        "load_fold": lambda: load(cold, manager, fold=True),
        "seek_end": lambda: replay_to_end(warm, manager, snapshots=True),
        "load_warm": lambda: load(warm, manager),
        "steps_bare": lambda: bare_steps(warm, manager, plans["warm"]),
        "check_warm": lambda: check("warm"),
        "check_cold": lambda: check("cold"),
        "load_events": lambda: load(data.resolve(), manager, fold=True),
    }
    print("checking that a folded load ends where a replayed one does ...", file=sys.stderr)
    folded = same_either_way(cold, manager)
    rows: dict[str, list[float]] = {key: [] for key in measurements}
    for run_number in range(1, args.repeat + 1):
        for key, fn in measurements.items():
            rows[key].append(fn())
            print(f"  run {run_number} {key}: {rows[key][-1]:.3f} s", file=sys.stderr, flush=True)
    result = check_plan(plans["warm"], manager, manager.profile())
    assert result.ok, result.failed
    m = {k: median(v) for k, v in rows.items()}
    checked = [max(c - w, 0.0) for c, w in zip(rows["check_warm"], rows["load_warm"], strict=True)]
    steps_checked = median(checked)

    def ratio(key: str, base: str, word: str, runs: list[float] | None = None) -> str:
        """The median over runs of the per-run ratio (both measured back to back)."""
        mine = rows[key] if runs is None else runs
        per_run = [a / b for a, b in zip(mine, rows[base], strict=True) if b > 0]
        return f"{median(per_run):.2f}× {word}" if per_run else ""

    table = [
        ("replay to the end, every rule (baseline)", m["replay_end"], ""),
        (
            "base load, cold, replayed (twin whatif)",
            m["load_cold"],
            ratio("load_cold", "replay_end", "replay"),
        ),
        (
            "base load, cold, folded (twin plan check)",
            m["load_fold"],
            ratio("load_fold", "replay_end", "replay"),
        ),
        ("seek to the end from snapshots (baseline)", m["seek_end"], ""),
        (
            "plan base load, warm (after twin run)",
            m["load_warm"],
            ratio("load_warm", "seek_end", "seek"),
        ),
        (f"{len(STEPS)} steps, bare Engine.step (baseline)", m["steps_bare"], ""),
        (
            f"{len(STEPS)} steps checked (check - load, warm)",
            steps_checked,
            ratio("steps_bare", "steps_bare", "bare", checked),
        ),
        ("plan check, warm, end to end", m["check_warm"], ""),
        (
            "plan check, cold, end to end",
            m["check_cold"],
            ratio("check_cold", "replay_end", "replay"),
        ),
        (
            "plan base load, event file (.jsonl), folded",
            m["load_events"],
            ratio("load_events", "replay_end", "replay"),
        ),
    ]
    width = max(len(label) for label, _v, _r in table)
    lines = [
        f"base: {head:,} events ({data.name}); {len(STEPS)} steps, 5 expectations; "
        f"median of {args.repeat} runs; the cold base is {'' if folded else 'NOT '}folded "
        "(same metrics and findings as replayed: checked)"
    ]
    lines += [
        f"{label.ljust(width)}  {value:8.3f} s  {ratio}".rstrip() for label, value, ratio in table
    ]
    printed = "\n".join(lines)
    print(printed)
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        "events": head,
        "steps": len(STEPS),
        "repeat": args.repeat,
        "runs_s": rows,
        "median_s": m,
        "steps_checked_s": steps_checked,
        "table": printed,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description="What a change plan costs on a long base.")
    parser.add_argument("--events", type=int, default=100_000, help="events in the base")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated data")
    parser.add_argument("--workdir", type=Path, default=HERE / "results", help="data and scratch")
    parser.add_argument("--keep", action="store_true", help="keep the scratch journals")
    args = parser.parse_args(argv)
    results = run(args)
    output = args.workdir / "plans.json"
    output.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"wrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
