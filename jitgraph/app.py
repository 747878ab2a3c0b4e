"""``tf.app``: ``run`` and ``flags``, TF1's way of starting a program::

    FLAGS = tf.app.flags.FLAGS
    tf.app.flags.DEFINE_integer("steps", 100, "training steps")

    def main(argv):
        ...

    if __name__ == "__main__":
        tf.app.run()          # parses --steps=..., calls main(remaining argv), exits with its result
"""

import sys

from jitgraph import flags


def _parse_known_flags(argv):
    """Parse the flags that are defined and leave the others in argv, as TF1 did."""
    return flags.FLAGS(argv, known_only=True)


def run(main=None, argv=None):
    """Parse command-line flags from ``argv`` (default ``sys.argv``), call ``main(remaining argv)``
    (default: the ``main`` of the ``__main__`` module) and exit with its return value."""
    from absl import app
    main = main or sys.modules["__main__"].main
    app.run(main=main, argv=argv, flags_parser=_parse_known_flags)
