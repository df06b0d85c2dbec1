"""The documented semantics of backward, grad mode, detach and the Tape, and bad input."""
import threading

import numpy as np
import pytest

from autograd_core import Tape, Value, enable_grad, is_grad_enabled, maximum, no_grad, set_grad_enabled


def quadratic():
    x = Value(3.0, label="x")
    h = x * x
    y = h + x
    return x, h, y


# ----- accumulation and retain_graph -----

def test_leaf_gradients_accumulate_until_zero_grad():
    x = Value(2.0)
    (x * x).backward()
    (x * x).backward()
    assert x.grad == 8.0
    y = x * 3
    y.zero_grad()
    assert x.grad == 0.0 and y.grad == 0.0


def test_second_backward_without_retain_graph_raises_and_says_what_to_do():
    x, h, y = quadratic()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    assert x.grad == 7.0  # the failed call touched nothing


def test_backward_through_a_freed_subgraph_from_a_new_root_raises_before_touching_grads():
    x, h, y = quadratic()
    y.backward()
    z = h * 2
    with pytest.raises(RuntimeError, match="second time"):
        z.backward()
    assert x.grad == 7.0


def test_retain_graph_backward_twice_gives_exactly_twice():
    x, h, y = quadratic()
    y.backward(retain_graph=True)
    first = x.grad
    y.backward()
    assert x.grad == 2 * first == 14.0


def test_intermediate_gradients_never_feed_a_later_backward():
    """micrograd issue #53: a second root sharing an intermediate node."""
    x = Value(3.0)
    h = x * x
    y1 = h + 1
    y2 = h * 2
    y1.backward(retain_graph=True)  # y2 shares h: keep the graph for its backward
    assert h.grad == 1.0 and x.grad == 6.0
    y2.backward()
    assert h.grad == 2.0  # this backward's gradient, not 1 + 2
    assert x.grad == 6.0 + 12.0


def test_every_value_keeps_its_gradient():
    x, h, y = quadratic()
    y.backward()
    assert (y.grad, h.grad, x.grad) == (1.0, 1.0, 7.0)


def test_backward_with_an_explicit_seed():
    x, h, y = quadratic()
    y.backward(grad=0.5)
    assert x.grad == 3.5
    x2, _, y2 = quadratic()
    y2.backward(grad=Value(2.0))
    assert x2.grad == 14.0


@pytest.mark.parametrize("bad", ["1.0", [1.0], np.ones(2), object()])
def test_backward_rejects_a_seed_of_the_wrong_kind(bad):
    _, _, y = quadratic()
    with pytest.raises(TypeError, match="backward"):
        y.backward(grad=bad)


def test_backward_on_a_leaf_sets_its_gradient():
    x = Value(2.0)
    x.backward()
    assert x.grad == 1.0


# ----- detach, no_grad, enable_grad -----

def test_detach_has_the_same_data_and_no_history():
    x, h, _ = quadratic()
    d = h.detach()
    assert d.data == h.data and d.parents == () and not d.requires_grad
    out = d * x
    out.backward()
    assert x.grad == 9.0 and h.grad == 0.0


def test_no_grad_records_nothing_and_enable_grad_records_again():
    x = Value(2.0)
    with no_grad():
        assert not is_grad_enabled()
        y = x * x
        with enable_grad():
            z = x * x
    assert is_grad_enabled()
    assert not y.requires_grad and y.parents == ()
    assert z.requires_grad and z.parents == (x, x)
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_as_a_decorator_and_set_grad_enabled_as_a_call():
    @no_grad()
    def square(v):
        return v * v

    assert not square(Value(2.0)).requires_grad
    assert is_grad_enabled()
    set_grad_enabled(False)
    try:
        assert not (Value(1.0) * 2).requires_grad
    finally:
        set_grad_enabled(True)
    with set_grad_enabled(False):
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_the_grad_modes_decorate_bare_as_pytorchs_do_and_set_grad_enabled_too():
    @no_grad
    def square(v):
        return v * v

    @set_grad_enabled(False)
    def cube(v):
        return v * v * v

    assert is_grad_enabled()  # (the constructor switched it off; decorating gives it back)
    assert not square(Value(2.0)).requires_grad and not cube(Value(2.0)).requires_grad
    assert is_grad_enabled()


def test_a_decorated_generator_runs_its_body_in_the_mode_and_its_caller_in_its_own():
    """As in PyTorch: the mode holds at every step of the generator, and only there."""
    w = Value(3.0)
    modes_inside = []

    @no_grad()
    def batches():
        sent = yield w * 2
        modes_inside.append(is_grad_enabled())
        try:
            yield w * sent
        except KeyError:
            modes_inside.append(is_grad_enabled())
            yield w * 4
        return "done"

    steps = batches()
    first = next(steps)
    assert not first.requires_grad and is_grad_enabled()
    assert (w * 2).requires_grad  # the caller records between steps
    second = steps.send(5.0)
    assert second.data == 15.0 and not second.requires_grad
    assert not steps.throw(KeyError()).requires_grad
    with pytest.raises(StopIteration) as stop:
        next(steps)
    assert stop.value.value == "done" and modes_inside == [False, False]
    assert is_grad_enabled()


def test_no_grad_is_per_thread():
    inside, done = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with no_grad():
            inside.set()
            done.wait(5)
            seen["worker"] = (Value(1.0) * 2).requires_grad

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    seen["main"] = (Value(1.0) * 2).requires_grad
    done.set()
    t.join()
    assert seen == {"worker": False, "main": True}


# ----- the Tape -----

def test_tape_gradient_matches_backward_and_leaves_grad_alone():
    x = Value(0.7)
    with Tape() as tape:
        y = (x * 2).sin() * x
    (g,) = tape.gradient(y, [x])
    assert x.grad == 0.0
    y.backward()
    assert g == pytest.approx(x.grad, rel=1e-15)


def test_tape_answers_once_unless_persistent():
    x = Value(2.0)
    with Tape() as tape:
        y = x * x
    assert tape.gradient(y, x) == 4.0
    with pytest.raises(RuntimeError, match="persistent=True"):
        tape.gradient(y, x)
    with Tape(persistent=True) as tape:
        y = x * x
        z = y * x
    assert tape.gradient(y, x) == 4.0
    assert tape.gradient(z, [x, y]) == [12.0, 2.0]


def test_tape_records_in_order_and_only_inside_the_block():
    x = Value(1.0)
    before = x * 2
    with Tape() as tape:
        a = before + 1
        with no_grad():
            x * 5  # not recorded: nothing to differentiate
        b = a.exp()
    after = b * 3
    assert tape.operations == [a, b]
    assert after not in tape.operations


def test_tape_gradient_of_an_unconnected_source_is_none_and_sources_must_be_nodes():
    x, other = Value(1.0), Value(2.0)
    with Tape(persistent=True) as tape:
        y = x * 3
    assert tape.gradient(y, [x, other]) == [3.0, None]
    with pytest.raises(TypeError, match="nodes"):
        tape.gradient(y, [1.0])


def test_tape_prints_the_forward_pass_like_the_lecture():
    x = Value(1.5, label="x")
    p = {n: Value(v, label=n) for n, v in
         dict(b0=0.1, w0=0.2, b1=0.3, w1=0.4, b2=0.5, w2=0.6, b3=0.7, w3=0.8).items()}
    y = Value(2.0, label="y")
    with Tape() as tape:
        f0 = p["b0"] + p["w0"] * x
        h1 = f0.sin()
        f1 = p["b1"] + p["w1"] * h1
        h2 = f1.exp()
        f2 = p["b2"] + p["w2"] * h2
        h3 = f2.cos()
        f3 = p["b3"] + p["w3"] * h3
        loss = (f3 - y) ** 2
    for name, node in dict(f0=f0, h1=h1, f1=f1, h2=h2, f2=f2, h3=h3, f3=f3, l=loss).items():
        node.label = name
    lines = str(tape).splitlines()
    assert [line.split("    # ")[0] for line in lines] == [
        "t0 = w0 * x", "f0 = b0 + t0", "h1 = sin(f0)",
        "t1 = w1 * h1", "f1 = b1 + t1", "h2 = exp(f1)",
        "t2 = w2 * h2", "f2 = b2 + t2", "h3 = cos(f2)",
        "t3 = w3 * h3", "f3 = b3 + t3", "t4 = f3 - y", "l = t4 ** 2"]
    values = [float(line.split("    # ")[1]) for line in lines]
    assert values[:3] == [0.3, 0.4, pytest.approx(np.sin(0.4), rel=1e-5)]
    assert values[-1] == pytest.approx(loss.data, rel=1e-5)


# ----- bad input -----

@pytest.mark.parametrize("bad", ["3", None, [1.0], 1j, np.ones(3)])
def test_a_value_must_be_a_real_number(bad):
    with pytest.raises(TypeError, match="real number"):
        Value(bad)


@pytest.mark.parametrize("bad", ["a", None, [1.0], 1j])
def test_operators_reject_non_numbers_naming_the_type(bad):
    v = Value(1.0)
    with pytest.raises(TypeError, match=type(bad).__name__):
        v + bad
    with pytest.raises(TypeError):
        bad * v  # for sequences Python's message names 'Value' instead
    with pytest.raises(TypeError, match=type(bad).__name__):
        maximum(v, bad)


def test_numbers_of_every_real_kind_mix_in_as_constants():
    v = Value(2.0)
    for number in (3, 3.0, True, np.float32(3.0), np.int64(3), np.float64(3.0)):
        out = v * number
        assert type(out) is Value and type(out.data) is float
    assert type(np.float64(2.0) * v) is Value  # numpy defers to Value


def test_comparisons_use_the_data_and_nodes_hash_by_identity():
    a, b = Value(1.0), Value(1.0)
    assert a == b and a <= 1 and a < 2 and b > 0.5 and a != 3
    assert len({a, b}) == 2


def test_repr_and_item():
    v = Value(2.5, label="v")
    assert repr(v) == "Value(data=2.5, grad=0, label='v')"
    assert v.item() == 2.5 and float(v) == 2.5
    assert f"{v:.2f}" == "2.50" and f"{v}" == str(v)
    x = Value(2.0)
    (x ** 3).backward(create_graph=True)  # the gradient is a Value: repr shows its data
    assert repr(x) == "Value(data=2, grad=12)"


def test_requires_grad_can_be_changed_on_leaves_only():
    c = Value(2.0, requires_grad=False)
    assert not (c * 3).requires_grad
    c.requires_grad = True
    y = c * 3
    assert y.requires_grad and y.op == "mul" and not y.is_leaf and c.is_leaf and c.op == ""
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


def test_a_freed_graph_still_shows_its_structure_for_drawing():
    x, h, y = quadratic()
    y.backward()
    assert y.parents == (h, x) and h.parents == (x, x) and y.op == "add" and h.op == "mul"
