"""TF1 initializers (``tf.zeros_initializer``, ``tf.glorot_uniform_initializer`` …).

An initializer is a callable ``init(shape, dtype=None, partition_info=None)`` that builds ops
producing a Tensor of that shape and dtype (the initializer's own dtype, float32 by default,
when ``dtype`` is None). ``get_variable`` calls it inside ``<var>/Initializer/``.

Fans (``_compute_fans``) follow TF: rank 0 → (1, 1); rank 1 → (n, n); rank 2 → (rows, cols);
rank ≥ 3 (conv kernels ``[..., in, out]``) → ``in * receptive``, ``out * receptive`` where
``receptive`` is the product of the leading dims.
"""

import math

import numpy as np

from jitgraph import dtypes
from jitgraph.api_graph import get_seed
from jitgraph.framework.shapes import TensorShape, as_shape
from jitgraph.ops import constant_ops
from jitgraph.ops.registry import define_op, make_op

_TRUNC_STD = 0.87962566103423978   # std of the unit normal truncated to ±2


def _random_ops():
    from jitgraph.ops import random_ops  # written alongside; looked up when an initializer runs
    return random_ops


def _dims(shape):
    if isinstance(shape, TensorShape):
        shape = shape.as_list()
    return [int(d) for d in shape]


def _shape_arg(dims):
    """The shape for a random op: an empty list would infer float (``[]``), so scalars get an int32 tensor."""
    return dims if dims else constant_ops.constant(np.zeros([0], np.int32), name="shape")


def _compute_fans(shape):
    shape = _dims(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


def _assert_float_dtype(dtype):
    dtype = dtypes.as_dtype(dtype).base_dtype
    if not dtype.is_floating:
        raise ValueError(f"Expected floating point type, got {dtype.name}.")
    return dtype


class Initializer:
    """Base class: ``init(shape, dtype=None, partition_info=None)`` → Tensor."""

    dtype = dtypes.float32

    def __call__(self, shape, dtype=None, partition_info=None):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "dtype" in config:
            config["dtype"] = dtypes.as_dtype(config["dtype"])
        return cls(**config)

    def _dtype(self, dtype):
        return dtypes.as_dtype(dtype if dtype is not None else self.dtype).base_dtype


class Zeros(Initializer):
    """All zeros (``False`` for bool, ``b""`` for string)."""

    _fill = staticmethod(constant_ops.zeros)

    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return self._fill(_dims(shape), self._dtype(dtype))

    def get_config(self):
        return {"dtype": self.dtype.name}


class Ones(Zeros):
    """All ones (``True`` for bool)."""

    _fill = staticmethod(constant_ops.ones)


class Constant(Initializer):
    """A scalar (broadcast) or a value with as many elements as the shape (row-major reshape)."""

    def __init__(self, value=0, dtype=dtypes.float32, verify_shape=False):
        if not (np.isscalar(value) or isinstance(value, (list, tuple, np.ndarray))):
            raise TypeError(f"Invalid type for initial value: {type(value).__name__} (expected Python scalar, "
                            f"list or tuple of values, or numpy.ndarray).")
        self.value = value
        self.dtype = dtypes.as_dtype(dtype)
        self._verify_shape = verify_shape

    def __call__(self, shape, dtype=None, partition_info=None, verify_shape=None):
        dims = _dims(shape)
        arr = constant_ops.to_numpy(self.value, self._dtype(dtype))
        verify = self._verify_shape if verify_shape is None else verify_shape
        if verify and list(arr.shape) != dims:
            raise TypeError(f"Expected Tensor's shape: {tuple(dims)}, got {arr.shape}.")
        return constant_ops.constant(arr, self._dtype(dtype), shape=dims)

    def get_config(self):
        return {"value": self.value, "dtype": self.dtype.name}


class RandomUniform(Initializer):
    """U[minval, maxval); ``maxval=None`` means 1 for floats (integers need a maxval)."""

    def __init__(self, minval=0, maxval=None, seed=None, dtype=dtypes.float32):
        self.minval, self.maxval, self.seed = minval, maxval, seed
        self.dtype = dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return _random_ops().random_uniform(_shape_arg(_dims(shape)), self.minval, self.maxval, self._dtype(dtype),
                                            seed=self.seed)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed, "dtype": self.dtype.name}


class RandomNormal(Initializer):
    """Normal samples with ``mean`` and ``stddev``."""

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32):
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return _random_ops().random_normal(_shape_arg(_dims(shape)), self.mean, self.stddev,
                                           _assert_float_dtype(self._dtype(dtype)), seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed, "dtype": self.dtype.name}


class TruncatedNormal(RandomNormal):
    """Normal samples redrawn until within ``mean ± 2*stddev`` (resulting std ≈ 0.88*stddev)."""

    def __call__(self, shape, dtype=None, partition_info=None):
        return _random_ops().truncated_normal(_shape_arg(_dims(shape)), self.mean, self.stddev,
                                              _assert_float_dtype(self._dtype(dtype)), seed=self.seed)


class VarianceScaling(Initializer):
    """Samples scaled to the fan: ``n`` is fan_in, fan_out or their mean (``mode``).

    ``truncated_normal`` (``normal`` is its old name): stddev ``sqrt(scale/n)/0.8796``;
    ``untruncated_normal``: stddev ``sqrt(scale/n)``; ``uniform``: limit ``sqrt(3*scale/n)``.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=dtypes.float32):
        if scale <= 0.0:
            raise ValueError(f"`scale` must be positive float. Received: scale={scale}.")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode!r}. Please use one of the "
                             f"'fan_in', 'fan_out' or 'fan_avg'.")
        distribution = distribution.lower()
        if distribution not in ("normal", "uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"Invalid `distribution` argument: {distribution!r}. Please use one of "
                             f"'normal', 'uniform', 'truncated_normal' or 'untruncated_normal'.")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _assert_float_dtype(self._dtype(dtype))
        fan_in, fan_out = _compute_fans(partition_info.full_shape if partition_info is not None else shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        rnd = _random_ops()
        if self.distribution in ("normal", "truncated_normal"):
            return rnd.truncated_normal(_shape_arg(_dims(shape)), 0.0, math.sqrt(scale) / _TRUNC_STD, dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return rnd.random_normal(_shape_arg(_dims(shape)), 0.0, math.sqrt(scale), dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return rnd.random_uniform(_shape_arg(_dims(shape)), -limit, limit, dtype, seed=self.seed)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed, "dtype": self.dtype.name}


class GlorotUniform(VarianceScaling):
    """U(-limit, limit) with ``limit = sqrt(6/(fan_in+fan_out))`` (the default for float variables)."""

    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(VarianceScaling):
    """Truncated normal with effective std ``sqrt(2/(fan_in+fan_out))``."""

    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


def he_normal(seed=None):
    """He (Kaiming) normal: ``VarianceScaling(2.0, "fan_in", "truncated_normal")``, as TF's."""
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed=None):
    """He uniform: ``VarianceScaling(2.0, "fan_in", "uniform")``."""
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def lecun_normal(seed=None):
    """LeCun normal: ``VarianceScaling(1.0, "fan_in", "truncated_normal")``."""
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed=None):
    """LeCun uniform: ``VarianceScaling(1.0, "fan_in", "uniform")``."""
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


def _orthogonal_run(ctx, op, ins):
    rows, cols = op.get_attr("flat_shape")
    a = ctx.rng(op).standard_normal((rows, cols))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    if op.get_attr("transpose"):
        q = q.T
    return [(op.get_attr("gain") * q.reshape(op.get_attr("shape"))).astype(op.get_attr("dtype").as_np)]


define_op("OrthogonalInit", kind="random", stateful=True, run=_orthogonal_run,
          infer=lambda ins, a: [(a["dtype"], TensorShape(a["shape"]))])


class Orthogonal(Initializer):
    """A (gain-scaled) random orthogonal matrix, reshaped: rows = prod(shape[:-1]), cols = shape[-1]."""

    def __init__(self, gain=1.0, seed=None, dtype=dtypes.float32):
        self.gain, self.seed = gain, seed
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _assert_float_dtype(self._dtype(dtype))
        dims = _dims(shape)
        if len(dims) < 2:
            raise ValueError(f"The tensor to initialize, specified by argument `shape` must be at least "
                             f"two-dimensional. Received shape={dims}")
        rows, cols = int(np.prod(dims[:-1])), dims[-1]
        seed, seed2 = get_seed(self.seed)
        return make_op("OrthogonalInit", [], {
            "flat_shape": (max(rows, cols), min(rows, cols)), "transpose": rows < cols, "shape": tuple(dims),
            "gain": float(self.gain), "dtype": dtype, "seed": seed or 0, "seed2": seed2 or 0},
            "orthogonal").outputs[0]

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed, "dtype": self.dtype.name}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0, dtype=dtypes.float32):
        self.gain = gain
        self.dtype = _assert_float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dims = _dims(as_shape(shape))
        if len(dims) != 2:
            raise ValueError(f"Identity matrix initializer can only be used for 2D matrices. Received shape={dims}")
        dtype = _assert_float_dtype(self._dtype(dtype))
        return constant_ops.constant((self.gain * np.eye(*dims)).astype(dtype.as_np), dtype, name="eye")

    def get_config(self):
        return {"gain": self.gain, "dtype": self.dtype.name}


# TF1 names.
zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_uniform_initializer = RandomUniform
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
variance_scaling_initializer = VarianceScaling
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal
orthogonal_initializer = Orthogonal
identity_initializer = Identity

__all__ = ["zeros_initializer", "ones_initializer", "constant_initializer", "random_uniform_initializer",
           "random_normal_initializer", "truncated_normal_initializer", "variance_scaling_initializer",
           "glorot_uniform_initializer", "glorot_normal_initializer", "orthogonal_initializer",
           "identity_initializer"]
