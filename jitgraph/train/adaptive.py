"""Adaptive optimizers: Adam, RMSProp, Adagrad, Adadelta, FTRL (TF1's update rules, slot names and
defaults)."""

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

    ROW_SPARSE = True

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
        ms = self._assign(rms, _b("Add", _b("Mul", self._read(rms), decay),
                                     _b("Mul", _b("Mul", grad, grad), _b("Sub", one, decay))), name="ms")
        denom = ms
        if self._centered:
            mg = self.get_slot(var, "mg")
            mg_t = self._assign(mg, _b("Add", _b("Mul", self._read(mg), decay), _b("Mul", grad, _b("Sub", one, decay))),
                                name="mg")
            denom = _b("Sub", ms, _b("Mul", mg_t, mg_t))
        mom_t = self._assign(mom, _b("Add", _b("Mul", self._read(mom), momentum),
                                        _b("RealDiv", _b("Mul", lr, grad), _u("Sqrt", _b("Add", denom, eps)))),
                             name="mom")
        return self._assign(var, mom_t, "ApplyRMSProp", "AssignSub")


class AdagradOptimizer(Optimizer):
    """Adagrad: ``accum += g^2; var -= lr * g / sqrt(accum)``; slot ``accumulator`` (``<var>/Adagrad``)
    starts at ``initial_accumulator_value``."""

    ROW_SPARSE = True

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
        acc_t = self._assign(acc, _b("Mul", grad, grad), "accum", "AssignAdd")
        step = _b("RealDiv", _b("Mul", hyper(self._lr_t, var), grad), _u("Sqrt", acc_t))
        return self._assign(var, step, "ApplyAdagrad", "AssignSub")


class AdadeltaOptimizer(Optimizer):
    """Adadelta (Zeiler), TF1 form::

        accum = rho * accum + (1 - rho) * g^2
        update = sqrt(accum_update + epsilon) / sqrt(accum + epsilon) * g
        accum_update = rho * accum_update + (1 - rho) * update^2
        var -= lr * update

    Slots ``accum``/``accum_update`` are ``<var>/Adadelta``, ``<var>/Adadelta_1``."""

    ROW_SPARSE = True

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-8, use_locking=False, name="Adadelta"):
        super().__init__(use_locking, name)
        self._lr, self._rho, self._epsilon = learning_rate, rho, epsilon

    def _create_slots(self, var_list):
        for v in var_list:
            self._make_slot(v, "accum", 0, self._name)
            self._make_slot(v, "accum_update", 0, self._name + "_1")

    def _prepare(self):
        self._lr_t = self._hyper(self._lr, "lr")
        self._rho_t = self._hyper(self._rho, "rho")
        self._eps_t = self._hyper(self._epsilon, "epsilon")

    def _apply_dense(self, grad, var):
        accum, accum_update = self.get_slot(var, "accum"), self.get_slot(var, "accum_update")
        lr, rho, eps = hyper(self._lr_t, var), hyper(self._rho_t, var), hyper(self._eps_t, var)
        one_minus_rho = _b("Sub", math_ops.cast(1.0, var.dtype.base_dtype), rho)
        acc_t = self._assign(accum, _b("Add", _b("Mul", self._read(accum), rho),
                                          _b("Mul", _b("Mul", grad, grad), one_minus_rho)), name="accum")
        update = _b("Mul", _b("RealDiv", _u("Sqrt", _b("Add", self._read(accum_update), eps)),
                              _u("Sqrt", _b("Add", acc_t, eps))), grad)
        upd_t = self._assign(accum_update, _b("Add", _b("Mul", self._read(accum_update), rho),
                                                 _b("Mul", _b("Mul", update, update), one_minus_rho)),
                             name="accum_update")
        step = self._assign(var, _b("Mul", update, lr), "ApplyAdadelta", "AssignSub")
        return group(step, upd_t)


class FtrlOptimizer(Optimizer):
    """FTRL-Proximal (McMahan et al.), TF1 form (``ApplyFtrl``/``ApplyFtrlV2``), with
    ``p(a) = a^(-learning_rate_power)`` (``sqrt`` for the default -0.5)::

        new_accum = accum + g^2
        linear += g' - (p(new_accum) - p(accum)) / lr * var    (g' = g + 2 * l2_shrinkage * var)
        var = (l1 * sign(linear) - linear) / (p(new_accum) / lr + 2 * l2)  if |linear| > l1, else 0
        accum = new_accum

    where ``l2`` includes ``beta / (2 * lr)``. Slots ``accum`` (starts at
    ``initial_accumulator_value``) and ``linear`` are ``<var>/Ftrl``, ``<var>/Ftrl_1`` unless
    ``accum_name``/``linear_name`` are given."""

    ROW_SPARSE = True

    def __init__(self, learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0, use_locking=False, name="Ftrl",
                 accum_name=None, linear_name=None, l2_shrinkage_regularization_strength=0.0, beta=None):
        super().__init__(use_locking, name)
        for what, value, sign in (("initial_accumulator_value", initial_accumulator_value, 1),
                                  ("learning_rate_power", learning_rate_power, -1),
                                  ("l1_regularization_strength", l1_regularization_strength, 1),
                                  ("l2_regularization_strength", l2_regularization_strength, 1),
                                  ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength, 1)):
            if value * sign < 0.0:
                raise ValueError(f"{what} {value:f} needs to be {'positive' if sign > 0 else 'negative'} or zero")
        self._lr, self._power, self._init = learning_rate, learning_rate_power, initial_accumulator_value
        self._l1, self._l2, self._shrink = (l1_regularization_strength, l2_regularization_strength,
                                            l2_shrinkage_regularization_strength)
        self._beta = 0.0 if beta is None else beta
        self._accum_name, self._linear_name = accum_name, linear_name

    def _create_slots(self, var_list):
        for v in var_list:
            self._make_slot(v, "accum", self._init, self._accum_name or self._name)
            self._make_slot(v, "linear", 0, self._linear_name or self._name + "_1")

    def _prepare(self):
        self._lr_t = self._hyper(self._lr, "learning_rate")
        self._l1_t = self._hyper(self._l1, "l1_regularization_strength")
        if not self._beta:
            self._l2_t = self._hyper(self._l2, "l2_regularization_strength")
        elif isinstance(self._lr, (int, float)):        # as TF: l2 + beta / (2 lr) in Python floats
            self._l2_t = self._hyper(self._l2 + self._beta / (2.0 * self._lr), "l2_regularization_strength")
        else:
            self._l2_t = _b("Add", self._hyper(self._l2, "l2_regularization_strength"),
                            _b("RealDiv", self._hyper(self._beta, "beta"), _b("Mul", self._hyper(2.0, "two"), self._lr_t)))
        self._shrink_t = self._hyper(self._shrink, "l2_shrinkage_regularization_strength")
        self._power_t = self._hyper(self._power, "learning_rate_power")

    def _apply_dense(self, grad, var):
        accum, linear = self.get_slot(var, "accum"), self.get_slot(var, "linear")
        dt = var.dtype.base_dtype
        lr, l1, l2 = hyper(self._lr_t, var), hyper(self._l1_t, var), hyper(self._l2_t, var)
        two = math_ops.cast(2.0, dt)
        old = self._read(var)
        new_accum = _b("Add", self._read(accum), _b("Mul", grad, grad))
        if self._power == -0.5:
            p_new, p_old = _u("Sqrt", new_accum), _u("Sqrt", self._read(accum))
        else:
            neg_power = _u("Neg", hyper(self._power_t, var))
            p_new, p_old = _b("Pow", new_accum, neg_power), _b("Pow", self._read(accum), neg_power)
        g = grad if self._shrink <= 0.0 else _b("Add", grad, _b("Mul", _b("Mul", two, hyper(self._shrink_t, var)), old))
        lin_t = self._assign(linear, _b("Sub", _b("Add", self._read(linear), g),
                                           _b("Mul", _b("RealDiv", _b("Sub", p_new, p_old), lr), old)), name="linear")
        x = _b("Sub", _b("Mul", l1, _u("Sign", lin_t)), lin_t)
        y = _b("Add", _b("RealDiv", p_new, lr), _b("Mul", two, l2))
        new_var = math_ops.where(_b("Greater", _u("Abs", lin_t), l1), _b("RealDiv", x, y), _b("Mul", old, math_ops.cast(0.0, dt)))
        step = self._assign(var, new_var, "ApplyFtrl")
        acc_t = self._assign(accum, new_accum, "accum")
        return group(step, acc_t)
