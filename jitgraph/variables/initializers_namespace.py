"""``tf.initializers``: TF1's initializer namespace (``tf.initializers.zeros()``,
``tf.initializers.global_variables()`` …), with the class names (``tf.initializers.RandomNormal``)
that TF 1.14+ exports too."""

from jitgraph.variables.initialization import global_variables_initializer as global_variables
from jitgraph.variables.initialization import local_variables_initializer as local_variables
from jitgraph.variables.initialization import variables_initializer as variables
from jitgraph.variables.initializers import (Constant, GlorotNormal, GlorotUniform, Identity, Ones,  # noqa: F401
                                             Orthogonal, RandomNormal, RandomUniform, TruncatedNormal,
                                             VarianceScaling, Zeros)
from jitgraph.variables.initializers import (Constant as constant, GlorotNormal as glorot_normal,
                                             GlorotUniform as glorot_uniform, Identity as identity,
                                             Ones as ones, Orthogonal as orthogonal, RandomNormal as random_normal,
                                             RandomUniform as random_uniform, TruncatedNormal as truncated_normal,
                                             VarianceScaling as variance_scaling, Zeros as zeros)
from jitgraph.variables.initializers import he_normal, he_uniform, lecun_normal, lecun_uniform  # noqa: F401

__all__ = ["constant", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal",
           "lecun_uniform", "identity", "ones", "orthogonal", "random_normal",
           "random_uniform", "truncated_normal", "variance_scaling", "zeros", "global_variables",
           "local_variables", "variables", "Constant", "GlorotNormal", "GlorotUniform", "Identity", "Ones",
           "Orthogonal", "RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros"]
