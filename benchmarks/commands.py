"""The commands as a user runs them: wall time, peak memory and output cost.

``run.py`` times the library calls (``import_file``, ``engine.run``) in child
processes. This times the ``twin`` commands themselves, each in a fresh
process exactly as typed (``python -m twin ...``), on one generated journal
(the group load mix), with its peak resident memory (``VmHWM`` of the
command's own process, read as it exits) and what it printed (bytes):

    uv run python benchmarks/commands.py                     # 200,000 events
    uv run python benchmarks/commands.py --events 1000000    # the size of the memory target

The ``twin run`` rows are also given as a ratio to the bare replay and to the
full evaluation (``run.py``'s child replays, measured in the same run on the
same journal), so the cost of printing is visible: what the command adds to
the evaluation it prints. Results go to ``WORKDIR/commands.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import generate  # beside this script, which Python puts first on sys.path
import run as bench

ROOT = Path(__file__).resolve().parents[1]

# Runs `twin` in this process as the script does, and writes its peak memory and
# wall time to the file named by the environment when it exits (atexit: also on
# sys.exit, which click's main always calls).
SHIM = """
import atexit, os, runpy, sys, time
began = time.perf_counter()
def report():
    hwm = 0.0
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    with open(os.environ["TWIN_BENCH_REPORT"], "w", encoding="ascii") as out:
        out.write(f"{hwm} {time.perf_counter() - began} {time.process_time()}")
atexit.register(report)
sys.argv = ["twin", *sys.argv[1:]]
runpy.run_module("twin", run_name="__main__", alter_sys=True)
"""

METRICS = "members.active,capacity.utilization"


def commands(journal: Path, data: Path) -> list[tuple[str, str, list[str]]]:
    """(key, label, twin arguments) in the order they run; the first run writes snapshots."""
    j = str(journal)
    return [
        ("import", "twin init + twin import (group mix)", ["import", j, str(data)]),
        ("verify", "twin verify", ["verify", j]),
        ("run_table_first", "twin run, table (first: writes snapshots)", ["run", j]),
        ("run_table", "twin run, table", ["run", j]),
        (
            "run_jsonl_changes",
            f"twin run --format jsonl --changes-only --metrics {METRICS}",
            ["run", j, "--format", "jsonl", "--changes-only", "--metrics", METRICS],
        ),
        (
            "run_jsonl_all",
            "twin run --format jsonl (every metric, full findings)",
            ["run", j, "--format", "jsonl"],
        ),
    ]


def twin(args: list[str], out: Path) -> dict[str, float]:
    """Run ``twin ARGS`` in a fresh process, stdout to ``out``; seconds, peak MB, bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report"
        env = {**os.environ, "TWIN_BENCH_REPORT": str(report), "COLUMNS": "120"}
        with out.open("wb") as sink:
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", SHIM, *args],
                stdout=sink,
                stderr=subprocess.PIPE,
                env=env,
                cwd=ROOT,
                check=False,
            )
            seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"twin {' '.join(args)} failed:\n{done.stderr.decode()[-2000:]}")
        hwm, inside, cpu = (float(x) for x in report.read_text(encoding="ascii").split())
    size = out.stat().st_size
    out.unlink()
    return {"seconds": seconds, "in_process_s": inside, "cpu": cpu, "rss_mb": hwm, "bytes": size}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every command, ``--repeat`` times; the replay baselines in between."""
    n = args.events
    workdir: Path = args.workdir
    scratch = workdir / f"scratch-commands-{n}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    data = workdir / "data" / f"events-{n}-seed{args.seed}-group.jsonl"
    if not data.exists():
        print(f"generating {n:,} events (group mix) -> {data}", file=sys.stderr, flush=True)
        generate.write(data, n, args.seed, "group")
    journal = scratch / "journal.db"
    output = scratch / "stdout"
    runs: dict[str, list[dict[str, float]]] = {}
    plan = commands(journal, data)
    labels = {key: label for key, label, _ in plan}
    for _attempt in range(args.repeat):
        for key, label, argv in plan:
            if key == "run_jsonl_all" and args.skip_full_jsonl:
                continue
            if key == "import":
                bench.fresh(journal)
                subprocess.run(
                    [sys.executable, "-m", "twin", "init", str(journal)],
                    check=True,
                    cwd=ROOT,
                    capture_output=True,
                )
            result = twin(argv, output)
            runs.setdefault(key, []).append(result)
            print(
                f"  {label}: {result['seconds']:.1f} s, {result['rss_mb']:.0f} MB, "
                f"{result['bytes']:,} bytes",
                file=sys.stderr,
                flush=True,
            )
    baselines, cpu_baselines = {}, {}
    for mode in ("bare", "engine", "bulk"):
        done = [bench.in_child(mode, journal) for _ in range(args.repeat)]
        baselines[mode] = statistics.median(r["seconds"] for r in done)
        cpu_baselines[mode] = statistics.median(r["cpu"] for r in done)
        print(f"  baseline {mode}: {baselines[mode]:.1f} s", file=sys.stderr, flush=True)
    rows = []
    for key, measured in runs.items():
        seconds = statistics.median(r["seconds"] for r in measured)
        cpu = statistics.median(r["cpu"] for r in measured)
        row: dict[str, Any] = {
            "key": key,
            "label": labels[key],
            "seconds": round(seconds, 2),
            "events_per_s": round(n / seconds),
            "peak_rss_mb": round(max(r["rss_mb"] for r in measured), 1),
            "output_bytes": int(statistics.median(r["bytes"] for r in measured)),
            "runs_s": [round(r["seconds"], 2) for r in measured],
            # CPU time of the command's process (start-up included; not the verify helper)
            "cpu_s": round(cpu, 2),
        }
        if key.startswith("run_"):
            row["ratio_to_bare_replay"] = round(baselines["bare"] / seconds, 3)
            row["x_event_by_event_evaluation"] = round(seconds / baselines["engine"], 2)
            row["x_evaluation_cpu"] = round(cpu / cpu_baselines["engine"], 2)
        rows.append(row)
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        "events": n,
        "seed": args.seed,
        "repeat": args.repeat,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average": list(os.getloadavg()),
        "machine": bench.machine(),
        "baselines_s": {k: round(v, 2) for k, v in baselines.items()},
        "baselines_cpu_s": {k: round(v, 2) for k, v in cpu_baselines.items()},
        "rows": rows,
    }


def table(report: dict[str, Any]) -> str:
    """The printed table."""
    header = ("command", "time", "ev/s", "÷ bare replay", "× evaluation", "peak RSS", "output")
    lines = [header]
    for row in report["rows"]:
        lines.append(
            (
                row["label"],
                f"{row['seconds']:.1f} s",
                f"{row['events_per_s']:,}",
                f"{row['ratio_to_bare_replay']:.2f}×" if "ratio_to_bare_replay" in row else "",
                f"{row['x_event_by_event_evaluation']:.2f}×"
                if "x_event_by_event_evaluation" in row
                else "",
                f"{row['peak_rss_mb']:.0f} MB",
                f"{row['output_bytes'] / 1e6:,.1f} MB",
            )
        )
    widths = [max(len(r[i]) for r in lines) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in lines)


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=bench.DEFAULT_EVENTS)
    parser.add_argument("--repeat", type=int, default=1, help="runs per command (median)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--output", type=Path, help="default: WORKDIR/commands.json")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the journal (WORKDIR/scratch-commands-N/journal.db, evaluated once)",
    )
    parser.add_argument(
        "--skip-full-jsonl",
        action="store_true",
        help="leave out twin run --format jsonl with every metric (the slowest row)",
    )
    args = parser.parse_args(argv)
    report = run(args)
    report["table"] = table(report)
    output = args.output or args.workdir / "commands.json"
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    b = report["baselines_s"]
    print(
        f"twin commands on {args.events:,} events (group mix), median of {args.repeat}; "
        f"bare replay {b['bare']:.1f} s, full evaluation {b['engine']:.1f} s event by event, "
        f"{b['bulk']:.1f} s bulk; load average {report['load_average'][0]:.2f}"
    )
    print(report["table"])
    print(f"written: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
