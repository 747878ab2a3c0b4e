"""``tf.data`` in graph mode: input pipelines read by iterators inside ``Session.run``.

    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(1000).batch(32).repeat()
    images, labels = tf.data.make_one_shot_iterator(ds).get_next()

Functions given to ``map``/``filter``/``flat_map``/``interleave`` are traced once into a graph
of their own and run as compiled jitgraph plans.
"""

from jitgraph.data import experimental
from jitgraph.data.dataset import AUTOTUNE, Dataset
from jitgraph.data.iterator import Iterator, make_initializable_iterator, make_one_shot_iterator
from jitgraph.data.readers import TextLineDataset, TFRecordDataset

__all__ = ["AUTOTUNE", "Dataset", "Iterator", "TextLineDataset", "TFRecordDataset", "experimental", "make_initializable_iterator",
           "make_one_shot_iterator", "get_output_types", "get_output_shapes", "get_output_classes"]


def get_output_types(dataset_or_iterator):
    """The element types of a dataset or iterator (a structure of ``tf.DType``)."""
    return dataset_or_iterator.output_types


def get_output_shapes(dataset_or_iterator):
    """The static element shapes of a dataset or iterator (a structure of ``tf.TensorShape``)."""
    return dataset_or_iterator.output_shapes


def get_output_classes(dataset_or_iterator):
    """The component classes (``tf.Tensor``) of a dataset or iterator."""
    return dataset_or_iterator.output_classes
