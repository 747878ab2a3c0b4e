"""Printing while the graph runs: TF1's ``tf.Print`` (an identity that prints) and TF2's
``tf.print`` (an op that prints), with TF's text formats.

``tf.Print(x, data, message)`` writes ``message`` and ``[summary]`` of each data tensor to stderr
each time ``x`` is computed (the first ``first_n`` times if given): at most ``summarize``
(default 3) values per tensor in row-major order, rows in brackets, ``...`` where it stops.
``tf.print(*inputs)`` writes its inputs separated by ``sep`` and followed by ``end`` to
``output_stream``: tensors as numpy-like nested lists showing the first and last ``summarize``
entries of each dimension, Python values as ``str`` (``repr`` inside lists and dicts). Numbers
are written as TF writes them: the shortest of 6 or 9 significant digits that reads back as the
same float32 (15 or 17 for float64); booleans as 1 and 0. TF's log-line prefix (time, file) is
left out.
"""

import sys
import weakref

import numpy as np

from jitgraph.framework.tensor import Tensor
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

__all__ = ["Print", "print_v2"]

_PRINTED = weakref.WeakKeyDictionary()   # session state -> {op name: times printed} (first_n)


def _element(v, v2):
    if isinstance(v, (bytes, str)):
        s = v.decode(errors="replace") if isinstance(v, bytes) else v
        return f'"{s}"' if v2 else s
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (np.floating, float)):
        if np.isnan(v):
            return "nan"
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        short, long_, kind = (6, 9, np.float32) if np.dtype(type(v)).itemsize <= 4 else (15, 17, np.float64)
        s = "%.*g" % (short, v)
        return s if kind(s) == v else "%.*g" % (long_, v)
    return str(v)


def summarize_v1(a, limit):
    """TF1 ``Print``'s summary of array ``a``: the first ``limit`` values (all if negative)."""
    flat = a.reshape(-1)
    limit = flat.size if limit is None or limit < 0 else min(limit, flat.size)
    if a.ndim == 0:
        return _element(flat[0], False) if flat.size else ""
    out, taken = [], [0]

    def dim(d):
        n = a.shape[d]
        if d == a.ndim - 1:
            for i in range(n):
                if taken[0] >= limit:
                    out.append("...")
                    return
                out.append((" " if i else "") + _element(flat[taken[0]], False))
                taken[0] += 1
            return
        for i in range(n):
            if taken[0] >= limit:
                return
            out.append("[")
            dim(d + 1)
            out.append("]")

    dim(0)
    return "".join(out) + ("..." if a.ndim > 1 and flat.size > limit else "")


def summarize_v2(a, summarize):
    """``tf.print``'s numpy-like text for array ``a``: ``summarize`` entries at each end of every
    dimension (all if negative)."""
    if a.ndim == 0:
        return _element(a[()], True)

    def dim(x, d):
        n = x.shape[0]
        idx = list(range(n))
        cut = 0 <= summarize and n > 2 * summarize
        if cut:
            idx = idx[:summarize] + [None] + idx[n - summarize:]
        if x.ndim == 1:
            return "[" + " ".join("..." if i is None else _element(x[i], True) for i in idx) + "]"
        sep = "\n" * (x.ndim - 1) + " " * (d + 1)
        return "[" + sep.join("..." if i is None else dim(x[i], d + 1) for i in idx) + "]"

    return dim(a, 0)


# ---- Print -------------------------------------------------------------------------------------------
def _print_run(ctx, op, ins):
    first_n = op.get_attr("first_n")
    counts = _PRINTED.setdefault(ctx.state, {})
    n = counts.get(op.name, 0)
    if first_n < 0 or n < first_n:
        counts[op.name] = n + 1
        parts = "".join(f"[{summarize_v1(np.asarray(v), op.get_attr('summarize'))}]" for v in ins[1:])
        print(op.get_attr("message") + parts, file=sys.stderr, flush=True)
    return [ins[0]]


define_op("Print", lambda ins, a: [(ins[0].dtype.base_dtype, ins[0].shape)], kind="library", stateful=True,
          run=_print_run, grad=lambda op, g: [g] + [None] * (len(op.inputs) - 1))


def Print(input_, data, message=None, first_n=None, summarize=None, name=None):  # noqa: N802  (TF's name)
    """``input_`` unchanged; computing it also writes ``message`` and a summary of each tensor of
    ``data`` to stderr (the first ``first_n`` times; ``summarize`` values per tensor, default 3)."""
    ts = [convert_to_tensor(input_)] + [convert_to_tensor(d) for d in data]
    attrs = {"message": message or "", "first_n": -1 if first_n is None else int(first_n),
             "summarize": 3 if summarize is None else int(summarize)}
    return make_op("Print", ts, attrs, name or "Print").outputs[0]


# ---- PrintV2 -----------------------------------------------------------------------------------------
class _Slot:
    """Stands for the ``i``-th tensor inside a Python structure given to ``tf.print``."""

    def __init__(self, i):
        self.i = i


def _layout(value, tensors):
    """``value`` with every tensor replaced by a ``_Slot`` (collected in ``tensors``)."""
    if isinstance(value, (list, tuple)):
        return type(value)(_layout(v, tensors) for v in value)
    if isinstance(value, dict):
        return {k: _layout(v, tensors) for k, v in value.items()}
    if isinstance(value, Tensor) or hasattr(value, "_as_graph_element") or isinstance(value, np.ndarray):
        tensors.append(convert_to_tensor(value))
        return _Slot(len(tensors) - 1)
    return value


def _render(value, texts, top):
    if isinstance(value, _Slot):
        return texts[value.i]
    if isinstance(value, (list, tuple, dict)):
        class _Text(str):   # repr without quotes, so a tensor's text sits bare inside str(structure)
            def __repr__(self):
                return str(self)
        wrap = (lambda v: _Text(_render(v, texts, False)) if isinstance(v, (_Slot, list, tuple, dict)) else v)
        if isinstance(value, dict):
            return str({k: wrap(v) for k, v in value.items()})
        return str(type(value)(wrap(v) for v in value))
    return str(value) if top else repr(value)


_STREAMS = ("stderr", "stdout", "log(info)", "log(warning)", "log(error)")


def _print_v2_run(ctx, op, ins):
    a = op.attrs
    texts = [summarize_v2(np.asarray(v), a["summarize"]) for v in ins]
    line = a["sep"].join(_render(v, texts, True) for v in a["layout"]) + a["end"]
    stream = a["output_stream"]
    if stream.startswith("file://"):
        with open(stream[len("file://"):], "a", encoding="utf-8") as f:
            f.write(line)
    elif stream.startswith("log("):
        import logging
        level = {"log(info)": logging.INFO, "log(warning)": logging.WARNING}.get(stream, logging.ERROR)
        logging.getLogger("jitgraph").log(level, line.rstrip("\n"))
    else:
        out = sys.stdout if stream == "stdout" else sys.stderr
        out.write(line)
        out.flush()
    return []


define_op("PrintV2", lambda ins, a: [], kind="library", stateful=True, run=_print_v2_run)


def print_v2(*inputs, output_stream=None, summarize=3, sep=" ", end="\n", name=None):
    """An op that, when run, writes ``inputs`` (tensors, Python values, lists/dicts of both) to
    ``output_stream`` (``sys.stderr`` by default, ``sys.stdout``, ``"file://path"`` or
    ``"log(info)"``...), separated by ``sep`` and ended by ``end``. Run it, or make it a control
    dependency of what you run."""
    stream = output_stream if output_stream is not None else sys.stderr
    if stream is sys.stderr:
        stream = "stderr"
    elif stream is sys.stdout:
        stream = "stdout"
    elif not (isinstance(stream, str) and (stream in _STREAMS or stream.startswith("file://"))):
        raise ValueError(f"Unsupported output stream, logging level, or file. {stream!r}. Supported streams are "
                         f"sys.stdout, sys.stderr, 'log(info)', 'log(warning)', 'log(error)' and 'file://...'")
    tensors = []
    layout = tuple(_layout(v, tensors) for v in inputs)
    attrs = {"layout": layout, "summarize": 3 if summarize is None else int(summarize), "sep": sep, "end": end,
             "output_stream": stream}
    return make_op("PrintV2", tensors, attrs, name or "PrintV2")

