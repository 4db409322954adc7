"""nnref.MLP: a multilayer perceptron on the generated activations and losses.

Arrays follow the notebook: X is (n_features, m), one example per column. For classification y is
a vector of m integer labels 0..K−1; for regression it is (n_outputs, m) (or (m,) for one output).
This is the column-layout core. ``nnref.MLPClassifier`` and ``nnref.MLPRegressor``
(``nnref.estimators``) wrap it for scikit-learn: rows are examples at their boundary, labels of
any type, and they transpose once, on the way in.

The output layer and the loss are fused where that is both proven and stabler: softmax with
cross-entropy is trained through ``softmax_cross_entropy`` on the logits (dZ = P − Y), and a
sigmoid output with binary cross-entropy through ``binary_cross_entropy_with_logits``
(dZ = A − Y); both identities are derived in derivations/fused.py. As everywhere in nnref, dZ is
the gradient of the *sum* of the per-example losses; the backward pass starts from the gradient of
the mean cost, ∂J/∂Z = (1/m) dZ, which is what a loss's ``grad`` returns, so the weight gradients
need no further 1/m.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nnref import activations as _activations
from nnref import losses as _losses
from nnref._arrays import as_real_array, real_number, whole_number

INITS = ("small", "xavier", "he")
OPTIMIZERS = ("gd", "sgd", "adam")
CLASSIFIER_LOSSES = ("softmax_cross_entropy", "binary_cross_entropy")

#: fit stops when the cost climbs above this multiple of its value before the first step: a
#: learning rate that overshoots drives the cost up by orders of magnitude (moons, gd, lr=1000:
#: from 0.69 to 1e31 within a few epochs), long before it overflows to NaN, if it ever does
#: (dead ReLUs can hold it at 1e3 for good). A cost that grows without bound crosses it too.
DIVERGENCE_FACTOR = 100.0


def _seed(seed):
    """None, a whole number ≥ 0, or a numpy.random.Generator (drawn from, so fits differ)."""
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    try:
        return whole_number(seed, "seed", minimum=0)
    except TypeError:
        raise TypeError(f"seed must be None, a whole number ≥ 0 or a numpy.random.Generator, got {seed!r}") from None


class MLP:
    """A fully connected network: ``layers = [n_inputs, hidden..., n_outputs]``.

    Args:
        layers: sizes of every layer, input first (whole numbers ≥ 1).
        activation: the hidden layers' activation, one for all or one per hidden layer: a registry
            name, ``nnref.activations.get(name, **params)``, or ``nnref.custom.activation(formula)``.
        loss: "softmax_cross_entropy" (several classes, one output unit each),
            "binary_cross_entropy" (two classes, one sigmoid output, the notebook's), or a
            regression loss ("mse", "mae", "huber").
        init: "small" (the notebook's randn × 0.01), "xavier" (variance 1/n_in: keeps the
            variance of tanh/sigmoid pre-activations), or "he" (variance 2/n_in: ReLU halves it).
        optimizer: "gd" (full batch, the notebook's), "sgd" (mini-batch with momentum), "adam".
        lr: learning rate (> 0).
        momentum: SGD's momentum, 0 ≤ momentum < 1.
        beta1: Adam's first-moment decay, 0 ≤ beta1 < 1.
        beta2: Adam's second-moment decay, 0 ≤ beta2 < 1.
        eps: Adam's denominator guard (> 0).
        weight_decay: L2 penalty λ ≥ 0: the cost gains (λ/2m)·Σ‖W‖².
        epochs: passes over the training set (a whole number ≥ 1).
        batch_size: mini-batch size (ignored by "gd", which uses the whole set).
        seed: None, a whole number ≥ 0 (initialisation and shuffling reproducible bit for bit), or
            a ``numpy.random.Generator`` to draw from.
        warm_start: a second ``fit`` continues from the current parameters and extends
            ``history``; by default it starts again from the initial parameters.

    Every setting is checked here, before any work: a bad one raises TypeError or ValueError
    naming it and what was expected. Numbers may be Python or NumPy scalars.

    The parameters exist from construction (``params``, drawn as ``initialize_parameters_deep``
    does), so ``cost`` and ``gradients`` can be checked before training. ``history`` holds the
    training cost after each epoch, ``val_history`` the held-out cost when ``fit`` is given
    ``validation``; both are saved by ``save``.
    """

    def __init__(
        self,
        layers: Sequence[int],
        activation="relu",
        loss: str = "softmax_cross_entropy",
        init: str = "he",
        optimizer: str = "adam",
        lr: float = 1e-3,
        momentum: float = 0.9,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        epochs: int = 100,
        batch_size: int = 32,
        seed: int | np.random.Generator | None = 0,
        warm_start: bool = False,
    ):
        if isinstance(layers, (str, bytes)) or not isinstance(layers, (Sequence, np.ndarray)):
            raise TypeError(f"layers must be a list of sizes, input first, e.g. [2, 16, 2]; got {layers!r}")
        layers = [whole_number(n, f"layers[{i}]") for i, n in enumerate(layers)]
        if len(layers) < 2:
            raise ValueError(f"layers must list at least two sizes, input first and output last; got {layers}")
        hidden = len(layers) - 2
        if isinstance(activation, str) or not isinstance(activation, (Sequence, np.ndarray)):
            acts = [activation] * hidden
        else:
            acts = list(activation)
        if len(acts) != hidden:
            raise ValueError(f"activation lists {len(acts)} activations for {hidden} hidden layers")
        units = [
            _activations.resolve(a, f"activation[{i}]" if hidden > 1 else "activation") for i, a in enumerate(acts)
        ]
        if not isinstance(loss, str) or loss not in _losses.names():
            raise ValueError(f"unknown loss {loss!r}; known losses: {', '.join(_losses.names())}")
        if loss in ("categorical_cross_entropy", "hinge", "binary_cross_entropy_with_logits"):
            raise ValueError(
                f"loss {loss!r} is not an MLP output: use 'softmax_cross_entropy' for classes, "
                "'binary_cross_entropy' for two classes, or a regression loss"
            )
        if loss == "binary_cross_entropy" and layers[-1] != 1:
            raise ValueError(f"loss='binary_cross_entropy' needs one output unit (layers[-1] = 1), got {layers[-1]}")
        if loss == "softmax_cross_entropy" and layers[-1] < 2:
            raise ValueError(
                f"loss='softmax_cross_entropy' needs one output unit per class (layers[-1] ≥ 2), got {layers[-1]}; "
                "for two classes with one sigmoid output use loss='binary_cross_entropy'"
            )
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}; got {init!r}")
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {optimizer!r}")
        if not isinstance(warm_start, (bool, np.bool_)):
            raise TypeError(f"warm_start must be True or False, got {warm_start!r}")
        self.layers, self.activations, self._units, self.loss = layers, acts, units, loss
        self.init, self.optimizer = init, optimizer
        self.lr = real_number(lr, "lr", low=0, low_open=True)
        self.momentum = real_number(momentum, "momentum", low=0, high=1)
        self.beta1 = real_number(beta1, "beta1", low=0, high=1)
        self.beta2 = real_number(beta2, "beta2", low=0, high=1)
        self.eps = real_number(eps, "eps", low=0, low_open=True)
        self.weight_decay = real_number(weight_decay, "weight_decay", low=0)
        self.epochs = whole_number(epochs, "epochs")
        self.batch_size = whole_number(batch_size, "batch_size")
        self.seed = _seed(seed)
        self.warm_start = bool(warm_start)
        self.history: list[float] = []
        self.val_history: list[float] = []
        self.params = self._initial_parameters()

    # ---- parameters ----------------------------------------------------------------------------
    def _initial_parameters(self) -> dict[str, np.ndarray]:
        rng = self.seed if isinstance(self.seed, np.random.Generator) else np.random.default_rng(self.seed)
        params = {}
        for l in range(1, len(self.layers)):
            n_in, n_out = self.layers[l - 1], self.layers[l]
            scale = {"small": 0.01, "xavier": math.sqrt(1.0 / n_in), "he": math.sqrt(2.0 / n_in)}[self.init]
            params[f"W{l}"] = rng.standard_normal((n_out, n_in)) * scale
            params[f"b{l}"] = np.zeros((n_out, 1))
        return params

    @property
    def n_parameters(self) -> int:
        return sum(p.size for p in self.params.values())

    @property
    def is_classifier(self) -> bool:
        return self.loss in CLASSIFIER_LOSSES

    # ---- data ----------------------------------------------------------------------------------
    def _check_X(self, X) -> np.ndarray:
        X = as_real_array(X, "X").astype(np.float64, copy=False)
        if X.ndim != 2 or X.shape[0] != self.layers[0]:
            raise ValueError(f"X must be (n_features={self.layers[0]}, m): one example per column; got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X must be finite; it has NaN or inf entries")
        return X

    def _targets(self, y, m: int) -> np.ndarray:
        """y as the output layer's target array (n_out, m)."""
        y = np.asarray(y)
        n_out = self.layers[-1]
        if self.is_classifier:
            if y.ndim != 1 or y.shape[0] != m:
                raise ValueError(f"y must be a vector of {m} class labels (one per column of X), got shape {y.shape}")
            if y.dtype.kind not in "iub" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
                raise ValueError(f"y must hold integer class labels, got dtype {y.dtype}")
            labels = y.astype(int)
            n_classes = 2 if self.loss == "binary_cross_entropy" else n_out
            if m and (labels.min() < 0 or labels.max() >= n_classes):
                raise ValueError(
                    f"y has labels {labels.min()}..{labels.max()} but the output layer has {n_classes} classes "
                    f"(labels must be 0..{n_classes - 1}, or use nnref.MLPClassifier for labels of any type)"
                )
            if self.loss == "binary_cross_entropy":
                return labels.reshape(1, m).astype(np.float64)
            return np.eye(n_out)[:, labels]
        Y = (
            as_real_array(y, "y").astype(np.float64, copy=False).reshape(n_out, -1)
            if y.ndim == 1
            else as_real_array(y, "y")
        )
        if Y.shape != (n_out, m):
            raise ValueError(f"y must have shape ({n_out}, {m}) for this network, got {np.shape(y)}")
        if not np.all(np.isfinite(Y)):
            raise ValueError("y must be finite; it has NaN or inf entries")
        return Y

    # ---- forward and backward --------------------------------------------------------------------
    def _forward(self, X: np.ndarray, params=None):
        params = self.params if params is None else params
        A, cache = X, []
        L = len(self.layers) - 1
        for l in range(1, L + 1):
            Z = params[f"W{l}"] @ A + params[f"b{l}"]
            cache.append((A, Z))
            A = self._units[l - 1].f(Z) if l < L else Z
        return A, cache  # A: the output layer's pre-activation (logits for the classifiers)

    def _cost_loss(self):
        return {"binary_cross_entropy": "binary_cross_entropy_with_logits"}.get(self.loss, self.loss)

    def cost(self, X, y, params=None) -> float:
        """The training objective at the given parameters: mean loss plus the L2 penalty."""
        X = self._check_X(X)
        Y = self._targets(y, X.shape[1])
        return self._cost(X, Y, params)

    def _cost(self, X, Y, params=None) -> float:
        params = self.params if params is None else params
        out, _ = self._forward(X, params)
        return self._cost_of(out, Y, params)

    def _cost_of(self, out, Y, params) -> float:
        """The objective from a forward pass's output (so fit needs no second forward pass)."""
        value = _losses.get(self._cost_loss()).value(out, Y)
        if self.weight_decay:
            m = out.shape[1]
            value += self.weight_decay / (2 * m) * sum(float(np.sum(params[k] ** 2)) for k in params if k[0] == "W")
        return value

    def gradients(self, X, y, params=None) -> dict[str, np.ndarray]:
        """∂cost/∂W{l} and ∂cost/∂b{l} by backpropagation (the identities of derivations/backprop.py)."""
        X = self._check_X(X)
        return self._gradients(X, self._targets(y, X.shape[1]), params)

    def _gradients(self, X, Y, params=None) -> dict[str, np.ndarray]:
        params = self.params if params is None else params
        out, cache = self._forward(X, params)
        return self._backward(out, cache, Y, params)

    def _backward(self, out, cache, Y, params) -> dict[str, np.ndarray]:
        """Backpropagation from a forward pass's output and cache (so fit runs the forward once)."""
        # ∂J/∂Z, the gradient of the mean cost: (1/m) dZ, so dW and db below take no 1/m.
        dJ_dZ = _losses.get(self._cost_loss()).grad(out, Y)
        grads = {}
        m = out.shape[1]
        for l in range(len(self.layers) - 1, 0, -1):
            A_prev, _ = cache[l - 1]
            grads[f"W{l}"] = dJ_dZ @ A_prev.T
            if self.weight_decay:
                grads[f"W{l}"] += (self.weight_decay / m) * params[f"W{l}"]
            grads[f"b{l}"] = np.sum(dJ_dZ, axis=1, keepdims=True)
            if l > 1:
                dJ_dA = params[f"W{l}"].T @ dJ_dZ
                unit = self._units[l - 2]
                # A registry activation writes g ⊙ f'(Z) over ∂J/∂A, a fresh array: one array-sized
                # temporary fewer per layer.
                owned = isinstance(unit, _activations.Activation)
                Z = cache[l - 2][1]
                dJ_dZ = unit.vjp(Z, dJ_dA, out=dJ_dA) if owned else unit.vjp(Z, dJ_dA)
        return grads

    # ---- training --------------------------------------------------------------------------------
    def fit(self, X, y, progress=None, validation=None) -> MLP:
        """Train; returns self.

        Args:
            X: the training examples, (n_features, m).
            y: their labels or targets, as for ``cost``.
            progress: called as ``progress(epoch, cost)`` after every epoch.
            validation: a held-out set ``(X_val, y_val)``; its cost (the mean loss, no penalty)
                goes to ``val_history`` after every epoch.

        Unless ``warm_start``, training starts again from the initial parameters and an empty
        history. Raises FloatingPointError, with the epoch and advice, when training diverges:
        the cost overflows, or climbs above DIVERGENCE_FACTOR × its value before the first step
        (and above 1). Warns (RuntimeWarning) when it ends above its starting value.
        """
        X = self._check_X(X)
        Y = self._targets(y, X.shape[1])
        if validation is not None:
            if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
                raise TypeError(f"validation must be a pair (X_val, y_val), got {type(validation).__name__}")
            X_val = self._check_X(validation[0])
            Y_val = self._targets(validation[1], X_val.shape[1])
        if progress is not None and not callable(progress):
            raise TypeError(f"progress must be a function progress(epoch, cost), got {progress!r}")
        if not self.warm_start:
            self.params = self._initial_parameters()
            self.history, self.val_history = [], []
        m = X.shape[1]
        if isinstance(self.seed, np.random.Generator):
            rng = self.seed
        else:
            rng = np.random.default_rng(None if self.seed is None else self.seed + 1)
        self.params = {k: np.array(v, dtype=np.float64) for k, v in self.params.items()}  # updated in place below
        state = {k: np.zeros_like(v) for k, v in self.params.items()}
        state2 = {k: np.zeros_like(v) for k, v in self.params.items()}
        with np.errstate(all="ignore"):
            start = self._cost(X, Y)
        step = 0
        for epoch in range(1, self.epochs + 1):
            # --8<-- [start:mini_batches]
            if self.optimizer == "gd":
                batches = [np.arange(m)]
            else:
                order = rng.permutation(m)
                batches = [order[i : i + self.batch_size] for i in range(0, m, self.batch_size)]
            # --8<-- [end:mini_batches]
            for idx in batches:
                Xb, Yb = (X, Y) if len(batches) == 1 else (X[:, idx], Y[:, idx])  # full batch: no copy
                with np.errstate(over="ignore", invalid="ignore"):
                    out, cache = self._forward(Xb)
                if not np.all(np.isfinite(out)):
                    self._diverged(epoch, float("nan"), start)
                grads = self._backward(out, cache, Yb, self.params)
                step += 1
                # In place: the arrays were copied when fit began, so nobody else holds them.
                # --8<-- [start:updates]
                for k, g in grads.items():
                    if self.optimizer == "adam":
                        state[k] = self.beta1 * state[k] + (1 - self.beta1) * g
                        state2[k] = self.beta2 * state2[k] + (1 - self.beta2) * g * g
                        m_hat = state[k] / (1 - self.beta1**step)
                        v_hat = state2[k] / (1 - self.beta2**step)
                        self.params[k] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
                    elif self.optimizer == "sgd":
                        state[k] = self.momentum * state[k] - self.lr * g
                        self.params[k] += state[k]
                    else:
                        self.params[k] -= self.lr * g
                # --8<-- [end:updates]
            with np.errstate(all="ignore"):
                out, _ = self._forward(X)
                loss = self._cost_of(out, Y, self.params) if np.all(np.isfinite(out)) else float("inf")
            if not math.isfinite(loss) or not all(np.all(np.isfinite(p)) for p in self.params.values()):
                self._diverged(epoch, loss, start)
            if loss > max(DIVERGENCE_FACTOR * start, 1.0):  # (a near-zero start is no yardstick)
                self._diverged(epoch, loss, start)
            self.history.append(loss)
            if validation is not None:
                with np.errstate(all="ignore"):
                    out_val, _ = self._forward(X_val)
                    self.val_history.append(_losses.get(self._cost_loss()).value(out_val, Y_val))
            if progress is not None:
                progress(epoch, loss)
        if self.history and self.history[-1] > start:
            warnings.warn(
                f"training ended with a higher cost than it started with ({self.history[-1]:.3g} > {start:.3g}): "
                f"the steps overshoot; try a smaller learning rate than lr={self.lr:g}",
                RuntimeWarning,
                stacklevel=2,
            )
        return self

    def _diverged(self, epoch: int, loss: float, start: float):
        if math.isfinite(loss):
            what = f"the cost rose to {loss:.3g}, more than {DIVERGENCE_FACTOR:g} × its starting value {start:.3g}"
        else:
            what = f"the cost became {loss} (the outputs overflowed)"
        raise FloatingPointError(
            f"training diverged at epoch {epoch}: {what}. The steps overshoot: try a smaller learning rate "
            f"than lr={self.lr:g} (e.g. lr={self.lr / 10:g})"
            + (", or optimizer='adam', which scales its steps" if self.optimizer != "adam" else "")
        )

    # ---- prediction ------------------------------------------------------------------------------
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, (n_classes, m): softmax of the logits, or (1 − σ, σ) for two classes."""
        if not self.is_classifier:
            raise TypeError(f"predict_proba needs a classifier; this network's loss is {self.loss!r}")
        out, _ = self._forward(self._check_X(X))
        if self.loss == "binary_cross_entropy":
            p = _activations.get("sigmoid").f(out)
            return np.vstack([1 - p, p])
        return _activations.get("softmax").f(out)

    def predict(self, X) -> np.ndarray:
        """Class labels (m,) for a classifier; the outputs (n_out, m) for regression."""
        if self.is_classifier:
            return np.argmax(self.predict_proba(X), axis=0)
        out, _ = self._forward(self._check_X(X))
        return out

    def score(self, X, y) -> float:
        """Accuracy for a classifier; R² for regression."""
        X = self._check_X(X)
        if self.is_classifier:
            Y = self._targets(y, X.shape[1])  # validates the labels
            labels = np.argmax(Y, axis=0) if self.loss != "binary_cross_entropy" else Y[0].astype(int)
            return float(np.mean(self.predict(X) == labels))
        Y = self._targets(y, X.shape[1])
        residual = np.sum((self.predict(X) - Y) ** 2)
        total = np.sum((Y - Y.mean(axis=1, keepdims=True)) ** 2)
        return float(1 - residual / total) if total > 0 else 0.0

    # ---- persistence -----------------------------------------------------------------------------
    def config(self) -> dict:
        """The constructor's arguments as JSON-ready values (``MLP(**config())`` rebuilds the network).

        An activation object is described by its registry name and parameters, or by the formula a
        custom one was derived from; a Generator seed is saved as None.
        """
        return {
            "layers": list(self.layers),
            "activation": [_describe(a) for a in self.activations],
            "loss": self.loss,
            "init": self.init,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "momentum": self.momentum,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "seed": None if isinstance(self.seed, np.random.Generator) else self.seed,
            "warm_start": self.warm_start,
        }

    def save(self, path, overwrite: bool = False) -> Path:
        """Write the parameters, the configuration and the history to an .npz file (never
        overwrites unless asked)."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        history = {"history": np.array(self.history, dtype=np.float64)}
        history["val_history"] = np.array(self.val_history, dtype=np.float64)
        np.savez(path, config=json.dumps(self.config()), **history, **self.params)
        return path

    @classmethod
    def load(cls, path) -> MLP:
        """A network saved by ``save``, with its history."""
        with np.load(Path(path), allow_pickle=False) as data:
            cfg = json.loads(str(data["config"]))
            cfg["activation"] = [_rebuild(a) for a in cfg.pop("activation", cfg.pop("activations", []))]
            model = cls(**cfg)
            for key in model.params:
                if data[key].shape != model.params[key].shape:
                    raise ValueError(
                        f"{path}: parameter {key} has shape {data[key].shape}, expected {model.params[key].shape}"
                    )
                model.params[key] = data[key].copy()
            for key in ("history", "val_history"):
                if key in data:
                    setattr(model, key, [float(v) for v in data[key]])
        return model


def _describe(activation):
    """An activation as JSON: its registry name, or a dict with its parameters or formula."""
    if isinstance(activation, str):
        return activation
    report = getattr(activation, "report", None)
    if report is not None:
        return {"formula": report.formula, "name": activation.name, "params": dict(activation.params)}
    return {"name": activation.name, "params": dict(activation.params)}


def _rebuild(described):
    if isinstance(described, str):
        return described
    if "formula" in described:
        from nnref.custom import activation  # SymPy: only a custom activation needs the pipeline again

        return activation(described["formula"], name=described["name"], verify=False, **described["params"])
    return _activations.get(described["name"], **described["params"])
