"""Record what TF 1.15's ``tf.contrib`` computes for ``contrib_cases.py``: values into
``data/contrib.npz``, structure (variables, collections, update ops), relations and build-error
classes into ``data/contrib.json``.

TF 2.21 has no ``tf.contrib``; this puts a stand-in at ``tf.contrib``:

* ``layers``: ``tf_slim`` 1.1.0, the ``tf.contrib.layers`` code of TF 1.15 split into its own
  package. It predates TF 2.21, so three renamed TF internals are aliased back before importing it.
* ``rnn``: the core cells, ``tf.nn.static_rnn`` and ``tf.nn.static_bidirectional_rnn`` (TF 1.15's
  ``tf.contrib.rnn`` names for them), and ``stack_bidirectional_rnn`` /
  ``stack_bidirectional_dynamic_rnn`` as TF 1.15's ``contrib/rnn/python/ops/rnn.py`` composes them.

Install tf_slim into a folder of its own (not into the TensorFlow venv) and run from the
repository root with the TensorFlow venv's python::

    python -m pip install --target tfslim-dir --no-deps tf-slim==1.1.0
    PYTHONPATH=tfslim-dir TF_USE_LEGACY_KERAS=1 python tests/oracle/record_contrib.py
"""

import importlib
import json
import os
import sys
import types

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402
from tensorflow.python.framework import ops  # noqa: E402
from tensorflow.python.ops import control_flow_ops  # noqa: E402

import case_runner  # noqa: E402
import contrib_cases  # noqa: E402

tf.disable_v2_behavior()
tf.logging.set_verbosity(tf.logging.ERROR)
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def _import_tf_slim():
    ops.Tensor = tf.Tensor                       # moved to tensorflow.python.framework.tensor
    control_flow_ops.cond = tf.cond              # moved to cond.py
    for m in ("base", "core", "convolutional", "normalization", "pooling"):
        sys.modules[f"tf_keras.legacy_tf_layers.{m}"] = importlib.import_module(f"tf_keras.src.legacy_tf_layers.{m}")
    import tf_slim
    return tf_slim


def _stack(run_layer, cells_fw, cells_bw, inputs, initial_states_fw, initial_states_bw, scope):
    if not cells_fw:
        raise ValueError("Must specify at least one fw cell for BidirectionalRNN.")
    if not cells_bw:
        raise ValueError("Must specify at least one bw cell for BidirectionalRNN.")
    if len(cells_fw) != len(cells_bw):
        raise ValueError("Forward and Backward cells must have the same depth.")
    states_fw, states_bw, prev = [], [], inputs
    with tf.variable_scope(scope or "stack_bidirectional_rnn"):
        for i, (cell_fw, cell_bw) in enumerate(zip(cells_fw, cells_bw)):
            s_fw = initial_states_fw[i] if initial_states_fw else None
            s_bw = initial_states_bw[i] if initial_states_bw else None
            with tf.variable_scope(f"cell_{i}") as cell_scope:
                prev, s_fw, s_bw = run_layer(cell_fw, cell_bw, prev, s_fw, s_bw, cell_scope)
            states_fw.append(s_fw)
            states_bw.append(s_bw)
    return prev, tuple(states_fw), tuple(states_bw)


def stack_bidirectional_rnn(cells_fw, cells_bw, inputs, initial_states_fw=None, initial_states_bw=None, dtype=None,
                            sequence_length=None, scope=None):
    def layer(cf, cb, prev, s_fw, s_bw, cell_scope):
        return tf.nn.static_bidirectional_rnn(cf, cb, prev, initial_state_fw=s_fw, initial_state_bw=s_bw,
                                              sequence_length=sequence_length, dtype=dtype, scope=cell_scope)
    return _stack(layer, cells_fw, cells_bw, inputs, initial_states_fw, initial_states_bw, scope)


def stack_bidirectional_dynamic_rnn(cells_fw, cells_bw, inputs, initial_states_fw=None, initial_states_bw=None,
                                    dtype=None, sequence_length=None, parallel_iterations=None, time_major=False,
                                    scope=None, swap_memory=False):
    def layer(cf, cb, prev, s_fw, s_bw, cell_scope):
        outputs, (s_fw, s_bw) = tf.nn.bidirectional_dynamic_rnn(
            cf, cb, prev, initial_state_fw=s_fw, initial_state_bw=s_bw, sequence_length=sequence_length,
            parallel_iterations=parallel_iterations, dtype=dtype, swap_memory=swap_memory, time_major=time_major)
        return tf.concat(outputs, 2), s_fw, s_bw
    return _stack(layer, cells_fw, cells_bw, inputs, initial_states_fw, initial_states_bw, scope)


def install_contrib():
    cells = tf.nn.rnn_cell
    rnn = types.SimpleNamespace(
        BasicLSTMCell=cells.BasicLSTMCell, BasicRNNCell=cells.BasicRNNCell, GRUCell=cells.GRUCell,
        LSTMCell=cells.LSTMCell, MultiRNNCell=cells.MultiRNNCell, LSTMStateTuple=cells.LSTMStateTuple,
        static_rnn=tf.nn.static_rnn, static_bidirectional_rnn=tf.nn.static_bidirectional_rnn,
        stack_bidirectional_rnn=stack_bidirectional_rnn,
        stack_bidirectional_dynamic_rnn=stack_bidirectional_dynamic_rnn)
    tf.contrib = types.SimpleNamespace(layers=_import_tf_slim(), rnn=rnn)


def main():
    install_contrib()
    os.makedirs(DATA, exist_ok=True)
    values, structure = {}, {}
    for cases, weights in ((contrib_cases.CASES, True), (contrib_cases.RNN_CASES, True)):
        for name, fn in cases.items():
            for key, v in case_runner.run_case(tf, fn, weights).items():
                values[f"{name}/{key}"] = v
            structure[name] = contrib_cases.structure(tf, fn)
            print("recorded", name)
    np.savez_compressed(os.path.join(DATA, "contrib.npz"), **values)
    meta = {"structure": structure,
            "relations": {n: f(tf) for n, f in contrib_cases.RELATIONS.items()},
            "build_errors": {n: case_runner.build_error(tf, f) for n, f in contrib_cases.BUILD_ERRORS.items()}}
    with open(os.path.join(DATA, "contrib.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
    print("wrote", len(structure), "cases,", len(values), "arrays")


if __name__ == "__main__":
    main()
