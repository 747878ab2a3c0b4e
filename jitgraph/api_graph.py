"""Graph-level functions of the TF1 namespace: scopes, control dependencies, devices, collections."""

import contextlib

from jitgraph.framework.graph import get_default_graph, graph_of

__all__ = ["name_scope", "control_dependencies", "device", "add_to_collection", "add_to_collections",
           "get_collection", "get_collection_ref", "container", "get_seed", "set_random_seed"]


@contextlib.contextmanager
def name_scope(name, default_name=None, values=None):
    """Prefix the names of ops created inside with ``name/`` (made unique: ``name_1/`` …)."""
    if name is None and default_name is None and values is None:
        name = None
    n = name if name is not None else default_name
    g = graph_of(list(values)) if values else get_default_graph()
    with g.as_default(), g.name_scope(n) as scope:
        yield scope


def control_dependencies(control_inputs):
    """Ops created inside run after ``control_inputs`` (and reads inside see their updates)."""
    return get_default_graph().control_dependencies(control_inputs)


def device(device_name_or_function):
    """Place ops created inside on a device: strings merge field-wise, inner scopes win."""
    return get_default_graph().device(device_name_or_function)


@contextlib.contextmanager
def container(container_name):
    yield container_name


def add_to_collection(name, value):
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value):
    get_default_graph().add_to_collections(names, value)


def get_collection(key, scope=None):
    """A copy of the collection ``key`` (``[]`` if unknown), optionally filtered by a scope regex."""
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    """The live list behind collection ``key``."""
    return get_default_graph().get_collection_ref(key)


DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2**31 - 1


def set_random_seed(seed):
    """Set the graph-level seed: with it, random ops give the same values in every process."""
    get_default_graph().seed = seed


def get_seed(op_seed):
    """TF's rule: (graph seed, op seed) → the pair that seeds one random op."""
    graph = get_default_graph()
    global_seed = graph.seed
    if global_seed is not None:
        if op_seed is None:
            op_seed = graph._last_id
        seeds = (int(global_seed), int(op_seed))
    elif op_seed is not None:
        seeds = (DEFAULT_GRAPH_SEED, int(op_seed))
    else:
        seeds = (None, None)
    if seeds == (0, 0):
        seeds = (0, _MAXINT32)
    return seeds
