"""``tf.logging``: TF1's logging functions over Python's ``logging`` (logger ``"jitgraph"``).

The level constants are Python's (``DEBUG`` 10 … ``FATAL`` 50) and the default verbosity is
``WARN``, as in TF, so ``tf.logging.info`` shows nothing until ``set_verbosity(tf.logging.INFO)``.
Messages go to stderr as ``INFO:jitgraph:message`` unless the logger is given other handlers.
(The module is named ``tf_logging`` so that it can never stand in for the standard library's
``logging``; users see it as ``tf.logging``.)
"""

import logging as _logging
import sys as _sys
import threading as _threading

DEBUG, INFO, WARN, ERROR, FATAL = _logging.DEBUG, _logging.INFO, _logging.WARN, _logging.ERROR, _logging.FATAL

_logger = None
_lock = _threading.Lock()
_counts = {}   # call site -> calls, for log_every_n / log_first_n


class _CurrentStderrHandler(_logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record arrives, not the stream of the moment
    the handler was made (a test runner or a notebook may swap, and close, the old one)."""

    def __init__(self):
        _logging.Handler.__init__(self)

    @property
    def stream(self):
        return _sys.stderr


def get_logger():
    """The ``"jitgraph"`` logger, set up on first use (level ``WARN``).

    As in TF, a stderr handler is added only when neither this logger nor the root logger has
    handlers yet, so an application's own ``logging.basicConfig`` (or a test runner's capture)
    gets the records instead and nothing is printed twice.
    """
    global _logger
    with _lock:
        if _logger is None:
            logger = _logging.getLogger("jitgraph")
            if not logger.handlers and not _logging.getLogger().handlers:
                handler = _CurrentStderrHandler()
                handler.setFormatter(_logging.Formatter(_logging.BASIC_FORMAT, None))
                logger.addHandler(handler)
            if logger.level == _logging.NOTSET:
                logger.setLevel(WARN)
            _logger = logger
    return _logger


def log(level, msg, *args, **kwargs):
    get_logger().log(level, msg, *args, **kwargs)


def debug(msg, *args, **kwargs):
    get_logger().debug(msg, *args, **kwargs)


def info(msg, *args, **kwargs):
    get_logger().info(msg, *args, **kwargs)


def warning(msg, *args, **kwargs):
    get_logger().warning(msg, *args, **kwargs)


warn = warning


def error(msg, *args, **kwargs):
    get_logger().error(msg, *args, **kwargs)


def fatal(msg, *args, **kwargs):
    """Log at level ``FATAL`` (the program goes on, as with TF's Python ``fatal``)."""
    get_logger().critical(msg, *args, **kwargs)


def vlog(level, msg, *args, **kwargs):
    get_logger().log(level, msg, *args, **kwargs)


def _caller_site():
    f = _sys._getframe(2)
    return f.f_code.co_filename, f.f_lineno


def log_every_n(level, msg, n, *args):
    """Log ``msg`` on the 1st, (n+1)th, (2n+1)th … call from the same line."""
    site = _caller_site()
    count = _counts.get(site, 0)
    _counts[site] = count + 1
    if count % max(int(n), 1) == 0:
        log(level, msg, *args)


def log_first_n(level, msg, n, *args):
    """Log ``msg`` the first ``n`` times it is called from the same line."""
    site = _caller_site()
    count = _counts.get(site, 0)
    _counts[site] = count + 1
    if count < n:
        log(level, msg, *args)


def log_if(level, msg, condition, *args):
    if condition:
        log(level, msg, *args)


def TaskLevelStatusMessage(msg):  # noqa: N802  (TF's name)
    error(msg)


def flush():
    for h in get_logger().handlers:
        h.flush()


def get_verbosity():
    """The logger's level (``WARN`` unless changed)."""
    return get_logger().getEffectiveLevel()


def set_verbosity(v):
    """Show messages of level ``v`` and above."""
    get_logger().setLevel(v)
