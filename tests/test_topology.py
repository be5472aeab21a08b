"""Topology files: a good file gives the genesis events; each mistake gives one located line."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.errors import EventDataError, InvalidEventError, TwinInputError
from twin.events import EventRegistry, default_registry
from twin.reducer import apply
from twin.state import TwinState
from twin.topology import read_topology

GOOD = """\
# a small deployment
[deployment]
name = "lab"
checkpoint_interval_s = 60

[[site]]
site = 1
name = "DC North"

[[orchestrator]]
orchestrator = "mho-1a"
site = 1

[[group]]
group = 1

[[member]]
member = "1_01"
group = 1
site = 1
cores = 32
blades = ["fw", "ips"]

[[member]]
member = "1_02"
group = 1
site = 1
weight = 100

[[link]]
link = "dl-1_01"
a = "1_01"
b = "mho-1a"
kind = "downlink"
"""


@pytest.fixture
def registry() -> EventRegistry:
    return default_registry()


def write(tmp_path: Path, text: str, name: str = "topo.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, registry: EventRegistry, text: str) -> TwinInputError:
    path = write(tmp_path, text)
    with pytest.raises(TwinInputError) as info:
        read_topology(path, registry)
    message = str(info.value)
    assert "\n" not in message, "a user error is one line"
    assert message.startswith(f"{path}:"), message
    return info.value


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the ``occurrence``-th line that contains ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


# -- a good file ----------------------------------------------------------------------------------


def test_good_file_gives_genesis_events_in_order(tmp_path: Path, registry: EventRegistry) -> None:
    path = write(tmp_path, GOOD)
    events = read_topology(path, registry)
    assert [e.type for e in events] == [
        "note",
        "site_added",
        "orchestrator_added",
        "group_created",
        "member_added",
        "member_added",
        "link_added",
        "checkpoint_interval_changed",
    ]
    assert events[0].event.to_data() == {"text": "topology lab"}
    assert events[1].event.to_data() == {"site": 1, "name": "DC North"}
    member = events[4].event.to_data()
    assert member["member"] == "1_01"
    assert member["cores"] == 32
    assert member["blades"] == ["fw", "ips"]
    assert events[5].event.to_data()["weight"] == 100
    assert events[-1].event.to_data() == {"seconds": 60}
    assert all(e.source == str(path) for e in events)


def test_each_event_names_its_table_header_line(tmp_path: Path, registry: EventRegistry) -> None:
    events = read_topology(write(tmp_path, GOOD), registry)
    lines = {(e.type, e.event.to_data().get("member")): e.line for e in events}
    assert lines[("site_added", None)] == line_of(GOOD, "[[site]]")
    assert lines[("member_added", "1_01")] == line_of(GOOD, "[[member]]", 1)
    assert lines[("member_added", "1_02")] == line_of(GOOD, "[[member]]", 2)
    assert lines[("link_added", None)] == line_of(GOOD, "[[link]]")
    assert lines[("note", None)] == line_of(GOOD, "[deployment]")


def test_events_apply_to_an_empty_twin(tmp_path: Path, registry: EventRegistry) -> None:
    state = TwinState()
    for seq, new in enumerate(read_topology(write(tmp_path, GOOD), registry), start=1):
        apply(state, new.event, seq=seq)
    assert sorted(state.members) == ["1_01", "1_02"]
    assert state.groups[1]["members"] == ["1_01", "1_02"]
    assert state.links["dl-1_01"]["kind"] == "downlink"
    assert state.settings["checkpoint_interval_s"] == 60.0


def test_tables_in_any_order_come_out_in_dependency_order(
    tmp_path: Path, registry: EventRegistry
) -> None:
    text = """\
[[link]]
link = "dl"
a = "1_01"
b = "mho-1a"
kind = "downlink"

[[member]]
member = "1_01"
group = 1
site = 1

[[orchestrator]]
orchestrator = "mho-1a"
site = 1

[[group]]
group = 1

[[site]]
site = 1
"""
    events = read_topology(write(tmp_path, text), registry)
    assert [e.type for e in events] == [
        "site_added",
        "orchestrator_added",
        "group_created",
        "member_added",
        "link_added",
    ]
    assert events[-1].line == 1


def test_deployment_ts_and_actor_go_on_every_event(tmp_path: Path, registry: EventRegistry) -> None:
    text = '[deployment]\nts = 2026-04-12T01:00:00+02:00\nactor = "ops:alice"\n[[site]]\nsite = 1\n'
    events = read_topology(write(tmp_path, text), registry)
    assert [e.type for e in events] == ["site_added"]
    assert events[0].occurred_at == "2026-04-11T23:00:00Z"
    assert events[0].actor == "ops:alice"


def test_no_deployment_means_no_note_and_no_settings(
    tmp_path: Path, registry: EventRegistry
) -> None:
    events = read_topology(write(tmp_path, "[[site]]\nsite = 1\n"), registry)
    assert [e.type for e in events] == ["site_added"]
    assert events[0].occurred_at is None
    assert events[0].actor is None


def test_headers_inside_multiline_strings_do_not_shift_lines(
    tmp_path: Path, registry: EventRegistry
) -> None:
    text = '''\
[[site]]
site = 1
name = """
[[site]]
"""

[[site]]  # the real second site
site = 2
'''
    events = read_topology(write(tmp_path, text), registry)
    assert [e.line for e in events] == [1, 7]


def test_an_inline_array_of_tables_is_read_too(tmp_path: Path, registry: EventRegistry) -> None:
    text = 'site = [{site = 1}, {site = 2, name = "B"}]\n'
    events = read_topology(write(tmp_path, text), registry)
    assert [e.event.to_data() for e in events] == [{"site": 1}, {"site": 2, "name": "B"}]
    assert {e.line for e in events} == {1}


# -- mistakes: one line each, naming file:line and field ------------------------------------


def test_bad_toml_keeps_tomllibs_position(tmp_path: Path, registry: EventRegistry) -> None:
    error = error_of(tmp_path, registry, "[[site]]\nsite = 1\nname = \n")
    assert error.line == 3
    assert "not valid TOML" in str(error)
    assert "line 3" in error.problem


def test_unknown_table_suggests_the_closest(tmp_path: Path, registry: EventRegistry) -> None:
    text = "[[site]]\nsite = 1\n\n[[members]]\nmember = '1_01'\n"
    error = error_of(tmp_path, registry, text)
    assert error.line == 4
    assert error.field == "members"
    assert "did you mean [[member]]?" in str(error)


def test_unknown_top_level_key_is_refused(tmp_path: Path, registry: EventRegistry) -> None:
    error = error_of(tmp_path, registry, 'name = "prod"\n[[site]]\nsite = 1\n')
    assert error.line == 1
    assert error.field == "name"
    assert "unknown table" in str(error)


def test_single_table_instead_of_array(tmp_path: Path, registry: EventRegistry) -> None:
    error = error_of(tmp_path, registry, "[site]\nsite = 1\n")
    assert error.line == 1
    assert error.field == "site"
    assert "[[site]]" in str(error)


def test_unknown_key_suggests_the_field(tmp_path: Path, registry: EventRegistry) -> None:
    text = GOOD.replace("cores = 32", "core = 32")
    error = error_of(tmp_path, registry, text)
    assert isinstance(error, EventDataError)
    assert error.field == "core"
    assert error.line == line_of(text, "core = 32")
    assert "did you mean 'cores'?" in str(error)


def test_value_out_of_range(tmp_path: Path, registry: EventRegistry) -> None:
    text = GOOD.replace("weight = 100", "weight = 600")
    error = error_of(tmp_path, registry, text)
    line = line_of(text, "weight = 600")
    assert (
        str(error)
        == f"{tmp_path / 'topo.toml'}:{line}: weight: must be between 0 and 512 (got 600)"
    )


def test_value_of_the_wrong_type(tmp_path: Path, registry: EventRegistry) -> None:
    text = GOOD.replace("cores = 32", 'cores = "32"')
    error = error_of(tmp_path, registry, text)
    assert error.field == "cores"
    assert error.line == line_of(text, 'cores = "32"')
    assert "must be an integer" in str(error)


def test_bad_link_kind_lists_the_valid_ones(tmp_path: Path, registry: EventRegistry) -> None:
    text = GOOD.replace('kind = "downlink"', 'kind = "fabric"')
    error = error_of(tmp_path, registry, text)
    assert error.field == "kind"
    assert "downlink, uplink, sync, site, mgmt" in str(error)


def test_missing_required_field_points_at_the_header(
    tmp_path: Path, registry: EventRegistry
) -> None:
    text = "[[site]]\nsite = 1\n\n[[group]]\ngroup = 1\n\n[[member]]\nmember = '1_01'\nsite = 1\n"
    error = error_of(tmp_path, registry, text)
    assert error.field == "group"
    assert error.line == 7
    assert "required" in str(error)


def test_member_named_for_another_site(tmp_path: Path, registry: EventRegistry) -> None:
    text = GOOD.replace(
        'member = "1_02"\ngroup = 1\nsite = 1', 'member = "1_02"\ngroup = 1\nsite = 2'
    )
    error = error_of(tmp_path, registry, text)
    assert error.field == "site"
    assert error.line == line_of(text, "site = 2")


def test_member_in_an_unknown_group(tmp_path: Path, registry: EventRegistry) -> None:
    text = GOOD.replace('member = "1_02"\ngroup = 1', 'member = "1_02"\ngroup = 7')
    error = error_of(tmp_path, registry, text)
    assert isinstance(error, InvalidEventError)
    assert error.field == "group"
    assert error.line == line_of(text, "group = 7")
    assert "unknown group 7" in str(error)


def test_link_to_an_unknown_orchestrator(tmp_path: Path, registry: EventRegistry) -> None:
    text = GOOD.replace('b = "mho-1a"', 'b = "mho-9z"')
    error = error_of(tmp_path, registry, text)
    assert isinstance(error, InvalidEventError)
    assert error.field == "b"
    assert error.line == line_of(text, 'b = "mho-9z"')
    assert "mho-9z" in str(error)


def test_orchestrator_at_an_unknown_site(tmp_path: Path, registry: EventRegistry) -> None:
    text = GOOD.replace('orchestrator = "mho-1a"\nsite = 1', 'orchestrator = "mho-1a"\nsite = 3')
    error = error_of(tmp_path, registry, text)
    assert error.field == "site"
    assert error.line == line_of(text, "site = 3")
    assert "unknown site 3" in str(error)


def test_duplicate_member_points_at_the_second(tmp_path: Path, registry: EventRegistry) -> None:
    text = GOOD.replace('member = "1_02"', 'member = "1_01"')
    error = error_of(tmp_path, registry, text)
    assert error.field == "member"
    assert error.line == line_of(text, 'member = "1_01"', 2)
    assert "already exists" in str(error)


def test_unknown_deployment_key(tmp_path: Path, registry: EventRegistry) -> None:
    text = GOOD.replace("checkpoint_interval_s = 60", "checkpoint_interval = 60")
    error = error_of(tmp_path, registry, text)
    assert error.field == "checkpoint_interval"
    assert error.line == line_of(text, "checkpoint_interval = 60")
    assert "did you mean 'checkpoint_interval_s'?" in str(error)


def test_bad_checkpoint_interval_names_the_deployment_key(
    tmp_path: Path, registry: EventRegistry
) -> None:
    text = GOOD.replace("checkpoint_interval_s = 60", "checkpoint_interval_s = -5")
    error = error_of(tmp_path, registry, text)
    assert error.field == "checkpoint_interval_s"
    assert error.line == line_of(text, "checkpoint_interval_s = -5")


def test_bad_deployment_time(tmp_path: Path, registry: EventRegistry) -> None:
    error = error_of(tmp_path, registry, '[deployment]\nts = "yesterday"\n[[site]]\nsite = 1\n')
    assert error.field == "ts"
    assert error.line == 2


def test_an_empty_topology_is_refused(tmp_path: Path, registry: EventRegistry) -> None:
    path = write(tmp_path, "# nothing here\n")
    with pytest.raises(TwinInputError, match="defines nothing"):
        read_topology(path, registry)


def test_a_missing_file_is_named(tmp_path: Path, registry: EventRegistry) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(TwinInputError, match="no such topology file") as info:
        read_topology(path, registry)
    assert info.value.source == str(path)


def test_windows_line_endings_keep_the_lines(tmp_path: Path, registry: EventRegistry) -> None:
    path = tmp_path / "topo.toml"
    path.write_bytes(GOOD.replace("weight = 100", "weight = 600").replace("\n", "\r\n").encode())
    with pytest.raises(TwinInputError) as info:
        read_topology(path, registry)
    assert info.value.line == line_of(GOOD, "weight = 100")
