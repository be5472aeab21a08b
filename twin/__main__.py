"""``python -m twin``: the same as the ``twin`` command."""

from __future__ import annotations

from twin.cli import main

if __name__ == "__main__":
    main()
