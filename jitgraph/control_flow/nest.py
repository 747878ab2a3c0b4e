"""Nested structures of loop variables and branch results (``tf.nest``'s rules): lists, tuples,
namedtuples (``LSTMStateTuple``) and dicts (in sorted key order) are structure; anything else,
``TensorArray`` included, is a leaf."""

__all__ = ["is_sequence", "flatten", "pack_sequence_as", "assert_same_structure", "map_structure"]


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def is_sequence(x):
    return isinstance(x, (list, tuple, dict))


def _children(x):
    if isinstance(x, dict):
        return [x[k] for k in sorted(x)]
    return list(x)


def flatten(structure):
    """The leaves of ``structure`` in order; a leaf alone gives ``[leaf]``."""
    if not is_sequence(structure):
        return [structure]
    out = []
    for c in _children(structure):
        out.extend(flatten(c))
    return out


def _rebuild(like, children):
    if isinstance(like, dict):
        return type(like)((k, v) for k, v in zip(sorted(like), children))
    if _is_namedtuple(like):
        return type(like)(*children)
    if isinstance(like, tuple):
        return tuple(children)
    return list(children)


def pack_sequence_as(structure, flat_sequence):
    """``flat_sequence`` shaped like ``structure`` (whose leaves are ignored)."""
    flat_sequence = list(flat_sequence)
    n = len(flatten(structure))
    if len(flat_sequence) != n:
        raise ValueError(f"Could not pack sequence. Structure had {n} elements, but flat_sequence had "
                         f"{len(flat_sequence)} elements.  Structure: {structure}, flat_sequence: {flat_sequence}.")
    it = iter(flat_sequence)

    def build(s):
        if not is_sequence(s):
            return next(it)
        return _rebuild(s, [build(c) for c in _children(s)])
    return build(structure)


def assert_same_structure(a, b, check_types=True):
    """``ValueError`` if the nesting differs, ``TypeError`` if sequence types differ (``check_types``)."""
    def walk(x, y):
        if is_sequence(x) != is_sequence(y):
            raise ValueError(f"The two structures don't have the same nested structure.\n\nFirst structure: "
                             f"{a}\n\nSecond structure: {b}")
        if not is_sequence(x):
            return
        if check_types and type(x) is not type(y):
            raise TypeError(f"The two structures don't have the same sequence type. First structure has type "
                            f"{type(x)}, while second structure has type {type(y)}.")
        if isinstance(x, dict) and sorted(x) != sorted(y):
            raise ValueError(f"The two dictionaries don't have the same set of keys: {sorted(x)} and {sorted(y)}")
        cx, cy = _children(x), _children(y)
        if len(cx) != len(cy):
            raise ValueError(f"The two structures don't have the same number of elements.\n\nFirst structure: "
                             f"{a}\n\nSecond structure: {b}")
        for p, q in zip(cx, cy):
            walk(p, q)
    walk(a, b)


def map_structure(fn, *structures):
    """``fn`` applied leafwise to structures of the same nesting."""
    for s in structures[1:]:
        assert_same_structure(structures[0], s, check_types=False)
    flats = [flatten(s) for s in structures]
    return pack_sequence_as(structures[0], [fn(*xs) for xs in zip(*flats)])


is_nested = is_sequence
__all__ += ["is_nested"]
