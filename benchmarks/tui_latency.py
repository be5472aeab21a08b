"""TUI step latency and memory on a big journal: key press to repaint, in a real terminal.

The TUI runs in a pseudo-terminal (120×40) exactly as a user runs it
(``python -m twin tui JOURNAL --at N``). The benchmark presses ``]`` and
times until the terminal receives the repaint that shows the new position
(``#N+1/``), one key at a time, at three places in the journal (near the
start, the middle and the end). The same is measured on a bare Textual app
that only counts key presses (the baseline: what any Textual app costs on
this machine, in the same run), and the TUI's figures are also given as a
ratio to it. Then the detail at the cursor (a seek, the findings, the
topology) is timed in process for the same steps, and the TUI's resident
memory is read from /proc (VmRSS now, VmHWM its peak).

    uv run python benchmarks/tui_latency.py --events 1000000    # the size of the target
    uv run python benchmarks/tui_latency.py --quick             # 20,000 events, a smoke run

The journal is generated (benchmarks/generate.py) and imported once into
``--workdir`` and evaluated once (``twin run``, which leaves the engine
snapshots a seek needs); none of that is timed.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZE = (120, 40)
BARE_APP = """
from textual.app import App
from textual.widgets import Static

class Bare(App):
    BINDINGS = [("right_square_bracket", "step", "step"), ("q", "quit", "quit")]
    n = 0
    def compose(self):
        yield Static("#0/", id="s")
    def action_step(self):
        self.n += 1
        self.query_one("#s", Static).update(f"#{self.n}/")

Bare().run()
"""


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered)) - 1))
    return ordered[k]


class Terminal:
    """A child process in a pseudo-terminal of a fixed size."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child
            os.chdir(ROOT)
            os.execvpe(argv[0], argv, env)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
        self.buffer = b""

    def wait_for(self, needle: bytes, timeout: float = 600.0) -> float:
        """Read until ``needle`` appears; return when it did (perf_counter)."""
        deadline = time.monotonic() + timeout
        while needle not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{needle!r} never appeared")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 1 << 16)
                except OSError:
                    raise TimeoutError("the terminal closed") from None
                self.buffer += chunk
        seen = time.perf_counter()
        self.buffer = self.buffer[self.buffer.index(needle) + len(needle) :]
        return seen

    def drain(self, quiet: float = 0.3, limit: float = 10.0) -> None:
        """Read until nothing comes for ``quiet`` seconds, or for ``limit`` seconds at most
        (the TUI repaints its progress every 0.2 s while the index fills: without a limit
        this waited for the whole scan, or forever in live mode)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and select.select([self.fd], [], [], quiet)[0]:
            try:
                os.read(self.fd, 1 << 16)
            except OSError:
                return
        self.buffer = b""

    def press(self, key: bytes) -> float:
        """Send ``key``; return when it was sent."""
        sent = time.perf_counter()
        os.write(self.fd, key)
        return sent

    def memory_mb(self) -> tuple[float, float]:
        """(VmRSS, VmHWM) of the child in MB."""
        values = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
        return values["VmRSS"], values["VmHWM"]

    def close(self) -> None:
        """Quit (q), then make sure it is gone."""
        try:
            os.write(self.fd, b"q")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                done, _ = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    return
                self.drain(0.05)
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (OSError, ChildProcessError):
            pass


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX")}
    env |= {"TERM": "xterm-256color", "TEXTUAL_ANIMATIONS": "none"}
    return env


def steps_latency(term: Terminal, start: int, total: int, count: int) -> list[float]:
    """Press ] ``count`` times from ``start``; ms from each key to the repaint that shows it."""
    out = []
    for k in range(1, count + 1):
        sent = term.press(b"]")
        seen = term.wait_for(f"#{start + k}/{total}".encode() if total else f"#{k}/".encode())
        out.append((seen - sent) * 1000)
    return out


def prepare(events: int, workdir: Path) -> Path:
    """The generated, imported and evaluated journal (cached)."""
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / f"tui-{events}.jsonl"
    journal = workdir / f"tui-{events}.db"
    twin = [sys.executable, "-m", "twin"]
    if not journal.exists():
        if not source.exists():
            print(f"generating {events:,} events…", file=sys.stderr)
            subprocess.run(
                [sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--events",
                 str(events), "-o", str(source)], check=True, cwd=ROOT,
            )  # fmt: skip
        print("importing…", file=sys.stderr)
        subprocess.run([*twin, "init", str(journal)], check=True, cwd=ROOT)
        subprocess.run([*twin, "import", str(journal), str(source)], check=True, cwd=ROOT)
        print("evaluating once (twin run: the engine snapshots)…", file=sys.stderr)
        subprocess.run(
            [*twin, "run", str(journal), "--metrics", "members.active", "--changes-only",
             "--format", "jsonl"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return journal


def detail_latency(journal: Path, positions: list[int], count: int) -> list[float]:
    """ms to work out the detail (seek or step, findings, topology) for ±1 steps, in process."""
    from tui.timeline_data import TimelineData, build_detail
    from twin.replay import Replay

    data = TimelineData.open(journal)
    replay = Replay(data.journal, data.manager, data.profile)
    out = []
    try:
        for start in positions:
            frame = replay.at(start)
            for k in range(1, count + 1):
                began = time.perf_counter()
                frame = replay.engine.step(data.journal.get(start + k))
                build_detail(frame, replay.engine.state)
                out.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()  # a jump: a seek from the nearest snapshot
            frame = replay.at(start + count // 2)
            if frame is not None:
                build_detail(frame, replay.engine.state)
            out.append((time.perf_counter() - began) * 1000)
    finally:
        data.close()
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    journal = prepare(args.events, args.workdir)
    total = args.events
    env = environment()
    results: dict[str, Any] = {"events": total, "journal": str(journal), "steps": args.steps}

    bare_runs: list[float] = []
    for _ in range(args.repeat):
        term = Terminal([sys.executable, "-c", BARE_APP], env)
        try:
            term.wait_for(b"#0/")
            term.drain()
            bare_runs += steps_latency(term, 0, 0, args.steps)
        finally:
            term.close()

    positions = [max(1, total // 100), total // 2, total - args.steps - 1]
    tui_runs: list[float] = []
    memory: list[tuple[float, float]] = []
    opened: list[float] = []
    for _ in range(args.repeat):
        for at in positions:
            began = time.perf_counter()
            term = Terminal(
                [sys.executable, "-m", "twin", "tui", str(journal), "--at", str(at)], env
            )
            try:
                term.wait_for(f"#{at}/{total}".encode())
                opened.append(time.perf_counter() - began)
                term.drain(1.0)
                tui_runs += steps_latency(term, at, total, args.steps)
                memory.append(term.memory_mb())
            finally:
                term.close()
    # the whole index, in a process of its own: scan + evaluation times, its peak memory
    if not args.skip_index:
        done = subprocess.run(
            [sys.executable, __file__, "--child-index", str(journal)],
            check=True, cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        results["index"] = json.loads(done.stdout)

    detail = detail_latency(journal, positions, args.steps)

    def summary(values: list[float]) -> dict[str, float]:
        return {
            "p50_ms": round(statistics.median(values), 2),
            "p99_ms": round(percentile(values, 99), 2),
            "max_ms": round(max(values), 2),
            "n": len(values),
        }

    results["bare_textual"] = summary(bare_runs)
    results["tui_step"] = summary(tui_runs)
    results["tui_step"]["p50_ratio_to_bare"] = round(
        results["tui_step"]["p50_ms"] / results["bare_textual"]["p50_ms"], 2
    )
    results["tui_step"]["p99_ratio_to_bare"] = round(
        results["tui_step"]["p99_ms"] / results["bare_textual"]["p99_ms"], 2
    )
    results["detail"] = summary(detail)
    results["open_to_first_screen_s"] = {
        "median": round(statistics.median(opened), 2),
        "max": round(max(opened), 2),
    }
    results["rss_mb_tui_while_stepping"] = {
        "max_rss": round(max(m[0] for m in memory), 1),
        "max_hwm": round(max(m[1] for m in memory), 1),
    }
    return results


def child_index(journal: Path) -> None:
    """Fill the whole index of ``journal`` (scan, then evaluation) and print what it cost."""
    from tui.background import Indexer
    from tui.timeline_data import TimelineData

    began = time.perf_counter()
    data = TimelineData.open(journal)
    opened = time.perf_counter() - began
    marks: dict[str, float] = {}

    def post(report: object) -> None:
        index = data.index
        if index.scanned >= data.head and "scanned" not in marks:
            marks["scanned"] = time.perf_counter() - began

    job = Indexer(data, post)
    job.run()  # in this thread: no UI to wait for
    total = time.perf_counter() - began
    index = data.index
    rss, hwm = 0.0, 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key == "VmRSS":
            rss = int(rest.split()[0]) / 1024
        elif key == "VmHWM":
            hwm = int(rest.split()[0]) / 1024
    print(
        json.dumps(
            {
                "events": index.evaluated,
                "open_s": round(opened, 2),
                "scan_s": round(marks.get("scanned", total), 1),
                "scan_and_evaluation_s": round(total, 1),
                "index_bytes": index.memory_bytes(),
                "bytes_per_event": round(index.memory_bytes() / max(1, index.evaluated), 1),
                "rss_mb": round(rss, 1),
                "peak_rss_mb": round(hwm, 1),
            }
        )
    )
    data.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="20,000 events")
    parser.add_argument("--steps", type=int, default=100, help="key presses per position")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement")
    parser.add_argument("--index-timeout", type=float, default=900.0)
    parser.add_argument(
        "--skip-index",
        action="store_true",
        help="leave out filling the whole index (a full evaluation) in a process of its own",
    )
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--child-index", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_index:
        child_index(args.child_index)
        return 0
    if args.quick:
        args.events = 20_000
    results = run(args)
    text = json.dumps(results, indent=2)
    print(text)
    output = args.output or args.workdir / "tui_latency.json"
    output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
