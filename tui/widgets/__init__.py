"""The Timeline screen's panes: one widget per module."""
