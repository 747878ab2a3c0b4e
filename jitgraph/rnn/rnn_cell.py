"""``tf.nn.rnn_cell``: the TF1 RNN cells and cell wrappers."""

from jitgraph.rnn.cells import (BasicLSTMCell, BasicRNNCell, GRUCell, LSTMCell, LSTMStateTuple,  # noqa: F401
                                RNNCell)
from jitgraph.rnn.wrappers import DropoutWrapper, MultiRNNCell, ResidualWrapper  # noqa: F401

__all__ = ["RNNCell", "BasicRNNCell", "GRUCell", "BasicLSTMCell", "LSTMCell", "LSTMStateTuple", "MultiRNNCell",
           "DropoutWrapper", "ResidualWrapper"]
