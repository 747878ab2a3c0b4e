"""Atomic counters for Numba kernels that several threads run at once (``compiler/chunked_kernels``).

``claim(sync, i)`` atomically adds 1 to the int64 ``sync[i]`` and returns its old value (LLVM
``atomicrmw add``, sequentially consistent); ``count(sync, i)`` reads it with acquire order, so
writes made before another thread's ``claim`` of that counter are visible after reading its result.
Kernels calling these are cached on disk by their own source text: a change to what these
compile to must bump ``compiler.disk_cache.CODEGEN_VERSION``.
"""

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _counter_op(name, body):
    """An intrinsic ``name(sync, i) -> int64`` on the int64 ``sync[i]``: ``body(builder, pointer, one)``."""
    def typer(typingctx, sync, i):
        if not (isinstance(sync, types.Array) and sync.dtype == types.int64 and isinstance(i, types.Integer)):
            return None

        def codegen(context, builder, signature, args):
            aryty = signature.args[0]
            ptr = cgutils.get_item_pointer(context, builder, aryty, context.make_array(aryty)(context, builder, args[0]),
                                           [args[1]])
            return body(builder, ptr, context.get_constant(types.int64, 1))
        return types.int64(sync, i), codegen
    typer.__name__ = typer.__qualname__ = name
    return intrinsic(typer)


#: ``old = sync[i]; sync[i] += 1`` as one atomic step; returns ``old``.
claim = _counter_op("claim", lambda builder, ptr, one: builder.atomic_rmw("add", ptr, one, "seq_cst"))
#: ``sync[i]``, read atomically with acquire order.
count = _counter_op("count", lambda builder, ptr, one: builder.load_atomic(ptr, "acquire", 8))
#: ``old = sync[i]; sync[i] = 0`` as one atomic step (sequentially consistent: every store before it
#: is visible to a thread whose ``claim`` sees the 0); returns ``old``.
reset = _counter_op("reset", lambda builder, ptr, one: builder.atomic_rmw("xchg", ptr, one.type(0), "seq_cst"))
