"""The plugin-author kit: run scenarios, build topologies, check a plugin.

Install ``maestro-twin[testing]`` and import from here in your plugin's tests:

- :func:`run_scenario` replays events through a fresh engine and returns a
  :class:`ScenarioResult` to question (metrics, findings, assertions);
- builders (:func:`single_site`, :func:`dual_site`, :func:`group_load`...) make
  the events of a typical deployment;
- :func:`check_plugin` / :func:`assert_plugin_ok` check a plugin against the
  plugin contract;
- :func:`isolated_manager` and :func:`registered` give tests a plugin manager
  that ignores what is installed on the machine;
- :mod:`twin.testing.strategies` holds hypothesis strategies (it imports
  hypothesis, so it is not imported here);
- :mod:`twin.testing.pytest_plugin` holds opt-in pytest fixtures.
"""

from __future__ import annotations

from twin.testing.builders import (
    EventTuple,
    dual_site,
    event_types,
    group_load,
    member_failure,
    member_id,
    member_load,
    member_recovery,
    orchestrator_id,
    rolling_upgrade,
    single_site,
    smoke_events,
)
from twin.testing.isolation import isolated_manager, load_plugin_file, registered
from twin.testing.plugin_check import assert_plugin_ok, check_plugin
from twin.testing.scenario import (
    ScenarioResult,
    Step,
    make_envelopes,
    override_parameters,
    run_scenario,
)

__all__ = [
    "EventTuple",
    "ScenarioResult",
    "Step",
    "assert_plugin_ok",
    "check_plugin",
    "dual_site",
    "event_types",
    "group_load",
    "isolated_manager",
    "load_plugin_file",
    "make_envelopes",
    "member_failure",
    "member_id",
    "member_load",
    "member_recovery",
    "orchestrator_id",
    "override_parameters",
    "registered",
    "rolling_upgrade",
    "run_scenario",
    "single_site",
    "smoke_events",
]
