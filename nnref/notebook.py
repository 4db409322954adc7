"""The classic step-by-step deep network notebook, function for function, on nnref's proven formulas.

Same names, argument order, cache layout and ``grads`` keys as the notebook, so a learner can swap
its functions for these one at a time and compare the numbers. Every formula comes from the
generated registries: activations from ``nnref.activations`` (any registry name, not only
"sigmoid" and "relu"), the cost from ``nnref.losses``; the matrix identities are proven in
``derivations/backprop.py``.

A quirk kept for parity: ``grads["dA" + str(l)]`` is the gradient with respect to the *input* of
layer l, i.e. dA^{[l-1]}. So ``grads["dA1"]`` has the shape of X, and ``grads["dA" + str(L)]`` is
the gradient with respect to A^{[L-1]}.

Caches: ``linear_forward`` returns ``(Z, (A, W, b))``; ``linear_activation_forward`` returns
``(A, ((A_prev, W, b), Z))``.

The ``# --8<-- [start:NAME]`` / ``[end:NAME]`` comments mark each function for the Learn pages,
which include its source from here (pymdownx.snippets), so a page cannot show other code than this.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from nnref import activations as _activations
from nnref import losses as _losses
from nnref._arrays import as_real_array


# --8<-- [start:initialize_parameters_deep]
def initialize_parameters_deep(layer_dims, seed: int | None = None) -> dict[str, np.ndarray]:
    """W{l} ~ randn(n_l, n_{l-1}) × 0.01 and b{l} = 0, drawn as the notebook does.

    With ``seed`` given, NumPy's legacy generator is seeded first (``np.random.seed(seed)``), which
    reproduces the notebook's numbers exactly.
    """
    dims = _checked_dims(layer_dims)  # a list of ints ≥ 1, at least two, or an error naming layer_dims
    if seed is not None:
        np.random.seed(seed)
    parameters = {}
    for l in range(1, len(dims)):
        parameters["W" + str(l)] = np.random.randn(dims[l], dims[l - 1]) * 0.01
        parameters["b" + str(l)] = np.zeros((dims[l], 1))
    return parameters
    # --8<-- [end:initialize_parameters_deep]


# --8<-- [start:linear_forward]
def linear_forward(A, W, b):
    """Z = W A + b; cache = (A, W, b)."""
    A, W, b = _checked_layer(A, W, b)  # arrays whose shapes chain, or a ValueError that says which does not
    Z = W @ A + b
    cache = (A, W, b)
    return Z, cache
    # --8<-- [end:linear_forward]


# --8<-- [start:linear_activation_forward]
def linear_activation_forward(A_prev, W, b, activation):
    """A = g(W A_prev + b); cache = ((A_prev, W, b), Z).

    ``activation``: any registry name, or an activation object (``nnref.activations.get(...)``,
    ``nnref.custom.activation(...)``).
    """
    act = _activations.resolve(activation)
    Z, linear_cache = linear_forward(A_prev, W, b)
    return act.f(Z), (linear_cache, Z)
    # --8<-- [end:linear_activation_forward]


# --8<-- [start:L_model_forward]
def L_model_forward(X, parameters: dict):
    """[LINEAR→RELU]×(L−1) → LINEAR→SIGMOID; returns (AL, caches)."""
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A, cache = linear_activation_forward(A, parameters["W" + str(l)], parameters["b" + str(l)], "relu")
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters["W" + str(L)], parameters["b" + str(L)], "sigmoid")
    caches.append(cache)
    return AL, caches
    # --8<-- [end:L_model_forward]


# --8<-- [start:compute_cost]
def compute_cost(AL, Y) -> float:
    """The cross-entropy cost −(1/m) Σ (y log a + (1 − y) log(1 − a)), via nnref.losses.

    AL may be 0 or 1 (sigmoid(40) rounds to 1.0): a term whose weight is 0 counts 0 (0·log 0 = 0).
    The cost is +inf only where the true cost is, where AL = 1 for Y = 0 or AL = 0 for Y = 1, and
    then a RuntimeWarning names the first such example.
    """
    cost = _losses.get("binary_cross_entropy").value(AL, Y)
    _say_if_infinite(cost, AL, Y)
    return cost
    # --8<-- [end:compute_cost]


# --8<-- [start:linear_backward]
def linear_backward(dZ, cache):
    """dW = (1/m) dZ A_prevᵀ, db = (1/m) Σ_columns dZ, dA_prev = Wᵀ dZ (proven in derivations/backprop.py)."""
    A_prev, W, b = cache
    dZ = _checked_dZ(dZ, W, A_prev)  # an array of Z's shape (n_l, m), or a ValueError
    m = A_prev.shape[1]
    dW = (dZ @ A_prev.T) / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = W.T @ dZ
    return dA_prev, dW, db
    # --8<-- [end:linear_backward]


# --8<-- [start:linear_activation_backward]
def linear_activation_backward(dA, cache, activation):
    """dZ = dA ⊙ g'(Z) (the activation's generated vjp), then linear_backward; ``activation`` as
    in ``linear_activation_forward``."""
    linear_cache, Z = cache
    dZ = _activations.resolve(activation).vjp(Z, as_real_array(dA, "dA"))
    return linear_backward(dZ, linear_cache)
    # --8<-- [end:linear_activation_backward]


# --8<-- [start:L_model_backward]
def L_model_backward(AL, Y, caches):
    """The whole backward pass, from dAL = −(Y/AL − (1 − Y)/(1 − AL)).

    AL outside [0, 1] (the notebook's test case draws it from randn) gives the notebook's numbers
    and a RuntimeWarning that AL is not a probability; nnref.MLP and nnref.losses refuse it.

    dAL is the notebook's: the derivative of the per-example loss,
    ``nnref.losses.get("binary_cross_entropy").grad_terms(AL, Y)`` (its ``grad`` is that over m).
    """
    grads = {}
    L = len(caches)
    AL = _warn_if_not_a_probability(AL)
    Y = as_real_array(Y, "Y").reshape(AL.shape)
    dAL = _losses.get("binary_cross_entropy").grad_terms(AL, Y, check_domain=False)
    dA_prev, dW, db = linear_activation_backward(dAL, caches[L - 1], "sigmoid")
    grads["dA" + str(L)], grads["dW" + str(L)], grads["db" + str(L)] = dA_prev, dW, db
    for l in reversed(range(L - 1)):
        dA_prev, dW, db = linear_activation_backward(grads["dA" + str(l + 2)], caches[l], "relu")
        grads["dA" + str(l + 1)], grads["dW" + str(l + 1)], grads["db" + str(l + 1)] = dA_prev, dW, db
    return grads
    # --8<-- [end:L_model_backward]


# --8<-- [start:update_parameters]
def update_parameters(parameters: dict, grads: dict, learning_rate: float) -> dict:
    """One gradient-descent step: W ← W − α dW, b ← b − α db (returns a new dict)."""
    if not np.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate}")
    L = len(parameters) // 2
    updated = {}
    for l in range(1, L + 1):
        updated["W" + str(l)] = parameters["W" + str(l)] - learning_rate * grads["dW" + str(l)]
        updated["b" + str(l)] = parameters["b" + str(l)] - learning_rate * grads["db" + str(l)]
    return updated
    # --8<-- [end:update_parameters]


def _say_if_infinite(cost: float, AL, Y) -> None:
    """A RuntimeWarning naming the first example that makes the cost infinite."""
    if not np.isinf(cost):
        return
    AL, Y = np.asarray(AL, dtype=float), np.asarray(Y, dtype=float).reshape(np.shape(AL))
    certain_and_wrong = ((AL == 1) & (Y < 1)) | ((AL == 0) & (Y > 0))
    where = tuple(int(i) for i in np.argwhere(certain_and_wrong)[0])
    warnings.warn(
        f"compute_cost: the cost is infinite: AL{list(where)} = {float(AL[where])!r} with Y = {float(Y[where])!r}, "
        "a probability of 0 given to what happened (log 0 = −inf); the prediction saturated",
        RuntimeWarning,
        stacklevel=3,
    )


def _warn_if_not_a_probability(AL) -> np.ndarray:
    """AL as an array, with a RuntimeWarning if it is not a probability: the notebook's own test case
    draws AL from randn, and its dAL formula is defined for any AL ∉ {0, 1}."""
    AL = as_real_array(AL, "AL")
    outside = AL[(AL < 0) | (AL > 1)]
    if outside.size:
        warnings.warn(
            f"L_model_backward: AL is not a probability (found {float(outside.ravel()[0])!r} outside [0, 1]); "
            "dAL = −(Y/AL − (1 − Y)/(1 − AL)) is computed there as the notebook does",
            RuntimeWarning,
            stacklevel=3,
        )
    return AL


def _checked_layer(A, W, b):
    A, W, b = as_real_array(A, "A"), as_real_array(W, "W"), as_real_array(b, "b")
    if W.ndim != 2 or A.ndim != 2 or W.shape[1] != A.shape[0]:
        raise ValueError(f"W {W.shape} and A {A.shape} do not chain: W must be (n_l, n_prev) and A (n_prev, m)")
    if b.shape != (W.shape[0], 1):
        raise ValueError(f"b must have shape ({W.shape[0]}, 1), got {b.shape}")
    return A, W, b


def _checked_dZ(dZ, W, A_prev):
    dZ = as_real_array(dZ, "dZ")
    if dZ.shape != (W.shape[0], A_prev.shape[1]):
        raise ValueError(f"dZ must have shape {(W.shape[0], A_prev.shape[1])}, got {dZ.shape}")
    return dZ


def _checked_dims(layer_dims) -> list[int]:
    try:
        dims = list(layer_dims)
    except TypeError:
        raise TypeError(f"layer_dims must be a list of layer sizes, got {layer_dims!r}") from None
    # Whole numbers only: 2.5 units is a mistake to report, not a size to round to 2.
    if len(dims) < 2 or not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 1 for d in dims):
        raise ValueError(f"layer_dims must list at least two positive whole numbers, got {dims!r}")
    return [int(d) for d in dims]
