"""viz.plots: every plot is built headless, has the series/axes/layers it should, saves to PNG,
and shows real numbers (the variances are numpy's; fig. 7.7's vanishing and exploding trend)."""
import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure

import nn
from autograd_core import Tensor, Value, is_grad_enabled
from nn.data import make_moons
from viz.plots import (layer_statistics, plot_activation_histograms, plot_decision_boundary,
                       plot_history, plot_layer_statistics)

REPO = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_saves_png(fig, path):
    fig.savefig(path)
    data = Path(path).read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 2000  # a drawing, not an empty canvas


def labels_of(ax):
    return [line.get_label() for line in ax.get_lines()]


# ----- headless -----
def test_plots_module_never_imports_pyplot():
    tree = ast.parse((REPO / "viz" / "plots.py").read_text(encoding="utf-8"))
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names]
    imported += [f"{node.module}.{alias.name}" for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) for alias in node.names]
    assert imported, "the parse found no imports at all"
    assert not [name for name in imported if "pyplot" in name]


HEADLESS_SCRIPT = """
import sys
import numpy as np
import nn
from viz.plots import (plot_history, plot_layer_statistics, plot_activation_histograms,
                       plot_decision_boundary)
model = nn.MLP(4, [8, 8], 1, generator=0)
x = np.random.default_rng(0).normal(size=(16, 4))
figures = [plot_history({"loss": [1.0, 0.5], "acc": [0.2, 0.9]}),
           plot_layer_statistics(model, x),
           plot_activation_histograms(model, x, bins=5),
           plot_decision_boundary(nn.MLP(2, [4], 1, generator=0), x[:, :2], x[:, 0] > 0,
                                  resolution=10)]
for i, fig in enumerate(figures):
    fig.savefig(sys.argv[1] + f"/{i}.png")
assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
print("ok", len(figures))
"""


def test_every_plot_is_drawn_and_saved_without_a_display_or_backend(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if key not in ("MPLBACKEND", "DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", HEADLESS_SCRIPT, str(tmp_path)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ok", "4"]
    for i in range(4):
        assert (tmp_path / f"{i}.png").read_bytes()[:8] == PNG_SIGNATURE


# ----- plot_history -----
def test_history_of_numbers_is_one_loss_curve(tmp_path):
    losses = [Value(1.0), 0.5, np.float32(0.25), Tensor([0.125])]  # what learners append
    fig = plot_history(losses, title="training")
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    (line,) = fig.axes[0].get_lines()
    assert line.get_label() == "loss"
    assert line.get_xdata().tolist() == [0, 1, 2, 3]
    assert line.get_ydata().tolist() == [1.0, 0.5, 0.25, 0.125]
    assert fig.axes[0].get_title() == "training"
    assert fig.axes[0].get_xlabel() == "step"
    assert_saves_png(fig, tmp_path / "history.png")


def test_history_marks_points_no_segment_joins_and_only_those():
    nan = float("nan")
    fig = plot_history({"loss": [0.5], "val_loss": [1.0, nan, 0.5, nan, 0.3, 0.2],
                        "smooth": [1.0, 0.5, 0.25]})
    single, gappy, smooth = fig.axes[0].get_lines()
    assert single.get_marker() == "o" and single.get_markevery() == [0]
    assert gappy.get_marker() == "o" and gappy.get_markevery() == [0, 2]
    assert smooth.get_marker() in (None, "None", "")  # an ordinary curve looks as before


def test_history_puts_accuracies_on_a_second_axis():
    history = {"loss": [1.0, 0.4, 0.1], "val_loss": [1.2, 0.6, 0.3],
               "train_accuracy": [0.4, 0.7, 0.95]}
    fig = plot_history(history, logy=True, xlabel="epoch")
    left, right = fig.axes
    assert labels_of(left) == ["loss", "val_loss"] and labels_of(right) == ["train_accuracy"]
    assert left.get_yscale() == "log" and right.get_yscale() == "linear"
    low, high = right.get_ylim()
    assert low <= 0 and high >= 1  # accuracy shown on all of [0, 1]
    legend_labels = [t.get_text() for t in right.get_legend().get_texts()]
    assert legend_labels == ["loss", "val_loss", "train_accuracy"]
    colours = [line.get_color() for line in left.get_lines() + right.get_lines()]
    assert len(set(colours)) == 3  # the twin axes does not restart the colours
    assert left.get_xlabel() == "epoch"


def test_history_of_accuracies_alone_needs_one_axis():
    fig = plot_history({"acc": [0.1, 0.5], "val_acc": [0.2, 0.4]})
    assert len(fig.axes) == 1 and labels_of(fig.axes[0]) == ["acc", "val_acc"]


def test_history_draws_into_given_axes():
    fig = Figure()
    ax = fig.add_subplot(1, 2, 2)
    assert plot_history([3.0, 2.0], ax=ax) is fig
    assert labels_of(ax) == ["loss"] and len(fig.axes) == 1


@pytest.mark.parametrize("history, error", [({}, ValueError), ({"loss": ["a", "b"]}, ValueError),
                                            (3.0, TypeError), ("loss", TypeError)])
def test_history_rejects_what_is_not_a_series(history, error):
    with pytest.raises(error, match="plot_history"):
        plot_history(history)


# ----- layer_statistics -----
def tiny_model():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    model[0].weight.data = np.array([[1.0, -2.0], [0.5, 0.5], [-1.0, 3.0]])
    model[0].bias.data = np.array([0.1, -0.2, 0.0])
    model[2].weight.data = np.array([[2.0, -1.0, 0.5]])
    model[2].bias.data = np.array([0.3])
    return model


TINY_X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [-1.0, 0.5]])


def tiny_forward():
    model = tiny_model()
    w1, b1 = model[0].weight.data, model[0].bias.data
    w2, b2 = model[2].weight.data, model[2].bias.data
    pre = TINY_X @ w1.T + b1
    hidden = np.maximum(pre, 0)
    out = hidden @ w2.T + b2
    return w2, pre, hidden, out


def test_layer_statistics_equal_numpy_with_the_default_least_squares_loss():
    w2, pre, hidden, out = tiny_forward()
    d_out = out                      # d/dout of sum(out**2)/2
    d_hidden = d_out @ w2
    d_pre = d_hidden * (pre > 0)
    stats = layer_statistics(tiny_model(), TINY_X)
    assert stats["names"] == ["0", "1", "2"]
    assert stats["types"] == ["Linear", "ReLU", "Linear"]
    np.testing.assert_allclose(stats["activation_variance"],
                               [np.var(pre), np.var(hidden), np.var(out)], rtol=1e-12)
    np.testing.assert_allclose(stats["gradient_variance"],
                               [np.var(d_pre), np.var(d_hidden), np.var(d_out)], rtol=1e-12)
    assert np.var(d_hidden) > 0 and np.var(d_pre) > 0  # the check is not 0 == 0


def test_layer_statistics_with_a_given_loss():
    w2, _, hidden, _ = tiny_forward()
    stats = layer_statistics(tiny_model(), Tensor(TINY_X), loss=lambda out: out.sum() * 3)
    assert stats["gradient_variance"][2] == 0.0  # d/dout = 3 everywhere
    np.testing.assert_allclose(stats["gradient_variance"][1],
                               np.var(np.tile(3 * w2, (len(TINY_X), 1))), rtol=1e-12)
    np.testing.assert_allclose(stats["activation_variance"][1], np.var(hidden), rtol=1e-12)


def test_layer_statistics_leaves_parameter_grads_and_inputs_alone():
    model = tiny_model()
    model[0].weight.grad = np.full((3, 2), 7.0)  # as if between backward() and step()
    inputs = Tensor(TINY_X)
    layer_statistics(model, inputs)
    assert model[0].weight.grad.tolist() == np.full((3, 2), 7.0).tolist()
    assert model[0].bias.grad is None and model[2].weight.grad is None
    assert not inputs.requires_grad and inputs.grad is None


def test_layer_statistics_follows_children_of_any_module_and_opens_nested_sequentials():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = nn.Sequential(nn.Linear(2, 3, generator=0), nn.Tanh())
            self.head = nn.Linear(3, 1, generator=1)

        def forward(self, x):
            return self.head(self.block(x))

    net = Net()
    stats = layer_statistics(net, TINY_X)
    assert stats["names"] == ["block.0", "block.1", "head"]
    out = net(Tensor(TINY_X)).data
    np.testing.assert_allclose(stats["activation_variance"][-1], np.var(out), rtol=1e-12)
    np.testing.assert_allclose(stats["gradient_variance"][-1], np.var(out), rtol=1e-12)


def test_layer_statistics_needs_a_tensor_module():
    with pytest.raises(TypeError, match="Tensor"):
        layer_statistics(nn.scalar.MLP(2, [3], 1, generator=0), TINY_X)
    with pytest.raises(TypeError, match="nn.Module"):
        layer_statistics(lambda x: x, TINY_X)


# ----- fig. 7.7: the initialisation experiment -----
WIDTH, DEPTH = 100, 20


def deep_relu_net(sigma2, seed):
    """DEPTH ReLU layers of WIDTH units, zero biases, weights N(0, sigma2) (None: He)."""
    generator = np.random.default_rng(seed)
    layers = []
    for _ in range(DEPTH):
        linear = nn.Linear(WIDTH, WIDTH)
        if sigma2 is None:
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu", generator=generator)
        else:
            nn.init.normal_(linear.weight, 0.0, sigma2 ** 0.5, generator=generator)
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(WIDTH, 1, generator=generator))


@pytest.fixture(scope="module")
def fig_7_7_models():
    sigmas = {"σ²=0.001": 0.001, "σ²=0.01": 0.01, "He (σ²=0.02)": None, "σ²=0.1": 0.1,
              "σ²=1.0": 1.0}
    return {label: deep_relu_net(sigma2, seed)
            for seed, (label, sigma2) in enumerate(sigmas.items())}


@pytest.fixture(scope="module")
def fig_7_7_inputs():
    return np.random.default_rng(100).normal(size=(64, WIDTH))


def hidden_unit_statistics(model, inputs):
    stats = layer_statistics(model, inputs)
    hidden = [i for i, kind in enumerate(stats["types"]) if kind == "ReLU"]
    assert len(hidden) == DEPTH
    return (np.array(stats["activation_variance"])[hidden],
            np.array(stats["gradient_variance"])[hidden])


def test_fig_7_7_he_keeps_the_variance_while_small_vanishes_and_large_explodes(
        fig_7_7_models, fig_7_7_inputs):
    he_forward, he_backward = hidden_unit_statistics(fig_7_7_models["He (σ²=0.02)"],
                                                     fig_7_7_inputs)
    assert np.all((he_forward / he_forward[0] > 1e-2) & (he_forward / he_forward[0] < 1e2))
    assert np.all((he_backward / he_backward[-1] > 1e-2) & (he_backward / he_backward[-1] < 1e2))
    # Each layer multiplies the variance by about D·σ²/2: 0.05 and 50 here, over 19 layers.
    small_forward, small_backward = hidden_unit_statistics(fig_7_7_models["σ²=0.001"],
                                                           fig_7_7_inputs)
    assert small_forward[-1] / small_forward[0] < 1e-15
    assert small_backward[0] / small_backward[-1] < 1e-15  # gradients vanish going back
    large_forward, large_backward = hidden_unit_statistics(fig_7_7_models["σ²=1.0"],
                                                           fig_7_7_inputs)
    assert large_forward[-1] / large_forward[0] > 1e20
    assert large_backward[0] / large_backward[-1] > 1e20  # gradients explode going back


def test_fig_7_7_plot_has_two_log_axes_with_a_line_per_model(fig_7_7_models, fig_7_7_inputs,
                                                             tmp_path):
    fig = plot_layer_statistics(fig_7_7_models, fig_7_7_inputs, title="fig. 7.7")
    forward_ax, backward_ax = fig.axes
    for ax in (forward_ax, backward_ax):
        assert ax.get_yscale() == "log"
        assert labels_of(ax) == list(fig_7_7_models)
        assert all(line.get_xdata().tolist() == list(range(1, DEPTH + 1))
                   for line in ax.get_lines())
    legend = [t.get_text() for t in forward_ax.get_legend().get_texts()]
    assert legend == list(fig_7_7_models)
    he_forward, he_backward = hidden_unit_statistics(fig_7_7_models["He (σ²=0.02)"],
                                                     fig_7_7_inputs)
    he_index = list(fig_7_7_models).index("He (σ²=0.02)")
    np.testing.assert_allclose(forward_ax.get_lines()[he_index].get_ydata(), he_forward)
    np.testing.assert_allclose(backward_ax.get_lines()[he_index].get_ydata(), he_backward)
    assert_saves_png(fig, tmp_path / "fig_7_7.png")


def test_layer_statistics_plot_can_show_every_child_or_chosen_ones(fig_7_7_inputs):
    model = deep_relu_net(None, seed=0)
    fig = plot_layer_statistics(model, fig_7_7_inputs, layers="all")
    assert [len(line.get_xdata()) for line in fig.axes[0].get_lines()] == [2 * DEPTH + 1]
    assert fig.axes[0].get_legend() is None  # one model: nothing to tell apart
    own = Figure()
    axes = own.subplots(1, 2)
    returned = plot_layer_statistics(model, fig_7_7_inputs, axes=axes,
                                     layers=lambda layer: isinstance(layer, nn.Linear))
    assert returned is own
    assert [len(line.get_xdata()) for line in axes[1].get_lines()] == [DEPTH + 1]
    with pytest.raises(ValueError, match="layers must be"):
        plot_layer_statistics(model, fig_7_7_inputs, layers="hidden")


def test_layer_statistics_plot_leaves_a_gap_where_the_variance_is_zero():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    nn.init.zeros_(model[0].weight)
    nn.init.constant_(model[0].bias, -1.0)  # every ReLU unit dead: variance exactly 0
    fig = plot_layer_statistics(model, TINY_X)
    assert np.isnan(fig.axes[0].get_lines()[0].get_ydata()).all()


# ----- activation histograms -----
def relu_stack(depth, seed, width=30):
    generator = np.random.default_rng(seed)
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width, generator=generator), nn.ReLU()]
    return nn.Sequential(*layers)


def activations_of(model, inputs):
    x, outputs = Tensor(inputs), []
    for layer in model:
        x = layer(x)
        if isinstance(layer, nn.ReLU):
            outputs.append(x.data)
    return outputs


HIST_X = np.random.default_rng(7).normal(size=(40, 30))


def test_histograms_grid_has_a_row_per_model_and_a_column_per_hidden_layer(tmp_path):
    models = {"a": relu_stack(4, seed=0), "b": relu_stack(4, seed=1)}
    fig = plot_activation_histograms(models, HIST_X, bins=20, title="init")
    assert len(fig.axes) == 8  # 2 rows x 4 layers
    rows = [fig.axes[:4], fig.axes[4:]]
    for (label, model), row in zip(models.items(), rows):
        assert row[0].get_ylabel() == label
        for position, (ax, activation) in enumerate(zip(row, activations_of(model, HIST_X)), 1):
            assert ax.get_title() == f"layer {position}: std {np.std(activation):.2g}"
            assert len(ax.patches) == 1  # the histogram, as one filled outline
        assert len({ax.get_xlim() for ax in row}) == 1  # one range per row: spreads compare
    assert fig.get_suptitle() == "init"
    assert_saves_png(fig, tmp_path / "histograms.png")


def test_histograms_keep_first_and_last_layers_when_thinned_and_hide_missing_ones():
    models = {"deep": relu_stack(6, seed=0), "shallow": relu_stack(2, seed=0)}
    fig = plot_activation_histograms(models, HIST_X, max_layers=3, share_range=False)
    assert len(fig.axes) == 6
    titles = [ax.get_title().split(":")[0] for ax in fig.axes]
    assert titles[:3] == ["layer 1", "layer 3", "layer 6"]  # evenly spaced: 1, 3.5 → 3, 6
    assert titles[3:5] == ["layer 1", "layer 2"] and not fig.axes[5].get_visible()
    assert fig.axes[0].get_xlim() != fig.axes[2].get_xlim()  # each with its own range


def test_histograms_run_forward_only_and_check_bins():
    model = relu_stack(2, seed=0)
    plot_activation_histograms(model, HIST_X)
    assert all(p.grad is None for p in model.parameters())
    with pytest.raises(ValueError, match="bins"):
        plot_activation_histograms(model, HIST_X, bins=0)


# ----- decision boundary -----
def band_containing(fig, points):
    """For each point, the class of the filled contour band it lies in (-1 if none)."""
    ax = fig.axes[0]
    (contour,) = [c for c in ax.collections if isinstance(c, ContourSet)]
    found = np.full(len(points), -1)
    for k, path in enumerate(contour.get_paths()):
        found[path.contains_points(points)] = k
    return found


def scatter_counts(fig):
    ax = fig.axes[0]
    return [len(c.get_offsets()) for c in ax.collections if not isinstance(c, ContourSet)]


@pytest.fixture(scope="module")
def trained_moons_model():
    X, y = make_moons(100, noise=0.1, random_state=0)
    model = nn.MLP(2, [16, 16], 1, generator=0)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.02)
    inputs, targets = Tensor(X), Tensor(2.0 * y[:, None] - 1.0)
    for _ in range(100):
        loss = nn.functional.hinge_loss(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, X, y


def test_decision_boundary_of_a_trained_tensor_mlp(trained_moons_model, tmp_path):
    model, X, y = trained_moons_model
    fig = plot_decision_boundary(model, X, y, title="moons")
    ax = fig.axes[0]
    assert ax.get_title() == "moons"
    assert scatter_counts(fig) == [int((y == 0).sum()), int((y == 1).sum())]
    assert ax.get_legend_handles_labels()[1] == ["class 0", "class 1"]
    predicted = (model(Tensor(X)).data[:, 0] > 0).astype(int)
    assert (predicted == y).mean() > 0.9  # it learnt the moons
    # The drawn regions are the model's decisions (up to the grid's resolution).
    assert (band_containing(fig, X) == predicted).mean() > 0.95
    x_low, x_high = ax.get_xlim()
    assert x_low < X[:, 0].min() and x_high > X[:, 0].max()
    assert_saves_png(fig, tmp_path / "moons.png")


def test_decision_boundary_takes_minus_one_plus_one_labels_and_into_given_axes(
        trained_moons_model):
    model, X, y = trained_moons_model
    ax = Figure().add_subplot()
    fig = plot_decision_boundary(model, X, 2 * y - 1, ax=ax, resolution=40)
    assert fig is ax.figure
    assert ax.get_legend_handles_labels()[1] == ["class -1", "class +1"]


def test_decision_boundary_uses_eval_mode_and_no_grad_then_restores():
    model = nn.Sequential(nn.Linear(2, 8, generator=0), nn.ReLU(), nn.Dropout(0.5, generator=0),
                          nn.Linear(8, 1, generator=1))
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(int)
    first = band_containing(plot_decision_boundary(model, X, y, resolution=30), X)
    second = band_containing(plot_decision_boundary(model, X, y, resolution=30), X)
    assert (first == second).all()  # dropout was off: the same picture twice
    assert all(module.training for module in model.modules())
    assert all(p.grad is None for p in model.parameters())


def test_decision_boundary_argmax_of_logits_and_threshold_for_probabilities():
    X = np.array([[2.0, 0.1], [0.1, 2.0], [-2.0, -2.0], [1.5, 0.0], [-1.0, -1.5]])
    y = np.array([0, 1, 2, 0, 2])
    logits = nn.Linear(2, 3, bias=False)
    logits.weight.data = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    fig = plot_decision_boundary(logits, X, y, resolution=60)
    (contour,) = [c for c in fig.axes[0].collections if isinstance(c, ContourSet)]
    assert contour.levels.tolist() == [-0.5, 0.5, 1.5, 2.5]
    assert scatter_counts(fig) == [2, 1, 2]
    assert band_containing(fig, X).tolist() == y.tolist()

    probability = nn.Sequential(nn.Linear(2, 1, bias=False), nn.Sigmoid())
    probability[0].weight.data = np.array([[1.0, 0.0]])  # P(class 1) = sigmoid(x0)
    points = np.array([[-1.0, 0.0], [-0.3, 1.0], [0.3, 0.0], [1.0, 1.0]])
    fig = plot_decision_boundary(probability, points, [0, 0, 1, 1], threshold=0.5, resolution=41)
    assert band_containing(fig, points).tolist() == [0, 0, 1, 1]


def scalar_mlp_scoring_x0_minus_x1():
    """micrograd's MLP 2-2-1 with weights set: relu(x0 - x1) - relu(x1 - x0) = x0 - x1."""
    model = nn.scalar.MLP(2, [2], 1, generator=0)
    hidden, (out,) = model.layers[0].neurons, model.layers[1].neurons
    for neuron, weights in zip(hidden, ([1.0, -1.0], [-1.0, 1.0])):
        for w, value in zip(neuron.w, weights):
            w.data = value
    for w, value in zip(out.w, [1.0, -1.0]):
        w.data = value
    return model


SCALAR_X = np.array([[1.0, 0.0], [0.0, 1.0], [0.8, 0.1], [0.2, 0.9]])
SCALAR_Y = [1, -1, 1, -1]


def test_decision_boundary_of_a_scalar_mlp_is_evaluated_point_by_point(tmp_path):
    model = scalar_mlp_scoring_x0_minus_x1()
    assert [model(list(p)).data for p in SCALAR_X] == pytest.approx([1.0, -1.0, 0.7, -0.7])
    fig = plot_decision_boundary(model, SCALAR_X, SCALAR_Y, resolution=8)  # Values: detected
    assert band_containing(fig, SCALAR_X).tolist() == [1, 0, 1, 0]
    assert scatter_counts(fig) == [2, 2]
    assert fig.axes[0].get_legend_handles_labels()[1] == ["class -1", "class +1"]
    assert all(p.grad == 0 for p in model.parameters())  # evaluated under no_grad
    assert_saves_png(fig, tmp_path / "scalar.png")


def test_decision_boundary_asks_a_callable_one_point_at_a_time_on_a_coarse_grid():
    model = scalar_mlp_scoring_x0_minus_x1()
    calls = []

    def counted(point):
        calls.append((type(point), len(point), is_grad_enabled()))
        return model(point)

    fig = plot_decision_boundary(counted, SCALAR_X, SCALAR_Y, resolution=6, pointwise=True)
    assert calls == [(list, 2, False)] * 36
    assert band_containing(fig, SCALAR_X).tolist() == [1, 0, 1, 0]
    calls.clear()  # told nothing, it asks one point first, then a coarse 30 x 30 grid
    plot_decision_boundary(counted, SCALAR_X, SCALAR_Y)
    assert calls == [(list, 2, False)] * (1 + 30 * 30)


@pytest.mark.parametrize("X, y, message", [
    (np.zeros((5, 3)), np.zeros(5), r"shape \(n, 2\).*\(5, 3\)"),
    (np.zeros(4), np.zeros(4), r"shape \(n, 2\).*\(4,\)"),
    (np.zeros((4, 2)), np.zeros(3), "3 labels for 4 points"),
    (np.zeros((3, 2)), [0.5, 1.0, 0.0], "labels must be"),
    (np.zeros((3, 2)), [-1, 0, 1], "-1 must all be -1 or \\+1"),
])
def test_decision_boundary_rejects_bad_data_clearly(trained_moons_model, X, y, message):
    model, _, _ = trained_moons_model
    with pytest.raises(ValueError, match=message):
        plot_decision_boundary(model, X, y)
