"""Plugin managers for tests: isolated from whatever is installed, with temporary plugins.

A test that builds a plain ``TwinPluginManager()`` sees every plugin installed
on the machine, so its outcome depends on the machine. The helpers here keep
entry-point discovery of third-party plugins off and strict mode on, so a
broken plugin fails the test loudly instead of being reported and skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from twin.plugin_manager import PluginInfo, TwinPluginManager, import_plugin_file


def isolated_manager(
    *,
    builtins: bool = True,
    strict: bool = True,
    plugins: Iterable[object] = (),
    plugins_dir: str | Path | None = None,
) -> TwinPluginManager:
    """A fresh plugin manager that ignores installed third-party plugins.

    Args:
        builtins: include the built-in rule families of maestro-twin.
        strict: raise :class:`~twin.engine.PluginError` on any plugin failure
            (a failing import, an invalid registration, a rule that raises).
        plugins: plugin modules or objects to register straight away.
        plugins_dir: a folder of local ``*.py`` plugin modules to load too.

    Returns:
        The manager (autoload off, allow-list empty, nothing blocked).
    """
    manager = TwinPluginManager(
        autoload=False,
        allow=(),
        block=(),
        plugins_dir=plugins_dir,
        strict=strict,
        builtins=builtins,
    )
    for plugin in plugins:
        manager.register(plugin)
    return manager


def _forget(manager: TwinPluginManager, name: str) -> None:
    """Unregister ``name`` and drop what the manager collected from it."""
    manager.unregister(name)


@contextmanager
def registered(
    manager: TwinPluginManager, plugin: object, name: str | None = None
) -> Iterator[PluginInfo]:
    """Register ``plugin`` for the duration of a ``with`` block, then unregister it.

    Example::

        with registered(twin_pm, MyPlugin(), name="mine") as info:
            assert "mine.rule" in [r.id for r in twin_pm.rules()]
        assert "mine.rule" not in [r.id for r in twin_pm.rules()]

    Args:
        manager: the plugin manager.
        plugin: a module or any object with ``@hookimpl`` functions.
        name: the plugin's name (default: the module name or the object's repr).

    Yields:
        What the manager records about the plugin (status, hooks, rules).
    """
    info = manager.register(plugin, name=name)
    try:
        yield info
    finally:
        _forget(manager, info.name)


def load_plugin_file(path: str | Path, module_name: str | None = None) -> ModuleType:
    """Import a plugin module from a file, e.g. a local ``--plugins-dir`` rule file.

    Args:
        path: the ``.py`` file.
        module_name: the name to import it under (default:
            ``twin_testing_plugins.<file stem>``).

    Returns:
        The imported module, ready for ``check_plugin`` or ``run_scenario(plugins=[...])``.

    Raises:
        ImportError: the file cannot be imported (its own exception is chained).
    """
    path = Path(path)
    name = module_name or f"twin_testing_plugins.{path.stem}"
    return import_plugin_file(name, path)
