"""``twin tui SOURCE``: open the terminal UI on a journal or an event file."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import click

from twin.cli._common import (
    branch_option,
    choose_profile,
    open_for_reading,
    profile_option,
    progress_bar,
    settings,
    verify_option,
)
from twin.cli.import_options import gateway_options
from twin.errors import TwinInputError, no_event_text

LOOPBACK = "127.0.0.1"


def run_tui(
    source: str | Path,
    *,
    at: int | str | None,
    profile: str | None,
    branch: str | None,
    follow: bool = False,
    verify: bool = False,
) -> None:
    """Open ``source`` and run the TUI until the user quits.

    Args:
        source: a journal or an event file.
        at: an event number (0: before the first), None for the last, or ``"story"``
            (the file's first bookmark, else its first error finding).
        profile: the parameter profile.
        branch: a what-if branch.
        follow: live mode (follow events another process appends).

    Raises:
        TwinInputError: the source cannot be read, or ``at`` is outside 0..head.
    """
    from tui.app import TwinApp
    from tui.plan_run import is_plan_file
    from tui.timeline_data import TimelineData

    if is_plan_file(source):
        run_plan(source, profile=profile)
        return
    chosen = choose_profile(profile)
    src = open_for_reading(str(source), branch, verify=verify)
    try:
        head = src.head()
        if isinstance(at, int) and not 0 <= at <= head:
            raise TwinInputError(
                no_event_text(at, head),
                field="--at",
                value=at,
            )
        if follow and src.kind != "journal":
            raise TwinInputError(
                "--follow reads a journal that another process appends to; "
                "an event file is read once (import it with `twin import`)",
                field="--follow",
            )
        data = TimelineData(src, settings().manager, chosen)
    except BaseException:
        src.close()
        raise
    app = TwinApp(data, at=at, follow=follow)
    app.run()
    # The journal is closed (the app's unmount did it). Background threads may still be
    # deep in a replay: end the process now rather than let the interpreter shut down
    # under them (its clean-up can wait on a thread that will never run again), so q is
    # immediate however busy the TUI was.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(app.return_code or 0)


def run_plan(path: str | Path, *, profile: str | None) -> None:
    """Plan mode: the plan's steps after its base, each previewed before it is applied.

    Raises:
        TwinInputError: the plan or its base cannot be read (one located line).
    """
    from tui.plan_app import PlanApp
    from tui.plan_run import PlanRun, load_plan

    manager = settings().manager
    plan = load_plan(path, manager)
    chosen = choose_profile(profile or plan.profile)
    with progress_bar(f"loading the base of {Path(path).name}", None) as tick:
        run = PlanRun(plan, manager, chosen, lambda _what, done, _total: tick(done))
    app = PlanApp(run)
    app.run()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(app.return_code or 0)


def serve(argv: list[str], port: int) -> None:
    """Serve the TUI (the same command, without ``--serve``) to a browser on loopback."""
    try:
        from textual_serve.server import Server
    except ImportError:
        raise TwinInputError(
            "--serve needs textual-serve: pip install 'maestro-twin[serve]'", field="--serve"
        ) from None
    command = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "twin", *argv])
    click.echo(f"serving the TUI on http://{LOOPBACK}:{port} (loopback only; ctrl+c stops)")
    Server(command, host=LOOPBACK, port=port, title="Maestro Twin").serve()


def _without_serve(argv: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--serve":
            continue
        if arg == "--port":
            skip = True
            continue
        if arg.startswith("--port="):
            continue
        out.append(arg)
    return out


@click.command("tui")
@click.argument("source", metavar="SOURCE")
@gateway_options()
@click.option(
    "--at",
    "at",
    type=int,
    metavar="N",
    help="Start at event N (default: the last; 0: before the first).",
)
@click.option(
    "--follow",
    is_flag=True,
    help="Live mode: follow a journal another process appends to (the cursor "
    "stays at the end until you step back; L toggles).",
)
@click.option(
    "--serve",
    "serve_it",
    is_flag=True,
    help="Serve the TUI to a web browser on 127.0.0.1 instead (needs textual-serve).",
)
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="--serve's port."
)
@profile_option
@branch_option
@verify_option
def tui_cmd(
    source: str,
    at: int | None,
    follow: bool,
    serve_it: bool,
    port: int,
    profile: str | None,
    branch: str | None,
    verify: bool,
) -> None:
    """Open the full-screen terminal UI on a journal, an event file or a change plan.

    Step with ] and [, jump between change events with } and {, filter with /,
    go to an event with :120, press ? for every key and q to quit.

    Given a change plan (a .toml with [plan]), plan mode: ] previews the next
    step (what it would change, raise, and which expectations would fail),
    enter applies it, [ rolls back; the base is never written.
    """
    if serve_it:
        if not Path(source).exists():
            raise TwinInputError("no such file", source=source)
        serve(_without_serve(sys.argv[1:]), port)
        return
    run_tui(source, at=at, profile=profile, branch=branch, follow=follow, verify=verify)


COMMANDS = [tui_cmd]
