"""The names a command may be given: metrics, rule ids, subjects, event types.

Used to refuse a typo with "did you mean" (exit 2) instead of printing nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from journal import Journal
from twin.plugin_manager import TwinPluginManager


def metric_units(manager: TwinPluginManager) -> dict[str, str]:
    """Every metric the installed rules declare → its unit."""
    units: dict[str, str] = {}
    for registered in manager.rules():
        units.update(registered.rule.metrics)
    return dict(sorted(units.items()))


def rule_ids(manager: TwinPluginManager) -> list[str]:
    """Every finding id the installed rules may raise."""
    return sorted({f for r in manager.rules() for f in r.rule.raises})


def event_types(manager: TwinPluginManager) -> list[str]:
    """Every event type the installed plugins know."""
    return manager.event_registry().names()


def known_subjects(journal: Journal, branch: str | None, seqs: Iterable[int]) -> set[str]:
    """The subjects that exist after any of ``seqs`` (plus ``system``).

    Subjects are ``system``, ``site:N``, ``orchestrator:ID``, ``group:N``,
    ``member:ID`` and ``link:ID``. Reads the reducer's state only (no rules).
    """
    found = {"system"}
    for seq in sorted(set(seqs)):
        state = journal.state_at(seq, branch=branch)
        found.update(str(node) for node in state.graph.nodes)
        found.update(f"link:{link}" for link in state.links)
    return found
