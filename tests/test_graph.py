"""Graph structure: converging paths, huge fan-in and depth, random DAGs, freeing."""
import gc
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import Tape, Value

EPS = 1e-6


def test_converging_paths_sum():
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0 and b.grad == 2.0 and c.grad == 1.0


def test_parents_keep_order_and_multiplicity():
    a, b = Value(1.0), Value(2.0)
    assert (a * a).parents == (a, a)
    assert (b - a).parents == (b, a)
    assert a.parents == () and (-a).parents == (a,)


def test_lecture_chain_rule_example():
    """e = (a + b)(b + 1) at a = 2, b = 1 (seed 001): de/da = b + 1, de/db = a + 2b + 1."""
    a, b = Value(2.0), Value(1.0)
    e = (a + b) * (b + 1)
    e.backward()
    assert (e.data, a.grad, b.grad) == (6.0, 2.0, 5.0)


def test_a_leaf_used_100000_times():
    x = Value(0.5)
    y = x
    for _ in range(99_999):
        y = y + x
    y.backward()
    assert x.grad == 100_000.0


def test_million_deep_chain_back_propagates_and_frees_with_the_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10_000
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0 + 0.0  # two ops a step: two million deep
    y.backward()
    assert x.grad == 1.0
    del y  # freeing a deep chain must not overflow the C stack either
    assert x.grad == 1.0


def count_values():
    # (type, not isinstance: isinstance reads __class__, which some of torch's deprecated
    # module objects answer with a FutureWarning when torch was imported by another test)
    return sum(1 for o in gc.get_objects() if type(o) is Value)


def test_no_reference_cycles_a_dropped_graph_is_freed_by_reference_counting():
    gc.collect()
    before = count_values()
    gc.disable()
    try:
        w = [Value(0.1 * i) for i in range(10)]
        loss = sum((wi * wi).tanh() * wi for wi in w).relu()
        with Tape() as tape:
            extra = loss * 2
        extra.backward(retain_graph=True)
        tape.gradient(extra, w)
        del loss, extra, tape
        assert count_values() == before + 10  # only the leaves are left
        del w
        assert count_values() == before
        assert gc.collect() == 0  # nothing of ours needed the cyclic collector
    finally:
        gc.enable()


# ----- random DAGs: backward == Tape.gradient == finite differences -----

UNARY = ["tanh", "sin", "sigmoid", "softplus", "cos"]
BINARY = ["add", "sub", "mul"]


@st.composite
def dags(draw, max_leaves=4, max_ops=12):
    """A program: leaves, then ops that each read earlier nodes (shared subexpressions)."""
    n_leaves = draw(st.integers(1, max_leaves))
    leaves = draw(st.lists(st.floats(-1.5, 1.5), min_size=n_leaves, max_size=n_leaves))
    program = []
    for k in range(draw(st.integers(1, max_ops))):
        n_nodes = n_leaves + k
        if draw(st.booleans()):
            program.append((draw(st.sampled_from(UNARY)), draw(st.integers(0, n_nodes - 1))))
        else:
            program.append((draw(st.sampled_from(BINARY)), draw(st.integers(0, n_nodes - 1)),
                            draw(st.integers(0, n_nodes - 1))))
    return leaves, program


def run(program, leaves):
    nodes = list(leaves)
    for name, *args in program:
        ins = [nodes[i] for i in args]
        if name == "add":
            nodes.append(ins[0] + ins[1])
        elif name == "sub":
            nodes.append(ins[0] - ins[1])
        elif name == "mul":
            nodes.append(ins[0] * ins[1])
        else:
            nodes.append(getattr(ins[0], name)())
    # every node reaches the output, through one or more paths
    return sum(nodes[len(leaves):], nodes[-1])


@given(dags())
def test_random_dags_backward_equals_tape_equals_finite_differences(dag):
    values, program = dag
    leaves = [Value(v) for v in values]
    with Tape() as tape:
        out = run(program, leaves)
    from_tape = tape.gradient(out, leaves)
    out.backward()
    for i, leaf in enumerate(leaves):
        assert leaf.grad == pytest.approx(from_tape[i] or 0.0, rel=1e-12, abs=1e-12)

        def f(t):
            shifted = [Value(v) for v in values]
            shifted[i] = Value(t)
            return run(program, shifted).data
        numerical = (f(values[i] + EPS) - f(values[i] - EPS)) / (2 * EPS)
        assert leaf.grad == pytest.approx(numerical, rel=1e-3, abs=1e-5)
