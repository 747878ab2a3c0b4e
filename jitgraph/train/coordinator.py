"""``tf.train.Coordinator``: a stop signal shared by a program's threads (queue runners).

    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess=sess, coord=coord)
    try:
        while not coord.should_stop():
            sess.run(train_op)
    except tf.errors.OutOfRangeError:
        print("done")
    finally:
        coord.request_stop()
    coord.join(threads)

As TF's: the first exception passed to ``request_stop`` before the stop is requested is re-raised
by ``join`` (``OutOfRangeError``, the end of the input, is a clean stop, not an error); ``join``
waits until a stop is requested (or every thread ended), then gives the threads
``stop_grace_period_secs`` to finish and raises ``RuntimeError`` naming those still running.
"""

import contextlib
import logging
import sys
import threading
import time

from jitgraph import errors

__all__ = ["Coordinator", "LooperThread"]

logger = logging.getLogger("jitgraph")


class Coordinator:
    """Stop signal shared by a session's threads (see the module docstring)."""

    def __init__(self, clean_stop_exception_types=None):
        if clean_stop_exception_types is None:
            clean_stop_exception_types = (errors.OutOfRangeError,)
        self._clean_stop_exception_types = tuple(clean_stop_exception_types)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._exc = None
        self._registered = set()
        self._joined = False

    def _filter(self, ex):
        if isinstance(ex, tuple):
            ex = ex[1]
        if isinstance(ex, self._clean_stop_exception_types):
            return None
        return ex

    def request_stop(self, ex=None):
        """Ask every thread to stop; ``ex`` (an exception, or ``sys.exc_info()``) is re-raised by
        ``join`` unless it is a clean stop or a stop was already requested."""
        with self._lock:
            ex = self._filter(ex)
            if self._joined:
                if ex is not None:
                    raise ex
                return
            if not self._stop.is_set():
                if ex is not None and self._exc is None:
                    logger.info("Error reported to Coordinator: %s", ex)
                    self._exc = ex
                self._stop.set()

    def should_stop(self):
        return self._stop.is_set()

    def clear_stop(self):
        with self._lock:
            self._joined = False
            self._exc = None
            self._stop.clear()

    def wait_for_stop(self, timeout=None):
        """Wait until a stop is requested (or ``timeout`` seconds); True if it was."""
        return self._stop.wait(timeout)

    @contextlib.contextmanager
    def stop_on_exception(self):
        """Inside, an exception requests a stop (and is reported by ``join``) instead of propagating."""
        try:
            yield
        except:  # noqa: E722  (TF's: everything, including SystemExit)
            self.request_stop(ex=sys.exc_info()[1])

    def raise_requested_exception(self):
        with self._lock:
            if self._exc is not None:
                raise self._exc

    def register_thread(self, thread):
        """Add ``thread`` to the threads ``join`` waits for."""
        with self._lock:
            self._registered.add(thread)

    def join(self, threads=None, stop_grace_period_secs=120, ignore_live_threads=False):
        """Wait for the registered ``threads`` (see the module docstring)."""
        with self._lock:
            threads = set(self._registered) | set(threads or ())
        while any(t.is_alive() for t in threads) and not self.wait_for_stop(1.0):
            pass
        deadline = time.monotonic() + stop_grace_period_secs
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        stragglers = [t.name for t in threads if t.is_alive()]
        with self._lock:
            self._joined = True
            self._registered = set()
            if self._exc is not None:
                raise self._exc
        if stragglers:
            if ignore_live_threads:
                logger.info("Coordinator stopped with threads still running: %s", " ".join(stragglers))
            else:
                raise RuntimeError("Coordinator stopped with threads still running: %s" % " ".join(stragglers))

    @property
    def joined(self):
        return self._joined


class LooperThread(threading.Thread):
    """A thread that calls ``target(*args)`` (or ``run_loop``) every ``timer_interval_secs`` (or
    repeatedly, if None) until ``coord`` requests a stop."""

    def __init__(self, coord, timer_interval_secs, target=None, args=None, kwargs=None):
        if not isinstance(coord, Coordinator):
            raise ValueError("'coord' argument must be a Coordinator: %s" % coord)
        super().__init__()
        self.daemon = True
        self._coord, self._interval = coord, timer_interval_secs
        self._target_fn, self._args, self._kwargs = target, args or (), kwargs or {}
        coord.register_thread(self)

    @staticmethod
    def loop(coord, timer_interval_secs, target, args=None, kwargs=None):
        t = LooperThread(coord, timer_interval_secs, target, args, kwargs)
        t.start()
        return t

    def run(self):
        with self._coord.stop_on_exception():
            self.start_loop()
            if self._interval is None:
                while not self._coord.should_stop():
                    self.run_loop()
            else:
                next_at = time.time()
                while not self._coord.wait_for_stop(max(0.0, next_at - time.time())):
                    next_at += self._interval
                    self.run_loop()
            self.stop_loop()

    def start_loop(self):
        pass

    def stop_loop(self):
        pass

    def run_loop(self):
        if self._target_fn is not None:
            self._target_fn(*self._args, **self._kwargs)
