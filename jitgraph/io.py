"""``tf.io``: reading and writing files, TFRecord files and ``tf.train.Example`` parsing, image codecs,
and ``tf.io.gfile``."""

from jitgraph.gfile import io_gfile as gfile  # noqa: F401
from jitgraph.image import (decode_bmp, decode_gif, decode_image, decode_jpeg, decode_png, encode_jpeg,  # noqa: F401
                            encode_png, is_jpeg)
from jitgraph.ops.image_codec_ops import read_file, write_file  # noqa: F401
from jitgraph.ops.array_extra_ops import matching_files  # noqa: F401
from jitgraph.data.parsing import decode_csv  # noqa: F401
from jitgraph.ops.parsing_ops import FixedLenFeature, VarLenFeature, parse_example, parse_single_example  # noqa: F401
from jitgraph.tfrecord import (TFRecordCompressionType, TFRecordOptions, TFRecordWriter,  # noqa: F401
                               tf_record_iterator)
