"""``draw_dot``: a picture of the computation graph behind a ``Value`` or ``Tensor``.

Every node shows its name, its data and its gradient (a tensor: shape, dtype and a summary,
or its values when small); every operation is an oval between its inputs and its result, so
edges go input → op → result, as in micrograd's ``draw_dot``.

User text (labels, names, op names) never reaches the DOT unescaped: each node's label is an
HTML-like table built here, with the text HTML-escaped, so any string is shown as itself and
cannot add nodes, attributes, ports or links. Node ids are generated (``v0``, ``v0_op``, ...)
in graph order, so the same graph always gives the same DOT.
"""
from __future__ import annotations

import html
import re
from collections import deque

import graphviz
import numpy as np

from autograd_core import Node

from .render import format_of, run_graphviz

FONT = "Courier"  # monospace: every viewer's Courier-like font has the same advance width,
#                   so text measured by Graphviz fits its box whatever font the viewer uses

COLORS = {"parameter": "#dbeafe", "constant": "#f1f5f9", "output": "#dcfce7",
          "value": "#ffffff", "op": "#fef3c7", "summary": "#fee2e2"}


# ----- the drawing object -----

class GraphDrawing:
    """A drawing: ``.source`` (DOT text), ``.pipe(format)``, ``.render(path)``; inline in Jupyter."""

    def __init__(self, digraph: graphviz.Digraph, n_nodes: int, n_drawn: int):
        self.digraph = digraph
        self.n_nodes, self.n_drawn = n_nodes, n_drawn
        self._svg = None

    @property
    def source(self) -> str:
        return self.digraph.source

    def pipe(self, format: str = "svg") -> bytes:
        """The drawing in ``format`` ('svg', 'png', ...) as bytes."""
        if format == "svg":
            if self._svg is None:
                self._svg = run_graphviz(self.source, "svg")
            return self._svg
        return run_graphviz(self.source, format)

    def render(self, path, format: str | None = None) -> str:
        """Write the drawing to ``path``; the format is ``format``, else the path's suffix
        (``.jpg`` is jpeg; no suffix is svg; an unknown one is a ValueError)."""
        path = str(path)
        data = self.pipe(format or format_of(path))
        with open(path, "wb") as file:
            file.write(data)
        return path

    def _repr_mimebundle_(self, include=None, exclude=None):
        try:
            svg = self.pipe("svg").decode("utf-8")
        except RuntimeError as error:  # no Graphviz: say so instead of failing the cell
            return {"text/plain": f"{self!r}\n{error}"}
        return {"image/svg+xml": svg, "text/plain": repr(self)}

    def _repr_svg_(self):
        return self._repr_mimebundle_().get("image/svg+xml")

    def __repr__(self) -> str:
        shown = "" if self.n_drawn == self.n_nodes else f", {self.n_drawn} drawn"
        return f"<GraphDrawing of {self.n_nodes} nodes{shown}; .source has the DOT text>"


# ----- text -----

# Every control character but the newline (which breaks the line); a tab too, which
# Graphviz would otherwise show as nothing at all
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def _html_text(text, width: int | None = 40) -> str:
    """``text`` as it should read in an HTML-like label: escaped, wrapped at ``width``
    characters (None: not wrapped), never markup."""
    text = str(text).encode("utf-8", "backslashreplace").decode("utf-8")  # lone surrogates
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)  # shown, not obeyed
    lines = []
    for line in text.split("\n"):
        if width is None:
            lines.append(line)
        else:
            lines.extend([line[i:i + width] for i in range(0, len(line), width)] or [""])
    # Graphviz expands \N, \G, ... even in HTML-like labels; a doubled backslash shows one
    return "<BR/>".join(html.escape(line, quote=True).replace("\\", "\\\\") for line in lines)


def _table(cells, color: str) -> str:
    """An HTML-like label: one row of cells (already escaped)."""
    row = "".join(f"<TD>{cell}</TD>" for cell in cells)
    return (f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4" '
            f'BGCOLOR="{color}"><TR>{row}</TR></TABLE>>')


# The default number format: four decimals, switching to exponent notation (four decimals
# too: 2.0000e-05) where four decimals would show a tiny number as 0.0000 or a huge one as
# hundreds of digits.
FIXED, EXPONENT, TINY, HUGE = ".4f", ".4e", 1e-4, 1e6


class _Formatter:
    """Numbers and arrays as short text, with one number format (None: the default)."""

    def __init__(self, number_format: str | None, small: int = 6):
        self.number_format, self.small = number_format, small

    def _spec(self, x: float) -> str:
        if self.number_format is not None:
            return self.number_format  # the user's choice, as given
        return EXPONENT if x != 0 and not TINY <= abs(x) < HUGE else FIXED

    def number(self, x) -> str:
        if isinstance(x, (bool, np.bool_)):
            return str(bool(x))
        if isinstance(x, (int, np.integer)):
            return str(int(x))
        x = float(x)
        return format(x, self._spec(x)) if np.isfinite(x) else str(x)

    def array(self, a) -> str:
        a = np.asarray(a)
        if a.size <= self.small:
            values = ", ".join(self.number(v) for v in a.reshape(-1))
            return values if a.ndim == 0 else f"[{values}]"
        if a.dtype.kind == "b":
            return f"{int(a.sum())} of {a.size} true"
        finite = a[np.isfinite(a)] if a.dtype.kind == "f" else a
        if finite.size == 0:
            return "no finite values"
        summary = (f"mean {self.number(finite.mean())} min {self.number(finite.min())} "
                   f"max {self.number(finite.max())}")
        return summary if finite.size == a.size else f"{summary} ({a.size - finite.size} non-finite)"


# ----- the graph -----

def _nearest_nodes(roots, limit: int) -> tuple[list, int]:
    """Nodes reachable from ``roots``, nearest first (breadth first), at most ``limit``; and
    how many there are in all."""
    seen, order = set(), []
    queue = deque(roots)
    while queue:
        node = queue.popleft()
        if id(node) in seen:
            continue
        seen.add(id(node))
        order.append(node)
        queue.extend(node.parents)
    return order[:limit], len(order)


def _topological(roots, nodes: list) -> list:
    """``nodes`` in graph order: depth first from the roots, first input first, every node
    after its inputs (iteratively: no recursion limit)."""
    kept = {id(n) for n in nodes}
    placed, order = set(), []
    stack = [(r, False) for r in reversed(roots)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in placed:
            continue
        placed.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for p in reversed(node.parents)
                     if id(p) in kept and id(p) not in placed)
    return order


def _is_constant(node) -> bool:
    return node._a is None and not node.requires_grad


def _names_of(names, module) -> dict:
    """id(node) -> a name, from a ``names`` mapping (or ``locals()``) and a module's parameters."""
    found = {}
    if module is not None:
        for name, parameter in module.named_parameters():
            found.setdefault(id(parameter), name)
    for name, value in (names or {}).items():
        if isinstance(value, Node) and not str(name).startswith("_"):
            found.setdefault(id(value), str(name))
    return found


def _clusters(module, nodes) -> dict:
    """id(node) -> (cluster index, module name, module): a module's parameters, what is made
    from them alone (``weight.T``), and the operations that use either (``x @ weight.T``)."""
    owner, made_from_parameters = {}, set()
    for index, (name, sub) in enumerate(module.named_modules()):
        for _, parameter in sub._own_parameters():
            owner.setdefault(id(parameter), (index, name, sub))
            made_from_parameters.add(id(parameter))
    for node in nodes:  # graph order: inputs first
        inputs = node.parents
        sources = [p for p in inputs if id(p) in made_from_parameters]
        if id(node) in owner or not sources:
            continue
        owner[id(node)] = owner[id(sources[0])]
        if len(sources) == len(inputs):
            made_from_parameters.add(id(node))
    return owner


def draw_dot(root, *, names=None, module=None, group_by_module: bool = False,
             rankdir: str = "LR", number_format: str | None = None, max_nodes: int = 500,
             label_width: int = 40) -> GraphDrawing:
    """Draw the graph that computed ``root`` (a node, or a list of nodes).

    ``names`` maps names to nodes (``locals()`` works) for nodes without a ``label``;
    ``module`` names its parameters by their dotted names and, with ``group_by_module``,
    draws each module's parameters and the operations on them in a box of their own.
    ``rankdir`` is 'LR' or 'TB'; ``number_format`` a format spec ('.3g', '.2e', ...) used
    for every number; by default four decimals ('.4f'), or exponent notation ('.4e',
    ``2.0000e-05``) for a nonzero number below 1e-4 or from 1e6 in magnitude, so that a
    tiny gradient never reads as 0.0000.
    At most ``max_nodes`` nodes are drawn, those nearest the root; the rest become one
    summary node that says how many were left out.

        >>> from autograd_core import Value
        >>> from viz import draw_dot
        >>> x, w = Value(2.0, label="x"), Value(-3.0, label="w")
        >>> y = (x * w).tanh()
        >>> y.backward()
        >>> drawing = draw_dot(y, names={"y": y})
        >>> drawing
        <GraphDrawing of 4 nodes; .source has the DOT text>
        >>> "x" in drawing.source and "grad" in drawing.source
        True
    """
    return _draw(root, names=names, module=module, group_by_module=group_by_module,
                 rankdir=rankdir, number_format=number_format, max_nodes=max_nodes,
                 label_width=label_width)[0]


def _draw(root, *, names, module, group_by_module, rankdir, number_format, max_nodes,
          label_width, grad_texts=None):
    """``draw_dot``'s work; also returns id(node) -> DOT id. ``grad_texts`` (id(node) ->
    text) replaces the gradients shown, for the frames of an animation."""
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be 'LR' or 'TB' (or 'RL', 'BT'), got {rankdir!r}")
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    if number_format is not None:
        format(1.0, number_format)  # a bad format spec fails here, with Python's message
    roots = [root] if isinstance(root, Node) else list(root) if isinstance(
        root, (list, tuple)) else []
    if not roots or not all(isinstance(r, Node) for r in roots):
        raise TypeError("draw_dot draws Value or Tensor nodes")
    if group_by_module and module is None:
        raise ValueError("group_by_module needs module=the model whose parameters to group")

    kept, n_nodes = _nearest_nodes(roots, max_nodes)
    nodes = _topological(roots, kept)
    kept_ids = {id(n) for n in nodes}
    root_ids = {id(r) for r in roots}
    node_names = _names_of(names, module)
    owners = _clusters(module, nodes) if group_by_module else {}
    fmt = _Formatter(number_format)
    text = lambda s: _html_text(s, label_width)  # noqa: E731  (user text: wrapped)
    ours = lambda s: _html_text(s, None)  # noqa: E731  (numbers, captions: never wrapped)

    dot = graphviz.Digraph(
        graph_attr={"rankdir": rankdir, "fontname": FONT, "bgcolor": "white", "nodesep": "0.25"},
        node_attr={"fontname": FONT, "fontsize": "12", "shape": "plaintext", "margin": "0"},
        edge_attr={"fontname": FONT, "color": "#475569", "arrowsize": "0.7"})

    def grad_text(node) -> str:
        if grad_texts is not None:
            return grad_texts.get(id(node), "grad ?")
        if node.grad is None:
            return "grad —"
        return f"grad {fmt.array(node.grad) if isinstance(node.data, np.ndarray) else fmt.number(node.grad)}"

    def value_label(node) -> list:
        name = node.label or node_names.get(id(node), "")
        cells = [f"<B>{text(name)}</B>"] if name else []
        if isinstance(node.data, np.ndarray):
            cells.append(ours(f"{node.data.shape} {node.data.dtype}" if node.data.ndim
                              else f"{node.data.dtype}"))
            cells.append(ours(f"data {fmt.array(node.data)}"))
        else:
            cells.append(ours(f"data {fmt.number(node.data)}"))
        if not _is_constant(node):
            cells.append(ours(grad_text(node)))
        return cells

    def add(target, node_id, label, shape="plaintext", color=None):
        # Written straight into the body: ids are ours and labels are escaped above, and
        # Digraph.node's own quoting would double the time of a 10,000-node drawing.
        style = "" if shape == "plaintext" else f' style=filled fillcolor="{color}" margin=0.05'
        target.body.append(f"\t{node_id} [label={label} shape={shape}{style}]\n")

    def edge(tail, head, dashed=False):
        dot.body.append(f"\t{tail} -> {head}{' [style=dashed]' if dashed else ''}\n")

    ids = {id(node): f"v{i}" for i, node in enumerate(nodes)}
    pending = {}  # cluster index -> list of (id, label, shape, color)
    summary_id = "more" if n_nodes > len(kept) else None
    constant_uses = 0
    for node in nodes:
        if _is_constant(node) and id(node) not in root_ids and id(node) not in node_names:
            continue  # unnamed constants are drawn once per use, next to the op using them
        kind = ("output" if id(node) in root_ids else "constant" if _is_constant(node)
                else "parameter" if node._a is None else "value")
        owner = owners.get(id(node))
        group = pending.setdefault(owner[0], []) if owner else None
        entries = [(ids[id(node)], _table(value_label(node), COLORS[kind]), "plaintext", None)]
        if node._a is not None:
            op_id = ids[id(node)] + "_op"
            symbol = node._op.symbol or node._op.name
            entries.insert(0, (op_id, f"<{text(symbol)}>", "ellipse", COLORS["op"]))
        for entry in entries:
            if group is not None:
                group.append(entry)
            else:
                add(dot, *entry)
        if node._a is not None:
            edge(op_id, ids[id(node)])
            for parent in node.parents:
                if _is_constant(parent) and id(parent) not in node_names:
                    constant_id = f"c{constant_uses}"
                    constant_uses += 1
                    cells = [text(fmt.array(parent.data) if isinstance(parent.data, np.ndarray)
                                  else fmt.number(parent.data))]
                    add(dot, constant_id, _table(cells, COLORS["constant"]))
                    edge(constant_id, op_id)
                elif id(parent) in kept_ids:
                    edge(ids[id(parent)], op_id)
                else:
                    edge(summary_id, op_id, dashed=True)

    if group_by_module:
        module_of = {index: (name, sub) for index, name, sub in owners.values()}
        for index, entries in pending.items():
            name, sub = module_of[index]
            with dot.subgraph(name=f"cluster_{index}") as cluster:
                title = f"{name} ({type(sub).__name__})" if name else type(sub).__name__
                cluster.attr(label=f"<{text(title)}>", style="rounded,dashed", color="#64748b",
                             fontname=FONT)
                for entry in entries:
                    add(cluster, *entry)
    if summary_id:
        left_out = n_nodes - len(kept)
        # our own text: never wrapped mid-word as user labels are
        add(dot, summary_id, f"<{ours(f'… {left_out:,} more nodes not drawn')}<BR/>"
                             f"{ours(f'(max_nodes={max_nodes})')}>", "box", COLORS["summary"])
        dot.attr(label=f"<{ours(f'showing {len(kept):,} of {n_nodes:,} nodes nearest the output')}>",
                 labelloc="t")
    return GraphDrawing(dot, n_nodes, len(kept)), ids
