"""nnref.MLP: a multilayer perceptron on the generated activations and losses.

Arrays follow the notebook: X is (n_features, m), one example per column. For classification y is
a vector of m integer labels; for regression it is (n_outputs, m) (or (m,) for one output).

The output layer and the loss are fused where that is both proven and stabler: softmax with
cross-entropy is trained through ``softmax_cross_entropy`` on the logits (dZ = (p − y)/m), and a
sigmoid output with binary cross-entropy through ``binary_cross_entropy_with_logits``
(dZ = (a − y)/m); both identities are derived in derivations/losses.py.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nnref import activations as _activations
from nnref import losses as _losses
from nnref._arrays import as_real_array

INITS = ("small", "xavier", "he")
OPTIMIZERS = ("gd", "sgd", "adam")


class MLP:
    """A fully connected network: ``layers = [n_inputs, hidden..., n_outputs]``.

    Args:
        layers: sizes of every layer, input first.
        activation: one registry name for all hidden layers, or one per hidden layer.
        loss: "softmax_cross_entropy" (several classes), "binary_cross_entropy" (two classes, one
            sigmoid output, the notebook's), or a regression loss ("mse", "mae", "huber").
        init: "small" (the notebook's randn × 0.01), "xavier" (variance 1/n_in: keeps the
            variance of tanh/sigmoid pre-activations), or "he" (variance 2/n_in: ReLU halves it).
        optimizer: "gd" (full batch, the notebook's), "sgd" (mini-batch with momentum), "adam".
        lr: learning rate (> 0).
        momentum: SGD's momentum.
        beta1: Adam's first-moment decay.
        beta2: Adam's second-moment decay.
        eps: Adam's denominator guard.
        weight_decay: L2 penalty λ: the cost gains (λ/2m)·Σ‖W‖².
        epochs: passes over the training set.
        batch_size: mini-batch size (ignored by "gd", which uses the whole set).
        seed: makes initialisation and shuffling reproducible bit for bit.
    """

    def __init__(
        self,
        layers: Sequence[int],
        activation: str | Sequence[str] = "relu",
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
        seed: int | None = 0,
    ):
        layers = [int(n) for n in layers]
        if len(layers) < 2 or any(n < 1 for n in layers):
            raise ValueError(f"layers must list at least two positive sizes, input first; got {layers}")
        hidden = len(layers) - 2
        acts = [activation] * hidden if isinstance(activation, str) else list(activation)
        if len(acts) != hidden:
            raise ValueError(f"activation lists {len(acts)} names for {hidden} hidden layers")
        for name in acts:
            _activations.get(name)  # unknown names raise, listing the known ones
        if loss not in _losses.names():
            raise ValueError(f"unknown loss {loss!r}; known losses: {', '.join(_losses.names())}")
        if loss in ("categorical_cross_entropy", "hinge", "binary_cross_entropy_with_logits"):
            raise ValueError(
                f"loss {loss!r} is not an MLP output: use 'softmax_cross_entropy' for classes, "
                "'binary_cross_entropy' for two classes, or a regression loss"
            )
        if loss == "binary_cross_entropy" and layers[-1] != 1:
            raise ValueError(f"binary_cross_entropy needs one output unit, got {layers[-1]}")
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}; got {init!r}")
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {optimizer!r}")
        for name, value in (("lr", lr), ("eps", eps)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        if not (0 <= weight_decay < math.inf):
            raise ValueError(f"weight_decay must be ≥ 0, got {weight_decay!r}")
        if int(epochs) < 1 or int(batch_size) < 1:
            raise ValueError(f"epochs and batch_size must be ≥ 1, got {epochs}, {batch_size}")
        self.layers, self.activations, self.loss = layers, acts, loss
        self.init, self.optimizer, self.lr = init, optimizer, float(lr)
        self.momentum, self.beta1, self.beta2, self.eps = momentum, beta1, beta2, eps
        self.weight_decay, self.epochs, self.batch_size, self.seed = weight_decay, int(epochs), int(batch_size), seed
        self.history: list[float] = []
        self.params = self._initial_parameters()

    # ---- parameters ----------------------------------------------------------------------------
    def _initial_parameters(self) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(self.seed)
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
        return self.loss in ("softmax_cross_entropy", "binary_cross_entropy")

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
            if labels.min() < 0 or labels.max() >= n_classes:
                raise ValueError(
                    f"y has labels {labels.min()}..{labels.max()} but the output layer has {n_classes} classes "
                    f"(labels must be 0..{n_classes - 1})"
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
            A = _activations.get(self.activations[l - 1]).f(Z) if l < L else Z
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
        dZ = _losses.get(self._cost_loss()).grad(out, Y)  # 1/m included: gradient of the mean
        grads = {}
        m = out.shape[1]
        for l in range(len(self.layers) - 1, 0, -1):
            A_prev, _ = cache[l - 1]
            grads[f"W{l}"] = dZ @ A_prev.T
            if self.weight_decay:
                grads[f"W{l}"] += (self.weight_decay / m) * params[f"W{l}"]
            grads[f"b{l}"] = np.sum(dZ, axis=1, keepdims=True)
            if l > 1:
                dA = params[f"W{l}"].T @ dZ
                dZ = _activations.get(self.activations[l - 2]).vjp(cache[l - 2][1], dA)
        return grads

    # ---- training --------------------------------------------------------------------------------
    def fit(self, X, y, progress=None) -> MLP:
        """Train; ``progress(epoch, loss)`` is called after every epoch if given. Returns self."""
        X = self._check_X(X)
        Y = self._targets(y, X.shape[1])
        m = X.shape[1]
        rng = np.random.default_rng(None if self.seed is None else self.seed + 1)
        self.params = {k: np.array(v, dtype=np.float64) for k, v in self.params.items()}  # updated in place below
        state = {k: np.zeros_like(v) for k, v in self.params.items()}
        state2 = {k: np.zeros_like(v) for k, v in self.params.items()}
        step = 0
        for epoch in range(1, self.epochs + 1):
            if self.optimizer == "gd":
                batches = [np.arange(m)]
            else:
                order = rng.permutation(m)
                batches = [order[i : i + self.batch_size] for i in range(0, m, self.batch_size)]
            for idx in batches:
                Xb, Yb = (X, Y) if len(batches) == 1 else (X[:, idx], Y[:, idx])  # full batch: no copy
                with np.errstate(over="ignore", invalid="ignore"):
                    out, cache = self._forward(Xb)
                if not np.all(np.isfinite(out)):
                    self._diverged(epoch, float("nan"))
                grads = self._backward(out, cache, Yb, self.params)
                step += 1
                # In place: the arrays were copied when fit began, so nobody else holds them.
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
            with np.errstate(all="ignore"):
                out, _ = self._forward(X)
                loss = self._cost_of(out, Y, self.params) if np.all(np.isfinite(out)) else float("inf")
            if not math.isfinite(loss) or not all(np.all(np.isfinite(p)) for p in self.params.values()):
                self._diverged(epoch, loss)
            self.history.append(loss)
            if progress is not None:
                progress(epoch, loss)
        return self

    def _diverged(self, epoch: int, loss: float):
        raise FloatingPointError(
            f"training diverged at epoch {epoch}: the loss became {loss} (or the outputs overflowed); "
            f"try a smaller learning rate than lr={self.lr:g}"
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
        keys = ("layers", "activations", "loss", "init", "optimizer", "lr", "momentum", "beta1", "beta2", "eps")
        cfg = {k: getattr(self, k) for k in keys}
        cfg.update(weight_decay=self.weight_decay, epochs=self.epochs, batch_size=self.batch_size, seed=self.seed)
        return cfg

    def save(self, path, overwrite: bool = False) -> Path:
        """Write the parameters and the configuration to an .npz file (never overwrites unless asked)."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        np.savez(path, config=json.dumps(self.config()), **self.params)
        return path

    @classmethod
    def load(cls, path) -> MLP:
        """A network saved by ``save``."""
        with np.load(Path(path), allow_pickle=False) as data:
            cfg = json.loads(str(data["config"]))
            activations = cfg.pop("activations")
            model = cls(activation=activations, **cfg)
            for key in model.params:
                if data[key].shape != model.params[key].shape:
                    raise ValueError(
                        f"{path}: parameter {key} has shape {data[key].shape}, expected {model.params[key].shape}"
                    )
                model.params[key] = data[key].copy()
        return model
