"""``tf.while_loop``: one functional ``While`` op whose condition and body are traced bodies.

``While`` takes ``[loop variables..., captured tensors..., variable references...]`` and outputs
the final loop variables plus a tape (``tape.py``: per iteration, the values its gradient
needs). Each iteration runs the condition, then the body; inside them, variable reads and
writes follow program order, once per iteration. The op reports every variable the condition or
body touches (``extra["var_accesses"]``). ``maximum_iterations`` is TF1's: an extra counter loop
variable and ``counter < maximum_iterations and cond(...)``. The gradient is ``WhileGrad``, a loop
running backwards over the tape (``while_grad.py``). The compiler lowers the op to a native loop
where it can (``jitgraph/compiler/loops.py``); this module's ``run`` is the reference.
"""

from jitgraph import dtypes
from jitgraph.api_graph import name_scope
from jitgraph.control_flow import nest
from jitgraph.control_flow.body import Body, merged_accesses
from jitgraph.control_flow.cond_op import detach_outputs
from jitgraph.control_flow.tape import LoopTape, box
from jitgraph.control_flow.trace import leaf_tensor, new_func_graph, rebuild_leaf, trace
from jitgraph.framework.graph import get_default_graph
from jitgraph.framework.shapes import TensorShape, as_shape
from jitgraph.framework.tensor import Tensor
from jitgraph.ops.constant_ops import constant
from jitgraph.ops.math_ops import binary
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

__all__ = ["while_loop"]


class LoopSpec:
    """A ``While`` op's traced condition and body. Loop variable ``j`` is op input ``j``; the
    condition's and body's captures are the op inputs at ``cond_pos`` / ``body_pos``;
    ``recorded`` lists the body tensors each iteration keeps on the tape (filled by gradients)."""

    def __init__(self, graphs, cond_body, body, n_vars, cond_pos, body_pos, out_specs, back_prop,
                 parallel_iterations, swap_memory):
        self.graphs, self.cond, self.body, self.n_vars = graphs, cond_body, body, n_vars
        self.cond_pos, self.body_pos, self.out_specs = cond_pos, body_pos, out_specs
        self.back_prop, self.parallel_iterations, self.swap_memory = back_prop, parallel_iterations, swap_memory
        self.recorded = []
        self.grad_cache = None
        self.ta_specs = {}     # loop variable index -> (dtype, element shape) of a TensorArray
        self._accesses = None

    def accesses(self):
        if self._accesses is None:
            self._accesses = merged_accesses([self.cond, self.body])
        return self._accesses


def _while_run(ctx, op, args):
    """Reference: condition, body, condition, … in Python over the bodies' NumPy steps."""
    spec = op.get_attr("spec")
    n = spec.n_vars
    vals = list(args[:n])
    cargs = [args[i] for i in spec.cond_pos]
    bargs = [args[i] for i in spec.body_pos]
    spec.cond.check_initialized(ctx.store)
    spec.body.check_initialized(ctx.store)
    recorded = list(spec.recorded)
    stacks = [[] for _ in recorded]
    k = 0
    while bool(spec.cond.run(ctx, vals + cargs)[0]):
        outs = spec.body.run(ctx, vals + bargs, recorded)
        for s, v in zip(stacks, outs[n:]):
            s.append(v)
        vals = outs[:n]
        k += 1
    return detach_outputs(ctx, vals, spec.accesses()) + [box(LoopTape(k, stacks))]


def _while_grad(op, *grads):
    from jitgraph.control_flow.while_grad import while_grad
    return while_grad(op, *grads)


def native_loop(ctx, op, args):
    """A compiled plan runs the loop natively where it can (``jitgraph/compiler/loops.py``)."""
    from jitgraph.compiler.loops import native_run
    return native_run(ctx, op, args)


def native_loop_untaped(ctx, op, args):
    """``native_loop`` for a plan where nothing reads the tape (a forward pass of a model whose
    gradient is not fetched): the loop keeps no per-iteration values, and the tape is empty."""
    from jitgraph.compiler.loops import native_run
    return native_run(ctx, op, args, record=False)


define_op("While", kind="control", stateful=True, run=_while_run, grad=_while_grad,
          infer=lambda ins, a: list(a["spec"].out_specs) + [(dtypes.variant, TensorShape([]))],
          extra={"var_accesses": lambda op: op.get_attr("spec").accesses(), "fast": native_loop,
                 "fast_untaped": native_loop_untaped})


def _less_or_equal(a, b):
    """TF1's ``_ShapeLessThanOrEqual``: is shape ``a`` at least as specific as ``b``?"""
    if b.ndims is None:
        return True
    if a.ndims != b.ndims:
        return False
    return all(db is None or da == db for da, db in zip(a.as_list(), b.as_list()))


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10, back_prop=True,
               swap_memory=False, name=None, maximum_iterations=None, return_same_structure=False):
    """Repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``, as one graph op.

    ``loop_vars`` is a list or tuple (nested lists, tuples, namedtuples, dicts and TensorArrays
    allowed). A loop variable's shape may not change across iterations unless its
    ``shape_invariants`` entry is less specific (``ValueError`` at graph build otherwise).
    ``maximum_iterations`` stops the loop after that many iterations. ``parallel_iterations`` and
    ``swap_memory`` are accepted (the loop runs sequentially in memory); with
    ``back_prop=False`` no gradient flows through the loop. ::

        i, total = tf.while_loop(lambda i, s: i < 10, lambda i, s: (i + 1, s + i), [0, 0])
    """
    if not callable(cond):
        raise TypeError("'cond' must be callable.")
    if not callable(body):
        raise TypeError("'body' must be callable.")
    if parallel_iterations < 1:
        raise TypeError("'parallel_iterations' must be a positive integer.")
    with name_scope(name, "while", [x for x in nest.flatten(loop_vars) if isinstance(x, Tensor)]) as scope:
        if not loop_vars:
            raise ValueError("'loop_vars' must be provided.")
        try_to_pack = len(loop_vars) == 1 and not return_same_structure
        if maximum_iterations is not None:
            maximum_iterations = convert_to_tensor(maximum_iterations, name="maximum_iterations")
            if maximum_iterations.shape.ndims != 0:
                raise ValueError(f"'maximum_iterations' must be a scalar. Received shape: {maximum_iterations.shape}")
            counter = constant(0, dtype=maximum_iterations.dtype, name="iteration_counter")
            limit, orig_cond, orig_body = maximum_iterations, cond, body
            if try_to_pack:
                loop_vars = (counter, loop_vars[0])
                cond = lambda i, lv: _logical_and(binary("Less", i, limit), orig_cond(lv))  # noqa: E731
                body = lambda i, lv: (i + 1, orig_body(lv))  # noqa: E731
            else:
                loop_vars = (counter, loop_vars)
                cond = lambda i, lv: _logical_and(binary("Less", i, limit), orig_cond(*lv))  # noqa: E731
                body = lambda i, lv: (i + 1, orig_body(*lv))  # noqa: E731
            if shape_invariants is not None:
                shape_invariants = (TensorShape([]), shape_invariants)
        result = _build_loop(cond, body, loop_vars, shape_invariants, scope, back_prop, parallel_iterations,
                             swap_memory, return_same_structure)
        return result[1] if maximum_iterations is not None else result


def _logical_and(a, b):
    return binary("LogicalAnd", a, convert_to_tensor(b))


def _build_loop(cond, body, loop_vars, shape_invariants, scope, back_prop, parallel_iterations, swap_memory,
                return_same_structure):
    graph = get_default_graph()
    leaves = nest.flatten(loop_vars)
    flat = [leaf_tensor(x, "loop_vars") for x in leaves]
    if shape_invariants is None:
        shapes = [t.shape for t in flat]
    else:
        nest.assert_same_structure(loop_vars, shape_invariants, check_types=False)
        shapes = [as_shape(s) if not _is_tensor_array(x) else t.shape
                  for x, t, s in zip(leaves, flat, nest.flatten(shape_invariants))]
        for t, s in zip(flat, shapes):
            if not t.shape.is_compatible_with(s) or not _less_or_equal(t.shape, s):
                raise ValueError(f"The shape invariant specified for {t.name} is not compatible with the initial "
                                 f"shape of the loop variable. It enters the loop with shape {t.shape}, but the "
                                 f"specified shape invariant is {s}.")
    fgs = []
    for part in ("cond", "body"):
        fg = new_func_graph(graph, scope)
        args = [fg.add_input(t.dtype.base_dtype, s, "Placeholder") for t, s in zip(flat, shapes)]
        fgs.append((fg, nest.pack_sequence_as(loop_vars, [rebuild_leaf(x, a) for x, a in zip(leaves, args)])))
    (cfg, cargs), (bfg, bargs) = fgs
    pred_res, pred_flat = trace(cfg, cond, cargs, "'cond'")
    if len(pred_flat) != 1 or pred_flat[0].dtype.base_dtype != dtypes.bool or pred_flat[0].shape.ndims not in (0, None):
        raise ValueError(f"'cond' must return a boolean scalar tensor, got {pred_res!r}")
    body_res, body_flat = trace(bfg, lambda *a: _listify(body(*a)), bargs, "'body'")
    original = body_res
    nest.assert_same_structure(list(bargs), list(body_res))
    if len(body_flat) != len(flat):
        raise ValueError("Number of inputs and outputs of 'body' must match 'loop_vars'. Got "
                         f"{len(flat)} for the number of inputs/outputs, and {len(body_flat)} for 'loop_vars'.")
    for t, out, s in zip(flat, body_flat, shapes):
        if out.dtype.base_dtype != t.dtype.base_dtype:
            raise TypeError(f"Input 'data' of 'NextIteration' Op has type {out.dtype.base_dtype.name} that does "
                            f"not match type {t.dtype.base_dtype.name} of the loop variable {t.name}.")
        if not _less_or_equal(out.shape, s):
            raise ValueError(f"Input tensor '{t.name}' enters the loop with shape {s}, but has shape {out.shape} "
                             "after one iteration. To allow the shape to vary across iterations, use the "
                             "`shape_invariants` argument of tf.while_loop to specify a less-specific shape.")
    op = build_while(graph, flat, cfg, pred_flat[0], bfg, body_flat, shapes, back_prop, parallel_iterations,
                     swap_memory, "Exit")
    for j, x in enumerate(leaves):
        if _is_tensor_array(x):
            op.get_attr("spec").ta_specs[j] = (x.dtype, x.element_shape)
    exits = [rebuild_leaf(x, t) for x, t in zip(nest.flatten(original), op.outputs[:-1])]
    packed = nest.pack_sequence_as(original, exits)
    if return_same_structure:
        return packed
    return packed[0] if len(exits) == 1 else packed


def _listify(result):
    return result if nest.is_sequence(result) else [result]


def _is_tensor_array(x):
    from jitgraph.control_flow.tensor_array import TensorArray
    return isinstance(x, TensorArray)


def build_while(graph, inits, cfg, pred, bfg, outs, shapes, back_prop=True, parallel_iterations=10,
                swap_memory=False, name="Exit"):
    """The ``While`` op over a traced condition graph ``cfg`` (output ``pred``) and body graph
    ``bfg`` (outputs ``outs``); both take the loop variables first."""
    n = len(inits)
    inputs, pos = list(inits), {}
    for fg in (cfg, bfg):
        for src in fg.captures:
            if src not in pos:
                pos[src] = len(inputs)
                inputs.append(src)
    for fg in (cfg, bfg):
        for r in fg.ref_captures:
            if r not in pos:
                pos[r] = len(inputs)
                inputs.append(r)
    cond_body = Body(cfg, cfg.inputs + list(cfg.captures.values()), [pred])
    loop_body = Body(bfg, bfg.inputs + list(bfg.captures.values()), outs)
    out_specs = [(t.dtype.base_dtype, s) for t, s in zip(inits, shapes)]
    spec = LoopSpec((cfg, bfg), cond_body, loop_body, n, [pos[s] for s in cfg.captures],
                    [pos[s] for s in bfg.captures], out_specs, back_prop, parallel_iterations, swap_memory)
    controls = []
    for fg in (cfg, bfg):
        controls.extend(c for c in fg.outer_controls if c not in controls)
    with graph.control_dependencies(controls):
        return make_op("While", inputs, {"spec": spec}, name)
