"""Record TensorFlow 2.21's ``tf.compat.v1.train`` learning-rate schedules over a range of global
steps. Run with the TensorFlow venv from the repository root:

    python tests/oracle/record_schedules.py     # writes tests/oracle/data/schedules.json
"""

import json
import os

import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "schedules.json")
STEPS = [0, 1, 5, 10, 33, 99, 100, 101, 150, 250, 399, 1000]

# name -> (function, positional args after global_step, keyword args); learning rate first
CASES = {
    "exponential": ("exponential_decay", [0.1], dict(decay_steps=100, decay_rate=0.5)),
    "exponential_staircase": ("exponential_decay", [0.1], dict(decay_steps=100, decay_rate=0.5, staircase=True)),
    "natural_exp": ("natural_exp_decay", [0.1], dict(decay_steps=100, decay_rate=0.5)),
    "natural_exp_staircase": ("natural_exp_decay", [0.1], dict(decay_steps=100, decay_rate=0.5, staircase=True)),
    "inverse_time": ("inverse_time_decay", [0.1], dict(decay_steps=100, decay_rate=0.5)),
    "inverse_time_staircase": ("inverse_time_decay", [0.1], dict(decay_steps=100, decay_rate=0.5, staircase=True)),
    "polynomial": ("polynomial_decay", [0.1], dict(decay_steps=100, end_learning_rate=0.01, power=2.0)),
    "polynomial_cycle": ("polynomial_decay", [0.1], dict(decay_steps=100, end_learning_rate=0.01, power=0.5,
                                                        cycle=True)),
    "cosine": ("cosine_decay", [0.1], dict(decay_steps=100, alpha=0.1)),
    "cosine_restarts": ("cosine_decay_restarts", [0.1], dict(first_decay_steps=50)),
    "cosine_restarts_t1": ("cosine_decay_restarts", [0.1], dict(first_decay_steps=50, t_mul=1.0, m_mul=0.5,
                                                               alpha=0.05)),
    "linear_cosine": ("linear_cosine_decay", [0.1], dict(decay_steps=100, num_periods=2.0, alpha=0.1, beta=0.01)),
}


def main():
    rec = {"steps": STEPS}
    with tf.Graph().as_default():
        step = tf.placeholder(tf.int64, [])
        tensors = {k: getattr(tf.train, fn)(*args, global_step=step, **kw) for k, (fn, args, kw) in CASES.items()}
        tensors["piecewise"] = tf.train.piecewise_constant(step, [10, 100], [1.0, 0.5, 0.1])
        tensors["piecewise_int"] = tf.train.piecewise_constant(tf.cast(step, tf.int32), [5, 33], [3, 2, 1])
        with tf.Session() as s:
            for k, t in tensors.items():
                rec[k] = {"values": [s.run(t, {step: i}).item() for i in STEPS], "dtype": t.dtype.name}
    for k, (fn, args, kw) in CASES.items():
        rec[k]["call"] = [fn, args, kw]
    with open(OUT, "w") as f:
        json.dump(rec, f, indent=1)
    print(f"wrote {len(rec) - 1} schedules to {OUT}")


if __name__ == "__main__":
    main()
