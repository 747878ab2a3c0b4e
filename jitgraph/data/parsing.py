"""``tf.decode_csv``: the fields of CSV records (``TextLineDataset`` lines) as typed tensors."""

import csv

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.ops.op_util import no_gradient
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

_TYPES = (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64, dtypes.string)


def _infer(ins, a):
    records, defaults = ins[0], ins[1:]
    if records.dtype.base_dtype != dtypes.string:
        raise TypeError(f"DecodeCSV: records must be tf.string, got {records.dtype.base_dtype.name}")
    for i, d in enumerate(defaults):
        if d.dtype.base_dtype not in _TYPES:
            raise TypeError(f"DecodeCSV: record_defaults[{i}] has type {d.dtype.base_dtype.name}, not one of "
                            f"float32, float64, int32, int64, string")
        if d.shape.ndims not in (None, 0, 1) or (d.shape.ndims == 1 and d.shape[0].value not in (None, 0, 1)):
            raise ValueError(f"DecodeCSV: record_defaults[{i}] must be a scalar or a vector of at most one "
                             f"element, got shape {d.shape}")
    return [(d.dtype.base_dtype, records.shape) for d in defaults]


def _parse(field, np_dtype, col, row):
    try:
        if np_dtype == np.dtype(object):
            return field.encode()
        if np_dtype.kind == "i":
            value = int(field)
            info = np.iinfo(np_dtype)
            if not info.min <= value <= info.max:
                raise ValueError(field)
            return value
        return float(field)
    except ValueError:
        raise errors.InvalidArgumentError(
            None, None, f"Field {col} in record {row} is not a valid {np.dtype(np_dtype).name}: {field}") from None


def decode_records(records, *defaults, field_delim, use_quote_delim, na_value, select_cols):
    """DecodeCSV's NumPy implementation: a tuple of arrays of ``records``' shape."""
    flat = np.asarray(records, dtype=object).reshape(-1)
    out_dtypes = [np.asarray(d).dtype for d in defaults]
    outs = [np.empty(flat.shape, dt) for dt in out_dtypes]
    options = dict(delimiter=field_delim, quotechar='"', doublequote=True) if use_quote_delim else \
        dict(delimiter=field_delim, quoting=csv.QUOTE_NONE)
    for row, record in enumerate(flat):
        text = record.decode() if isinstance(record, bytes) else str(record)
        fields = next(csv.reader([text], **options), None) or [""]
        if select_cols is not None:
            if select_cols and select_cols[-1] >= len(fields):
                raise errors.InvalidArgumentError(None, None, f"Expect {select_cols[-1] + 1} fields but have "
                                                  f"{len(fields)} in record {row}")
            fields = [fields[c] for c in select_cols]
        if len(fields) != len(defaults):
            raise errors.InvalidArgumentError(None, None, f"Expect {len(defaults)} fields but have {len(fields)} "
                                              f"in record {row}")
        for col, (field, default) in enumerate(zip(fields, defaults)):
            if field == "" or field == na_value:
                d = np.asarray(default).reshape(-1)
                if d.size == 0:
                    raise errors.InvalidArgumentError(None, None, f"Field {col} is required but missing in "
                                                      f"record {row}!")
                outs[col][row] = d[0]
            else:
                outs[col][row] = _parse(field, out_dtypes[col], col, row)
    shape = np.shape(records)
    return tuple(o.reshape(shape) for o in outs)


define_op("DecodeCSV", _infer, decode_records, grad=no_gradient)


def csv_defaults(record_defaults):
    """``record_defaults`` as tensors; a dtype (``CsvDataset``) or ``[]`` makes a required column."""
    out = []
    for d in record_defaults:
        if isinstance(d, dtypes.DType):
            d = np.zeros([0], d.as_np)   # (an empty object array for tf.string)
        elif isinstance(d, list) and not d:
            d = np.zeros([0], np.float32)   # TF: [] is a required float32 column
        out.append(convert_to_tensor(d, name="record_default"))
    return out


def csv_options(field_delim, use_quote_delim, na_value, select_cols, n_columns):
    """The checked options of ``DecodeCSV`` (its attrs)."""
    if not isinstance(field_delim, str) or len(field_delim) != 1:
        raise ValueError(f"field_delim must be one character, got {field_delim!r}")
    if select_cols is not None:
        select_cols = [int(c) for c in select_cols]
        if any(b <= a for a, b in zip(select_cols, select_cols[1:])) or (select_cols and select_cols[0] < 0):
            raise ValueError("select_cols is not strictly increasing.")
        if len(select_cols) != n_columns:
            raise ValueError("Length of select_cols and record_defaults do not match.")
    return {"field_delim": field_delim, "use_quote_delim": bool(use_quote_delim), "na_value": na_value,
            "select_cols": select_cols}



def decode_csv(records, record_defaults, field_delim=",", use_quote_delim=True, name=None, na_value="",
               select_cols=None):
    """Split each CSV record (a string tensor of any shape) into one tensor per column, of the
    type of ``record_defaults[i]``: ``[0.0]``, ``[0]``, ``[""]`` give a default for empty or
    ``na_value`` fields; ``[]`` (or an empty tensor) makes the column required."""
    attrs = csv_options(field_delim, use_quote_delim, na_value, select_cols, len(record_defaults))
    records = convert_to_tensor(records, dtype=dtypes.string, name="records")
    return make_op("DecodeCSV", [records] + csv_defaults(record_defaults), attrs, name or "DecodeCSV").outputs
