"""The import-linter layers contract places every module, so a new one cannot slip past it."""

from __future__ import annotations

import re
import tomllib

from tests.cli_helpers import ROOT


def _layers() -> list[set[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layered,) = [c for c in contracts if c["type"] == "layers"]
    return [{m for m in re.split(r"[:|\s]+", layer) if m} for layer in layered["layers"]]


def test_every_module_of_twin_sits_in_a_layer() -> None:
    placed = set().union(*_layers())
    ours = {
        f"twin.{path.stem if path.is_file() else path.name}"
        for path in (ROOT / "twin").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    assert ours - placed == set(), "add these to the layers contract in pyproject.toml"
    assert placed - ours - {"tui", "journal", "plugins"} == set(), "layers name missing modules"


def test_the_layers_are_the_ones_of_the_architecture() -> None:
    layers = _layers()
    top, application, engine, stores, domain = layers
    assert "twin.cli" in top
    assert "tui" in application and "twin.plan" in application
    assert {"twin.engine", "twin.plugin_manager", "twin.hookspecs"} <= engine
    assert stores == {"journal", "plugins"}
    assert {"twin.api", "twin.events", "twin.state", "twin.reducer", "twin.rules"} <= domain
