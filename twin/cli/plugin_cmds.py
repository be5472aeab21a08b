"""What is installed: ``twin plugins``, ``twin rules``, ``twin profile``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import click
from rich.table import Table
from rich.text import Text

from twin.cli._common import choose_profile, out, profile_option, say, settings, shown, write_json
from twin.documented_profile import INHERITED
from twin.errors import TwinInputError
from twin.profile import Parameter
from twin.textsafe import safe_text
from twin.units import format_band, format_value

if TYPE_CHECKING:
    from twin.plugin_manager import PluginInfo


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins_cmd(as_json: bool) -> None:
    """List plugins: loaded, blocked (and by what) or failed (and why)."""
    infos = settings().manager.plugin_infos()
    if as_json:
        write_json([i.to_json() for i in infos])
        return
    table = Table(title="plugins", title_justify="left")
    for col in ("name", "status", "kind", "package", "rules", "note"):
        table.add_column(col)
    for i in infos:
        status = {"loaded": "[green]loaded[/]", "failed": "[red]failed[/]"}.get(
            i.status, f"[yellow]{i.status}[/]"
        )
        kind = "built-in" if i.builtin else i.origin
        package = f"{i.distribution or ''} {i.version or ''}".strip()
        table.add_row(
            Text(safe_text(i.name)),
            status,
            kind,
            Text(safe_text(package)),
            str(len(i.rules)),
            Text(safe_text("; ".join([*([i.error] if i.error else []), *refused_notes(i)]))),
        )
    out().print(table)


def refused_notes(info: PluginInfo) -> list[str]:
    """``refused rule ID: why`` for each rule of the plugin that was refused."""
    return [f"refused rule {line}" for line in info.refused]


@click.command("rules")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (with units).")
def rules_cmd(as_json: bool) -> None:
    """List every rule: what it computes, what it raises, the events it reads."""
    manager = settings().manager
    rules = manager.rules()
    if as_json:
        write_json(
            [
                {
                    "id": r.id,
                    "plugin": r.plugin,
                    "summary": r.rule.summary,
                    "events": None if r.rule.events is None else sorted(r.rule.events),
                    "raises": {k: v.value for k, v in sorted(r.rule.raises.items())},
                    "metrics": dict(sorted(r.rule.metrics.items())),
                    "parameters": list(r.rule.parameters),
                    "incremental": r.rule.incremental,
                }
                for r in rules
            ]
        )
        return
    # One block per rule: ids stay whole at any terminal width, the summary wraps.
    console = out()
    console.print(f"[bold]{len(rules)} rules[/] (twin rules --json for events and parameters)")
    for r in rules:
        console.print(f"\n[bold cyan]{shown(r.id)}[/]  [dim]plugin {shown(r.plugin)}[/]")
        say(f"  {r.rule.summary}", console)
        if r.rule.raises:
            raises = ", ".join(f"{k} ({v.value})" for k, v in sorted(r.rule.raises.items()))
            say(f"  raises:  {raises}", console)
        if r.rule.metrics:
            metrics = ", ".join(f"{k} [{u}]" for k, u in sorted(r.rule.metrics.items()))
            say(f"  metrics: {metrics}", console)


@click.command("profile")
@profile_option
@click.option(
    "--compare",
    nargs=2,
    metavar="A B",
    help="List every parameter whose value, band, provenance or source differs between "
    "profiles A and B (seed, documented, or .toml files), with both citations.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def profile_cmd(profile: str | None, compare: tuple[str, str] | None, as_json: bool) -> None:
    """List every parameter with its value, band, unit, provenance and source.

    'seed' (the default) is what the plugins declare, mostly the seed note's
    numbers. 'documented' takes every number a primary source gives, with
    its citation, and marks the rest "inherited from seed". With --profile
    FILE, shows the values that profile sets (its overrides are marked with
    their own source).

    \b
    Examples:
      twin profile --profile documented
      twin profile --compare seed documented
    """
    if compare is not None:
        if profile is not None:
            raise TwinInputError("give --profile or --compare, not both", field="--compare")
        _compare(*compare, as_json=as_json)
        return
    chosen = choose_profile(profile)
    params = [chosen.parameters[k] for k in sorted(chosen.parameters)]
    if as_json:
        write_json({"profile": chosen.name, "parameters": [p.to_json() for p in params]})
        return
    # One line per parameter plus its source, indented: readable at any width.
    console = out()
    colour = {"seed": "yellow", "assumption": "magenta", "official": "green", "measured": "cyan"}
    console.print(f"[bold]profile {shown(chosen.name)}[/]: {len(params)} parameters")
    for p in params:
        band = (
            ""
            if p.low is None and p.high is None
            else f" (band {format_band(p.band[0], p.band[2], p.unit, name=p.name)})"
        )
        line = Text.assemble(
            "\n",
            (safe_text(p.name), "bold"),
            f" = {safe_text(format_value(p.value, p.unit, name=p.name))}{safe_text(band)}  ",
            (safe_text(p.provenance), colour.get(p.provenance, "white")),
        )
        console.print(line)
        say(f"  {p.source}", console)


def _plain(p: Parameter | None) -> Parameter | None:
    """``p`` without the "inherited from seed" mark, so an inherited value compares equal."""
    if p is None or not p.source.startswith(f"{INHERITED}: "):
        return p
    return attrs.evolve(p, source=p.source[len(INHERITED) + 2 :])


def _band_text(p: Parameter) -> str:
    value = format_value(p.value, p.unit, name=p.name)
    if p.low is None and p.high is None:
        return value
    return f"{value} (band {format_band(p.band[0], p.band[2], p.unit, name=p.name)})"


def _compare(first: str, second: str, *, as_json: bool) -> None:
    """``twin profile --compare A B``: every parameter that differs, with both citations."""
    a, b = choose_profile(first), choose_profile(second)
    names = sorted(set(a.parameters) | set(b.parameters))
    differ = [n for n in names if _plain(a.parameters.get(n)) != _plain(b.parameters.get(n))]
    inherited = [n for n in names if n not in differ and a.parameters.get(n) != b.parameters.get(n)]
    if as_json:
        write_json(
            {
                "a": a.name,
                "b": b.name,
                "differences": [
                    {
                        "name": n,
                        "a": None if n not in a.parameters else a.parameters[n].to_json(),
                        "b": None if n not in b.parameters else b.parameters[n].to_json(),
                    }
                    for n in differ
                ],
            }
        )
        return
    console = out()
    same = len(names) - len(differ) - len(inherited)
    say(f"{a.name} vs {b.name}: {len(differ)} parameters differ", console)
    if inherited:
        say(
            f"{len(inherited)} more are inherited from seed with the same value: "
            f"{', '.join(inherited)}",
            console,
        )
    if same:
        say(f"{same} are the same in both, with the same citation", console)
    for n in differ:
        console.print(Text.assemble("\n", (safe_text(n), "bold")))
        for label, profile in ((a.name, a), (b.name, b)):
            p = profile.parameters.get(n)
            if p is None:
                say(f"  {label}: (not in this profile)", console)
                continue
            say(f"  {label}: {_band_text(p)}  [{p.provenance}]", console)
            say(f"      {p.source}", console)


COMMANDS = [plugins_cmd, rules_cmd, profile_cmd]
