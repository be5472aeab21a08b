"""Soak: the journal's guarantees under real faults, for as long as you care to watch.

One command, run by hand (figures in docs/reliability.md):

    uv run python benchmarks/soak.py                        # 200 kill rounds (a few minutes)
    uv run python benchmarks/soak.py --rounds 1000 --seconds 3600

Everything runs the real ``twin`` command in child processes (``python -m
twin``), against real files:

- **kill rounds**: ``twin import`` of a 1,000-event file and ``twin append``
  of one event, each SIGKILLed at a random moment (before, during or after
  its write). After each kill: the import is all or nothing, every event an
  acknowledged command wrote is there (events lost), no event is there twice,
  the hash chains verify; then the operator's retry (the same file, the same
  command with its ``event_id``) completes and writes each event exactly once.
- **concurrent writers**: several processes append and import into one
  journal at once, one of them killed midway: nothing acknowledged is lost,
  nothing is written twice, the seqs stay dense.
- **full disk**: a size-limited tmpfs in a private mount namespace
  (``unshare``, as tests/test_faults.py does); the import is refused in one
  line and the journal is untouched; once space is freed the retry works.
  Skipped (and said so) where namespaces are not available.
- **tamper**: rows edited, deleted, inserted, reordered, forged at the end,
  the tail cut, a branch row edited, the head anchor garbled, and the tail
  cut with the anchor rewritten to match; ``twin verify`` must name the
  exact seq (the last case only with ``--head``, a head recorded elsewhere).
- **fuzz**: generated and mutated event files (JSONL, CSV), topology,
  profile and plan files fed to the parsers, and a sample through the CLI
  (``twin import``, ``init --topology``, ``profile --profile``, ``plan
  check``, ``append KEY=VALUE``): each is accepted, or refused with one line
  and exit 2, no traceback, nothing written.

Progress goes to stderr; a summary table to stdout and JSON to
``benchmarks/results/soak.json`` (git-ignored). The exit code is 1 if any
check failed. This script imports nothing from tests/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from journal import Journal
from twin.errors import TwinInputError
from twin.event_files import NewEvent
from twin.events import CORE_EVENTS, Note, default_registry
from twin.plan.parse import read_plan
from twin.plugin_manager import TwinPluginManager
from twin.profile import load_profile
from twin.textsafe import first_unsafe
from twin.topology import read_topology

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ENV = {**os.environ, "TWIN_DISABLE_PLUGIN_AUTOLOAD": "1"}
TRIGGERS = (
    "events_no_update",
    "events_no_delete",
    "branches_no_update",
    "branches_no_delete",
    "branch_events_no_update",
    "branch_events_no_delete",
)
GENESIS: list[dict[str, Any]] = [
    {"ts": "2026-03-14T01:00:00Z", "type": "site_added", "site": 1, "event_id": "g-1"},
    {"type": "group_created", "group": 1, "event_id": "g-2"},
    {"type": "member_added", "member": "1_01", "group": 1, "site": 1, "event_id": "g-3"},
    {"type": "member_added", "member": "1_02", "group": 1, "site": 1, "event_id": "g-4"},
    {
        "type": "link_added",
        "link": "s1",
        "a": "1_01",
        "b": "1_02",
        "kind": "sync",
        "event_id": "g-5",
    },
]


def say(message: str) -> None:
    """Progress, on stderr."""
    print(f"[soak {datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# -- running twin ----------------------------------------------------------------------------


def twin_argv(*args: object) -> list[str]:
    """The argv that runs ``twin ARGS`` with this interpreter."""
    return [sys.executable, "-m", "twin", *map(str, args)]


class Ran:
    """A finished ``twin``: exit code and output."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    @property
    def clean_refusal(self) -> bool:
        """Exit 2 with one terminal-safe line on stderr and no traceback."""
        lines = [line for line in self.err.splitlines() if line.strip()]
        return (
            self.code == 2
            and len(lines) == 1
            and "Traceback" not in self.err
            and first_unsafe(lines[0]) is None
        )


def twin(*args: object, timeout: float = 300) -> Ran:
    """Run ``twin ARGS`` to the end."""
    done = subprocess.run(
        twin_argv(*args),
        capture_output=True,
        text=True,
        errors="replace",
        env=ENV,
        cwd=ROOT,
        timeout=timeout,
        check=False,
        start_new_session=True,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def kill_after(
    argv: Sequence[str], delay: float, wal: Path, wal_bytes: int | None = None
) -> tuple[bool, bool, int, str]:
    """Start ``argv``; SIGKILL it after ``delay`` seconds unless it ended first.

    With ``wal_bytes``, it is killed as soon as the journal's WAL holds that many bytes
    (in the middle of its write), ``delay`` being only a cap.

    Returns:
        (killed, killed while its WAL held data, exit code, its acknowledgement: what it
        printed on stdout if it ended by itself with exit 0, else "").
    """
    process = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=ENV,
        cwd=ROOT,
        start_new_session=True,  # a Ctrl-C meant for the soak does not reach it
    )
    deadline = time.monotonic() + delay
    while process.poll() is None and time.monotonic() < deadline:
        if wal_bytes is not None and wal.exists() and wal.stat().st_size >= wal_bytes:
            break
        time.sleep(0.002)
    killed = process.poll() is None
    writing = False
    if killed:
        writing = wal.exists() and wal.stat().st_size > 0
        process.send_signal(signal.SIGKILL)
    out, _ = process.communicate(timeout=120)
    if killed:
        # Its acknowledgement may be in the pipe, but the command did not finish: an operator
        # sees the kill, not the message. Count it as acknowledged only if it exited by itself.
        return True, writing, process.returncode, ""
    code = process.returncode
    return False, False, code, out.decode(errors="replace") if code == 0 else ""


def write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def new_journal(path: Path, work: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with Journal.create(path) as j:
        j.import_file(write_jsonl(work / "genesis.jsonl", GENESIS))


def count_ids(path: Path, prefix: str) -> tuple[int, int]:
    """(rows whose event_id starts with ``prefix``, distinct such ids), read-only."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM events WHERE event_id >= ? "
            "AND event_id < ?",
            (prefix, prefix + "\uffff"),
        ).fetchone()
    finally:
        conn.close()
    return int(rows), int(distinct)


def chains_ok(path: Path) -> bool:
    with Journal.open(path) as j:
        return all(r.ok for r in j.verify_all())


# -- the figures ------------------------------------------------------------------------------


class Tally:
    """What happened, and every check that failed (with enough to reproduce it)."""

    def __init__(self) -> None:
        self.figures: dict[str, Any] = {}
        self.failures: list[str] = []

    def add(self, key: str, n: int = 1) -> None:
        self.figures[key] = self.figures.get(key, 0) + n

    def check(self, ok: bool, what: str) -> bool:
        if not ok:
            self.failures.append(what)
            say(f"FAILED: {what}")
        return ok


# -- kill rounds ------------------------------------------------------------------------------


def note_rows(prefix: str, count: int, rng: random.Random) -> list[dict[str, Any]]:
    """``count`` events with ids ``PREFIX-n``: notes and group loads, as a monitored journal has."""
    rows: list[dict[str, Any]] = []
    for n in range(count):
        if rng.random() < 0.5:
            rows.append({"type": "note", "text": f"{prefix} {n} " + "x" * 120})
        else:
            rows.append({"type": "load_changed", "group": 1, "cpu_pct": rng.randint(1, 95)})
        rows[-1]["event_id"] = f"{prefix}-{n:06d}"
    return rows


def calibrate(argv: Sequence[str]) -> float:
    """How long one uninterrupted run of ``argv`` takes."""
    started = time.monotonic()
    subprocess.run(list(argv), capture_output=True, env=ENV, cwd=ROOT, check=True, timeout=600)
    return time.monotonic() - started


def kill_rounds(args: argparse.Namespace, work: Path, tally: Tally, stop_at: float) -> None:
    rng = random.Random(args.seed)
    journal = work / "kill.db"
    wal = Path(f"{journal}-wal")
    new_journal(journal, work)
    size = args.import_events
    template = write_jsonl(work / "calibrate.jsonl", note_rows("cal", size, rng))
    import_s = calibrate(twin_argv("import", journal, template))
    append_s = calibrate(twin_argv("append", journal, "note", "text=cal", "event_id=cal-a"))
    tally.figures["import_seconds_uninterrupted"] = round(import_s, 2)
    tally.figures["append_seconds_uninterrupted"] = round(append_s, 2)
    say(
        f"kill rounds: one import of {size:,} events takes {import_s:.1f} s, one append "
        f"{append_s:.1f} s; {args.rounds} rounds (alternating import / append)"
    )
    asked: list[bool] = []

    def stop_after_this_round(signum: int, frame: Any) -> None:
        asked.append(True)
        say("kill rounds: stopping after this round (Ctrl-C again aborts)")
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, stop_after_this_round)
    try:
        _rounds(args, work, journal, wal, size, import_s, append_s, rng, tally, stop_at, asked)
    finally:
        signal.signal(signal.SIGINT, previous)
        tally.figures["rounds_survived"] = tally.figures.get("rounds", 0) - tally.figures.get(
            "rounds_failed", 0
        )


def _rounds(
    args: argparse.Namespace,
    work: Path,
    journal: Path,
    wal: Path,
    size: int,
    import_s: float,
    append_s: float,
    rng: random.Random,
    tally: Tally,
    stop_at: float,
    asked: list[bool],
) -> None:
    for round_no in range(args.rounds):
        if time.monotonic() > stop_at or asked:
            why = "stopped (Ctrl-C)" if asked else "time is up"
            say(f"kill rounds: {why} after {round_no} rounds")
            tally.figures["stopped_early"] = f"{why} after {round_no} of {args.rounds} rounds"
            break
        if round_no and round_no % args.rotate == 0:
            new_journal(journal, work)  # keep the journal a size where each round stays quick
        with Journal.open(journal) as j:
            before = j.head()
        if round_no % 2 == 0:
            _import_round(round_no, journal, wal, work, size, import_s, before, rng, tally)
        else:
            _append_round(round_no, journal, wal, append_s, before, rng, tally)
        if (round_no + 1) % args.cli_verify_every == 0:
            verified = twin("verify", journal)
            tally.add("twin_verify_runs")
            tally.check(
                verified.code == 0, f"round {round_no}: twin verify: {verified.err.strip()}"
            )
        if (round_no + 1) % 10 == 0:
            f = tally.figures
            say(
                f"kill rounds: {round_no + 1}/{args.rounds}, killed {f.get('killed', 0)} "
                f"(mid-write {f.get('killed_mid_write', 0)}), events lost "
                f"{f.get('events_lost', 0)}, failures {len(tally.failures)}"
            )


def _import_round(
    round_no: int,
    journal: Path,
    wal: Path,
    work: Path,
    size: int,
    import_s: float,
    before: int,
    rng: random.Random,
    tally: Tally,
) -> None:
    prefix = f"r{round_no:05d}"
    source = write_jsonl(work / "round.jsonl", note_rows(prefix, size, rng))
    # Half the rounds at a random moment, half once the write is under way.
    if round_no % 4 == 0:
        delay, wal_bytes = rng.uniform(0.05, import_s * 1.2), None
    else:
        delay, wal_bytes = import_s * 3, rng.randint(1, size * 400)
    killed, writing, code, out = kill_after(
        twin_argv("import", journal, source), delay, wal, wal_bytes
    )
    failures = len(tally.failures)
    tally.check(killed or code == 0, f"round {round_no}: import ended by itself with exit {code}")
    tally.add("rounds")
    tally.add("import_rounds")
    tally.add("killed" if killed else "finished")
    if writing:
        tally.add("killed_mid_write")
    rows, distinct = count_ids(journal, prefix + "-")
    with Journal.open(journal) as j:
        head = j.head()
    when = f"at {delay:.2f} s" if wal_bytes is None else f"at WAL {wal_bytes:,} bytes"
    where = f"round {round_no} (import, kill {when})"
    tally.check(rows in (0, size), f"{where}: {rows} of {size} events written (not all or none)")
    tally.check(head == before + rows, f"{where}: head {head}, expected {before + rows}")
    tally.check(rows == distinct, f"{where}: {rows - distinct} events written twice")
    if out:  # acknowledged: "imported N events"
        lost = size - rows
        tally.add("events_acknowledged", size)
        tally.add("events_lost", lost)
        tally.check(lost == 0, f"{where}: acknowledged, but {lost} events are missing")
    tally.check(chains_ok(journal), f"{where}: the hash chains do not verify")
    # The operator's retry: the same file again completes, each event once.
    with Journal.open(journal) as j:
        result = j.import_file(source)
    rows, distinct = count_ids(journal, prefix + "-")
    tally.check(
        rows == distinct == size and result.appended + result.skipped == size,
        f"{where}: after the retry {rows} rows / {distinct} ids of {size}",
    )
    if len(tally.failures) > failures:
        tally.add("rounds_failed")


def _append_round(
    round_no: int,
    journal: Path,
    wal: Path,
    append_s: float,
    before: int,
    rng: random.Random,
    tally: Tally,
) -> None:
    event_id = f"a{round_no:05d}"
    command = twin_argv(
        "append", journal, "note", f"text=append {round_no}", f"event_id={event_id}"
    )
    if round_no % 4 == 1:
        delay, wal_bytes = rng.uniform(0.05, append_s * 1.2), None
    else:
        delay, wal_bytes = append_s * 3, 1  # as soon as it starts writing
    killed, writing, code, out = kill_after(command, delay, wal, wal_bytes)
    failures = len(tally.failures)
    tally.check(killed or code == 0, f"round {round_no}: append ended by itself with exit {code}")
    tally.add("rounds")
    tally.add("append_rounds")
    tally.add("killed" if killed else "finished")
    if writing:
        tally.add("killed_mid_write")
    rows, _ = count_ids(journal, event_id)
    with Journal.open(journal) as j:
        head = j.head()
    when = f"at {delay:.2f} s" if wal_bytes is None else "once writing"
    where = f"round {round_no} (append, kill {when})"
    tally.check(rows in (0, 1), f"{where}: {rows} rows for one append")
    tally.check(head == before + rows, f"{where}: head {head}, expected {before + rows}")
    if out:
        tally.add("events_acknowledged")
        tally.add("events_lost", 1 - rows)
        tally.check(rows == 1, f"{where}: acknowledged ({out.strip()}) but not in the journal")
    tally.check(chains_ok(journal), f"{where}: the hash chains do not verify")
    # The operator's retry of the same command: exit 0, the event exactly once. Through
    # `twin` whenever the killed one had written (the idempotent case) and every 4th round;
    # otherwise in-process, which is quicker.
    if rows == 1 or round_no % 8 == 3:
        tally.add("append_retries_through_twin")
        retry = twin(*command[3:])
        code, why = retry.code, retry.err.strip()
    else:
        with Journal.open(journal) as j:
            j.append([NewEvent(Note(text=f"append {round_no}"), "note", event_id=event_id)])
        code, why = 0, ""
    rows, _ = count_ids(journal, event_id)
    tally.check(code == 0 and rows == 1, f"{where}: retry exit {code} {why}, {rows} rows")
    if len(tally.failures) > failures:
        tally.add("rounds_failed")


# -- concurrent writers -----------------------------------------------------------------------

WRITER = """
import sys
from journal import Journal
from twin.event_files import NewEvent
from twin.events import Note

path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with Journal.open(path) as journal:
    for n in range(count):
        journal.append([NewEvent(Note(text=f"{name} {n}"), "note", event_id=f"{name}-{n:06d}")])
        print(n + 1, flush=True)  # committed
"""


def concurrent_writers(args: argparse.Namespace, work: Path, tally: Tally) -> None:
    rng = random.Random(args.seed + 1)
    journal = work / "concurrent.db"
    new_journal(journal, work)
    writers = args.writers
    per_writer = args.writer_events
    say(
        f"concurrent writers: {writers} appenders x {per_writer} events, 2 twin imports, "
        "2 twin appends at once; one appender killed midway"
    )
    procs: dict[str, subprocess.Popen[str]] = {}
    for w in range(writers):
        procs[f"w{w}"] = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(journal), f"w{w}", str(per_writer)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
            cwd=ROOT,
        )
    imports = {}
    for i in range(2):
        source = write_jsonl(work / f"conc-{i}.jsonl", note_rows(f"i{i}", 500, rng))
        imports[f"i{i}"] = subprocess.Popen(
            twin_argv("import", journal, source),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
            cwd=ROOT,
        )
    appends = {}
    for i in range(2):
        appends[f"c{i}"] = subprocess.Popen(
            twin_argv("append", journal, "note", f"text=c{i}", f"event_id=c{i}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
            cwd=ROOT,
        )
    # Kill the first appender once it has committed a random share of its events.
    victim = procs["w0"]
    assert victim.stdout is not None
    target = rng.randint(1, max(1, per_writer - 1))
    acked: dict[str, int] = {}
    seen = 0
    for line in victim.stdout:
        seen = int(line)
        if seen >= target:
            break
    victim.send_signal(signal.SIGKILL)
    rest, _ = victim.communicate(timeout=120)
    for line in rest.splitlines():  # committed before it died, still in the pipe
        seen = int(line)
    acked["w0"] = seen
    for name, proc in procs.items():
        if name == "w0":
            continue
        out, err = proc.communicate(timeout=900)
        tally.check(proc.returncode == 0, f"writer {name} exit {proc.returncode}: {err.strip()}")
        acked[name] = int(out.split()[-1]) if out.split() else 0
    for name, proc in {**imports, **appends}.items():
        out, err = proc.communicate(timeout=900)
        tally.check(proc.returncode == 0, f"{name} exit {proc.returncode}: {err.strip()}")
        acked[name] = (500 if name.startswith("i") else 1) if proc.returncode == 0 else 0
    lost = 0
    written = 0
    for name, count in acked.items():
        rows, distinct = count_ids(journal, f"{name}-" if name[0] in "wi" else name)
        tally.check(rows == distinct, f"concurrent {name}: {rows - distinct} events written twice")
        extra = 1 if name == "w0" else 0  # the one in flight when it was killed
        tally.check(
            count <= rows <= count + extra,
            f"concurrent {name}: acknowledged {count}, found {rows}",
        )
        lost += max(0, count - rows)
        written += rows
    with Journal.open(journal) as j:
        head = j.head()
    tally.check(head == len(GENESIS) + written, f"concurrent: head {head}, rows {written}")
    verified = twin("verify", journal)
    tally.check(verified.code == 0, f"concurrent: twin verify: {verified.err.strip()}")
    tally.figures["concurrent_events_acknowledged"] = sum(acked.values())
    tally.figures["concurrent_events_lost"] = lost
    tally.add("events_lost", lost)
    tally.add("events_acknowledged", sum(acked.values()))
    say(
        f"concurrent writers: {written:,} events written, {sum(acked.values()):,} acknowledged, "
        f"lost {lost}"
    )


# -- full disk --------------------------------------------------------------------------------


def namespaces_available() -> bool:
    try:
        done = subprocess.run(
            [
                "unshare",
                "--user",
                "--map-root-user",
                "--mount",
                "sh",
                "-c",
                "mount -t tmpfs -o size=16k tmpfs /mnt",
            ],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def shell_twin(*args: object) -> str:
    """``twin ARGS`` as shell words."""
    return " ".join(shlex.quote(w) for w in twin_argv(*args))


def full_disk(args: argparse.Namespace, work: Path, tally: Tally) -> None:
    if not namespaces_available():
        tally.figures["full_disk"] = "skipped: no unprivileged mount namespaces (unshare)"
        say("full disk: skipped (no unprivileged mount namespaces here)")
        return
    rng = random.Random(args.seed + 2)
    genesis = write_jsonl(work / "genesis.jsonl", GENESIS)
    big = write_jsonl(work / "disk-big.jsonl", note_rows("d", 3000, rng))
    cases = args.disk_cases
    say(f"full disk: {cases} cases on an 8 MB tmpfs, with 0 to 256 kB left free")
    for case in range(cases):
        leave_kb = [0, 4, 16, 64, 256][case % 5]
        disk = work / "disk"
        disk.mkdir(exist_ok=True)
        j = disk / "j.db"
        q = shlex.quote
        t = shell_twin

        script = " ; ".join(
            [
                f"mount -t tmpfs -o size=8192k tmpfs {q(str(disk))} || exit 99",
                f"cd {q(str(ROOT))}",
                t("init", j) + " >/dev/null",
                t("import", j, genesis) + " >/dev/null",
                f"dd if=/dev/zero of={q(str(disk / 'filler'))} bs=4k 2>/dev/null",
                f"truncate -s -{leave_kb}k {q(str(disk / 'filler'))}",
                f"{t('import', j, big)} 2>{q(str(work / 'err1'))}; echo import=$?",
                f"{t('append', j, 'note', 'text=full', 'event_id=full-1')} "
                f"2>{q(str(work / 'err2'))}; echo append=$?",
                f"echo err1=$(cat {q(str(work / 'err1'))} | wc -l)",
                f"grep -c Traceback {q(str(work / 'err1'))} {q(str(work / 'err2'))} | "
                "sed 's/^/tb=/'",
                f"cat {q(str(work / 'err1'))} >&2",
                t("verify", j) + " | sed 's/^/verify1=/'",
                f"rm {q(str(disk / 'filler'))}",
                f"{t('import', j, big)} >/dev/null; echo retry=$?",
                f"{t('append', j, 'note', 'text=full', 'event_id=full-1')} >/dev/null;"
                " echo retry_append=$?",
                t("verify", j) + " | sed 's/^/verify2=/'",
            ]
        )
        done = subprocess.run(
            ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
            capture_output=True,
            text=True,
            env=ENV,
            timeout=600,
            check=False,
        )
        out = done.stdout
        where = f"full disk case {case} ({leave_kb} kB left)"
        tally.add("disk_cases")
        refused = "import=2" in out and "disk is full" in done.stderr
        if "import=0" in out:
            tally.add("disk_cases_fit")  # the file fitted in what was left: also fine
        else:
            tally.check(refused, f"{where}: import not refused cleanly: {out!r} {done.stderr!r}")
            tally.add("disk_refusals_clean" if refused else "disk_refusals_bad")
        tally.check("err1=1" in out or "import=0" in out, f"{where}: not one line: {out!r}")
        tally.check(":0" in out and not re.search(r"tb=.*:[1-9]", out), f"{where}: traceback")
        tally.check(
            re.search(r"append=[02]\b", out) is not None, f"{where}: append not 0 or 2: {out!r}"
        )
        tally.check(
            "verify1=ok" in out and "verify2=ok" in out, f"{where}: does not verify: {out!r}"
        )
        tally.check("retry=0" in out and "retry_append=0" in out, f"{where}: retry failed: {out!r}")
        expected = len(GENESIS) + 3000 + 1
        tally.check(f"verify2=ok: {expected} events" in out, f"{where}: after the retry {out!r}")
    say(
        f"full disk: {tally.figures.get('disk_refusals_clean', 0)} clean refusals, "
        f"{tally.figures.get('disk_cases_fit', 0)} fitted"
    )


# -- tamper -----------------------------------------------------------------------------------


def tamper(path: Path, *statements: str) -> None:
    """Change a journal as anyone with sqlite3 could (triggers dropped)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for name in TRIGGERS:
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        for sql in statements:
            conn.execute(sql)
    finally:
        conn.close()


def _insert_copy(k: int, *, at_end: bool = False) -> list[str]:
    """Statements inserting a copy of row ``k - 1`` (fresh event_id) as seq ``k``."""
    shift = (
        []
        if at_end
        else [
            f"UPDATE events SET seq = -seq WHERE seq >= {k}",
            "UPDATE events SET seq = 1 - seq WHERE seq < 0",
        ]
    )
    return [
        *shift,
        "INSERT INTO events (seq, event_id, type, schema, occurred_at, recorded_at, actor, "
        "reason, correlation_id, causation_id, data, prev_hash, hash) "
        f"SELECT {k}, event_id || '-forged', type, schema, occurred_at, recorded_at, actor, "
        f"reason, correlation_id, causation_id, data, prev_hash, hash FROM events "
        f"WHERE seq = {k - 1}",
    ]


TamperCase = Callable[[int, int], tuple[list[str], int | None]]
"""(seq k, head) -> (statements, the seq verify must name, or None: caught without a seq)."""

TAMPERS: dict[str, TamperCase] = {
    "edit payload": lambda k, h: (
        [f"UPDATE events SET data = json_set(data, '$.soak', 1) WHERE seq = {k}"],
        k,
    ),
    "edit occurred_at": lambda k, h: (
        [f"UPDATE events SET occurred_at = '2020-01-01T00:00:00Z' WHERE seq = {k}"],
        k,
    ),
    "edit actor": lambda k, h: ([f"UPDATE events SET actor = 'mallory' WHERE seq = {k}"], k),
    "edit reason into text that is not UTF-8": lambda k, h: (
        [f"UPDATE events SET reason = CAST(x'ff' AS TEXT) WHERE seq = {k}"],
        k,
    ),
    "edit type": lambda k, h: (
        [f"UPDATE events SET type = 'note', data = '{{\"text\":\"x\"}}' WHERE seq = {k}"],
        k,
    ),
    "edit hash": lambda k, h: ([f"UPDATE events SET hash = printf('%064d', 0) WHERE seq = {k}"], k),
    "edit prev_hash": lambda k, h: (
        [f"UPDATE events SET prev_hash = printf('%064d', 0) WHERE seq = {k}"],
        k,
    ),
    "delete a row": lambda k, h: ([f"DELETE FROM events WHERE seq = {k}"], k),
    "insert a row": lambda k, h: (_insert_copy(k), k),
    "swap two rows": lambda k, h: (
        [
            f"UPDATE events SET seq = -1 WHERE seq = {k}",
            f"UPDATE events SET seq = {k} WHERE seq = {k + 1}",
            f"UPDATE events SET seq = {k + 1} WHERE seq = -1",
        ],
        k,
    ),
    "cut the tail": lambda k, h: ([f"DELETE FROM events WHERE seq >= {k}"], k),
    "forge a row at the end": lambda k, h: (_insert_copy(h + 1, at_end=True), h + 1),
    "edit a branch row": lambda k, h: (
        [
            "UPDATE branch_events SET data = json_set(data, '$.soak', 1) WHERE seq = "
            "(SELECT max(seq) FROM branch_events)"
        ],
        -1,  # the branch's last seq, filled in below
    ),
    "garble the head anchor": lambda k, h: (
        ["UPDATE meta SET value = 'garbage' WHERE key = 'head:main'"],
        None,
    ),
    "cut the tail and rewrite the anchor": lambda k, h: (
        [
            f"DELETE FROM events WHERE seq >= {k}",
            f"UPDATE meta SET value = (SELECT '{k - 1}:' || hash FROM events WHERE seq = {k - 1})"
            " WHERE key = 'head:main'",
        ],
        h,  # only with --head: the recorded head is gone
    ),
}


def tamper_cases(args: argparse.Namespace, work: Path, tally: Tally) -> None:
    rng = random.Random(args.seed + 3)
    base = work / "tamper-base.db"
    new_journal(base, work)
    more = write_jsonl(work / "tamper.jsonl", note_rows("t", args.tamper_events, rng))
    imported = twin("import", base, more)
    found = re.search(r"^head ([0-9]+:[0-9a-f]{64})$", imported.out, re.MULTILINE)
    tally.check(found is not None, f"tamper: import printed no head: {imported.out!r}")
    recorded = found.group(1) if found else ""
    head = int(recorded.split(":")[0]) if found else 0
    twin("branch", base, "what-if", "--at", str(head // 2))
    twin("append", base, "note", "text=b1", "--branch", "what-if")
    twin("append", base, "note", "text=b2", "--branch", "what-if")
    total = len(TAMPERS) * args.tamper_seqs
    say(
        f"tamper: {total} cases ({len(TAMPERS)} kinds x {args.tamper_seqs} seqs) on a "
        f"{head}-event journal"
    )
    table: dict[str, list[int]] = {}
    for kind, make in TAMPERS.items():
        for _ in range(args.tamper_seqs):
            # A cut tail keeps the branch's fork point (or verify rightly flags the branch too).
            low = head // 2 + 3 if "tail" in kind else 2
            k = rng.randint(low, head - 1)
            copy = work / "tampered.db"
            shutil.copy(base, copy)
            statements, expected = make(k, head)
            tamper(copy, *statements)
            if expected == -1:
                conn = sqlite3.connect(copy)
                expected = int(conn.execute("SELECT max(seq) FROM branch_events").fetchone()[0])
                conn.close()
            plain = twin("verify", copy)
            tally.add("tamper_cases")
            line = plain.err.strip()
            if kind == "cut the tail and rewrite the anchor":
                # The journal alone looks whole: that is the documented limit.
                tally.check(plain.code == 0, f"tamper {kind} at {k}: plain verify {line}")
                withhead = twin("verify", copy, "--head", recorded)
                line = withhead.err.strip()
                located = withhead.code == 1 and f"recorded head #{expected} is gone" in line
            elif expected is None:
                located = plain.code == 1 and "head anchor" in line
            else:
                # The first line names the main line's first bad seq; a branch forked after
                # it is broken too, and gets a line of its own.
                located = plain.code == 1 and f"at seq {expected}:" in line.splitlines()[0]
            lines = line.splitlines()
            located = (
                located
                and "Traceback" not in line
                and all(ln.startswith("twin: verify FAILED") for ln in lines[1:])
            )
            tally.check(located, f"tamper {kind} at {k}: expected seq {expected}, got {line!r}")
            tally.add("tamper_located" if located else "tamper_missed")
            table.setdefault(kind, [0, 0])
            table[kind][0] += int(located)
            table[kind][1] += 1
    tally.figures["tamper_by_kind"] = {k: f"{v[0]}/{v[1]}" for k, v in table.items()}
    say(f"tamper: located {tally.figures.get('tamper_located', 0)}/{total}")


# -- fuzz -------------------------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "1_01",
    "1_01\n",
    "\x1b[2J",
    "\u202e",
    "[/x]",
    "[bold]x",
    "nan",
    "inf",
    "-1",
    "1e400",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "2026-03-14T02:10:00Z",
    "é",
    "a" * 300,
    "-",
    "/dev/zero",
    "1_99",
    "\t",
    "'; DROP TABLE events; --",
]
REGISTRY = default_registry()
TYPES = [cls.event_type for cls in CORE_EVENTS]
FIELDS = sorted({name for t in TYPES for name in REGISTRY.fields(t)})
ENVELOPE = ["ts", "occurred_at", "actor", "reason", "correlation_id", "causation_id", "event_id"]


def rand_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if roll < 0.1:
        return None
    if roll < 0.2:
        return rng.choice([True, False])
    if roll < 0.4:
        return rng.choice(
            [0, 1, -1, 2, 512, 513, 2**31, 2**63, 2**64 - 1, -(2**70), rng.randint(-1000, 1000)]
        )
    if roll < 0.5:
        return rng.choice(
            [0.0, -0.0, 1.5, 1.7e308, 1e-320, float("nan"), float("inf"), rng.uniform(-1e6, 1e6)]
        )
    if roll < 0.85 or depth > 2:
        return (
            rng.choice(NASTY)
            if rng.random() < 0.7
            else "".join(chr(rng.randint(0, 0x2FF)) for _ in range(rng.randint(0, 8)))
        )
    if rng.random() < 0.5:
        return [rand_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {
        rng.choice([*FIELDS, "x"]): rand_value(rng, depth + 1) for _ in range(rng.randint(0, 3))
    }


def rand_record(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice([*TYPES, *TYPES, "not_a_type", "", "[/x]"])
    known = list(REGISTRY.fields(kind)) if kind in REGISTRY else FIELDS
    record: dict[str, Any] = {"type": kind}
    for name in rng.sample(known + ENVELOPE + ["bogus"], k=min(len(known) + 8, rng.randint(0, 6))):
        record[name] = rand_value(rng)
    if rng.random() < 0.3 and kind in REGISTRY:  # mostly right, one field wrong
        for name in known:
            record.setdefault(name, rng.choice(["1_01", 1, "s1", "sync", True, 10]))
    return record


def mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.choice(["flip", "cut", "insert", "truncate", "duplicate"])
        at = rng.randint(0, max(0, len(out) - 1))
        if op == "flip" and out:
            out[at] = rng.randint(0, 255)
        elif op == "cut" and out:
            del out[at : at + rng.randint(1, 8)]
        elif op == "insert":
            out[at:at] = rng.choice(
                [b'"', b",", b"\n", b"\x00", b"\xff", b"[", b"{", b"=", b"\\", b"\x1b[2J", b"]]"]
            )
        elif op == "truncate":
            del out[at:]
        elif op == "duplicate" and out:
            out[at:at] = out[at : at + rng.randint(1, 40)]
    return bytes(out)


def jsonl_case(rng: random.Random) -> bytes:
    rows = [
        *(GENESIS if rng.random() < 0.6 else []),
        *(rand_record(rng) for _ in range(rng.randint(0, 5))),
    ]
    text = "".join(json.dumps(r, ensure_ascii=rng.random() < 0.5) + "\n" for r in rows).encode()
    return mutate(text, rng) if rng.random() < 0.4 else text


def csv_case(rng: random.Random) -> bytes:
    rows = [
        *(GENESIS if rng.random() < 0.6 else []),
        *(rand_record(rng) for _ in range(rng.randint(0, 5))),
    ]
    header = sorted({k for r in rows for k in r} | {"type"})
    lines = [",".join(header)]
    for r in rows:
        cells = []
        for h in header:
            v = r.get(h)
            cell = "" if v is None else str(v)
            if any(c in cell for c in ',"\n') or rng.random() < 0.1:
                cell = '"' + cell.replace('"', '""') + '"'
            cells.append(cell)
        lines.append(",".join(cells))
    text = ("\n".join(lines) + "\n").encode("utf-8", errors="surrogatepass")
    return mutate(text, rng) if rng.random() < 0.4 else text


def toml_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            "nan"
            if value != value
            else (
                "inf"
                if value == float("inf")
                else "-inf"
                if value == float("-inf")
                else repr(value)
            )
        )
    if isinstance(value, list):
        return "[" + ", ".join(toml_of(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_of(v)}" for k, v in value.items()) + "}"
    return json.dumps("" if value is None else str(value))


def topology_case(rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        return mutate((ROOT / "examples" / "dual-site.toml").read_bytes(), rng)
    lines = []
    for table, kind in (
        ("site", "site_added"),
        ("group", "group_created"),
        ("member", "member_added"),
        ("link", "link_added"),
        ("bogus", "note"),
    ):
        for _ in range(rng.randint(0, 2)):
            lines.append(f"[[{table}]]")
            for key in rng.sample(
                [*REGISTRY.fields(kind), "x"], k=min(rng.randint(0, 3), len(REGISTRY.fields(kind)))
            ):
                lines.append(f"{key} = {toml_of(rand_value(rng))}")
    if rng.random() < 0.1:
        lines.append("x = " + "[" * 1000 + "]" * 1000)
    return ("\n".join(lines) + "\n").encode("utf-8", errors="surrogatepass")


def profile_case(rng: random.Random, parameters: Sequence[str]) -> bytes:
    if rng.random() < 0.3:
        return mutate(b'[profile]\nname = "x"\n[parameters]\n"sync.network_gbps" = 10\n', rng)
    lines = ["[parameters]"] if rng.random() < 0.9 else ["parameters = 3"]
    for name in rng.sample([*parameters, "nope.x"], k=rng.randint(0, 4)):
        if rng.random() < 0.5:
            lines.append(f"{json.dumps(name)} = {toml_of(rand_value(rng))}")
        else:
            spec = {k: rand_value(rng) for k in rng.sample(["value", "low", "high", "source"], 2)}
            lines.append(f"{json.dumps(name)} = {toml_of(spec)}")
    return ("\n".join(lines) + "\n").encode("utf-8", errors="surrogatepass")


def plan_case(rng: random.Random, plans: Sequence[Path]) -> tuple[bytes, str]:
    which = rng.choice(plans)
    return mutate(which.read_bytes(), rng), which.name


def refusal_ok(error: TwinInputError) -> bool:
    line = error.one_line()
    return bool(line) and "\n" not in line and first_unsafe(line) is None


def fuzz(args: argparse.Namespace, work: Path, tally: Tally, stop_at: float) -> None:
    rng = random.Random(args.seed + 4)
    folder = work / "fuzz"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "failures").mkdir(parents=True)
    journal = folder / "j.db"
    new_journal(journal, work)
    with Journal.open(journal) as j:
        base_head = j.head()
    base_profile = TwinPluginManager(autoload=False).load().profile()
    parameters = sorted(base_profile.parameters)
    plans = sorted((ROOT / "examples" / "plans").glob("*.toml"))
    (folder / "plans").mkdir()
    shutil.copy(ROOT / "examples" / "incident-0412.jsonl", folder / "incident-0412.jsonl")
    kinds = ["jsonl", "csv", "topology", "profile", "plan", "append"]
    say(
        f"fuzz: {args.fuzz} cases over {', '.join(kinds)}; every {args.cli_every}th "
        "through the twin command"
    )
    per_kind: dict[str, dict[str, int]] = {
        k: {"tried": 0, "refused": 0, "accepted": 0, "bad": 0, "cli": 0} for k in kinds
    }
    for n in range(args.fuzz):
        if time.monotonic() > stop_at:
            say(f"fuzz: time is up after {n} cases")
            break
        through_cli = n % args.cli_every == 0
        # key=value only parses inside the command: "append" cases all go through twin.
        kind = kinds[(n // args.cli_every) % len(kinds)] if through_cli else kinds[n % 5]
        stats = per_kind[kind]
        stats["tried"] += 1
        tally.add("fuzz_cases")
        verdict = _fuzz_one(
            kind, rng, folder, journal, base_head, base_profile, parameters, plans, through_cli
        )
        stats["cli"] += int(through_cli)
        stats[verdict] += 1
        if verdict == "bad":
            tally.check(False, f"fuzz case {n} ({kind}): see {folder / 'failures'}")
        if (n + 1) % 500 == 0:
            say(f"fuzz: {n + 1}/{args.fuzz}")
    tally.figures["fuzz_by_kind"] = per_kind
    tally.figures["fuzz_refused_cleanly"] = sum(s["refused"] for s in per_kind.values())
    tally.figures["fuzz_accepted"] = sum(s["accepted"] for s in per_kind.values())
    tally.figures["fuzz_bad"] = sum(s["bad"] for s in per_kind.values())
    tally.figures["fuzz_through_cli"] = sum(s["cli"] for s in per_kind.values())
    say(
        f"fuzz: {tally.figures.get('fuzz_cases', 0)} cases, "
        f"{tally.figures['fuzz_refused_cleanly']} refused cleanly, "
        f"{tally.figures['fuzz_accepted']} accepted, {tally.figures['fuzz_bad']} bad"
    )


def _fuzz_one(
    kind: str,
    rng: random.Random,
    folder: Path,
    journal: Path,
    base_head: int,
    base_profile: Any,
    parameters: Sequence[str],
    plans: Sequence[Path],
    through_cli: bool,
) -> str:
    """One case: "refused" (cleanly), "accepted", or "bad" (saved under failures/)."""
    if kind == "append":
        argv = [rng.choice([*TYPES, "[/x]", "nope"])]
        for _ in range(rng.randint(0, 4)):
            key = rng.choice([*FIELDS, *ENVELOPE, "type", "", "text"])
            value = str(rand_value(rng)).replace("\x00", "")
            argv.append(f"{key}={value}")
        ran = twin("append", journal, *argv, "--ts", "2026-03-14T03:00:00Z")
        return _judge_cli(ran, journal, argv, folder, allow_write=True)
    if kind == "jsonl":
        data, path = jsonl_case(rng), folder / "case.jsonl"
    elif kind == "csv":
        data, path = csv_case(rng), folder / "case.csv"
    elif kind == "topology":
        data, path = topology_case(rng), folder / "case.toml"
    elif kind == "profile":
        data, path = profile_case(rng, parameters), folder / "case.toml"
    else:
        data, name = plan_case(rng, plans)
        path = folder / "plans" / name  # beside a copy of its base, ../incident-0412.jsonl
    path.write_bytes(data)
    if through_cli:
        if kind in ("jsonl", "csv"):
            copy = folder / "cli.db"
            shutil.copy(journal, copy)
            ran = twin("import", copy, path)
            return _judge_cli(ran, copy, data, folder, base_head=base_head)
        if kind == "topology":
            target = folder / "new.db"
            target.unlink(missing_ok=True)
            ran = twin("init", target, "--topology", path)
            verdict = _judge_cli(ran, None, data, folder)
            if ran.code != 0 and target.exists():
                return _save_failure(folder, data, "a refused init left a journal behind")
            return verdict
        if kind == "profile":
            return _judge_cli(twin("profile", "--profile", path), None, data, folder)
        ran = twin("plan", "check", path)
        # A plan that parses may still fail its own expectations (exit 1): not a crash.
        return _judge_cli(ran, None, data, folder, ok_codes=(0, 1))
    try:
        if kind in ("jsonl", "csv"):
            with Journal.open(journal) as j:
                try:
                    j.import_file(path)
                except TwinInputError as error:
                    if j.head() != base_head:
                        return _save_failure(folder, data, "a refused import wrote events")
                    raise error from None
                # Accepted: put the journal back for the next case.
            new_journal(journal, folder)
        elif kind == "topology":
            read_topology(path, REGISTRY)
        elif kind == "profile":
            load_profile(path, base_profile)
        else:
            read_plan(path, REGISTRY)
    except TwinInputError as error:
        return "refused" if refusal_ok(error) else _save_failure(folder, data, error.one_line())
    except Exception as error:  # exactly what the soak is looking for
        return _save_failure(folder, data, f"{type(error).__name__}: {error}")
    return "accepted"


def _judge_cli(
    ran: Ran,
    journal: Path | None,
    data: Any,
    folder: Path,
    *,
    base_head: int | None = None,
    allow_write: bool = False,
    ok_codes: tuple[int, ...] = (0,),
) -> str:
    if "Traceback" in ran.err:
        return _save_failure(folder, data, ran.err)
    if ran.code in ok_codes:
        return "accepted"
    if not ran.clean_refusal:
        return _save_failure(folder, data, f"exit {ran.code}: {ran.err}")
    if journal is not None and base_head is not None:
        with Journal.open(journal) as j:
            if j.head() != base_head or not all(r.ok for r in j.verify_all()):
                return _save_failure(folder, data, "a refused import changed the journal")
    return "refused"


def _save_failure(folder: Path, data: Any, why: str) -> str:
    n = len(list((folder / "failures").iterdir()))
    case = folder / "failures" / f"case-{n:04d}"
    case.with_suffix(".bin").write_bytes(data if isinstance(data, bytes) else repr(data).encode())
    case.with_suffix(".txt").write_text(why, encoding="utf-8")
    say(f"fuzz: BAD case saved as {case}.bin: {why.strip()[:200]!r}")
    return "bad"


# -- the report -------------------------------------------------------------------------------


def table(f: dict[str, Any], failures: int, seconds: float) -> str:
    rows = [
        (
            "kill rounds survived",
            f"{f.get('rounds_survived', 0)} / {f.get('rounds', 0)} "
            f"({f.get('import_rounds', 0)} import, {f.get('append_rounds', 0)} append)",
        ),
        (
            "  killed / finished first",
            f"{f.get('killed', 0)} / {f.get('finished', 0)} "
            f"({f.get('killed_mid_write', 0)} killed with the WAL holding data)",
        ),
        ("events acknowledged", f"{f.get('events_acknowledged', 0):,}"),
        ("events lost", f"{f.get('events_lost', 0)}"),
        (
            "concurrent writers",
            f"{f.get('concurrent_events_acknowledged', 0):,} acknowledged, "
            f"{f.get('concurrent_events_lost', 0)} lost",
        ),
        (
            "full disk",
            f.get("full_disk")
            or f"{f.get('disk_refusals_clean', 0)} clean "
            f"refusals / {f.get('disk_cases', 0)} cases ({f.get('disk_cases_fit', 0)} fitted)",
        ),
        ("tamper cases located", f"{f.get('tamper_located', 0)} / {f.get('tamper_cases', 0)}"),
        (
            "fuzz cases tried",
            f"{f.get('fuzz_cases', 0):,} ({f.get('fuzz_through_cli', 0)} through twin)",
        ),
        (
            "  refused cleanly / accepted / bad",
            f"{f.get('fuzz_refused_cleanly', 0):,} / "
            f"{f.get('fuzz_accepted', 0):,} / {f.get('fuzz_bad', 0)}",
        ),
        *([("stopped early", f["stopped_early"])] if f.get("stopped_early") else []),
        ("checks failed", f"{failures}"),
        ("wall time", f"{seconds / 60:.1f} min"),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def machine() -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE,
    ).stdout.strip()
    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "commit": commit or None,
    }


PHASES = ("kill", "concurrent", "disk", "tamper", "fuzz")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Soak the Maestro Twin journal under real faults.")
    parser.add_argument("--rounds", type=int, default=200, help="kill rounds (import/append)")
    parser.add_argument(
        "--seconds",
        type=float,
        default=3600,
        help="stop starting kill rounds after this long (they run last)",
    )
    parser.add_argument("--import-events", type=int, default=1000, help="events per killed import")
    parser.add_argument("--rotate", type=int, default=20, help="a fresh journal every N rounds")
    parser.add_argument(
        "--cli-verify-every",
        type=int,
        default=10,
        help="run `twin verify` after every Nth round (every round is checked in-process)",
    )
    parser.add_argument("--writers", type=int, default=4, help="concurrent appender processes")
    parser.add_argument("--writer-events", type=int, default=300, help="events per appender")
    parser.add_argument("--disk-cases", type=int, default=5, help="full-disk cases")
    parser.add_argument(
        "--tamper-events", type=int, default=300, help="events in the journal that is tampered with"
    )
    parser.add_argument("--tamper-seqs", type=int, default=3, help="seqs tried per tamper kind")
    parser.add_argument("--fuzz", type=int, default=3000, help="fuzz cases")
    parser.add_argument(
        "--fuzz-seconds", type=float, default=900, help="stop starting fuzz cases after this long"
    )
    parser.add_argument(
        "--cli-every",
        type=int,
        default=50,
        help="every Nth fuzz case goes through the twin command",
    )
    parser.add_argument("--seed", type=int, default=9, help="seed of every random choice")
    parser.add_argument("--workdir", type=Path, default=HERE / "results", help="scratch files")
    parser.add_argument("--output", type=Path, help="JSON results (default: WORKDIR/soak.json)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch journals")
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"comma-separated phases to run (default: all of {','.join(PHASES)})",
    )
    args = parser.parse_args(argv)
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = sorted(set(args.phases) - set(PHASES))
    if unknown:
        parser.error(f"unknown phase {unknown[0]!r}; choose from {', '.join(PHASES)}")
    for name in (
        "rotate",
        "cli_verify_every",
        "cli_every",
        "writers",
        "writer_events",
        "tamper_seqs",
    ):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.tamper_events < 20 or args.import_events < 10:
        parser.error("--tamper-events must be at least 20 and --import-events at least 10")
    if args.output is None:
        args.output = args.workdir / "soak.json"
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every phase, print the table, write the JSON; exit 1 if a check failed."""
    args = parse(argv)
    started = time.monotonic()
    work = args.workdir / "soak-scratch"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    tally = Tally()
    command = "uv run python benchmarks/soak.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
    )
    try:
        # The quick phases first; the kill rounds last, for as long as --seconds allows.
        if "tamper" in args.phases:
            tamper_cases(args, work, tally)
        if "disk" in args.phases:
            full_disk(args, work, tally)
        if "concurrent" in args.phases:
            concurrent_writers(args, work, tally)
        if "fuzz" in args.phases:
            fuzz(args, work, tally, time.monotonic() + args.fuzz_seconds)
        if "kill" in args.phases:
            kill_rounds(args, work, tally, time.monotonic() + args.seconds)
    finally:
        seconds = time.monotonic() - started
        summary = table(tally.figures, len(tally.failures), seconds)
        report = {
            "command": command.strip(),
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "seconds": round(seconds, 1),
            "figures": tally.figures,
            "failures": tally.failures,
            "table": summary,
        }
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    m = report["machine"]
    print(f"Maestro Twin soak: {command.strip()}")
    print(f"Python {m['python']}, SQLite {m['sqlite']}, {m['cpus']} CPUs, commit {m['commit']}")
    print(summary)
    print(f"written: {args.output}")
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
