"""Reading plan files: every kind of expectation, and every mistake located at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.errors import TwinInputError
from twin.plan import read_plan
from twin.plan.parse import parse_duration
from twin.plugin_manager import TwinPluginManager
from twin.rules import Severity

MANAGER = TwinPluginManager(autoload=False, strict=True).load()
REGISTRY = MANAGER.event_registry()
METRICS = {name for r in MANAGER.rules() for name in r.rule.metrics}
RULES = {name for r in MANAGER.rules() for name in r.rule.raises}

HEADER = """\
[plan]
name = "drill"
base = "prod.db"
at = 12

[[step]]
label = "lose 1_03"
type = "member_failed"
member = "1_03"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.toml"
    path.write_text(text, encoding="utf-8")
    return path


def read(tmp_path: Path, text: str) -> object:
    return read_plan(write(tmp_path, text), REGISTRY, metrics=METRICS, rules=RULES)


def error(tmp_path: Path, text: str) -> TwinInputError:
    with pytest.raises(TwinInputError) as caught:
        read(tmp_path, text)
    return caught.value


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), start=1) if needle in line)


# -- what a plan can say ----------------------------------------------------------------------


def test_every_expectation_kind_and_step_option(tmp_path: Path) -> None:
    text = (
        HEADER
        + """\
duration = "1h30m"
reason = "drill"

[[step.expect]]
absent = "convergence.cpu-overload"

[[step]]
label = "peak"
type = "load_changed"
group = 1
cpu_pct = 86
expect = {metric = "load.cpu_pct", subject = "member:1_01", between = [0, 90]}

[[step]]
type = "member_recovered"
member = "1_03"

[[expect]]
metric = "convergence.failover_s"
below = 1.0
band = true

[[expect]]
metric = "capacity.utilization"
above = 0.1
below = 0.8
after = "peak"

[[expect]]
max_severity = "warn"
after = 3

[[expect]]
present = "versions.mixed"
subject = "group:1"
after = "last"
"""
    )
    plan = read(tmp_path, text)
    assert plan.name == "drill"
    assert plan.base == tmp_path / "prod.db"
    assert plan.at == 12
    assert [s.type for s in plan.steps] == ["member_failed", "load_changed", "member_recovered"]
    assert [s.label for s in plan.steps] == ["lose 1_03", "peak", None]
    assert plan.steps[0].duration_s == 5400.0
    assert plan.steps[1].duration_s == 60.0  # a minute by default
    assert plan.steps[0].event.reason == "drill"
    assert plan.steps[0].line == line_of(text, "[[step]]")
    e = {x.index: x for x in plan.expectations}
    # Plan-level first, in file order; then each step's own.
    assert (e[1].metric, e[1].subject, e[1].below, e[1].band) == (
        "convergence.failover_s",
        "system",
        1.0,
        True,
    )
    assert e[1].after is None and e[1].when == "every step"
    assert (e[2].above, e[2].below, e[2].after) == (0.1, 0.8, 2)  # "peak" is step 2
    assert (e[3].max_severity, e[3].after) == (Severity.WARNING, 3)
    assert (e[4].present, e[4].subject, e[4].after) == ("versions.mixed", "group:1", "last")
    assert (e[5].absent, e[5].step) == ("convergence.cpu-overload", 1)
    assert (e[6].between, e[6].subject, e[6].step) == ((0.0, 90.0), "member:1_01", 2)
    assert e[5].line == line_of(text, "[[step.expect]]")
    assert e[4].applies_after(3, 3) and not e[4].applies_after(2, 3)
    assert e[6].applies_after(2, 3) and not e[6].applies_after(3, 3)


def test_a_plan_without_a_plan_table_or_base_starts_from_nothing(tmp_path: Path) -> None:
    plan = read(tmp_path, '[[step]]\ntype = "site_added"\nsite = 1\n')
    assert (plan.name, plan.base, plan.at) == ("plan", None, None)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("20m", 1200), ("90s", 90), ("1h30m", 5400), ("2h", 7200), ("1d", 86400), ("1.5m", 90)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "20", "m", "-5m", "0s", 20, "20 minutes"])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011  (the value itself is the message)
        parse_duration(bad)


# -- mistakes, each one line naming where -------------------------------------------------------


def test_malformed_toml_names_its_line(tmp_path: Path) -> None:
    text = HEADER + "\n[[expect]]\nmetric = convergence.failover_s\n"
    found = error(tmp_path, text)
    assert found.line == line_of(text, "metric = convergence")
    assert "not valid TOML" in found.problem


def test_unknown_step_type_suggests_the_closest(tmp_path: Path) -> None:
    text = HEADER.replace('type = "member_failed"', 'type = "member_faild"')
    found = error(tmp_path, text)
    assert found.line == line_of(text, "member_faild")
    assert "did you mean 'member_failed'" in found.problem
    assert found.one_line().startswith(f"{tmp_path / 'plan.toml'}:{found.line}: step 1 (lose 1_03)")


def test_unknown_field_of_a_step_suggests_the_closest(tmp_path: Path) -> None:
    text = HEADER.replace('member = "1_03"', 'membr = "1_03"')
    found = error(tmp_path, text)
    assert found.line == line_of(text, "membr")
    assert "did you mean 'member'" in found.problem


def test_a_step_option_misspelt_is_suggested_too(tmp_path: Path) -> None:
    text = HEADER + 'lable = "x"\n'
    assert "did you mean 'label'" in error(tmp_path, text).problem


def test_a_bad_field_value_names_step_and_field(tmp_path: Path) -> None:
    text = HEADER + '\n[[step]]\ntype = "weight_changed"\nmember = "1_01"\nweight = 600\n'
    found = error(tmp_path, text)
    assert found.line == line_of(text, "weight = 600")
    assert found.field == "step 2: weight"
    assert "between 0 and 512" in found.problem


def test_unknown_table_and_plan_key(tmp_path: Path) -> None:
    text = HEADER + "\n[[steps]]\ntype = 'note'\n"
    found = error(tmp_path, text)
    assert "did you mean 'step'" in found.problem and found.line == line_of(text, "[[steps]]")
    text = HEADER.replace("at = 12", "att = 12")
    found = error(tmp_path, text)
    assert "did you mean 'at'" in found.problem and found.line == line_of(text, "att = 12")


@pytest.mark.parametrize("bad", ["-1", '"start"', "1.5", "true"])
def test_at_must_be_a_seq_or_end(tmp_path: Path, bad: str) -> None:
    text = HEADER.replace("at = 12", f"at = {bad}")
    found = error(tmp_path, text)
    assert found.field == "at" and found.line == line_of(text, "at = ")


def test_a_plan_needs_steps(tmp_path: Path) -> None:
    assert "no steps" in error(tmp_path, '[plan]\nname = "x"\n').problem


def test_duplicate_labels_are_refused(tmp_path: Path) -> None:
    text = HEADER + '\n[[step]]\nlabel = "lose 1_03"\ntype = "note"\ntext = "x"\n'
    found = error(tmp_path, text)
    assert "already step 1's" in found.problem
    assert found.line == len(text.split("\n")) - 3


def test_bad_duration_in_a_step(tmp_path: Path) -> None:
    text = HEADER + 'duration = "20 minutes"\n'
    found = error(tmp_path, text)
    assert found.line == line_of(text, "duration")
    assert '"20m"' in found.problem


@pytest.mark.parametrize(
    ("expect", "needle", "problem"),
    [
        ('metric = "convergence.failover"\nbelow = 1', "metric =", "did you mean"),
        ('absent = "convergence.cpu-overlaod"', "absent", "did you mean"),
        ('metric = "members.active"\nabsent = "versions.mixed"', "[[expect]]", "exactly one"),
        ("below = 1", "[[expect]]", "exactly one"),
        ('metric = "members.active"', "metric =", "needs below, above or between"),
        ('metric = "members.active"\nbetween = [5, 2]', "between", "low is above high"),
        ('metric = "members.active"\nbetween = [1, 2]\nbelow = 3', "between", "not both"),
        ('metric = "members.active"\nbelow = "1"', "below", "must be a number"),
        ('metric = "members.active"\nbelow = 1\nband = "yes"', "band", "true or false"),
        ('metric = "members.active"\nbelow = 1\nabove = 3', "below", "nothing is above"),
        ('max_severity = "fatal"', "max_severity", "info, warning or error"),
        ('absent = "versions.mixed"\nbelow = 1', "below", "goes with metric"),
        ('absent = "versions.mixed"\nafter = "lose 1_3"', "after", "did you mean 'lose 1_03'"),
        ('absent = "versions.mixed"\nafter = 7', "after", "no step 7"),
        ('absent = "versions.mixed"\nafter = 0.5', "after", "step number"),
        ('metric = "members.active"\nbelow = 1\nsubject = "1_03"', "subject", "kind:id"),
        ('metric = "members.active"\nbellow = 1', "bellow", "did you mean 'below'"),
    ],
)
def test_expectation_mistakes(tmp_path: Path, expect: str, needle: str, problem: str) -> None:
    text = HEADER + "\n[[expect]]\n" + expect + "\n"
    found = error(tmp_path, text)
    assert problem in found.problem
    header = line_of(text, "[[expect]]")
    assert found.line == next(
        n for n, line in enumerate(text.split("\n"), start=1) if needle in line and n >= header
    )
    assert found.field is not None and found.field.startswith("expect 1")


def test_a_steps_own_expectation_takes_no_after(tmp_path: Path) -> None:
    text = HEADER + '\n[[step.expect]]\nabsent = "versions.mixed"\nafter = 1\n'
    found = error(tmp_path, text)
    assert "checked after that step" in found.problem
    assert found.field == "step 1 (lose 1_03): expect: after"


def test_an_unreadable_or_missing_plan(tmp_path: Path) -> None:
    with pytest.raises(TwinInputError, match="no such plan file"):
        read_plan(tmp_path / "nope.toml", REGISTRY)
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(TwinInputError, match="cannot read"):
        read_plan(tmp_path / "bin.toml", REGISTRY)
