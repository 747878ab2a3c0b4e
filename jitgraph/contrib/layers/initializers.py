"""``tf.contrib.layers``' initializers: ``xavier_initializer`` (= ``xavier_initializer_conv2d``)
and ``variance_scaling_initializer`` with contrib's signature (``factor``, upper-case ``mode``,
``uniform``).

Both are ``tf.variance_scaling_initializer`` underneath. The uniform one is the same
distribution (limit ``sqrt(3 * factor / n)``), so ``xavier_initializer(seed=s)`` draws exactly
what ``tf.glorot_uniform_initializer(seed=s)`` draws, as in TF. The normal one differs from
core's only in the stddev before truncation: contrib uses ``sqrt(1.3 * factor / n)`` where core
uses ``sqrt(factor / n) / 0.8796...``; the factor handed to core makes up the difference.
"""

from jitgraph import dtypes
from jitgraph.variables.initializers import _TRUNC_STD, VarianceScaling

__all__ = ["xavier_initializer", "xavier_initializer_conv2d", "variance_scaling_initializer"]

_MODES = ("FAN_IN", "FAN_OUT", "FAN_AVG")


class _ContribVarianceScaling(VarianceScaling):
    """Contrib's variance scaling: ``n`` from ``mode``; uniform on ``±sqrt(3 * factor / n)`` or
    normal with stddev ``sqrt(1.3 * factor / n)`` truncated at two of those stddevs."""

    def __init__(self, factor, mode, uniform, seed, dtype):
        # core's truncated normal draws with stddev sqrt(scale / n) / _TRUNC_STD: this scale
        # makes that sqrt(1.3 * factor / n).
        scale = factor if uniform else factor * 1.3 * _TRUNC_STD ** 2
        super().__init__(scale, mode.lower(), "uniform" if uniform else "truncated_normal", seed, dtype)
        self.factor, self.uniform = factor, uniform

    def __call__(self, shape, dtype=None, partition_info=None):
        if not self._dtype(dtype).is_floating:
            raise TypeError("Cannot create initializer for non-floating point type.")
        return super().__call__(shape, dtype, partition_info)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode.upper(), "uniform": self.uniform, "seed": self.seed,
                "dtype": self.dtype.name}


def variance_scaling_initializer(factor=2.0, mode="FAN_IN", uniform=False, seed=None, dtype=dtypes.float32):
    """An initializer keeping the scale of activations: ``n`` is the fan-in, fan-out or their mean
    (``mode`` ``'FAN_IN'``/``'FAN_OUT'``/``'FAN_AVG'``); ``uniform`` draws from
    ``[-sqrt(3*factor/n), sqrt(3*factor/n)]``, else a truncated normal with stddev
    ``sqrt(1.3*factor/n)``. The defaults are He et al.'s (MSRA) initialization::

        w = tf.get_variable("w", [784, 100],
                            initializer=tf.contrib.layers.variance_scaling_initializer())

    Raises ``TypeError`` for a non-floating ``dtype`` or an unknown ``mode``."""
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise TypeError(f"Cannot create initializer for non-floating point type (dtype={dtype.name}).")
    if mode not in _MODES:
        raise TypeError(f"Unknown mode {mode!r} [FAN_IN, FAN_OUT, FAN_AVG]")
    if factor <= 0:
        raise ValueError(f"`factor` must be positive. Received: factor={factor}.")
    return _ContribVarianceScaling(factor, mode, uniform, seed, dtype)


def xavier_initializer(uniform=True, seed=None, dtype=dtypes.float32):
    """Glorot & Bengio's ("Xavier") initialization: uniform on ``±sqrt(6 / (fan_in + fan_out))``,
    or (``uniform=False``) a truncated normal of stddev ``sqrt(2.6 / (fan_in + fan_out))``.
    ``variance_scaling_initializer(1.0, 'FAN_AVG', uniform)``, as TF 1.15's."""
    return variance_scaling_initializer(factor=1.0, mode="FAN_AVG", uniform=uniform, seed=seed, dtype=dtype)


xavier_initializer_conv2d = xavier_initializer
