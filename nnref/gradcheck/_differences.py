r"""Central differences: of a scalar function coordinate by coordinate, of an elementwise one all at once, and the step sweep."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnref._arrays import as_real_array
from nnref.gradcheck._steps import FLOOR, _steps
from nnref.gradcheck._validate import _as_point, _check_method, _scalar


def _central(f: Callable, x: np.ndarray, step: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central differences at the coordinates in mask, and the largest |f| seen at each one."""
    grad = np.full(x.shape, np.nan)
    fmax = np.zeros(x.shape)
    work = x.copy()
    for idx in zip(*np.nonzero(mask)) if x.ndim else ([()] if mask else []):
        orig = work[idx]
        work[idx] = orig + step[idx]
        plus = _scalar(f(work.copy()), f"x + h·e{idx}")
        work[idx] = orig - step[idx]
        minus = _scalar(f(work.copy()), f"x - h·e{idx}")
        work[idx] = orig
        grad[idx] = (plus - minus) / (2 * np.float64(step[idx]))
        fmax[idx] = max(abs(plus), abs(minus))
    return grad, fmax


def central_difference(f: Callable[[np.ndarray], float], x, h=None) -> np.ndarray:
    r"""Numerical gradient of a scalar function by central differences, one coordinate at a time.

    $$
    g_i \approx \frac{f(x + h_i e_i) - f(x - h_i e_i)}{2 h_i}, \qquad
    h_i = \varepsilon^{1/3} \max(1, |x_i|)
    $$

    with error $\tfrac{h_i^2}{6}|\partial_i^3 f| + O(\varepsilon |f| / h_i)$, about
    $\varepsilon^{2/3}$ relative at the default step. ε is that of x's dtype, and f is
    evaluated in that dtype. Each call gets a fresh copy of the point, so f may keep or modify it.

    Args:
        f: scalar function of an array shaped like x.
        x: the point, any shape, float32 or float64 (integers become float64).
        h: the step, a number or an array broadcastable to x (default: the rule above). It is
            rounded so that $x_i \pm h_i$ lie exactly $h_i$ away from $x_i$.

    Returns:
        The numerical gradient, shaped like x, in x's dtype.

    Raises:
        TypeError / ValueError: x not real or not finite, h not positive, f not returning a
            finite scalar.

    Examples:
        >>> g = central_difference(lambda v: np.sum(v**3), np.array([1.0, 2.0]))
        >>> np.allclose(g, [3.0, 12.0], rtol=1e-9)
        True
    """
    x = _as_point(x, "x")
    step = _steps(x, h)
    grad, _ = _central(f, x, step, np.ones(x.shape, dtype=bool))
    return grad.astype(x.dtype, copy=False)


def elementwise_derivative(f: Callable[[np.ndarray], np.ndarray], z, h=None) -> np.ndarray:
    r"""f'(z) by central differences for an elementwise $f: \mathbb{R} \to \mathbb{R}$, all points at once.

    $$
    f'(z) \approx \frac{f(z + h) - f(z - h)}{2h}, \qquad h = \varepsilon^{1/3} \max(1, |z|)
    $$

    Two calls of f on whole arrays, so a grid of thousands of points costs two evaluations. Used to
    check an activation's ``df`` on a grid.

    Args:
        f: elementwise function (array in, array of the same shape out).
        z: the points, any shape, float32 or float64.
        h: the step (default: the rule above, rounded so that z ± h is exact).

    Returns:
        f'(z), shaped like z, in z's dtype.

    Examples:
        >>> d = elementwise_derivative(np.sin, np.array([0.0, 1.0]))
        >>> np.allclose(d, np.cos([0.0, 1.0]), rtol=1e-10)
        True
    """
    z = _as_point(z, "z")
    step = _steps(z, h)
    plus, minus = np.asarray(f(z + step)), np.asarray(f(z - step))
    for value in (plus, minus):
        if value.shape != z.shape:
            raise ValueError(f"f must be elementwise: it returned shape {value.shape} for z of shape {z.shape}")
        if value.dtype.kind not in "fiub":
            raise TypeError(f"f must return real numbers, got dtype {value.dtype}")
    return ((plus - minus) / (2 * step)).astype(z.dtype, copy=False)


def step_sweep(
    f: Callable[[np.ndarray], np.ndarray],
    df: Callable[[np.ndarray], np.ndarray],
    x: float,
    hs=None,
    method: str = "central",
) -> tuple[np.ndarray, np.ndarray]:
    r"""Relative error of a finite difference of an elementwise f at x, for each step h.

    $$
    e(h) = \frac{|D_h f(x) - f'(x)|}{|f'(x)|}, \qquad
    D_h f = \frac{f(x+h) - f(x-h)}{2h}\ \text{(central)}\ \text{or}\ \frac{f(x+h) - f(x)}{h}\ \text{(forward)}
    $$

    On log axes this is the classic V: truncation, $O(h^2)$ (central) or $O(h)$
    (forward), on the right; round-off $O(\varepsilon/h)$ on the left; the bottom near
    `optimal_step`. Each h is rounded so that x ± h is exact; a step below the spacing of
    floats at x (x + h == x) gives NaN. All steps are evaluated in two calls of f, in float64.

    Args:
        f: elementwise function.
        df: its exact derivative (elementwise).
        x: the point (a number).
        hs: the steps (default ``np.logspace(-16, -1, 61)``).
        method: "central" or "forward".

    Returns:
        (hs, errors), float64 arrays of the same length.

    Examples:
        >>> hs, errors = step_sweep(np.exp, np.exp, 0.5)
        >>> bool(errors[np.argmin(np.abs(hs - 1e-5))] < 1e-9 < errors[np.argmin(np.abs(hs - 1e-2))])
        True
    """
    _check_method(method, ("central", "forward"))
    hs = np.logspace(-16, -1, 61) if hs is None else np.atleast_1d(as_real_array(hs, "hs")).astype(np.float64)
    if hs.ndim != 1 or np.any(~np.isfinite(hs)) or np.any(hs <= 0):
        raise ValueError("hs must be a 1-d array of positive finite steps")
    x = _as_point(x, "x")
    if x.size != 1:
        raise ValueError(f"x must be a single number, got shape {x.shape}")
    x = np.float64(x.reshape(()))
    exact = float(np.asarray(df(np.array([x]))).ravel()[0])
    step = (x + hs) - x
    lower = x - step if method == "central" else np.full_like(hs, x)
    width = 2 * step if method == "central" else step
    with np.errstate(divide="ignore", invalid="ignore"):
        approx = (np.asarray(f(x + step), dtype=np.float64) - np.asarray(f(lower), dtype=np.float64)) / width
        errors = np.abs(approx - exact) / max(abs(exact), FLOOR)
    return hs, np.where(step == 0, np.nan, errors)
