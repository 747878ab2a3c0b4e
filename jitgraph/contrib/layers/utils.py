"""What the contrib layers share: model variables (in ``GraphKeys.MODEL_VARIABLES`` as well as
the global and, when trainable, the trainable collections), the per-variable
``variables_collections`` and the ``outputs_collections`` of every layer function."""

from jitgraph.framework.graph import GraphKeys, get_default_graph
from jitgraph.variables.scopes import get_variable


def _model_collections(collections):
    """``collections`` plus the global and model-variable collections, each once."""
    out = list(collections or [])
    for key in (GraphKeys.GLOBAL_VARIABLES, GraphKeys.MODEL_VARIABLES):
        if key not in out:
            out.append(key)
    return out


def model_variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=True,
                   collections=None):
    """``get_variable`` that also puts the variable in ``GraphKeys.MODEL_VARIABLES`` (and
    ``collections``), as ``tf.contrib.framework.model_variable``."""
    return get_variable(name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                        trainable=trainable, collections=_model_collections(collections))


def model_variable_getter(rename=None):
    """A ``custom_getter`` making every variable a model variable and renaming the last part of
    its name by ``rename`` (``{"kernel": "weights", "bias": "biases"}``): how the contrib layers
    turn a ``tf.layers`` layer's ``dense/kernel`` into ``fully_connected/weights``."""
    def getter(true_getter, name, **kwargs):
        head, _, short = name.rpartition("/")
        if rename and short in rename:
            name = f"{head}/{rename[short]}" if head else rename[short]
        kwargs["collections"] = _model_collections(kwargs.get("collections"))
        return true_getter(name=name, **kwargs)
    return getter


def variable_collections(variables_collections, name):
    """The collections for variable ``name``: ``variables_collections[name]`` for a dict, else
    ``variables_collections`` itself (a list, or None)."""
    if isinstance(variables_collections, dict):
        return variables_collections.get(name)
    return variables_collections


def add_variable_to_collections(variable, variables_collections, name):
    """Add ``variable`` to the collections ``variables_collections`` names for ``name``."""
    collections = variable_collections(variables_collections, name) or []
    if isinstance(collections, str):
        collections = [collections]
    graph = get_default_graph()
    for key in collections:
        if all(v is not variable for v in graph.get_collection(key)):
            graph.add_to_collection(key, variable)


def collect_named_outputs(collections, alias, outputs):
    """Add ``outputs`` to ``collections`` (a name or a list; None: none) and return it. (TF also
    tags the tensor with ``alias``, its scope name; jitgraph's tensors carry no aliases.)"""
    if collections:
        get_default_graph().add_to_collections(collections, outputs)
    return outputs


def apply_activation(outputs, activation_fn):
    """``activation_fn(outputs)``, or ``outputs`` when there is none."""
    return activation_fn(outputs) if activation_fn is not None else outputs
