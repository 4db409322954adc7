r"""The step of a finite difference and the relative error a check compares."""

from __future__ import annotations

import numpy as np

from nnref._arrays import as_real_array
from nnref.gradcheck._validate import _check_method

FLOOR = 1e-12
"""Default denominator floor of `relative_error`."""


def _steps(x: np.ndarray, h) -> np.ndarray:
    """The per-coordinate step, rounded so that (x + h) - x == h exactly."""
    if h is None:
        h = optimal_step(x.dtype, x)
    else:
        h = as_real_array(h, "h")
        if np.any(~np.isfinite(h)) or np.any(h <= 0):
            raise ValueError(f"h must be positive and finite, got {h!r}")
        try:
            h = np.broadcast_to(h, x.shape)
        except ValueError:
            raise ValueError(
                f"h must be a number or broadcast to the shape of x {x.shape}, got shape {h.shape}"
            ) from None
    h = np.asarray(h, dtype=x.dtype)
    step = (x + h) - x
    if np.any(step == 0):
        first = tuple(int(i) for i in np.argwhere(step == 0)[0])
        raise ValueError(
            f"h is below the spacing of x's floats at index {first} (x={x[first]!r}, h={h[first]!r}): "
            "x + h rounds to x; use a larger h"
        )
    return step


def optimal_step(dtype=np.float64, scale=1.0, method: str = "central"):
    r"""The finite-difference step that balances truncation against round-off.

    $$
    h = \varepsilon^{1/3} \max(1, |\text{scale}|) \ \text{(central)}, \qquad
    h = \varepsilon^{1/2} \max(1, |\text{scale}|) \ \text{(forward)}
    $$

    Central differences err by $\tfrac{h^2}{6}|f'''| + \varepsilon|f|/h$, smallest near
    $h \sim \varepsilon^{1/3}$; forward differences by $\tfrac{h}{2}|f''| + 2\varepsilon|f|/h$,
    smallest near $\varepsilon^{1/2}$. The factor $\max(1, |x|)$ keeps h relative for large x.

    Args:
        dtype: the floating dtype the differences are computed in (its ε sets h).
        scale: |x|, a number or an array (then h is an array).
        method: "central" or "forward".

    Returns:
        h as a float64 number or array.

    Examples:
        >>> f"{optimal_step(np.float64):.3g}", f"{optimal_step(np.float32, 10.0):.3g}"
        ('6.06e-06', '0.0492')
    """
    _check_method(method, ("central", "forward"))
    try:
        eps = np.finfo(dtype).eps
    except (TypeError, ValueError):
        raise TypeError(f"dtype must be a floating dtype such as np.float64, got {dtype!r}") from None
    power = 1 / 3 if method == "central" else 1 / 2
    return np.float64(eps) ** power * np.maximum(1.0, np.abs(np.asarray(scale, dtype=np.float64)))


def relative_error(a, n, floor: float = FLOOR) -> np.ndarray:
    r"""Elementwise relative error with a floor in the denominator.

    $$
    \frac{|a - n|}{\max(|a|, |n|, \text{floor})}
    $$

    The floor keeps two values that are both essentially zero from dividing by zero: below it
    the error is measured absolutely (in units of the floor). NaN in either gives inf.

    Args:
        a: analytic values.
        n: numerical values (broadcastable against a).
        floor: the denominator floor (a number or an array broadcastable against a).

    Returns:
        float64 array of relative errors.

    Examples:
        >>> [f"{e:.2g}" for e in relative_error([1.0, 0.0], [1.0 + 1e-9, 1e-20])]
        ['1e-09', '1e-08']
    """
    a = np.asarray(a, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        err = np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)
    return np.where(np.isnan(err), np.inf, err)
