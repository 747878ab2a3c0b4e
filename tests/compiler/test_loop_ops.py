"""``compiler.loop_ops``: the elementwise loops a native loop's body is written with."""

import numpy as np

from jitgraph.compiler import loop_ops
from jitgraph.compiler.loop_values import Block, Emitter, V


def _source_and_run(shape, stores, arrays):
    """Generate the stores ``[(value V, target name, mode)]`` as one function of ``arrays`` (name ->
    array), run it with Numba, and return its source."""
    from numba import njit
    em, body = Emitter(), Block(1)
    for value, target, mode in stores:
        loop_ops.store(em, body, shape, value, target, mode=mode)
    body.flush()
    src = f"def fn({', '.join(arrays)}):\n" + "\n".join(body.lines) + "\n    return 0\n"
    ns = {"np": np}
    exec(src, ns)                                  # noqa: S102 - generated from the values above
    njit(ns["fn"])(*arrays.values())
    return src


def _reloads(src):
    """Right-hand sides that read an element an earlier plain store (not an update) wrote."""
    stored, found = set(), []
    for line in src.splitlines():
        lhs, eq, rhs = line.strip().partition(" = ")
        if not eq or not lhs.endswith("]"):
            continue
        found += [s for s in stored if s in rhs and s != lhs]
        if lhs not in rhs:
            stored.add(lhs)
    return found


def test_an_element_stored_in_the_loop_is_read_back_from_its_local():
    """A store followed by a read of the same element in the same loop reuses the stored local:
    with many arrays in one loop LLVM cannot prove a re-load from memory unaliased."""
    f32 = np.float32
    x = V("array", "x", f32, (3, 4))
    a, b = V("array", "a", f32, (3, 4)), V("array", "b", f32, (3, 4))
    arrays = {"x": np.arange(12, dtype=f32).reshape(3, 4), "a": np.zeros((3, 4), f32),
              "b": np.zeros((3, 4), f32), "c": np.ones((3, 4), f32)}
    src = _source_and_run((3, 4), [(x, "a", "="), (a, "b", "="), (a, "c", "+="), (b, "c", "+=")], arrays)
    assert not _reloads(src), src
    np.testing.assert_array_equal(arrays["a"], arrays["x"])
    np.testing.assert_array_equal(arrays["b"], arrays["x"])
    np.testing.assert_array_equal(arrays["c"], 1 + 2 * arrays["x"])


def test_an_updated_element_is_read_again_from_memory():
    """After ``c += ...`` the local of an earlier ``c = ...`` is stale: the next read loads ``c``."""
    f32 = np.float32
    x, c = V("array", "x", f32, (5,)), V("array", "c", f32, (5,))
    arrays = {"x": np.arange(5, dtype=f32), "c": np.zeros(5, f32), "d": np.zeros(5, f32)}
    _source_and_run((5,), [(x, "c", "="), (x, "c", "+="), (c, "d", "=")], arrays)
    np.testing.assert_array_equal(arrays["d"], 2 * arrays["x"])


def test_buffers_nothing_reads_lose_their_stores():
    lines = ["    b1 = np.empty((4,), np.float32)",          # written, never read: dropped
             "    b2 = np.empty((4,), np.float32)",          # read by the dot below: kept
             "    b3 = np.zeros((2, 2), np.float32)",        # written through a flat view only: dropped
             "    f4 = b3.reshape(b3.size)",
             "    for i5 in range(4):",
             "        t6 = x[i5]",
             "        b1[i5] = t6",
             "        b2[i5] = t6",
             "    for i7 in range(4):",
             "        f4[i7] = t6",
             "    y = np.dot(b2, b2)",
             "    return (y, )"]
    got = loop_ops.drop_dead_buffers(lines, ["b1", "b2", "b3"])
    assert got == ["    b2 = np.empty((4,), np.float32)",
                   "    for i5 in range(4):",
                   "        t6 = x[i5]",
                   "        b2[i5] = t6",
                   "    for i7 in range(4):",
                   "        pass",                          # its only statement was a dead store
                   "    y = np.dot(b2, b2)",
                   "    return (y, )"]


def test_a_buffer_that_is_returned_or_updated_is_kept():
    lines = ["    b1 = np.zeros((4,), np.float32)",
             "    b2 = np.zeros((4,), np.float32)",
             "    for i3 in range(4):",
             "        b1[i3] = t0",
             "        b2[i3] = np.float32(b2[i3] + t0)",     # an update reads the buffer
             "    return (b1, )"]
    assert loop_ops.drop_dead_buffers(lines, ["b1", "b2"]) == lines
