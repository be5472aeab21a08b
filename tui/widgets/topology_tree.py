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
        """Show ``nodes`` (all expanded): labels in place when the shape is the same."""
        if nodes == self._shown_nodes:
            return
        if self._shown_nodes is not None and _shape(nodes) == _shape(self._shown_nodes):
            self._relabel(self.root.children, nodes)
            self._shown_nodes = nodes
            return
        self._shown_nodes = nodes
        line = self.cursor_line
        self.clear()
        for node in nodes:
            self._add(self.root, node)
        self.root.expand_all()
        if line > 0:
            self.call_after_refresh(self._restore, line)

    _shown_nodes: tuple[Node, ...] | None = None

    def _relabel(self, tree_nodes: object, nodes: tuple[Node, ...]) -> None:
        for tree_node, node in zip(tree_nodes, nodes, strict=True):  # type: ignore[call-overload]
            label = _label(node)
            if tree_node.label != label:
                tree_node.set_label(label)
            if node.children:
                self._relabel(tree_node.children, node.children)

    def _restore(self, line: int) -> None:
        self.cursor_line = min(line, max(0, self.last_line))

    def _add(self, parent: TreeNode[None], node: Node) -> None:
        if node.children:
            branch = parent.add(_label(node), expand=True)
            for child in node.children:
                self._add(branch, child)
        else:
            parent.add_leaf(_label(node))


def _shape(nodes: tuple[Node, ...]) -> tuple[object, ...]:
    """The tree's structure without its labels."""
    return tuple(_shape(n.children) for n in nodes)
