r"""The complex step, with the conjugate-symmetry guard against code that is not analytic."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from nnref.gradcheck._validate import _as_point, _check_complex_h

COMPLEX_STEP = 1e-200
"""Default complex step: so small that $h^2$ terms vanish below the smallest float."""


_NOT_ANALYTIC = (
    "complex step needs an analytic function implemented with complex-safe operations "
    "(no abs, np.maximum/np.minimum, comparisons, np.real or float() on the input)"
)


def _complex_eval(f: Callable, w: np.ndarray):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            value = f(w)
    except (TypeError, ValueError, np.exceptions.ComplexWarning) as exc:
        raise TypeError(f"{_NOT_ANALYTIC}; f rejected complex input: {exc}") from exc
    value = np.asarray(value)
    if value.dtype.kind != "c":
        raise TypeError(f"{_NOT_ANALYTIC}; f returned a real result (dtype {value.dtype}) for complex input")
    return value


def _reflection_check(d_plus, d_minus, where) -> None:
    """For real-on-real analytic f, f(conj w) = conj f(w): both signs of h give the same slope."""
    d_plus, d_minus = np.asarray(d_plus), np.asarray(d_minus)
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(d_plus - d_minus) <= 1e-6 * np.maximum(np.abs(d_plus), np.abs(d_minus)))
    if np.any(bad):
        first = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
        at = where(first)
        raise ValueError(
            f"{_NOT_ANALYTIC}; at {at} Im f(x + ih)/h = {float(d_plus[first])!r} but "
            f"-Im f(x - ih)/h = {float(d_minus[first])!r}, so f branches on the imaginary part "
            "(typically a kink or a comparison at that point)"
        )


def _complex(f: Callable, x: np.ndarray, h: float, mask: np.ndarray) -> np.ndarray:
    grad = np.full(x.shape, np.nan)
    work = x.astype(np.complex128)
    for idx in zip(*np.nonzero(mask)) if x.ndim else ([()] if mask else []):
        slopes = []
        for sign in (1.0, -1.0):
            work[idx] = complex(x[idx], sign * h)
            value = _complex_eval(f, work.copy())
            if value.size != 1:
                raise ValueError(f"f must return a scalar, got an array of shape {value.shape}")
            slopes.append(sign * value.reshape(()).imag / h)
        work[idx] = x[idx]
        _reflection_check(slopes[0], slopes[1], lambda _, idx=idx: f"x[{idx}]")
        grad[idx] = slopes[0]
    return grad


def complex_step(f: Callable[[np.ndarray], complex], x, h: float = COMPLEX_STEP) -> np.ndarray:
    r"""Gradient of a scalar analytic function by the complex step, one coordinate at a time.

    $$
    g_k = \frac{\operatorname{Im} f(x + i h e_k)}{h} + O(h^2)
    $$

    No difference of nearly equal numbers is formed, so h can be tiny (1e-200) and the result is
    accurate to a few ε. It is valid only when f is analytic and written with complex-safe
    operations; f is evaluated in complex128 whatever x's dtype. As a guard, f is also evaluated at
    $x - ihe_k$: a real-on-real analytic f has $f(\bar w) = \overline{f(w)}$, so both
    must give the same slope. Code that branches on the imaginary part (np.maximum or a comparison
    exactly at a kink) fails this; code that drops it (abs, np.real, float()) returns a real value.

    Args:
        f: scalar function accepting a complex array shaped like x.
        x: the point, any shape (real).
        h: the imaginary step.

    Returns:
        The gradient, shaped like x, in x's dtype.

    Raises:
        TypeError: f rejects complex input or returns a real result.
        ValueError: the two signs of h disagree (f is not analytic there), or f is not scalar.

    Examples:
        >>> g = complex_step(lambda v: np.sum(np.exp(v) * np.sin(v)), np.array([0.5]))
        >>> bool(abs(g[0] - np.exp(0.5) * (np.sin(0.5) + np.cos(0.5))) < 1e-15)
        True
    """
    x = _as_point(x, "x")
    grad = _complex(f, x.astype(np.float64), _check_complex_h(h), np.ones(x.shape, dtype=bool))
    return grad.astype(x.dtype, copy=False)


def elementwise_complex_step(f: Callable[[np.ndarray], np.ndarray], z, h: float = COMPLEX_STEP) -> np.ndarray:
    r"""f'(z) by the complex step for an elementwise analytic f, all points at once.

    $$
    f'(z) = \frac{\operatorname{Im} f(z + ih)}{h} + O(h^2)
    $$

    Same requirements and the same conjugate-symmetry guard as `complex_step`.

    Args:
        f: elementwise function accepting complex arrays.
        z: the points, any shape (real).
        h: the imaginary step.

    Returns:
        f'(z), shaped like z, in z's dtype.

    Examples:
        >>> d = elementwise_complex_step(np.tanh, np.array([0.0, 1.0]))
        >>> np.allclose(d, 1 / np.cosh([0.0, 1.0]) ** 2, rtol=1e-15)
        True
    """
    z = _as_point(z, "z")
    h = _check_complex_h(h)
    w = z.astype(np.float64)
    plus, minus = _complex_eval(f, w + 1j * h), _complex_eval(f, w - 1j * h)
    if plus.shape != z.shape:
        raise ValueError(f"f must be elementwise: it returned shape {plus.shape} for z of shape {z.shape}")
    d_plus, d_minus = plus.imag / h, -minus.imag / h
    _reflection_check(d_plus, d_minus, lambda i: f"z{list(i)} = {float(w[i])!r}")
    return d_plus.astype(z.dtype, copy=False)
