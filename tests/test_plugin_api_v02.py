"""Plugin API 0.2: typed state records, and a plugin written only from the 0.2 docs.

The records' TypedDicts must name exactly the keys the state gives rules (a
key the reducer adds without a TypedDict entry would be invisible to plugin
authors' type checkers); the documented 0.2 plugin must pass ``mypy
--strict``, and a typo'd record key must fail it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import twin.api
from tests.rules_helpers import mypy_strict
from twin.api import (
    GroupRecord,
    LinkRecord,
    MemberRecord,
    ObservedRecord,
    OrchestratorRecord,
    SiteRecord,
    VirtualSystemRecord,
)
from twin.testing import (
    dual_site,
    group_load,
    load_plugin_file,
    member_failure,
    run_scenario,
    single_site,
    smoke_events,
)

ROOT = Path(__file__).resolve().parent.parent
WRITING = ROOT / "docs" / "writing-plugins.md"


def _keys(record_type: Any) -> set[str]:
    return set(record_type.__required_keys__) | set(record_type.__optional_keys__)


def _typed_example() -> str:
    """The python block under ``<!-- typed-plugin-example -->`` in writing-plugins.md."""
    text = WRITING.read_text(encoding="utf-8")
    found = re.search(r"<!-- typed-plugin-example -->\n```python\n(.*?)```", text, re.DOTALL)
    assert found, "docs/writing-plugins.md lost its typed plugin example"
    return found.group(1)


def test_api_version_is_0_2() -> None:
    assert twin.api.API_VERSION == "0.2"


def test_records_name_exactly_the_keys_the_state_holds() -> None:
    # The smoke set applies every core event type, so every key the reducer sets is present.
    state = run_scenario(smoke_events()).engine.state
    tables: list[tuple[Any, list[dict[str, Any]]]] = [
        (SiteRecord, list(state.sites.values())),
        (OrchestratorRecord, list(state.orchestrators.values())),
        (GroupRecord, list(state.groups.values())),
        (MemberRecord, list(state.members.values())),
        (LinkRecord, list(state.links.values())),
        (VirtualSystemRecord, list(state.virtual_systems.values())),
        (ObservedRecord, [r for by in state.observed.values() for r in by.values()]),
    ]
    for record_type, records in tables:
        assert records, f"the smoke set holds no {record_type.__name__}"
        for record in records:
            assert set(record) <= _keys(record_type), record_type.__name__
            assert set(record_type.__required_keys__) <= set(record), record_type.__name__


def test_typed_accessors_are_the_states_own_records() -> None:
    engine = run_scenario(dual_site(members_per_site=2) + group_load(cpu_pct=40)).engine
    state, ctx = engine.state, engine._ctx
    assert state.member("1_01") is state.members["1_01"]
    assert state.group(1) is state.groups[1]
    assert state.site(2) is state.sites[2]
    link_id = next(iter(state.links))
    assert state.link(link_id) is state.links[link_id]
    mho = next(iter(state.orchestrators))
    assert state.orchestrator(mho) is state.orchestrators[mho]
    assert ctx.members is state.members and ctx.groups is state.groups
    assert ctx.sites is state.sites and ctx.links is state.links
    assert ctx.orchestrators is state.orchestrators
    assert state.serving(1) == state.serving_members(1)
    assert [m["id"] for m in state.members_of(1)] == ["1_01", "1_02", "2_01", "2_02"]
    with pytest.raises(KeyError):
        state.member("9_99")


def test_every_member_record_key_is_documented() -> None:
    text = WRITING.read_text(encoding="utf-8").split("## 12. Records of the state", 1)[1]
    table = text.split("`MemberRecord` (`ctx.members[id]`", 1)[1].split("`GroupRecord`", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE))
    assert documented == _keys(MemberRecord)
    for record_type in (GroupRecord, SiteRecord, OrchestratorRecord, LinkRecord):
        name = record_type.__name__
        section = text.split(f"`{name}` (", 1)[1].split("\n\n", 1)[0]
        missing = {k for k in _keys(record_type) if f"`{k}`" not in section}
        assert not missing, f"{name}: {sorted(missing)} undocumented"


def test_the_documented_0_2_plugin_works(tmp_path: Path) -> None:
    path = tmp_path / "acme_typed.py"
    path.write_text(_typed_example(), encoding="utf-8")
    acme = load_plugin_file(path)
    events = single_site(members=2) + group_load(cpu_pct=70) + member_failure("1_02")
    result = run_scenario(events, plugins=[acme])
    result.assert_no_finding("acme.hot-member", at=-2)
    found = result.assert_finding("acme.hot-member", "member:1_01", severity="warning")
    assert found.finding.message == "CPU 100% > 90% on an unnamed model"
    assert result.value("acme.hot_members") == 1
    assert result.value("acme.cpu_headroom_pct", "member:1_01") == pytest.approx(-10.0)


@pytest.mark.slow
def test_the_documented_0_2_plugin_passes_mypy_strict_and_a_typo_fails(tmp_path: Path) -> None:
    good = _typed_example()
    assert 'member["cpu_pct"] > limit' in good
    (tmp_path / "acme_good.py").write_text(good, encoding="utf-8")
    typo = good.replace('member["cpu_pct"] > limit', 'member["cpu_pcnt"] > limit')
    (tmp_path / "acme_typo.py").write_text(typo, encoding="utf-8")
    done = mypy_strict(tmp_path, "acme_good.py", "acme_typo.py")
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert done.returncode == 1, done.stdout + done.stderr
    assert all(line.startswith("acme_typo.py:") for line in errors), done.stdout
    assert len(errors) == 1, done.stdout
    assert 'TypedDict "MemberRecord" has no key "cpu_pcnt"' in errors[0]


# -- helpers the built-ins share ------------------------------------------------------------------


def test_subject_parse_takes_a_subject_apart() -> None:
    from twin.api import SYSTEM, Subject

    member = Subject.parse("member:1_01")
    assert (member.kind, member.key) == ("member", "1_01")
    assert str(member) == "member:1_01"
    assert Subject.parse("group:12").number == 12
    assert Subject.parse("link:sync:a").key == "sync:a"  # only the first ':' separates
    system = Subject.parse(SYSTEM)
    assert (system.kind, system.key, str(system)) == ("system", "", "system")
    with pytest.raises(ValueError, match="1_01"):
        _ = member.number


def test_group_of_and_the_touched_helpers_answer_for_the_existing_subjects() -> None:
    from twin.api import Rule, RuleContext, group_of, hookimpl, rule

    seen: list[tuple[str, list[int], list[str], int | None]] = []

    @rule(id="probe.touched", summary="records what each event touched", events=None)
    def probe(ctx: RuleContext) -> None:
        seen.append(
            (ctx.type, ctx.touched_groups(), ctx.touched_members(), ctx.group_of("member:2_01"))
        )

    class Probe:
        @staticmethod
        @hookimpl
        def twin_register_rules() -> list[Rule]:
            return [probe]

    events = [
        *dual_site(members_per_site=2),
        *group_load(cpu_pct=40),
        ("member_removed", {"member": "1_02"}),
    ]
    result = run_scenario(events, plugins=[Probe()], builtins=False)
    state = result.engine.state
    assert group_of(state, "member:1_01") == 1
    assert group_of(state, "group:1") == 1
    assert group_of(state, "member:1_02") is None  # removed
    assert group_of(state, "group:9") is None
    assert group_of(state, "site:1") is None
    assert group_of(state, "system") is None
    load = next(s for s in seen if s[0] == "load_changed")
    assert load[1] == [1]
    assert load[2] == ["1_01", "1_02"]  # the serving (ACTIVE-site) members, in Maestro order
    assert load[3] == 1
    removed = seen[-1]
    assert removed[0] == "member_removed"
    assert "1_02" not in removed[2]
    assert removed[1] == [1]


# -- one validator: at load time and in check_plugin ----------------------------------------------

TYPO_PLUGIN = """
from twin.api import RuleContext, hookimpl, rule


@rule(id="acme.typo", summary="waits for an event type that does not exist",
      events=["load_chnged"], metrics={"acme.typo": "count"})
def typo(ctx: RuleContext) -> None:
    ctx.metric("system", "acme.typo", 1)


@rule(id="twin.mine", summary="takes the engine's family", events=["note"],
      metrics={"acme.mine": "count"})
def mine(ctx: RuleContext) -> None:
    ctx.metric("system", "acme.mine", 1)


@rule(id="acme.fine", summary="counts load events", events=["load_changed"],
      metrics={"acme.loads": "count"})
def fine(ctx: RuleContext) -> None:
    ctx.metric("system", "acme.loads", ctx.metrics.value("system", "acme.loads", 0.0) + 1)


@hookimpl
def twin_register_rules():
    return [typo, mine, fine]
"""


def _typo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "local"
    folder.mkdir()
    (folder / "acme.py").write_text(TYPO_PLUGIN, encoding="utf-8")
    return folder


def test_a_rule_with_an_unknown_event_type_or_the_reserved_family_is_refused_alone(
    tmp_path: Path,
) -> None:
    import json

    from tests.cli_helpers import run_twin

    folder = _typo_folder(tmp_path)
    listed = run_twin("--plugins-dir", folder, "plugins", "--json")
    assert listed.code == 0, listed
    acme = next(p for p in json.loads(listed.out) if p["name"] == "acme")
    assert acme["status"] == "loaded"
    assert acme["rules"] == ["acme.fine"]  # the good rule still runs
    assert acme["refused"] == [
        "acme.typo: unknown event type 'load_chnged'; did you mean 'load_changed'?",
        "twin.mine: the family 'twin' is reserved for the engine's own findings",
    ]
    table = run_twin("--plugins-dir", folder, "plugins")
    assert "refused rule acme.typo: unknown event type 'load_chnged'" in " ".join(table.out.split())
    rules = run_twin("--plugins-dir", folder, "rules", "--json")
    ids = {r["id"] for r in json.loads(rules.out)}
    assert "acme.fine" in ids and "acme.typo" not in ids and "twin.mine" not in ids


def test_strict_mode_refuses_to_go_on_with_a_refused_rule(tmp_path: Path) -> None:
    from twin.engine import PluginError
    from twin.plugin_manager import TwinPluginManager

    manager = TwinPluginManager(
        autoload=False, plugins_dir=_typo_folder(tmp_path), strict=True, builtins=True
    )
    with pytest.raises(PluginError, match=r"rule acme\.typo refused: unknown event type"):
        manager.rules()


def test_check_plugin_says_what_loading_says(tmp_path: Path) -> None:
    from twin.plugin_manager import TwinPluginManager
    from twin.testing import check_plugin

    folder = _typo_folder(tmp_path)
    manager = TwinPluginManager(autoload=False, plugins_dir=folder, strict=False)
    manager.rules()
    refused = manager.infos["acme"].refused
    problems = check_plugin(load_plugin_file(folder / "acme.py"), name="acme")
    for line in refused:
        rule_id, why = line.split(": ", 1)
        assert f"rule {rule_id!r}: {why}" in problems, problems


def test_builtins_pass_the_validator() -> None:
    from twin.plugin_manager import TwinPluginManager

    manager = TwinPluginManager(autoload=False, strict=True)
    assert manager.rules()
    assert all(not info.refused for info in manager.plugin_infos())


# -- run_scenario: name= and builtins=False ---------------------------------------------------


def _reads_sync_plugin(tmp_path: Path) -> Any:
    path = tmp_path / "needs_sync.py"
    path.write_text(
        """
from twin.api import Rule, RuleContext, hookimpl, rule


@rule(id="needs.sync", summary="reads a built-in parameter", events=["member_failed"],
      parameters=["sync.network_gbps"], raises={"needs.down": "warning"},
      metrics={"needs.gbps": "Gbps"}, incremental=True)
def needs_sync(ctx: RuleContext) -> None:
    ctx.metric("system", "needs.gbps", ctx.param("sync.network_gbps"))
    for member_id in ctx.touched_members():
        ctx.finding("needs.down", f"member:{member_id}", "member {m} failed", m=member_id)


@hookimpl
def twin_register_rules() -> list[Rule]:
    return [needs_sync]
""",
        encoding="utf-8",
    )
    return load_plugin_file(path)


def test_run_scenario_name_is_the_plugin_name_findings_carry(tmp_path: Path) -> None:
    plugin = _reads_sync_plugin(tmp_path)
    events = single_site(members=2) + member_failure("1_02")
    named = run_scenario(events, plugins=[plugin], name="acme")
    assert named.assert_finding("needs.down", "member:1_02").plugin == "acme"
    with pytest.raises(ValueError, match="names one plugin"):
        run_scenario(events, plugins=[plugin, plugin], name="acme")


def test_builtins_false_still_declares_the_builtin_parameters_a_rule_reads(tmp_path: Path) -> None:
    from twin.plugin_manager import TwinPluginManager

    plugin = _reads_sync_plugin(tmp_path)
    seed = TwinPluginManager(autoload=False, strict=True).profile().values["sync.network_gbps"]
    alone = run_scenario(
        single_site(members=2) + member_failure("1_02"), plugins=[plugin], builtins=False
    )
    assert alone.value("needs.gbps") == seed
    assert {f.finding.rule for f in alone.findings()} == {"needs.down"}  # no built-in rule ran
    assert "capacity.high_utilization" not in alone.engine.profile.values  # only what it reads
    overridden = run_scenario(
        single_site(members=2) + member_failure("1_02"),
        plugins=[plugin],
        builtins=False,
        parameters={"sync.network_gbps": 25},
    )
    assert overridden.value("needs.gbps") == 25


# -- severity that escalates without resetting `since` ---------------------------------------

ESCALATING = """
from collections.abc import Iterator

from twin.api import (
    DISTRIBUTION_EVENTS, Finding, Rule, RuleContext, Severity, hookimpl, rule,
)


@rule(id="acme.hot", summary="warning above 80% CPU, error above 95%",
      events=DISTRIBUTION_EVENTS, raises={"acme.hot": "warning"}, incremental=True)
def hot(ctx: RuleContext) -> None:
    for member_id in ctx.touched_members():
        cpu = ctx.members[member_id]["cpu_pct"]
        if cpu > 80:
            severity = Severity.ERROR if cpu > 95 else None  # None: the declared warning
            ctx.finding("acme.hot", f"member:{member_id}", "CPU {cpu:.0f}%", severity, cpu=cpu)


@rule(id="acme.hot-old", summary="the same, written for plugin API 0.1",
      events=DISTRIBUTION_EVENTS, raises={"acme.hot-old": "warning"}, incremental=True)
def hot_old(ctx: RuleContext) -> Iterator[Finding]:
    for member_id in ctx.changes.touched_members():
        cpu = ctx.state.members[member_id]["cpu_pct"]
        if cpu > 80:
            severity = Severity.ERROR if cpu > 95 else Severity.WARNING
            yield Finding("acme.hot-old", severity, f"member:{member_id}", f"CPU {cpu:.0f}%")


@hookimpl
def twin_register_rules() -> list[Rule]:
    return [hot, hot_old]
"""


def test_a_finding_escalates_and_calms_down_keeping_its_since(tmp_path: Path) -> None:
    from twin.testing import isolated_manager, make_envelopes

    path = tmp_path / "escalating.py"
    path.write_text(ESCALATING, encoding="utf-8")
    plugin = load_plugin_file(path)
    manager = isolated_manager(builtins=False, strict=True)
    manager.register(plugin, name="acme")
    engine = manager.build_engine()
    events = [
        *single_site(members=1),
        *group_load(cpu_pct=85),  # warning raised
        *group_load(cpu_pct=99),  # escalates to error
        *group_load(cpu_pct=90),  # back to warning
        *group_load(cpu_pct=10),  # clears
    ]
    frames = list(engine.run(make_envelopes(events, manager.event_registry())))
    raised_at = len(events) - 3
    warned, escalated, calmed, cleared = frames[-4:]
    for rule_id in ("acme.hot", "acme.hot-old"):

        def mine(found: Any, rule_id: str = rule_id) -> list[Any]:
            return [a for a in found if a.finding.rule == rule_id]

        assert [a.since for a in mine(warned.raised)] == [raised_at]
        assert [a.finding.severity.value for a in mine(warned.findings)] == ["warning"]
        # the escalation is neither a raise nor a clear: the same finding, a new severity
        assert mine(escalated.raised) == [] and mine(escalated.cleared) == []
        assert [(a.finding.severity.value, a.since) for a in mine(escalated.findings)] == [
            ("error", raised_at)
        ]
        assert [(a.finding.severity.value, a.since) for a in mine(calmed.findings)] == [
            ("warning", raised_at)
        ]
        assert [a.since for a in mine(cleared.cleared)] == [raised_at]
    assert escalated.to_json()["findings"][0]["severity"] == "error"
    assert escalated.findings[0].finding.severity.value == "error", "errors sort first"


def test_check_plugin_accepts_an_escalation_through_ctx_finding(tmp_path: Path) -> None:
    from twin.testing import check_plugin

    path = tmp_path / "escalating.py"
    path.write_text(ESCALATING, encoding="utf-8")
    problems = check_plugin(load_plugin_file(path), name="acme")
    # ctx.finding(..., severity) is the documented way to escalate; a 0.1 Finding object
    # with another severity than declared is still named, with the way to do it.
    assert not any("'acme.hot'" in p for p in problems), problems
    assert any(
        "'acme.hot-old' as error" in p and "pass severity= to ctx.finding" in p for p in problems
    ), problems


# -- commands get a context ---------------------------------------------------------------------

COMMAND_PLUGIN = '''
import click

from twin.api import CommandContext, Finding, Metric, Rule, RuleContext, hookimpl, rule


@rule(id="local.members", summary="counts members", events=["member_added", "member_removed"],
      metrics={"local.members": "members"})
def members(ctx: RuleContext) -> None:
    ctx.metric("system", "local.members", len(ctx.members))


@hookimpl
def twin_register_rules() -> list[Rule]:
    return [members]


@hookimpl
def twin_register_commands(cli: click.Group, context: CommandContext) -> None:
    @cli.command(name="local-summary")
    @click.argument("source")
    @click.option("--at", type=int)
    def summary(source: str, at: int | None) -> None:
        """Members, and this plugin's own metric, at one point of SOURCE."""
        point = context.at(source, at)
        counted = point.metric("system", "local.members")
        ups = sum(1 for m in point.state.members.values() if m["state"] == "UP")
        click.echo(f"#{point.seq}: {ups} UP, local.members={counted.value if counted else None}")
        loads = sum(1 for f in context.replay(source) if f.envelope.type == "load_changed")
        rules = sorted({f.finding.rule for f in point.findings})
        click.echo(f"{loads} load events; findings: {', '.join(rules)}")
'''

OLD_COMMAND_PLUGIN = """
import click

from twin.api import hookimpl


@hookimpl
def twin_register_commands(cli):
    @cli.command(name="old-hello")
    def hello():
        click.echo("hello from 0.1")
"""


def test_hook_twin_register_commands_context_replays_with_the_plugins_in_effect(
    tmp_path: Path,
) -> None:
    import json

    from tests.cli_helpers import run_twin

    folder = tmp_path / "local"
    folder.mkdir()
    (folder / "local.py").write_text(COMMAND_PLUGIN, encoding="utf-8")
    (folder / "old.py").write_text(OLD_COMMAND_PLUGIN, encoding="utf-8")
    events = tmp_path / "incident.jsonl"
    rows = [
        {"type": "site_added", "site": 1},
        {"type": "group_created", "group": 1},
        {"type": "member_added", "member": "1_01", "group": 1, "site": 1},
        {"type": "member_added", "member": "1_02", "group": 1, "site": 1},
        {"type": "load_changed", "group": 1, "cpu_pct": 50},
        {"type": "member_failed", "member": "1_02"},
    ]
    events.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    # The rule comes from --plugins-dir: the command's replay sees it (and the built-ins).
    done = run_twin("--plugins-dir", folder, "local-summary", events)
    assert done.code == 0, done
    lines = done.out.splitlines()
    assert lines[0] == "#6: 1 UP, local.members=2"
    assert lines[1].startswith("1 load events; findings: ")
    assert "members.down" in lines[1]  # a built-in's finding: the same rules as `twin run`
    at_four = run_twin("--plugins-dir", folder, "local-summary", events, "--at", "4")
    assert at_four.out.splitlines()[0] == "#4: 2 UP, local.members=2"
    bad = run_twin("--plugins-dir", folder, "local-summary", events, "--at", "9")
    assert bad.code == 2 and "no event 9" in bad.err
    # A 0.1 implementation taking only `cli` still registers its command.
    old = run_twin("--plugins-dir", folder, "old-hello")
    assert (old.code, old.out) == (0, "hello from 0.1\n")


def test_check_plugin_passes_a_command_plugin_with_a_context(tmp_path: Path) -> None:
    from twin.testing import check_plugin

    path = tmp_path / "local.py"
    path.write_text(COMMAND_PLUGIN, encoding="utf-8")
    assert check_plugin(load_plugin_file(path), name="local") == []


# -- plugin-owned state ---------------------------------------------------------------------------

TICKETS = '''
from typing import Any, ClassVar

import attrs

from twin.api import Event, Rule, RuleContext, hookimpl, rule


@attrs.frozen(kw_only=True)
class TicketOpened(Event):
    """A change ticket opens."""

    event_type: ClassVar[str] = "ticket_opened"
    state_namespace: ClassVar[str] = "tickets"
    ticket: str

    def apply_state(self, owned: dict[str, Any]) -> None:
        tickets = owned.setdefault("open", [])
        if self.ticket in tickets:
            raise ValueError(f"ticket {self.ticket} is already open")
        tickets.append(self.ticket)


@attrs.frozen(kw_only=True)
class TicketClosed(Event):
    """A change ticket closes."""

    event_type: ClassVar[str] = "ticket_closed"
    state_namespace: ClassVar[str] = "tickets"
    ticket: str

    def apply_state(self, owned: dict[str, Any]) -> None:
        if self.ticket not in owned.get("open", []):
            raise ValueError(f"ticket {self.ticket} is not open")
        owned["open"].remove(self.ticket)


@attrs.frozen(kw_only=True)
class TicketTupled(Event):
    """Stores a tuple: not plain data."""

    event_type: ClassVar[str] = "ticket_tupled"
    state_namespace: ClassVar[str] = "tickets"

    def apply_state(self, owned: dict[str, Any]) -> None:
        owned["bad"] = (1, 2)


@rule(id="tickets.open", summary="open change tickets",
      events=["ticket_opened", "ticket_closed"], metrics={"tickets.open": "tickets"})
def open_tickets(ctx: RuleContext) -> None:
    ctx.metric("system", "tickets.open", len(ctx.state.owned("tickets").get("open", [])))


@hookimpl
def twin_register_event_types() -> list[type[Event]]:
    return [TicketOpened, TicketClosed, TicketTupled]


@hookimpl
def twin_register_rules() -> list[Rule]:
    return [open_tickets]
'''


def _tickets(tmp_path: Path) -> Any:
    path = tmp_path / "tickets.py"
    path.write_text(TICKETS, encoding="utf-8")
    return load_plugin_file(path)


TICKET_EVENTS: list[Any] = [
    *single_site(members=2),
    ("ticket_opened", {"ticket": "CHG-1"}),
    ("ticket_opened", {"ticket": "CHG-2"}),
    *group_load(cpu_pct=40),
    ("ticket_closed", {"ticket": "CHG-1"}),
]


def test_a_plugin_event_folds_the_state_its_plugin_owns(tmp_path: Path) -> None:
    plugin = _tickets(tmp_path)
    result = run_scenario(TICKET_EVENTS, plugins=[plugin], name="tickets", builtins=False)
    opened = len(single_site(members=2))
    assert [result.value("tickets.open", at=i) for i in (opened, opened + 1, -1)] == [1, 2, 1]
    state = result.engine.state
    assert state.plugin_state == {"tickets": {"open": ["CHG-2"]}}
    assert dict(state.owned("tickets")) == {"open": ["CHG-2"]}
    assert state.owned("nobody") == {}
    assert state.to_canonical()["plugin_state"] == {"tickets": {"open": ["CHG-2"]}}
    plain = run_scenario(single_site(members=2), builtins=False).engine.state
    assert "plugin_state" not in plain.to_canonical()  # digests of states without it unchanged


def test_plugin_state_is_in_the_digest_and_survives_a_snapshot(tmp_path: Path) -> None:
    from twin.testing import isolated_manager, make_envelopes

    manager = isolated_manager(builtins=False, strict=True)
    manager.register(_tickets(tmp_path), name="tickets")
    envelopes = make_envelopes(TICKET_EVENTS, manager.event_registry())
    whole = manager.build_engine()
    list(whole.run(envelopes))
    cut = len(single_site(members=2)) + 2
    first = manager.build_engine()
    list(first.run(envelopes[:cut]))
    restored = manager.build_engine()
    restored.restore(first.snapshot())
    assert restored.state.plugin_state == first.state.plugin_state
    frames = list(restored.run(envelopes[cut:]))
    assert restored.state_digest() == whole.state_digest()
    assert frames[-1].metrics.value("system", "tickets.open") == 1
    without = manager.build_engine()
    list(without.run(envelopes[:-1]))
    assert without.state_digest() != whole.state_digest()  # the close changed the digest


def test_a_refused_plugin_event_leaves_the_state_as_it_was(tmp_path: Path) -> None:
    from twin.errors import InvalidEventError
    from twin.testing import isolated_manager, make_envelopes

    manager = isolated_manager(builtins=False, strict=True)
    manager.register(_tickets(tmp_path), name="tickets")
    registry = manager.event_registry()
    engine = manager.build_engine()
    envelopes = make_envelopes(
        [*TICKET_EVENTS, ("ticket_closed", {"ticket": "CHG-9"}), ("ticket_tupled", {})], registry
    )
    list(engine.run(envelopes[:-2]))
    before = engine.state_digest()
    with pytest.raises(InvalidEventError, match="ticket CHG-9 is not open"):
        engine.step(envelopes[-2])
    with pytest.raises(TypeError, match="tickets's state is not plain JSON data"):
        engine.step(envelopes[-1])
    assert engine.state_digest() == before


def test_twin_state_json_shows_the_plugins_part_of_the_state(tmp_path: Path) -> None:
    import json

    from tests.cli_helpers import run_twin

    folder = tmp_path / "local"
    folder.mkdir()
    (folder / "tickets.py").write_text(TICKETS, encoding="utf-8")
    rows = [
        {"type": "site_added", "site": 1},
        {"type": "ticket_opened", "ticket": "CHG-7"},
        {"type": "ticket_opened", "ticket": "CHG-8"},
        {"type": "ticket_closed", "ticket": "CHG-7"},
    ]
    events = tmp_path / "tickets.jsonl"
    events.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    shown = run_twin("--plugins-dir", folder, "state", events, "--format", "json")
    assert shown.code == 0, shown
    assert json.loads(shown.out)["plugin_state"] == {"tickets": {"open": ["CHG-8"]}}
    at_one = run_twin("--plugins-dir", folder, "state", events, "--at", "1", "--format", "json")
    assert "plugin_state" not in json.loads(at_one.out)
    refused = [*rows, {"type": "ticket_closed", "ticket": "CHG-7"}]
    events.write_text("".join(json.dumps(r) + "\n" for r in refused), encoding="utf-8")
    bad = run_twin("--plugins-dir", folder, "state", events)
    assert bad.code == 2 and "ticket CHG-7 is not open" in bad.err, bad


def test_sum_over_groups_counts_fresh_groups_and_the_stored_value_of_the_others() -> None:
    from twin.api import Rule, RuleContext, hookimpl, rule

    @rule(
        id="probe.per-group",
        summary="a per-group metric and its system sum",
        events=None,
        metrics={"probe.members": "members", "probe.band": "members"},
        incremental=True,
    )
    def per_group(ctx: RuleContext) -> None:
        fresh = {g: float(len(ctx.groups[g]["members"])) for g in ctx.touched_groups()}
        bands = {g: (v - 1, v, v + 1) for g, v in fresh.items()}
        for g, v in fresh.items():
            ctx.metric(f"group:{g}", "probe.members", v)
            ctx.metric(f"group:{g}", "probe.band", v, v - 1, v + 1)
        ctx.metric("system", "probe.members", ctx.sum_over_groups("probe.members", fresh))
        mid_low_high = ctx.band_sum_over_groups("probe.band", bands)
        ctx.metric("system", "probe.band", mid_low_high[1], mid_low_high[0], mid_low_high[2])

    class Probe:
        @staticmethod
        @hookimpl
        def twin_register_rules() -> list[Rule]:
            return [per_group]

    events = [
        ("site_added", {"site": 1}),
        ("group_created", {"group": 1}),
        ("group_created", {"group": 2}),
        ("member_added", {"member": "1_01", "group": 1, "site": 1}),
        ("member_added", {"member": "1_02", "group": 1, "site": 1}),
        ("member_added", {"member": "1_03", "group": 2, "site": 1}),  # touches group 2 only
    ]
    result = run_scenario(events, plugins=[Probe()], builtins=False)
    assert result.value("probe.members") == 3.0
    band = result.metric("probe.band")
    assert (band.low, band.value, band.high) == (1.0, 3.0, 5.0)
