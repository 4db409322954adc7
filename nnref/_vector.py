"""softmax and log_softmax, the vector-valued activations (over axis 0, the units axis).

Written by hand and reviewed, not generated: a reduction over axis 0 is not an elementwise
expression the printer prints. Their Jacobians diag(p) − p pᵀ and I − 1 pᵀ, the vector-Jacobian
products below and the shift invariance they rely on are derived in derivations/softmax.py, and
tests/test_softmax.py checks these functions against those SymPy expressions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnref._arrays import as_real_array, check_params


def softmax(z):
    r"""p = exp(z − max z) / Σ exp(z − max z) over axis 0: shifting by the max cannot overflow."""
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


def log_softmax(z):
    r"""log p = (z − max z) − log(1 + Σ' exp(z − max z)) over axis 0, Σ' leaving out the max unit.

    No log of an underflowed p; and log1p of the other units' sum keeps the dominant unit's
    log p ≈ −Σ' accurate (log of the rounded 1 + Σ' would keep only its first digits). The
    rounding error r of z − max z (Knuth's two-sum) enters Σ' as exp(d + r) ≈ exp(d)(1 + r).
    """
    top = np.argmax(z, axis=0)[np.newaxis]
    zmax = np.take_along_axis(z, top, axis=0)
    shifted = z - zmax
    with np.errstate(invalid="ignore"):  # inf − inf in the error term of an infinite z
        b = shifted - z
        r = (z - (shifted - b)) - (zmax + b)  # shifted + r = z − zmax exactly
    r[~np.isfinite(r)] = 0.0
    e = np.exp(shifted)
    e += e * r
    np.put_along_axis(e, top, 0.0, axis=0)  # the max unit's exp(0) = 1, held out of the sum
    lse = np.log1p(np.sum(e, axis=0, keepdims=True))
    return shifted - lse


def softmax_vjp(z, g):
    r"""Jᵀg = p ⊙ (g − Σ_j p_j g_j), from J = diag(p) − p pᵀ."""
    p = softmax(z)
    s = np.sum(p * g, axis=0, keepdims=True)
    return p * (g - s)


def log_softmax_vjp(z, g):
    r"""Jᵀg = g − p Σ_j g_j, from J = I − 1 pᵀ."""
    p = softmax(z)
    s = np.sum(g, axis=0, keepdims=True)
    return g - p * s


_FUNCTIONS = {"softmax": (softmax, softmax_vjp), "log_softmax": (log_softmax, log_softmax_vjp)}


@dataclass(frozen=True)
class VectorActivation:
    """softmax or log_softmax over axis 0. ``f(z)`` and ``vjp(z, g)``; no elementwise df."""

    name: str
    params: dict

    def f(self, z) -> np.ndarray:
        z = _column_array(z)
        with np.errstate(under="ignore"):  # exp(z - max) underflowing to 0 is the right answer
            return _FUNCTIONS[self.name][0](z)

    def vjp(self, z, g) -> np.ndarray:
        """Jᵀg over axis 0: J = diag(p) − p pᵀ (softmax) or I − 1 pᵀ (log_softmax)."""
        z = _column_array(z)
        g = as_real_array(g, "g")
        if g.shape != z.shape:
            raise ValueError(f"g must have the shape of z {z.shape}, got {g.shape}")
        with np.errstate(under="ignore"):
            return _FUNCTIONS[self.name][1](z, g).astype(np.result_type(z, g), copy=False)

    def jacobian(self, z) -> np.ndarray:
        """The K×K Jacobian for one column z (shape (K,))."""
        z = as_real_array(z, "z")
        if z.ndim != 1:
            raise ValueError(f"jacobian takes one column z of shape (K,), got shape {z.shape}")
        eye = np.eye(z.size, dtype=z.dtype)
        return np.stack([self.vjp(z, eye[i]) for i in range(z.size)])

    def _not_elementwise(self, *_):
        raise TypeError(f"{self.name} is vector-valued: use vjp(z, g) or jacobian(z), not an elementwise derivative")

    df = d2f = f_df = _not_elementwise

    def __repr__(self) -> str:
        return f"nnref.activations.get({self.name!r})"


def _column_array(z) -> np.ndarray:
    z = as_real_array(z, "z")
    if z.ndim == 0:
        raise ValueError("z must have at least one axis (the units axis 0) for softmax, got a scalar")
    if z.shape[0] == 0:
        raise ValueError("z must have at least one unit along axis 0")
    return z


def get(name: str, **params) -> VectorActivation:
    check_params(f"activation {name!r}", params, {})
    return VectorActivation(name=name, params={})
