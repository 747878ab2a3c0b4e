"""The tiny model the MonitoredSession and hook tests train (``w`` starts at ones, loss
``sum(w^2)``, SGD 0.1 with a global step), each test in a fresh default graph; the TF recordings
in ``tests/oracle/record_monitored_session.py`` train the same model."""

import pytest

import jitgraph as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def model():
    gs = tf.train.get_or_create_global_step()
    w = tf.get_variable("w", [2], initializer=tf.ones_initializer())
    loss = tf.reduce_sum(tf.square(w))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=gs)
    return gs, w, loss, train
