"""Opt-in pytest fixtures for plugin authors.

Enable them in your ``conftest.py`` (or a test module)::

    pytest_plugins = ["twin.testing.pytest_plugin"]

It is opt-in on purpose: installing maestro-twin never adds fixtures to
unrelated test suites on the same machine.

Fixtures:

- ``twin_pm``: a fresh, isolated :class:`~twin.plugin_manager.TwinPluginManager`
  for each test: third-party autoload off, strict mode on, built-ins on.
- ``twin_registered``: ``twin_registered(plugin, name=None)`` is a context
  manager that registers ``plugin`` into ``twin_pm`` and unregisters it on exit.
- ``twin_scenario``: :func:`twin.testing.run_scenario`, for tests that prefer
  fixtures to imports.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from twin.plugin_manager import PluginInfo, TwinPluginManager
from twin.testing.isolation import isolated_manager, registered
from twin.testing.scenario import ScenarioResult, run_scenario

Registrar = Callable[..., AbstractContextManager[PluginInfo]]


@pytest.fixture
def twin_pm(monkeypatch: pytest.MonkeyPatch) -> TwinPluginManager:
    """A fresh plugin manager that ignores installed third-party plugins (strict, built-ins on).

    The ``TWIN_*`` plugin controls of the environment are cleared for the
    test, so a developer's shell settings cannot change its outcome.
    """
    for variable in ("TWIN_PLUGINS", "TWIN_DISABLE_PLUGIN_AUTOLOAD", "TWIN_STRICT_PLUGINS"):
        monkeypatch.delenv(variable, raising=False)
    return isolated_manager(builtins=True, strict=True)


@pytest.fixture
def twin_registered(twin_pm: TwinPluginManager) -> Registrar:
    """``with twin_registered(plugin, name=None) as info:`` registers into ``twin_pm``."""

    def register(plugin: object, name: str | None = None) -> AbstractContextManager[PluginInfo]:
        return registered(twin_pm, plugin, name)

    return register


@pytest.fixture
def twin_scenario() -> Callable[..., ScenarioResult]:
    """:func:`twin.testing.run_scenario` (same arguments, same result)."""
    return run_scenario
