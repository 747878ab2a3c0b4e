"""``tf.cond`` and ``tf.case``: one functional ``If`` op whose branches are traced bodies.

``If`` takes ``[pred, captured tensors..., variable references...]`` and outputs the taken
branch's results plus a tape (see ``tape.py``). Only the taken branch runs, so only its assigns
happen; its reads and writes follow program order inside the branch. The op reports every
variable either branch touches (``extra["var_accesses"]``), so ``order`` places it correctly
among the outer reads and writes. Its gradient is another ``If`` on the same predicate
(``cond_grad.py``).
"""

from jitgraph import dtypes, errors
from jitgraph.api_graph import name_scope
from jitgraph.control_flow import nest
from jitgraph.control_flow.body import Body, merged_accesses
from jitgraph.control_flow.tape import CondTape, box, unbox
from jitgraph.control_flow.trace import new_func_graph, rebuild_leaf, trace
from jitgraph.framework.graph import get_default_graph
from jitgraph.framework.shapes import TensorShape
from jitgraph.framework.tensor import Operation, Tensor
from jitgraph.ops.constant_ops import constant
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

__all__ = ["cond", "case"]


class CondSpec:
    """The branches of an ``If`` op. Branch ``b`` (0: true, 1: false) runs ``bodies[b]`` on the op
    inputs at ``arg_pos[b]`` followed by the values ``tape_keys[b]`` picks from the incoming tape
    (op input ``tape_pos``; gradient conds only); ``recorded[b]`` are the tensors its own tape
    keeps for a gradient."""

    def __init__(self, graphs, bodies, arg_pos, out_specs, tape_pos=None, tape_keys=None):
        self.graphs, self.bodies, self.arg_pos, self.out_specs = graphs, bodies, arg_pos, out_specs
        self.tape_pos, self.tape_keys = tape_pos, tape_keys or [[], []]
        self.recorded = [[], []]
        self.grad_cache = None
        self._accesses = None

    def accesses(self):
        if self._accesses is None:
            self._accesses = merged_accesses(self.bodies)
        return self._accesses


def _if_run(ctx, op, args, fast=False):
    spec = op.get_attr("spec")
    b = 0 if bool(args[0]) else 1
    body = spec.bodies[b]
    body.check_initialized(ctx.store)
    inputs = [args[i] for i in spec.arg_pos[b]]
    if spec.tape_pos is not None:
        tape = unbox(args[spec.tape_pos])
        inputs += [tape.values[k] for k in spec.tape_keys[b]]
    extra = spec.recorded[b]
    outs = body.run(ctx, inputs, extra, fast)
    n = len(spec.out_specs)
    results = detach_outputs(ctx, outs[:n], spec.accesses())
    return results + [box(CondTape(b, outs[n:]))]


def detach_outputs(ctx, outs, accesses):
    """Outputs that share memory with a variable's buffer are copied (a later in-place write of
    the variable must not change a value this op returned)."""
    import numpy as np
    store = ctx.store
    bufs = [store.get(v) for v, _ in accesses if store.is_initialized(v)]
    if not bufs:
        return list(outs)
    return [o.copy() if isinstance(o, np.ndarray) and o.dtype != object and any(
        np.may_share_memory(o, b) for b in bufs if isinstance(b, np.ndarray)) else o for o in outs]


def _if_grad(op, *grads):
    from jitgraph.control_flow.cond_grad import if_grad
    return if_grad(op, *grads)


define_op("If", kind="control", stateful=True, run=_if_run, grad=_if_grad,
          infer=lambda ins, a: list(a["spec"].out_specs) + [(dtypes.variant, TensorShape([]))],
          extra={"var_accesses": lambda op: op.get_attr("spec").accesses(),
                 # in a compiled plan, loops inside the taken branch run natively
                 "fast": lambda ctx, op, args: _if_run(ctx, op, args, fast=True)})


def _unpack_if_singleton(res):
    if isinstance(res, (list, tuple)) and len(res) == 1:
        return res[0]
    return res


def _merge_shape(a, b):
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])


def cond(pred, true_fn=None, false_fn=None, strict=False, name=None, fn1=None, fn2=None):
    """``true_fn()`` if ``pred`` else ``false_fn()``, as one graph op; only the taken branch runs.

    Both functions must return the same structure of tensors with the same dtypes. A singleton
    list or tuple is unpacked unless ``strict``. ::

        y = tf.cond(x > 0, lambda: v.assign_add(1.0), lambda: v.assign_sub(1.0))
    """
    true_fn = true_fn if true_fn is not None else fn1
    false_fn = false_fn if false_fn is not None else fn2
    if true_fn is None:
        raise TypeError("cond(): 'true_fn' argument required")
    if false_fn is None:
        raise TypeError("cond(): 'false_fn' argument required")
    if not callable(true_fn):
        raise TypeError("'true_fn' must be callable.")
    if not callable(false_fn):
        raise TypeError("'false_fn' must be callable.")
    if isinstance(pred, bool):
        raise TypeError("'pred' must not be a Python bool.")
    with name_scope(name, "cond", [pred]) as scope:
        pred = convert_to_tensor(pred)
        if pred.dtype.base_dtype != dtypes.bool:
            raise TypeError(f"Input 'pred' of 'Switch' Op has type {pred.dtype.base_dtype.name} that does not "
                            f"match expected type of bool.")
        if pred.shape.ndims not in (None, 0):
            raise ValueError(f"Shape must be rank 0 but is rank {pred.shape.ndims} for 'cond' (the predicate "
                             f"of tf.cond must be a scalar)")
        graph = get_default_graph()
        traced = []
        for fn, tag in ((true_fn, "true_fn"), (false_fn, "false_fn")):
            fg = new_func_graph(graph, scope)
            res, flat = trace(fg, fn, (), f"'{tag}'")
            if res is None:
                raise ValueError(f"'{tag}' must have a return value.")
            with fg.as_default():
                flat = [_pivot(x, tag == "true_fn") if isinstance(x, Operation) else x for x in flat]
            traced.append((fg, res if strict else _unpack_if_singleton(res), flat))
        (fg_t, res_t, flat_t), (fg_f, res_f, flat_f) = traced
        try:
            nest.assert_same_structure(res_t, res_f)
        except TypeError as e:
            raise TypeError(f"Incompatible return types of 'true_fn' and 'false_fn': {e}") from None
        except ValueError as e:
            raise ValueError(f"Incompatible return values of 'true_fn' and 'false_fn': {e}") from None
        if not flat_t:
            raise ValueError("'true_fn' and 'false_fn' must return at least one result.")
        for x, y in zip(flat_t, flat_f):
            if x.dtype.base_dtype != y.dtype.base_dtype:
                raise ValueError("Outputs of 'true_fn' and 'false_fn' must have the same type(s). Received "
                                 f"{x.dtype.name} from 'true_fn' and {y.dtype.name} from 'false_fn'.")
        out_specs = [(x.dtype.base_dtype, _merge_shape(x.shape, y.shape)) for x, y in zip(flat_t, flat_f)]
        op = build_if(graph, pred, [fg_t, fg_f], [flat_t, flat_f], out_specs, "Merge")
        outs = op.outputs[:-1]
        leaves = nest.flatten(res_t)
        packed = nest.pack_sequence_as(res_t, [rebuild_leaf(x, t) for x, t in zip(leaves, outs)])
        return packed


def _pivot(op, value):
    """A branch returning an Operation yields a bool (TF1's pivot) that depends on it."""
    with get_default_graph().control_dependencies([op]):
        return constant(value, dtype=dtypes.bool, name="switch_t" if value else "switch_f")


def build_if(graph, pred, fgs, flat_outputs, out_specs, name, tape=None, tape_inputs=None):
    """The ``If`` op over traced branch graphs ``fgs`` with outputs ``flat_outputs`` (each branch's
    captures become op inputs; ``tape_inputs[b]``: (tensor of branch b, key) fed from ``tape``)."""
    inputs, pos = [pred], {}
    for fg in fgs:
        for src in fg.captures:
            if src not in pos:
                pos[src] = len(inputs)
                inputs.append(src)
    refs = []
    for fg in fgs:
        for r in fg.ref_captures:
            if r not in pos:
                pos[r] = None
                refs.append(r)
    tape_pos = None
    if tape is not None:
        tape_pos = len(inputs)
        inputs.append(tape)
    inputs += refs
    bodies, arg_pos, keys = [], [], []
    for b, (fg, flat) in enumerate(zip(fgs, flat_outputs)):
        caps = list(fg.captures.items())
        fed = [ph for _, ph in caps] + [t for t, _ in (tape_inputs[b] if tape_inputs else [])]
        bodies.append(Body(fg, fed, flat))
        arg_pos.append([pos[src] for src, _ in caps])
        keys.append([k for _, k in (tape_inputs[b] if tape_inputs else [])])
    spec = CondSpec(fgs, bodies, arg_pos, out_specs, tape_pos, keys)
    controls = []
    for fg in fgs:
        controls.extend(c for c in fg.outer_controls if c not in controls)
    with graph.control_dependencies(controls):
        return make_op("If", inputs, {"spec": spec}, name)


# ---- tf.case ------------------------------------------------------------------------------------
define_op("_CaseCheck", kind="library",
          infer=lambda ins, a: [(dtypes.bool, TensorShape([]))],
          compute=lambda *preds, mode: _case_check(preds, mode))


def _case_check(preds, mode):
    import numpy as np
    n = int(np.sum([bool(p) for p in preds]))
    if mode == "exclusive" and n > 1:
        raise errors.InvalidArgumentError(
            None, None, f"Input error: exclusive=True: more than 1 conditions evaluated as True: "
                        f"{[bool(p) for p in preds]}")
    if mode == "default" and n == 0:
        raise errors.InvalidArgumentError(None, None, "Input error: None of conditions evaluated as True: "
                                                      f"{[bool(p) for p in preds]}")
    return np.array(True)


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """The function of the first true predicate in ``pred_fn_pairs`` (a list of ``(pred, fn)``
    or a dict), else ``default()``. Without ``default`` the last pair's function is the default and
    the run fails (``InvalidArgumentError``) when no predicate holds; ``exclusive=True`` fails the
    run when more than one holds. Built as nested ``tf.cond``s."""
    if isinstance(pred_fn_pairs, dict):
        pred_fn_pairs = list(pred_fn_pairs.items())
    if not isinstance(pred_fn_pairs, (list, tuple)):
        raise TypeError("fns must be a list, tuple, or dict")
    for pair in pred_fn_pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError("Each entry in pred_fn_pairs must be a 2-tuple")
        p, f = pair
        if not isinstance(p, Tensor) or p.dtype.base_dtype != dtypes.bool:
            raise TypeError(f"pred must be Tensor of type bool: {getattr(p, 'name', p)}")
        if not callable(f):
            raise TypeError(f"fn for pred {p.name} must be callable.")
    preds = [p for p, _ in pred_fn_pairs]
    fns = [f for _, f in pred_fn_pairs]
    with name_scope(name, "case", preds):
        if default is None:
            if not fns:
                raise ValueError("tf.case needs a default or at least one (pred, fn) pair")
            last = fns[-1]
            all_preds = list(preds)
            fns, preds = fns[:-1], preds[:-1]

            def default():
                chk = make_op("_CaseCheck", all_preds, {"mode": "default"}, "case_default_check").outputs[0]
                with get_default_graph().control_dependencies([chk]):
                    return nest.map_structure(_after_check, last())
        fn = default
        for p, f in reversed(list(zip(preds, fns))):
            fn = _bind(p, f, fn, strict)
        if exclusive and len(pred_fn_pairs) > 1:
            chk = make_op("_CaseCheck", [p for p, _ in pred_fn_pairs], {"mode": "exclusive"},
                          "exclusive_check").outputs[0]
            with get_default_graph().control_dependencies([chk]):
                return fn()
        return fn()


def _after_check(x):
    from jitgraph.ops.control_ops import identity
    return identity(x) if isinstance(x, Tensor) else x


def _bind(p, f, rest, strict):
    return lambda: cond(p, f, rest, strict=strict)
