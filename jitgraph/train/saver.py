"""``tf.train.Saver``: save and restore variables as checkpoints (see ``checkpoint_io`` for the files).

A checkpoint holds one tensor per saved variable, named by its op name (``"s/i"``) or by the key
given in a ``Saver({"name": var})`` dict. ``save`` snapshots every variable under the session's
run lock, so a checkpoint is one consistent point in time even while other threads run steps.

Order of a save, for crash safety: data file (atomic) → ``.meta`` (atomic) → ``checkpoint`` state
file (atomic) → delete the checkpoints that fell out of ``max_to_keep``. A kill at any moment leaves
the state file naming complete checkpoints only.

``restore`` reads and checks everything (presence, dtype, shape, checksums) before it sets any
variable, so a failed restore changes nothing. Restored values are written into the session's
variable store directly; that counts as initialization.
"""

import os
import time

import numpy as np

from jitgraph import errors
from jitgraph.framework.graph import GraphKeys, get_default_graph
from jitgraph.framework.tensor import Operation, Tensor
from jitgraph.ops.state_ops import variable_of
from jitgraph.train import checkpoint_io as cio
from jitgraph.train import tf_checkpoint as tfc
from jitgraph.train.checkpoint_io import CheckpointState, get_checkpoint_state  # noqa: F401
from jitgraph.train.meta_graph import export_meta_graph, import_meta_graph  # noqa: F401

__all__ = ["Saver", "latest_checkpoint", "get_checkpoint_state", "list_variables", "load_variable",
           "load_checkpoint", "checkpoint_exists", "export_meta_graph", "import_meta_graph",
           "update_checkpoint_state", "CheckpointState", "NewCheckpointReader"]


def _variable_op(value):
    """The ``VariableV2`` op behind a Variable, ref tensor or variable op; None if there is none."""
    if isinstance(value, Operation):
        return value if value.type == "VariableV2" else None
    if isinstance(value, Tensor):
        return variable_of(value) if value.dtype.is_ref_dtype else None
    op = getattr(value, "op", None)
    if isinstance(op, Operation) and op.type == "VariableV2":
        return op
    return None


def _saveables(var_list):
    """``{checkpoint name: VariableV2 op}`` from None / a list / a dict, with TF's errors."""
    dedupe = var_list is None
    if var_list is None:
        g = get_default_graph()
        var_list = g.get_collection(GraphKeys.GLOBAL_VARIABLES) + g.get_collection(GraphKeys.SAVEABLE_OBJECTS)
    if isinstance(var_list, dict):
        out = {}
        for name, value in var_list.items():
            op = _variable_op(value)
            if not isinstance(name, str) or op is None:
                raise TypeError("names_to_saveables must be a dict mapping string names to Tensors/Variables. "
                                f"Not a variable: {value!r}")
            out[name] = op
        return out
    if isinstance(var_list, (Tensor, Operation)) or hasattr(var_list, "op"):
        var_list = [var_list]
    out = {}
    for value in var_list:
        op = _variable_op(value)
        if op is None:
            raise TypeError(f"Variable to save is not a Variable: {value!r}")
        if op.name in out:
            if dedupe and out[op.name] is op:
                continue
            raise ValueError(f"At least two variables have the same name: {op.name}")
        out[op.name] = op
    return out


def _state_of(sess):
    state = getattr(sess, "_state", None)
    if state is None or not hasattr(state, "store"):
        raise TypeError(f"'sess' must be a jitgraph Session, got {sess!r}")
    if getattr(sess, "_closed", False):
        raise RuntimeError("Attempted to use a closed Session.")
    return state


class Saver:
    """Saves and restores variables (TF1's ``tf.train.Saver``).

    Args:
      var_list: None (all global variables and saveable objects), a list of variables (saved under
        their op names) or a dict ``{checkpoint name: variable}``.
      max_to_keep: how many recent checkpoints to keep (None or 0: all).
      keep_checkpoint_every_n_hours: additionally keep one checkpoint per this many hours.
      allow_empty: with no variables, ``save``/``restore`` do nothing instead of ``ValueError``.
      format: ``"jitgraph"`` (default: one crash-safe safetensors file) or ``"tensorflow"``
        (TensorFlow's V2 format, ``.index`` + ``.data-00000-of-00001``, and a TF ``.meta``, which
        TensorFlow restores). ``write_version=tf.train.SaverDef.V2`` also selects it.
        ``restore`` reads either format, whichever the path holds.
      Other TF arguments (``sharded``, ``restore_sequentially``, ``filename``, ``builder``, ...)
      are accepted; a checkpoint is always one file.
    """

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
                 saver_def=None, builder=None, defer_build=False, allow_empty=False,
                 write_version=None, pad_step_number=False, save_relative_paths=False, filename=None,
                 format=None):
        self._format = tfc.saver_format(format, write_version)
        self._var_list = var_list
        self._max_to_keep = max_to_keep
        self._keep_every = keep_checkpoint_every_n_hours
        self._next_keep_time = time.time() + keep_checkpoint_every_n_hours * 3600
        self._allow_empty = allow_empty
        self._pad_step_number = pad_step_number
        self._filename = filename
        self._name = name or "save"
        self._last_checkpoints = []   # [(path, time)]
        self._names = None
        self._graph = get_default_graph()
        if not defer_build:
            self.build()

    def build(self):
        """Resolve the variables to save (done by the constructor unless ``defer_build``)."""
        if self._names is not None:
            return
        if self._var_list is None:
            names = _saveables(None)
        else:
            names = _saveables(self._var_list)
        if not names and not self._allow_empty:
            raise ValueError("No variables to save")
        self._names = dict(sorted(names.items()))
        ops = list(self._names.values())
        if ops:
            self._graph = ops[0].graph

    @property
    def _is_empty(self):
        self.build()
        return not self._names

    # ---- save ------------------------------------------------------------------------------------
    def save(self, sess, save_path, global_step=None, latest_filename=None, meta_graph_suffix="meta",
             write_meta_graph=True, write_state=True, strip_default_attrs=False, save_debug_info=False):
        """Save the variables' current values; returns the checkpoint prefix (``save_path-step``).

        Raises ``FailedPreconditionError`` naming an uninitialized variable (nothing is written)."""
        self.build()
        if self._is_empty:
            return None
        if latest_filename is None:
            latest_filename = "checkpoint"
        elif os.path.split(latest_filename)[0]:
            raise ValueError("'latest_filename' must not contain path components")
        save_path = os.fspath(save_path)
        if global_step is not None:
            if not isinstance(global_step, (int, np.integer)):
                global_step = sess.run(global_step)
            step = int(global_step)
            prefix = f"{save_path}-{step:08d}" if self._pad_step_number else f"{save_path}-{step}"
        else:
            prefix = save_path
        tensors = self._snapshot(sess)
        save_dir = os.path.dirname(os.path.abspath(prefix))
        os.makedirs(save_dir, exist_ok=True)
        if self._format == "tensorflow":
            tfc.write_checkpoint(prefix, tensors)
        else:
            cio.write_checkpoint(prefix, tensors)
        if write_meta_graph:
            export_meta_graph(f"{prefix}.{meta_graph_suffix}", graph=self._graph, saver=self, format=self._format)
        if write_state:
            doomed = self._record(prefix)
            cio.update_checkpoint_state(save_dir, os.path.abspath(prefix),
                                        [os.path.abspath(p) for p, _ in self._last_checkpoints],
                                        latest_filename)
            self._delete(doomed, meta_graph_suffix)
        return prefix

    def _snapshot(self, sess):
        """Copies of every saved variable's value, taken under the session's run lock."""
        state = _state_of(sess)
        self._check_graph(sess)
        out = {}
        with state.lock:
            store = state.store
            for name, var in self._names.items():
                if not store.is_initialized(var):
                    raise errors.FailedPreconditionError(
                        None, var, f"Attempting to use uninitialized value {var.name} (saving it as '{name}')")
                out[name] = np.array(store.get(var), copy=True)
        return out

    def _check_graph(self, sess):
        if self._names and sess.graph is not self._graph:
            raise ValueError("The Saver's variables are not in the session's graph.")

    def _record(self, prefix):
        """Append ``prefix``; returns the checkpoints that fell out of ``max_to_keep`` (to delete
        after the state file no longer lists them)."""
        self._last_checkpoints = [(p, t) for p, t in self._last_checkpoints if p != prefix]
        self._last_checkpoints.append((prefix, time.time()))
        doomed = []
        while self._max_to_keep and len(self._last_checkpoints) > self._max_to_keep:
            path, stamp = self._last_checkpoints.pop(0)
            if stamp is not None and stamp > self._next_keep_time:   # one per keep_checkpoint_every_n_hours
                self._next_keep_time += self._keep_every * 3600
                continue
            doomed.append(path)
        return doomed

    @staticmethod
    def _delete(paths, meta_graph_suffix):
        for path in paths:
            cio.remove_checkpoint(path)
            tfc.remove_checkpoint(path)
            try:
                os.unlink(f"{path}.{meta_graph_suffix}")
            except FileNotFoundError:
                pass

    # ---- restore ---------------------------------------------------------------------------------
    def restore(self, sess, save_path):
        """Set the variables to the values in checkpoint ``save_path``; returns None.

        Everything is read and validated before any variable changes: ``NotFoundError`` (a variable
        missing from the checkpoint), ``InvalidArgumentError`` (shape or dtype mismatch),
        ``DataLossError`` (corrupt or truncated file), ``ValueError`` (no checkpoint at that path)."""
        self.build()
        if self._is_empty:
            return None
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        save_path = os.fspath(save_path)
        if not _exists(save_path):
            raise ValueError(f"The passed save_path is not a valid checkpoint: {save_path}")
        state = _state_of(sess)
        self._check_graph(sess)
        io = _io(save_path)
        specs = io.tensor_specs(save_path)
        for name, var in self._names.items():
            if name not in specs:
                raise errors.NotFoundError(
                    None, var, f"Restoring from checkpoint failed: key '{name}' (variable '{var.name}') not "
                               f"found in checkpoint {save_path}")
        values = io.read_checkpoint(save_path, list(self._names))
        new = {var: _check_restored(name, var, values[name], save_path) for name, var in self._names.items()}
        with state.lock:
            for var, value in new.items():
                state.store.set(var, value)

    # ---- bookkeeping ----------------------------------------------------------------------------
    @property
    def last_checkpoints(self):
        """The kept checkpoint prefixes, oldest first."""
        return [p for p, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints):
        if not isinstance(last_checkpoints, list):
            raise TypeError("last_checkpoints must be a list")
        self._last_checkpoints = [(p, None) for p in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time):
        if not isinstance(last_checkpoints_with_time, list):
            raise TypeError("last_checkpoints_with_time must be a list")
        self._last_checkpoints = [(p, t) for p, t in last_checkpoints_with_time]

    def recover_last_checkpoints(self, checkpoint_paths):
        """Adopt existing checkpoints (e.g. after a restart) so ``max_to_keep`` manages them."""
        now = time.time()
        self._last_checkpoints = [(p, now) for p in checkpoint_paths if checkpoint_exists(p)]

    def export_meta_graph(self, filename=None, collection_list=None, as_text=False, export_scope=None,
                          clear_devices=False, clear_extraneous_savers=False, strip_default_attrs=False,
                          save_debug_info=False):
        """Write this saver's graph as a meta graph (see ``tf.train.export_meta_graph``)."""
        return export_meta_graph(filename, graph=self._graph, saver=self, collection_list=collection_list,
                                 export_scope=export_scope, clear_devices=clear_devices)

    def as_saver_def(self):
        """The saver's settings as a plain dict (what the meta graph stores)."""
        return {"var_names": {k: v.name for k, v in (self._names or {}).items()},
                "max_to_keep": self._max_to_keep, "keep_checkpoint_every_n_hours": self._keep_every,
                "allow_empty": self._allow_empty}


def _check_restored(name, var, value, save_path):
    want = var.get_attr("dtype").base_dtype
    value = np.asarray(value)
    if value.dtype != np.dtype(want.as_np):
        raise errors.InvalidArgumentError(
            None, var, f"Restoring from checkpoint failed: tensor '{name}' in {save_path} has dtype "
                       f"{value.dtype}, but variable '{var.name}' is {want.name}")
    shape = var.get_attr("shape")
    if not shape.is_compatible_with(value.shape):
        raise errors.InvalidArgumentError(
            None, var, f"Restoring from checkpoint failed: tensor '{name}' in {save_path} has shape "
                       f"{list(value.shape)}, but variable '{var.name}' has shape {shape}")
    return np.array(value, dtype=want.as_np, copy=True, order="C")


# ---- checkpoint inspection ------------------------------------------------------------------------

def _prefix_of(ckpt_dir_or_file):
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        found = latest_checkpoint(path)
        if found is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given directory {path}")
        return found
    for suffix in (cio.SUFFIX, tfc.INDEX_SUFFIX):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    if not _exists(path):
        raise errors.NotFoundError(None, None, f"Unsuccessful TensorSliceReader constructor: Failed to find "
                                               f"any matching files for {path}")
    return path


def list_variables(ckpt_dir_or_file):
    """``[(name, shape list)]`` of the tensors in a checkpoint (file prefix or directory), sorted."""
    prefix = _prefix_of(ckpt_dir_or_file)
    return _io(prefix).list_tensors(prefix)


def load_variable(ckpt_dir_or_file, name):
    """The value of tensor ``name`` (a ``":0"`` suffix is ignored) in a checkpoint, as an ndarray."""
    if name.endswith(":0"):
        name = name[:-2]
    prefix = _prefix_of(ckpt_dir_or_file)
    return _io(prefix).read_tensor(prefix, name)


class NewCheckpointReader:
    """``tf.train.NewCheckpointReader`` / ``load_checkpoint``: read tensors of one checkpoint."""

    def __init__(self, ckpt_dir_or_file):
        self._prefix = _prefix_of(ckpt_dir_or_file)
        self._io = _io(self._prefix)
        self._specs = self._io.tensor_specs(self._prefix)

    def get_variable_to_shape_map(self):
        return {n: list(s) for n, (_, s) in self._specs.items()}

    def get_variable_to_dtype_map(self):
        from jitgraph import dtypes
        return {n: dtypes.as_dtype(dt) for n, (dt, _) in self._specs.items()}

    def has_tensor(self, name):
        return name in self._specs

    def get_tensor(self, name):
        return self._io.read_tensor(self._prefix, name)


def load_checkpoint(ckpt_dir_or_file):
    return NewCheckpointReader(ckpt_dir_or_file)


def checkpoint_exists(checkpoint_prefix):
    """True if a complete checkpoint exists at ``checkpoint_prefix``."""
    return cio.checkpoint_exists(checkpoint_prefix) or tfc.checkpoint_exists(checkpoint_prefix)


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """Prefix of the newest complete checkpoint (either format) listed in the state file, or None."""
    return cio.latest_checkpoint(checkpoint_dir, latest_filename, exists=checkpoint_exists)


def _io(prefix):
    """The module reading checkpoint ``prefix``: TF's format if its ``.index`` exists, else jitgraph's."""
    return tfc if tfc.is_tf_checkpoint(prefix) else cio


def _exists(prefix):
    return os.path.exists(cio.data_path(prefix)) or tfc.is_tf_checkpoint(prefix)


def update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                            latest_filename=None, all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None):
    """Write the ``checkpoint`` state file of ``save_dir`` atomically."""
    cio.update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths,
                                latest_filename or "checkpoint")
