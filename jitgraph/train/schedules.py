"""TF1's learning-rate schedules (``tf.train.exponential_decay`` …): each returns a scalar tensor
computed from ``global_step`` when the graph runs, to pass as an optimizer's learning rate::

    step = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(0.1, step, decay_steps=1000, decay_rate=0.96, staircase=True)
    train = tf.train.GradientDescentOptimizer(lr).minimize(loss, global_step=step)

The rate has the dtype of ``learning_rate`` (float32 for a Python number); the step is cast to it.
"""

import math

import numpy as np

from jitgraph import dtypes
from jitgraph.ops.math_ops import binary, cast, unary, where
from jitgraph.ops.op_util import op_scope
from jitgraph.ops.random_ops import random_normal
from jitgraph.ops.registry import convert_to_tensor

__all__ = ["exponential_decay", "piecewise_constant", "piecewise_constant_decay", "polynomial_decay",
           "natural_exp_decay", "inverse_time_decay", "cosine_decay", "cosine_decay_restarts", "linear_cosine_decay",
           "noisy_linear_cosine_decay"]


def _start(name, learning_rate, global_step, *numbers):
    """``(rate, step, numbers...)`` as tensors of the rate's dtype."""
    if global_step is None:
        raise ValueError(f"global_step is required for {name}.")
    lr = convert_to_tensor(learning_rate, name="learning_rate")
    if not lr.dtype.base_dtype.is_floating:
        lr = cast(lr, dtypes.float32)
    dt = lr.dtype.base_dtype
    step = cast(convert_to_tensor(global_step), dt)
    return (lr, step) + tuple(cast(convert_to_tensor(n), dt) for n in numbers)


def _progress(step, decay_steps, staircase):
    p = binary("RealDiv", step, decay_steps)
    return unary("Floor", p) if staircase else p


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None):
    """``learning_rate * decay_rate ** (global_step / decay_steps)`` (the exponent floored if
    ``staircase``)."""
    with op_scope(name or "ExponentialDecay", []) as scope:
        lr, step, steps, rate = _start("exponential_decay", learning_rate, global_step, decay_steps, decay_rate)
        return binary("Mul", lr, binary("Pow", rate, _progress(step, steps, staircase)), name=scope)


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None):
    """``learning_rate * exp(-decay_rate * global_step / decay_steps)`` (the ratio floored if
    ``staircase``)."""
    with op_scope(name or "NaturalExpDecay", []) as scope:
        lr, step, steps, rate = _start("natural_exp_decay", learning_rate, global_step, decay_steps, decay_rate)
        factor = binary("Pow", unary("Exp", unary("Neg", rate)), _progress(step, steps, staircase))
        return binary("Mul", lr, factor, name=scope)


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None):
    """``learning_rate / (1 + decay_rate * global_step / decay_steps)`` (the ratio floored if
    ``staircase``)."""
    with op_scope(name or "InverseTimeDecay", []) as scope:
        lr, step, steps, rate = _start("inverse_time_decay", learning_rate, global_step, decay_steps, decay_rate)
        return binary("RealDiv", lr, 1 + binary("Mul", rate, _progress(step, steps, staircase)), name=scope)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                     name=None):
    """From ``learning_rate`` down to ``end_learning_rate`` along ``(1 - step / decay_steps) ** power``;
    afterwards ``end_learning_rate``, or with ``cycle`` again from the top over a longer span."""
    with op_scope(name or "PolynomialDecay", []) as scope:
        lr, step, steps, end, pw = _start("polynomial_decay", learning_rate, global_step, decay_steps,
                                          end_learning_rate, power)
        if cycle:   # the span grows to the next multiple of decay_steps (step 0 uses the first)
            mult = where(binary("Equal", step, 0), step * 0 + 1, unary("Ceil", binary("RealDiv", step, steps)))
            steps = binary("Mul", steps, mult)
        else:
            step = binary("Minimum", step, steps)
        p = binary("RealDiv", step, steps)
        return binary("Add", binary("Mul", lr - end, binary("Pow", 1 - p, pw)), end, name=scope)


def piecewise_constant(x, boundaries, values, name=None):
    """``values[0]`` while ``x <= boundaries[0]``, ``values[i]`` while ``boundaries[i-1] < x <=
    boundaries[i]``, ``values[-1]`` after the last boundary."""
    if len(values) != len(boundaries) + 1:
        raise ValueError("The length of boundaries should be 1 less than the length of values")
    with op_scope(name or "PiecewiseConstant", []) as scope:
        x = convert_to_tensor(x)
        vals = [convert_to_tensor(v) for v in values]
        if len({v.dtype.base_dtype for v in vals}) != 1:
            raise ValueError(f"Values must have elements all with the same dtype, got "
                             f"{[v.dtype.base_dtype.name for v in vals]}")
        bounds = []
        for b in boundaries:
            b = convert_to_tensor(b) if hasattr(b, "dtype") else convert_to_tensor(
                np.asarray(b).astype(x.dtype.base_dtype.as_np))
            if b.dtype.base_dtype != x.dtype.base_dtype:
                raise ValueError(f"Boundaries ({b.dtype.base_dtype.name}) must have the same dtype as x "
                                 f"({x.dtype.base_dtype.name}).")
            bounds.append(b)
        out = vals[-1]
        for b, v in zip(reversed(bounds), reversed(vals[:-1])):   # the first boundary that x is under wins
            out = where(binary("LessEqual", x, b), v, out)
        from jitgraph.ops.control_ops import identity
        return identity(out, name=scope)


piecewise_constant_decay = piecewise_constant


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None):
    """Half a cosine from ``learning_rate`` to ``alpha * learning_rate`` over ``decay_steps``."""
    with op_scope(name or "CosineDecay", []) as scope:
        lr, step, steps, a = _start("cosine_decay", learning_rate, global_step, decay_steps, alpha)
        p = binary("RealDiv", binary("Minimum", step, steps), steps)
        cosine = 0.5 * (1.0 + unary("Cos", math.pi * p))
        return binary("Mul", lr, (1 - a) * cosine + a, name=scope)


def cosine_decay_restarts(learning_rate, global_step, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                          name=None):
    """Cosine decay restarted after ``first_decay_steps``, then after spans ``t_mul`` times longer,
    each starting ``m_mul`` times lower (SGDR)."""
    with op_scope(name or "SGDRDecay", []) as scope:
        lr, step, first, t, m, a = _start("cosine_decay_restarts", learning_rate, global_step, first_decay_steps,
                                          t_mul, m_mul, alpha)
        done = binary("RealDiv", step, first)
        if t_mul == 1.0:
            restarts = unary("Floor", done)
            done = done - restarts
        else:
            restarts = unary("Floor", binary("RealDiv", unary("Log", 1.0 - done * (1.0 - t)), unary("Log", t)))
            before = binary("RealDiv", 1.0 - binary("Pow", t, restarts), 1.0 - t)
            done = binary("RealDiv", done - before, binary("Pow", t, restarts))
        cosine = 0.5 * binary("Pow", m, restarts) * (1.0 + unary("Cos", math.pi * done))
        return binary("Mul", lr, (1 - a) * cosine + a, name=scope)


def _linear_cosine(lr, step, steps, periods, a, b, noise=None):
    step = binary("Minimum", step, steps)
    linear = binary("RealDiv", steps - step, steps)
    if noise is not None:
        linear = linear + noise(step)
    fraction = 2.0 * periods * binary("RealDiv", step, steps)
    cosine = 0.5 * (1.0 + unary("Cos", math.pi * fraction))
    return binary("Mul", lr, (a + linear) * cosine + b)


def linear_cosine_decay(learning_rate, global_step, decay_steps, num_periods=0.5, alpha=0.0, beta=0.001, name=None):
    """``learning_rate * ((alpha + linear) * cosine + beta)``: a linear decay to 0 times
    ``num_periods`` cosine periods over ``decay_steps``."""
    with op_scope(name or "LinearCosineDecay", []):
        lr, step, steps, periods, a, b = _start("linear_cosine_decay", learning_rate, global_step, decay_steps,
                                                num_periods, alpha, beta)
        return _linear_cosine(lr, step, steps, periods, a, b)


def noisy_linear_cosine_decay(learning_rate, global_step, decay_steps, initial_variance=1.0, variance_decay=0.55,
                              num_periods=0.5, alpha=0.0, beta=0.001, name=None):
    """``linear_cosine_decay`` with Gaussian noise of variance
    ``initial_variance / (1 + step) ** variance_decay`` added to the linear part (new on every run)."""
    with op_scope(name or "NoisyLinearCosineDecay", []):
        lr, step, steps, v0, vd, periods, a, b = _start("noisy_linear_cosine_decay", learning_rate, global_step,
                                                        decay_steps, initial_variance, variance_decay, num_periods,
                                                        alpha, beta)

        def noise(s):
            std = unary("Sqrt", binary("RealDiv", v0, binary("Pow", 1.0 + s, vd)))
            return random_normal([], stddev=std, dtype=lr.dtype.base_dtype)
        return _linear_cosine(lr, step, steps, periods, a, b, noise)
