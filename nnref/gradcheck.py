r"""Gradient checking: compare an analytic gradient with one estimated from function values.

The checker nnref uses on itself, and the one to run on your own code. NumPy only.

* Central differences with the step chosen from the dtype and the scale of x,
  :math:`h_i = \varepsilon^{1/3} \max(1, |x_i|)`: the step that balances the :math:`O(h^2)`
  truncation error against the :math:`O(\varepsilon/h)` round-off error (not a fixed 1e-7). The
  step is rounded so that :math:`x_i \pm h_i` are exactly :math:`h_i` away from :math:`x_i`.
* The complex step :math:`f'(x) = \operatorname{Im} f(x + ih)/h`: no subtraction, so accurate to
  a few ε, for analytic functions written with complex-safe operations.
* Kinks: a point whose :math:`[x - h, x + h]` contains a non-differentiable point is flagged and
  counted, never compared and never counted as a pass.
* Relative error :math:`|a - n| / \max(|a|, |n|, \text{floor})`. A check passes when the largest
  relative error is at most ``rtol`` (default 1e-7 for float64, 1e-3 for float32).
* A random-direction check for models with many parameters (two evaluations of f per direction),
  and a step sweep for the classic V-shaped error curve.

float32 inputs stay float32: f is evaluated in the dtype you gave, and the step comes from that
dtype's ε (:math:`\varepsilon_{32}^{1/3} \approx 4.9 \cdot 10^{-3}`), so expect errors near
:math:`\varepsilon_{32}^{2/3} \approx 2.4 \cdot 10^{-5}`, not 1e-10.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from nnref._arrays import as_real_array

__all__ = [
    "DirectionalReport",
    "GradcheckReport",
    "central_difference",
    "check_gradient",
    "complex_step",
    "crosses_kink",
    "directional_check",
    "elementwise_complex_step",
    "elementwise_derivative",
    "optimal_step",
    "relative_error",
    "step_sweep",
]

FLOOR = 1e-12
"""Default denominator floor of :func:`relative_error`."""

COMPLEX_STEP = 1e-200
"""Default complex step: so small that :math:`h^2` terms vanish below the smallest float."""

_ROUNDOFF_ULPS = 8
"""How many ε of |f| one evaluation of f is assumed to be off by, for the automatic floor."""

_NOT_ANALYTIC = (
    "complex step needs an analytic function implemented with complex-safe operations "
    "(no abs, np.maximum/np.minimum, comparisons, np.real or float() on the input)"
)


# ----------------------------------------------------------------------------- validation


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


# ----------------------------------------------------------------------------- steps and errors


def optimal_step(dtype=np.float64, scale=1.0, method: str = "central"):
    r"""The finite-difference step that balances truncation against round-off.

    .. math::
        h = \varepsilon^{1/3} \max(1, |\text{scale}|) \ \text{(central)}, \qquad
        h = \varepsilon^{1/2} \max(1, |\text{scale}|) \ \text{(forward)}

    Central differences err by :math:`\tfrac{h^2}{6}|f'''| + \varepsilon|f|/h`, smallest near
    :math:`h \sim \varepsilon^{1/3}`; forward differences by :math:`\tfrac{h}{2}|f''| + 2\varepsilon|f|/h`,
    smallest near :math:`\varepsilon^{1/2}`. The factor :math:`\max(1, |x|)` keeps h relative for large x.

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

    .. math:: \frac{|a - n|}{\max(|a|, |n|, \text{floor})}

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


# ----------------------------------------------------------------------------- central differences


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

    .. math::
        g_i \approx \frac{f(x + h_i e_i) - f(x - h_i e_i)}{2 h_i}, \qquad
        h_i = \varepsilon^{1/3} \max(1, |x_i|)

    with error :math:`\tfrac{h_i^2}{6}|\partial_i^3 f| + O(\varepsilon |f| / h_i)`, about
    :math:`\varepsilon^{2/3}` relative at the default step. ε is that of x's dtype, and f is
    evaluated in that dtype. Each call gets a fresh copy of the point, so f may keep or modify it.

    Args:
        f: scalar function of an array shaped like x.
        x: the point, any shape, float32 or float64 (integers become float64).
        h: the step, a number or an array broadcastable to x (default: the rule above). It is
            rounded so that :math:`x_i \pm h_i` lie exactly :math:`h_i` away from :math:`x_i`.

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
    r"""f'(z) by central differences for an elementwise :math:`f: \mathbb{R} \to \mathbb{R}`, all points at once.

    .. math:: f'(z) \approx \frac{f(z + h) - f(z - h)}{2h}, \qquad h = \varepsilon^{1/3} \max(1, |z|)

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


# ----------------------------------------------------------------------------- complex step


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


def _check_complex_h(h) -> float:
    if not np.isscalar(h) or not np.isfinite(h) or not h > 0:
        raise ValueError(f"h must be a positive finite number, got {h!r}")
    return float(h)


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

    .. math:: g_k = \frac{\operatorname{Im} f(x + i h e_k)}{h} + O(h^2)

    No difference of nearly equal numbers is formed, so h can be tiny (1e-200) and the result is
    accurate to a few ε. It is valid only when f is analytic and written with complex-safe
    operations; f is evaluated in complex128 whatever x's dtype. As a guard, f is also evaluated at
    :math:`x - ihe_k`: a real-on-real analytic f has :math:`f(\bar w) = \overline{f(w)}`, so both
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

    .. math:: f'(z) = \frac{\operatorname{Im} f(z + ih)}{h} + O(h^2)

    Same requirements and the same conjugate-symmetry guard as :func:`complex_step`.

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


# ----------------------------------------------------------------------------- kinks


def crosses_kink(z_minus, z_plus, kinks: Sequence[float] = (0.0,)) -> np.ndarray:
    r"""True where a kink lies in the closed interval between z_minus and z_plus, elementwise.

    .. math:: \text{crosses}_j = \exists\, k \in \text{kinks}:\ \min(z^-_j, z^+_j) \le k \le \max(z^-_j, z^+_j)

    For an elementwise function of x, pass x - h and x + h. Inside a network, pass a layer's
    pre-activations at :math:`x - h e_k` and :math:`x + h e_k`: the difference quotient for
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


# ----------------------------------------------------------------------------- check_gradient


@dataclass
class GradcheckReport:
    """The outcome of :func:`check_gradient`; ``str(report)`` names the worst element and both values.

    ``ok`` is False when any compared element has relative error above ``rtol`` and also when no
    element was compared at all (every point near a kink): a skipped point is never a pass.
    """

    ok: bool
    max_rel_error: float
    worst_index: tuple
    analytic: float
    numerical: float
    n_checked: int
    n_kink_skipped: int
    method: str
    h: float
    rtol: float
    kink_indices: list[tuple] = field(default_factory=list)

    def __str__(self) -> str:
        status = "passed" if self.ok else "FAILED"
        if self.n_checked == 0:
            return (
                f"gradient check {status}: nothing compared, all {self.n_kink_skipped} points are within h of a kink "
                f"({self.method}, h={self.h:.2g})"
            )
        text = (
            f"gradient check {status}: max relative error {self.max_rel_error:.2g} (rtol {self.rtol:g}) "
            f"at index {self.worst_index}: analytic {self.analytic!r}, numerical {self.numerical!r} "
            f"({self.method}, h={self.h:.2g}); {self.n_checked} compared"
        )
        if self.n_kink_skipped:
            points = "point" if self.n_kink_skipped == 1 else "points"
            shown = ", ".join(map(str, self.kink_indices[:5])) + (", ..." if self.n_kink_skipped > 5 else "")
            text += f"; {self.n_kink_skipped} {points} within h of a kink not compared ({shown})"
        return text


def check_gradient(
    f: Callable[[np.ndarray], float],
    grad: Callable[[np.ndarray], np.ndarray] | np.ndarray,
    x,
    *,
    kinks: Callable[[np.ndarray, np.ndarray], np.ndarray] | Sequence[float] | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    h: float | np.ndarray | None = None,
    method: str = "central",
) -> GradcheckReport:
    r"""Compare the analytic gradient of a scalar function with a numerical one, element by element.

    .. math::
        e_i = \frac{|a_i - n_i|}{\max(|a_i|, |n_i|, \text{floor}_i)}, \qquad
        \text{ok} \iff \max_i e_i \le \text{rtol}

    over the elements not within h of a kink, where a is the analytic gradient and n the numerical
    one (:func:`central_difference` or :func:`complex_step`). The floor stops an element that is
    essentially zero from failing on noise: with ``atol`` given, :math:`\text{floor}_i = \text{atol}`.
    By default it is what the central difference can resolve, :math:`\text{floor}_i =
    \rho_i/\text{rtol}` with the round-off :math:`\rho_i = 8\varepsilon \max|f(x \pm h_i e_i)| / h_i`,
    so an element smaller than that passes when :math:`|a_i - n_i| \le \rho_i`
    (for the complex step, which has no round-off, the floor is 1e-300).

    Args:
        f: scalar function of an array shaped like x.
        grad: the analytic gradient, as ``grad(x)`` or as an array shaped like x.
        x: the point, any shape, float32 or float64 (the step follows its dtype).
        kinks: points to keep away from, never compared: a callable ``kinks(x, h)`` returning a
            boolean array shaped like x (True where :math:`x \pm h_i e_i` straddles a
            non-differentiable point; h is the array of steps), or for an elementwise f a sequence
            of kink locations in x itself (relu: ``[0.0]``).
        rtol: the largest relative error that passes (default 1e-7 for float64, 1e-3 for float32,
            whose central differences are only good to about :math:`\varepsilon_{32}^{2/3}`).
        atol: a fixed denominator floor instead of the round-off one.
        h: the step (central: default :math:`\varepsilon^{1/3}\max(1, |x_i|)`; complex: 1e-200).
        method: "central" (differences) or "complex" (step).

    Returns:
        A :class:`GradcheckReport`; ``report.ok`` is the verdict and ``str(report)`` the explanation.

    Raises:
        TypeError / ValueError: naming the argument: x not real or not finite, grad of the wrong
            shape, f not returning a finite scalar, a bad kinks, h, rtol or method.

    Examples:
        >>> report = check_gradient(lambda v: np.sum(np.maximum(v, 0)), lambda v: (v > 0) * 1.0,
        ...                         np.array([-1.0, 0.0, 2.0]), kinks=[0.0])
        >>> report.ok, report.n_checked, report.kink_indices
        (True, 2, [(1,)])
    """
    x = _as_point(x, "x")
    _check_method(method, ("central", "complex"))
    rtol = _check_rtol(rtol, x.dtype)
    if atol is not None and (not np.isscalar(atol) or not np.isfinite(atol) or atol <= 0):
        raise ValueError(f"atol must be a positive finite number, got {atol!r}")
    analytic = _analytic(grad, x)
    if method == "central":
        step = _steps(x, h)
        skip = _kink_mask(kinks, x, step)
        numerical, fmax = _central(f, x, step, ~skip)
        eps = np.finfo(x.dtype).eps
        floor = _ROUNDOFF_ULPS * eps * fmax / step.astype(np.float64) / rtol if atol is None else atol
        floor = np.maximum(floor, 1e-300)
        label = "central differences"
    else:
        h = _check_complex_h(COMPLEX_STEP if h is None else h)
        step = np.full(x.shape, h)
        skip = _kink_mask(kinks, x.astype(np.float64), step)
        numerical = _complex(f, x.astype(np.float64), h, ~skip)
        floor = 1e-300 if atol is None else atol
        label = "complex step"
    err = np.where(skip, -1.0, relative_error(analytic, numerical, floor))
    n_checked = int(np.count_nonzero(~skip))
    kink_indices = [tuple(int(i) for i in idx) for idx in np.argwhere(skip)]
    if n_checked == 0:
        nan = float("nan")
        return GradcheckReport(
            ok=False,
            max_rel_error=nan,
            worst_index=(),
            analytic=nan,
            numerical=nan,
            n_checked=0,
            n_kink_skipped=len(kink_indices),
            method=label,
            h=float(np.max(step)) if step.size else nan,
            rtol=rtol,
            kink_indices=kink_indices,
        )
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(err)), x.shape))
    max_err = float(err[worst])
    return GradcheckReport(
        ok=max_err <= rtol,
        max_rel_error=max_err,
        worst_index=worst,
        analytic=float(analytic[worst]),
        numerical=float(numerical[worst]),
        n_checked=n_checked,
        n_kink_skipped=len(kink_indices),
        method=label,
        h=float(step[worst]),
        rtol=rtol,
        kink_indices=kink_indices,
    )


# ----------------------------------------------------------------------------- directional check


def _structure(params, name: str) -> tuple[list, list[np.ndarray], Callable]:
    """(labels, arrays, rebuild) for an array, a list/tuple of arrays or a dict of arrays.

    labels are the dict's keys (in x's order), the list's positions, or None for a single array.
    """
    if isinstance(params, Mapping):
        keys = list(params)
        arrays = [_as_point(params[k], f"{name}[{k!r}]") for k in keys]
        return keys, arrays, lambda arrs: dict(zip(keys, arrs))
    if isinstance(params, (list, tuple)):
        arrays = [_as_point(p, f"{name}[{i}]") for i, p in enumerate(params)]
        return list(range(len(arrays))), arrays, lambda arrs: type(params)(arrs)
    return None, [_as_point(params, name)], lambda arrs: arrs[0]


def _grad_like(g, x, labels: list | None, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """The analytic gradient as arrays matching x's; dict keys may carry the notebook's 'd' prefix."""
    if labels is None:
        parts = [g]
        labels = [None]
    elif isinstance(x, Mapping):
        if not isinstance(g, Mapping):
            raise TypeError(f"grad must be (or return) a dict like x, got {type(g).__name__}")
        parts = []
        for k in labels:
            for key in (k, f"d{k}"):
                if key in g:
                    parts.append(g[key])
                    break
            else:
                raise ValueError(f"grad has no entry for parameter {k!r} (looked for {k!r} and 'd{k}')")
    else:
        if not isinstance(g, (list, tuple)):
            raise TypeError(f"grad must be (or return) a list of arrays like x, got {type(g).__name__}")
        if len(g) != len(arrays):
            raise ValueError(f"grad must hold {len(arrays)} arrays like x, got {len(g)}")
        parts = list(g)
    out = []
    for k, part, a in zip(labels, parts, arrays):
        where = "grad" if k is None else f"grad[{k!r}]"
        arr = np.asarray(part)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"{where} must be a real array, got dtype {arr.dtype}")
        if arr.shape != a.shape:
            raise ValueError(f"{where} must have the shape of x's entry {a.shape}, got {arr.shape}")
        out.append(arr.astype(np.float64))
    return out


@dataclass
class DirectionalReport:
    """The outcome of :func:`directional_check`: one analytic and one numerical slope per direction."""

    ok: bool
    max_rel_error: float
    worst_direction: int
    analytic: list[float]
    numerical: list[float]
    n_parameters: int
    h: float
    rtol: float

    def __str__(self) -> str:
        status = "passed" if self.ok else "FAILED"
        k = self.worst_direction
        which = "the gradient's own direction" if k == 0 else f"random direction {k}"
        return (
            f"directional check {status}: max relative error {self.max_rel_error:.2g} (rtol {self.rtol:g}) "
            f"along {which} of {len(self.analytic)}, over {self.n_parameters} parameters: "
            f"analytic {self.analytic[k]!r}, numerical {self.numerical[k]!r} (h={self.h:.2g})"
        )


def directional_check(
    f: Callable,
    grad,
    x,
    *,
    n_directions: int = 3,
    seed: int = 0,
    h: float | None = None,
    rtol: float | None = None,
) -> DirectionalReport:
    r"""Check the gradient of a function of many parameters along a few directions.

    .. math::
        \nabla f(x) \cdot v \approx \frac{f(x + hv) - f(x - hv)}{2h}, \qquad
        e = \frac{|a - n|}{\max(|n|, \|\nabla f(x)\|)}

    for unit vectors v: the first is the analytic gradient's own direction (it catches any error of
    scale), the others random (seeded). The error is relative to :math:`\|\nabla f\|`, the largest
    any directional slope can be: a random direction's slope is only about
    :math:`\|\nabla f\|/\sqrt{N}`. The points :math:`x \pm hv` are rounded to x's dtype and the
    analytic slope uses the displacement actually applied, so rounding of x + hv is not mistaken
    for a gradient error. Two evaluations of f per direction: suits models of any size.

    Args:
        f: scalar function of a structure like x.
        grad: the analytic gradient: a structure like x, or a callable returning one. For a dict,
            ``grad["W1"]`` or the notebook's ``grad["dW1"]`` is used for ``x["W1"]``; extra keys
            (``dA1``) are ignored.
        x: an array, a list/tuple of arrays or a dict of arrays (a network's parameters).
        n_directions: how many directions (at least 1).
        seed: seed of the random directions.
        h: the step along v (default :math:`\varepsilon^{1/3}\max(1, \max|x|)`, ε of the least
            precise array).
        rtol: the largest error that passes (default 1e-7; 1e-3 if any array is float32).

    Returns:
        A :class:`DirectionalReport`.

    Examples:
        >>> params = {"W": np.ones((2, 3)), "b": np.zeros(2)}
        >>> f = lambda p: float(np.sum(p["W"] ** 2) + np.sum(p["b"]))
        >>> directional_check(f, lambda p: {"dW": 2 * p["W"], "db": np.ones(2)}, params).ok
        True
    """
    labels, arrays, rebuild = _structure(x, "x")
    if not isinstance(n_directions, (int, np.integer)) or n_directions < 1:
        raise ValueError(f"n_directions must be a positive integer, got {n_directions!r}")
    if not arrays or sum(a.size for a in arrays) == 0:
        raise ValueError("x must hold at least one parameter")
    g_arrays = _grad_like(grad(rebuild([a.copy() for a in arrays])) if callable(grad) else grad, x, labels, arrays)
    coarsest = max((a.dtype for a in arrays), key=lambda d: np.finfo(d).eps)
    rtol = _check_rtol(rtol, coarsest)
    flat_x = np.concatenate([a.ravel().astype(np.float64) for a in arrays])
    flat_g = np.concatenate([g.ravel() for g in g_arrays])
    splits = np.cumsum([a.size for a in arrays])[:-1]
    if h is None:
        h = float(optimal_step(coarsest, np.max(np.abs(flat_x))))
    elif not np.isscalar(h) or not np.isfinite(h) or h <= 0:
        raise ValueError(f"h must be a positive finite number, got {h!r}")

    def rounded(flat):
        return [p.reshape(a.shape).astype(a.dtype) for p, a in zip(np.split(flat, splits), arrays)]

    def flat_of(parts):
        return np.concatenate([p.ravel().astype(np.float64) for p in parts])

    rng = np.random.default_rng(seed)
    g_norm = float(np.linalg.norm(flat_g))
    analytic, numerical, errors = [], [], []
    for k in range(n_directions):
        v = flat_g.copy() if (k == 0 and g_norm > 0) else rng.standard_normal(flat_x.size)
        v /= np.linalg.norm(v)
        plus, minus = rounded(flat_x + h * v), rounded(flat_x - h * v)
        displacement = flat_of(plus) - flat_of(minus)
        f_plus = _scalar(f(rebuild(plus)), f"x + h·v{k}")
        f_minus = _scalar(f(rebuild(minus)), f"x - h·v{k}")
        a = float(flat_g @ displacement) / (2 * h)
        n = (f_plus - f_minus) / (2 * h)
        scale = max(g_norm * float(np.linalg.norm(displacement)) / (2 * h), abs(n), 1e-300)
        analytic.append(a)
        numerical.append(n)
        errors.append(abs(a - n) / scale)
    worst = int(np.argmax(errors))
    return DirectionalReport(
        ok=errors[worst] <= rtol,
        max_rel_error=float(errors[worst]),
        worst_direction=worst,
        analytic=analytic,
        numerical=numerical,
        n_parameters=int(flat_x.size),
        h=float(h),
        rtol=rtol,
    )


# ----------------------------------------------------------------------------- step sweep


def step_sweep(
    f: Callable[[np.ndarray], np.ndarray],
    df: Callable[[np.ndarray], np.ndarray],
    x: float,
    hs=None,
    method: str = "central",
) -> tuple[np.ndarray, np.ndarray]:
    r"""Relative error of a finite difference of an elementwise f at x, for each step h.

    .. math::
        e(h) = \frac{|D_h f(x) - f'(x)|}{|f'(x)|}, \qquad
        D_h f = \frac{f(x+h) - f(x-h)}{2h}\ \text{(central)}\ \text{or}\ \frac{f(x+h) - f(x)}{h}\ \text{(forward)}

    On log axes this is the classic V: truncation, :math:`O(h^2)` (central) or :math:`O(h)`
    (forward), on the right; round-off :math:`O(\varepsilon/h)` on the left; the bottom near
    :func:`optimal_step`. Each h is rounded so that x ± h is exact; a step below the spacing of
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
