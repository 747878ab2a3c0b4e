"""Adaptive optimizers: Adam, RMSProp, Adagrad (TF1's update rules, slot names and defaults)."""

from jitgraph.ops import math_ops, state_ops
from jitgraph.ops.control_ops import group
from jitgraph.train.optimizers import Optimizer, hyper

_b = math_ops.binary
_u = math_ops.unary


class AdamOptimizer(Optimizer):
    """Adam (Kingma & Ba), TF1 form::

        lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
        var -= lr_t * m / (sqrt(v) + epsilon)

    Slots ``m``/``v`` are ``<var>/Adam``, ``<var>/Adam_1``; ``beta1_power``/``beta2_power`` are
    non-slot variables updated after every variable's update."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, use_locking=False, name="Adam"):
        super().__init__(use_locking, name)
        self._lr, self._beta1, self._beta2, self._epsilon = learning_rate, beta1, beta2, epsilon

    def _create_slots(self, var_list):
        first = min(var_list, key=lambda v: v.name)
        self._b1p = self._make_non_slot("beta1_power", self._beta1, first)
        self._b2p = self._make_non_slot("beta2_power", self._beta2, first)
        for v in var_list:
            self._make_slot(v, "m", 0, self._name)
            self._make_slot(v, "v", 0, self._name + "_1")

    def _prepare(self):
        self._lr_t = self._hyper(self._lr, "learning_rate")
        self._beta1_t = self._hyper(self._beta1, "beta1")
        self._beta2_t = self._hyper(self._beta2, "beta2")
        self._eps_t = self._hyper(self._epsilon, "epsilon")

    def _apply_dense(self, grad, var):
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        b1, b2 = hyper(self._beta1_t, var), hyper(self._beta2_t, var)
        lr, eps = hyper(self._lr_t, var), hyper(self._eps_t, var)
        b1p, b2p = math_ops.cast(self._b1p._ref(), var.dtype.base_dtype), math_ops.cast(self._b2p._ref(),
                                                                                         var.dtype.base_dtype)
        one = math_ops.cast(1.0, var.dtype.base_dtype)
        lr_t = _b("RealDiv", _b("Mul", lr, _u("Sqrt", _b("Sub", one, b2p))), _b("Sub", one, b1p))
        m_t = state_ops.assign(m, _b("Add", _b("Mul", m._ref(), b1), _b("Mul", grad, _b("Sub", one, b1))), name="m")
        v_t = state_ops.assign(v, _b("Add", _b("Mul", v._ref(), b2),
                                     _b("Mul", _b("Mul", grad, grad), _b("Sub", one, b2))), name="v")
        step = _b("RealDiv", _b("Mul", lr_t, m_t), _b("Add", _u("Sqrt", v_t), eps))
        return state_ops.assign_sub(var, step, use_locking=self._use_locking, name="ApplyAdam")

    def _finish(self, update_ops, name):
        graph = self._b1p.graph
        with graph.control_dependencies(update_ops):
            u1 = state_ops.assign(self._b1p, _b("Mul", self._b1p._ref(), hyper(self._beta1_t, self._b1p)),
                                  use_locking=self._use_locking, name="update_beta1")
            u2 = state_ops.assign(self._b2p, _b("Mul", self._b2p._ref(), hyper(self._beta2_t, self._b2p)),
                                  use_locking=self._use_locking, name="update_beta2")
        return group(*update_ops, u1, u2, name=name)


class RMSPropOptimizer(Optimizer):
    """RMSProp, TF1 form: ``ms = decay * ms + (1 - decay) * g^2``; ``mom = momentum * mom + lr * g /
    sqrt(ms + eps)`` (centered: ``sqrt(ms - mg^2 + eps)``); ``var -= mom``. Slots ``rms`` (starts at
    1, ``<var>/RMSProp``), ``mg`` if centered, ``momentum``."""

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, use_locking=False, centered=False,
                 name="RMSProp"):
        super().__init__(use_locking, name)
        self._lr, self._decay, self._momentum, self._epsilon, self._centered = (
            learning_rate, decay, momentum, epsilon, centered)

    def _create_slots(self, var_list):
        for v in var_list:
            names = ["rms"] + (["mg"] if self._centered else []) + ["momentum"]
            for i, slot in enumerate(names):
                self._make_slot(v, slot, 1.0 if slot == "rms" else 0, self._name + (f"_{i}" if i else ""))

    def _prepare(self):
        self._lr_t = self._hyper(self._lr, "learning_rate")
        self._decay_t = self._hyper(self._decay, "decay")
        self._mom_t = self._hyper(self._momentum, "momentum")
        self._eps_t = self._hyper(self._epsilon, "epsilon")

    def _apply_dense(self, grad, var):
        rms, mom = self.get_slot(var, "rms"), self.get_slot(var, "momentum")
        lr, decay = hyper(self._lr_t, var), hyper(self._decay_t, var)
        momentum, eps = hyper(self._mom_t, var), hyper(self._eps_t, var)
        one = math_ops.cast(1.0, var.dtype.base_dtype)
        ms = state_ops.assign(rms, _b("Add", _b("Mul", rms._ref(), decay),
                                      _b("Mul", _b("Mul", grad, grad), _b("Sub", one, decay))), name="ms")
        denom = ms
        if self._centered:
            mg = self.get_slot(var, "mg")
            mg_t = state_ops.assign(mg, _b("Add", _b("Mul", mg._ref(), decay), _b("Mul", grad, _b("Sub", one, decay))),
                                    name="mg")
            denom = _b("Sub", ms, _b("Mul", mg_t, mg_t))
        mom_t = state_ops.assign(mom, _b("Add", _b("Mul", mom._ref(), momentum),
                                         _b("RealDiv", _b("Mul", lr, grad), _u("Sqrt", _b("Add", denom, eps)))),
                                 name="mom")
        return state_ops.assign_sub(var, mom_t, use_locking=self._use_locking, name="ApplyRMSProp")


class AdagradOptimizer(Optimizer):
    """Adagrad: ``accum += g^2; var -= lr * g / sqrt(accum)``; slot ``accumulator`` (``<var>/Adagrad``)
    starts at ``initial_accumulator_value``."""

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False, name="Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: {initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._lr, self._init = learning_rate, initial_accumulator_value

    def _create_slots(self, var_list):
        for v in var_list:
            self._make_slot(v, "accumulator", self._init)

    def _prepare(self):
        self._lr_t = self._hyper(self._lr, "learning_rate")

    def _apply_dense(self, grad, var):
        acc = self.get_slot(var, "accumulator")
        acc_t = state_ops.assign_add(acc, _b("Mul", grad, grad), name="accum")
        step = _b("RealDiv", _b("Mul", hyper(self._lr_t, var), grad), _u("Sqrt", acc_t))
        return state_ops.assign_sub(var, step, use_locking=self._use_locking, name="ApplyAdagrad")
