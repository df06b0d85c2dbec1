"""Grad mode, tapes and anomaly detection are per thread.

``autograd_core/graph.py`` keeps the recording state in a ``threading.local`` (``_GradMode``:
recording on or off, the open recorders, the innermost anomaly detection), so ``no_grad`` /
``set_grad_enabled`` / ``enable_grad``, a ``Tape`` and ``detect_anomaly`` in one thread leave
every other thread alone; process-wide counts (threads with recording off, open recorders)
only let node construction skip the per-thread lookup while nobody needs it.

The threads here are choreographed with barriers, so every interleaving is the one written
down: "thread A is inside no_grad while thread B builds a graph and back-propagates", not
"probably, if the scheduler agrees". A failing worker breaks the barrier, so the others stop
waiting at once and the first real error is the one reported.
"""
from __future__ import annotations

import random
import sys
import threading

import numpy as np
import pytest

from autograd_core import (Tape, Tensor, Value, detect_anomaly, enable_grad, grad, graph,
                           is_anomaly_enabled, is_grad_enabled, maximum, no_grad,
                           set_detect_anomaly, set_grad_enabled)

TIMEOUT = 5.0  # seconds any one wait may take; the whole file runs in well under a second


def run_threads(*workers, barrier: threading.Barrier | None = None) -> None:
    """Run each worker in a thread of its own and wait for all of them; re-raise the first
    error (a worker's own error before the BrokenBarrierErrors it causes in the others)."""
    errors = []

    def guarded(worker):
        try:
            worker()
        except BaseException as error:  # noqa: BLE001 -- reported in the main thread
            errors.append(error)
            if barrier is not None:
                barrier.abort()

    threads = [threading.Thread(target=guarded, args=(w,), daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    errors.sort(key=lambda e: isinstance(e, threading.BrokenBarrierError))
    if errors:
        raise errors[0]


@pytest.fixture(autouse=True)
def process_state_is_restored():
    """Every test leaves the process as it found it: the main thread records, detects no
    anomaly, and the process-wide counts are back where they were (a count left too high
    would send every node of every thread through the per-thread lookup for good)."""
    before = (graph.threads_without_grad, graph.open_tapes, graph.hooks_registered)
    yield
    assert is_grad_enabled() and not is_anomaly_enabled()
    assert (graph.threads_without_grad, graph.open_tapes, graph.hooks_registered) == before


# ----- what "recording" means, on every way a node is built -----

# Each maker builds a node from leaves that need a gradient, by one of the construction
# paths of the library: Value's inlined binary operators and unary methods, the general
# ``_result`` path (ops with parameters, maximum), and Tensor's ``_apply``.
MAKERS = {
    "Value operator": lambda: Value(2.0) * Value(3.0),
    "Value method": lambda: Value(2.0).tanh(),
    "Value op with a parameter": lambda: Value(-2.0).leaky_relu(0.1),
    "maximum": lambda: maximum(Value(1.0), 2.0),
    "Tensor operator": lambda: Tensor([1.0, 2.0], requires_grad=True) * 2.0,
    "Tensor method": lambda: Tensor([1.0, 2.0], requires_grad=True).exp().sum(),
}


def assert_recording(expected: bool, who: str = "") -> None:
    """This thread's mode is ``expected``, and every way of building a node agrees."""
    assert is_grad_enabled() is expected, who
    built = {name: make() for name, make in MAKERS.items()}
    assert {name: node.requires_grad for name, node in built.items()} == \
        {name: expected for name in MAKERS}, who
    assert {name: bool(node.parents) for name, node in built.items()} == \
        {name: expected for name in MAKERS}, who


def check_a_full_backward() -> None:
    """Build graphs, back-propagate them (first and second order) and check the numbers:
    what a recording thread does while another thread has recording off."""
    x = Value(3.0)
    y = x * x * x + x.tanh()
    y.backward(create_graph=True)
    first = x.grad  # 3x^2 + 1 - tanh(x)^2, a Value with history
    assert first.data == pytest.approx(27.0 + 1.0 - np.tanh(3.0) ** 2, rel=1e-12)
    (second,) = grad(first, x)
    assert second == pytest.approx(18.0 - 2 * np.tanh(3.0) * (1 - np.tanh(3.0) ** 2), rel=1e-12)
    w = Tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    v = Tensor([2.0, -1.0])
    ((w @ v).relu() ** 2).sum().backward()
    np.testing.assert_array_equal(w.grad, [[16.0, -8.0], [0.0, 0.0]])


# ----- how a thread turns recording off: each runs ``body`` with recording off -----

def _inside_no_grad(body):
    with no_grad():
        body()


def _inside_set_grad_enabled(body):
    with set_grad_enabled(False):
        body()


def _after_calling_set_grad_enabled(body):
    set_grad_enabled(False)
    try:
        body()
    finally:
        set_grad_enabled(True)


@no_grad()
def _inside_a_no_grad_function(body):
    body()


def _inside_enable_grad_inside_no_grad_then_no_grad(body):
    with no_grad(), enable_grad(), no_grad():
        body()


WAYS_TO_STOP_RECORDING = pytest.mark.parametrize("stop_recording", [
    _inside_no_grad, _inside_set_grad_enabled, _after_calling_set_grad_enabled,
    _inside_a_no_grad_function, _inside_enable_grad_inside_no_grad_then_no_grad,
], ids=lambda f: f.__name__.strip("_").replace("_", " "))


@WAYS_TO_STOP_RECORDING
def test_a_thread_without_recording_leaves_another_recording(stop_recording):
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    def quiet():
        def body():
            assert_recording(False, "quiet, inside")
            barrier.wait()  # 1: the recorder may start
            barrier.wait()  # 2: the recorder has built and back-propagated its graphs
            assert_recording(False, "quiet, still inside")
        stop_recording(body)
        assert_recording(True, "quiet, after")
        barrier.wait()  # 3

    def recorder():
        barrier.wait()  # 1
        assert_recording(True, "recorder")
        check_a_full_backward()
        barrier.wait()  # 2
        barrier.wait()  # 3
        assert_recording(True, "recorder, after the other left")

    run_threads(quiet, recorder, barrier=barrier)


@WAYS_TO_STOP_RECORDING
def test_a_recording_thread_toggling_its_own_mode_leaves_another_without_recording(
        stop_recording):
    """The other direction: while one thread has recording off (and back-propagates a graph
    built before), another turns recording off and on again in every way; the first stays off
    throughout, including while the other is inside its own no_grad and right after it left."""
    barrier = threading.Barrier(2, timeout=TIMEOUT)
    x = Value(2.0)
    built_before = x * x  # the quiet thread back-propagates it with recording off

    def quiet():
        def body():
            for step in range(1, 6):
                barrier.wait()  # the recorder changes its mode...
                assert_recording(False, f"quiet, step {step}")
                barrier.wait()  # ...and checks its own
            built_before.backward()
            assert x.grad == 4.0
        stop_recording(body)
        assert_recording(True, "quiet, after")

    def recorder():
        def step(expected):
            barrier.wait()
            barrier.wait()
            assert_recording(expected, "recorder")
        with no_grad():
            step(False)  # 1: both off
            with enable_grad():
                step(True)  # 2
        step(True)  # 3: the recorder left its no_grad, the other did not
        with set_grad_enabled(False):
            step(False)  # 4
        set_grad_enabled(False)
        set_grad_enabled(True)
        step(True)  # 5
        check_a_full_backward()

    run_threads(quiet, recorder, barrier=barrier)


def test_a_new_thread_records_whatever_the_thread_that_started_it_does():
    """Grad mode is not inherited, as in PyTorch: a thread starts recording."""
    seen = {}

    def worker():
        seen["recording"] = is_grad_enabled()
        seen["node"] = (Value(1.0) * 2).requires_grad

    with no_grad():
        run_threads(worker)
        assert not (Value(1.0) * 2).requires_grad
    assert seen == {"recording": True, "node": True}


def test_a_thread_that_ends_with_recording_off_gives_back_its_share_of_the_count():
    """``set_grad_enabled(False)`` with no way back, then the thread ends: its state goes
    with it, and so must its share of the count (the fixture checks the count; left raised,
    every other thread's nodes would take the per-thread lookup for good)."""
    during = []

    def quit_recording():
        set_grad_enabled(False)
        during.append(graph.threads_without_grad)

    before = graph.threads_without_grad
    run_threads(quit_recording, quit_recording)
    assert during and min(during) >= before + 1
    assert graph.threads_without_grad == before
    assert (Value(1.0, requires_grad=True) * 2).requires_grad


def test_many_threads_switching_modes_in_lockstep_each_see_only_their_own():
    """Eight threads, twelve steps: at each step every thread enters or leaves one of the
    mode contexts (a seeded random schedule), then all check their own mode while the others
    are in every mix of states; at the end every thread has left all of its contexts."""
    threads, steps = 8, 12
    barrier = threading.Barrier(threads, timeout=TIMEOUT)
    openers = [(no_grad, False), (enable_grad, True),  # (make a context, the mode inside)
               (lambda: set_grad_enabled(False), False), (lambda: set_grad_enabled(True), True)]

    def worker(seed):
        schedule = random.Random(seed)
        entered = []  # (context, the mode inside it), innermost last
        for step in range(steps):
            if entered and schedule.random() < 0.4:
                context, _ = entered.pop()
                context.__exit__(None, None, None)
            else:
                make, mode = schedule.choice(openers)
                context = make()
                context.__enter__()
                entered.append((context, mode))
            expected = entered[-1][1] if entered else True
            barrier.wait()  # everybody has changed their mode for this step
            assert_recording(expected, f"thread {seed}, step {step}")
            barrier.wait()  # everybody has checked before anybody changes again
        while entered:
            entered.pop()[0].__exit__(None, None, None)
        assert_recording(True, f"thread {seed}, at the end")

    run_threads(*[lambda seed=seed: worker(seed) for seed in range(threads)], barrier=barrier)


def test_threads_building_and_differentiating_graphs_at_once_get_their_own_answers():
    """No barriers: eight threads, half of them switching recording off and on between
    graphs, build and back-propagate small graphs as fast as they can, with the interpreter
    switching threads every few microseconds. Every answer must be its own thread's."""
    threads, rounds = 8, 150
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)

    def worker(index):
        for k in range(rounds):
            a = float(index + 1)
            x = Value(a)
            t = Tensor([a, -a], requires_grad=True)
            if index % 2 and k % 3 == 0:
                with no_grad():
                    assert not (x * x).requires_grad and not (t * t).requires_grad
            y = (x * x).tanh() + x.leaky_relu(0.5)
            y.backward()
            assert x.grad == pytest.approx(2 * a * (1 - np.tanh(a * a) ** 2) + 1.0, rel=1e-15)
            (t * t).sum().backward()
            np.testing.assert_array_equal(t.grad, [2 * a, -2 * a])

    try:
        run_threads(*[lambda i=i: worker(i) for i in range(threads)])
    finally:
        sys.setswitchinterval(old_interval)


def test_a_function_decorated_with_no_grad_gives_each_caller_its_own_mode_back():
    """The decorator enters a context of its own per call, so two threads inside the same
    function at once, one that was recording and one that was not, each get their own mode
    back; here the one that entered first returns first."""
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    @no_grad()
    def inference(inside):
        assert_recording(False, "inside")
        inside()

    def recording_caller():
        def inside():
            barrier.wait()  # 1: in first
            barrier.wait()  # 2: the other is in too
        inference(inside)
        assert_recording(True, "recording caller, returned first")
        barrier.wait()  # 3

    def quiet_caller():
        def inside():
            barrier.wait()  # 2
            barrier.wait()  # 3: the other has returned
        with set_grad_enabled(False):
            barrier.wait()  # 1
            inference(inside)
            assert_recording(False, "quiet caller, returned")
        assert_recording(True, "quiet caller, after set_grad_enabled")

    run_threads(recording_caller, quiet_caller, barrier=barrier)


def test_one_no_grad_object_shared_by_threads_restores_each_threads_own_mode():
    """A module-level ``inference_mode = no_grad()`` used as ``with inference_mode:`` in
    worker threads: each thread must get back the mode it had before entering."""
    shared = no_grad()
    barrier = threading.Barrier(2, timeout=TIMEOUT)
    after = {}

    def recording_before():
        with shared:
            barrier.wait()  # 1: the other enters after us
            barrier.wait()  # 2: it is inside
        after["was recording"] = is_grad_enabled()
        set_grad_enabled(True)  # leave the thread as found, whatever happened
        barrier.wait()  # 3

    def not_recording_before():
        set_grad_enabled(False)
        barrier.wait()  # 1
        with shared:
            barrier.wait()  # 2
            barrier.wait()  # 3: the other has left first
        after["was not recording"] = is_grad_enabled()
        set_grad_enabled(True)

    run_threads(recording_before, not_recording_before, barrier=barrier)
    assert after == {"was recording": True, "was not recording": False}


def test_create_graph_in_a_thread_without_recording_switches_on_only_that_thread():
    """backward(create_graph=True) records the backward pass even inside no_grad, by turning
    recording on in its own thread for the duration. A hook holds that backward in the middle
    while another thread, also without recording, checks that it is still off."""
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    def differentiating():
        t = Tensor([1.0, 2.0], requires_grad=True)
        y = (t * t * t).sum()  # built while recording
        mid_backward = {}

        def hook(g):
            mid_backward["recording"] = is_grad_enabled()
            barrier.wait()  # 1: the other checks while this backward is running
            barrier.wait()  # 2

        handle = t.register_hook(hook)
        try:
            with no_grad():
                y.backward(create_graph=True)
                assert_recording(False, "differentiating, after its backward")
        finally:
            handle.remove()
        assert mid_backward == {"recording": True}
        assert t.grad.requires_grad  # 3 t^2, with history
        t.grad.sum().backward()  # t.grad now also holds the second-order part: 3t^2 + 6t
        np.testing.assert_array_equal(t.grad.data, [3.0 + 6.0, 12.0 + 12.0])

    def watching():
        with no_grad():
            barrier.wait()  # 1
            assert_recording(False, "watching, during the other's recorded backward")
            barrier.wait()  # 2

    run_threads(differentiating, watching, barrier=barrier)


# ----- Tape: records its own thread's operations only -----

def test_a_tape_records_only_the_operations_of_its_own_thread():
    barrier = threading.Barrier(2, timeout=TIMEOUT)
    made = {}

    def taping():
        x = Value(2.0, label="x")
        with Tape(persistent=True) as tape:
            a = x * 3
            barrier.wait()  # 1: the other thread computes, with and without its own tape
            barrier.wait()  # 2
            b = a.exp()
        made["taping"] = (tape, [a, b])
        assert tape.gradient(b, x) == pytest.approx(3 * np.exp(6.0), rel=1e-15)
        assert [line.split("    #")[0] for line in str(tape).splitlines()] == [
            "t0 = x * 3", "t1 = exp(t0)"]

    def other():
        y = Value(5.0)
        barrier.wait()  # 1: the first thread's tape is open
        untaped = y * y
        with Tape() as tape:
            taped = y.sin()
            with no_grad():
                y * 4  # no history: not recorded, in any thread
        made["other"] = (tape, [taped])
        assert untaped.requires_grad  # recorded in the graph, just on nobody's tape
        barrier.wait()  # 2

    run_threads(taping, other, barrier=barrier)
    for name, (tape, operations) in made.items():
        assert tape.operations == operations, name


# ----- detect_anomaly: checks its own thread only -----

def test_detect_anomaly_in_one_thread_does_not_check_another():
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    def detecting():
        with detect_anomaly():
            first, second = Value(2.0), Value(-1.0)
            safe = first * second  # operation #0 under detection
            barrier.wait()  # 1: the other thread makes nans, forward and backward
            barrier.wait()  # 2
            safe = safe + 1.0  # #1: the other thread's operations were not counted
            with pytest.raises(FloatingPointError,
                               match=r"forward result of 'log' \(operation #2 under"), \
                    np.errstate(invalid="ignore"):
                second.log()
            root = Value(0.0).sqrt() * 0.0
            with pytest.raises(FloatingPointError, match="backward of 'sqrt'"):
                root.backward()
            assert is_anomaly_enabled()
        assert not is_anomaly_enabled()

    def careless():
        barrier.wait()  # 1
        assert not is_anomaly_enabled()
        with np.errstate(invalid="ignore"):
            assert np.isnan(Value(-1.0).log().data)  # not raised: nobody checks this thread
        x = Value(0.0)
        (x.sqrt() * 0.0).backward()
        assert np.isnan(x.grad)
        t = Tensor([0.0, 1.0], requires_grad=True)
        (t.sqrt() * 0.0).sum().backward()
        assert np.isnan(t.grad[0])
        barrier.wait()  # 2

    run_threads(detecting, careless, barrier=barrier)


def test_set_detect_anomaly_turns_detection_on_for_the_calling_thread_only():
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    def detecting():
        set_detect_anomaly(True)
        try:
            barrier.wait()  # 1
            assert is_anomaly_enabled()
            with pytest.raises(FloatingPointError, match="forward result of 'sqrt'"), \
                    np.errstate(invalid="ignore"):
                Value(-4.0).sqrt()
            barrier.wait()  # 2
        finally:
            set_detect_anomaly(False)
        assert not is_anomaly_enabled()

    def careless():
        barrier.wait()  # 1
        assert not is_anomaly_enabled()
        with np.errstate(invalid="ignore"):
            assert np.isnan(Value(-4.0).sqrt().data)
        barrier.wait()  # 2

    run_threads(detecting, careless, barrier=barrier)
