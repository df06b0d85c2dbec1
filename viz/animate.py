"""``animate_backward``: the backward pass played one step at a time.

Each frame is one step of backward, in the order the engine takes them (reverse topological
order): the node whose gradient is now complete is highlighted, the edges along which it
sends its shares back are drawn in red, and every node shows the gradient it has received so
far ("?" before its first share). Where paths converge, a node receives several shares and
the caption shows the sum: ``b.grad = 2.0000 + 3.0000 = 5.0000``.

The graph is laid out once (boxes sized for the widest text any frame shows), and each frame
is that SVG with its texts and colours changed, so nothing moves between frames.
"""
from __future__ import annotations

import html
import json
import os
import uuid
import xml.etree.ElementTree as ET

import numpy as np

from autograd_core import Node
from autograd_core.graph import backward_steps

from .graph import _draw, _Formatter, _is_constant, _nearest_nodes

SVG = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")

CURRENT, RECEIVING, EDGE = "#fbbf24", "#bbf7d0", "#dc2626"


class BackwardAnimation:
    """The frames of a backward pass: ``.frames`` (SVG text), ``.captions``, ``.save(path)``
    (one self-contained HTML file with a slider and a play button), ``.save_frames(dir)``;
    shown inline in Jupyter."""

    def __init__(self, frames: list[str], captions: list[str], interval_ms: int = 1200):
        self.frames, self.captions, self.interval_ms = frames, captions, interval_ms

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        return f"<BackwardAnimation of {len(self.frames)} steps>"

    def html(self, standalone: bool = True) -> str:
        """The player: every frame inline (no network), a slider, a play button, captions."""
        player = _player(self.frames, self.captions, self.interval_ms)
        if not standalone:
            return player
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<title>backward, step by step</title></head>\n<body>\n"
                f"{player}\n</body></html>\n")

    def _repr_html_(self) -> str:
        return self.html(standalone=False)

    def save(self, path) -> str:
        """Write the player as one HTML file; returns the path."""
        path = os.fspath(path)
        with open(path, "w", encoding="utf-8") as file:
            file.write(self.html())
        return path

    def save_frames(self, directory, prefix: str = "step") -> list[str]:
        """Write each frame as ``<prefix>_001.svg``, ...; returns the paths."""
        directory = os.fspath(directory)
        os.makedirs(directory, exist_ok=True)
        paths = []
        for i, frame in enumerate(self.frames, start=1):
            path = os.path.join(directory, f"{prefix}_{i:03d}.svg")
            with open(path, "w", encoding="utf-8") as file:
                file.write('<?xml version="1.0" encoding="UTF-8"?>\n' + frame)
            paths.append(path)
        return paths


def animate_backward(root, *, grad=None, names=None, module=None, rankdir: str = "LR",
                     number_format: str | None = None, max_nodes: int = 200,
                     interval_ms: int = 1200) -> BackwardAnimation:
    """One frame per step of ``root``'s backward pass; the graph and its grads are untouched.

    Call it before ``backward()`` (or after ``backward(retain_graph=True)``): it runs the
    steps itself, from the op table, without storing any gradient. Nodes with neither a
    label nor a name in ``names`` are called t0, t1, ... (names no label already uses);
    ``number_format`` is as in ``draw_dot``.

        >>> from autograd_core import Value
        >>> from viz import animate_backward
        >>> a, b = Value(2.0, label="a"), Value(1.0, label="b")
        >>> e = (a + b) * (b + 1)
        >>> animation = animate_backward(e, names={"e": e})
        >>> len(animation), animation.captions[-1]
        (3, 'Step 3 of 3: t1.grad = 3.0000 is complete. Back through +: b.grad = 2.0000 + 3.0000 = 5.0000.')
    """
    if not isinstance(root, Node):
        raise TypeError("animate_backward takes the Value or Tensor to back-propagate from")
    nodes, n_nodes = _nearest_nodes([root], max_nodes)
    if n_nodes > max_nodes:
        raise ValueError(f"the graph has {n_nodes} nodes, more than max_nodes={max_nodes}; an "
                         f"animation shows every step, so animate a smaller graph")
    steps = list(backward_steps(root, grad))
    fmt = _Formatter(number_format)
    show = (lambda g: fmt.array(g)) if isinstance(root.data, np.ndarray) else fmt.number
    names = _with_step_names(nodes, steps, names)

    # What every node shows after each step, and the captions
    received: dict[int, object] = {id(root): steps[0][1]} if steps else {}
    texts_per_frame, captions, highlights = [], [], []
    for k, (node, g, shares) in enumerate(steps, start=1):
        parts = []
        for parent, share in shares:
            before = received.get(id(parent))
            received[id(parent)] = share if before is None else before + share
            total = show(received[id(parent)])
            parts.append(f"{names(parent)}.grad = {total}" if before is None else
                         f"{names(parent)}.grad = {show(before)} + {show(share)} = {total}")
        op = node._op.symbol or node._op.name
        captions.append(f"Step {k} of {len(steps)}: {names(node)}.grad = {show(g)} is complete. "
                        f"Back through {op}: " + ("; ".join(parts) or "no input needs a gradient")
                        + ".")
        texts_per_frame.append({key: f"grad {show(value)}" for key, value in received.items()})
        highlights.append((node, [parent for parent, _ in shares]))

    # Lay out once, each box as wide as the widest text it will show
    widest = {}
    for texts in texts_per_frame:
        for key, text in texts.items():
            if len(text) > len(widest.get(key, "")):
                widest[key] = text
    drawing, ids = _draw(root, names=names.mapping, module=module, group_by_module=False,
                         rankdir=rankdir, number_format=number_format, max_nodes=max_nodes,
                         label_width=40, grad_texts=widest)
    base = ET.fromstring(drawing.pipe("svg"))
    with_grad = {ids[id(n)] for n in nodes if not _is_constant(n)}  # boxes with a grad cell
    frames = [_frame(base, ids, with_grad, texts, node, parents)
              for texts, (node, parents) in zip(texts_per_frame, highlights)]
    return BackwardAnimation(frames, captions, interval_ms)


class _StepNames:
    """Names for captions: labels, then the ``names`` mapping, then t0, t1, ... (shown in the
    boxes too, so that a caption can be matched to its box)."""

    def __init__(self, mapping: dict):
        self.mapping = mapping
        self._by_id = {id(node): name for name, node in mapping.items() if isinstance(node, Node)}

    def __call__(self, node) -> str:
        return node.label or self._by_id.get(id(node), "?")


def _with_step_names(nodes, steps, names) -> _StepNames:
    mapping = {name: node for name, node in (names or {}).items() if isinstance(node, Node)
               and not str(name).startswith("_")}
    named = {id(node) for node in mapping.values()}
    # a made-up name must not read as another node's: skip the labels in the graph too
    taken = set(mapping) | {node.label for node in nodes if node.label}
    made = 0
    for node, _, shares in steps:
        for candidate in (node, *[parent for parent, _ in shares]):
            if not candidate.label and id(candidate) not in named:
                while f"t{made}" in taken:
                    made += 1
                taken.add(f"t{made}")
                mapping[f"t{made}"] = candidate
                named.add(id(candidate))
    return _StepNames(mapping)


def _frame(base: ET.Element, ids: dict, with_grad: set, texts: dict, node, parents) -> str:
    """The base SVG with this step's gradients, highlights and colours. ``with_grad``: the
    DOT ids of the boxes that show a gradient, in their last cell (so their last text)."""
    svg = _copy(base)
    dot_id = {value: key for key, value in ids.items()}  # DOT id -> id(node)
    current, receiving = ids.get(id(node)), {ids.get(id(p)) for p in parents}
    for group in svg.iter(f"{{{SVG}}}g"):
        title = group.find(f"{{{SVG}}}title")
        if title is None or group.get("class") not in ("node", "edge"):
            continue
        name = title.text or ""
        if group.get("class") == "node":
            # Found by place, not by its text: a label may read "grad x" too
            shown = list(group.iter(f"{{{SVG}}}text"))
            if name in with_grad and shown:
                shown[-1].text = texts.get(dot_id.get(name), "grad ?")
            fill = CURRENT if name in (current, f"{current}_op") else \
                RECEIVING if name in receiving else None
            if fill:
                for shape in group.iter():
                    if shape.tag in (f"{{{SVG}}}polygon", f"{{{SVG}}}ellipse") \
                            and shape.get("fill") not in (None, "none"):
                        shape.set("fill", fill)
        else:
            tail, _, head = name.partition("->")
            if (head == f"{current}_op" and tail in receiving) or \
                    (tail == f"{current}_op" and head == current):
                for shape in group.iter():
                    if shape.tag in (f"{{{SVG}}}path", f"{{{SVG}}}polygon"):
                        shape.set("stroke", EDGE)
                        shape.set("stroke-width", "2.5")
                        if shape.tag == f"{{{SVG}}}polygon":
                            shape.set("fill", EDGE)
    return ET.tostring(svg, encoding="unicode")


def _copy(element: ET.Element) -> ET.Element:
    return ET.fromstring(ET.tostring(element))


_STYLE = """
.agc-player{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:100%}
.agc-player .agc-controls{display:flex;gap:.75em;align-items:center;margin:.4em 0}
.agc-player button{font:inherit;padding:.2em .9em;border:1px solid #94a3b8;border-radius:.4em;background:#f8fafc;cursor:pointer}
.agc-player input[type=range]{flex:1;max-width:28em}
.agc-player .agc-caption{margin:.3em 0 .6em;min-height:2.6em;color:#0f172a}
.agc-player .agc-frame{display:none;overflow:auto}
.agc-player .agc-frame.agc-shown{display:block}
.agc-player .agc-frame svg{max-width:100%;height:auto}
.agc-player .agc-key{font-size:.85em;color:#475569}
.agc-player .agc-key span{display:inline-block;width:.9em;height:.9em;border:1px solid #64748b;vertical-align:middle;margin:0 .3em 0 .8em}
"""

_SCRIPT = """
(function () {
  var root = document.getElementById(%(id)s);
  var frames = root.querySelectorAll(".agc-frame");
  var slider = root.querySelector("input[type=range]");
  var button = root.querySelector("button");
  var caption = root.querySelector(".agc-caption");
  var counter = root.querySelector(".agc-counter");
  var timer = null;
  function show(i) {
    for (var k = 0; k < frames.length; k++) frames[k].classList.toggle("agc-shown", k === i);
    slider.value = i;
    caption.textContent = frames[i].getAttribute("data-caption");
    counter.textContent = (i + 1) + " / " + frames.length;
    root.setAttribute("data-step", String(i));
  }
  function stop() { clearInterval(timer); timer = null; button.textContent = "\\u25b6 play"; }
  button.addEventListener("click", function () {
    if (timer) { stop(); return; }
    if (+slider.value >= frames.length - 1) show(0);
    button.textContent = "\\u23f8 pause";
    timer = setInterval(function () {
      var next = +slider.value + 1;
      if (next >= frames.length) { stop(); return; }
      show(next);
    }, %(interval)d);
  });
  slider.addEventListener("input", function () { stop(); show(+slider.value); });
  show(0);
})();
"""


def _player(frames: list[str], captions: list[str], interval_ms: int) -> str:
    player_id = f"agc-{uuid.uuid4().hex[:12]}"
    # Captions hold user text (labels): an escaped attribute, read back with textContent
    frame_divs = "\n".join(
        f'<div class="agc-frame" data-caption="{html.escape(caption, quote=True)}">{frame}</div>'
        for frame, caption in zip(frames, captions))
    key = (f'<span style="background:{CURRENT}"></span>gradient complete, sending shares'
           f'<span style="background:{RECEIVING}"></span>receiving a share'
           f'<span style="background:{EDGE}"></span>edges the shares flow back along')
    script = _SCRIPT % {"id": json.dumps(player_id), "interval": interval_ms}
    return (f'<div class="agc-player" id="{player_id}"><style>{_STYLE}</style>\n'
            f'<div class="agc-controls"><button type="button">\u25b6 play</button>'
            f'<input type="range" min="0" max="{max(len(frames) - 1, 0)}" value="0" '
            f'aria-label="step"><span class="agc-counter"></span></div>\n'
            f'<p class="agc-caption"></p>\n{frame_divs}\n<p class="agc-key">{key}</p>\n'
            f'<script>{script}</script></div>')
