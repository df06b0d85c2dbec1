"""Graph stress: very deep chains, very wide fan-outs, shared subgraphs, freed graphs, memory.

The README promises that nothing recurses (a chain of millions of operations back-propagates
with Python's default recursion limit) and that a dropped graph is freed at once by reference
counting. Both are checked here, with the gradients against closed forms:

- deep chains run under a recursion limit only a little above the current stack depth, so
  any recursion proportional to the graph's depth fails with ``RecursionError``;
- ``Value`` and ``Tensor`` have no ``__weakref__`` slot (nodes are lean on purpose), so a node
  is tracked through its label: a ``str`` subclass that can be weakly referenced and that
  only the node holds. Its weak reference dies exactly when the node is freed. Counts of live
  nodes in ``gc.get_objects()`` (taken with the cyclic collector off) back that up.

Heavy variants (a million-op ``Tensor`` chain, a wide ``stack``) run only with
``AUTOGRAD_CORE_HEAVY=1``.
"""
from __future__ import annotations

import contextlib
import gc
import math
import os
import sys
import tracemalloc
import weakref

import numpy as np
import pytest
from hypothesis import given, strategies as st

import nn
from autograd_core import Tape, Tensor, Value, detect_anomaly, grad, manual_seed
from autograd_core import functional as F
from autograd_core.graph import backward_steps
from nn.data import make_moons
from viz import draw_dot

HEAVY = os.environ.get("AUTOGRAD_CORE_HEAVY") == "1"
heavy = pytest.mark.skipif(not HEAVY, reason="heavy variant: set AUTOGRAD_CORE_HEAVY=1")

RATE = 1.0000001  # each step multiplies by RATE and adds 1: values stay finite for 1e6 steps


# ----- helpers -----
@contextlib.contextmanager
def shallow_stack(headroom: int = 200):
    """Allow only ``headroom`` frames beyond the current depth: recursion over a graph fails."""
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + headroom)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


@contextlib.contextmanager
def cyclic_gc_off():
    """Only reference counting frees objects inside (garbage from before is collected first)."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class TrackedLabel(str):
    """A label that can be weakly referenced; the node holding it is its only owner."""


def track(node, name: str = "tracked") -> weakref.ref:
    """A weak reference that dies when ``node`` is freed."""
    label = TrackedLabel(name)
    node.label = label
    return weakref.ref(label)


def live(node_type) -> int:
    return sum(1 for obj in gc.get_objects() if type(obj) is node_type)


def total(node):
    return node if isinstance(node, Value) else node.sum()


def make_leaf(node_type, *values):
    if node_type is Value:
        return Value(values[0])
    return Tensor(np.array(values, dtype=float), requires_grad=True)


def affine_chain(x, steps: int):
    """``x ← RATE·x + 1``, ``steps`` times: ``2·steps`` ops deep."""
    for _ in range(steps):
        x = x * RATE + 1.0
    return x


def closed_form_chain(x0: float, steps: int) -> tuple[float, float]:
    """The value and the derivative of ``affine_chain`` at ``x0``."""
    power = RATE ** steps
    return power * x0 + (power - 1) / (RATE - 1), power


# ----- deep chains -----
@pytest.mark.parametrize("node_type, depth", [
    pytest.param(Value, 10**6, id="value-1e6"),
    pytest.param(Tensor, 10**5, id="tensor-1e5"),
    pytest.param(Tensor, 10**6, id="tensor-1e6", marks=heavy),
])
def test_a_deep_chain_backpropagates_without_recursion(node_type, depth):
    x0 = make_leaf(node_type, 0.5, -2.0)
    # The cyclic collector's passes over a million live nodes would double the time; they
    # are not what this tests (nothing here makes a cycle).
    with shallow_stack(), cyclic_gc_off():
        y = affine_chain(x0, depth // 2)
        values = np.atleast_1d(y.data)
        total(y).backward()
        del y  # freeing a million nested nodes must not recurse either
    for start, value, gradient in zip(np.atleast_1d(x0.data), values, np.atleast_1d(x0.grad)):
        expected_value, expected_gradient = closed_form_chain(float(start), depth // 2)
        assert math.isclose(value, expected_value, rel_tol=1e-9)
        assert math.isclose(gradient, expected_gradient, rel_tol=1e-9)


@heavy
def test_a_million_op_chain_draws():
    x = Value(0.5)
    with shallow_stack():
        drawing = draw_dot(affine_chain(x, 5 * 10**5), max_nodes=50)
    assert "more nodes not drawn" in drawing.source


# Every other way through a graph must be iterative as well.
def gradient_by_backward(build, x):
    total(build(x)).backward()
    return x.grad


def gradient_by_grad(build, x):
    return grad(total(build(x)), x)[0]


def gradient_by_create_graph(build, x):
    total(build(x)).backward(create_graph=True)
    return x.grad.data


def gradient_by_tape(build, x):
    with Tape() as tape:
        y = total(build(x))
    return tape.gradient(y, x)


def gradient_by_backward_steps(build, x):
    return sum(share for _, _, shares in backward_steps(total(build(x)))
               for parent, share in shares if parent is x)


def gradient_under_anomaly_detection(build, x):
    with detect_anomaly():
        total(build(x)).backward()
    return x.grad


def gradient_with_a_hook(build, x):
    handle = x.register_hook(lambda g: None)  # hooks send backward through the general sweep
    try:
        total(build(x)).backward()
    finally:
        handle.remove()
    return x.grad


def gradient_after_drawing(build, x):
    root = total(build(x))
    assert "more nodes not drawn" in draw_dot(root, max_nodes=50).source
    root.backward()
    return x.grad


WAYS_THROUGH_A_GRAPH = [
    pytest.param(Value, gradient_by_backward, id="value-backward"),
    pytest.param(Value, gradient_by_grad, id="value-grad"),
    pytest.param(Value, gradient_by_create_graph, id="value-create-graph"),
    pytest.param(Value, gradient_by_tape, id="value-tape"),
    pytest.param(Value, gradient_by_backward_steps, id="value-backward-steps"),
    pytest.param(Value, gradient_under_anomaly_detection, id="value-detect-anomaly"),
    pytest.param(Value, gradient_after_drawing, id="value-draw-dot"),
    pytest.param(Tensor, gradient_by_grad, id="tensor-grad"),
    pytest.param(Tensor, gradient_by_create_graph, id="tensor-create-graph"),
    pytest.param(Tensor, gradient_by_tape, id="tensor-tape"),
    pytest.param(Tensor, gradient_with_a_hook, id="tensor-hook"),
]


@pytest.mark.parametrize("node_type, way", WAYS_THROUGH_A_GRAPH)
def test_every_way_through_a_deep_graph_is_iterative(node_type, way):
    steps = 15_000  # 30,000 ops: far deeper than the 200 frames allowed
    x = make_leaf(node_type, 0.5)
    with shallow_stack():
        gradient = way(lambda x: affine_chain(x, steps), x)
    assert math.isclose(float(np.squeeze(gradient)), closed_form_chain(0.5, steps)[1],
                        rel_tol=1e-9)


# ----- wide fan-out -----
@pytest.mark.parametrize("node_type", [Value, Tensor])
def test_a_leaf_used_by_a_hundred_thousand_nodes_gets_every_contribution(node_type):
    n = 10**5
    x = make_leaf(node_type, 1.5, -3.0)
    with cyclic_gc_off():
        terms = [x * float(i) for i in range(n)]
        total(sum(terms)).backward()
    # sum(i) is an integer below 2**53: every partial sum is exact, so the gradient is too
    np.testing.assert_array_equal(x.grad, np.full(np.shape(x.data), n * (n - 1) / 2))


@pytest.mark.parametrize("join", [F.stack, F.cat], ids=["stack", "cat"])
def test_a_join_of_many_tensors_sends_each_its_part(join):
    n = 500
    x = make_leaf(Tensor, 1.5, -3.0)
    join([x * float(i) for i in range(n)]).sum().backward()
    np.testing.assert_array_equal(x.grad, [n * (n - 1) / 2] * 2)


@pytest.mark.parametrize("join, n", [(F.stack, 100_000), (F.cat, 100_000)], ids=["stack", "cat"])
def test_a_join_of_a_hundred_thousand_tensors_back_propagates(join, n):
    """Once quadratic (each of n VJPs got all n inputs copied in: a 1e5-input stack took
    minutes); the rows of variadic ops now take their inputs as one tuple, and this runs in
    about a second. No timing is asserted: a quadratic backward would stall the suite."""
    x = make_leaf(Tensor, 1.5, -3.0)
    join([x * float(i) for i in range(n)]).sum().backward()
    np.testing.assert_array_equal(x.grad, [n * (n - 1) / 2] * 2)


# ----- one subgraph shared by two losses -----
def shared_and_losses(a, b):
    shared = (a * b).tanh() + a.sin() * b
    return shared, total(shared * shared), total(shared * 3.0)


def node_pair(node_type, a, b):
    if node_type is Value:
        return Value(a), Value(b)
    return (Tensor(np.array([a, -b, a * b]), requires_grad=True),
            Tensor(np.array([b, a, 0.5]), requires_grad=True))


finite = st.floats(-2.0, 2.0, allow_nan=False)


@pytest.mark.parametrize("node_type", [Value, Tensor])
@given(a=finite, b=finite)
def test_separate_backwards_of_two_losses_equal_one_backward_of_their_sum(node_type, a, b):
    leaves = node_pair(node_type, a, b)
    shared, loss1, loss2 = shared_and_losses(*leaves)
    if node_type is Tensor:
        shared.retain_grad()
    loss1.backward(retain_graph=True)
    loss2.backward(retain_graph=True)
    separately = [np.copy(leaf.grad) for leaf in leaves]
    # the intermediate keeps the gradient of the latest backward only: d(3·shared)/dshared
    np.testing.assert_array_equal(shared.grad, np.full(np.shape(shared.data), 3.0))

    fresh = node_pair(node_type, a, b)
    _, fresh_loss1, fresh_loss2 = shared_and_losses(*fresh)
    (fresh_loss1 + fresh_loss2).backward()
    for apart, together in zip(separately, [leaf.grad for leaf in fresh]):
        np.testing.assert_allclose(apart, together, rtol=1e-12, atol=1e-14)

    # the retained graph takes a third backward; the leaves accumulate all of them
    (loss1 + loss2).backward()
    for leaf, apart in zip(leaves, separately):
        np.testing.assert_allclose(leaf.grad, 2 * apart, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("node_type", [Value, Tensor])
def test_a_loss_whose_shared_part_was_freed_by_the_other_raises_before_touching_grads(node_type):
    leaves = node_pair(node_type, 0.3, -1.2)
    _, loss1, loss2 = shared_and_losses(*leaves)
    loss1.backward(retain_graph=True)
    loss2.backward()  # frees the shared part
    before = [np.copy(leaf.grad) for leaf in leaves]
    with pytest.raises(RuntimeError, match="second time"):
        loss1.backward()
    for leaf, grad_before in zip(leaves, before):
        np.testing.assert_array_equal(leaf.grad, grad_before)


# ----- a node whose graph was freed -----
@pytest.mark.parametrize("node_type", [Value, Tensor])
def test_a_node_of_a_freed_graph_keeps_its_data_and_can_be_used_again(node_type):
    x = make_leaf(node_type, 0.7, -0.4)
    y = (x * x).tanh()
    total(y).backward()
    grad_after_first = np.copy(x.grad)
    expected = np.tanh(np.asarray(x.data) ** 2)
    np.testing.assert_array_equal(y.data, expected)  # the data outlives the saved context

    z = y * 2.0  # building on it works...
    np.testing.assert_array_equal(z.data, 2 * expected)
    with pytest.raises(RuntimeError, match="second time"):  # ...backward through it does not
        total(z).backward()
    np.testing.assert_array_equal(x.grad, grad_after_first)  # and changed no gradient

    detached = y.detach() * 2.0  # a detached copy starts a graph of its own, with no history
    assert not detached.requires_grad and detached.parents == ()
    total(x * 3.0).backward()  # the leaf was never freed: new graphs on it work
    np.testing.assert_array_equal(x.grad, grad_after_first + 3.0)


# ----- memory -----
def test_training_an_mlp_for_a_thousand_steps_leaves_memory_flat():
    manual_seed(0)
    points, labels = make_moons(64, noise=0.1)
    inputs = Tensor(points)
    model = nn.MLP(2, [16, 16], 2)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)

    def train(steps):
        for _ in range(steps):
            loss = nn.functional.cross_entropy(model(inputs), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return loss.item()

    tracemalloc.start()
    try:
        first_loss = train(10)
        gc.collect()
        after_10 = tracemalloc.get_traced_memory()[0]
        last_loss = train(990)
        gc.collect()
        after_1000 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert last_loss < first_loss  # it trained
    # a graph kept per step would be ~50 nodes and ~30 KB: 30 MB after 990 steps
    assert after_1000 - after_10 < 1_000_000, f"grew by {after_1000 - after_10:,} bytes"


# ----- dropped graphs are freed by reference counting -----
def drop_without_backward(root, leaves):
    pass


def drop_after_backward(root, leaves):
    total(root).backward()


def drop_after_retained_backward(root, leaves):
    total(root).backward(retain_graph=True)


def drop_after_grad(root, leaves):
    grad(total(root), list(leaves))


def drop_after_grad_with_create_graph(root, leaves):
    first = grad(total(root), list(leaves), create_graph=True)  # gradients with history...
    total(first[0]).backward()  # ...differentiated again, then dropped with the rest


WAYS_TO_DROP = [drop_without_backward, drop_after_backward, drop_after_retained_backward,
                drop_after_grad, drop_after_grad_with_create_graph]


@pytest.mark.parametrize("node_type", [Value, Tensor])
@pytest.mark.parametrize("use", WAYS_TO_DROP, ids=lambda use: use.__name__)
def test_a_dropped_graph_is_freed_without_the_cyclic_collector(node_type, use):
    def build(a, b):
        product = a * b
        hidden = product.tanh() + a.exp() * 2.0
        return product, hidden, hidden * hidden + b

    a, b = make_leaf(node_type, 0.5, 1.5), make_leaf(node_type, -1.0, 2.0)
    use(build(a, b)[2], (a, b))  # once first: a Tensor graph caches its number constants
    with cyclic_gc_off():
        nodes_before = live(node_type)
        product, hidden, root = build(a, b)
        tracked = [track(product, "product"), track(hidden, "hidden"), track(root, "root")]
        arrays = [weakref.ref(product.data)] if node_type is Tensor else []
        use(root, (a, b))
        assert all(ref() is not None for ref in tracked)
        del product, hidden, root
        assert [ref() for ref in tracked] == [None] * 3
        assert [ref() for ref in arrays] == [None] * len(arrays)
        assert live(node_type) <= nodes_before


@pytest.mark.parametrize("node_type", [Value, Tensor])
def test_after_create_graph_backward_clearing_the_gradients_frees_the_graph(node_type):
    # backward(create_graph=True) stores gradients that are nodes with history, and that
    # history holds the graph: x.grad holds x (a cycle, as in PyTorch), and a Value
    # intermediate's gradient holds its child (tanh's rule uses its output). Clearing the
    # gradients breaks every cycle: Value.zero_grad() on the root clears the whole graph's.
    x = make_leaf(node_type, 0.5, 1.5)
    with cyclic_gc_off():
        hidden = (x * x).tanh()
        root = total(hidden * 3.0)
        tracked = track(hidden, "hidden")
        root.backward(create_graph=True)
        del hidden
        if node_type is Value:
            root.zero_grad()
        else:
            x.grad = None
        del root
        assert tracked() is None


@pytest.mark.parametrize("node_type", [Value, Tensor])
def test_create_graph_gradients_refer_to_their_graph_as_the_readme_says(node_type):
    """The documented exception: a gradient made with create_graph=True is a node of a graph
    that uses the leaf (x.grad -> ... -> x), a cycle, as in PyTorch. The cycle collector frees
    it; clearing the gradients first frees it at once (the test above)."""
    x = make_leaf(node_type, 0.5, 1.5)
    with cyclic_gc_off():
        tracked_leaf = track(x, "x")
        hidden = (x * x).tanh()
        tracked_hidden = track(hidden, "hidden")
        total(hidden * 3.0).backward(create_graph=True)
        del hidden, x
        leaked = (tracked_leaf() is not None, tracked_hidden() is not None)
    gc.collect()
    assert leaked == (True, True)  # kept alive by the cycle until the collector runs...
    assert tracked_leaf() is None and tracked_hidden() is None  # ...which frees it


@pytest.mark.parametrize("node_type", [Value, Tensor])
def test_a_tape_releases_what_it_recorded_once_it_has_answered(node_type):
    x = make_leaf(node_type, 0.5, 1.5)
    with cyclic_gc_off():
        with Tape() as tape:
            inner = x * 3.0
            y = total(inner.sin())
            side = x.cos()  # recorded, but not on the way to y
        tracked_inner, tracked_side = track(inner, "inner"), track(side, "side")
        del inner, side
        assert tracked_side() is not None  # only the tape holds it
        tape.gradient(y, x)
        assert tracked_side() is None and len(tape) == 0
        assert tracked_inner() is not None  # y still needs it...
        del y
        assert tracked_inner() is None  # ...and nothing else does


@pytest.mark.parametrize("node_type", [Value, Tensor])
def test_a_persistent_tape_holds_its_record_until_it_is_dropped(node_type):
    x = make_leaf(node_type, 0.5, 1.5)
    with cyclic_gc_off():
        with Tape(persistent=True) as tape:
            y = total(x * 3.0)
            side = x.cos()
        tracked_side = track(side, "side")
        del side
        first, second = tape.gradient(y, x), tape.gradient(y, x)
        np.testing.assert_array_equal(first, second)
        assert tracked_side() is not None
        del tape
        assert tracked_side() is None
