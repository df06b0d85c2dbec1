"""Tests of viz.draw_dot and viz.animate_backward: DOT structure, rendering with whichever
Graphviz is installed, hostile labels, large graphs, and the animation player."""
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
import viz
import viz.render
from autograd_core import Tensor, Value
from autograd_core.graph import backward_steps
from viz import animate_backward, draw_dot

SVG = "{http://www.w3.org/2000/svg}"


def neuron():
    """micrograd's neuron: o = tanh(x*w + b)."""
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.88, label="b")
    n = x * w + b
    o = n.tanh()
    return x, w, b, n, o


def svg_counts(svg: bytes) -> tuple[int, int, list[str]]:
    """(nodes, edges, every text shown) of a Graphviz SVG, read as XML."""
    tree = ET.fromstring(svg)
    groups = list(tree.iter(f"{SVG}g"))
    nodes = sum(g.get("class") == "node" for g in groups)
    edges = sum(g.get("class") == "edge" for g in groups)
    return nodes, edges, [t.text or "" for t in tree.iter(f"{SVG}text")]


# ----- structure -----
def test_dot_of_micrograds_neuron():
    x, w, b, n, o = neuron()
    o.backward()
    source = draw_dot(o, names={"n": n, "o": o}).source
    values = re.findall(r"^\t(v\d+) \[label=<<TABLE", source, re.M)
    ops = re.findall(r"^\t(v\d+_op) \[label=<([^>]*)>", source, re.M)
    edges = re.findall(r"^\t(\w+) -> (\w+)", source, re.M)
    assert values == ["v0", "v1", "v2", "v3", "v4", "v5"]  # x, w, x*w, b, n, o in graph order
    assert [name for _, name in ops] == ["*", "+", "tanh"]
    assert len(edges) == 8  # 2 + 2 + 1 inputs, and one op -> result per op
    assert ("v2_op", "v2") in edges and ("v0", "v2_op") in edges and ("v1", "v2_op") in edges
    for text in ("<B>x</B>", "data 2.0000", "grad -1.5029", "<B>n</B>", "<B>o</B>",
                 "data 0.7064", "grad 1.0000"):
        assert text in source, text


def test_ids_follow_the_graph_not_memory():
    first = draw_dot(neuron()[-1]).source
    assert draw_dot(neuron()[-1]).source == first  # a new graph, new addresses, same DOT


def test_repeated_inputs_draw_one_edge_per_use():
    x = Value(3.0, label="x")
    source = draw_dot(x * x).source
    assert source.count("v0 -> v1_op") == 2


def test_options_and_their_errors():
    o = neuron()[-1]
    assert "rankdir=TB" in draw_dot(o, rankdir="TB").source
    assert "data 2.00e+00" in draw_dot(o, number_format=".2e").source
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(o, rankdir="sideways")
    with pytest.raises(ValueError):
        draw_dot(o, number_format="not a format")
    with pytest.raises(TypeError, match="Value or Tensor"):
        draw_dot(3.0)


def test_default_numbers_switch_to_exponents_only_where_four_decimals_mislead():
    x = Value(1e300, label="x")
    y = x * 2e-305  # y = 2e-05: its gradient to x is tiny, not zero
    y.backward()
    source = draw_dot(y).source
    assert "data 1.0000e+300" in source and "grad 2.0000e-305" in source
    assert "data 2.0000e-05" in source and "grad 1.0000" in source
    for value, shown in [(0.0, "0.0000"), (-0.0, "-0.0000"), (1e-4, "0.0001"),
                         (999_999.0, "999999.0000"), (1e6, "1.0000e+06"), (float("nan"), "nan"),
                         (float("-inf"), "-inf")]:
        assert f"data {shown}<" in draw_dot(Value(value) * 1).source, value
    assert "grad 0.0000" in draw_dot(y, number_format=".4f").source  # the user's, as given


def test_labels_come_before_names_and_constants_show_their_value():
    x = Value(1.5, label="input")
    y = x * 2.5 + 1
    source = draw_dot(y, names={"renamed": x, "y": y}).source
    assert "<B>input</B>" in source and "renamed" not in source and "<B>y</B>" in source
    assert "<TD>2.5000</TD>" in source and "<TD>1.0000</TD>" in source  # drawn at each use


def test_tensor_nodes_show_shape_dtype_and_summaries():
    w = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, label="w")
    x = Tensor(np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float64))
    y = (w @ x).sum()
    y.backward()
    source = draw_dot(y, names={"x": x}).source
    assert "(3, 4) float64" in source and "data mean 5.5000 min 0.0000 max 11.0000" in source
    assert "data [1.0000, 2.0000, 3.0000, 4.0000]" in source  # small: the values themselves
    assert "grad mean 2.5000 min 1.0000 max 4.0000" in source
    assert "grad —" in source  # the intermediate w @ x kept no gradient


def test_module_parameters_are_named_and_grouped():
    model = nn.MLP(2, [3], 1, generator=0)
    loss = model(Tensor(np.ones((4, 2)))).sum()
    source = draw_dot(loss, module=model, group_by_module=True).source
    assert "<B>0.weight</B>" in source and "<B>2.bias</B>" in source
    clusters = dict(re.findall(r"subgraph (cluster_\d+) \{\n\t\t.*? label=<([^>]*)>", source))
    assert sorted(clusters.values()) == ["0 (Linear)", "2 (Linear)"]
    inside = re.search(r"label=<0 \(Linear\)>(.*?)\n\t\}", source, re.S).group(1)
    assert "transpose" in inside and "@" in inside and "+" in inside and "relu" not in inside
    with pytest.raises(ValueError, match="group_by_module needs module"):
        draw_dot(loss, group_by_module=True)


# ----- large graphs -----
def test_max_nodes_collapses_the_rest_and_says_so():
    x = Value(0.5, label="x")
    y = x
    for _ in range(300):
        y = y.tanh()
    drawing = draw_dot(y, max_nodes=50)
    assert (drawing.n_nodes, drawing.n_drawn) == (301, 50)
    assert "251 more nodes not drawn" in drawing.source and "max_nodes=50" in drawing.source
    assert "showing 50 of 301 nodes" in drawing.source
    # the caption is ours, not a label: one line, however long
    many = Value(0.5)
    for _ in range(20_000):
        many = many + 1
    source = draw_dot(many, max_nodes=5).source
    assert "label=<showing 5 of 40,001 nodes nearest the output>" in source
    nodes, edges, _ = svg_counts(drawing.pipe("svg"))
    assert nodes == 50 * 2 + 1  # value + op for each, and the summary node


def test_ten_thousand_node_graphs_give_dot_and_render_capped():
    x = Value(0.5, label="x")
    y = x
    for _ in range(5000):
        y = (y * 1.0001).tanh()
    full = draw_dot(y, max_nodes=20_000)
    assert full.n_nodes == full.n_drawn == 15_001  # constants counted, drawn at each use
    assert full.source.count("_op [label=") == 10_000
    capped = draw_dot(y)  # the default cap renders quickly
    assert capped.pipe("svg").startswith(b"<?xml")


def test_a_chain_of_a_hundred_thousand_nodes_needs_no_recursion():
    t = Tensor([1.0], requires_grad=True)
    for _ in range(100_000):
        t = -t
    assert draw_dot(t, max_nodes=200_000).source.count("_op [label=") == 100_000


# ----- rendering -----
def test_renders_svg_and_png_with_the_installed_graphviz(tmp_path):
    drawing = draw_dot(neuron()[-1])
    svg_path = drawing.render(tmp_path / "neuron.svg")
    png_path = drawing.render(tmp_path / "neuron.png")
    assert open(svg_path, "rb").read().startswith(b"<?xml")
    assert open(png_path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert drawing.render(tmp_path / "neuron", format="png").endswith("neuron")
    bundle = drawing._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")
    assert drawing._repr_svg_() == bundle["image/svg+xml"]


def test_render_takes_the_format_from_the_suffix_and_refuses_unknown_ones(tmp_path):
    drawing = draw_dot(neuron()[-1])
    starts = {"g.jpg": b"\xff\xd8\xff", "g.JPEG": b"\xff\xd8\xff", "g.json": b"{",
              "g.dot": b"digraph", "g.gv": b"digraph", "g.svg.png": b"\x89PNG", "g": b"<?xml"}
    for name, start in starts.items():
        assert open(drawing.render(tmp_path / name), "rb").read().startswith(start), name
    with pytest.raises(ValueError, match=r"suffix '\.pdf' is none of \.svg, \.png, .*\.jpg"):
        drawing.render(tmp_path / "g.pdf")
    assert not (tmp_path / "g.pdf").exists()


def test_a_format_graphviz_pure_cannot_draw_is_a_clear_error(tmp_path, monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "dot" else real_which(name))
    with pytest.raises(viz.GraphvizError, match="graphviz-pure cannot draw gif.*use one of svg"):
        draw_dot(neuron()[-1]).render(tmp_path / "g.gif")
    assert not (tmp_path / "g.gif").exists()


def test_graphviz_pure_is_found_without_a_system_dot(monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "dot" else real_which(name))
    program = viz.find_graphviz()
    assert program is not None and "graphviz-pure" in program
    assert draw_dot(neuron()[-1]).pipe("svg").startswith(b"<?xml")


def test_without_any_graphviz_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setattr(viz.render, "find_graphviz", lambda: None)
    drawing = draw_dot(neuron()[-1])
    assert "digraph" in drawing.source  # the DOT text still works
    with pytest.raises(viz.GraphvizNotFoundError, match="pip install graphviz-pure"):
        drawing.pipe("svg")
    assert "pip install graphviz-pure" in drawing._repr_mimebundle_()["text/plain"]


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown output format"):
        draw_dot(neuron()[-1]).pipe("exe")


# ----- user text is shown as itself, never obeyed -----
HOSTILE = ['"]; x [URL="https://example.com/evil"]; y [label="', "<b>bold</b>", "{a|b}<p>|",
           "a\\nb\\lc\\N\\G", "line 1\nline 2", "quote\"quote'", "é漢字🙂", "x" * 10_000,
           "&amp; &lt;", "]]>", "<<TABLE>>", "\\", "<!-- -->", "<script>alert(1)</script>"]


def check_label_is_shown_as_itself(label: str) -> None:
    a, b = Value(1.0, label=label), Value(2.0)
    c = (a * b).tanh()
    c.label = label
    svg = draw_dot(c, label_width=10**6).pipe("svg")  # no wrapping: one text per line
    nodes, edges, _ = svg_counts(svg)
    assert (nodes, edges) == (6, 5)
    tree = ET.fromstring(svg)
    for group in tree.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        if group.get("class") == "node" and title.text in ("v0", "v4") and label.strip():
            texts = [t.text or "" for t in group.iter(f"{SVG}text")]
            name_lines = texts[:len(texts) - 2]  # then "data ...", "grad ..."
            assert [line.strip() for line in name_lines] == \
                [line.strip() for line in label.split("\n")], (title.text, texts)
    for element in tree.iter():  # nothing in the SVG links anywhere or carries the label
        assert not element.tag.endswith("}a")
        assert not any(key.endswith("href") for key in element.attrib), element.attrib
        assert all(label not in value for value in element.attrib.values() if len(label) > 3)


@pytest.mark.parametrize("label", HOSTILE, ids=lambda s: repr(s[:12]))
def test_hostile_labels(label):
    check_label_is_shown_as_itself(label)


@settings(max_examples=25)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40))
def test_random_labels_are_shown_as_themselves(label):
    check_label_is_shown_as_itself(label)


def test_control_characters_are_shown_escaped():
    a = Value(1.0, label="bell\x07null\x00tab\t")
    texts = svg_counts(draw_dot(a * 2).pipe("svg"))[2]
    assert "bell\\x07null\\x00tab\\x09" in texts  # a tab too: Graphviz would drop it


# ----- the backward animation -----
def test_animation_has_one_frame_per_backward_step_and_sums_converging_paths():
    a, b = Value(2.0, label="a"), Value(1.0, label="b")
    e = (a + b) * (b + 1)
    animation = animate_backward(e, names={"e": e})
    assert len(animation) == len(list(backward_steps(e))) == 3
    assert "b.grad = 2.0000 + 3.0000 = 5.0000" in animation.captions[-1]
    final = svg_counts(animation.frames[-1].encode())[2]
    assert "grad 5.0000" in final and "grad 2.0000" in final
    first = svg_counts(animation.frames[0].encode())[2]
    assert "grad ?" in first  # nothing has reached a and b yet
    assert a.grad == 0 and b.grad == 0  # the graph is untouched...
    e.backward()
    assert (a.grad, b.grad) == (2.0, 5.0)  # ...and backward still works afterwards


def test_animation_rewrites_gradients_not_labels_that_look_like_them():
    x, w = Value(2.0, label="grad x"), Value(-3.0, label="w")
    y = (x * w).tanh()
    y.label = "grad of all"
    first, last = (svg_counts(frame.encode())[2] for frame in animate_backward(y).frames)
    assert first[:3] == ["grad x", "data 2.0000", "grad ?"]
    assert last[:3] == ["grad x", "data 2.0000", "grad -7.3730e-05"]
    assert last[-3:] == ["grad of all", "data -1.0000", "grad 1.0000"]


def test_animation_step_names_skip_labels_already_in_the_graph():
    t0, w = Value(1.0, label="t0"), Value(2.0, label="w")
    out = (t0 * w).tanh()
    assert animate_backward(out).captions == [  # t0 is the leaf's label: the root is t1
        "Step 1 of 2: t1.grad = 1.0000 is complete. Back through tanh: t2.grad = 0.0707.",
        "Step 2 of 2: t2.grad = 0.0707 is complete. Back through *: t0.grad = 0.1413; "
        "w.grad = 0.0707."]


def test_animation_frames_keep_the_layout_and_highlight_the_step():
    x, w, b, n, o = neuron()
    animation = animate_backward(o)
    boxes = [re.findall(r'points="([^"]*)"', frame) for frame in animation.frames]
    assert all(b == boxes[0] for b in boxes)  # nothing moves between frames
    assert all("#dc2626" in frame and "#fbbf24" in frame for frame in animation.frames)


def test_animation_html_is_self_contained_and_frames_save(tmp_path):
    x, w, b, n, o = neuron()
    animation = animate_backward(o)
    path = animation.save(tmp_path / "backward.html")
    page = open(path, encoding="utf-8").read()
    assert page.count('class="agc-frame"') == len(animation) == 3
    assert not re.search(r'(src|href)="(https?:)?//', page)  # no network
    assert "<script>" in page and 'type="range"' in page
    frames = animation.save_frames(tmp_path / "frames")
    assert len(frames) == 3 and open(frames[0]).read().startswith("<?xml")
    assert animation._repr_html_().startswith('<div class="agc-player"')


def test_animation_of_tensors_and_its_limits():
    w = Tensor([[1.0, -2.0]], requires_grad=True, label="w")
    loss = (w * w).sum()
    assert len(animate_backward(loss)) == 2
    big = Value(1.0)
    for _ in range(300):
        big = big.tanh()
    with pytest.raises(ValueError, match="more than max_nodes"):
        animate_backward(big)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which(
    "google-chrome")


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here")
def test_player_runs_in_headless_chromium_and_text_fits_its_boxes(tmp_path):
    """The slider changes the frame, nothing logs an error, and no text overflows its box."""
    x, w, b, n, o = neuron()
    animation = animate_backward(o, names={"n": n, "o": o})
    probe = """<script>
    window.onerror = function (m) { document.title = "error: " + m; };
    window.addEventListener("load", function () {
      var player = document.querySelector(".agc-player");
      var slider = player.querySelector("input");
      slider.value = 2; slider.dispatchEvent(new Event("input"));
      var shown = player.querySelectorAll(".agc-frame.agc-shown");
      var overflowing = 0;
      shown[0].querySelectorAll("g.node").forEach(function (node) {
        var box = node.getBBox();
        node.querySelectorAll("text").forEach(function (text) {
          var t = text.getBBox();
          if (t.x < box.x - 0.5 || t.x + t.width > box.x + box.width + 0.5) overflowing++;
        });
      });
      if (!document.title.startsWith("error"))
        document.title = player.getAttribute("data-step") + "|" + shown.length + "|" + overflowing;
    });
    </script>"""
    page = tmp_path / "player.html"
    page.write_text(animation.html().replace("</body>", probe + "</body>"), encoding="utf-8")
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=2000",
         "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    title = re.search(r"<title>(.*?)</title>", done.stdout).group(1)
    assert title == "2|1|0", title


def test_animating_a_freed_graph_says_how_to_keep_it():
    o = neuron()[-1]
    o.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        animate_backward(o)
    kept = neuron()[-1]
    kept.backward(retain_graph=True)
    assert len(animate_backward(kept)) == 3
