"""What a postmortem report says, gathered from a journal before anything is drawn.

:func:`build_report` replays the window once (:func:`twin.timeline.collect`),
asks :func:`twin.bisect.bisect` which event raised the first error finding,
replays the ``--compare`` branch when one is given, and lists the profile
parameters that the findings depend on, with their provenance. The renderers
(:mod:`twin.report.html`, :mod:`twin.report.markdown`) only format this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs

from twin import __version__
from twin.bisect import BisectResult, RuleCondition, bisect
from twin.errors import TwinInputError, no_event_text
from twin.plugin_manager import TwinPluginManager
from twin.profile import Profile
from twin.replay import Replay
from twin.sources import Source
from twin.timeline import FindingSpan, Timeline, collect, count_topology, describe
from twin.units import format_band, format_value

Progress = Callable[[str, int, int | None], Any]
"""``progress(what, done, total)``."""


@attrs.frozen
class ParameterRow:
    """A profile parameter a finding of the report depends on.

    Attributes:
        name: the parameter.
        value: its value in its unit, for people.
        band: its band for people ("" without one).
        provenance: seed, official, community, assumption or measured.
        source: where the number comes from.
        used_by: the finding ids (raised in the report) whose rules read it.
    """

    name: str
    value: str
    band: str
    provenance: str
    source: str
    used_by: tuple[str, ...]


@attrs.frozen
class Comparison:
    """The ``--compare`` branch beside the original.

    Attributes:
        branch: the branch's name.
        fork_seq: the event both share last.
        timeline: the branch's window.
        avoided: findings active on the original after the fork and never on the branch.
        caused: findings active on the branch after the fork and never on the original.
    """

    branch: str
    fork_seq: int
    timeline: Timeline
    avoided: tuple[FindingSpan, ...]
    caused: tuple[FindingSpan, ...]


@attrs.frozen
class Report:
    """Everything a postmortem report shows.

    Attributes:
        title: the report's title.
        source: the source as given.
        profile: the profile's name.
        timeline: the window replayed.
        first_error: the first error finding of the window, if any.
        first_error_bisect: how bisection found the event that raised it.
        first_unexplained: when an upgrade in progress explains ``first_error`` (see
            :func:`upgrade_explains`), the first error finding that none explains.
        first_unexplained_event: the event that raised it, for people.
        comparison: the ``--compare`` branch, if any.
        parameters: the parameters the findings depend on.
        units: metric → unit, for formatting.
        thresholds: a few parameter values the plots draw (CPU limit).
        command: the command line that makes this report again.
        version: the twin's version.
    """

    title: str
    source: str
    profile: str
    timeline: Timeline
    first_error: FindingSpan | None
    first_error_bisect: BisectResult | None
    comparison: Comparison | None
    parameters: tuple[ParameterRow, ...]
    units: dict[str, str]
    thresholds: dict[str, float]
    command: str
    version: str = __version__
    first_unexplained: FindingSpan | None = None
    first_unexplained_event: str = ""


MIXED = "versions.mixed"
MIXED_OUTSIDE = "versions.mixed-outside-window"


def _overlap(a: FindingSpan, b: FindingSpan, stop: int) -> bool:
    """True if the two spans were active after a common event (``stop``: the window's end)."""
    a_end = stop + 1 if a.cleared_seq is None else a.cleared_seq
    b_end = stop + 1 if b.cleared_seq is None else b.cleared_seq
    return max(a.raised_seq, b.raised_seq) < min(a_end, b_end)


def upgrade_explains(span: FindingSpan, timeline: Timeline) -> bool:
    """True if an upgrade in progress explains this error: it is the upgrade's own.

    ``versions.mixed`` while ``versions.mixed-outside-window`` never joined it on the
    same group: the versions are mixed only because members were upgraded from the
    version the others still run (``plugins/versions.py``), which a Multi-Version
    Cluster upgrade does on purpose until it is finished or rolled back.
    """
    if span.rule != MIXED:
        return False
    return not any(
        other.rule == MIXED_OUTSIDE
        and other.subject == span.subject
        and _overlap(span, other, timeline.stop)
        for other in timeline.spans
    )


def _first_unexplained(
    src: Source, timeline: Timeline, first: FindingSpan | None
) -> tuple[FindingSpan | None, str]:
    """When the first error is an upgrade's own, the first error that is not (and its event)."""
    if first is None or not upgrade_explains(first, timeline):
        return None, ""
    for span in timeline.spans:
        if (
            span.severity == "error"
            and span.raised_seq >= timeline.start
            and not upgrade_explains(span, timeline)
        ):
            return span, describe(src.journal.get(span.raised_seq, branch=src.branch))
    return None, ""


def _no_progress(_what: str, _done: int, _total: int | None) -> None:
    return None


def _time_of(src: Source, branch: str | None) -> Callable[[int], str]:
    def time_of(seq: int) -> str:
        try:
            return src.journal.get(seq, branch=branch).occurred_at
        except TwinInputError:
            return ""

    return time_of


def _window(replay: Replay, start: int, stop: int | None) -> tuple[int, int]:
    head = replay.head()
    last = head if stop is None else stop
    if head == 0:
        raise TwinInputError("the journal holds no events: nothing to report", field="SOURCE")
    if not 1 <= start <= head:
        raise TwinInputError(no_event_text(start, head, first=1), field="--from", value=start)
    if not 1 <= last <= head:
        raise TwinInputError(no_event_text(last, head, first=1), field="--to", value=last)
    if start > last:
        raise TwinInputError(
            f"{start} is after --to {last}: give the earlier event first", field="--from"
        )
    return start, last


def _timeline(
    src: Source,
    replay: Replay,
    start: int,
    stop: int,
    branch: str | None,
    what: str,
    progress: Progress,
) -> Timeline:
    total = stop - start + 1
    timeline = collect(
        replay.frames(start, stop),
        label=src.label,
        start=start,
        stop=stop,
        branch=branch,
        time_of=_time_of(src, branch),
        tick=lambda seq: progress(what, seq - start + 1, total) if seq % 64 == 0 else None,
    )
    progress(what, total, total)
    count_topology(timeline, replay.engine.state)
    return timeline


def _first_error(
    replay: Replay, timeline: Timeline
) -> tuple[FindingSpan | None, BisectResult | None]:
    """The first error span, and bisection's answer for the event that raised it.

    The window's replay already knows every span exactly; bisection confirms the
    raising event from states seeked afresh, between the window's start and the
    last event of that span (where the condition is known to hold).
    """
    span = timeline.first_error()
    if span is None:
        return None, None
    upper = timeline.stop if span.cleared_seq is None else span.cleared_seq - 1
    if span.raised_seq < timeline.start:
        return span, None  # raised before the window: nothing to search in it
    result = bisect(
        replay, RuleCondition(span.rule, span.subject), timeline.start, upper, scan=False
    )
    return span, result


def _parameters(
    manager: TwinPluginManager, profile: Profile, finding_ids: Iterable[str]
) -> tuple[ParameterRow, ...]:
    """The parameters of the rules that raise ``finding_ids``, and of the rules they read."""
    rules = manager.rules()
    producers: dict[str, list[Any]] = {}
    for r in rules:
        for metric in r.rule.metrics:
            producers.setdefault(metric, []).append(r)
    used: dict[str, set[str]] = {}
    for finding in sorted(set(finding_ids)):
        todo = [r for r in rules if finding in r.rule.raises]
        seen: set[str] = set()
        while todo:
            r = todo.pop()
            if r.id in seen:
                continue
            seen.add(r.id)
            for name in r.rule.parameters:
                used.setdefault(name, set()).add(finding)
            for metric in getattr(r.rule, "reads", ()):
                todo.extend(producers.get(metric, []))
    rows = []
    for name in sorted(used):
        p = profile.parameters.get(name)
        if p is None:
            continue
        band = (
            ""
            if p.low is None and p.high is None
            else format_band(p.band[0], p.band[2], p.unit, name=name)
        )
        rows.append(
            ParameterRow(
                name,
                format_value(p.value, p.unit, name=name),
                band,
                p.provenance,
                p.source,
                tuple(sorted(used[name])),
            )
        )
    return tuple(rows)


def _compare(
    src: Source,
    manager: TwinPluginManager,
    profile: Profile,
    original: Timeline,
    branch: str,
    start: int,
    progress: Progress,
) -> Comparison:
    info = next((b for b in src.journal.branches() if b.name == branch), None)
    if info is None and src.kind != "journal":
        raise TwinInputError(
            f"{src.label} is read into memory and has no branches; --compare needs a journal "
            "with a what-if branch (twin import it, then twin whatif JOURNAL … --keep BRANCH)",
            field="--compare",
            value=branch,
        )
    if info is None:
        known = ", ".join(b.name for b in src.journal.branches()) or "none yet"
        raise TwinInputError(
            f"no branch {branch!r} in {src.label} (branches: {known}; make one with "
            "`twin whatif … --keep BRANCH` or `twin branch`)",
            field="--compare",
        )
    replay = Replay(src.journal, manager, profile, branch=branch)
    stop = replay.head()
    first = min(start, stop)
    timeline = _timeline(src, replay, first, stop, branch, f"replaying {branch}", progress)
    fork = info.fork_seq
    before = original.active_after(fork)
    after = timeline.active_after(fork)
    avoided = tuple(before[k] for k in sorted(before) if k not in after)
    caused = tuple(after[k] for k in sorted(after) if k not in before)
    return Comparison(branch, fork, timeline, avoided, caused)


def build_report(
    src: Source,
    manager: TwinPluginManager,
    profile: Profile,
    *,
    start: int = 1,
    stop: int | None = None,
    compare: str | None = None,
    command: str = "",
    progress: Progress = _no_progress,
) -> Report:
    """Replay ``src`` (its selected branch) and gather a :class:`Report`.

    Raises:
        TwinInputError: an empty journal, a window outside it or backwards, or an
            unknown ``--compare`` branch.
    """
    replay = Replay(src.journal, manager, profile, branch=src.branch)
    start, stop = _window(replay, start, stop)
    timeline = _timeline(src, replay, start, stop, src.branch, "replaying", progress)
    span, found = _first_error(replay, timeline)
    unexplained, unexplained_event = _first_unexplained(src, timeline, span)
    comparison = None
    if compare is not None:
        comparison = _compare(src, manager, profile, timeline, compare, start, progress)
    finding_ids = {s.rule for s in timeline.spans}
    if comparison is not None:
        finding_ids |= {s.rule for s in comparison.timeline.spans}
    units: dict[str, str] = {}
    for r in manager.rules():
        units.update(r.rule.metrics)
    thresholds = {
        name: profile.parameters[name].value
        for name in ("convergence.cpu_threshold_pct", "capacity.high_utilization")
        if name in profile.parameters
    }
    where = f" ({src.branch})" if src.branch else ""
    return Report(
        title=f"Postmortem: {src.label}{where}",
        source=src.label,
        profile=profile.name,
        timeline=timeline,
        first_error=span,
        first_error_bisect=found,
        first_unexplained=unexplained,
        first_unexplained_event=unexplained_event,
        comparison=comparison,
        parameters=_parameters(manager, profile, finding_ids),
        units=units,
        thresholds=thresholds,
        command=command,
    )
