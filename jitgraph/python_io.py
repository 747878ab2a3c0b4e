"""``tf.python_io``: TF1's older home of the TFRecord file classes (``jitgraph.tfrecord``)."""

from jitgraph.tfrecord import (TFRecordCompressionType, TFRecordOptions, TFRecordWriter,  # noqa: F401
                               tf_record_iterator)
