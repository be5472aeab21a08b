"""``twin plan``: check, compare and build change plans (contract §3, §4)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from twin.cli._common import FORMAT_TABLE_JSON, choose_profile, err, out, say, settings, write_json
from twin.cli._known import metric_units, rule_ids
from twin.cli._plan_format import print_check, print_compare
from twin.cli.import_options import gateway_options, options_in_effect, print_report
from twin.engine import CRASHED, UNKNOWN_TYPE
from twin.errors import CheckFailed, TwinInputError
from twin.fork import decode_event
from twin.plan import Plan, parse_plan, read_plan
from twin.plan.check import PlanResult, check_plan, open_base, step_error
from twin.plan.compare import compare, expected_pairs, refuse_different_bases
from twin.plan.edit import skeleton, step_text, write_whole
from twin.plan.parse import parse_duration
from twin.plugin_manager import TwinPluginManager

Tick = Callable[[str, int, "int | None"], None]


@contextmanager
def _loading(label: str) -> Iterator[Tick]:
    """A progress bar on stderr while a long base loads (only on a terminal)."""
    if not sys.stderr.isatty():
        yield lambda _what, _done, _total: None
        return
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=err(), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def tick(what: str, done: int, total: int | None) -> None:
            bar.update(task, description=f"{label}: {what}", completed=done, total=total)

        yield tick


def _read(path: Path, manager: TwinPluginManager) -> Plan:
    known_rules = [*rule_ids(manager), CRASHED, UNKNOWN_TYPE]
    return read_plan(
        path, manager.event_registry(), metrics=metric_units(manager), rules=known_rules
    )


def _run(
    plan: Plan,
    manager: TwinPluginManager,
    profile_choice: str | None,
    *,
    keep: str | None = None,
    watch: tuple[tuple[str, str], ...] = (),
) -> PlanResult:
    profile = choose_profile(profile_choice or plan.profile)
    with _loading(f"plan {plan.path.name}") as tick:
        result = check_plan(
            plan,
            manager,
            profile,
            keep=keep,
            progress=tick,
            watch=watch,
            import_options=options_in_effect(),
        )
    print_report(result.import_report)
    return result


@click.group("plan")
def plan_group() -> None:
    """Change plans: rehearse a maintenance window step by step, and gate it in CI.

    A plan file (TOML) names a base (a journal or an event file) and a point
    in it, then [[step]] tables (each one event: member_added, upgrade_started,
    load_changed...) and [[expect]] tables (a metric below/above a limit, a
    rule absent or present, a highest severity). `twin plan check` applies the
    steps to a what-if copy of the base (never written) through the same rules
    as everything else and judges every expectation.

    \b
    Exit codes: 0 every expectation holds, 1 one fails, 2 the plan is invalid.

    \b
    Start with:
      twin plan check examples/plans/add-members-before-peak.toml
      twin plan new my-window.toml --base prod.db
      twin plan add my-window.toml member_failed member=1_03 --label "lose 1_03"
    Format and CI use: docs/plans.md.
    """


@plan_group.command("check")
@click.argument("plan_path", metavar="PLAN", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=FORMAT_TABLE_JSON, default="table", show_default=True)
@click.option(
    "--profile",
    "profile",
    metavar="P",
    help="Parameter profile ('seed', 'documented' or a .toml), instead of the plan's own.",
)
@click.option(
    "--keep",
    metavar="BRANCH",
    help="Also record the steps as a new branch of the base journal (for `twin diff "
    "--branch`, `twin tui`). Without it nothing is written anywhere.",
)
@gateway_options()
def check_cmd(plan_path: Path, fmt: str, profile: str | None, keep: str | None) -> None:
    """Apply each step of PLAN on its base and check every expectation.

    The table shows one row per step: its label, the headline metrics after
    it (value, band, change), the findings it raised (+) and cleared (-), and
    each expectation's verdict; then the worst value of every expected metric.
    --format json prints the same as one document (plan, base, at, profile,
    steps, failed, ok).

    A step that cannot apply (a member that does not exist, an upgrade that
    never started, admin UP on a faulted member, emptying the ACTIVE site...)
    makes the plan invalid: exit 2, naming the step and its line.

    A base that is gateway output (a syslog excerpt...) is read with
    --input-format, --map, --create-members, --year, --tz and --strict, as
    every command reads a SOURCE.
    """
    manager = settings().manager
    plan = _read(plan_path, manager)
    result = _run(plan, manager, profile, keep=keep)
    if fmt == "json":
        write_json(result.to_json())
    else:
        print_check(out(), result, metric_units(manager))
    if not result.ok:
        raise CheckFailed("")


@plan_group.command("compare")
@click.argument("plan_a", metavar="PLAN_A", type=click.Path(path_type=Path))
@click.argument("plan_b", metavar="PLAN_B", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=FORMAT_TABLE_JSON, default="table", show_default=True)
@click.option("--profile", "profile", metavar="P", help="Parameter profile for both plans.")
@click.option("--force", is_flag=True, help="Compare plans whose bases differ.")
@gateway_options()
def compare_cmd(plan_a: Path, plan_b: Path, fmt: str, profile: str | None, force: bool) -> None:
    """Two plans on the same base, side by side.

    For every metric either plan expects: each plan's worst value and the
    step of it; the findings each plan raises that the other does not; and
    which expectations each plan breaks. Plans with different bases (or
    points) are refused unless --force. Exit 1 if either plan breaks an
    expectation.
    """
    manager = settings().manager
    a, b = _read(plan_a, manager), _read(plan_b, manager)
    if not force:
        refuse_different_bases(a, b)
    watch = tuple(pair for pair, _e in expected_pairs(a, b))
    result_a = _run(a, manager, profile, watch=watch)
    result_b = _run(b, manager, profile, watch=watch)
    if not force and result_a.at != result_b.at:
        raise TwinInputError(
            f"the plans start at different points (#{result_a.at} and #{result_b.at}); "
            "compare them anyway with --force",
            field="PLAN",
        )
    comparison = compare(result_a, result_b)
    if fmt == "json":
        write_json(comparison)
    else:
        print_compare(out(), result_a, result_b, comparison, metric_units(manager))
    if not comparison["ok"]:
        raise CheckFailed("")


@plan_group.command("new")
@click.argument("plan_path", metavar="PLAN", type=click.Path(path_type=Path))
@click.option("--base", type=click.Path(path_type=Path), help="The journal or event file.")
@click.option("--at", "at", type=click.IntRange(min=0), metavar="N", help="Start after event N.")
@click.option("--name", help="What the plan does (default: the file's name).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def new_cmd(
    plan_path: Path, base: Path | None, at: int | None, name: str | None, force: bool
) -> None:
    """Write a commented plan skeleton to PLAN.

    \b
    Example:
      twin plan new tonight.toml --base prod.db
    """
    if plan_path.exists() and not force:
        raise TwinInputError(
            "already exists; choose a new name, or --force to overwrite", source=str(plan_path)
        )
    base_text = None
    if base is not None:
        if not base.exists():
            raise TwinInputError("no such file", field="--base", value=str(base))
        folder = plan_path.parent.resolve()
        base_text = os.path.relpath(base.resolve(), folder).replace(os.sep, "/")
    text = skeleton(name or plan_path.stem.replace("-", " "), base_text, at)
    write_whole(plan_path, text)
    say(f"wrote {plan_path}; add steps with `twin plan add {plan_path} TYPE key=value...`")


@plan_group.command("add")
@click.argument("plan_path", metavar="PLAN", type=click.Path(path_type=Path))
@click.argument("event_type", metavar="TYPE")
@click.argument("fields", metavar="KEY=VALUE...", nargs=-1)
@click.option("--label", help='A name for the step (and for `after = "label"`).')
@click.option("--duration", help='How long it takes, e.g. "20m" (default: 1m).')
@click.option("--reason", help="Why.")
@click.option(
    "--no-check",
    "no_check",
    is_flag=True,
    help="Only check the fields; do not load the base to check that the step fits.",
)
@gateway_options()
def add_cmd(
    plan_path: Path,
    event_type: str,
    fields: tuple[str, ...],
    label: str | None,
    duration: str | None,
    reason: str | None,
    no_check: bool,
) -> None:
    """Append a step to PLAN: one event, with the same KEY=VALUE syntax as `twin append`.

    The step is checked before the file is touched: its fields at once, then
    (unless --no-check) the whole plan up to it on its base, so a member that
    does not exist at that step or a broken precondition is refused (exit 2)
    and the file stays as it was.

    \b
    Examples:
      twin plan add tonight.toml member_failed member=1_03 --label "lose 1_03"
      twin plan add tonight.toml load_changed group=1 cpu_pct=86 --duration 20m
    """
    manager = settings().manager
    registry = manager.event_registry()
    given: dict[str, object] = {}
    for item in fields:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise TwinInputError(
                "give fields as key=value, e.g. member=1_03", field="KEY=VALUE", value=item
            )
        given[key.strip()] = value
    if duration is not None:
        try:
            parse_duration(duration)
        except ValueError:
            raise TwinInputError(
                'give a time such as "20m", "90s" or "1h30m"', field="--duration", value=duration
            ) from None
    new = decode_event(registry, event_type, given, text=True)
    data = {k: v for k, v in new.event.to_data().items() if k in given}
    try:
        text = plan_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TwinInputError(
            f"no such plan; start one with `twin plan new {plan_path}`", source=str(plan_path)
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TwinInputError(f"cannot read the plan: {exc}", source=str(plan_path)) from None
    if text and not text.endswith("\n"):
        text += "\n"
    updated = text + step_text(event_type, data, label=label, duration=duration, reason=reason)
    known_rules = [*rule_ids(manager), CRASHED, UNKNOWN_TYPE]
    lines_on_disk = text.count("\n")
    try:
        plan = parse_plan(
            updated, plan_path, registry, metrics=metric_units(manager), rules=known_rules
        )
        if not no_check:
            _dry_run(plan, manager)
    except TwinInputError as exc:
        if exc.line is None or exc.line <= lines_on_disk:
            raise
        # the new step's own line exists only in the plan that was not written
        raise type(exc)(
            f"{exc.problem} (the step was not added)",
            field=exc.field,
            value=exc.value,
            source=exc.source,
        ) from None
    write_whole(plan_path, updated)
    step = plan.steps[-1]
    say(f"added {step.name}: {event_type} to {plan_path}")


def _dry_run(plan: Plan, manager: TwinPluginManager) -> None:
    """Apply every step (no rules judged) so a step that does not fit is refused now."""
    profile = choose_profile(plan.profile)
    options = options_in_effect()
    with (
        _loading(f"plan {plan.path.name}") as tick,
        open_base(plan, manager, profile, tick, options) as s,
    ):
        for step in plan.steps:
            try:
                s.apply(step.event, check_preconditions=True)
            except TwinInputError as exc:
                raise step_error(plan, step, exc) from None


COMMANDS = [plan_group]
