"""softmax and log_softmax, the vector-valued activations (over axis 0, the units axis)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnref._arrays import as_real_array, check_params
from nnref._generated import softmax as _gen


@dataclass(frozen=True)
class VectorActivation:
    """softmax or log_softmax over axis 0. ``f(z)`` and ``vjp(z, g)``; no elementwise df."""

    name: str
    params: dict

    def f(self, z) -> np.ndarray:
        z = _column_array(z)
        with np.errstate(under="ignore"):  # exp(z - max) underflowing to 0 is the right answer
            return getattr(_gen, self.name)(z)

    def vjp(self, z, g) -> np.ndarray:
        """Jᵀg over axis 0: J = diag(p) − p pᵀ (softmax) or I − 1 pᵀ (log_softmax)."""
        z = _column_array(z)
        g = as_real_array(g, "g")
        if g.shape != z.shape:
            raise ValueError(f"g must have the shape of z {z.shape}, got {g.shape}")
        with np.errstate(under="ignore"):
            return getattr(_gen, f"{self.name}_vjp")(z, g).astype(np.result_type(z, g), copy=False)

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
