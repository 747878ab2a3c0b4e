"""Denormals flushed to zero while a graph runs, as in TensorFlow.

TensorFlow's CPU kernels run with the processor's flush-to-zero (FTZ: a result too small to be a
normal float becomes 0) and denormals-are-zero (DAZ: such an input counts as 0) modes on: its
thread pools set them in every thread they start. ``x * 0.01`` with ``x = 1e-37`` in float32
gives 0 in TF1, not 1e-39. jitgraph does the same for each ``Session.run`` (``flush`` on entry,
``restore`` on exit, on the calling thread) and in its own threads (``flush_this_thread`` when
they start: the chunk workers, ``Dataset.prefetch``'s producer), so a run's kernels, its NumPy
steps and its single-threaded BLAS calls see no denormals; the caller's own NumPy code outside a
run keeps IEEE denormals.

Why it matters: on Intel cores an arithmetic instruction with a denormal operand or result takes
~100 cycles instead of ~4. A [128, 512] x [512, 512] float32 product whose left operand holds
denormals took 78 ms instead of 0.47 ms with OpenBLAS on one thread of a 2-core AVX-512 Intel Xeon
VM, and an LSTM's gradients decay into denormals within a few steps: P5 (``benchmarks.programs``)
took 55 ms a step against TF1's 20.

Only x86-64 has the two bits (MXCSR bits 15 and 6) here; elsewhere every function is a no-op.
The two native functions are JIT-compiled through llvmlite (a dependency of Numba) on first use
and called as CPython builtins. Threads the BLAS library started itself keep their own modes: the
half of a 2-thread OpenBLAS product done there does not flush (its inputs, written by the run's
flushed steps, hold no denormals).
"""

import contextlib
import ctypes
import platform
import threading

import numpy as np

FTZ_DAZ = 0x8040            # MXCSR: flush to zero (bit 15) | denormals are zero (bit 6)

# Two CPython builtins, METH_NOARGS ``flush()`` and METH_O ``restore(code)``: a call costs ~0.05 us
# where a ctypes call costs ~0.18. ``code`` (a small int) says which of the two bits were off
# before: bit 0 for DAZ, bit 1 for FTZ; ``restore`` turns off only those.
_IR = """
declare void @llvm.x86.sse.ldmxcsr(i8*)
declare void @llvm.x86.sse.stmxcsr(i8*)
declare i8* @PyLong_FromLong(i64)
declare i64 @PyLong_AsLong(i8*)
declare void @Py_IncRef(i8*)

define i8* @jg_flush(i8* %self, i8* %unused) {
  %slot = alloca i32
  %p = bitcast i32* %slot to i8*
  call void @llvm.x86.sse.stmxcsr(i8* %p)
  %old = load i32, i32* %slot
  %new = or i32 %old, FTZ_DAZ
  store i32 %new, i32* %slot
  call void @llvm.x86.sse.ldmxcsr(i8* %p)
  %off = xor i32 %old, -1
  %daz = lshr i32 %off, 6
  %ftz = lshr i32 %off, 14
  %c0 = and i32 %daz, 1
  %c1 = and i32 %ftz, 2
  %code = or i32 %c0, %c1
  %wide = zext i32 %code to i64
  %obj = call i8* @PyLong_FromLong(i64 %wide)
  ret i8* %obj
}

define i8* @jg_restore(i8* %self, i8* %arg) {
  %code = call i64 @PyLong_AsLong(i8* %arg)
  %c = trunc i64 %code to i32
  %c0 = and i32 %c, 1
  %c1 = and i32 %c, 2
  %daz = shl i32 %c0, 6
  %ftz = shl i32 %c1, 14
  %mask = or i32 %daz, %ftz
  %keep = xor i32 %mask, -1
  %slot = alloca i32
  %p = bitcast i32* %slot to i8*
  call void @llvm.x86.sse.stmxcsr(i8* %p)
  %old = load i32, i32* %slot
  %new = and i32 %old, %keep
  store i32 %new, i32* %slot
  call void @llvm.x86.sse.ldmxcsr(i8* %p)
  %none = inttoptr i64 NONE to i8*
  call void @Py_IncRef(i8* %none)
  ret i8* %none
}
"""

_lock = threading.Lock()
_keep = None         # the JIT engine and the method definitions the builtins point into


class _MethodDef(ctypes.Structure):
    _fields_ = [("ml_name", ctypes.c_char_p), ("ml_meth", ctypes.c_void_p), ("ml_flags", ctypes.c_int),
                ("ml_doc", ctypes.c_char_p)]


_METH_NOARGS, _METH_O = 0x4, 0x8


def _noop_flush():
    return 0


def _noop_restore(code):
    return None


def _builtins():
    """The two functions JIT-compiled and wrapped as builtins; raises where that is not possible."""
    import llvmlite.binding as llvm
    api = ctypes.pythonapi
    for name in ("PyLong_FromLong", "PyLong_AsLong", "Py_IncRef"):
        llvm.add_symbol(name, ctypes.cast(getattr(api, name), ctypes.c_void_p).value)
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    mod = llvm.parse_assembly(_IR.replace("FTZ_DAZ", str(FTZ_DAZ)).replace("NONE", str(id(None))))
    mod.verify()
    engine = llvm.create_mcjit_compiler(mod, llvm.Target.from_default_triple().create_target_machine())
    engine.finalize_object()
    new = api.PyCFunction_NewEx
    new.restype, new.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    defs = [_MethodDef(b"flush", engine.get_function_address("jg_flush"), _METH_NOARGS, None),
            _MethodDef(b"restore", engine.get_function_address("jg_restore"), _METH_O, None)]
    fns = [new(ctypes.addressof(d), None, None) for d in defs]
    return fns, (engine, defs)


def _build():
    """Build the builtins and rebind ``flush``/``restore`` to them (no-ops off x86-64 or when
    llvmlite cannot build them)."""
    global _keep, flush, restore
    with _lock:
        if _keep is not None:
            return
        fl, rs, keep = _noop_flush, _noop_restore, False
        for t in (np.float16, np.float32, np.float64, np.longdouble):
            np.finfo(t)      # cached now: NumPy 1.x's finfo made inside a run warns and reads 0 denormals
        if platform.machine().lower() in ("x86_64", "amd64") and platform.python_implementation() == "CPython":
            try:
                (fl, rs), keep = _builtins()
                code = fl()
                rs(code)
            except Exception:    # noqa: BLE001 - without the modes a run is only slower
                fl, rs, keep = _noop_flush, _noop_restore, False
        _keep = keep
        flush, restore = fl, rs


def flush():
    """Turn FTZ and DAZ on for the calling thread; returns what ``restore`` needs to undo it."""
    _build()
    return flush()


def restore(code):
    """Undo the ``flush`` that returned ``code``."""
    _build()
    return restore(code)


def pair():
    """``(flush, restore)`` as the native functions themselves (built now), for hot paths."""
    _build()
    return flush, restore


@contextlib.contextmanager
def flushed():
    """A block of the caller's own code with denormals flushed, as inside a run (a NumPy reference
    that must match a run's denormal results bit for bit)."""
    code = flush()
    try:
        yield
    finally:
        restore(code)


def flush_this_thread():
    """FTZ and DAZ on for good, for a thread jitgraph started (its chunk workers)."""
    flush()


def flushing():
    """Whether the calling thread flushes denormals now (False off x86-64)."""
    _build()
    if not _keep:
        return False
    code = flush()
    restore(code)
    return code == 0
