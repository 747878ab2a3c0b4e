"""Record the public names of TensorFlow 2.21's ``tf.compat.v1`` namespace and of its submodules
(two levels deep; big subsystems such as keras, estimator, data, summary are listed but not
entered). Run with the TensorFlow venv from the repository root:

    python tests/oracle/record_compat_names.py     # writes tests/oracle/data/compat_v1_names.json

``tools/api_coverage.py --names`` and ``tests/test_compat.py`` read the list.
"""

import json
import os
import types

import tensorflow.compat.v1 as tf

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "compat_v1_names.json")
NOT_ENTERED = {"compat", "keras", "estimator", "contrib", "experimental", "lite", "tools", "v1", "v2", "raw_ops",
               "debugging", "distribute", "tpu", "xla", "mlir", "dtypes", "saved_model", "autograph", "config",
               "feature_column", "profiler", "sysconfig", "test", "types", "user_ops", "version", "graph_util",
               "queue", "sets", "strings", "ragged", "signal", "sparse", "quantization", "bitwise", "audio", "lookup",
               "manip", "spectral", "mixed_precision", "initializers", "layers", "losses", "metrics", "summary", "data",
               "distributions", "resource_loader", "python_io", "tables", "tf_decorator"}


def walk(mod, prefix, depth, out):
    try:
        names = dir(mod)
    except Exception:  # noqa: BLE001  (a lazily loaded module that cannot load here)
        return
    for n in names:
        if n.startswith("_"):
            continue
        try:
            obj = getattr(mod, n)
        except Exception:  # noqa: BLE001
            continue
        full = f"{prefix}.{n}"
        if isinstance(obj, types.ModuleType):
            out[full] = "module"
            if depth < 2 and n not in NOT_ENTERED:
                walk(obj, full, depth + 1, out)
        else:
            out[full] = type(obj).__name__


def main():
    out = {}
    walk(tf, "tf", 0, out)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=0, sort_keys=True)
    print(f"wrote {len(out)} names to {OUT}")


if __name__ == "__main__":
    main()
