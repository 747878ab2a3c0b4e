"""Side steps (``kernels/side_steps.py``): results and errors come back at ``join``, a queued step
is taken by the joining thread, a running one shares its chunks with it, ``drain`` waits."""

import threading

import numpy as np
import pytest

from jitgraph.kernels import blas, side_steps

needs_worker = pytest.mark.skipif(blas.blas_threads() < 2, reason="the BLAS has one thread: no chunk worker")


def test_join_returns_the_result_and_raises_the_error():
    pending = []
    ok = side_steps.spawn(pending, lambda a, b: a + b, 2, 3)
    bad = side_steps.spawn(pending, lambda: 1 // 0)
    assert side_steps.join(ok, pending) == 5
    with pytest.raises(ZeroDivisionError):
        side_steps.join(bad, pending)
    assert pending == []


def test_small_operands_run_in_place():
    pending, where = [], []
    step = side_steps.spawn_sized(pending, 100, lambda ctx, arrays: where.append(threading.get_ident()),
                                  None, [np.zeros(10)])
    assert where == [threading.get_ident()]          # ran before spawn_sized returned
    side_steps.join(step, pending)


@needs_worker
def test_a_queued_step_is_run_by_the_joining_thread():
    pending, started, release, ran_on = [], threading.Event(), threading.Event(), {}

    def blocker():
        started.set()
        assert release.wait(10)
        ran_on["blocker"] = threading.get_ident()

    def queued():
        ran_on["queued"] = threading.get_ident()
        release.set()                  # only the joining thread can get here while blocker waits
        return "q"
    first = side_steps.spawn(pending, blocker)
    assert started.wait(10)            # the worker runs the first
    second = side_steps.spawn(pending, queued)
    assert side_steps.join(first, pending) is None     # waiting for it, the joiner runs the second
    assert side_steps.join(second, pending) == "q"
    assert ran_on["queued"] == threading.get_ident() != ran_on["blocker"]


@needs_worker
def test_a_running_step_shares_its_chunks_with_the_joiner():
    pending, on_main, done = [], threading.Event(), []
    lock = threading.Lock()

    def work(j):
        if threading.current_thread() is threading.main_thread():
            on_main.set()
        elif j == 0:
            assert on_main.wait(10), "the joining thread took no chunk"
        with lock:
            done.append(j)

    step = side_steps.spawn(pending, lambda: blas.run_chunks(16, work) or "ran")
    assert side_steps.join(step, pending) == "ran"
    assert sorted(done) == list(range(16))


def test_drain_waits_for_what_a_failed_run_started():
    pending, finished = [], []
    gate = threading.Event()

    def slow():
        gate.wait(10)
        finished.append(1)
        raise RuntimeError("dropped")
    side_steps.spawn(pending, slow)
    gate.set()
    side_steps.drain(pending)
    assert finished == [1] and pending == []


@needs_worker
def test_a_running_step_lends_its_native_helper_call_to_the_joiner():
    """``blas.run_lent`` on a side step: the worker makes the lead call, the joining thread the
    helper call (``side_steps.offer_call``), and the lead can wait for what the helper does."""
    pending, calls, helped, started = [], [], threading.Event(), threading.Event()

    def kernel(log, lead):
        calls.append((lead, threading.current_thread() is threading.main_thread()))
        if lead:
            assert helped.wait(10), "the joining thread made no helper call"
        else:
            helped.set()
        log.append(lead)

    log = []
    step = side_steps.spawn(pending, lambda: started.set() or blas.run_lent(kernel, (log,), 2) or "ran")
    assert started.wait(10)            # the worker runs the step
    assert side_steps.join(step, pending) == "ran"
    assert sorted(calls) == [(0, True), (1, False)] and sorted(log) == [0, 1]
