"""Counterfactuals: what if we had acted differently at event N?

:func:`run_whatif` forks the timeline after event N (a :class:`twin.fork.WhatIf`
session: a journal is never written, an event file is only read), applies the
action, then replays the rest of the original timeline on top of it, event by
event, while the original timeline is replayed beside it in lockstep. So the
two timelines can be compared event for event: which findings the action
avoided or caused, and where they diverge.

Replaying the original on a fork needs care, and what does not apply is
reported, never dropped silently:

- a group load is demand (:mod:`twin.demand`): each is given the ``serving``
  count of the original timeline just before it, so on a fork with more (or
  fewer) members serving, the same work is spread over them;
- a member's own load sample describes load the member carried; when that
  member served on the original but does not serve on the fork (the action
  drained it, took it down, or failed its site over), the sample no longer
  applies and is skipped;
- an event the fork's state refuses (an id the action removed, an upgrade
  that never started there) is skipped with the reason.

Example::

    result = run_whatif("examples/incident-0412.jsonl", manager, profile, at=205,
                        event_type="member_added",
                        fields={"member": "1_07", "group": "1", "site": "1", "cores": "32"})
    [s.key for s in result.avoided]     # [('convergence.cpu-overload', 'member:1_01'), …]
    result.diverged_at                  # 206
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from journal import BranchInfo
from twin.demand import with_serving
from twin.errors import TwinInputError, no_event_text
from twin.event_files import NewEvent
from twin.events import LoadChanged
from twin.fork import PointOutside, WhatIf, decode_event
from twin.frames import Frame
from twin.plugin_manager import TwinPluginManager
from twin.profile import Profile
from twin.state import TwinState
from twin.text_import import ImportOptions, ImportReport
from twin.timeline import FindingSpan, Timeline, TimelineBuilder, describe
from twin.units import same

Progress = Callable[[str, int, int | None], Any]
"""``progress(what, done, total)``."""

FRAME_METRICS: tuple[str, ...] = (
    "members.active",
    "capacity.utilization",
    "sync.traffic_gbps",
    "sync.utilization",
    "convergence.failover_s",
    "throughput.gbps",
    "load.cpu_pct",
)
"""The metrics each frame of ``--format json`` carries unless ``--metrics`` says otherwise."""


@attrs.frozen
class Skipped:
    """An event of the original timeline that does not apply on the fork.

    Attributes:
        seq: its seq on the original timeline.
        type: its type.
        why: why it was skipped.
    """

    seq: int
    type: str
    why: str

    def to_json(self) -> dict[str, Any]:
        """``{"seq", "type", "why"}``."""
        return {"seq": self.seq, "type": self.type, "why": self.why}


@attrs.frozen
class Step:
    """One event of the comparison: the original's frame beside the fork's.

    Attributes:
        seq: the original seq (None for the action, which only the fork has).
        occurred_at: when.
        type: the event type.
        text: what it did, for people.
        original: a summary of the original's frame after it (None for the action).
        whatif: a summary of the fork's frame after it (None when skipped there).
        skipped: why the fork skipped it ("" when it applied).
    """

    seq: int | None
    occurred_at: str
    type: str
    text: str
    original: dict[str, Any] | None
    whatif: dict[str, Any] | None
    skipped: str = ""


@attrs.define
class Counterfactual:
    """What :func:`run_whatif` found.

    Attributes:
        source: the base, as named to people.
        label: the what-if's name for people.
        fork_at: the event the fork shares last with the original.
        action: the action as applied: type, data, occurred_at, actor, reason.
        action_text: the action for people.
        original_frames: the original's frames after the fork (contract §5 objects).
        whatif_frames: the fork's frames: the action, then each replayed event, with
            ``original_seq``.
        skipped: events of the original that did not apply on the fork.
        original: the original timeline after the fork.
        whatif: the fork's timeline.
        avoided: findings active on the original after the fork, never on the fork.
        caused: findings active on the fork, never on the original after the fork.
        diverged_at: the first original seq after which the two differ (metrics or
            findings); None if they never do.
        steps: every event of the comparison, in order.
        kept: the branch written by ``keep`` (None if not kept).
        import_report: what was read, when the source is gateway output.
    """

    source: str
    label: str
    fork_at: int
    action: dict[str, Any]
    action_text: str
    original_frames: list[dict[str, Any]] = attrs.field(factory=list)
    whatif_frames: list[dict[str, Any]] = attrs.field(factory=list)
    skipped: list[Skipped] = attrs.field(factory=list)
    original: Timeline | None = None
    whatif: Timeline | None = None
    avoided: list[FindingSpan] = attrs.field(factory=list)
    caused: list[FindingSpan] = attrs.field(factory=list)
    diverged_at: int | None = None
    steps: list[Step] = attrs.field(factory=list)
    kept: BranchInfo | None = None
    import_report: ImportReport | None = None

    def to_json(self) -> dict[str, Any]:
        """``twin whatif --format json``."""
        return {
            "source": self.source,
            "label": self.label,
            "fork_at": self.fork_at,
            "action": self.action,
            "original": self.original_frames,
            "whatif": self.whatif_frames,
            "skipped": [s.to_json() for s in self.skipped],
            "avoided": [s.to_json() for s in self.avoided],
            "caused": [s.to_json() for s in self.caused],
            "diverged_at": self.diverged_at,
            "kept": None
            if self.kept is None
            else {"branch": self.kept.name, "fork_seq": self.kept.fork_seq, "head": self.kept.head},
        }


def _summary(frame: Frame) -> dict[str, Any]:
    """The headline of a frame for the side-by-side view (raw values)."""
    metrics = frame.metrics
    hottest: tuple[float, str] | None = None
    for subject in metrics.subjects():
        if subject[:7] != "member:":
            continue
        m = metrics.get(subject, "load.cpu_pct")
        if m is not None and (hottest is None or m.value > hottest[0]):
            hottest = (m.value, subject[7:])
    failover = metrics.get("system", "convergence.failover_s")
    return {
        "failover_s": None if failover is None else failover.value,
        "cpu_max": None if hottest is None else hottest[0],
        "cpu_max_member": None if hottest is None else hottest[1],
        "members_active": metrics.value("system", "members.active", 0.0),
        "errors": sum(1 for a in frame.findings if a.finding.severity.value == "error"),
        "warnings": sum(1 for a in frame.findings if a.finding.severity.value == "warning"),
        "raised": [
            (a.finding.severity.value, a.finding.rule, a.finding.subject) for a in frame.raised
        ],
        "cleared": [
            (a.finding.severity.value, a.finding.rule, a.finding.subject) for a in frame.cleared
        ],
    }


def _fingerprint(frame: Frame) -> tuple[dict[str, Any], frozenset[tuple[str, str]]]:
    keys = frozenset((a.finding.rule, a.finding.subject) for a in frame.findings)
    return frame.metrics.to_json(), keys


def _differ(a: Frame, b: Frame) -> bool:
    """True when two frames' metrics (beyond float noise) or active findings differ."""
    metrics_a, findings_a = _fingerprint(a)
    metrics_b, findings_b = _fingerprint(b)
    if findings_a != findings_b or metrics_a.keys() != metrics_b.keys():
        return True
    for subject, names in metrics_a.items():
        other = metrics_b[subject]
        if names.keys() != other.keys():
            return True
        for name, value in names.items():
            if not same(value["value"], other[name]["value"]):
                return True
    return False


def _no_longer_applies(original: TwinState, fork: TwinState, event: Any) -> str | None:
    """Why a member's own load sample does not apply on the fork (None: it applies)."""
    if type(event) is not LoadChanged or event.member is None:
        return None
    member = event.member
    before = original.members.get(member)
    after = fork.members.get(member)
    if before is None or after is None:
        return None  # the reducer judges unknown members
    served = any(m["id"] == member for m in original.serving_members(before["group"]))
    serves = any(m["id"] == member for m in fork.serving_members(after["group"]))
    if served and not serves:
        return (
            f"member {member}'s own load sample no longer applies: it served on the original "
            f"timeline but is {after['state']}"
            + ("" if after["state"] != "UP" else " on the standby site")
            + " on the what-if"
        )
    return None


def _renumbered(t: Timeline, to_original: dict[int, int]) -> Timeline:
    """The fork's timeline numbered like the original (the action counts as the fork event).

    The fork's own seqs run on from the fork point without gaps; skipped events and the
    action shift them. People compare the two timelines by the original's numbers.
    """

    def seq(value: int) -> int:
        return to_original.get(value, value)

    for span in t.spans:
        span.raised_seq = seq(span.raised_seq)
        if span.cleared_seq is not None:
            span.cleared_seq = seq(span.cleared_seq)
    t.moments = [attrs.evolve(m, seq=seq(m.seq)) for m in t.moments]
    for series in t.series.values():
        series.seqs = [seq(s) for s in series.seqs]
    if t.worst is not None:
        t.worst = (seq(t.worst[0]), t.worst[1], t.worst[2])
    t.start, t.stop = seq(t.start), seq(t.stop)
    return t


def _action_json(new: NewEvent) -> dict[str, Any]:
    return {
        "type": new.type,
        "data": new.event.to_data(),
        "occurred_at": new.occurred_at,
        "actor": new.actor,
        "reason": new.reason,
    }


def run_whatif(
    source: str | Path,
    manager: TwinPluginManager,
    profile: Profile,
    *,
    at: int,
    event_type: str,
    fields: Mapping[str, Any],
    label: str | None = None,
    branch: str | None = None,
    keep: str | None = None,
    metrics: Sequence[str] | None = FRAME_METRICS,
    progress: Progress | None = None,
    import_options: ImportOptions | None = None,
) -> Counterfactual:
    """Fork ``source`` after event ``at``, apply the action, replay the rest; compare.

    Args:
        source: a journal or an event file (loaded into a temporary journal).
        manager: the plugin manager.
        profile: the parameter profile.
        at: the last event both timelines share (the action comes right after it).
        event_type: the action's event type.
        fields: its fields as ``key=value`` text (``ts``, ``actor``, ``reason`` too).
        label: a name for the what-if (default: the action).
        branch: fork a branch of the journal instead of its main line.
        keep: record the fork (action + replayed events) as this branch of the journal.
        metrics: the metrics each JSON frame carries (None: every metric).
        progress: called with ``("replaying", done, total)``.
        import_options: how to read a source that is gateway output (``--map``...).

    Raises:
        TwinInputError: a bad source, ``at`` outside it, a bad action (unknown type or
            field, or one that does not apply at ``at``), or ``keep`` on an event file.
    """
    tick = progress or (lambda _w, _d, _t: None)
    if at < 1:  # refused before the base is loaded, like the action's fields
        raise TwinInputError(
            "the fork needs an event to follow: give --at 1 or later", field="--at", value=at
        )
    new = decode_event(manager.event_registry(), event_type, dict(fields), text=True)
    try:
        session = WhatIf.open(
            source, manager, profile, at=at, branch=branch, import_options=import_options
        )
    except PointOutside as exc:
        raise TwinInputError(no_event_text(at, exc.head, first=1), field="--at", value=at) from None
    with session:
        if keep is not None and session.kind != "journal":
            session.keep(keep)  # refuses (saying why) before the replay, not after it
        if new.occurred_at is None:
            new = attrs.evolve(new, occurred_at=session.base_occurred_at)
        if label is not None and new.reason is None:
            new = attrs.evolve(new, reason=label)
        action_frame = _apply_action(session, new)
        applied = session.proposed[-1].new
        result = Counterfactual(
            source=session.label,
            label=label or f"{event_type} at #{at}",
            fork_at=at,
            action=_action_json(applied),
            action_text=describe(session.proposed[-1].envelope),
            import_report=session.import_report,
        )
        _lockstep(session, action_frame, result, branch, metrics, tick)
        if keep is not None:
            result.kept = session.keep(keep)
    return result


def _apply_action(session: WhatIf, new: NewEvent) -> Frame:
    try:
        return session.apply(new, check_preconditions=True)
    except TwinInputError as exc:
        raise TwinInputError(
            f"the action does not apply after #{session.base_seq}: {exc.problem}",
            field=exc.field or "EVENT",
            value=exc.value,
        ) from None


def _lockstep(
    session: WhatIf,
    action_frame: Frame,
    result: Counterfactual,
    branch: str | None,
    metrics: Sequence[str] | None,
    tick: Progress,
) -> None:
    at = result.fork_at
    # The original timeline: the session's base journal, read again after the fork.
    journal = session.journal
    head = journal.head(branch=branch)
    original_engine = session.base_engine()

    def time_of(seq: int) -> str:
        return journal.get(seq, branch=branch).occurred_at if seq >= 1 else ""

    original = TimelineBuilder(Timeline(session.label, branch, at + 1, head), time_of=time_of)
    fork = TimelineBuilder(Timeline(session.label, "what-if", at + 1, head), time_of=time_of)
    fork.add(action_frame)
    to_original: dict[int, int] = {action_frame.seq: at}
    result.whatif_frames.append(
        {**action_frame.to_json(metrics, None), "original_seq": None, "action": True}
    )
    env = session.proposed[-1].envelope
    result.steps.append(
        Step(None, env.occurred_at, env.type, result.action_text, None, _summary(action_frame))
    )
    total = head - at
    for done, env in enumerate(journal.read(at + 1, head, branch=branch), start=1):
        event = with_serving(original_engine.state, env.event)
        why = _no_longer_applies(original_engine.state, session.state, event)
        frame = original_engine.step(env)
        original.add(frame)
        row = frame.to_json(metrics, None)
        result.original_frames.append(row)
        fork_frame: Frame | None = None
        if why is None:
            try:
                fork_frame = session.apply(
                    NewEvent(
                        event=event,
                        type=env.type,
                        occurred_at=env.occurred_at,
                        actor=env.actor,
                        reason=env.reason,
                        correlation_id=env.correlation_id,
                        causation_id=env.causation_id,
                    )
                )
            except TwinInputError as exc:
                why = f"does not apply on the what-if: {exc.one_line()}"
        if fork_frame is None:
            result.skipped.append(Skipped(env.seq, env.type, why or ""))
        else:
            fork.add(fork_frame)
            to_original[fork_frame.seq] = env.seq
            result.whatif_frames.append(
                {**fork_frame.to_json(metrics, None), "original_seq": env.seq}
            )
            if result.diverged_at is None and _differ(frame, fork_frame):
                result.diverged_at = env.seq
        result.steps.append(
            Step(
                env.seq,
                env.occurred_at,
                env.type,
                describe(env),
                _summary(frame),
                None if fork_frame is None else _summary(fork_frame),
                why or "",
            )
        )
        if done % 256 == 0:
            tick("replaying", done, total)
    tick("replaying", total, total)
    result.original = original.finish(original_engine.state)
    result.whatif = _renumbered(fork.finish(session.state), to_original)
    before = result.original.active_after(at)
    after = result.whatif.active_after(at)
    result.avoided = [before[k] for k in sorted(before) if k not in after]
    result.caused = [after[k] for k in sorted(after) if k not in before]
