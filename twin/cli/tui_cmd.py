"""``twin tui SOURCE``: open the terminal UI on a journal or an event file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from twin.cli._common import (
    branch_option,
    choose_profile,
    open_for_reading,
    profile_option,
    settings,
    verify_option,
)
from twin.cli.import_options import gateway_options
from twin.errors import TwinInputError


def run_tui(
    source: str | Path,
    *,
    at: int | None,
    profile: str | None,
    branch: str | None,
    verify: bool = False,
) -> None:
    """Open ``source`` and run the TUI until the user quits.

    Raises:
        TwinInputError: the source cannot be read, or ``at`` is outside 1..head.
    """
    from tui.app import TwinApp
    from tui.timeline_data import TimelineData

    chosen = choose_profile(profile)
    src = open_for_reading(str(source), branch, verify=verify)
    try:
        head = src.head()
        if at is not None and not 0 <= at <= head:
            raise TwinInputError(
                f"no event {at}: the journal holds 1..{head} (0: before the first)",
                field="--at",
                value=at,
            )
        data = TimelineData(src, settings().manager, chosen)
    except BaseException:
        src.close()
        raise
    app = TwinApp(data, at=at)
    app.run()
    if app.return_code:
        sys.exit(app.return_code)


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
@profile_option
@branch_option
@verify_option
def tui_cmd(
    source: str, at: int | None, profile: str | None, branch: str | None, verify: bool
) -> None:
    """Open the full-screen terminal UI on a journal or an event file.

    Step with ] and [, jump between change events with } and {, go to an event
    with :120, press ? for every key and q to quit.
    """
    run_tui(source, at=at, profile=profile, branch=branch, verify=verify)


COMMANDS = [tui_cmd]
