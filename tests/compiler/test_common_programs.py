"""Common TF1 training programs (``program_cases.py``) compile under strict mode and train as the
reference executor does: three steps from the same initial values, compiled against reference.

Programs whose step draws random numbers (dropout, sampled losses, shuffling, noise) are checked
for compiling and finite losses only: the two executors need not draw the same numbers."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config

import program_cases

RANDOM_STEPS = {"dense_layers_dropout", "vae_reparam", "cond_training_switch", "word2vec_nce",
                "bilstm_multicell_dropout", "dataset_iterator_training", "cnn_dropout_rate_flatten_nchw_free",
                "keras_style_layers_api"}


def _losses(name, mode, steps=3):
    prev_mode, prev_strict = config.set_compile_mode(mode), config.set_strict(mode == "eager")
    try:
        g = tf.Graph()
        with g.as_default():
            tf.set_random_seed(0)
            train, loss, feed = program_cases.CASES[name](np.random.default_rng(0))
            init = [tf.global_variables_initializer(), tf.local_variables_initializer()]
        with g.as_default(), tf.Session(graph=g) as sess:
            sess.run(init)
            return [float(np.asarray(sess.run([train, loss], feed)[1])) for _ in range(steps)]
    finally:
        config.set_compile_mode(prev_mode)
        config.set_strict(prev_strict)


@pytest.mark.parametrize("name", sorted(program_cases.CASES))
def test_program_compiles_and_trains_as_the_reference(name):
    compiled = _losses(name, "eager")
    assert np.all(np.isfinite(compiled)), compiled
    if name not in RANDOM_STEPS:
        np.testing.assert_allclose(compiled, _losses(name, "never"), rtol=2e-4, atol=1e-6)
