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


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("K", SIZES)
def test_softmax_cross_entropy_in_its_dtype_against_mpmath(K, dtype):
    """The softmax cross-entropy cost and its per-column gradient p − y on dtype logits and soft
    labels, within 16 of dtype's epsilons of mpmath at 50 digits; the gradient stays in dtype (the
    cost is a Python float, as for every loss)."""
    import nnref.losses as L

    rng = np.random.default_rng(100 + K)
    z = rng.normal(0, 3, size=(K, 40)).astype(dtype)
    y = rng.dirichlet(np.ones(K), size=40).T.astype(dtype)
    loss = L.get("softmax_cross_entropy")
    value, grad = loss.value(z, y), loss.grad_terms(z, y)
    assert grad.dtype == dtype  # the cost is a Python float, as for every loss
    eps = np.finfo(dtype).eps
    with mp.workdps(50):
        total = mp.mpf(0)
        for j in range(z.shape[1]):
            zs, ys = [mp.mpf(float(v)) for v in z[:, j]], [mp.mpf(float(v)) for v in y[:, j]]
            lse = mp.log(mp.fsum(mp.exp(v) for v in zs))
            total += mp.fsum(-t * (v - lse) for t, v in zip(ys, zs))
            p = [mp.exp(v - lse) for v in zs]
            want = np.array([float(pk * mp.fsum(ys) - t) for pk, t in zip(p, ys)])
            scale = np.array([float(pk * mp.fsum(ys)) for pk in p]) + np.abs(y[:, j].astype(np.float64))
            assert np.all(np.abs(grad[:, j].astype(np.float64) - want) <= 16 * eps * scale), (K, j)
        mean = float(total / z.shape[1])
    assert abs(float(value) - mean) <= 16 * eps * abs(mean)
