"""The loss registry: value (a float, the mean over the m examples) and its exact gradient.

Arrays are (units, m): one example per column (higher dimensions: every axis after the first
counts examples). ``value(y_hat, y)`` is
J = (1/m) Σ_examples Σ_units ℓ(ŷ, y), and ``grad(y_hat, y)`` is ∂J/∂ŷ, shaped like ``y_hat``, with
the 1/m included. A 1-d input is m examples of one unit; a 0-d input is one example. The formulas
are printed by ``nnref derive`` from ``derivations/losses.py``.

>>> import numpy as np, nnref.losses as L
>>> L.get("binary_cross_entropy_with_logits").grad(np.array([[800.0, -800.0]]), np.array([[1.0, 0.0]]))
array([[0., 0.]])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnref._arrays import as_real_array, check_params
from nnref._generated import losses as _gen
from nnref._vector import log_softmax, softmax

#: Inputs are checked finite and inside the domain first, so what the kernels may still meet is
#: the edge of the domain: log 0 = −inf, x/0 = ±inf for a true infinite loss, and the unused
#: branch of a piecewise gradient (0/0 at ŷ = y ∈ {0, 1}, where the other branch is taken).
_QUIET = {"over": "ignore", "under": "ignore", "divide": "ignore", "invalid": "ignore"}


def names() -> list[str]:
    """The registry names, in the order the derivations list them."""
    return list(_gen.ENTRIES)


def _examples(arr: np.ndarray, classes_on_axis0: bool) -> int:
    """m: the columns of a (units, m) array; a 1-d array is m examples of one unit, except for the
    class losses, where axis 0 is always the classes axis (a 1-d array is one example)."""
    if arr.ndim == 0:
        return 1
    if arr.ndim == 1:
        return 1 if classes_on_axis0 else arr.shape[0]
    return int(np.prod(arr.shape[1:]))


#: The domain of a prediction, by the kind its entry states: where it is outside (None: nowhere), and
#: what it must be.
_PREDICTIONS = {
    "real": (None, ""),
    "logit": (None, ""),
    "probability": (
        lambda x: (x < 0) | (x > 1),
        "0 <= y_hat <= 1 (a probability; for logits use binary_cross_entropy_with_logits)",
    ),
    "class_probability": (lambda x: (x < 0) | (x > 1), "0 <= y_hat <= 1 (class probabilities)"),
}
#: The domain of a target, by kind.
_TARGETS = {
    "real": (None, ""),
    "probability": (lambda y: (y < 0) | (y > 1), "0 <= y <= 1"),
    "sign": (lambda y: (y != 1) & (y != -1), "y in {-1, +1} (hinge labels; map 0/1 labels with 2*y - 1)"),
    "distribution": (lambda y: y < 0, "y >= 0"),
}


def _check_domain(loss: Loss, x: np.ndarray, y: np.ndarray, prediction: bool = True) -> None:
    checks = [("y_hat", x, _PREDICTIONS[loss.prediction])] if prediction else []
    for arg, values, (outside, what) in checks + [("y", y, _TARGETS[loss.target])]:
        if outside is None:
            continue
        bad = values[outside(values)]
        if bad.size:
            raise ValueError(f"loss {loss.name!r}: {arg} must satisfy {what}; found {bad.ravel()[0]!r}")
    if loss.target == "distribution":
        if y.ndim == 0:
            raise ValueError(f"loss {loss.name!r}: y must have a classes axis 0, got a scalar")
        sums = np.sum(y, axis=0)
        off = np.atleast_1d(sums[np.abs(sums - 1) > 1e-6 * y.shape[0]])
        if off.size:
            raise ValueError(
                f"loss {loss.name!r}: y must satisfy each column summing to 1 (one-hot or probabilities along "
                f"axis 0); found {off.ravel()[0]!r}"
            )


@dataclass(frozen=True)
class Loss:
    """A loss with its parameters bound. See the module docstring for the conventions."""

    name: str
    params: dict[str, float] = field(default_factory=dict)
    title: str = ""
    input: str = "y_hat"
    domain: str = ""
    vector: bool = False
    prediction: str = "real"
    target: str = "real"

    @property
    def _classes(self) -> bool:
        """Axis 0 is the classes axis: the target is a distribution over it."""
        return self.target == "distribution"

    @property
    def _prediction(self) -> str:
        """How errors name the first argument: y_hat, and what it holds when it is not a probability
        or a value (binary_cross_entropy_with_logits takes logits z)."""
        return "y_hat" if self.input == "y_hat" else f"y_hat (the logits {self.input})"

    def _prepare(self, y_hat, y, check_domain: bool = True) -> tuple[np.ndarray, np.ndarray]:
        x = as_real_array(y_hat, self._prediction)
        t = as_real_array(y, "y")
        if x.shape != t.shape:
            raise ValueError(
                f"loss {self.name!r}: {self._prediction} has shape {x.shape} but y has shape {t.shape}; they must match"
            )
        if x.size == 0:
            raise ValueError(
                f"loss {self.name!r}: {self._prediction} and y are empty (shape {x.shape}); a cost needs at least "
                "one example"
            )
        if not np.all(np.isfinite(x)):
            raise ValueError(f"loss {self.name!r}: {self._prediction} must be finite; it has NaN or inf entries")
        if not np.all(np.isfinite(t)):
            raise ValueError(f"loss {self.name!r}: y must be finite; it has NaN or inf entries")
        _check_domain(self, x, t, prediction=check_domain)
        return x, t.astype(x.dtype, copy=False)

    def _terms(self, x, t):
        if self.vector:
            return -t * log_softmax(x)
        return getattr(_gen, f"{self.name}_value")(x, t, **self.params)

    def value(self, y_hat, y) -> float:
        """The cost J = (1/m) Σ ℓ, as a Python float: +inf where the true loss is infinite (a
        probability of 0 given to what happened)."""
        x, t = self._prepare(y_hat, y)
        with np.errstate(**_QUIET):
            terms = np.broadcast_to(self._terms(x, t), x.shape)
        # + 0.0: a sum of −0.0 terms (a certain, correct prediction) is a cost of 0, not −0.
        return float(np.sum(terms, dtype=np.float64) / _examples(x, self._classes)) + 0.0

    def grad(self, y_hat, y) -> np.ndarray:
        """∂J/∂ŷ (or ∂J/∂z for the losses on logits), shaped like y_hat, 1/m included."""
        out = self.grad_terms(y_hat, y)
        out /= _examples(out, self._classes)
        return out

    def grad_terms(self, y_hat, y, *, check_domain: bool = True) -> np.ndarray:
        """∂ℓ/∂ŷ per element: the gradient of the per-example loss, without the 1/m (the
        notebook's dAL). ``check_domain=False`` skips the domain check of ``y_hat`` (nnref.notebook
        evaluates the same formula wherever it is defined, as the notebook does)."""
        x, t = self._prepare(y_hat, y, check_domain)
        with np.errstate(**_QUIET):
            if self.vector:
                g = softmax(x) * np.sum(t, axis=0, keepdims=True) - t
            else:
                g = getattr(_gen, f"{self.name}_grad")(x, t, **self.params)
        out = np.empty(x.shape, dtype=x.dtype)
        out[...] = g
        return out

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"nnref.losses.get({self.name!r}{args})"


def get(name: str, **params: float) -> Loss:
    """The loss registered under ``name``; unknown names raise ValueError listing the known ones."""
    if not isinstance(name, str) or name not in _gen.ENTRIES:
        raise ValueError(f"unknown loss {name!r}; known losses: {', '.join(names())}")
    meta = _gen.ENTRIES[name]
    bound = check_params(f"loss {name!r}", params, meta["params"], positive=frozenset(meta["params"]))
    return Loss(
        name, bound, meta["title"], meta["input"], meta["domain"], meta["vector"], meta["prediction"], meta["target"]
    )
