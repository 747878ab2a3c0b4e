"""``tf.data.experimental``: ``AUTOTUNE``, ``CsvDataset`` and the TF1-era fused transformations,
as ``apply`` arguments (``ds.apply(tf.data.experimental.shuffle_and_repeat(1000))``)."""

from jitgraph.data.dataset import AUTOTUNE
from jitgraph.data.readers import CsvDataset

__all__ = ["AUTOTUNE", "CsvDataset", "shuffle_and_repeat", "map_and_batch", "unbatch"]


def shuffle_and_repeat(buffer_size, count=None, seed=None):
    """``ds.shuffle(buffer_size, seed).repeat(count)``: a new order every epoch."""
    return lambda ds: ds.shuffle(buffer_size, seed).repeat(count)


def map_and_batch(map_func, batch_size, num_parallel_batches=None, drop_remainder=False, num_parallel_calls=None):
    """``ds.map(map_func).batch(batch_size, drop_remainder)``."""
    return lambda ds: ds.map(map_func).batch(batch_size, drop_remainder)


def unbatch():
    """``ds.unbatch()``."""
    return lambda ds: ds.unbatch()
