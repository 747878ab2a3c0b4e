"""``tf.flags`` / ``tf.app.flags``: absl-py's ``absl.flags`` (TF1's flags module was a thin layer
over it), imported on first use: ``tf.flags.DEFINE_string("data_dir", "/tmp", "where")``,
``tf.flags.FLAGS.data_dir``."""


def _absl_flags():
    from absl import flags
    return flags


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(_absl_flags(), name)


def __dir__():
    return sorted(set(dir(_absl_flags())) | set(globals()))
