r"""`check_gradient`: every element of a scalar function's gradient against a numerical one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from nnref.gradcheck._complex import COMPLEX_STEP, _complex
from nnref.gradcheck._differences import _central
from nnref.gradcheck._kinks import _kink_mask
from nnref.gradcheck._steps import _steps, relative_error
from nnref.gradcheck._validate import _analytic, _as_point, _check_complex_h, _check_method, _check_rtol

_ROUNDOFF_ULPS = 8
"""How many ε of |f| one evaluation of f is assumed to be off by, for the automatic floor."""


@dataclass
class _Comparison:
    """One array's elementwise comparison: the error is -1 where a kink set the element aside."""

    error: np.ndarray
    skip: np.ndarray
    numerical: np.ndarray
    step: np.ndarray
    method: str


def _check_atol(atol) -> None:
    if atol is not None and (not np.isscalar(atol) or not np.isfinite(atol) or atol <= 0):
        raise ValueError(f"atol must be a positive finite number, got {atol!r}")


def _compare(f: Callable, analytic: np.ndarray, x: np.ndarray, kinks, rtol: float, atol, h, method: str) -> _Comparison:
    """Numerical gradient of f at x (central or complex), and its relative error against analytic."""
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
    error = np.where(skip, -1.0, relative_error(analytic, numerical, floor))
    return _Comparison(error, skip, numerical, step, label)


@dataclass
class GradcheckReport:
    """The outcome of `check_gradient`; ``str(report)`` names the worst element and both values.

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

    $$
    e_i = \frac{|a_i - n_i|}{\max(|a_i|, |n_i|, \text{floor}_i)}, \qquad
    \text{ok} \iff \max_i e_i \le \text{rtol}
    $$

    over the elements not within h of a kink, where a is the analytic gradient and n the numerical
    one (`central_difference` or `complex_step`). The floor stops an element that is
    essentially zero from failing on noise: with ``atol`` given, $\text{floor}_i = \text{atol}$.
    By default it is what the central difference can resolve, $\text{floor}_i =
    \rho_i/\text{rtol}$ with the round-off $\rho_i = 8\varepsilon \max|f(x \pm h_i e_i)| / h_i$,
    so an element smaller than that passes when $|a_i - n_i| \le \rho_i$
    (for the complex step, which has no round-off, the floor is 1e-300).

    Args:
        f: scalar function of an array shaped like x.
        grad: the analytic gradient, as ``grad(x)`` or as an array shaped like x.
        x: the point, any shape, float32 or float64 (the step follows its dtype).
        kinks: points to keep away from, never compared: a callable ``kinks(x, h)`` returning a
            boolean array shaped like x (True where $x \pm h_i e_i$ straddles a
            non-differentiable point; h is the array of steps), or for an elementwise f a sequence
            of kink locations in x itself (relu: ``[0.0]``).
        rtol: the largest relative error that passes (default 1e-7 for float64, 1e-3 for float32,
            whose central differences are only good to about $\varepsilon_{32}^{2/3}$).
        atol: a fixed denominator floor instead of the round-off one.
        h: the step (central: default $\varepsilon^{1/3}\max(1, |x_i|)$; complex: 1e-200).
        method: "central" (differences) or "complex" (step).

    Returns:
        A `GradcheckReport`; ``report.ok`` is the verdict and ``str(report)`` the explanation.

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
    _check_atol(atol)
    analytic = _analytic(grad, x)
    c = _compare(f, analytic, x, kinks, rtol, atol, h, method)
    skip, numerical, step, label = c.skip, c.numerical, c.step, c.method
    err = c.error
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
