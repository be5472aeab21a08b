"""Pane 2: the deployment as a tree (sites → orchestrators, group → members → links)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui.topology_view import Node
from twin.textsafe import safe_text

STYLE = {"✖": "bold red", "◐": "yellow", "○": "dim", "●": "green", "⇄": "green"}


def _label(node: Node) -> Text:
    text = Text(safe_text(node.label))
    glyph = node.label[:1]
    if glyph in STYLE:
        text.stylize(STYLE[glyph], 0, 1)
    if node.changed:
        text.stylize("bold underline")
    return text


class TopologyTree(Tree[None]):
    """A deterministic tree; nodes the current event touched are highlighted."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("deployment", id=id, classes=classes)
        self.show_root = False
        self.guide_depth = 2

    def show(self, nodes: tuple[Node, ...]) -> None:
        """Replace the tree with ``nodes`` (all expanded)."""
        line = self.cursor_line
        self.clear()
        for node in nodes:
            self._add(self.root, node)
        self.root.expand_all()
        if line > 0:
            self.call_after_refresh(self._restore, line)

    def _restore(self, line: int) -> None:
        self.cursor_line = min(line, max(0, self.last_line))

    def _add(self, parent: TreeNode[None], node: Node) -> None:
        if node.children:
            branch = parent.add(_label(node), expand=True)
            for child in node.children:
                self._add(branch, child)
        else:
            parent.add_leaf(_label(node))
