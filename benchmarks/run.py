"""Benchmarks: the performance targets of architecture.md, each against a bare baseline.

One command; every figure is the median of ``--repeat`` runs (3), measured in
this run on the same data as its baseline:

    uv run python benchmarks/run.py                 # 200,000 events
    uv run python benchmarks/run.py --quick         # 20,000 events, a smoke run
    uv run python benchmarks/run.py --events 1000000

It prints a table and writes ``benchmarks/results/latest.json`` (git-ignored).
What each row means and how the ratios are computed: ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import generate  # beside this script, which Python puts first on sys.path

from journal import Journal
from journal.snapshots import SNAPSHOT_EVERY
from twin.event_files import ENVELOPE_KEYS
from twin.reducer import apply
from twin.state import TwinState

HERE = Path(__file__).resolve().parent

DEFAULT_EVENTS = 200_000
QUICK_EVENTS = 20_000

MIXES = ("group", "member")
"""The load mixes (benchmarks/generate.py): group samples dominate, or member samples do."""

# Rows measured for each mix, then rows measured once (on the group mix), in print order.
PER_MIX = (
    ("bare_insert", "bare insert (baseline)"),
    ("import_file", "import_file, end to end"),
    ("bare_replay", "bare replay (baseline)"),
    ("reducer_replay", "reducer replay"),
    ("full_evaluation", "full evaluation, event by event"),
    ("bulk_evaluation", "full evaluation, bulk (segments)"),
    ("rss_import", "peak RSS, import"),
    ("rss_evaluation", "peak RSS, full evaluation"),
)
ONCE = (
    ("seek_state_start", "seek state_at, 1% in"),
    ("seek_state_end", "seek state_at, 99% in"),
    ("seek_frame_start", "seek with metrics, 1% in"),
    ("seek_frame_end", "seek with metrics, 99% in"),
    ("verify", "verify"),
)
ROWS = (
    *((f"{mix}.{key}", f"{label} [{mix}]") for mix in MIXES for key, label in PER_MIX),
    *ONCE,
)
LABELS = dict(ROWS)

BARE_COLUMNS = (
    "seq INTEGER PRIMARY KEY, event_id TEXT, type TEXT, schema INTEGER, occurred_at TEXT, "
    "recorded_at TEXT, actor TEXT, reason TEXT, correlation_id TEXT, causation_id TEXT, "
    "data TEXT, prev_hash TEXT, hash TEXT"
)


class Skipped(Exception):
    """A measurement that cannot run yet; the message says why."""


# -- helpers --------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    """The median of the runs."""
    return float(statistics.median(values))


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 20 samples is the largest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return ordered[rank - 1]


def max_rss_mb() -> float:
    """This process's peak resident set size so far, in MB.

    On Linux this is ``VmHWM`` of ``/proc/self/status``: ``ru_maxrss`` would report
    the parent's size at fork when it is larger (it survives the exec of a child).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def fresh(path: Path) -> Path:
    """Remove a journal file and its WAL companions; return the path."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def rules_available() -> tuple[int, str]:
    """How many built-in rules load, and why there are none if none do."""
    try:
        from twin.plugin_manager import TwinPluginManager
    except ImportError as exc:
        return 0, f"the engine cannot be imported ({exc})"
    manager = TwinPluginManager(autoload=False)
    rules = manager.rules()
    if rules:
        return len(rules), ""
    failed = [f"{i.name}: {i.error}" for i in manager.plugin_infos() if i.status == "failed"]
    why = f"; e.g. {failed[0]}" if failed else ""
    return 0, f"no built-in rules load yet (plugins/ has none){why}"


# -- bulk import ----------------------------------------------------------------------------------


def bare_rows(events_path: Path) -> list[tuple[Any, ...]]:
    """The file's events as rows of the journal's columns (built before any timing)."""
    rows = []
    encode = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode
    with events_path.open(encoding="utf-8") as handle:
        for seq, line in enumerate(handle, start=1):
            fields = json.loads(line)
            data = {k: v for k, v in fields.items() if k not in ENVELOPE_KEYS and k != "type"}
            rows.append(
                (
                    seq,
                    f"{seq:026d}",
                    fields["type"],
                    1,
                    fields.get("ts"),
                    "2026-01-01T00:00:00.000000Z",
                    fields.get("actor"),
                    fields.get("reason"),
                    fields.get("correlation_id"),
                    None,
                    encode(data),
                    "",
                    "",
                )
            )
    return rows


def bare_insert(rows: list[tuple[Any, ...]], path: Path) -> dict[str, float]:
    """``executemany`` of the rows in one transaction into a plain table (WAL, NORMAL)."""
    fresh(path)
    started, cpu = time.perf_counter(), time.process_time()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"CREATE TABLE events ({BARE_COLUMNS})")
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO events VALUES ({', '.join('?' * 13)})", rows)
    conn.execute("COMMIT")
    conn.close()
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu}


# -- replays (each in a child process, so its peak RSS is its own) --------------------------------


def _bare_fold(journal_path: Path) -> int:
    """Read in order + ``json.loads`` + a dict fold (a per-member dict, links, totals)."""
    members: dict[str, dict[str, Any]] = {}
    links: dict[str, bool] = {}
    totals = {"connections": 0.0, "cpu_pct": 0.0, "events": 0}

    def load(d: dict[str, Any]) -> None:
        if "member" in d:
            members.setdefault(d["member"], {}).update(d)
        else:
            totals["connections"] = d.get("connections", totals["connections"])
            totals["cpu_pct"] = d.get("cpu_pct", totals["cpu_pct"])

    def member_state(state: str) -> Callable[[dict[str, Any]], None]:
        def handle(d: dict[str, Any]) -> None:
            members.setdefault(d["member"], {})["state"] = state

        return handle

    def link(up: bool) -> Callable[[dict[str, Any]], None]:
        def handle(d: dict[str, Any]) -> None:
            links[d["link"]] = up

        return handle

    handlers: dict[str, Callable[[dict[str, Any]], None]] = {
        "load_changed": load,
        "member_added": member_state("UP"),
        "member_failed": member_state("DOWN"),
        "member_recovered": member_state("UP"),
        "upgrade_started": member_state("UPGRADING"),
        "upgrade_finished": member_state("UP"),
        "link_added": link(True),
        "link_failed": link(False),
        "link_restored": link(True),
    }
    conn = sqlite3.connect(journal_path)
    loads = json.loads
    count = 0
    for _seq, type_, data in conn.execute("SELECT seq, type, data FROM events ORDER BY seq"):
        payload = loads(data)
        handler = handlers.get(type_)
        if handler is not None:
            handler(payload)
        totals["events"] += 1
        count += 1
    conn.close()
    return count


def _reducer_replay(journal_path: Path) -> int:
    """``Journal.read`` + ``twin.reducer.apply`` over every event."""
    state = TwinState()
    count = 0
    with Journal.open(journal_path, snapshots=False) as journal:
        for envelope in journal.read():
            apply(state, envelope.event, seq=envelope.seq, occurred_at=envelope.occurred_at)
            count += 1
    return count


def _engine_setup() -> Any:
    from twin.plugin_manager import TwinPluginManager

    return TwinPluginManager(autoload=False).build_engine()


def _full_evaluation(journal_path: Path, engine: Any, *, bulk: bool = False) -> int:
    """The engine with every built-in rule over every event, reading a few metrics per frame."""
    count = 0
    with Journal.open(journal_path, snapshots=False) as journal:
        for frame in engine.run(journal.read(), bulk=bulk):
            frame.metrics.value("system", "capacity.utilization")
            frame.metrics.value("system", "convergence.failover_s")
            count += 1
    return count


def _import(events_path: Path, journal_path: Path) -> int:
    """``Journal.create`` + ``import_file`` + close (in a child: its peak RSS is its own)."""
    fresh(journal_path)
    with Journal.create(journal_path) as journal:
        result = journal.import_file(events_path)
    return int(result.appended)


def _warm(events_path: Path, journal_path: Path) -> int:
    """Every measured path once, on a small file: what they import gets compiled (untimed)."""
    count = _import(events_path, journal_path)
    _bare_fold(journal_path)
    _reducer_replay(journal_path)
    if rules_available()[0]:
        _full_evaluation(journal_path, _engine_setup(), bulk=True)
    return count


def share_bytecode(workdir: Path) -> None:
    """Let the measured child processes share compiled modules (see :func:`warm_up`).

    Where the environment sets ``PYTHONDONTWRITEBYTECODE`` (as on the project's
    machine), a tree without ``__pycache__`` stays without it, and every fresh
    child compiled each module it imports (networkx, numpy, sqlite_utils, the
    twin: ~2 s of CPU) inside the timed region: a quarter of a 200k import. The
    children write and read a bytecode cache in ``WORKDIR/pycache`` instead.
    """
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTHONPYCACHEPREFIX"):
        folder = workdir / "pycache"
        folder.mkdir(parents=True, exist_ok=True)
        del os.environ["PYTHONDONTWRITEBYTECODE"]
        os.environ["PYTHONPYCACHEPREFIX"] = str(folder.resolve())


def warm_up(data: Path, scratch: Path, lines: int = 300) -> None:
    """One untimed child over the first ``lines`` events, so no timed child compiles a module."""
    sample = scratch / "warm.jsonl"
    with data.open("rb") as source, sample.open("wb") as out:
        for _, line in zip(range(lines), source, strict=False):
            out.write(line)
    in_child("warm", sample, scratch / "warm.db")
    fresh(scratch / "warm.db")


def child_main(mode: str, journal_path: Path, extra: Path | None = None) -> None:
    """In a child process: run one measurement, print seconds, events and peak RSS as JSON."""
    engine = _engine_setup() if mode in ("engine", "bulk") else None
    base = max_rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    if mode == "bare":
        count = _bare_fold(journal_path)
    elif mode == "reducer":
        count = _reducer_replay(journal_path)
    elif mode == "engine":
        count = _full_evaluation(journal_path, engine)
    elif mode == "bulk":
        count = _full_evaluation(journal_path, engine, bulk=True)
    elif mode == "import" and extra is not None:
        count = _import(journal_path, extra)
    elif mode == "warm" and extra is not None:
        count = _warm(journal_path, extra)
    else:
        raise SystemExit(f"unknown child mode {mode!r}")
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu  # every thread of the process (import inserts in one)
    print(
        json.dumps(
            {"seconds": seconds, "cpu": cpu, "events": count, "rss_mb": max_rss_mb(), "base": base}
        )
    )


def in_child(mode: str, journal_path: Path, extra: Path | None = None) -> dict[str, float]:
    """Run :func:`child_main` in a fresh interpreter and return what it measured."""
    more = [] if extra is None else [str(extra)]
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", mode, str(journal_path), *more],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{mode} replay failed:\n{done.stderr.strip()}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- seek -----------------------------------------------------------------------------------------


def seek_offsets(head: int, count: int, rng: random.Random) -> list[int]:
    """``count`` random offsets of up to half a percent of the journal, either way."""
    spread = max(1, head // 200)
    return [rng.randint(-spread, spread) for _ in range(count)]


def seek_targets(
    head: int, fraction: float, offsets: list[int], grid: int = SNAPSHOT_EVERY
) -> list[int]:
    """Seqs around ``fraction`` of the journal: a snapshot grid point there, plus ``offsets``.

    A cold seek restores the snapshot at or before its target and replays the rest,
    so its cost follows the target's distance from the grid (0 to ``grid - 1``
    events): every :data:`~journal.snapshots.SNAPSHOT_EVERY` for ``state_at``, every
    :data:`~twin.replay.SNAPSHOT_EVERY` for a seek with metrics. Both positions take
    the same offsets from a grid point, so they replay the same numbers of events
    and their ratio measures the position alone. (Drawn apart, 20 seeks per
    position gave replay medians up to 30% apart, and a start before the first
    snapshot replayed from seq 1.) In a journal shorter than two grid steps both
    positions are one point.
    """
    if head >= 2 * grid:
        centre = max(grid, int(head * fraction) // grid * grid)
    else:
        centre = max(1, int(head * fraction))
    return [min(head, max(1, centre + offset)) for offset in offsets]


def seek_state(journal_path: Path, targets: list[int]) -> list[tuple[float, float]]:
    """Cold seeks: a fresh ``Journal`` each time, timing ``state_at`` only (ms, wall and CPU)."""
    times = []
    for target in targets:
        with Journal.open(journal_path) as journal:
            started, cpu = time.perf_counter(), time.process_time()
            state = journal.state_at(target)
            times.append(
                ((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000)
            )
            assert state.seq == target
    return times


def warm_frames(journal_path: Path) -> None:
    """One full evaluation through :class:`~twin.replay.Replay`, which persists engine snapshots."""
    from twin.plugin_manager import TwinPluginManager
    from twin.replay import Replay

    manager = TwinPluginManager(autoload=False)
    with Journal.open(journal_path) as journal:
        for _frame in Replay(journal, manager, manager.profile()).frames():
            pass


def seek_frames(journal_path: Path, targets: list[int]) -> list[tuple[float, float]]:
    """Cold seeks with metrics and findings: fresh ``Journal`` and ``Replay``, timing ``at``.

    Each time is (wall ms, CPU ms of this process).
    """
    from twin.plugin_manager import TwinPluginManager
    from twin.replay import Replay

    manager = TwinPluginManager(autoload=False)
    profile = manager.profile()
    times = []
    for target in targets:
        with Journal.open(journal_path) as journal:
            replay = Replay(journal, manager, profile)
            started, cpu = time.perf_counter(), time.process_time()
            frame = replay.at(target)
            times.append(
                ((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000)
            )
            assert frame is not None
            assert frame.seq == target
    return times


# -- the run --------------------------------------------------------------------------------------


class Results:
    """The rows as they are measured: value, ratio, target and whether it is met."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def add(self, key: str, **row: Any) -> None:
        self.rows[key] = {"label": LABELS[key], **row}
        print(f"  {LABELS[key]}: {format_value(self.rows[key])}", file=sys.stderr, flush=True)

    def skip(self, key: str, why: str) -> None:
        self.rows[key] = {"label": LABELS[key], "skipped": why}
        print(f"  {LABELS[key]}: skipped: {why}", file=sys.stderr, flush=True)


def rate(events: int, runs: list[dict[str, float]]) -> dict[str, Any]:
    """Events/s from the median of the runs' times, and from the median of their CPU times.

    On a shared machine the wall time includes waiting for other processes, and the
    load changes between a baseline and the row it is compared with; the CPU time
    (``cpu_value``, ``ratio_cpu``) does not wait.
    """
    seconds = [r["seconds"] for r in runs]
    cpu = [r["cpu"] for r in runs]
    return {
        "value": events / median(seconds),
        "unit": "events/s",
        "runs_s": [round(s, 4) for s in seconds],
        "cpu_value": events / max(median(cpu), 1e-9),
        "cpu_runs_s": [round(c, 4) for c in cpu],
        "load_average": round(os.getloadavg()[0], 2),
    }


def with_ratio(row: dict[str, Any], base: dict[str, Any], of: str) -> dict[str, Any]:
    """``row`` with its ratio to ``base`` by wall time and by CPU time."""
    return {
        **row,
        "ratio": row["value"] / base["value"],
        "ratio_cpu": row["cpu_value"] / base["cpu_value"],
        "ratio_of": of,
    }


def format_value(row: dict[str, Any]) -> str:
    """The value column."""
    if "skipped" in row:
        return f"skipped: {row['skipped']}"
    unit = row["unit"]
    if unit == "events/s":
        return f"{row['value']:,.0f} ev/s"
    if unit == "ms":
        text = f"p50 {row['p50']:.2f} ms, p99 {row['p99']:.2f} ms"
        if "cpu_p50" in row:
            text += f" (CPU {row['cpu_p50']:.2f}/{row['cpu_p99']:.2f})"
        return text
    return f"{row['value']:,.1f} {unit}"


def ratio_text(row: dict[str, Any]) -> str:
    """The ratio column."""
    if "ratio" not in row:
        return ""
    cpu = f" (CPU {row['ratio_cpu']:.2f}×)" if "ratio_cpu" in row else ""
    return f"{row['ratio']:.2f}× {row['ratio_of']}{cpu}"


def table(results: Results, keys: set[str] | None = None) -> str:
    """The printed table (only the rows in ``keys``, if given)."""
    header = ("measurement", "value", "ratio", "target", "met")
    lines = []
    for key, label in ROWS:
        if keys is not None and key not in keys:
            continue
        row = results.rows.get(key, {"label": label, "skipped": "not run"})
        met = "" if "met" not in row else ("yes" if row["met"] else "NO")
        lines.append((label, format_value(row), ratio_text(row), row.get("target", ""), met))
    widths = [max(len(str(r[i])) for r in (header, *lines)) for i in range(len(header))]

    def fmt(r: tuple[str, ...]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(r) for r in lines)])


def measure_mix(
    results: Results,
    mix: str,
    n: int,
    repeat: int,
    data: Path,
    journal_path: Path,
    scratch: Path,
    n_rules: int,
    why: str,
    only: str | None = None,
) -> None:
    """The rows measured for one load mix (each against its bare baseline, in this run).

    ``only="import"``: the bare insert, the import and its peak RSS only.
    """
    at_scale = n >= 1_000_000
    # a. bulk import
    rows = bare_rows(data)
    bare = [bare_insert(rows, scratch / "bare.db") for _ in range(repeat)]
    del rows
    fresh(scratch / "bare.db")
    results.add(f"{mix}.bare_insert", **rate(n, bare), baseline=True)
    insert_base = results.rows[f"{mix}.bare_insert"]
    imports = [in_child("import", data, journal_path) for _ in range(repeat)]
    row = with_ratio(rate(n, imports), insert_base, "bare insert")
    results.add(
        f"{mix}.import_file",
        **row,
        target="≥ 0.30× (0.50× overlapped)",
        met=row["ratio"] >= 0.3,
    )
    peak = median([r["rss_mb"] for r in imports])
    results.add(
        f"{mix}.rss_import",
        value=peak,
        unit="MB",
        target="≤ 250 MB at 1M events",
        **({"met": peak <= 250} if at_scale else {}),
    )
    if only == "import":
        return
    # b. replays (+ peak RSS), each run in a fresh process
    bare_runs = [in_child("bare", journal_path) for _ in range(repeat)]
    results.add(f"{mix}.bare_replay", **rate(n, bare_runs), baseline=True)
    replay_base = results.rows[f"{mix}.bare_replay"]
    reducer_runs = [in_child("reducer", journal_path) for _ in range(repeat)]
    results.add(
        f"{mix}.reducer_replay", **with_ratio(rate(n, reducer_runs), replay_base, "bare replay")
    )
    if not n_rules:
        for key in ("full_evaluation", "bulk_evaluation", "rss_evaluation"):
            results.skip(f"{mix}.{key}", why)
        return
    peaks = []
    for key, mode in (("full_evaluation", "engine"), ("bulk_evaluation", "bulk")):
        runs = [in_child(mode, journal_path) for _ in range(repeat)]
        row = with_ratio(rate(n, runs), replay_base, "bare replay")
        results.add(
            f"{mix}.{key}",
            **row,
            rules=n_rules,
            target="≥ 0.25×",
            met=row["ratio"] >= 0.25,
        )
        peaks += [r["rss_mb"] for r in runs]
    peak = max(peaks)
    results.add(
        f"{mix}.rss_evaluation",
        value=peak,
        unit="MB",
        target="≤ 250 MB at 1M events",
        **({"met": peak <= 250} if at_scale else {}),
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every measurement, in order; returns what latest.json holds."""
    n = args.events
    workdir: Path = args.workdir
    scratch = workdir / "scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    repeat = args.repeat
    results = Results()
    n_rules, why = rules_available()
    journals: dict[str, Path] = {}
    sizes: dict[str, int] = {}
    for mix in [] if args.journal else args.mixes:
        data = workdir / "data" / f"events-{n}-seed{args.seed}-{mix}.jsonl"
        if not data.exists():
            print(f"generating {n:,} events ({mix} mix) -> {data}", file=sys.stderr, flush=True)
            generate.write(data, n, args.seed, mix)
        sizes[mix] = data.stat().st_size
        if not journals:
            share_bytecode(workdir)
            warm_up(data, scratch)
        journal_path = journals[mix] = scratch / f"journal-{mix}.db"
        print(f"measuring the {mix} mix: {n:,} events, {repeat} runs each", file=sys.stderr)
        measure_mix(results, mix, n, repeat, data, journal_path, scratch, n_rules, why, args.only)
    if args.only == "import":
        return finish(args, results, sizes, {f"{m}.{k}" for m in args.mixes for k in IMPORT_ROWS})
    journal_path = args.journal or journals[args.mixes[0]]

    # c. seek: near the start vs near the end, cold (a fresh Journal per seek)
    def seek_rows(
        prefix: str,
        measure: Callable[[Path, list[int]], list[tuple[float, float]]],
        p99: str,
        grid: int,
    ) -> None:
        per_run: dict[str, list[tuple[float, float, float, float]]] = {"start": [], "end": []}
        for attempt in range(repeat):
            rng = random.Random(args.seed * 1000 + attempt)
            offsets = seek_offsets(n, args.seeks, rng)
            near_start = seek_targets(n, 0.01, offsets, grid)
            near_end = seek_targets(n, 0.99, offsets, grid)
            # Alternated, so a change in the machine's load falls on both positions alike.
            pairs = zip(near_start, near_end, strict=True)
            times = measure(journal_path, [t for pair in pairs for t in pair])
            for where, mine in (("start", times[0::2]), ("end", times[1::2])):
                wall, cpu = [w for w, _ in mine], [c for _, c in mine]
                per_run[where].append(
                    (
                        percentile(wall, 50),
                        percentile(wall, 99),
                        percentile(cpu, 50),
                        percentile(cpu, 99),
                    )
                )
        summary = {
            where: {
                "p50": median([r[0] for r in runs]),
                "p99": median([r[1] for r in runs]),
                # CPU time of the seeking process: what the seek costs on a shared machine
                "cpu_p50": median([r[2] for r in runs]),
                "cpu_p99": median([r[3] for r in runs]),
                "unit": "ms",
                "seeks": args.seeks,
            }
            for where, runs in per_run.items()
        }
        start, end = summary["start"], summary["end"]
        results.add(f"{prefix}_start", **start, target=p99)
        ratio = end["p50"] / start["p50"] if start["p50"] > 0 else float("inf")
        # Judged by CPU time: a seek does no I/O (the journal is in the page cache), so its
        # wall time on a shared machine is CPU time plus however often it was preempted.
        ratio_cpu = end["cpu_p50"] / start["cpu_p50"] if start["cpu_p50"] > 0 else float("inf")
        results.add(
            f"{prefix}_end",
            **end,
            ratio=ratio,
            ratio_p99=end["p99"] / start["p99"] if start["p99"] > 0 else float("inf"),
            ratio_cpu=ratio_cpu,
            ratio_of="p50 near the start",
            target="; ".join(t for t in ("≤ 1.1× start", p99) if t),
            met=ratio_cpu <= 1.1,
        )

    # An import checks events against the structure only and leaves folding the loads to
    # readers: the first read of the state writes its snapshots (untimed here, as for frames).
    print("  (folding the state once to persist its snapshots)", file=sys.stderr)
    with Journal.open(journal_path) as journal:
        journal.state_at()
    seek_rows("seek_state", seek_state, "", SNAPSHOT_EVERY)
    if n_rules:
        if args.journal is None:  # --journal: evaluated before, by twin run or the TUI
            print("  (evaluating once through Replay to persist engine snapshots)", file=sys.stderr)
            warm_frames(journal_path)
        from twin.replay import SNAPSHOT_EVERY as FRAME_SNAPSHOT_EVERY

        seek_rows("seek_frame", seek_frames, "p99 ≤ 16 ms at 1M events", FRAME_SNAPSHOT_EVERY)
        # Seek cost does not fall as the journal grows (it is a snapshot restore plus a
        # bounded replay), so a p99 over 16 ms here misses the 1M-event target too.
        for key in ("seek_frame_start", "seek_frame_end"):
            within = results.rows[key]["p99"] <= 16
            results.rows[key]["met"] = within and results.rows[key].get("met", True)
    else:
        results.skip("seek_frame_start", why)
        results.skip("seek_frame_end", why)

    # d. verify
    verified = []
    for _ in range(repeat):
        with Journal.open(journal_path) as journal:
            started, cpu, before = time.perf_counter(), time.process_time(), os.times()
            outcome = journal.verify()
            after = os.times()  # a long line is verified in two processes: count the other
            children = (after.children_user + after.children_system) - (
                before.children_user + before.children_system
            )
            verified.append(
                {
                    "seconds": time.perf_counter() - started,
                    "cpu": time.process_time() - cpu + children,
                }
            )
            assert outcome.ok, outcome
    row = rate(n, verified)
    results.add(
        "verify",
        **row,
        target="≥ 500,000 ev/s (1M in ≤ 2 s)",
        met=row["value"] >= 500_000,
    )

    # --journal measures only seek and verify: the per-mix rows are not listed
    return finish(args, results, sizes, {k for k, _ in ONCE} if args.journal else None)


IMPORT_ROWS = ("bare_insert", "import_file", "rss_import")
"""The rows of each mix that ``--only import`` measures."""


def finish(
    args: argparse.Namespace, results: Results, sizes: dict[str, int], keys: set[str] | None
) -> dict[str, Any]:
    """Remove the scratch journals (unless ``--keep``) and return what latest.json holds."""
    if not args.keep:
        shutil.rmtree(args.workdir / "scratch", ignore_errors=True)
    return {
        "events": args.events,
        "seed": args.seed,
        "repeat": args.repeat,
        "mixes": [] if args.journal else list(args.mixes),
        "journal": None if args.journal is None else str(args.journal),
        "data_bytes": sizes,
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "rows": [{"key": k, **results.rows[k]} for k, _ in ROWS if k in results.rows],
        "table": table(results, keys),
    }


def machine() -> dict[str, Any]:
    """Where the figures were measured."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=HERE,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "commit": commit or None,
    }


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description="Run the Maestro Twin benchmarks.")
    parser.add_argument("--events", type=int, help=f"events to measure on ({DEFAULT_EVENTS:,})")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_EVENTS:,} events")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--seeks", type=int, default=20, help="seeks per position and run")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated data")
    parser.add_argument("--workdir", type=Path, default=HERE / "results", help="data and scratch")
    parser.add_argument("--output", type=Path, help="JSON results (default: WORKDIR/latest.json)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch journals")
    parser.add_argument(
        "--mix",
        dest="mixes",
        action="append",
        choices=MIXES,
        help="measure only this load mix (repeatable; default: both)",
    )
    parser.add_argument(
        "--journal",
        type=Path,
        help="measure only seek and verify, on this existing journal, evaluated before "
        "(twin run leaves the engine snapshots a seek needs)",
    )
    parser.add_argument(
        "--only",
        choices=("import",),
        help="measure only these rows: import (bare insert, import_file and its peak RSS)",
    )
    parser.add_argument("--child", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.only is not None and args.journal is not None:
        parser.error("--only import measures imports; --journal measures seek and verify")
    if args.journal is not None and args.child is None:
        if not args.journal.is_file():
            parser.error(f"--journal {args.journal}: no such file")
        with Journal.open(args.journal) as journal:
            args.events = journal.head()
    if args.events is None:
        args.events = QUICK_EVENTS if args.quick else DEFAULT_EVENTS
    if args.events < 100:
        parser.error("--events must be at least 100")
    if args.output is None:
        args.output = args.workdir / "latest.json"
    if not args.mixes:
        args.mixes = list(MIXES)
    return args


def main(argv: list[str] | None = None) -> int:
    """Run everything, print the table, write the JSON."""
    args = parse(argv)
    if args.child:
        extra = Path(args.child[2]) if len(args.child) > 2 else None
        child_main(args.child[0], Path(args.child[1]), extra)
        return 0
    report = run(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    m = report["machine"]
    what = f"on {args.journal}" if args.journal else f"per mix ({', '.join(args.mixes)})"
    print(
        f"Maestro Twin benchmarks: {args.events:,} events {what}, "
        f"median of {args.repeat} runs; "
        f"Python {m['python']}, SQLite {m['sqlite']}, {m['cpus']} CPUs"
    )
    print(report["table"])
    print(f"written: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
