r"""Kinks: which comparisons straddle a non-differentiable point and are set aside."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def crosses_kink(z_minus, z_plus, kinks: Sequence[float] = (0.0,)) -> np.ndarray:
    r"""True where a kink lies in the closed interval between z_minus and z_plus, elementwise.

    $$
    \text{crosses}_j = \exists\, k \in \text{kinks}:\ \min(z^-_j, z^+_j) \le k \le \max(z^-_j, z^+_j)
    $$

    For an elementwise function of x, pass x - h and x + h. Inside a network, pass a layer's
    pre-activations at $x - h e_k$ and $x + h e_k$: the difference quotient for
    coordinate k is meaningless if any unit's pre-activation crosses relu's kink in between.

    Args:
        z_minus: values at the lower end (array).
        z_plus: values at the upper end (broadcastable against z_minus).
        kinks: the non-differentiable points (relu: (0.0,); hard_tanh: (-1.0, 1.0)).

    Returns:
        Boolean array, the broadcast shape of z_minus and z_plus.

    Examples:
        >>> crosses_kink(np.array([-1.0, -1e-9, 0.5]), np.array([-0.5, 1e-9, 0.7])).tolist()
        [False, True, False]
    """
    lo = np.minimum(z_minus, z_plus)
    hi = np.maximum(z_minus, z_plus)
    out = np.zeros(np.shape(lo), dtype=bool)
    for k in np.atleast_1d(np.asarray(kinks, dtype=np.float64)):
        out |= (lo <= k) & (k <= hi)
    return out


def _kink_mask(kinks, x: np.ndarray, step: np.ndarray) -> np.ndarray:
    if kinks is None:
        return np.zeros(x.shape, dtype=bool)
    if callable(kinks):
        mask = np.asarray(kinks(x.copy(), step.copy()))
        if mask.dtype != bool or mask.shape != x.shape:
            raise ValueError(
                f"kinks(x, h) must return a boolean array shaped like x {x.shape}, got dtype {mask.dtype} shape {mask.shape}"
            )
        return mask
    try:
        points = np.atleast_1d(np.asarray(kinks, dtype=np.float64))
    except (TypeError, ValueError):
        raise TypeError(f"kinks must be a callable kinks(x, h) or a sequence of numbers, got {kinks!r}") from None
    if points.ndim != 1 or not np.all(np.isfinite(points)):
        raise ValueError(f"kinks must be a flat sequence of finite kink locations, got {kinks!r}")
    return crosses_kink(x - step, x + step, points)
