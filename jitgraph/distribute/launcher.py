"""``python -m jitgraph.distribute --ps 2 --workers 2 trainer.py [args]``: a whole cluster on one machine.

Starts (unless ``RAY_ADDRESS`` names one) a Ray cluster on loopback in this process, then the ps
tasks and the workers, each as the TF1 distributed guide starts them::

    python trainer.py [args] --ps_hosts=localhost:2222,... --worker_hosts=localhost:2224,...
                             --job_name=ps|worker --task_index=K

(``--no-hosts-flags`` leaves out the two host lists; ``TF_CONFIG`` is set either way). Every child
joins the same Ray cluster and namespace. Output lines are prefixed with the task (``[worker 1]``);
every ``--progress-secs`` one line per worker reports its runs and last global step (from
``MonitoredTrainingSession``). A worker that fails is restarted up to ``--max-restarts`` times
(``JITGRAPH_TASK_ATTEMPT`` tells it which attempt it is); past that the launcher stops everything
and exits with status 1. When every worker has finished, the ps tasks are stopped and it exits 0.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from jitgraph.distribute.progress import read_progress


def _parse(argv):
    p = argparse.ArgumentParser(prog="python -m jitgraph.distribute", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ps", type=int, default=1, help="parameter-server tasks (default 1)")
    p.add_argument("--workers", type=int, default=1, help="worker tasks (default 1)")
    p.add_argument("--max-restarts", type=int, default=0, help="restarts allowed per task (default 0)")
    p.add_argument("--progress-secs", type=float, default=5.0, help="seconds between progress lines (default 5)")
    p.add_argument("--timeout", type=float, default=None, help="stop everything after this many seconds")
    p.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local Ray cluster (default: all)")
    p.add_argument("--port-base", type=int, default=2222, help="first port of the task addresses (names only)")
    p.add_argument("--no-hosts-flags", action="store_true", help="do not pass --ps_hosts/--worker_hosts")
    p.add_argument("script", help="the trainer script")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the trainer")
    a = p.parse_args(argv)
    if a.ps < 0 or a.workers < 1:
        p.error("need --workers >= 1 and --ps >= 0")
    return a


class _Task:
    def __init__(self, job, index, cmd, env, progress):
        self.job, self.index, self.cmd, self.env, self.progress = job, index, cmd, env, progress
        self.proc, self.attempt, self.code, self.started = None, 0, None, None

    label = property(lambda self: f"{self.job} {self.index}")

    def start(self, out_lock):
        env = dict(self.env, JITGRAPH_TASK_ATTEMPT=str(self.attempt))
        if self.progress:
            env["JITGRAPH_PROGRESS_FILE"] = self.progress
            if os.path.exists(self.progress):   # a restarted task reports afresh
                os.unlink(self.progress)
        self.proc = subprocess.Popen(self.cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True, text=True, bufsize=1)
        self.started, self.code = time.monotonic(), None
        threading.Thread(target=_pump, args=(self.proc, f"[{self.label}] ", out_lock), daemon=True).start()

    def stop(self, sig=signal.SIGTERM):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)   # its own session: the child and what it started
            except ProcessLookupError:
                pass


def _pump(proc, prefix, lock):
    for line in proc.stdout:
        with lock:
            sys.stdout.write(prefix + line)
            sys.stdout.flush()


def _say(lock, text):
    with lock:
        print(f"[launcher] {text}", flush=True)


def _start_ray(num_cpus):
    """A local Ray cluster on loopback owned by this process; returns its address."""
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")   # Ray's single-node switch: 127.0.0.1
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    from jitgraph.distribute.ray_backend import import_ray
    ray = import_ray()
    ray.init(address="local", num_cpus=num_cpus or os.cpu_count(), include_dashboard=False, log_to_driver=False,
             _node_ip_address="127.0.0.1")
    return ray, ray.get_runtime_context().gcs_address


def main(argv=None):
    a = _parse(sys.argv[1:] if argv is None else argv)
    out_lock = threading.Lock()
    ray, address = None, os.environ.get("RAY_ADDRESS")
    if not address:
        ray, address = _start_ray(a.num_cpus)
        _say(out_lock, f"started a local Ray cluster at {address}")
    env = dict(os.environ, RAY_ADDRESS=address)
    import jitgraph
    root = os.path.dirname(os.path.dirname(os.path.abspath(jitgraph.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    env["JITGRAPH_RAY_NAMESPACE"] = f"jitgraph-launch-{uuid.uuid4().hex[:12]}"
    hosts = {"ps": [f"localhost:{a.port_base + i}" for i in range(a.ps)],
             "worker": [f"localhost:{a.port_base + a.ps + i}" for i in range(a.workers)]}
    progress_dir = tempfile.mkdtemp(prefix="jitgraph-progress-")
    tasks = []
    for job, n in (("ps", a.ps), ("worker", a.workers)):
        for i in range(n):
            flags = [] if a.no_hosts_flags else [f"--ps_hosts={','.join(hosts['ps'])}",
                                                 f"--worker_hosts={','.join(hosts['worker'])}"]
            cmd = [sys.executable, a.script, *a.args, *flags, f"--job_name={job}", f"--task_index={i}"]
            task_env = dict(env, TF_CONFIG=json.dumps({"cluster": hosts, "task": {"type": job, "index": i}}))
            progress = os.path.join(progress_dir, f"worker{i}.json") if job == "worker" else None
            tasks.append(_Task(job, i, cmd, task_env, progress))
    code = 1
    try:
        code = _supervise(a, tasks, out_lock)
    except KeyboardInterrupt:
        _say(out_lock, "interrupted: stopping every task")
        code = 130
    finally:
        for t in tasks:
            t.stop()
        deadline = time.monotonic() + 10
        for t in tasks:
            if t.proc is not None:
                try:
                    t.proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    t.stop(signal.SIGKILL)
                    t.proc.wait()
        if ray is not None:
            ray.shutdown()
    return code


def _supervise(a, tasks, out_lock):
    for t in tasks:
        t.start(out_lock)
    workers = [t for t in tasks if t.job == "worker"]
    start, next_report = time.monotonic(), time.monotonic() + a.progress_secs
    while True:
        for t in tasks:
            if t.code is not None or t.proc.poll() is None:
                continue
            t.code = t.proc.returncode
            if t.job == "worker" and t.code == 0:
                _say(out_lock, f"worker {t.index}: finished in {time.monotonic() - t.started:.1f} s, "
                               f"{_progress_text(t)}")
                continue
            why = f"exited with status {t.code}" if t.code >= 0 else f"killed by signal {-t.code}"
            if t.attempt < a.max_restarts:
                t.attempt += 1
                _say(out_lock, f"{t.label} {why}: restarting it (attempt {t.attempt} of {a.max_restarts})")
                t.start(out_lock)
                continue
            _say(out_lock, f"{t.label} {why}; no restarts left: stopping every task")
            return 1
        if all(t.code == 0 for t in workers):
            _say(out_lock, f"all {len(workers)} workers finished in {time.monotonic() - start:.1f} s")
            return 0
        now = time.monotonic()
        if a.timeout is not None and now - start > a.timeout:
            _say(out_lock, f"timeout after {a.timeout:g} s: stopping every task")
            return 124
        if now >= next_report:
            next_report = now + a.progress_secs
            for t in workers:
                if t.code is None:
                    _say(out_lock, f"worker {t.index}: {_progress_text(t)}")
        time.sleep(0.1)


def _progress_text(task):
    p = read_progress(task.progress) if task.progress else None
    if p is None:
        return "starting"
    gs = "" if p.get("global_step") is None else f", global step {p['global_step']}"
    return f"{p.get('state', 'running')}, {p.get('runs', 0)} runs{gs}"
