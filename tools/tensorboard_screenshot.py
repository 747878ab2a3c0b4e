"""Look at jitgraph's logs the way a person does: write a demo run's event files, start TensorBoard on
127.0.0.1, take headless-Chromium screenshots of its Scalars and Graphs tabs, stop TensorBoard.

    python tools/tensorboard_screenshot.py --out shots/      # -> shots/scalars.png, shots/graphs.png

Needs the tensorboard extra and a Chromium (``chromium`` or ``chromium-browser`` on PATH, or
``--chromium PATH``). Not part of the test suite: it starts a server and a browser.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import jitgraph as tf  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]


def write_demo_logs(logdir, steps=60):
    """Two runs of a small classifier, each with scalars, histograms, an image and its graph."""
    rng = np.random.RandomState(0)
    data = rng.randn(256, 4).astype(np.float32)
    labels = (data[:, 0] + 0.5 * data[:, 1] > 0).astype(np.int64)
    for run, lr in (("lr_0.5", 0.5), ("lr_0.05", 0.05)):
        with tf.Graph().as_default() as g:
            x = tf.placeholder(tf.float32, [None, 4], name="x")
            y = tf.placeholder(tf.int64, [None], name="labels")
            with tf.variable_scope("hidden"):
                h = tf.layers.dense(x, 16, activation=tf.nn.relu)
            with tf.variable_scope("output"):
                logits = tf.layers.dense(h, 2)
            with tf.name_scope("xent"):
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
            with tf.name_scope("metrics"):
                accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))
            train = tf.train.GradientDescentOptimizer(lr).minimize(loss)
            tf.summary.scalar("loss", loss)
            tf.summary.scalar("accuracy", accuracy)
            for v in tf.trainable_variables():
                tf.summary.histogram(v.op.name, v)
            tf.summary.image("inputs", tf.reshape(x[:4], [1, 4, 4, 1]), max_outputs=1)
            merged = tf.summary.merge_all()
            with tf.Session() as sess, tf.summary.FileWriter(os.path.join(logdir, run), g) as writer:
                sess.run(tf.global_variables_initializer())
                for step in range(steps):
                    s, _ = sess.run([merged, train], {x: data, y: labels})
                    writer.add_summary(s, step)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"TensorBoard did not answer at {url} within {timeout} s")


def screenshot(chromium, url, path, profile, size=(1400, 900)):
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}",
                    "--virtual-time-budget=20000", f"--screenshot={path}", url],
                   check=True, timeout=180, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="tensorboard_shots", help="directory for the PNGs")
    ap.add_argument("--logdir", help="use these logs instead of writing the demo run")
    ap.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    args = ap.parse_args()
    if not args.chromium:
        sys.exit("no Chromium found: install it (e.g. apt-get install chromium) or pass --chromium")
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="jitgraph-tb-")
    logdir = args.logdir or os.path.join(work, "logs")
    if not args.logdir:
        write_demo_logs(logdir)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--host", "127.0.0.1",
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base + "/data/runs")
        shots = {}
        for tab in ("scalars", "graphs"):
            shots[tab] = os.path.join(args.out, f"{tab}.png")
            screenshot(args.chromium, f"{base}/#{tab}", shots[tab], os.path.join(work, f"profile-{tab}"))
        for tab, path in shots.items():
            print(f"{tab}: {path}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
