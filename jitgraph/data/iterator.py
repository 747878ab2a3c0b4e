"""``tf.data.Iterator``: the graph ops that start and read a pipeline, and its per-session state.

Ops (stateful, run by NumPy steps in compiled plans too):
  ``MakeIterator``           the initializer: inputs are every tensor the dataset captures, so
                             placeholders are fed (and variables read) in the run that starts it;
  ``IteratorGetNext``        one element per run of the op; ``OutOfRangeError`` at the end;
  ``IteratorToStringHandle`` the iterator's name, for ``Iterator.from_string_handle``.
Their attrs are plain data (names, dtypes, shapes), so a graph with a pipeline can be exported;
the Python pipeline itself is kept in a graph attachment. An iterator's state lives in the session
(two sessions iterate independently, as TF resources do). A one-shot iterator starts itself at its
first ``get_next`` in a session; it may capture constants only (TF's capture by value).
"""

import threading
import weakref

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.data import structure
from jitgraph.data.env import Env, frozen
from jitgraph.data.structure import ElementSpec
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.op_util import no_gradient
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

_PIPELINES = "jitgraph.data.pipelines"    # graph attachment: key -> Dataset
_ONE_SHOT = "jitgraph.data.one_shot"      # graph attachment: iterator name -> its Dataset
_SESSIONS = weakref.WeakKeyDictionary()    # SessionState -> {iterator name: _Started}
_SESSIONS_LOCK = threading.Lock()

_NOT_INITIALIZED = ("GetNext() failed because the iterator has not been initialized. Ensure that you have run the "
                    "initializer operation for this iterator before getting the next element.")


class _Started:
    """An iterator started in one session: the pipeline's generator over its environment."""

    def __init__(self, dataset, values):
        self.spec = dataset._spec
        self.env = Env({id(t): frozen(v) for t, v in zip(dataset.all_captures(), values)})
        self._source = iter(dataset._iterate(self.env))
        self._returned = []     # elements put back by an abandoned run attempt

    def next(self):
        if self._returned:
            return self._returned.pop()
        for element in self._source:
            return element
        raise errors.OutOfRangeError(None, None, "End of sequence")

    def put_back(self, element):
        self._returned.append(element)

    def close(self):
        self.env.close()


def _started(state):
    with _SESSIONS_LOCK:   # runs of different sessions may start iterators at once
        d = _SESSIONS.get(state)
        if d is None:
            d = _SESSIONS[state] = {}
        return d


def _pipeline(graph, key, op):
    ds = graph._attachment(_PIPELINES, dict).get(key)
    if ds is None:
        raise errors.FailedPreconditionError(
            None, op, f"The input pipeline of '{op.name}' is not part of this graph (an imported graph does not "
                      "carry Python pipelines): build the tf.data pipeline again in this program.")
    return ds


def _lookup(state, op, name):
    running = _started(state).get(name)
    if running is None:
        ds = op.graph._attachment(_ONE_SHOT, dict).get(name)
        if ds is None:
            raise errors.FailedPreconditionError(None, op, _NOT_INITIALIZED)
        running = _start(state, name, ds, _evaluate_by_value(ds.all_captures()))
    return running


def _start(state, name, dataset, values):
    started = _started(state)
    old = started.pop(name, None)
    if old is not None:
        old.close()
    running = started[name] = _Started(dataset, values)
    return running


def _evaluate_by_value(tensors):
    """Values of a one-shot pipeline's captures (constants and stateless ops on them)."""
    if not tensors:
        return []
    from jitgraph.compiler.prune import prune
    from jitgraph.runtime.reference import ReferencePlan
    from jitgraph.runtime.store import SessionState
    return ReferencePlan(prune(tensors, [], []), tensors, []).run(SessionState(), [])


# ---- ops ------------------------------------------------------------------------------------------
def _make_iterator_run(ctx, op, ins):
    values = []
    for t, v in zip(op.inputs, ins):   # the pipeline keeps them: never a buffer a later run rewrites
        values.append(v if t.op.type == "Const" else np.array(v, copy=True))
    _start(ctx.state, op.get_attr("iterator"), _pipeline(op.graph, op.get_attr("dataset"), op), values)
    return []


def _get_next_infer(ins, a):
    if ins and (ins[0].dtype.base_dtype.name != "string" or ins[0].shape.ndims not in (None, 0)):
        raise TypeError(f"the string handle must be a scalar tf.string tensor, got {ins[0]!r}")
    return list(zip(a["output_types"], a["output_shapes"]))


def _get_next_run(ctx, op, ins):
    name = op.get_attr("iterator") or _handle_name(ins[0])
    running = _lookup(ctx.state, op, name)
    if ins and tuple(running.spec.dtypes) != tuple(op.get_attr("output_types")):
        raise errors.InvalidArgumentError(
            None, op, f"The iterator of handle '{name}' produces elements of types "
                      f"{[d.name for d in running.spec.dtypes]}, but this get_next expects "
                      f"{[d.name for d in op.get_attr('output_types')]}.")
    element = running.next()
    ctx.on_retry(lambda: running.put_back(element))
    for i, (v, t) in enumerate(zip(element, op.outputs)):
        if not t.shape.is_compatible_with(v.shape):
            raise errors.InvalidArgumentError(
                None, op, f"Component {i} of the element has shape {list(v.shape)}, incompatible with the "
                          f"iterator's output shape {t.shape}.")
    return list(element)


def _handle_name(handle):
    h = np.asarray(handle, dtype=object)[()]
    return h.decode() if isinstance(h, bytes) else str(h)


def _to_handle_run(ctx, op, ins):
    name = op.get_attr("iterator")
    if name in op.graph._attachment(_ONE_SHOT, dict):
        _lookup(ctx.state, op, name)   # taking a one-shot iterator's handle starts it, as in TF
    return [np.array(name.encode(), dtype=object)]


_KW = dict(stateful=True, grad=no_gradient)
define_op("MakeIterator", lambda ins, a: [], run=_make_iterator_run, **_KW)
define_op("IteratorGetNext", _get_next_infer, run=_get_next_run, **_KW)
define_op("IteratorToStringHandle", lambda ins, a: [(dtypes.string, TensorShape([]))], run=_to_handle_run, **_KW)


# ---- the public class -----------------------------------------------------------------------------
class Iterator:
    """Reads a dataset's elements in a session: ``get_next()`` gives tensors that advance the
    iterator each time they are run (one element per ``get_next`` op per run)."""

    def __init__(self, graph, name, spec, initializer=None, handle=None):
        self._graph, self._name, self._spec = graph, name, spec
        self._initializer = initializer
        self._handle = handle

    @classmethod
    def _one_shot(cls, dataset):
        _check_capture_by_value(dataset.all_captures())
        graph = dataset._graph
        name = graph.unique_name("OneShotIterator")
        graph._attachment(_ONE_SHOT, dict)[name] = dataset
        return cls(graph, name, dataset._spec)

    @classmethod
    def _initializable(cls, dataset):
        graph = dataset._graph
        it = cls(graph, graph.unique_name("Iterator"), dataset._spec)
        it._initializer = it.make_initializer(dataset)
        return it

    @staticmethod
    def from_structure(output_types, output_shapes=None, shared_name=None, output_classes=None):
        """An iterator not bound to a dataset: ``make_initializer(ds)`` starts it on any dataset
        with this element structure (a *reinitializable* iterator)."""
        from jitgraph.framework.graph import get_default_graph
        spec = _spec_from(output_types, output_shapes)
        graph = get_default_graph()
        return Iterator(graph, graph.unique_name("Iterator"), spec)

    @staticmethod
    def from_string_handle(string_handle, output_types, output_shapes=None, output_classes=None):
        """An iterator whose ``get_next`` reads the iterator named by the fed ``string_handle``
        (a scalar string tensor, e.g. a placeholder fed with ``sess.run(it.string_handle())``)."""
        handle = convert_to_tensor(string_handle)
        return Iterator(handle.graph, "", _spec_from(output_types, output_shapes), handle=handle)

    output_types = property(lambda self: self._spec.output_types)
    output_shapes = property(lambda self: self._spec.output_shapes)
    output_classes = property(lambda self: self._spec.output_classes)

    @property
    def initializer(self):
        if self._initializer is None:
            raise ValueError("The iterator does not have an initializer. This means it was likely created using "
                             "`tf.data.Dataset.make_one_shot_iterator()`. For an initializable iterator, use "
                             "`tf.data.Dataset.make_initializable_iterator()` instead.")
        return self._initializer

    def make_initializer(self, dataset, name=None):
        """An op that (re)starts this iterator on ``dataset`` in the session that runs it."""
        mine, theirs = self._spec, dataset._spec
        if not structure.same_structure(mine.structure, theirs.structure) or len(mine) != len(theirs):
            raise TypeError(f"Expected output structure {structure.structure_str(mine.output_types)} but got "
                            f"dataset with output structure {structure.structure_str(theirs.output_types)}.")
        if mine.dtypes != theirs.dtypes:
            raise TypeError(f"Expected output types {_types(mine)} but got dataset with output types {_types(theirs)}.")
        if not all(a.is_compatible_with(b) for a, b in zip(mine.shapes, theirs.shapes)):
            raise TypeError(f"Expected output shapes compatible with {_shapes(mine)} but got dataset with output "
                            f"shapes {_shapes(theirs)}.")
        with self._graph.as_default():
            pipelines = self._graph._attachment(_PIPELINES, dict)
            key = self._graph.unique_name(f"{self._name or 'Iterator'}/pipeline")
            pipelines[key] = dataset
            return make_op("MakeIterator", dataset.all_captures(), {"iterator": self._name, "dataset": key},
                           name or "MakeIterator")

    def get_next(self, name=None):
        """The next element's tensors (the dataset's structure, dtypes and static shapes)."""
        attrs = {"iterator": self._name, "output_types": tuple(self._spec.dtypes),
                 "output_shapes": tuple(self._spec.shapes)}
        with self._graph.as_default():
            op = make_op("IteratorGetNext", [self._handle] if self._handle is not None else [], attrs,
                         name or "IteratorGetNext")
        return structure.pack(self._spec.structure, op.outputs)

    def string_handle(self, name=None):
        """A scalar string naming this iterator, to feed an ``Iterator.from_string_handle``."""
        if self._handle is not None:
            return self._handle
        with self._graph.as_default():
            return make_op("IteratorToStringHandle", [], {"iterator": self._name},
                           name or "IteratorToStringHandle").outputs[0]


def _spec_from(output_types, output_shapes):
    types = [dtypes.as_dtype(t) for t in structure.flatten(output_types)]
    if output_shapes is None:
        shapes = [TensorShape(None)] * len(types)
    elif len(types) == 1 and not isinstance(output_types, (tuple, dict)):
        shapes = [TensorShape(output_shapes)]
    else:
        if not structure.same_structure(output_types, output_shapes):
            raise TypeError(f"output_shapes {output_shapes!r} do not match the structure of output_types "
                            f"{output_types!r}")
        shapes = [TensorShape(s) for s in structure.flatten(output_shapes)]
    return ElementSpec(output_types, types, shapes)


def _types(spec):
    return structure.structure_str(spec.output_types, leaf=lambda d: f"tf.{d.name}")


def _shapes(spec):
    return structure.structure_str(spec.output_shapes, leaf=repr)


def _check_capture_by_value(tensors):
    """TF's rule for one-shot iterators: what the pipeline captures is copied into it, so it may
    not depend on a placeholder or a stateful op (a variable)."""
    seen, stack = set(), [t.op for t in tensors]
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        if op.type == "Placeholder":
            raise ValueError(f"Cannot capture a placeholder (name:{op.name}, type:{op.type}) by value.")
        if op.op_def.stateful:
            raise ValueError(
                f"Cannot capture a stateful node (name:{op.name}, type:{op.type}) by value.: A likely cause of this "
                "error is that the dataset for which you are calling `make_one_shot_iterator()` captures a stateful "
                "object, such as a `tf.Variable` or `tf.lookup.StaticHashTable`, which is not supported. Use "
                "`make_initializable_iterator()` instead.")
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)


def make_one_shot_iterator(dataset):
    """``dataset.make_one_shot_iterator()``."""
    return dataset.make_one_shot_iterator()


def make_initializable_iterator(dataset, shared_name=None):
    """``dataset.make_initializable_iterator()``."""
    return dataset.make_initializable_iterator(shared_name)
