"""The chunk workers' threads (``kernels/workers.py``): calls run in order on the worker, results
and errors come back through ``submit``'s future, a posted call's error leaves the worker serving,
and a worker asleep past its spin still wakes for new work."""

import threading
import time

import numpy as np
import pytest

from jitgraph.kernels import workers


@pytest.fixture
def pool():
    started = []
    p = workers.Workers(1, lambda: started.append(threading.get_ident()), "test-worker")
    p.started = started
    return p


def test_submit_runs_on_the_worker_after_its_initializer_and_returns_the_result(pool):
    where = pool.submit(threading.get_ident).result(timeout=10)
    assert where != threading.get_ident() and pool.started == [where]
    assert pool.submit(lambda a, b: a * b, 6, 7).result(timeout=10) == 42


def test_submit_raises_the_calls_error_and_cancel_drops_a_call_not_started(pool):
    with pytest.raises(ZeroDivisionError):
        pool.submit(lambda: 1 / 0).result(timeout=10)
    gate, ran = threading.Event(), []
    blocker = pool.submit(gate.wait, 10)
    queued = pool.submit(ran.append, "late")
    assert queued.cancel()
    gate.set()
    assert blocker.result(timeout=10) is True
    assert pool.submit(lambda: "after").result(timeout=10) == "after" and ran == []


def test_posted_calls_run_in_order_and_an_error_leaves_the_worker_serving(pool):
    seen = []
    pool.post(seen.append, 1)
    pool.post(lambda: 1 / 0)
    pool.post(seen.append, 2)
    assert pool.submit(lambda: list(seen)).result(timeout=10) == [1, 2]


def test_a_worker_asleep_past_its_spin_wakes_for_new_work(pool):
    assert pool.submit(lambda: 1).result(timeout=10) == 1
    time.sleep(20 * workers.SPIN_SECONDS)          # long past the spin: the worker sleeps on the queue
    done = threading.Event()
    pool.post(done.set)
    assert done.wait(10)


def test_many_workers_serve_every_call_with_one_spinning_at_a_time():
    p = workers.Workers(4, lambda: None, "test-many")
    seen, lock = set(), threading.Lock()

    def record(i):
        time.sleep(0.0005)
        with lock:
            seen.add(i)
    futs = [p.submit(record, i) for i in range(200)]
    for f in futs:
        f.result(timeout=30)
    assert seen == set(range(200))
    deadline = time.monotonic() + 10
    while p._sig[1] != 0 and time.monotonic() < deadline:    # the last spinner gives its place back
        time.sleep(0.001)
    assert p._sig[1] == 0


def test_moved_sees_a_hand_off_and_gives_the_spinners_place_back():
    sig = np.array([5, 0, 0], np.int64)
    assert not workers._moved(sig, 5, 1000, 10 ** 9, 0)      # no hand-off: no wait for native entry
    assert sig[1] == 0
    sig[0] = 6
    assert workers._moved(sig, 5, 1000, 1000, 10)            # a hand-off; native entry not seen: bounded
    assert sig[1] == 0
    sig[1] = 1                                               # another worker spins
    assert not workers._moved(sig, 5, 1000, 1000, 10)        # (its reset gives the place back)


def test_a_hand_off_runs_whether_or_not_the_handing_thread_says_it_enters_native_code(pool):
    assert pool.submit(lambda: 1).result(timeout=10) == 1    # the worker spins now
    first, second = threading.Event(), threading.Event()
    pool.post(first.set)                                     # never followed by entering_native
    assert first.wait(10)
    pool.post(second.set)
    pool.entering_native()
    assert second.wait(10)
