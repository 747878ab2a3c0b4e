"""Atomic counters for Numba kernels that several threads run at once (``compiler/chunked_kernels``).

``claim(sync, i)`` atomically adds 1 to the int64 ``sync[i]`` and returns its old value (LLVM
``atomicrmw add``, sequentially consistent); ``count(sync, i)`` reads it with acquire order, so
writes made before another thread's ``claim`` of that counter are visible after reading its result.
"""

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _slot(context, builder, aryty, ary, idx):
    return cgutils.get_item_pointer(context, builder, aryty, context.make_array(aryty)(context, builder, ary), [idx])


@intrinsic
def claim(typingctx, sync, i):
    """``old = sync[i]; sync[i] += 1`` as one atomic step; returns ``old``."""
    if not (isinstance(sync, types.Array) and sync.dtype == types.int64 and isinstance(i, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        ptr = _slot(context, builder, signature.args[0], args[0], args[1])
        return builder.atomic_rmw("add", ptr, context.get_constant(types.int64, 1), "seq_cst")
    return types.int64(sync, i), codegen


@intrinsic
def count(typingctx, sync, i):
    """``sync[i]``, read atomically with acquire order."""
    if not (isinstance(sync, types.Array) and sync.dtype == types.int64 and isinstance(i, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        ptr = _slot(context, builder, signature.args[0], args[0], args[1])
        return builder.load_atomic(ptr, "acquire", 8)
    return types.int64(sync, i), codegen
