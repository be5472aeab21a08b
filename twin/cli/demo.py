"""``twin demo``: replay the bundled incident with no set-up.

On a terminal the demo opens the full-screen TUI on the incident. With
``--no-tui`` (or when stdout is not a terminal, as in tests and CI) it plays
the incident in the terminal instead: a live view of the deployment, its
headline metrics and the active findings, event by event, then the key
moments (every event that raised an error).
"""

from __future__ import annotations

import sys
import time
from importlib import resources
from pathlib import Path

import click
from rich.console import Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

import twin
from twin.cli._common import choose_profile, out, say, settings, shown
from twin.cli._known import metric_units
from twin.cli.replay_cmds import GLYPH, _finding_line, _print_state
from twin.frames import Frame
from twin.replay import Replay
from twin.sources import open_source
from twin.state import member_sort_key
from twin.textsafe import safe_text
from twin.units import format_metric

INCIDENT = "incident-0412.jsonl"


def bundled_incident() -> Path:
    """The bundled example incident (from the source tree, or the installed package)."""
    in_tree = Path(twin.__file__).resolve().parents[1] / "examples" / INCIDENT
    if in_tree.exists():
        return in_tree
    packaged = resources.files("twin") / "_bundled" / INCIDENT
    return Path(str(packaged))


def _view(label: str, frame: Frame, head: int, units: dict[str, str]) -> Group:
    state_members = frame.metrics  # live store; read below
    env = frame.envelope
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in frame.findings:
        counts[f.finding.severity.value] += 1
    status = (
        f"[bold]REPLAY[/] {shown(label)}  #{env.seq}/{head}  {shown(env.occurred_at)}  "
        f"[cyan]{shown(env.type)}[/]  "
        f"✖{counts['error']} ⚠{counts['warning']} ℹ{counts['info']}"
    )
    metrics = Table.grid(padding=(0, 2))
    for name in (
        "members.active",
        "capacity.utilization",
        "sync.traffic_gbps",
        "sync.utilization",
        "convergence.failover_s",
        "latency.setup_us",
        "throughput.gbps",
        "checkpoint.disk_write_factor",
    ):
        m = state_members.get("system", name)
        if m is not None:
            metrics.add_row(name, format_metric(m.value, m.low, m.high, units.get(name), name=name))
    findings = Table.grid()
    for active in frame.findings[:12]:
        findings.add_row(Text(_finding_line(active)))
    if len(frame.findings) > 12:
        findings.add_row(f"… {len(frame.findings) - 12} more")
    return Group(
        status,
        Panel(metrics, title="system", title_align="left"),
        Panel(findings, title="active findings", title_align="left"),
    )


def _members_table(replay: Replay) -> Table:
    state = replay.engine.state
    table = Table(title="members", title_justify="left")
    for col in ("member", "state", "version", "cpu %", "connections"):
        table.add_column(col)
    for member_id in sorted(state.members, key=member_sort_key):
        m = state.members[member_id]
        table.add_row(
            *(Text(safe_text(v)) for v in (member_id, m["state"], m["version"])),
            f"{m['cpu_pct']:.0f}",
            f"{m['connections']:,.0f}",
        )
    return table


@click.command("demo")
@click.option(
    "--delay",
    type=float,
    default=0.03,
    show_default=True,
    help="Seconds between events in the live replay (0: as fast as possible).",
)
@click.option(
    "--no-tui",
    "no_tui",
    is_flag=True,
    help="Replay in the terminal instead of opening the full-screen TUI.",
)
def demo_cmd(delay: float, no_tui: bool) -> None:
    """Replay the bundled example incident (no arguments, no set-up).

    The incident: a dual-site group of 12 members through a night of load,
    an MVC upgrade, a sync link failure, a member fault and a CPU peak at
    02:14. Then try `twin run`, `twin state` and `twin diff` on it.

    On a terminal this opens the TUI where the story starts (02:05, #214:
    1_03 runs hot), ? lists the keys, q quits; --no-tui replays it in the
    terminal.
    """
    path = bundled_incident()
    if not no_tui and sys.stdin.isatty() and sys.stdout.isatty():
        from twin.cli.tui_cmd import run_tui

        run_tui(path, at="story", profile=None, branch=None)
        return
    manager = settings().manager
    profile = choose_profile(None)
    console = out()
    units = metric_units(manager)
    with open_source(path, manager) as src:
        replay = Replay(src.journal, manager, profile, snapshot_every=0)
        head = replay.head()
        label = path.name
        moments: list[tuple[Frame, str]] = []
        last: Frame | None = None
        live = sys.stdout.isatty()
        if live:
            with Live(console=console, refresh_per_second=20, transient=False) as view:
                for frame in replay.frames():
                    last = frame
                    _note_moments(frame, moments)
                    view.update(_view(label, frame, head, units))
                    if delay:
                        time.sleep(delay)
        else:
            for frame in replay.frames():
                last = frame
                _note_moments(frame, moments)
        if last is None:
            console.print("the bundled incident is empty")
            return
        console.print()
        console.print("[bold]key moments[/] (events that raised an error finding):")
        for frame, line in moments:
            env = frame.envelope
            say(f"  #{env.seq:<5} {env.occurred_at}  {env.type:<22} {line}", console)
        console.print()
        if not live:
            _print_state(label, last, replay.engine, profile.name)
        console.print(_members_table(replay))
        shown = _shown(path)
        twin_cmd = "uv run twin" if _in_source_tree() else "twin"
        console.print(
            f"\nnext: {twin_cmd} run {shown} --from 210 --to 240   ·   "
            f"{twin_cmd} state {shown} --at 238   ·   {twin_cmd} diff {shown} 230 240   ·   "
            f"{twin_cmd} bisect {shown} --rule convergence.cpu-overload"
        )


def _in_source_tree() -> bool:
    """True when run from a checkout (where the README says `uv run twin`)."""
    project = Path.cwd() / "pyproject.toml"
    return project.exists() and 'name = "maestro-twin"' in project.read_text(encoding="utf-8")


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is under it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _note_moments(frame: Frame, moments: list[tuple[Frame, str]]) -> None:
    for active in frame.raised:
        f = active.finding
        if f.severity.value == "error":
            moments.append((frame, f"{GLYPH['error']} {f.rule} {f.subject}: {f.message}"))


COMMANDS = [demo_cmd]
