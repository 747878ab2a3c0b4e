"""W5 (MLP 784-256-10, batch 256, SGD) on parameter servers hosted by Ray, against one process.

    python -m benchmarks.distributed [--steps 300] [--reps 3] [--json out.json]

Configurations: the plain jitgraph session in this process (BLAS threads as configured) and in a
1-CPU Ray actor (one BLAS thread, like each worker); then W workers x P parameter servers for W,
P in {1, 2}. Workers are Ray actors (one process each, ``num_cpus=1``) running an unchanged
between-graph TF1 step (``replica_device_setter`` round-robin: W1, W2 on ps 0, b1, b2 on ps 1
with two ps); parameter servers are the actors ``tf.train.Server`` creates. Workers train
concurrently after a warm-up (compiles); steps/s is the sum over workers of steps / their time.
Pull/push latency: from a worker, ``sess.run(v)`` of a ps variable (a pull) and
``sess.run(v.assign_add(p), {p: delta})`` (a push applied on the ps), 1 KB to 16 MB.

The Ray cluster is local and bound to 127.0.0.1 (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``).
"""

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import numpy as np  # noqa: E402

from benchmarks.workloads import build_w5, make_data, sizes  # noqa: E402


def w5_graph(tf, d, cluster=None, task=0):
    """W5's graph, its variables placed round-robin on the ps tasks when ``cluster`` is given."""
    if cluster is None:
        return build_w5(tf, d)
    with tf.device(tf.train.replica_device_setter(cluster=cluster, worker_device=f"/job:worker/task:{task}")):
        return build_w5(tf, d)


def time_steps(sess, spec, steps):
    fetch, feed = spec.fetch, spec.feed
    t = time.perf_counter()
    for _ in range(steps):
        sess.run(fetch, feed)
    return time.perf_counter() - t


class Worker:
    """A Ray actor: one worker task (or, with ``cluster=None``, a plain local session)."""

    def __init__(self, cluster_dict, task, warmup):
        import jitgraph as tf
        self.tf, d = tf, make_data("W5", sizes())
        self.graph = tf.Graph()
        with self.graph.as_default():
            cluster = tf.train.ClusterSpec(cluster_dict) if cluster_dict else None
            target = tf.train.Server(cluster, "worker", task).target if cluster else ""
            self.spec = w5_graph(tf, d, cluster, task)
            self.sess = tf.Session(target)
            if task == 0:
                self.sess.run(tf.global_variables_initializer())
            else:
                while self.sess.run(tf.report_uninitialized_variables()).size:
                    time.sleep(0.1)
            time_steps(self.sess, self.spec, warmup)

    def run(self, steps):
        with self.graph.as_default():
            return time_steps(self.sess, self.spec, steps)

    def latency(self, sizes_bytes, reps):
        """Median ms of a pull and of a push of a ps variable of each size."""
        tf, out = self.tf, {}
        with self.graph.as_default():
            for n in sizes_bytes:
                with tf.device("/job:ps/task:0"):
                    v = tf.Variable(np.zeros(n // 4, np.float32), name=f"lat{n}")
                p = tf.placeholder(tf.float32, [n // 4])
                push = v.assign_add(p).op
                self.sess.run(v.initializer)
                delta = np.ones(n // 4, np.float32)
                pulls, pushes = [], []
                for i in range(reps + 3):
                    t = time.perf_counter()
                    self.sess.run(v)
                    t1 = time.perf_counter()
                    self.sess.run(push, {p: delta})
                    t2 = time.perf_counter()
                    if i >= 3:
                        pulls.append(t1 - t)
                        pushes.append(t2 - t1)
                out[n] = (1e3 * statistics.median(pulls), 1e3 * statistics.median(pushes))
        return out


def single_process(steps, reps):
    import jitgraph as tf
    with tf.Graph().as_default():
        spec = w5_graph(tf, make_data("W5", sizes()))
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
        time_steps(sess, spec, 30)
        return [steps / time_steps(sess, spec, steps) for _ in range(reps)]


def cluster_config(ray, workers, ps, steps, reps, n):
    import jitgraph as tf
    spec = {"ps": [f"b{n}ps{i}:1" for i in range(ps)], "worker": [f"b{n}w{i}:1" for i in range(workers)]}
    servers = [tf.train.Server(tf.train.ClusterSpec(spec), "ps", i) for i in range(ps)] if ps else []
    cls = ray.remote(num_cpus=1)(Worker)
    actors = [cls.remote(spec if ps else None, 0, 30)]
    ray.get(actors[0].run.remote(0))                        # the chief has initialized
    actors += [cls.remote(spec, i, 30) for i in range(1, workers)]
    ray.get([a.run.remote(0) for a in actors])              # every worker warmed up
    rates = []
    for _ in range(reps):
        secs = ray.get([a.run.remote(steps) for a in actors])
        rates.append(sum(steps / s for s in secs))
    latency = ray.get(actors[0].latency.remote([1 << 10, 1 << 20, 16 << 20], 15)) if ps == 1 and workers == 1 else None
    for a in actors:
        ray.kill(a)
    for s in servers:
        s.stop()
    return rates, latency


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--json", default=None)
    a = p.parse_args(argv)
    import ray
    ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=200 << 20, log_to_driver=False,
             _node_ip_address="127.0.0.1")
    rows, latency = [], None
    rows.append(("single process (this process)", single_process(a.steps, a.reps)))
    rates, _ = cluster_config(ray, 1, 0, a.steps, a.reps, 0)
    rows.append(("single process (1-CPU actor)", rates))
    n = 1
    for workers in (1, 2):
        for ps in (1, 2):
            rates, lat = cluster_config(ray, workers, ps, a.steps, a.reps, n)
            n += 1
            rows.append((f"{workers} worker{'s' * (workers > 1)} x {ps} ps", rates))
            latency = latency or lat
    ray.shutdown()
    print(f"\nW5 steps/s (median of {a.reps} x {a.steps} steps per worker; range in brackets)\n")
    print("| configuration | steps/s | ms/step |\n|---|---|---|")
    for name, rates in rows:
        med = statistics.median(rates)
        print(f"| {name} | {med:.0f} [{min(rates):.0f}-{max(rates):.0f}] | {1e3 / med:.2f} |")
    print("\nPull / push latency from a worker (median of 15; ms, and ms per MB)\n")
    print("| size | pull ms | push ms | pull ms/MB | push ms/MB |\n|---|---|---|---|---|")
    for size, (pull, push) in latency.items():
        mb = size / (1 << 20)
        label = f"{size >> 10} KB" if size < (1 << 20) else f"{size >> 20} MB"
        print(f"| {label} | {pull:.2f} | {push:.2f} | {pull / mb:.2f} | {push / mb:.2f} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"steps_per_sec": {k: v for k, v in rows}, "latency_ms": {str(k): v for k, v in latency.items()},
                       "steps": a.steps, "reps": a.reps}, f, indent=1)


if __name__ == "__main__":
    main()
