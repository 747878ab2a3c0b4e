"""TF1's older names that ``tf.compat.v1`` still exports, for what jitgraph has under other names
(``tf.arg_max`` is ``tf.argmax``, ``tf.to_float(x)`` is ``tf.cast(x, tf.float32)`` …), the
switches a TF1 program may flip (``tf.disable_resource_variables()`` …: jitgraph always behaves as
TF1 graph mode, so they change nothing), and ``install`` which adds the newer functions to the
``tf.random`` and ``tf.linalg`` namespaces. The list of names TF exports is recorded by
``tests/oracle/record_compat_names.py``; ``tests/test_compat.py`` checks these against it.
"""

from jitgraph import dtypes
from jitgraph.errors import OpError  # noqa: F401  (tf.OpError)
from jitgraph.framework.shapes import Dimension, TensorShape
from jitgraph.framework.tensor import Tensor
from jitgraph.ops.control_ops import identity, no_op
from jitgraph.ops.math_ops import broadcast_shapes, cast
from jitgraph.ops.reduction_ops import argmax, argmin

__all__ = ["arg_max", "arg_min", "to_float", "to_double", "to_int32", "to_int64", "op_scope", "variable_op_scope",
           "tables_initializer", "initialize_all_tables", "disable_resource_variables", "disable_control_flow_v2",
           "disable_tensor_equality", "disable_v2_tensorshape", "resource_variables_enabled",
           "control_flow_v2_enabled", "executing_eagerly_outside_functions", "is_tensor", "get_static_value",
           "dimension_value", "dimension_at_index", "broadcast_static_shape", "guarantee_const", "no_gradient",
           "NoGradient", "NotDifferentiable", "OpError"]


def arg_max(input, dimension, output_type=dtypes.int64, name=None):
    """``argmax`` under its TF1 name (``dimension`` is the axis)."""
    return argmax(input, axis=dimension, output_type=output_type, name=name or "ArgMax")


def arg_min(input, dimension, output_type=dtypes.int64, name=None):
    """``argmin`` under its TF1 name (``dimension`` is the axis)."""
    return argmin(input, axis=dimension, output_type=output_type, name=name or "ArgMin")


def _to(dtype, default_name):
    def fn(x, name=default_name):
        return cast(x, dtype, name=name)
    fn.__name__ = f"to_{dtype.name}"
    fn.__doc__ = f"``cast(x, tf.{dtype.name})``."
    return fn


to_float = _to(dtypes.float32, "ToFloat")
to_double = _to(dtypes.float64, "ToDouble")
to_int32 = _to(dtypes.int32, "ToInt32")
to_int64 = _to(dtypes.int64, "ToInt64")


def op_scope(values, name, default_name=None):
    """``name_scope(name, default_name, values)`` with TF0.x's argument order."""
    from jitgraph.api_graph import name_scope
    return name_scope(name, default_name, values)


def variable_op_scope(values, name_or_scope, default_name=None, **kwargs):
    """``variable_scope(name_or_scope, default_name, values)`` with the old argument order."""
    from jitgraph.variables.scopes import variable_scope
    return variable_scope(name_or_scope, default_name, values, **kwargs)


def tables_initializer(name="init_all_tables"):
    """The initializer of every lookup table: jitgraph has none, so a no-op."""
    return no_op(name=name)


initialize_all_tables = tables_initializer


def _switch(doc):
    def fn():
        pass
    fn.__doc__ = doc
    return fn


disable_resource_variables = _switch("Variables are TF1 reference variables already.")
disable_control_flow_v2 = _switch("Accepted: jitgraph builds TF1-style graphs.")
disable_tensor_equality = _switch("``==`` on tensors is already identity, as in TF1.")
disable_v2_tensorshape = _switch("``TensorShape`` dims are already ``Dimension`` objects, as in TF1.")


def resource_variables_enabled():
    return False


def control_flow_v2_enabled():
    return False


def executing_eagerly_outside_functions():
    return False


def is_tensor(x):
    """Is ``x`` a tensor (or a variable, which stands for one)?"""
    return isinstance(x, Tensor) or hasattr(x, "_as_graph_element")


def get_static_value(tensor, partial=False):
    """The value of ``tensor`` if it is known while building the graph, else None."""
    from jitgraph.ops.registry import constant_value
    return constant_value(tensor) if isinstance(tensor, Tensor) else tensor


def dimension_value(dimension):
    """The int (or None) of a ``Dimension``, or ``dimension`` itself."""
    return dimension.value if isinstance(dimension, Dimension) else dimension


def dimension_at_index(shape, index):
    """``shape[index]`` as a ``Dimension`` (unknown if the rank is)."""
    shape = TensorShape(shape)
    return Dimension(None) if shape.ndims is None else shape.dims[index]


def broadcast_static_shape(shape_x, shape_y):
    """The broadcast of two static shapes (``ValueError`` if they are incompatible)."""
    return broadcast_shapes(TensorShape(shape_x), TensorShape(shape_y))


def guarantee_const(input, name=None):
    """``input`` (a promise that it is constant; an identity here)."""
    return identity(input, name=name or "GuaranteeConst")


def no_gradient(op_type):
    """Declare that ops of type ``op_type`` have no gradient: ``tf.gradients`` passes nothing back
    through them instead of raising ``LookupError``."""
    from jitgraph.ops.op_util import no_gradient as none
    from jitgraph.ops.registry import get_op_def
    get_op_def(op_type).grad = none


NoGradient = NotDifferentiable = no_gradient




def install():
    """Add the candidate samplers, ``get_seed`` and the matrix functions to ``tf.random`` and
    ``tf.linalg`` (namespaces defined with their modules), and make ``tf.compat.v1`` jitgraph."""
    import jitgraph
    globals()["v1"] = jitgraph
    from jitgraph.api_graph import get_seed
    from jitgraph.ops import candidate_sampling_ops as cs
    from jitgraph.ops import composite_ops, einsum_ops, matrix_ops
    from jitgraph.ops.linalg_ops import linalg
    from jitgraph.ops.nn_extra_ops import all_candidate_sampler
    from jitgraph.ops.random_ops import random
    for name in ("log_uniform_candidate_sampler", "uniform_candidate_sampler", "fixed_unigram_candidate_sampler"):
        setattr(random, name, getattr(cs, name))
    random.all_candidate_sampler = all_candidate_sampler
    random.get_seed = get_seed
    linalg.einsum = einsum_ops.einsum
    linalg.l2_normalize = composite_ops.l2_normalize
    for src, dst in (("matrix_diag", "diag"), ("matrix_diag_part", "diag_part"), ("matrix_set_diag", "set_diag"),
                     ("matrix_band_part", "band_part"), ("trace", "trace"), ("cross", "cross"), ("matvec", "matvec"),
                     ("adjoint", "adjoint"), ("diag", "tensor_diag"), ("diag_part", "tensor_diag_part")):
        setattr(linalg, dst, getattr(matrix_ops, src))
