"""Recurrent networks: ``tf.nn.rnn_cell`` cells and wrappers, ``tf.nn.dynamic_rnn`` (a while loop
over TensorArrays), ``tf.nn.bidirectional_dynamic_rnn``, ``tf.nn.static_rnn`` and
``tf.nn.static_bidirectional_rnn``."""

from jitgraph.rnn import rnn_cell  # noqa: F401
from jitgraph.rnn.dynamic import (bidirectional_dynamic_rnn, dynamic_rnn, reverse_sequence,  # noqa: F401
                                  static_bidirectional_rnn, static_rnn)

__all__ = ["rnn_cell", "dynamic_rnn", "bidirectional_dynamic_rnn", "static_rnn", "static_bidirectional_rnn",
           "reverse_sequence"]
