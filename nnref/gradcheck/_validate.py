"""Argument checks shared by the checkers: each error names the argument and what was expected."""

from __future__ import annotations

import numpy as np

from nnref._arrays import as_real_array


def _as_point(x, name: str) -> np.ndarray:
    arr = as_real_array(x, name)
    bad = ~np.isfinite(arr)
    if np.any(bad):
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} must be finite; it has {int(np.count_nonzero(bad))} NaN/inf entries (first at {first})"
        )
    return arr


def _default_rtol(dtype) -> float:
    return 1e-7 if np.finfo(dtype).eps <= np.finfo(np.float64).eps else 1e-3


def _check_rtol(rtol, dtype) -> float:
    if rtol is None:
        return _default_rtol(dtype)
    if not np.isscalar(rtol) or not np.isfinite(rtol) or rtol <= 0:
        raise ValueError(f"rtol must be a positive finite number, got {rtol!r}")
    return float(rtol)


def _check_method(method: str, allowed: tuple[str, ...]) -> str:
    if method not in allowed:
        raise ValueError(f"method must be one of {', '.join(map(repr, allowed))}, got {method!r}")
    return method


def _scalar(value, where: str) -> float:
    """f's value as a Python float; clear errors for arrays, non-numbers and NaN/inf."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        arr = np.asarray(None, dtype=object)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"f must return a real scalar, got {type(value).__name__} {value!r:.60}")
    if arr.size != 1:
        raise ValueError(f"f must return a scalar, got an array of shape {arr.shape}")
    out = float(arr.reshape(()))
    if not np.isfinite(out):
        raise ValueError(f"f returned {out} at {where}; the gradient needs finite values around x")
    return out


def _analytic(grad, x: np.ndarray) -> np.ndarray:
    value = grad(x.copy()) if callable(grad) else grad
    arr = np.asarray(value) if not isinstance(value, (str, bytes)) else np.asarray(None, dtype=object)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"grad must be (or return) a real array shaped like x {x.shape}, got dtype {arr.dtype}")
    if arr.shape != x.shape:
        raise ValueError(f"grad must have the shape of x {x.shape}, got {arr.shape}")
    return arr.astype(np.float64)


def _check_complex_h(h) -> float:
    if not np.isscalar(h) or not np.isfinite(h) or not h > 0:
        raise ValueError(f"h must be a positive finite number, got {h!r}")
    return float(h)
