"""``sess.explain(fetches, feed_dict)``: the compiled plan of a run, as text and as a picture.

The plan is compiled exactly as ``Session.run`` would compile it for these fetches and feed shapes
(``compiler.pipeline.compile_plan``), then described step by step:

* a fused **kernel** (one Numba loop nest) lists the ops it fused, its iteration space, the
  tensors it reads, the variables it updates **in place**, and how each output buffer is obtained —
  ``scratch`` (allocated once and reused), ``pool`` (a large fetched output, reused once dropped)
  or ``fresh`` (allocated per run);
* a **NumPy/BLAS** step is one op run by its library implementation (``BLAS`` for matmul/conv,
  ``numba`` when the op has its own compiled kernel);
* the compile time of every pass, from ``prune`` to Numba's ``compile``.

``svg_path`` draws the same as a Graphviz picture (extra ``jitgraph[viz]`` and Graphviz's ``dot``
program): kernels as boxes listing their ops, NumPy/BLAS steps as rounded boxes, feeds, variables
(cylinders, red edges for in-place writes) and fetches, edges labelled with the buffer kind.
"""

import numpy as np

from jitgraph.framework.graph import get_default_graph
from jitgraph.framework.tensor import Operation, Tensor

__all__ = ["explain", "Explanation"]

BLAS = {"MatMul", "BatchMatMulV2", "Conv2D", "_FusedConv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"}


class Explanation:
    """What ``explain`` found: ``str(e)`` is the text; ``steps``, ``timings``, ``buffers`` the data;
    ``dot()`` the Graphviz source and ``write_svg(path)`` the picture."""

    def __init__(self, fetches, feeds, steps, timings, buffers):
        self.fetches, self.feeds, self.steps, self.timings, self.buffers = fetches, feeds, steps, timings, buffers

    @property
    def num_kernels(self):
        return sum(1 for s in self.steps if s["kind"] == "kernel")

    def __str__(self):
        return _text(self)

    def __repr__(self):
        return f"<Explanation: {len(self.steps)} steps, {self.num_kernels} kernels>"

    def dot(self):
        """The Graphviz DOT source of the picture."""
        return _digraph(self).source

    def write_svg(self, path):
        """Render the picture to ``path`` (an ``.svg`` file); returns the path."""
        import graphviz
        g = _digraph(self)
        try:
            svg = g.pipe(format="svg")
        except graphviz.ExecutableNotFound:
            raise RuntimeError("explain: drawing the plan needs Graphviz's 'dot' program, which is not installed "
                               "(e.g. apt-get install graphviz, brew install graphviz). The text and "
                               "Explanation.dot() work without it.") from None
        with open(path, "wb") as f:
            f.write(svg)
        return path


def explain(fetches, feed_dict=None, graph=None, svg_path=None):
    """Compile the plan ``Session.run(fetches, feed_dict)`` would use and describe it.

    Args:
      fetches: as for ``Session.run``.
      feed_dict: feeds (their shapes pick the specialization; values are not run).
      graph: the graph (default: the default graph).
      svg_path: also draw the plan into this SVG file.

    Returns an ``Explanation``; ``print(e)`` shows the text. Example::

        print(sess.explain(train_op, {x: batch}, svg_path="plan.svg"))
    """
    from jitgraph.compiler.pipeline import compile_plan
    from jitgraph.compiler.plan import static_signature
    from jitgraph.runtime.fetches import FetchMapper
    from jitgraph.runtime.session import _feed_tensor, check_feed
    graph = graph or get_default_graph()
    feed_dict = feed_dict or {}
    mapper = FetchMapper(graph, fetches)
    fetch_tensors = [e for e in mapper.elements if isinstance(e, Tensor)]
    targets = [e for e in mapper.elements if isinstance(e, Operation)]
    feeds, values = [], []
    for k, v in feed_dict.items():
        t = _feed_tensor(graph, k)
        feeds.append(t)
        values.append(check_feed(t, t.dtype.base_dtype.as_np, t.shape, v))
    sig = tuple(static_signature(t) or (a.ndim, tuple(d == 1 for d in a.shape)) for t, a in zip(feeds, values))
    compiled = compile_plan(fetch_tensors, targets, feeds, sig, values)
    fetched = set(fetch_tensors)
    buffers = {t.name: k for s in compiled.steps for t, k in _buffers(s, fetched)}
    steps = [_describe_step(i, s, buffers) for i, s in enumerate(compiled.steps)]
    out = Explanation([e.name for e in mapper.elements],
                      [(t.name, tuple(np.shape(v)), t.dtype.base_dtype.name) for t, v in zip(feeds, values)],
                      steps, dict(compiled.timings), buffers)
    out._fetched = [t.name for t in fetch_tensors]
    if svg_path is not None:
        out.write_svg(svg_path)
    return out


def _buffers(step, fetched):
    """``(tensor, buffer kind)`` of a kernel's outputs, by the schedule pass's own rule."""
    from jitgraph.compiler.schedule import KernelStep, _buffer_kind
    if not isinstance(step, KernelStep):
        return []
    return [(t, _buffer_kind(t, step.out_shapes.get(t), t in fetched or kind == "snapshot") if kind == "value"
             else "snapshot") for t, kind in step.outs]


def _describe_step(i, step, buffers):
    from jitgraph.compiler.order import var_accesses
    from jitgraph.compiler.schedule import KernelStep
    if isinstance(step, KernelStep):
        return {"index": i, "kind": "kernel", "space": [d if isinstance(d, int) else "?" for d in step.space],
                "ops": [(o.name, o.type) for o in step.ops], "ins": [t.name for t in step.ins],
                "vars": [v.name for v in step.vars], "writes": [v.name for v in step.writes],
                "outs": [(t.name, buffers[t.name]) for t, _ in step.outs]}
    op = step
    d = op.op_def
    impl = "BLAS" if op.type in BLAS else ("numba" if (d.extra or {}).get("fast") else "numpy")
    accesses = var_accesses(op)
    return {"index": i, "kind": "numpy", "impl": impl, "ops": [(op.name, op.type)],
            "ins": [t.name for t in op.inputs if not t.dtype.is_ref_dtype],
            "vars": [v.name for v, _ in accesses], "writes": [v.name for v, w in accesses if w],
            "outs": [(t.name, "fresh") for t in op.outputs]}


def _text(e):
    lines = [f"Plan for fetches [{', '.join(e.fetches)}]" +
             (f" with feeds [{', '.join(f'{n} {list(s)} {d}' for n, s, d in e.feeds)}]" if e.feeds else "")]
    total = sum(e.timings.values())
    lines.append("Compile time: " + ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in e.timings.items()) +
                 f" (total {total * 1e3:.1f} ms)")
    n_np = len(e.steps) - e.num_kernels
    lines.append(f"{len(e.steps)} steps: {e.num_kernels} fused kernel(s), {n_np} NumPy/BLAS step(s)")
    for s in e.steps:
        if s["kind"] == "kernel":
            head = f"{s['index']:3d}  kernel over [{', '.join(map(str, s['space']))}] fusing {len(s['ops'])} op(s): "
            lines.append(head + ", ".join(f"{n} ({t})" for n, t in s["ops"]))
        else:
            n, t = s["ops"][0]
            lines.append(f"{s['index']:3d}  {s['impl']:<6s} {n} ({t})")
        if s["ins"]:
            lines.append("       reads " + ", ".join(s["ins"]))
        reads = [v for v in s["vars"] if v not in s["writes"]]
        if reads:
            lines.append("       reads variable(s) " + ", ".join(reads))
        if s["writes"]:
            lines.append("       writes variable(s) in place: " + ", ".join(s["writes"]))
        if s["kind"] == "kernel" and s["outs"]:
            lines.append("       outputs " + ", ".join(f"{n} [{k}]" for n, k in s["outs"]))
    return "\n".join(lines)


def _html(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _digraph(e):
    try:
        import graphviz
    except ImportError:
        raise ImportError("explain: the picture needs the 'graphviz' package: pip install 'jitgraph[viz]'") from None
    total = sum(e.timings.values()) * 1e3
    label = (f"<<b>jitgraph plan</b>: {e.num_kernels} fused kernel(s), {len(e.steps) - e.num_kernels} NumPy/BLAS "
             f"step(s)<br/>compile {total:.0f} ms: " +
             _html(", ".join(f"{k} {v * 1e3:.1f}" for k, v in e.timings.items())) + " ms>")
    g = graphviz.Digraph("plan", graph_attr={"rankdir": "TB", "label": label, "labelloc": "t", "fontname": "Helvetica",
                                             "fontsize": "12"},
                         node_attr={"fontname": "Helvetica", "fontsize": "10"}, edge_attr={"fontname": "Helvetica",
                                                                                           "fontsize": "9"})
    producer, ids = {}, {}

    def nid(key):                 # Graphviz reads "a:b" as node a, port b: use plain ids
        return ids.setdefault(key, f"n{len(ids)}")
    for name, shape, dtype in e.feeds:
        node = nid(("feed", name))
        g.node(node, _html(f"feed {name}\n{list(shape)} {dtype}"), shape="parallelogram", style="filled",
               fillcolor="#e8f0fe")
        producer[name] = node
    variables = set()
    for s in e.steps:
        node = nid(("step", s["index"]))
        if s["kind"] == "kernel":
            rows = "".join(f"<tr><td align='left'>{_html(n)} <font color='#666666'>{_html(t)}</font></td></tr>"
                           for n, t in s["ops"])
            head = f"kernel {s['index']} · [{_html(', '.join(map(str, s['space'])))}]"
            table = f"<table border='0' cellspacing='0' cellpadding='2'><tr><td><b>{head}</b></td></tr>{rows}</table>"
            g.node(node, f"<{table}>", shape="box", style="filled", fillcolor="#fff4d6", color="#c88a00")
        else:
            n, t = s["ops"][0]
            g.node(node, _html(f"{s['impl']}: {t}\n{n}"), shape="box", style="rounded,filled",
                   fillcolor="#e6f4ea" if s["impl"] != "numpy" else "#f1f3f4")
        for name in s["ins"]:
            src = producer.get(name)
            if src is not None:
                g.edge(src, node, label=_html(f"{name} [{e.buffers[name]}]") if name in e.buffers else "")
        for v in s["vars"]:
            vn = nid(("var", v))
            if v not in variables:
                variables.add(v)
                g.node(vn, _html(v), shape="cylinder", style="filled", fillcolor="#fce8e6")
            if v in s["writes"]:
                g.edge(node, vn, label="in place", color="#d93025", fontcolor="#d93025", penwidth="2")
            else:
                g.edge(vn, node, style="dashed", color="#999999")
        for name, _ in s["outs"]:
            producer[name] = node
    for name in getattr(e, "_fetched", []):
        src = producer.get(name)
        if src is not None:
            g.node(nid(("fetch", name)), _html(f"fetch {name}"), shape="note")
            g.edge(src, nid(("fetch", name)), label=_html(e.buffers.get(name, "")))
    return g
