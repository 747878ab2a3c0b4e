"""Running a native loop: the op's argument values converted to the generated function's (arrays,
TensorArrays as dense buffers and written masks, variable buffers, stacks of the tape), the call,
and the op's outputs built back; a run-time check that fails hands the run to the reference."""

import threading
import time

import numpy as np

from jitgraph.control_flow.tape import LoopTape, box, unbox
from jitgraph.control_flow.tensor_array import TAValue
from jitgraph.kernels import blas, loop_gemm


def ta_elem_rank(v):
    if v.element_shape is not None:
        return len(v.element_shape)
    first = next((x for x in v.items if x is not None), None)
    return None if first is None else np.ndim(first)


def ta_known(v):
    return _ta_elem_shape(v) is not None


def _ta_elem_shape(v):
    first = next((x for x in v.items if x is not None), None)
    if first is not None:
        return np.shape(first)
    s = v.element_shape
    return tuple(s) if s is not None and all(d is not None for d in s) else None


# ---- running -------------------------------------------------------------------------------------
class Runner:
    """Converts an op's arguments to the native function's, calls it and builds the op's outputs.

    Variables the loop writes are updated on copies that replace the store's buffers only when the
    loop succeeds (``store.set``, which the run's journal records): a run-time check the native
    code cannot handle reruns the op on the reference from unchanged variables, and a later failure
    of the run rolls the loop's writes back like any NumPy step's."""

    def __init__(self, fn, em, build, written, note, source=None):
        self.fn, self.args, self.errors, self.build, self.note = fn, em.args, em.errors, build, note
        self.written = set(written)
        self.first = True
        # The first call has Numba compile the loop for its types (P9's two loops: 12 s) unless
        # they are on disk. In a lazy plan with a compile process, that compile goes there
        # (``_compile_elsewhere``) and the calls run the reference loop until it is done, as the
        # plan's steps did while its kernels compiled: ``pending`` is then its event; False where
        # the first call compiles (or loads) here (eager plans, loops compiled before); None
        # before the first call.
        self.source = source
        self.pending = None

    def __call__(self, ctx, op, args):
        store = ctx.store
        spec = op.get_attr("spec")
        if self.first and self.pending and not self.pending.is_set():
            return _beside_compile(ctx, op, args)     # the compile process is still at it
        if self.pending is None and _forward_pending(op):
            return _beside_compile(ctx, op, args)     # decided once the forward loop runs natively
        call, written, rngs, par = [], [], [], None
        for name, desc in self.args:
            kind = desc[0]
            if kind == "in":
                a = np.asarray(args[desc[1]])
                call.append(a.reshape(1) if a.ndim == 0 else np.ascontiguousarray(a))
            elif kind == "ta_buf":
                call.append(_dense(unbox(args[desc[1]]), desc[2]))
            elif kind == "ta_mask":
                call.append(np.array([x is not None for x in unbox(args[desc[1]]).items], dtype=np.bool_))
            elif kind == "var":
                var = desc[1]
                if not store.is_initialized(var):
                    return op.op_def.run(ctx, op, args)   # the reference raises TF's error
                buf = _adopt(store, var)
                if var in self.written:
                    buf = buf.copy()
                    written.append((var, buf))
                call.append(buf.reshape(1) if buf.ndim == 0 else buf)
            elif kind == "const":
                call.append(desc[1])
            elif kind == "cap":
                bound = self.build[3]
                cap = 16 if bound is None else max(int(args[bound[1]]) - int(args[bound[0]]), 0)
                call.append(np.array([cap], np.int64))
            elif kind == "tape_n":
                call.append(np.array([unbox(args[0]).n], np.int64))
            elif kind == "stack":
                call.append(np.ascontiguousarray(unbox(args[0]).dense(desc[1])))
            elif kind == "rng":   # a random op's stream, drawn from inside the loop
                gen = ctx.rng(desc[1])
                rngs.append((gen, gen.bit_generator.state))
                call.append(gen)
            elif kind == "par":   # (a bare mailbox: its type answers the first call's question)
                par_at, par = len(call), _lend_helper() if self.pending is not None else loop_gemm.new_mailbox()
                call.append(par)
        if self.pending is None:
            self.pending = _compile_elsewhere(self.source, call) or False
            if self.pending:
                return _beside_compile(ctx, op, args)
            if par is not None:                       # runs natively now: lend the helper
                par = call[par_at] = _lend_helper()
        blas.hold_numba_blas()
        try:
            if self.first:   # Numba compiles (or loads from its disk cache) on the first call
                t0 = time.perf_counter()
                out = self.fn(*call)
                self.first = False
                self.note(op, "native", "", time.perf_counter() - t0)
                if self.source is not None and self.pending is False:   # compiled here: on disk now
                    _mark_compiled(self.source, call)
            else:
                out = self.fn(*call)
        except IndexError as e:
            if not str(e).startswith("jgloop"):
                raise
            for gen, state in rngs:   # the reference draws the same numbers again
                gen.bit_generator.state = state
            return op.op_def.run(ctx, op, args)
        finally:
            if par is not None:
                par[loop_gemm.STOP] = 1      # the lent helper returns
        for var, buf in written:
            store.set(var, buf)
        return self._outputs(op, spec, args, out, call)

    def _outputs(self, op, spec, args, out, call):
        kind, build, extra = self.build[:3]
        res, pos = [], 0 if kind == "grad" else 1
        for what, j in build:
            if what == "ta":
                buf, mask = out[pos], out[pos + 1]
                pos += 2
                proto = unbox(args[j])
                res.append(box(TAValue([buf[i] if m else None for i, m in enumerate(mask)], proto.dtype,
                                       proto.element_shape, proto.dynamic, proto.clear_after_read)))
            else:
                dtype = op.outputs[len(res)].dtype.base_dtype.as_np
                res.append(np.asarray(out[pos], dtype))
                pos += 1
        if kind == "while":
            n = int(out[0])
            stacks = [out[pos + i][:n] for i in range(extra)]
            res.append(box(LoopTape(n, stacks)))
        else:
            for what, info in extra:
                dtype = op.outputs[len(res)].dtype.base_dtype.as_np
                if what == "deferred":   # a weight gradient's operands: A^T G here
                    v = _weight_grad(out[pos], out[pos + 1])
                    pos += 2
                else:
                    v = out[pos]
                    pos += 1
                res.append(np.asarray(v[0] if info else v, dtype))
        return res


def _compile_elsewhere(source, call):
    """An event set when the compile process has compiled ``source``'s loop for ``call``'s types
    (queued behind the plan's background builds), or None where the first call should compile
    (or load) in this process: eager mode, no compile process, or compiled before."""
    from jitgraph.compiler import build_worker, config, plan
    if source is None or config.compile_mode() != "lazy" or not config.background():
        return None
    import numba
    try:
        sig = tuple(numba.typeof(a) for a in call)
    except (ValueError, TypeError):     # a value Numba cannot type: the first call says so, here
        return None
    key = build_worker.loop_key(source, sig)
    if build_worker.warmed(key) or build_worker.worker() is None:
        return None
    done = threading.Event()

    def job():
        try:
            w = build_worker.worker()
            if w is not None:
                w.request("loop", source, sig)
        except Exception:   # noqa: BLE001,S110 - the process died, or the types did not pickle:
            pass            # the first native call compiles here instead
        finally:
            done.set()
    plan._builder.submit(job)
    return done


def _forward_pending(op):
    """Is ``op`` a ``WhileGrad`` whose forward ``While`` waits for its compile? Its tape then comes
    from the reference loop, whose TensorArrays read empty where the native loop's keep their
    elements: lowered for that tape, the gradient compiled for calls that stop once the forward
    runs natively (P9 compiled its gradient loop twice, the second time in the next process)."""
    fwd = op.inputs[0].op if op.type == "WhileGrad" and op.inputs else None
    if fwd is None or fwd.type != "While":
        return False
    runners = fwd.get_attr("spec").__dict__.get("native", {}).values()
    return any(isinstance(r, Runner) and r.pending and not r.pending.is_set() for r in runners)


def _beside_compile(ctx, op, args):
    """The reference loop, its BLAS a thread short per compile process (``blas.spare_core``) while
    they work: with both of a 2-core machine's BLAS threads, P6's steps took 90-150 ms beside the
    compile process instead of ~40."""
    from jitgraph.compiler import build_worker
    with blas.spare_core(build_worker.processes()):
        return op.op_def.run(ctx, op, args)


def _mark_compiled(source, call):
    import numba

    from jitgraph.compiler import build_worker
    build_worker.mark_warmed(build_worker.loop_key(source, tuple(numba.typeof(a) for a in call)))


def _lend_helper():
    """A mailbox for one call's shared matmuls, and chunk workers lent to take their chunks
    (``kernels/loop_gemm.py``); with one BLAS thread there is no worker and none is shared, nor
    where ``JITGRAPH_LOOP_BLAS_THREADS`` gives the loops' BLAS threads of its own."""
    par = loop_gemm.new_mailbox()
    if blas.NUMBA_BLAS_THREADS != 1:   # the loops' BLAS runs its own threads: no helpers beside them
        return par
    par[loop_gemm.GEN] = 1        # before the helpers read it
    par[loop_gemm.HELPERS] = blas.lend(loop_gemm.helper, par, 1, most=loop_gemm.MAX_HELPERS)
    if par[loop_gemm.HELPERS] == 0:
        par[loop_gemm.GEN] = 0
    return par


def _weight_grad(a, g):
    """``a.T @ g``: with a chunk worker sharing its halves (``loop_gemm.shared_tn``) where the BLAS
    has threads; NumPy's own BLAS threads would spin for ~0.1 s after it, on the core the next
    loop's lent helper runs on."""
    if not (a.dtype == g.dtype and a.dtype in (np.float32, np.float64) and a.ndim == g.ndim == 2
            and a.flags.c_contiguous and g.flags.c_contiguous
            and a.shape[0] * a.shape[1] * g.shape[1] >= 2 * loop_gemm.MIN_SHARED
            and blas.numba_can_call_blas()):
        return np.dot(a.T, g)
    par = _lend_helper()
    if par[loop_gemm.GEN] == 0:   # no helper: NumPy's BLAS, with whatever threads it has
        return np.dot(a.T, g)
    out, half = np.empty((a.shape[1], g.shape[1]), a.dtype), np.empty((a.shape[1], g.shape[1]), a.dtype)
    try:
        loop_gemm.shared_tn(a, g, out, half, par)
    finally:
        par[loop_gemm.STOP] = 1
    return out


def _dense(v, rank):
    shape = _ta_elem_shape(v)
    n = len(v.items)
    if shape is None:
        return np.zeros((n,) + (0,) * rank, v.dtype)
    out = np.zeros((n,) + tuple(shape), v.dtype)
    for i, x in enumerate(v.items):
        if x is not None:
            out[i] = x
    return out


def _adopt(store, var):
    buf = store.get(var)
    dtype = var.get_attr("dtype").as_np
    if not (type(buf) is np.ndarray and buf.dtype == dtype and buf.flags.c_contiguous and buf.flags.writeable):
        buf = np.array(buf, dtype=dtype, order="C", copy=True)
        store.set(var, buf)
    return buf


