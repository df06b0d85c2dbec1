"""Plots for learning backprop: training curves, the initialisation experiment of
Understanding Deep Learning's fig. 7.7, activation histograms per layer, and micrograd's
decision boundary.

Every function returns a ``matplotlib.figure.Figure``: Jupyter shows it inline and
``fig.savefig("plot.png")`` writes it. Figures are built with ``Figure`` itself, never with
``matplotlib.pyplot``, so nothing here needs a display or a GUI backend (a server, CI, a
notebook kernel without a screen). Functions drawing one picture take ``ax=`` to draw into
your own axes instead (they then return ``ax.figure``).

    >>> from viz.plots import plot_history
    >>> fig = plot_history([1.0, 0.6, 0.4, 0.3])
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['loss']

The layer functions run a model child by child (an ``nn.Sequential``, or any module whose
children are applied in the order they were set) and look at each child's output: its
variance in the forward pass and the variance of the loss's gradient with respect to it in
the backward pass. By default they show the outputs of the activation layers, the hidden
units of the lecture's figures.
"""
from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

import nn
from autograd_core import Tensor, Value, no_grad

__all__ = ["plot_history", "layer_statistics", "plot_layer_statistics",
           "plot_activation_histograms", "plot_decision_boundary", "ACTIVATION_LAYERS"]

# The layers whose outputs are hidden units: what layers="activations" selects.
ACTIVATION_LAYERS = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.Softplus, nn.GELU)


def _new_figure(ax, figsize):
    """(figure, axes): ``ax`` and its figure, or a new figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _number(x) -> float:
    """A float from a number, a ``Value`` or a one-element ``Tensor`` (what learners append)."""
    if isinstance(x, (Value, Tensor)):
        x = x.data
    return float(np.asarray(x, dtype=np.float64).item())


def _labelled(model_or_models) -> list[tuple[str, object]]:
    """[(label, model)]: a dict's items, or one model labelled by its class name."""
    if isinstance(model_or_models, Mapping):
        if not model_or_models:
            raise ValueError("no models to plot: the dict is empty")
        return [(str(label), model) for label, model in model_or_models.items()]
    return [(type(model_or_models).__name__, model_or_models)]


# ----------------------------------------------------------------------------------------
# Training curves
# ----------------------------------------------------------------------------------------
def _named_series(history) -> dict[str, np.ndarray]:
    """``history`` as {name: float array}; a bare sequence is the series "loss"."""
    if isinstance(history, (str, bytes)) or not hasattr(history, "__iter__"):
        raise TypeError(f"plot_history: history must be a sequence of numbers or a dict of "
                        f"them, got {type(history).__name__}")
    items = history.items() if isinstance(history, Mapping) else [("loss", history)]
    series = {}
    for name, values in items:
        try:
            series[str(name)] = np.array([_number(v) for v in values], dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"plot_history: series {name!r} must be a sequence of numbers "
                             f"(or one-element Values/Tensors)") from None
    if not series:
        raise ValueError("plot_history: history is empty")
    return series


def plot_history(history, *, ax=None, title=None, logy=False, xlabel="step"):
    """Training curves: a sequence of numbers (drawn as "loss") or a dict name → sequence.

    Each series is drawn against its own index (0, 1, 2, ...). Series whose name contains
    "acc" (accuracy) go on a second y-axis on the right, so that a loss and an accuracy in
    [0, 1] can share a plot; ``logy`` puts the left axis (the losses) on a log scale. Items
    may be numbers or one-element ``Value``s/``Tensor``s.

        >>> fig = plot_history({"loss": [0.9, 0.5, 0.3], "accuracy": [0.5, 0.8, 0.9]}, logy=True)
        >>> loss_axes, accuracy_axes = fig.axes
        >>> loss_axes.get_yscale(), [line.get_label() for line in accuracy_axes.get_lines()]
        ('log', ['accuracy'])
        >>> fig.savefig(__import__("io").BytesIO())  # or fig.savefig("history.png")
    """
    series = _named_series(history)
    fig, ax = _new_figure(ax, (6.0, 4.0))
    on_right = {name for name in series if "acc" in name.lower()}
    if len(on_right) == len(series):  # nothing to share the plot with: one axis is enough
        on_right = set()
    right = ax.twinx() if on_right else None
    for i, (name, values) in enumerate(series.items()):
        # Explicit colours: the twin axes would otherwise restart the colour cycle.
        # A point with no finite neighbour joins no segment: a marker shows it.
        alone = _isolated(values)
        (right if name in on_right else ax).plot(
            np.arange(len(values)), values, color=f"C{i % 10}", label=name,
            **({"marker": "o", "markersize": 4, "markevery": alone} if alone else {}))
    left_names = [name for name in series if name not in on_right]
    ax.set_xlabel(xlabel)
    ax.set_ylabel(left_names[0] if len(left_names) == 1 else "value")
    if logy:
        ax.set_yscale("log")
    if right is not None:
        _style_accuracy_axis(right, [series[name] for name in on_right])
    if len(series) > 1:
        handles = ax.get_lines() + (right.get_lines() if right is not None else [])
        # On the top-most axes, so that the right axis' lines do not cover the legend.
        (right or ax).legend(handles=handles, labels=[h.get_label() for h in handles])
    if title:
        ax.set_title(title)
    return fig


def _isolated(values: np.ndarray) -> list[int]:
    """Indices of the finite values whose neighbours are missing or not finite: a line
    through the series draws nothing there."""
    finite = np.isfinite(values)
    before = np.concatenate([[False], finite[:-1]])
    after = np.concatenate([finite[1:], [False]])
    return np.flatnonzero(finite & ~before & ~after).tolist()


def _style_accuracy_axis(ax, accuracies) -> None:
    ax.set_ylabel("accuracy")
    values = np.concatenate(accuracies)
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() >= 0 and finite.max() <= 1:  # fractions: show all of [0, 1]
        ax.set_ylim(-0.02, 1.02)


# ----------------------------------------------------------------------------------------
# Running a model layer by layer
# ----------------------------------------------------------------------------------------
class _LayerRecord(NamedTuple):
    name: str
    layer: object  # the child module
    output: Tensor


def _ordered_children(model) -> list[tuple[str, object]]:
    """(name, child) in the order the model applies them; nested Sequentials are opened.

    A Sequential's children are in order by definition; for another module this relies on
    its children being set in the order its forward applies them (documented). The walk
    uses a stack, not recursion, so deep models are fine.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected an nn.Module whose children are applied in order "
                        f"(e.g. nn.Sequential), got {type(model).__name__}")
    ordered = []
    stack = list(reversed(list(model.named_children())))
    while stack:
        name, child = stack.pop()
        if isinstance(child, nn.Sequential):  # a block: its own children, still in order
            stack.extend((f"{name}.{inner}", grandchild)
                         for inner, grandchild in reversed(list(child.named_children())))
        else:
            ordered.append((name, child))
    if not ordered:
        raise ValueError(f"{type(model).__name__} has no child modules to look inside")
    return ordered


def _run_layer_by_layer(model, inputs, *, retain_grads: bool) -> list[_LayerRecord]:
    """Apply the model's children in turn to ``inputs``, keeping every output."""
    children = _ordered_children(model)
    if any(isinstance(p, Value) for p in model.parameters()):
        raise TypeError(f"{type(model).__name__} is made of Values (nn.scalar): the layer "
                        f"plots need a Tensor model, such as an nn.Sequential of nn layers")
    array = np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs)
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    # A fresh input that requires grad: every output then has a gradient, even with frozen
    # parameters, and the caller's tensor is left alone.
    x = Tensor(array, requires_grad=retain_grads)
    records = []
    for name, layer in children:
        x = layer(x)
        if not isinstance(x, Tensor):
            raise TypeError(f"layer {name} ({type(layer).__name__}) returned a "
                            f"{type(x).__name__}, not a Tensor: the layer plots need a "
                            f"tensor model (nn.Sequential of nn layers)")
        if retain_grads and x.requires_grad:
            x.retain_grad()  # an intermediate tensor forgets its .grad after backward otherwise
        records.append(_LayerRecord(name, layer, x))
    return records


def _half_sum_of_squares(output):
    """½·Σ output²: least squares against a zero target, the lecture's fig. 7.7 loss.

    Its gradient with respect to the output is the output itself.
    """
    return (output * output).sum() / 2


@contextlib.contextmanager
def _parameter_grads_kept(model):
    """Put every parameter's ``.grad`` back afterwards: looking must not change training."""
    parameters = list(model.parameters())
    saved = [p.grad for p in parameters]
    try:
        yield
    finally:
        for parameter, grad in zip(parameters, saved):
            parameter.grad = grad


def _variance(array) -> float:
    return float("nan") if array is None else float(np.var(array))


class _LayerStatistics(NamedTuple):
    name: str
    layer: object
    activation_variance: float
    gradient_variance: float


def _statistics_records(model, inputs, loss=None) -> list[_LayerStatistics]:
    """The variances of every child's output and of its gradient, in order."""
    records = _run_layer_by_layer(model, inputs, retain_grads=True)
    objective = (loss or _half_sum_of_squares)(records[-1].output)
    with _parameter_grads_kept(model):
        objective.backward()
    return [_LayerStatistics(record.name, record.layer, _variance(record.output.data),
                             _variance(record.output.grad)) for record in records]


def layer_statistics(model, inputs, loss=None) -> dict:
    """Variance of each layer's output and of the loss's gradient w.r.t. it (fig. 7.7's numbers).

    ``model`` is an ``nn.Sequential`` (nested ones are opened) or a module whose children
    are applied in the order they were set; its children are run one by one on ``inputs``
    (a Tensor or array, a batch of rows), each output gets ``retain_grad()``, and
    ``loss(final output)`` is back-propagated. The default loss is the lecture's least squares
    to a zero target, ``(output ** 2).sum() / 2``, whose gradient at the output is the output
    itself. Variances are over all elements (batch and units), as ``np.var``.

    Returns ``{"names": [...], "types": [...], "activation_variance": [...],
    "gradient_variance": [...]}``, one entry per child (``types`` are class names; a
    gradient that does not exist is ``nan``). The parameters' ``.grad`` are left as they
    were; the model runs in the mode it is in (``train()``/``eval()``).

        >>> import numpy as np, nn
        >>> model = nn.Sequential(nn.Linear(3, 4, generator=0), nn.ReLU(),
        ...                       nn.Linear(4, 2, generator=1))
        >>> stats = layer_statistics(model, np.random.default_rng(0).normal(size=(8, 3)))
        >>> stats["names"], stats["types"]
        (['0', '1', '2'], ['Linear', 'ReLU', 'Linear'])
        >>> stats["gradient_variance"][-1] == stats["activation_variance"][-1]  # dL/dout = out
        True
    """
    rows = _statistics_records(model, inputs, loss)
    return {"names": [row.name for row in rows],
            "types": [type(row.layer).__name__ for row in rows],
            "activation_variance": [row.activation_variance for row in rows],
            "gradient_variance": [row.gradient_variance for row in rows]}


def _select_layers(records, layers, max_layers=None):
    """The records (anything with ``.layer``) to show, with their 1-based positions.

    ``layers``: "activations" (outputs of ``ACTIVATION_LAYERS``, i.e. hidden units; all
    children if the model has none), "all", or a predicate on the child module.
    """
    if layers == "all":
        chosen = list(records)
    elif layers == "activations":
        chosen = [r for r in records if isinstance(r.layer, ACTIVATION_LAYERS)] or list(records)
    elif callable(layers):
        chosen = [r for r in records if layers(r.layer)]
    else:
        raise ValueError(f"layers must be 'activations', 'all' or a function of the layer "
                         f"module, got {layers!r}")
    if not chosen:
        raise ValueError("no layer of the model was selected by the layers= predicate")
    positions = np.arange(1, len(chosen) + 1)
    if max_layers is not None and len(chosen) > max_layers:
        # Evenly spaced, always with the first and last layer: the trend stays visible.
        keep = np.unique(np.linspace(0, len(chosen) - 1, max_layers).round().astype(int))
        chosen, positions = [chosen[i] for i in keep], positions[keep]
    return chosen, positions


def _positive_or_gap(values) -> np.ndarray:
    """Values for a log axis: zero, negative or infinite ones become gaps (nan)."""
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def plot_layer_statistics(model_or_models, inputs, *, loss=None, layers="activations",
                          axes=None, title=None):
    """The lecture's fig. 7.7: (a) activation variance and (b) gradient variance per layer.

    ``model_or_models`` is a model or a dict label → model (one line each), e.g. the same
    architecture initialised with different variances. All get the same ``inputs``; ``loss``
    as in :func:`layer_statistics`. ``layers`` picks the children shown: "activations" (the
    default: outputs of activation layers, the hidden units), "all", or a function of the
    child module (``lambda m: isinstance(m, nn.Linear)`` for pre-activations). Both y-axes
    are logarithmic. ``axes``: a pair of axes to draw into instead of a new figure.

        >>> import numpy as np, nn
        >>> models = {f"seed {s}": nn.MLP(10, [10] * 3, 1, generator=s) for s in (0, 1)}
        >>> fig = plot_layer_statistics(models, np.ones((4, 10)))
        >>> [len(ax.get_lines()) for ax in fig.axes], fig.axes[1].get_yscale()
        ([2, 2], 'log')
    """
    models = _labelled(model_or_models)
    if axes is None:
        fig = Figure(figsize=(10.0, 4.0), layout="constrained")
        forward_ax, backward_ax = fig.subplots(1, 2)
    else:
        forward_ax, backward_ax = axes
        fig = forward_ax.figure
    for i, (label, model) in enumerate(models):
        rows, positions = _select_layers(_statistics_records(model, inputs, loss), layers)
        style = {"color": f"C{i % 10}", "label": label, "marker": "." if len(rows) < 30 else None}
        forward_ax.plot(positions, _positive_or_gap([r.activation_variance for r in rows]), **style)
        backward_ax.plot(positions, _positive_or_gap([r.gradient_variance for r in rows]), **style)
    xlabel = "hidden layer" if layers == "activations" else "layer"
    captions = ("(a) forward pass: variance of the activations",
                "(b) backward pass: variance of the gradients")
    for ax, caption in zip((forward_ax, backward_ax), captions):
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("variance (log scale)")
        ax.set_title(caption, fontsize="medium")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(models) > 1:
        forward_ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


# ----------------------------------------------------------------------------------------
# Histograms of the activations
# ----------------------------------------------------------------------------------------
def _histogram_edges(arrays, bins):
    """Common bin edges for ``arrays`` (finite values only; a constant gets a unit-wide range)."""
    finite = [a[np.isfinite(a)] for a in arrays]
    finite = [a for a in finite if a.size]
    if not finite:
        return np.linspace(-0.5, 0.5, bins + 1)
    low = min(float(a.min()) for a in finite)
    high = max(float(a.max()) for a in finite)
    if low == high:  # e.g. every unit dead at 0: still draw the spike
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, bins + 1)


def _draw_histogram(ax, values, edges, position) -> None:
    finite = values[np.isfinite(values)]
    # One filled outline, not a rectangle per bin: a 4 x 10 grid stays quick to draw.
    ax.hist(finite, bins=edges, color="C0", histtype="stepfilled")
    ax.set_yticks([])  # the counts do not matter, the spread does
    ax.tick_params(labelsize="x-small")
    spread = f"std {finite.std():.2g}" if finite.size else "no finite values"
    ax.set_title(f"layer {position}: {spread}", fontsize="small")


def plot_activation_histograms(model_or_models, inputs, *, bins=50, layers="activations",
                               max_layers=10, share_range=True, title=None):
    """Histograms of each layer's activations: rows are models, columns layers.

    The lecture's comparison of small, large, Xavier and He initialisation with tanh and
    ReLU: activations that collapse to 0 or spread out layer after layer. ``model_or_models``
    is a model or a dict label → model; all get the same ``inputs`` (a forward pass only,
    under ``no_grad``). ``layers`` as in :func:`plot_layer_statistics`; at most
    ``max_layers`` columns are drawn (evenly spaced, first and last included).
    ``share_range``: the same bins for all layers of a row, so the spreads compare at a
    glance; False gives each histogram its own range. Each panel's title gives its std.

        >>> import numpy as np, nn
        >>> models = {"tanh": nn.MLP(20, [20] * 4, 1, activation="tanh", generator=0),
        ...           "relu": nn.MLP(20, [20] * 4, 1, generator=0)}
        >>> fig = plot_activation_histograms(models, np.ones((16, 20)), bins=10, max_layers=3)
        >>> len(fig.axes), [ax.get_title().split(":")[0] for ax in fig.axes[:3]]  # 2 x 3 panels
        (6, ['layer 1', 'layer 3', 'layer 4'])
    """
    if not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    models = _labelled(model_or_models)
    rows = []
    with no_grad():  # only the forward pass is looked at
        for label, model in models:
            records = _run_layer_by_layer(model, inputs, retain_grads=False)
            rows.append((label, *_select_layers(records, layers, max_layers)))
    n_columns = max(len(chosen) for _, chosen, _ in rows)
    fig = Figure(figsize=(1.9 * n_columns + 0.8, 1.5 * len(rows) + 0.7), layout="constrained")
    grid = fig.subplots(len(rows), n_columns, squeeze=False)
    for row_axes, (label, chosen, positions) in zip(grid, rows):
        arrays = [np.asarray(record.output.data, dtype=np.float64).ravel() for record in chosen]
        shared_edges = _histogram_edges(arrays, bins) if share_range else None
        for ax, values, position in zip(row_axes, arrays, positions):
            edges = shared_edges if share_range else _histogram_edges([values], bins)
            _draw_histogram(ax, values, edges, position)
        for unused in row_axes[len(chosen):]:  # a model with fewer layers than another
            unused.set_visible(False)
        row_axes[0].set_ylabel(label)
    if title:
        fig.suptitle(title)
    return fig


# ----------------------------------------------------------------------------------------
# Decision boundary of a 2-d classifier
# ----------------------------------------------------------------------------------------
def _points_2d(X) -> np.ndarray:
    X = np.asarray(X.data if isinstance(X, Tensor) else X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
        raise ValueError(f"plot_decision_boundary: X must have shape (n, 2), two features to "
                         f"draw on a plane, got shape {X.shape}")
    return X


def _class_indices(y, n_points: int) -> tuple[np.ndarray, list[str]]:
    """(each point's class index, the class names): labels {0,1}, {-1,+1} or 0..C-1.

    Index 1 is the positive side of a score (score > threshold), so -1/+1 map to 0/1.
    """
    labels = np.asarray(y.data if isinstance(y, Tensor) else y).reshape(-1)
    if len(labels) != n_points:
        raise ValueError(f"plot_decision_boundary: {len(labels)} labels for {n_points} points")
    if labels.dtype.kind not in "biuf" or not np.all(labels == np.round(labels)):
        raise ValueError("plot_decision_boundary: labels must be 0/1, -1/+1 or class indices")
    labels = labels.astype(np.int64)
    if np.any(labels == -1):
        if not np.all(np.isin(labels, (-1, 1))):
            raise ValueError("plot_decision_boundary: labels with -1 must all be -1 or +1")
        return (labels > 0).astype(np.int64), ["-1", "+1"]
    if labels.min() < 0:
        raise ValueError("plot_decision_boundary: labels must be 0/1, -1/+1 or class indices")
    return labels, [str(k) for k in range(int(labels.max()) + 1)]


def _evaluates_pointwise(model) -> bool:
    """Whether ``model`` takes one point (a list of 2 floats) rather than a batch Tensor."""
    if isinstance(model, nn.Module):
        return any(isinstance(p, Value) for p in model.parameters())
    # A plain callable: ask it about one point, as micrograd's demo calls its model.
    try:
        with no_grad():
            answer = model([0.0, 0.0])
    except (TypeError, ValueError, AttributeError, IndexError):
        return False
    return not isinstance(answer, Tensor)


def _decide(scores: np.ndarray, threshold: float) -> np.ndarray:
    """Class per row: score > threshold for one score per point, argmax for C ≥ 2 logits."""
    if scores.ndim == 2 and scores.shape[1] > 1:
        return scores.argmax(axis=1)
    return (scores.reshape(len(scores)) > threshold).astype(np.int64)


def _classify_batch(model, grid, threshold):
    output = model(Tensor(grid))
    scores = np.asarray(output.data if isinstance(output, Tensor) else output, dtype=np.float64)
    if scores.ndim == 0 or len(scores) != len(grid) or scores.ndim > 2:
        raise ValueError(f"plot_decision_boundary: the model gave shape {scores.shape} for "
                         f"{len(grid)} points; expected (n,), (n, 1) or (n, classes)")
    return _decide(scores, threshold)


def _classify_pointwise(model, grid, threshold):
    def scores_of(output):  # a Value, a number, or a list of them (one per class)
        items = output if isinstance(output, (list, tuple)) else [output]
        return [_number(item) for item in items]

    scores = np.array([scores_of(model([float(a), float(b)])) for a, b in grid])
    return _decide(scores, threshold)


@contextlib.contextmanager
def _eval_mode(model):
    """Evaluate with dropout off and running statistics, then restore every module's mode."""
    if not isinstance(model, nn.Module):
        yield
        return
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


def _grid_around(X, resolution, margin):
    if not isinstance(resolution, (int, np.integer)) or resolution < 2:
        raise ValueError(f"resolution must be an integer ≥ 2, got {resolution!r}")
    low, high = X.min(axis=0), X.max(axis=0)
    span = np.where(high > low, high - low, 1.0)  # one point or a line still gets a plane
    low, high = low - margin * span, high + margin * span
    return np.meshgrid(np.linspace(low[0], high[0], resolution),
                       np.linspace(low[1], high[1], resolution))


def plot_decision_boundary(model, X, y, *, ax=None, resolution=None, margin=0.1,
                           threshold=0.0, pointwise=None, title=None):
    """micrograd's picture of a 2-d classifier: its decision over the plane, and the data.

    ``X`` (n, 2) and labels ``y`` (0/1, -1/+1 or class indices 0..C-1). The model is asked
    about a ``resolution`` × ``resolution`` grid reaching ``margin`` (a fraction of the data's
    range) beyond the data, under ``no_grad`` and in ``eval()`` mode (modes restored after):

    - a tensor model gets the whole grid as one Tensor; one score per point (n, 1) is
      class +1/1 where it is above ``threshold`` (0 for scores and logits, 0.5 for a
      sigmoid output), and (n, C) logits give the argmax;
    - ``nn.scalar.MLP`` (a module with ``Value`` parameters), or a callable taking a list of
      2 floats and returning a ``Value`` (or a list of them), is asked point by point, so
      its default grid is coarser (30 × 30, not 200 × 200). ``pointwise`` forces either way.

        >>> import numpy as np
        >>> from nn.scalar import MLP
        >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
        >>> model = MLP(2, [4], 1, generator=0)
        >>> fig = plot_decision_boundary(model, X, [-1, 1, 1, -1], resolution=8)
        >>> fig.axes[0].get_legend_handles_labels()[1]
        ['class -1', 'class +1']
    """
    X = _points_2d(X)
    point_classes, class_names = _class_indices(y, len(X))
    if pointwise is None:
        pointwise = _evaluates_pointwise(model)
    if resolution is None:
        resolution = 30 if pointwise else 200
    xx, yy = _grid_around(X, resolution, margin)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    with no_grad(), _eval_mode(model):
        classify = _classify_pointwise if pointwise else _classify_batch
        decision = classify(model, grid, threshold).reshape(xx.shape)

    n_classes = max(len(class_names), int(decision.max()) + 1)
    colours = [f"C{k % 10}" for k in range(n_classes)]
    fig, ax = _new_figure(ax, (5.5, 4.5))
    # Levels halfway between the class indices: each class fills its own band.
    ax.contourf(xx, yy, decision, levels=np.arange(n_classes + 1) - 0.5, colors=colours,
                alpha=0.3)
    for k, name in enumerate(class_names):
        members = point_classes == k
        if members.any():
            ax.scatter(X[members, 0], X[members, 1], s=20, color=colours[k],
                       edgecolors="black", linewidths=0.5, label=f"class {name}")
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return fig
