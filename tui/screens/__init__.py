"""The TUI's screens: the timeline, help and the command line."""
