"""``twin report``: a postmortem to hand to the team (self-contained HTML, or Markdown + PNGs)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, Progress, TextColumn

from twin.cli._common import (
    branch_option,
    choose_profile,
    counted,
    err,
    open_for_reading,
    out,
    profile_option,
    say,
    settings,
)
from twin.cli.import_options import gateway_options
from twin.report import build_report, check_output, write_report


@click.command("report")
@click.argument("source", metavar="SOURCE")
@gateway_options()
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.html|FILE.md",
    help="Where to write it: .html (one self-contained file) or .md (PNG plots beside it).",
)
@branch_option
@click.option(
    "--compare",
    metavar="BRANCH",
    help="Show this what-if branch beside the original (a branch of the journal, e.g. one "
    "made by `twin whatif --keep`).",
)
@click.option(
    "--from", "start", type=int, default=1, metavar="N", help="First event of the window."
)
@click.option(
    "--to", "stop", type=int, metavar="N", help="Last event of the window (default: last)."
)
@profile_option
def report_cmd(
    source: str,
    output: Path,
    branch: str | None,
    compare: str | None,
    start: int,
    stop: int | None,
    profile: str | None,
) -> None:
    """Write a postmortem report of SOURCE: what went wrong, when, and why.

    \b
    It holds:
      - a summary: the window, the deployment, what went wrong first (the event
        that raised the first error finding, found by bisection), the worst moment;
      - the key moments: faults, failovers, links, notes, findings raised/cleared;
      - plots of the key metrics over time, bands shaded, findings marked;
      - every finding with the events (and times) that raised and cleared it;
      - with --compare BRANCH, the what-if branch beside the original;
      - the profile parameters the findings depend on, with their provenance.

    The HTML opens offline (plots inline, nothing fetched); Markdown gets its
    plots as PNG files beside it. Nothing is written if anything fails.

    \b
    Examples:
      twin report examples/incident-0412.jsonl -o inc-0412.html
      twin report prod.db -o inc.md --from 200 --to 300
      twin report prod.db -o whatif.html --compare drain-1_03
    """
    check_output(output)
    chosen = choose_profile(profile)
    manager = settings().manager
    command = "twin " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else ""
    steps = ["replaying"] + ([f"replaying {compare}"] if compare else []) + ["drawing"]
    with _bar() as bar:
        tasks: dict[str, Any] = {
            name: bar.add_task(name, total=None, visible=False) for name in steps
        }

        def progress(what: str, done: int, total: int | None) -> None:
            task = tasks.get(what)
            if task is not None:
                bar.update(task, completed=done, total=total, visible=True)

        with open_for_reading(source, branch) as src:
            report = build_report(
                src,
                manager,
                chosen,
                start=start,
                stop=stop,
                compare=compare,
                command=command if "report" in command else "",
                progress=progress,
            )
        written = write_report(
            report, output, tick=lambda done, total: progress("drawing", done, total)
        )
    t = report.timeline
    say(
        f"wrote {', '.join(str(p) for p in written)}: events #{t.start}–#{t.stop}, "
        f"{counted(len(t.moments), 'key moment')}, {counted(len(t.spans), 'finding')}",
        out(),
    )


class _Quiet:
    """A stand-in for a progress bar when stderr is not a terminal."""

    def __enter__(self) -> _Quiet:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, *_args: object, **_kwargs: object) -> int:
        return 0

    def update(self, *_args: object, **_kwargs: object) -> None:
        return None


def _bar() -> Progress | _Quiet:
    if not sys.stderr.isatty():
        return _Quiet()
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=err(),
        transient=True,
    )


COMMANDS = [report_cmd]
