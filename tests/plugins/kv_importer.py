"""Sample plugin with an importer for ``.kv`` files: ``type=... key=value`` per line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from twin.api import Record, hookimpl


class KeyValueImporter:
    """Reads ``.kv``: one event per line as space-separated ``key=value`` pairs."""

    name = "kv"
    suffixes = (".kv",)

    def read(self, path: Path) -> Iterator[Record]:
        """Yield one text record per non-blank, non-comment line."""
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                pairs = [part.partition("=") for part in line.split()]
                yield Record(number, {key: value for key, _sep, value in pairs}, text=True)


@hookimpl
def twin_register_importers() -> list[object]:
    return [KeyValueImporter()]
