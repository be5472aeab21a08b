"""Inputs at the edges: one line and exit 2 each, never a traceback or a silent guess (issue 9)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from journal import Journal
from tests.cli_helpers import deadline, memory_cap, run_twin
from twin.errors import TwinInputError

SITE = {"ts": "2026-03-14T01:00:00Z", "type": "site_added", "site": 1}
GROUP = {"type": "group_created", "group": 1}
MEMBER = {"type": "member_added", "member": "1_01", "group": 1, "site": 1}


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def refused(result: Any, *words: str) -> None:
    assert result.one_line_error, result
    for word in words:
        assert word in result.err, (word, result.err)


# -- item 10: timestamps at the edges of what a datetime holds ---------------------------------

EDGE_TIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


@pytest.mark.parametrize("when", EDGE_TIMES)
def test_an_edge_time_in_an_event_file_is_refused(tmp_path: Path, when: str) -> None:
    source = write_jsonl(tmp_path / "e.jsonl", [{**SITE, "ts": when}])
    refused(run_twin("log", source), ":1: ts: ", "outside the years 0001-9999")


@pytest.mark.parametrize("when", EDGE_TIMES)
def test_an_edge_time_on_append_is_refused(tmp_path: Path, when: str) -> None:
    journal = tmp_path / "j.db"
    run_twin("init", journal)
    refused(run_twin("append", journal, "note", "text=x", "--ts", when), "ts: ")


@pytest.mark.parametrize("when", ['"0001-01-01T00:00:00+14:00"', "9999-12-31T23:59:59-14:00"])
def test_an_edge_time_in_a_topology_is_refused(tmp_path: Path, when: str) -> None:
    topology = tmp_path / "t.toml"
    topology.write_text(f"[deployment]\nts = {when}\n\n[[site]]\nsite = 1\n", encoding="utf-8")
    result = run_twin("init", tmp_path / "j.db", "--topology", topology)
    refused(result, f"{topology}:2: ts: ")
    assert not (tmp_path / "j.db").exists()


def test_a_year_before_1000_is_written_with_four_digits(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "e.jsonl", [{**SITE, "ts": "0999-05-01T00:00:00Z"}])
    (row,) = run_twin("log", source, "--format", "jsonl").jsonl()
    assert row["occurred_at"] == "0999-05-01T00:00:00Z"


# -- item 10: TOML nested deeper than a parser can follow -----------------------------------------

DEEP = "x = " + "[" * 1000 + "]" * 1000 + "\n"


def test_a_deeply_nested_profile_is_refused(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(DEEP, encoding="utf-8")
    refused(run_twin("profile", "--profile", profile), "nested too deeply")


def test_a_deeply_nested_topology_is_refused(tmp_path: Path) -> None:
    topology = tmp_path / "t.toml"
    topology.write_text(DEEP, encoding="utf-8")
    refused(run_twin("init", tmp_path / "j.db", "--topology", topology), "nested too deeply")


def test_a_deeply_nested_plan_is_refused(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(DEEP, encoding="utf-8")
    refused(run_twin("plan", "check", plan), "nested too deeply")


# -- item 10: profiles of the wrong shape ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("parameters = 5\n", "parameters: must be a table"),
        ('profile = "lab"\n', "profile: must be a table"),
        ("[profile]\nname = 7\n", "profile.name: must be a non-empty string"),
        ('[parameters."sync.growth_per_member"]\nvalue = 0.1\nsource = 3\n', "must be a string"),
        ('[parameters."sync.growth_per_member"]\nvalue = 0.1\nprovenance = 3\n', "provenance"),
    ],
)
def test_a_profile_of_the_wrong_shape_is_refused(tmp_path: Path, text: str, words: str) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(text, encoding="utf-8")
    refused(run_twin("profile", "--profile", profile), words)


def test_a_profile_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_bytes(b'[profile]\nname = "caf\xe9"\n')
    refused(run_twin("profile", "--profile", profile), f"{profile}:2: ", "not UTF-8")


# -- item 11: ids and names must match whole -------------------------------------------------


def test_a_member_id_with_a_trailing_newline_is_refused(tmp_path: Path) -> None:
    rows = [SITE, GROUP, {**MEMBER, "member": "1_01\n"}]
    refused(run_twin("log", write_jsonl(tmp_path / "e.jsonl", rows)), ":3: member: ")


def test_a_branch_name_with_a_trailing_newline_is_refused(tmp_path: Path) -> None:
    journal = tmp_path / "j.db"
    run_twin("init", journal)
    refused(run_twin("branch", journal, "what-if\n", "--at", "0"), "branch: ")
    with Journal.open(journal) as j, pytest.raises(TwinInputError):
        j.create_branch("what-if\n", at=0)


# -- item 11: numbers the model cannot use --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("nan", "must be a finite number"),
        ("inf", "must be a finite number"),
        ("-inf", "must be a finite number"),
        ("0", "must be greater than 0"),
        ("-0.5", "must be greater than 0"),
    ],
)
def test_a_profile_value_outside_the_parameters_domain_is_refused(
    tmp_path: Path, value: str, words: str
) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(f'[parameters]\n"sync.network_gbps" = {value}\n', encoding="utf-8")
    refused(run_twin("profile", "--profile", profile), f"{profile}:2: sync.network_gbps: ", words)


def test_a_fraction_parameter_refuses_more_than_one(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(
        '[parameters."memory.fragmentation_max"]\nvalue = 0.5\nhigh = 1.5\n', encoding="utf-8"
    )
    refused(run_twin("profile", "--profile", profile), "memory.fragmentation_max.high: ", "0 to 1")


def test_every_parameter_declares_a_domain_its_default_is_in() -> None:
    from twin.plugin_manager import TwinPluginManager

    manager = TwinPluginManager(autoload=False).load()
    for p in manager.parameters():
        assert p.domain.problem(p.value) is None
        assert p.domain.low is not None or p.domain.high is not None, p.name


@pytest.mark.parametrize(
    "row",
    [
        {"type": "load_changed", "group": 1, "cps": 1.7e308},
        {"type": "load_changed", "group": 1, "connections": 2**64 - 1},
        {"type": "load_changed", "group": 1, "throughput_gbps": 1e16},
    ],
)
def test_numbers_large_enough_to_overflow_the_rules_are_refused(
    tmp_path: Path, row: dict[str, Any]
) -> None:
    rows = [SITE, GROUP, MEMBER, row]
    refused(run_twin("run", write_jsonl(tmp_path / "e.jsonl", rows)), ":4: ", "at most 1e15")


def test_the_largest_accepted_load_still_prints_finite_metrics(tmp_path: Path) -> None:
    rows = [
        SITE,
        GROUP,
        MEMBER,
        {
            "type": "load_changed",
            "group": 1,
            "cps": 1e15,
            "connections": 10**15,
            "throughput_gbps": 1e15,
        },
    ]
    result = run_twin("run", write_jsonl(tmp_path / "e.jsonl", rows), "--format", "jsonl")
    assert result.code == 0, result
    assert "null" not in result.out.splitlines()[-1]


# -- item 11: values given in ways that hide a mistake ------------------------------------------


def test_an_actor_that_is_not_a_string_is_refused(tmp_path: Path) -> None:
    rows = [{**SITE, "actor": {"x": 1}}]
    refused(run_twin("log", write_jsonl(tmp_path / "e.jsonl", rows)), ":1: actor: ")


def test_a_field_given_twice_on_append_is_refused(tmp_path: Path) -> None:
    journal = tmp_path / "j.db"
    run_twin("init", journal)
    refused(run_twin("append", journal, "note", "text=a", "text=b"), "text: given twice")
    refused(run_twin("append", journal, "note", "text=a", "type=site_added"), "type: ")
    refused(
        run_twin("append", journal, "note", "text=a", "ts=2026-01-01", "--ts", "2026-01-02"),
        "ts: give it once",
    )
    assert run_twin("log", journal).out.count("\n") == 1  # the header only


@pytest.mark.parametrize(
    "line",
    [
        '{"type": "note", "text": "a", "text": "b"}',
        '{"type":"note","text":"a","text" :"b"}',
        '{"type": "note", "type": "site_added", "site": 1, "text": "x"}',
    ],
)
def test_a_json_key_given_twice_is_refused(tmp_path: Path, line: str) -> None:
    source = tmp_path / "e.jsonl"
    source.write_text(line + "\n", encoding="utf-8")
    refused(run_twin("log", source), ":1: ", "given twice")


def test_a_string_that_looks_like_a_key_is_not_a_duplicate(tmp_path: Path) -> None:
    source = tmp_path / "e.jsonl"
    source.write_text('{"type": "note", "text": "say \\"text\\": twice"}\n', encoding="utf-8")
    assert run_twin("log", source).code == 0


def test_a_csv_column_given_twice_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "e.csv"
    source.write_text("type,text,text\nnote,a,b\n", encoding="utf-8")
    refused(run_twin("log", source), ":1: text: column given twice")


# -- item 6: regular files of a bounded size --------------------------------------------------


def bounded_twin(*args: object) -> Any:
    """``twin`` in-process, unable to take another GB or to block for a minute: if this
    regresses, reading /dev/zero or a FIFO fails the test, not the machine."""
    with deadline(60), memory_cap():
        return run_twin(*args)


@pytest.mark.parametrize(
    "args",
    [
        ["log", "{link}.jsonl"],
        ["import", "{journal}", "{link}.jsonl"],
        ["init", "{new}", "--topology", "{link}.toml"],
        ["profile", "--profile", "{link}.toml"],
        ["plan", "check", "{link}.toml"],
    ],
)
def test_a_link_to_dev_zero_is_refused_at_once(tmp_path: Path, args: list[str]) -> None:
    for suffix in (".jsonl", ".toml"):
        (tmp_path / f"zero{suffix}").symlink_to("/dev/zero")
    journal = tmp_path / "j.db"
    run_twin("init", journal)
    given = {"link": tmp_path / "zero", "journal": journal, "new": tmp_path / "new.db"}
    result = bounded_twin(*(a.format(**given) for a in args))
    refused(result, "is a device", "must be a regular file")


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "events.jsonl"
    os.mkfifo(fifo)
    other = tmp_path / "journal"
    os.mkfifo(other)
    refused(bounded_twin("log", fifo), "FIFO")
    refused(bounded_twin("log", other), "FIFO")
    refused(run_twin("run", tmp_path), "folder")


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_import_refuses_a_fifo_or_device_whose_name_names_no_format(
    tmp_path: Path, kind: str
) -> None:
    """Without .jsonl/.csv the content is sniffed for gateway output: never from a FIFO."""
    odd = tmp_path / "capture"  # no suffix: `twin import` guesses the format from the text
    if kind == "fifo":
        os.mkfifo(odd)
    else:
        odd.symlink_to("/dev/zero")
    journal = tmp_path / "j.db"
    run_twin("init", journal)
    words = ("FIFO",) if kind == "fifo" else ("is a device",)
    refused(bounded_twin("import", journal, odd), *words, "must be a regular file")
    refused(
        bounded_twin("import", journal, odd, "--format", "clusterxl-syslog"),
        *words,
        "must be a regular file",
    )


def test_the_size_limit_names_the_knob_that_raises_it(tmp_path: Path) -> None:
    rows = [SITE, *({"type": "note", "text": "x" * 100} for _ in range(30))]
    source = write_jsonl(tmp_path / "e.jsonl", rows)
    small = run_twin("log", source, env={"TWIN_MAX_INPUT_MB": "0.001"})
    refused(small, "kB, larger than the 1 kB limit for event files", "TWIN_MAX_INPUT_MB=")
    assert run_twin("log", source, env={"TWIN_MAX_INPUT_MB": "1"}).code == 0
    refused(run_twin("log", source, env={"TWIN_MAX_INPUT_MB": "lots"}), "TWIN_MAX_INPUT_MB: ")
