"""``python -m jitgraph.distribute``: see ``launcher.py``."""

import sys

from jitgraph.distribute.launcher import main

if __name__ == "__main__":
    sys.exit(main())
