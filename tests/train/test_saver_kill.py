"""Saver-level crash safety: SIGKILL a process that trains and saves in a loop, at random moments.

After every kill, ``latest_checkpoint`` must name a checkpoint that restores, whose variables are
mutually consistent (one point in time), and that is no older than the last save the child
reported complete: no checkpoint is ever lost. Each round resumes from the previous round's files.
"""

import os
import random
import signal
import subprocess
import sys
import time

import numpy as np

import jitgraph as tf

CHILD = r'''
import sys
import numpy as np
import jitgraph as tf

def var(name, value):
    return tf.Variable(value, name=name)

ckpt_dir = sys.argv[1]
w = var("w", np.zeros([64, 64], np.float32))
step = var("step", np.zeros([], np.int64))
train = tf.group(w.assign_add(tf.ones([64, 64])), step.assign_add(np.int64(1)))
saver = tf.train.Saver(max_to_keep=3)
with tf.Session() as sess:
    last = tf.train.latest_checkpoint(ckpt_dir)
    if last is None:
        sess.run([w.initializer, step.initializer])
    else:
        saver.restore(sess, last)
        saver.recover_last_checkpoints(tf.train.get_checkpoint_state(ckpt_dir).all_model_checkpoint_paths)
    print("ready", flush=True)
    while True:
        sess.run(train)
        s = int(sess.run(step._ref()))
        saver.save(sess, ckpt_dir + "/model", global_step=s)
        print("saved", s, flush=True)
'''


def _restore_latest(ckpt_dir):
    with tf.Graph().as_default():
        w = tf.train.import_meta_graph(tf.train.latest_checkpoint(ckpt_dir) + ".meta")
        assert w is not None
        with tf.Session() as sess:
            w.restore(sess, tf.train.latest_checkpoint(ckpt_dir))
            return sess.run("w:0"), int(sess.run("step:0"))


def test_sigkill_during_saves_never_loses_a_checkpoint(tmp_path):
    rng = random.Random(1234)
    ckpt_dir = str(tmp_path)
    kills, reported, rounds, mid_write, seen_tmps = 0, 0, 0, 0, set()
    deadline = time.monotonic() + 9
    while rounds < 4 or (time.monotonic() < deadline and rounds < 10):
        rounds += 1
        child = subprocess.Popen([sys.executable, "-c", CHILD, ckpt_dir], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True,
                                 env=dict(os.environ, JITGRAPH_COMPILE="never"))   # time goes to saves
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        time.sleep(rng.uniform(0.05, 0.4))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        assert child.returncode == -signal.SIGKILL
        kills += 1
        tmps = {f for f in os.listdir(ckpt_dir) if f.endswith(".tmp")}   # left by a write cut short
        mid_write += bool(tmps - seen_tmps)
        seen_tmps |= tmps
        whole = out.split("\n")[:-1]            # a line the kill cut short has no newline: not reported
        done = [int(line.split()[1]) for line in whole if line.startswith("saved ")]
        reported = max([reported] + done)
        w, step = _restore_latest(ckpt_dir)
        assert step >= reported, f"checkpoint lost: latest has step {step}, child reported {reported}"
        np.testing.assert_array_equal(w, np.full([64, 64], step, np.float32))   # one point in time
        kept = [f for f in os.listdir(ckpt_dir) if f.endswith(".safetensors")]
        assert len(kept) <= 3 + rounds   # max_to_keep works across restarts (at most one in flight)
    assert reported > 2 * rounds and kills == rounds   # most kills land among saves, not at start-up
    print(f"saver kill test: {kills} kills ({mid_write} mid-write), 0 checkpoints lost, last step {reported}")
