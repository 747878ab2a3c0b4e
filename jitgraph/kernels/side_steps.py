"""Side steps: a plan's library step run on the chunk worker while the plan's own thread goes on
with the steps that do not need it (``compiler/concurrency.py`` decides which and where they join).

Why: a small-batch CNN's convs are too small to split (``blas.MIN_PARALLEL_CHUNKS``: one or two
chunks of ~0.2 ms run on the calling thread), so its training step used one core of two.  Its
backward pass holds independent convs (a layer's filter gradient and its input gradient), which
two threads can run at once, as TensorFlow's inter-op pool does.

The contract with the plan's thread (``join``), which never waits while there is work it can do:

* a side step the worker has not started yet is run by the joining thread itself (the worker then
  skips it): a late worker costs nothing, and with several side steps queued the joining thread
  takes the ones behind the running one;
* a side step that splits its own work (``blas.run_chunks`` on the worker) offers its chunks here
  (``offer``): the joining thread claims chunks from the same counter until none are left, so a
  large conv on the worker still runs on both cores once the plan's thread has nothing else to do;
  a native kernel that shares its chunks through counters (``blas.run_lent``) offers its helper
  call the same way (``offer_call``);
* an error of a side step is raised by ``join``, on the plan's thread, where the plan's own error
  handling (rollback, fallback) is; ``drain`` waits for side steps a failing run leaves behind.
"""

import contextlib
import itertools
import threading

from jitgraph.kernels import blas

_local = threading.local()     # .side: the SideStep this worker thread runs now

QUEUED, RUNNING, DONE = 0, 1, 2


class SideStep:
    """One library step handed to the chunk worker: ``fn(*args)`` and what became of it."""

    __slots__ = ("fn", "args", "state", "value", "error", "job", "cv")

    def __init__(self, fn, args):
        self.fn, self.args = fn, args
        self.state = QUEUED
        self.value = self.error = self.job = None
        self.cv = threading.Condition()    # (on an RLock: 1.6 us; Condition(Lock()) 4 us)

    def _claim(self):
        """Take the step (either thread): True for the one that gets it."""
        with self.cv:
            if self.state != QUEUED:
                return False
            self.state = RUNNING
            return True

    def _run(self, on_worker):
        if on_worker:
            _local.side = self
        try:
            self.value = self.fn(*self.args)
        except BaseException as e:          # raised again by join, on the plan's thread
            self.error = e
        finally:
            if on_worker:
                _local.side = None
            with self.cv:
                self.state = DONE
                self.cv.notify_all()


class _Job:
    """Chunks ``work(j)``, ``j < n``, that a side step offers: claimed from one counter by the worker
    and by a joining thread; ``wait`` returns when every claimed chunk has finished."""

    __slots__ = ("n", "work", "counter", "finished", "error", "cv")

    def __init__(self, n, work):
        self.n, self.work = n, work
        self.counter = itertools.count()
        self.finished = 0
        self.error = None
        self.cv = threading.Condition()

    def help(self):
        for j in self.counter:
            if j >= self.n:
                return
            try:
                self.work(j)
            except BaseException as e:
                self.error = self.error or e
            with self.cv:
                self.finished += 1
                if self.finished == self.n:
                    self.cv.notify_all()

    def wait(self):
        with self.cv:
            self.cv.wait_for(lambda: self.finished >= self.n)
        if self.error is not None:
            raise self.error


@contextlib.contextmanager
def _offered(side, job):
    """``job`` offered to a thread that joins ``side`` for the block."""
    with side.cv:
        side.job = job
        side.cv.notify_all()
    try:
        yield
    finally:
        with side.cv:
            side.job = None
            side.cv.notify_all()


def offer(nchunks, work):
    """Run ``work(j)`` for every chunk, sharing them with a thread that joins this side step; False
    (nothing run) when the calling thread is not running a side step (``blas.run_chunks`` asks)."""
    side = getattr(_local, "side", None)
    if side is None or nchunks < 2:
        return False
    job = _Job(nchunks, work)
    with _offered(side, job):
        job.help()
        job.wait()
    return True


def offer_call(kernel, args):
    """Run a lent native call (``blas.run_lent``) on this side step's worker as ``kernel(*args, 1)``
    and offer ``kernel(*args, 0)`` to a thread that joins the step meanwhile; False (nothing run)
    when the calling thread is not running a side step."""
    side = getattr(_local, "side", None)
    if side is None:
        return False
    job = _Job(1, lambda j: kernel(*args, 0))
    with _offered(side, job):
        kernel(*args, 1)
        job.help()          # the helper call, if no joiner took it: it finds no chunk left
        job.wait()
    return True


def spawn(pending, fn, *args, here=False):
    """Start ``fn(*args)`` on the chunk worker (recorded in the run's list ``pending``); with one
    thread only, it runs at its join; ``here``: run it now on this thread (``join`` still gives
    its result or error)."""
    step = SideStep(fn, args)
    pending.append(step)
    if here:
        step._claim()
        step._run(False)
    else:
        blas.submit(_on_worker, step)
    return step


def spawn_sized(pending, min_elements, fn, ctx, arrays):
    """``spawn(pending, fn, ctx, arrays)``, run here when ``arrays`` hold fewer than
    ``min_elements`` elements."""
    size = 0
    for a in arrays:
        size += getattr(a, "size", 1)
    return spawn(pending, fn, ctx, arrays, here=size < min_elements)


def _on_worker(step):
    if step._claim():
        step._run(True)


def join(step, pending):
    """``fn(*args)``'s result, raising its error; until it is done, run queued side steps here and
    help with the chunks it offers."""
    if step._claim():
        step._run(False)
    while step.state != DONE:
        for other in pending:               # queued behind the running one: take them
            if other is not step and other._claim():
                other._run(False)
        blas.entering_native()              # a wait lets the GIL go, as native code does
        with step.cv:
            step.cv.wait_for(lambda: step.state == DONE or step.job is not None)
            job = step.job
        if job is not None:
            job.help()
            with step.cv:                   # the worker clears it when its last chunk is done
                step.cv.wait_for(lambda: step.state == DONE or step.job is not job)
    pending.remove(step)
    if step.error is not None:
        raise step.error
    return step.value


def drain(pending):
    """Wait for the side steps a failed run started (their results and errors are dropped)."""
    for step in list(pending):
        try:
            join(step, pending)
        except BaseException:
            pass
