"""The chunk workers' threads: they run the calls a plan's thread hands them (``blas.lend``,
``blas.submit``, ``blas.run_chunks``), and after each call wait a little for the next one awake.

Why not ``concurrent.futures.ThreadPoolExecutor``: a step of a small CNN hands work to the worker
four or five times, each a few hundred microseconds after the last, and each hand-off cost twice.
``submit`` took 12-20 us (a ``Future``, its ``Condition``, the idle-thread check), and the sleeping
worker started the call 44-56 us later (waking a thread on another vCPU of a VM). The C2 CNN's
timeline showed its conv's lent helper starting 65 us after the lead, and its filter gradient 180
us after the input gradient beside it.

Here a hand-off is a queue put and a counter bump (~1 us); a worker that finished a call within
``SPIN_SECONDS`` is still awake, reading that counter in a Numba loop that does not hold the GIL.
Seeing it move, the worker reads on for ``SETTLE_SECONDS`` before it asks for the GIL: the thread
that handed the call over usually enters its own native call (the lead of a lent kernel, a chunk)
within a few microseconds and lets the GIL go, and a worker asking before that would sleep on the
GIL until then and wake as slowly as from the queue. Queued calls started 28 us after the hand-off
without the settling, 3.5-5 us with it (a thread handing over and then running 0.2 ms of BLAS).

The handing thread's glue before its own native call is often longer than the settling (a
Winograd input gradient's: 35-70 us of Python), and a worker that asks for the GIL meanwhile
sleeps on it: it got it 30 us after the GIL was let go (a VM's futex wake-up); the C2 CNN's lent
conv helper started 45-70 us after the lead's call, its side step 100-115 us after the hand-off
(15-20 and 77-92 us now). So the handing thread also says when it is about to enter its own
native call (``entering_native``: ``run_lent``'s lead, ``run_chunks``'s chunks, a side step's
join), and a worker that saw a hand-off waits for that (at most ``NATIVE_WAIT_SECONDS``) before
it settles and asks: 3-5 us after the release in a two-thread test, against 19-30 us; the C2
CNN's step 1.22 -> 1.15 ms (12 interleaved blocks; P2, P8 alike).

A worker idle for longer than ``SPIN_SECONDS`` sleeps on the queue as before.  Spinning costs
the worker's core at most ``SPIN_SECONDS`` after each call, while the plan's thread works on the
other. One worker spins at a time (the others sleep on the queue, which wakes one per call): with
many cores, every hand-off would otherwise send all of them after the GIL at once.
"""

import queue
import threading
import time
from concurrent.futures import Future

import numpy as np
from numba import njit

from jitgraph.kernels.atomics import claim, count, reset

#: How long a worker stays awake after a call, waiting for the next.
SPIN_SECONDS = 4e-4
#: How long a worker that saw a hand-off waits for the handing thread to enter native code ...
NATIVE_WAIT_SECONDS = 6e-5
#: ... and then waits before it asks for the GIL (the native call's argument unboxing).
SETTLE_SECONDS = 1e-5


@njit(nogil=True, cache=True)
def _moved(sig, seen, rounds, wait, settle):
    """Whether ``sig[0]`` moves off ``seen`` within ``rounds`` reads; if it does, up to ``wait``
    reads more until ``sig[2]`` moves (the handing thread enters native code), then ``settle``
    reads before returning. False at once when another worker holds the spinner's place ``sig[1]``."""
    if claim(sig, 1) != 0:
        return False
    moved = False
    entered = count(sig, 2)
    for _ in range(rounds):
        if count(sig, 0) != seen:
            moved = True
            break
        entered = count(sig, 2)     # as it was before the hand-off
    reset(sig, 1)
    if moved:
        for _ in range(wait):
            if count(sig, 2) != entered:
                break
        for _ in range(settle):
            count(sig, 0)
    return moved


def _rounds(seconds):
    """How many ``_moved`` reads take ``seconds`` on this machine (measured once per pool)."""
    sig = np.zeros(3, np.int64)
    _moved(sig, 1, 1, 0, 0)                            # compiled (or loaded) first
    n = 1 << 20
    t0 = time.perf_counter()
    _moved(sig, 0, n, 0, 0)
    per_read = max(time.perf_counter() - t0, 1e-9) / n
    return max(1, int(seconds / per_read))


class Workers:
    """``n`` daemon threads running queued calls in order of arrival; each first runs
    ``initializer()``. ``submit`` returns a ``Future`` (``cancel``, ``result``); ``post`` queues a
    call nobody waits for (an error it raises is dropped, as an unread ``Future``'s would be)."""

    def __init__(self, n, initializer, name):
        self._queue = queue.SimpleQueue()
        # [0] bumped on each hand-off; [1] taken by the spinning worker; [2] bumped by entering_native
        self._sig = np.zeros(3, np.int64)
        self._spin_rounds = _rounds(SPIN_SECONDS)
        self._wait_rounds = int(self._spin_rounds * NATIVE_WAIT_SECONDS / SPIN_SECONDS)
        self._settle_rounds = int(self._spin_rounds * SETTLE_SECONDS / SPIN_SECONDS)
        for i in range(n):
            threading.Thread(target=self._serve, args=(initializer,), name=f"{name}_{i}", daemon=True).start()

    def submit(self, fn, *args):
        fut = Future()
        self._put((fn, args, fut))
        return fut

    def post(self, fn, *args):
        self._put((fn, args, None))

    def entering_native(self):
        """The calling thread, which may have handed calls over, enters native code (and lets the
        GIL go) within microseconds: a worker that waits for that asks for the GIL now."""
        self._sig[2] += 1

    def _put(self, item):
        self._queue.put(item)
        self._sig[0] += 1            # not atomic: two hand-offs at once may bump it once, which still wakes

    def _serve(self, initializer):
        initializer()
        q, sig, rounds, wait, settle = (self._queue, self._sig, self._spin_rounds, self._wait_rounds,
                                        self._settle_rounds)
        while True:
            seen = sig[0]                                 # read before looking at the queue
            try:
                fn, args, fut = q.get_nowait()
            except queue.Empty:
                if _moved(sig, seen, rounds, wait, settle):
                    continue
                fn, args, fut = q.get()
            if fut is None:
                try:
                    fn(*args)
                except BaseException:   # noqa: BLE001 - nobody waits for a posted call
                    pass
            elif fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn(*args))
                except BaseException as e:   # noqa: BLE001 - raised again by fut.result()
                    fut.set_exception(e)
