"""Tests for jitgraph/train/checkpoint_io.py: format, corruption detection, no pickle, crash safety."""
import json
import os
import pickle
import random
import struct
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Loads the module normally, or -- if a half-written jitgraph/__init__.py breaks the package import --
# through stub package modules so that only jitgraph/errors.py and our file are executed.
_LOADER = '''
def _load_ckio(repo):
    import importlib, os, sys, types
    if repo not in sys.path:
        sys.path.insert(0, repo)
    try:
        return importlib.import_module("jitgraph.train.checkpoint_io")
    except Exception:
        pass
    saved = {k: v for k, v in sys.modules.items() if k == "jitgraph" or k.startswith("jitgraph.")}
    for k in saved:
        del sys.modules[k]
    try:
        for name in ("jitgraph", "jitgraph.train"):
            m = types.ModuleType(name)
            m.__path__ = [os.path.join(repo, *name.split("."))]
            sys.modules[name] = m
        return importlib.import_module("jitgraph.train.checkpoint_io")
    finally:
        for k in [k for k in sys.modules if k == "jitgraph" or k.startswith("jitgraph.")]:
            del sys.modules[k]
        sys.modules.update(saved)
'''
exec(_LOADER)
ck = _load_ckio(REPO)  # noqa: F821
DataLossError, NotFoundError = ck.DataLossError, ck.NotFoundError


def _all_dtypes():
    rng = np.random.default_rng(0)
    out = {}
    for dt in ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
               "uint32", "uint64"]:
        info = np.finfo(dt) if dt.startswith("float") else np.iinfo(dt)
        out[f"{dt}/mat"] = (rng.standard_normal((3, 5)) * 10).astype(dt)
        out[f"{dt}/extremes"] = np.array([info.min, info.max], dtype=dt)
        out[f"{dt}/scalar"] = np.array(7, dtype=dt)
        out[f"{dt}/empty"] = np.zeros((0, 4), dtype=dt)
    out["float32/special"] = np.array([np.nan, np.inf, -np.inf, -0.0], np.float32)
    out["bool/v"] = np.array([[True, False], [False, True]])
    out["bool/scalar"] = np.array(True)
    out["bool/empty"] = np.zeros((2, 0), bool)
    out["float64/noncontig_bigendian"] = np.arange(24, dtype=">f8").reshape(4, 6)[:, ::2]
    out["str/v"] = np.array([b"abc", b"", b"\x00\xff bin"], dtype=object)
    out["str/scalar"] = np.array(b"hello")
    out["str/unicode"] = np.array([["h\u00e9", "x"]])
    out["str/empty"] = np.array([], dtype=object).reshape(0, 2)
    return out


def _check_equal(got, want):
    assert sorted(got) == sorted(want)
    for k, w in want.items():
        g = got[k]
        assert g.shape == w.shape, k
        if w.dtype.kind in "SUO":
            assert g.dtype == object, k
            expect = [x.encode() if isinstance(x, str) else bytes(x) for x in w.reshape(-1).tolist()]
            assert g.reshape(-1).tolist() == expect, k
        else:
            assert g.dtype == w.dtype.newbyteorder("="), k
            np.testing.assert_array_equal(g, w, err_msg=k)


def test_round_trip_all_dtypes(tmp_path):
    tensors = _all_dtypes()
    prefix = str(tmp_path / "model.ckpt-3")
    assert ck.write_checkpoint(prefix, tensors, {"global_step": "3"}) == prefix
    assert os.path.exists(prefix + ".safetensors")
    assert [f for f in os.listdir(tmp_path) if f.endswith(".tmp")] == []
    got = ck.read_checkpoint(prefix)
    _check_equal(got, tensors)
    assert got["int32/mat"].flags.writeable
    assert ck.read_metadata(prefix) == {"global_step": "3"}
    assert ck.checkpoint_exists(prefix) and not ck.checkpoint_exists(str(tmp_path / "nope"))
    names = sorted(tensors)
    assert [n for n, _ in ck.list_tensors(prefix)] == names
    assert dict(ck.list_tensors(prefix))["float32/mat"] == [3, 5]
    specs = ck.tensor_specs(prefix)
    assert specs["uint8/scalar"] == (np.dtype(np.uint8), [])
    assert specs["str/v"] == (np.dtype(object), [3])
    sub = ck.read_checkpoint(prefix, ["int8/mat", "str/scalar"])
    assert sorted(sub) == ["int8/mat", "str/scalar"]
    np.testing.assert_array_equal(ck.read_tensor(prefix, "int8/mat"), tensors["int8/mat"])


def test_names_with_slashes_and_independent_parser(tmp_path):
    tensors = {"conv1/weights": np.arange(12, dtype=np.float32).reshape(3, 4),
               "conv1/biases": np.array([1, 2, 3], np.int64), "global_step": np.array(42, np.int64),
               "a/b/c/flag": np.array([True, False])}
    prefix = str(tmp_path / "sub" / "model.ckpt-42")
    os.makedirs(os.path.dirname(prefix))
    ck.write_checkpoint(prefix, tensors)
    # Minimal independent safetensors parser.
    raw = open(prefix + ".safetensors", "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__")
    assert all(isinstance(v, str) for v in meta.values())
    codes = {"F32": "<f4", "I64": "<i8", "BOOL": "?"}
    data = raw[8 + n:]
    pos = 0
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        b, end = e["data_offsets"]
        assert b == pos
        pos = end
        arr = np.frombuffer(data[b:end], dtype=codes[e["dtype"]]).reshape(e["shape"])
        np.testing.assert_array_equal(arr, tensors[name])
        assert b % np.dtype(codes[e["dtype"]]).itemsize == 0  # naturally aligned
    assert pos == len(data)
    assert sorted(header) == sorted(tensors)
    # The real safetensors library, when available.
    try:
        from safetensors.numpy import load_file
    except ImportError:
        return
    loaded = load_file(prefix + ".safetensors")
    for name, t in tensors.items():
        np.testing.assert_array_equal(loaded[name], t)


def test_missing_raises_not_found(tmp_path):
    with pytest.raises(NotFoundError, match="nope"):
        ck.read_checkpoint(str(tmp_path / "nope"))
    prefix = str(tmp_path / "m")
    ck.write_checkpoint(prefix, {"a": np.ones(2)})
    with pytest.raises(NotFoundError, match="'b'"):
        ck.read_tensor(prefix, "b")


def _small_checkpoint(tmp_path):
    prefix = str(tmp_path / "model.ckpt-1")
    ck.write_checkpoint(prefix, {"w": np.arange(40, dtype=np.float32), "b": np.array([1, 2], np.int8),
                                 "s": np.array([b"xy"]), "step": np.array(1, np.int64)}, {"k": "v"})
    return prefix, open(prefix + ".safetensors", "rb").read()


def test_every_single_bit_flip_is_detected(tmp_path):
    prefix, raw = _small_checkpoint(tmp_path)
    path = prefix + ".safetensors"
    rng = random.Random(1)
    for pos in range(len(raw)):
        bad = bytearray(raw)
        bad[pos] ^= 1 << rng.randrange(8)
        open(path, "wb").write(bad)
        with pytest.raises(DataLossError, match="model.ckpt-1"):
            ck.read_checkpoint(prefix)
    n = struct.unpack("<Q", raw[:8])[0]
    w_begin = json.loads(raw[8:8 + n])["w"]["data_offsets"][0]
    bad = bytearray(raw)
    bad[8 + n + w_begin + 5] ^= 0x10  # inside "w"
    open(path, "wb").write(bad)
    with pytest.raises(DataLossError, match="'w'.*checksum"):
        ck.read_checkpoint(prefix)
    np.testing.assert_array_equal(ck.read_tensor(prefix, "b"), [1, 2])  # intact tensors stay readable


def test_truncation_is_detected(tmp_path):
    prefix, raw = _small_checkpoint(tmp_path)
    path = prefix + ".safetensors"
    for cut in [0, 3, 8, 20, len(raw) // 2, len(raw) - 1]:
        open(path, "wb").write(raw[:cut])
        with pytest.raises(DataLossError, match="model.ckpt-1"):
            ck.read_checkpoint(prefix)
        assert not ck.checkpoint_exists(prefix)
    open(path, "wb").write(raw + b"\0")  # trailing garbage too
    with pytest.raises(DataLossError):
        ck.read_checkpoint(prefix)


class _Boom:
    def __reduce__(self):
        return (open, (os.environ["CKPT_PWNED"], "w"))


def test_no_pickle(tmp_path, monkeypatch):
    marker = str(tmp_path / "pwned")
    monkeypatch.setenv("CKPT_PWNED", marker)
    payload = pickle.dumps(_Boom())
    prefix = str(tmp_path / "evil")
    # 1) a .npy/pickle file under the checkpoint name
    open(prefix + ".safetensors", "wb").write(payload)
    with pytest.raises(DataLossError):
        ck.read_checkpoint(prefix)
    np.save(prefix + ".safetensors.npy", np.array([_Boom()], dtype=object), allow_pickle=True)
    os.replace(prefix + ".safetensors.npy", prefix + ".safetensors")
    with pytest.raises(DataLossError):
        ck.read_checkpoint(prefix)
    # 2) a well-formed safetensors header declaring an object dtype over pickle bytes
    header = {"x": {"dtype": "O", "shape": [1], "data_offsets": [0, len(payload)]},
              "__metadata__": {"jitgraph.format": "1", "jitgraph.strings": "{}", "jitgraph.sha256": "{}"}}
    h = json.dumps(header).encode()
    open(prefix + ".safetensors", "wb").write(struct.pack("<Q", len(h)) + h + payload)
    with pytest.raises(DataLossError):
        ck.read_checkpoint(prefix)
    assert not os.path.exists(marker)
    # 3) object arrays of arbitrary objects cannot be written; reads never touch pickle
    with pytest.raises(ck.InvalidArgumentError):
        ck.write_checkpoint(prefix, {"x": np.array([_Boom()], dtype=object)})

    def refuse(*a, **k):
        raise AssertionError("pickle used")
    for fn in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, fn, refuse)
    ck.write_checkpoint(prefix, _all_dtypes())
    _check_equal(ck.read_checkpoint(prefix), _all_dtypes())
    src = open(ck.__file__).read()
    assert "import pickle" not in src and "allow_pickle=True" not in src and "np.load(" not in src


def test_state_file_and_latest(tmp_path):
    d = str(tmp_path)
    assert ck.get_checkpoint_state(d) is None and ck.latest_checkpoint(d) is None
    prefixes = [os.path.join(d, f"model.ckpt-{i}") for i in (1, 2, 3)]
    for p in prefixes:
        ck.write_checkpoint(p, {"v": np.array(1.0)})
    ck.update_checkpoint_state(d, prefixes[2], prefixes[:2])
    text = open(os.path.join(d, "checkpoint")).read()
    assert text.splitlines() == ['model_checkpoint_path: "model.ckpt-3"',
                                 'all_model_checkpoint_paths: "model.ckpt-1"',
                                 'all_model_checkpoint_paths: "model.ckpt-2"',
                                 'all_model_checkpoint_paths: "model.ckpt-3"']
    state = ck.get_checkpoint_state(d)
    assert state.model_checkpoint_path == prefixes[2]
    assert state.all_model_checkpoint_paths == prefixes
    assert ck.latest_checkpoint(d) == prefixes[2]
    # newest data file damaged -> fall back to the newest complete one listed
    with open(prefixes[2] + ".safetensors", "r+b") as f:
        f.truncate(30)
    assert ck.latest_checkpoint(d) == prefixes[1]
    ck.remove_checkpoint(prefixes[1])
    ck.remove_checkpoint(prefixes[1])  # idempotent
    assert ck.latest_checkpoint(d) == prefixes[0]
    # a TF-written state file with timestamps, and absolute paths outside the directory
    other = str(tmp_path.parent / "elsewhere.ckpt")
    with open(os.path.join(d, "checkpoint"), "w") as f:
        f.write(f'model_checkpoint_path: "{other}"\nall_model_checkpoint_paths: "model.ckpt-1"\n'
                f'all_model_checkpoint_paths: "{other}"\nall_model_checkpoint_timestamps: 1700000000.5\n')
    state = ck.get_checkpoint_state(d)
    assert state.model_checkpoint_path == other and state.all_model_checkpoint_paths == [prefixes[0], other]
    assert ck.latest_checkpoint(d) == prefixes[0]
    open(os.path.join(d, "checkpoint"), "wb").write(b"\xff\xfe garbage")
    assert ck.get_checkpoint_state(d) is None and ck.latest_checkpoint(d) is None
    ck.update_checkpoint_state(d, prefixes[0], latest_filename="mystate")
    assert ck.latest_checkpoint(d, "mystate") == prefixes[0]
    assert sorted(f for f in os.listdir(d) if f.endswith(".tmp")) == []


# ---- crash safety: SIGKILL a saving process at random moments --------------------------------

_CONTENT = textwrap.dedent('''
    import numpy as np

    def content(step):  # the checkpoint of step `step` (about 22 MB)
        return {"conv1/weights": np.arange(3_000_000, dtype=np.float32) * 0.5 + step,  # 12 MB
                "dense/kernel": np.arange(1_000_000, dtype=np.float64) - step,         # 8 MB
                "dense/mask": (np.arange(1_000_000) % (step % 7 + 2)) == 0,
                "emb/ids": (np.arange(500_000, dtype=np.int64) * step).astype(np.int8),
                "global_step": np.array(step, np.int64),
                "name": np.array(b"step-%d" % step)}
''')

_CHILD = _LOADER + _CONTENT + textwrap.dedent('''
    import os, sys
    ck = _load_ckio(sys.argv[1])
    d, keep = sys.argv[2], 3
    print("ready", flush=True)  # imports done: the parent's random kill clock starts now
    state = ck.get_checkpoint_state(d)
    kept = list(state.all_model_checkpoint_paths) if state else []
    latest = ck.latest_checkpoint(d)
    step = int(latest.rsplit("-", 1)[1]) if latest else 0
    while True:
        step += 1
        prefix = os.path.join(d, "model.ckpt-%d" % step)
        ck.write_checkpoint(prefix, content(step), {"global_step": str(step)})
        kept = [p for p in kept if p != prefix] + [prefix]
        ck.update_checkpoint_state(d, prefix, kept[-keep:])
        for old in kept[:-keep]:  # max_to_keep, after the state file no longer lists them
            ck.remove_checkpoint(old)
        kept = kept[-keep:]
        ck.write_checkpoint(os.path.join(d, "model.ckpt"), content(step))  # Saver.save without global_step
''')


def test_sigkill_during_saves_never_loses_a_checkpoint(tmp_path):
    script = tmp_path / "saver_child.py"
    script.write_text(_CHILD)
    d = tmp_path / "ckpts"
    d.mkdir()
    ns = {}
    exec(_CONTENT, ns)
    rng = random.Random(os.environ.get("CKPT_KILL_SEED", 1234))
    rounds, kills, lost, mid_write, verified_steps = 20, 0, 0, 0, []
    best, best_fixed, tmps = 0, 0, set()
    start = time.time()
    for r in range(rounds):
        proc = subprocess.Popen([sys.executable, str(script), REPO, str(d)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"ready", proc.stderr.read().decode()
        if r == 0:  # let the first save complete however loaded the machine is
            deadline = time.time() + 60
            while not os.path.exists(d / "checkpoint") and time.time() < deadline:
                time.sleep(0.02)
        time.sleep(rng.uniform(0.05, 0.6))
        if proc.poll() is not None:
            pytest.fail(f"saver child exited by itself: {proc.stderr.read().decode()}")
        proc.kill()  # SIGKILL
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        assert proc.returncode == -9
        kills += 1
        now = {f for f in os.listdir(d) if f.endswith(".tmp")}  # a new temp file: killed inside a write
        mid_write += bool(now - tmps)
        tmps = now
        latest = ck.latest_checkpoint(str(d))
        if latest is None:
            lost += best > 0
            assert best == 0, f"round {r}: no checkpoint after step {best} was complete"
            continue
        step = int(latest.rsplit("-", 1)[1])
        if step < best:
            lost += 1
        got = ck.read_checkpoint(latest)  # verifies every checksum
        _check_equal(got, ns["content"](step))
        assert ck.read_metadata(latest) == {"global_step": str(step)}
        state = ck.get_checkpoint_state(str(d))
        for p in state.all_model_checkpoint_paths:  # every listed checkpoint must be complete
            if not ck.checkpoint_exists(p):
                lost += 1
        best = max(best, step)
        verified_steps.append(step)
        fixed = str(d / "model.ckpt")  # overwritten in place each save: the old copy must survive a kill
        if ck.checkpoint_exists(fixed) or best_fixed:
            try:
                got = ck.read_checkpoint(fixed)
            except (DataLossError, NotFoundError) as e:
                lost += 1
                print(f"round {r}: overwritten checkpoint lost: {e}")
                continue
            g = int(got["global_step"])
            _check_equal(got, ns["content"](g))
            lost += g < best_fixed
            best_fixed = max(best_fixed, g)
    elapsed = time.time() - start
    print(f"\nkill test: rounds={rounds} kills={kills} kills_mid_write={mid_write} "
          f"checkpoints_lost={lost} steps={verified_steps} ({elapsed:.1f}s)")
    assert lost == 0
    assert kills == rounds
    assert best > 0 and len(set(verified_steps)) > 1, "saves never completed/advanced: the test proves nothing"
