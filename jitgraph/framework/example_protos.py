"""TensorFlow's ``Example`` protos (``tf.train.Example``, ``Features``, ``Feature``, ``BytesList``,
``FloatList``, ``Int64List``, ``SequenceExample``, ``FeatureList(s)``) as real protobuf classes.

TensorBoard ships TF's other protos but not ``tensorflow/core/example/{feature,example}.proto``,
so their descriptors are built here, field for field as TF declares them (proto3, packed numeric
lists), in a private descriptor pool — so importing TensorFlow alongside never clashes — and the
classes come from protobuf's own message factory: serialization, ``FromString``,
``ParseFromString``, text format and ``==`` are protobuf's, and the bytes are TF's. Needs the
``protobuf`` package (installed with ``jitgraph[tensorboard]``).
"""

import types

_loaded = None

# (message, [(field, number, type, label, message type or None, oneof index or None)], nested map entries)
_FEATURE = [
    ("BytesList", [("value", 1, "bytes", "repeated", None)]),
    ("FloatList", [("value", 1, "float", "repeated", None)]),
    ("Int64List", [("value", 1, "int64", "repeated", None)]),
    ("Feature", [("bytes_list", 1, "message", "optional", "BytesList"),
                 ("float_list", 2, "message", "optional", "FloatList"),
                 ("int64_list", 3, "message", "optional", "Int64List")]),
    ("Features", [("feature", 1, "map", "Feature")]),
    ("FeatureList", [("feature", 1, "message", "repeated", "Feature")]),
    ("FeatureLists", [("feature_list", 1, "map", "FeatureList")]),
]
_EXAMPLE = [
    ("Example", [("features", 1, "message", "optional", "Features")]),
    ("SequenceExample", [("context", 1, "message", "optional", "Features"),
                         ("feature_lists", 2, "message", "optional", "FeatureLists")]),
]
NAMES = [m for m, _ in _FEATURE + _EXAMPLE]


def _file(descriptor_pb2, name, messages, deps=()):
    F = descriptor_pb2.FieldDescriptorProto
    types_ = {"bytes": F.TYPE_BYTES, "float": F.TYPE_FLOAT, "int64": F.TYPE_INT64, "message": F.TYPE_MESSAGE,
              "string": F.TYPE_STRING}
    labels = {"optional": F.LABEL_OPTIONAL, "repeated": F.LABEL_REPEATED}
    fd = descriptor_pb2.FileDescriptorProto(name=name, package="tensorflow", syntax="proto3", dependency=list(deps))
    for msg_name, fields in messages:
        msg = fd.message_type.add(name=msg_name)
        if msg_name == "Feature":
            msg.oneof_decl.add(name="kind")
        for spec in fields:
            if spec[2] == "map":   # map<string, V>: a nested FooEntry with map_entry set, as protoc makes it
                field, number, _, value = spec
                entry_name = "".join(p.capitalize() for p in field.split("_")) + "Entry"
                entry = msg.nested_type.add(name=entry_name)
                entry.options.map_entry = True
                entry.field.add(name="key", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
                entry.field.add(name="value", number=2, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL,
                                type_name=f".tensorflow.{value}")
                msg.field.add(name=field, number=number, type=F.TYPE_MESSAGE, label=F.LABEL_REPEATED,
                              type_name=f".tensorflow.{msg_name}.{entry_name}")
                continue
            field, number, kind, label, ref = spec
            f = msg.field.add(name=field, number=number, type=types_[kind], label=labels[label])
            if ref:
                f.type_name = f".tensorflow.{ref}"
            if msg_name == "Feature":
                f.oneof_index = 0
    return fd


def example_protos():
    """A namespace of the classes (``example_protos().Example``), built on first use."""
    global _loaded
    if _loaded is None:
        try:
            from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
        except ImportError as e:
            raise ImportError("jitgraph needs the 'protobuf' package for tf.train.Example and the parsing ops: "
                              f"pip install 'jitgraph[tensorboard]' ({e})") from None
        pool = descriptor_pool.DescriptorPool()
        pool.Add(_file(descriptor_pb2, "tensorflow/core/example/feature.proto", _FEATURE))
        pool.Add(_file(descriptor_pb2, "tensorflow/core/example/example.proto", _EXAMPLE,
                       ["tensorflow/core/example/feature.proto"]))
        classes = {}
        for name in NAMES:
            desc = pool.FindMessageTypeByName(f"tensorflow.{name}")
            if hasattr(message_factory, "GetMessageClass"):
                cls = message_factory.GetMessageClass(desc)
            else:   # protobuf < 4.21
                cls = message_factory.MessageFactory(pool).GetPrototype(desc)
            cls.__module__ = "jitgraph.train"
            classes[name] = cls
        _loaded = types.SimpleNamespace(**classes)
    return _loaded
