"""``tf.contrib``: the parts of TF 1.x's contrib that TF1 programs commonly use —
``tf.contrib.layers`` (``fully_connected``, ``conv2d``, ``batch_norm``, ``flatten``,
``xavier_initializer``, regularizers …), ``tf.contrib.rnn`` (the core cells and ``static_rnn``
under their contrib names, the stacked bidirectional RNNs) and ``tf.contrib.seq2seq``
(``sequence_loss``)."""

from jitgraph.contrib import layers, rnn, seq2seq  # noqa: F401

__all__ = ["layers", "rnn", "seq2seq"]
