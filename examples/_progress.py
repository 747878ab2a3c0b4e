"""A tiny stdlib progress bar shared by the demos."""

import sys
import time


class Progress:
    """``with Progress(total, "train") as bar: bar.update(n)`` draws ``[#####.....] 50% 1.2s`` on stderr."""

    def __init__(self, total, label="", width=30, stream=sys.stderr):
        self.total, self.label, self.width, self.stream = max(int(total), 1), label, width, stream
        self.done, self.start = 0, time.perf_counter()

    def update(self, n=1, note=""):
        self.done = min(self.done + n, self.total)
        filled = self.width * self.done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.perf_counter() - self.start
        self.stream.write(f"\r{self.label} [{bar}] {100 * self.done // self.total:3d}% {elapsed:5.1f}s {note}")
        self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stream.write("\n")
        self.stream.flush()
