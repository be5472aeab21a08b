"""Bad sample plugin: raises a finding id its rule does not declare in ``raises``."""

from __future__ import annotations

from collections.abc import Iterator

from twin.api import Finding, RuleContext, Severity, hookimpl, rule


@rule(id="acme.loud", summary="raises what it never declared", events=["member_failed"])
def loud(ctx: RuleContext) -> Iterator[Finding]:
    yield Finding("acme.surprise", Severity.WARNING, "system", "surprise")


@hookimpl
def twin_register_rules() -> list[object]:
    return [loud]
