"""A replayed window as plain data: finding spans, key moments, durations."""

from __future__ import annotations

from twin.timeline import FindingSpan, Timeline, format_duration, seconds_between


def span(rule: str, raised: int, cleared: int | None) -> FindingSpan:
    return FindingSpan(rule, "error", "system", "m", "p", raised, "", cleared, None)


def test_findings_active_after_a_fork_are_those_alive_after_one_of_its_events() -> None:
    t = Timeline("x", None, 1, 100)
    t.spans = [span("a", 10, 50), span("b", 50, 51), span("c", 60, None), span("d", 5, 50)]
    # a: active after 10..49; b: only after 50; c: from 60 on; d: 5..49.
    assert set(t.active_after(49)) == {("b", "system"), ("c", "system")}
    assert set(t.active_after(48)) == {
        ("a", "system"),
        ("b", "system"),
        ("c", "system"),
        ("d", "system"),
    }
    assert set(t.active_after(100)) == set()


def test_durations_read_as_people_say_them() -> None:
    assert format_duration(seconds_between("2026-04-12T00:55:00Z", "2026-04-12T03:50:00Z")) == (
        "2 h 55 min"
    )
    assert format_duration(800) == "13 min 20 s"
    assert format_duration(45) == "45 s"
    assert format_duration(3600) == "1 h"
    assert format_duration(None) == "–"
    assert seconds_between("not a time", "2026-04-12T03:50:00Z") is None
