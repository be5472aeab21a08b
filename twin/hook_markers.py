"""The pluggy markers of the ``maestro_twin`` project, for plugin authors and the hookspecs.

A plugin marks its hook implementations with :data:`hookimpl` (re-exported by
:mod:`twin.api`). The markers live here, in the domain layer, so that the
plugin-author surface never imports the engine layer, where the hook
specifications (:mod:`twin.hookspecs`) and the plugin manager sit.
"""

from __future__ import annotations

import pluggy

PROJECT = "maestro_twin"
"""The pluggy project name."""

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
