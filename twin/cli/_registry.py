"""The built-in commands: where each is defined and the line `twin --help` shows for it.

A command's module is imported only when that command runs (or its own help is
asked for), so ``twin --help`` and ``twin <one command>`` do not load what the
others need (the journal, networkx, Rich tables, matplotlib...). The listing of
``twin --help`` takes each line from here; ``tests/test_cli_registry.py``
checks that it is the command's own first docstring line and that every
``COMMANDS`` entry of a module is listed.

Adding a command: define it in its module's ``COMMANDS`` list and add a line
here, where a newcomer would look for it (this order is the order of
``twin --help``).
"""

from __future__ import annotations

BUILTIN_COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "twin.cli.demo",
        "Replay the bundled example incident (no arguments, no set-up).",
    ),
    "tui": (
        "twin.cli.tui_cmd",
        "Open the full-screen terminal UI on a journal, an event file or a change plan.",
    ),
    "init": ("twin.cli.journal_cmds", "Create a new journal (an SQLite file; .db recommended)."),
    "import": (
        "twin.cli.journal_cmds",
        "Append an event file or gateway output to a journal, all or nothing.",
    ),
    "append": ("twin.cli.journal_cmds", "Append one event: an operator records a change."),
    "log": ("twin.cli.journal_cmds", "List the events of a journal or event file."),
    "run": (
        "twin.cli.replay_cmds",
        "Replay events and print metrics and findings after each one.",
    ),
    "state": (
        "twin.cli.replay_cmds",
        "The twin at one point: topology, metrics and active findings.",
    ),
    "diff": (
        "twin.cli.replay_cmds",
        "What changed between event A and event B: topology, metrics, findings, events.",
    ),
    "bisect": (
        "twin.cli.bisect_cmd",
        "The first event at which a condition holds, found by bisection.",
    ),
    "report": (
        "twin.cli.report_cmd",
        "Write a postmortem report of SOURCE: what went wrong, when, and why.",
    ),
    "whatif": ("twin.cli.whatif_cmd", "What if we had acted differently right after event N?"),
    "branch": (
        "twin.cli.journal_cmds",
        "Fork a what-if branch at event N, or list branches (no NAME).",
    ),
    "plan": (
        "twin.cli.plan_cmds",
        "Change plans: rehearse a maintenance window step by step, and gate it in CI.",
    ),
    "verify": (
        "twin.cli.journal_cmds",
        "Check the hash chains; name the first bad seq of each broken line (exit 1).",
    ),
    "export": (
        "twin.cli.journal_cmds",
        "Write a checkpointed single-file copy of a journal (to copy, mail or archive).",
    ),
    "snapshots": (
        "twin.cli.journal_cmds",
        "List (or drop) the cached snapshots kept inside a journal file.",
    ),
    "plugins": (
        "twin.cli.plugin_cmds",
        "List plugins: loaded, blocked (and by what) or failed (and why).",
    ),
    "rules": (
        "twin.cli.plugin_cmds",
        "List every rule: what it computes, what it raises, the events it reads.",
    ),
    "profile": (
        "twin.cli.plugin_cmds",
        "List every parameter with its value, band, unit, provenance and source.",
    ),
}
"""Command name → (module defining it in its ``COMMANDS`` list, its first help line)."""
