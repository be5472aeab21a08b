"""A plugin whose finding escalates (warning → error) and calms down, keeping its ``since``.

``acme.group-cpu`` judges each group load sample's CPU: a warning above 80%, an
error above 93%. On the TUI fixture journal (tests/tui_helpers.py) the samples
at #20 (92%) and #21 (95%) raise it as a warning and escalate it to an error;
#22 (60%) clears it.
"""

from __future__ import annotations

from collections.abc import Iterator

from twin.api import Finding, Rule, RuleContext, Severity, hookimpl, rule

RAISED, ESCALATED, CLEARED = 20, 21, 22


@rule(
    id="acme.group-cpu",
    summary="a group load sample above 80% CPU (an error above 93%)",
    events=["load_changed"],
    raises={"acme.group-cpu": "warning"},
)
def group_cpu(ctx: RuleContext) -> Iterator[Finding]:
    """Warning above 80% CPU, error above 93%, on the group the sample is for."""
    cpu = getattr(ctx.event, "cpu_pct", None)
    group = getattr(ctx.event, "group", None)
    if cpu is None or group is None or cpu <= 80:
        return
    severity = Severity.ERROR if cpu > 93 else Severity.WARNING
    yield Finding("acme.group-cpu", severity, f"group:{group}", f"group CPU {cpu:.0f}%")


class Escalating:
    """The plugin object."""

    @hookimpl
    def twin_register_rules(self) -> list[Rule]:
        return [group_cpu]
