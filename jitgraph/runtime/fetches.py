"""Flatten a nested fetch structure (lists, tuples, dicts, namedtuples) to graph elements, and
rebuild the same structure from their values. Built once per plan, not per run."""

import collections.abc

from jitgraph.framework.tensor import Operation, Tensor


class FetchMapper:
    """``elements`` are the Tensors/Operations to fetch; ``build(values)`` rebuilds the structure."""

    def __init__(self, graph, fetches):
        self.elements = []
        self._build = self._parse(graph, fetches)

    def build(self, values):
        return self._build(values)

    def _parse(self, graph, fetch):
        if fetch is None:
            raise TypeError(f"Fetch argument None has invalid type {type(None)}")
        if isinstance(fetch, (list, tuple)) and not isinstance(fetch, str):
            builders = [self._parse(graph, f) for f in fetch]
            if isinstance(fetch, list):
                return lambda v: [b(v) for b in builders]
            if hasattr(fetch, "_fields"):   # namedtuple
                cls = type(fetch)
                return lambda v: cls(*[b(v) for b in builders])
            return lambda v: tuple(b(v) for b in builders)
        if isinstance(fetch, collections.abc.Mapping):
            keys = list(fetch.keys())
            builders = [self._parse(graph, fetch[k]) for k in keys]
            cls = type(fetch)

            def build_dict(v):
                d = cls() if cls is not dict else {}
                for k, b in zip(keys, builders):
                    d[k] = b(v)
                return d
            return build_dict
        if _is_sparse(fetch):   # its three tensors, fetched as a SparseTensorValue
            from jitgraph.sparse import SparseTensorValue
            parts = [self._parse(graph, t) for t in (fetch.indices, fetch.values, fetch.dense_shape)]
            return lambda v: SparseTensorValue(*[b(v) for b in parts])
        el = _as_element(graph, fetch)
        idx = len(self.elements)
        self.elements.append(el)
        if isinstance(el, Operation):
            return lambda v: None
        return lambda v: v[idx]


def _is_sparse(fetch):
    from jitgraph.sparse import SparseTensor
    return isinstance(fetch, SparseTensor)


def _as_element(graph, fetch):
    if not isinstance(fetch, (Tensor, Operation, str)) and not hasattr(fetch, "_as_graph_element"):
        raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)}, must be a string or "
                        f"Tensor. (Can not convert a {type(fetch).__name__} into a Tensor or Operation.)")
    try:
        return graph.as_graph_element(fetch, allow_tensor=True, allow_operation=True)
    except (KeyError, ValueError, TypeError) as e:
        raise ValueError(f"Fetch argument {fetch!r} cannot be interpreted as a Tensor. ({e})") from None
