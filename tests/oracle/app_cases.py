"""The TF1 program of ``record_app.py`` (TensorFlow) and ``tests/test_app.py`` (jitgraph): flags,
``tf.app.run`` and ``tf.logging``, written once; ``program(module)`` is its source importing
``module`` as ``tf``. Its exit code is its first command-line argument."""

PROGRAM = r'''
import json, sys
import {module} as tf
tf.flags.DEFINE_integer("steps", 5, "training steps")
tf.app.flags.DEFINE_string("data_dir", "/tmp/data", "where")
tf.flags.DEFINE_boolean("fast", False, "hurry")
tf.flags.DEFINE_float("rate", 0.5, "learning rate")
FLAGS = tf.flags.FLAGS

def main(argv):
    print("@@" + json.dumps({"argv": argv, "steps": FLAGS.steps, "data_dir": FLAGS.data_dir, "fast": FLAGS.fast,
                             "rate": FLAGS.rate}), flush=True)
    return int(sys.argv[1])

tf.logging.info("@@hidden info")
tf.logging.warn("@@shown warn %d", 1)
tf.logging.set_verbosity(tf.logging.INFO)
tf.logging.info("@@shown info")
tf.logging.debug("@@hidden debug")
tf.app.run(main, argv=["prog", "--steps=7", "extra", "--fast", "--unknown=1", "--data_dir", "/x"])
'''


def program(module):
    return PROGRAM.replace("{module}", module)
