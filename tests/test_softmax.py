"""nnref/_vector.py, the hand-written softmax and log_softmax, against SymPy's own derivatives.

The runtime functions are not printed from SymPy (a reduction over axis 0 is not an elementwise
expression), so they are checked here against derivations/softmax.py: the values p and log p, and
the vector-Jacobian products as SymPy differentiates them (``p.jacobian(z).T * g``), evaluated by
mpmath at 50 digits, for K = 2, 3, 4 units and many columns."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

import nnref.activations as A
from derivations.softmax import SIZES, _vectors


def _truth(K: int):
    """mpmath functions (z, g) -> (p, log p, Jᵀg of softmax, Jᵀg of log_softmax), from SymPy's derivatives."""
    zs, gs, _, p = _vectors(K)
    logp = sp.Matrix([zi - sp.log(sum(sp.exp(zj) for zj in zs)) for zi in zs])
    exprs = [p, logp, p.jacobian(zs).T * gs, logp.jacobian(zs).T * gs]
    return sp.lambdify((list(zs), list(gs)), exprs, modules="mpmath")


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("K", SIZES)
def test_values_and_vjps_are_sympys(K, dtype):
    """In float64, and in float32 on float32 inputs (kept float32, and held to float32's epsilon)."""
    rng = np.random.default_rng(K)
    z = rng.normal(0, 3, size=(K, 40)).astype(dtype)
    g = rng.normal(size=(K, 40)).astype(dtype)
    truth = _truth(K)
    ours = [
        A.get("softmax").f(z),
        A.get("log_softmax").f(z),
        A.get("softmax").vjp(z, g),
        A.get("log_softmax").vjp(z, g),
    ]
    labels = ("softmax", "log_softmax", "softmax vjp", "log_softmax vjp")
    assert all(v.dtype == dtype for v in ours), [v.dtype for v in ours]
    with mp.workdps(50):
        for j in range(z.shape[1]):
            exact = truth([mp.mpf(float(v)) for v in z[:, j]], [mp.mpf(float(v)) for v in g[:, j]])
            for label, value, want in zip(labels, ours, exact):
                want = np.array([float(w) for w in want])
                # a few roundings, scaled by the terms that cancel: |g| and Σ|p g| for the vjps
                scale = np.abs(want) + (np.abs(g[:, j]) + np.sum(np.abs(g[:, j]))) * ("vjp" in label)
                err = np.abs(value[:, j].astype(np.float64) - want)
                assert np.all(err <= 16 * np.finfo(dtype).eps * scale), (label, K, j)
