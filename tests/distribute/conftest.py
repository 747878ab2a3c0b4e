"""Ray reads these when it is imported: keep every Ray process of the tests on 127.0.0.1."""

import os

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")   # Ray's single-node switch: loopback only
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
