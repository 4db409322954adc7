r"""Gradient checking: compare an analytic gradient with one estimated from function values.

The checker nnref uses on itself, and the one to run on your own code.

* Central differences with the step chosen from the dtype and the scale of x:
  :math:`h_i = \varepsilon^{1/3} \max(1, |x_i|)`, the step that balances the :math:`O(h^2)`
  truncation error against the :math:`O(\varepsilon/h)` round-off error (not a fixed 1e-7).
* The complex step :math:`f'(x) = \operatorname{Im} f(x + ih)/h`, with no subtraction and hence
  accurate to a few ε, for analytic functions written with complex-safe operations.
* Kink awareness: a point whose :math:`[x - h, x + h]` straddles a non-differentiable point is
  flagged and counted, never compared and never counted as a pass.
* Relative error :math:`|a - n| / \max(|a|, |n|, \text{floor})`, with floor = 1e-12 by default so
  that two values that are both essentially zero compare as equal. A check passes when the
  largest relative error is at most ``rtol`` (default 1e-7; the classic course used 2e-7).
* A random-direction check for models with many parameters, and a step sweep for the classic
  V-shaped error curve.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
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


def _as_float_array(x, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu" or arr.dtype == np.float16:
        raise TypeError(f"{name} must be a real float32/float64 array (or integers), got dtype {arr.dtype}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it has {np.count_nonzero(~np.isfinite(arr))} NaN/inf entries")
    return arr


def optimal_step(dtype=np.float64, scale=1.0, method: str = "central"):
    r"""The step that balances truncation and round-off: :math:`\varepsilon^{1/3}` (central) or
    :math:`\varepsilon^{1/2}` (forward), times ``max(1, |scale|)``."""
    eps = np.finfo(dtype).eps
    power = {"central": 1 / 3, "forward": 1 / 2}.get(method)
    if power is None:
        raise ValueError(f"method must be 'central' or 'forward', got {method!r}")
    return eps**power * np.maximum(1.0, np.abs(scale))


def _exact_step(x: np.ndarray, h) -> np.ndarray:
    """Round h so that x + h and x - h differ from x by exactly h (no representation error)."""
    h = np.asarray(h, dtype=x.dtype)
    return ((x + h) - x).astype(x.dtype)


def relative_error(a, n, floor: float = FLOOR) -> np.ndarray:
    """|a - n| / max(|a|, |n|, floor), elementwise."""
    a = np.asarray(a, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)


def _scalar(value, what: str) -> float:
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(f"f must return a scalar {what}, got an array of shape {arr.shape}")
    return arr.reshape(()).item()


def central_difference(f: Callable, x, h=None) -> np.ndarray:
    r"""Numerical gradient of a scalar function by central differences, one coordinate at a time.

    :math:`g_i \approx \bigl(f(x + h_i e_i) - f(x - h_i e_i)\bigr) / (2 h_i)`; error
    :math:`O(h^2) + O(\varepsilon/h)`.
    """
    x = _as_float_array(x, "x")
    h = _exact_step(x, optimal_step(x.dtype, x) if h is None else np.broadcast_to(h, x.shape))
    grad = np.empty(x.shape, dtype=np.float64)
    work = x.copy()
    for idx in np.ndindex(x.shape):
        orig = work[idx]
        work[idx] = orig + h[idx]
        plus = _scalar(f(work), "value")
        work[idx] = orig - h[idx]
        minus = _scalar(f(work), "value")
        work[idx] = orig
        grad[idx] = (plus - minus) / (2 * h[idx])
    return grad.astype(x.dtype, copy=False)


def elementwise_derivative(f: Callable, z, h=None) -> np.ndarray:
    """f'(z) by central differences for an elementwise f, all points at once."""
    z = _as_float_array(z, "z")
    h = _exact_step(z, optimal_step(z.dtype, z) if h is None else np.broadcast_to(h, z.shape))
    return (np.asarray(f(z + h)) - np.asarray(f(z - h))) / (2 * h)


def _complex_eval(f: Callable, x: np.ndarray):
    try:
        value = f(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            "complex step needs an analytic function written with complex-safe operations; "
            f"f rejected complex input: {exc}"
        ) from None
    value = np.asarray(value)
    if value.dtype.kind != "c":
        raise TypeError(
            "complex step needs an analytic function written with complex-safe operations; "
            f"f returned a real result (dtype {value.dtype}) for complex input"
        )
    return value


def complex_step(f: Callable, x, h: float = 1e-200) -> np.ndarray:
    r"""Gradient of a scalar analytic function: :math:`g_i = \operatorname{Im} f(x + i h e_i) / h`."""
    x = _as_float_array(x, "x").astype(np.float64)
    grad = np.empty(x.shape)
    work = x.astype(np.complex128)
    for idx in np.ndindex(x.shape):
        work[idx] = complex(x[idx], h)
        value = _complex_eval(f, work)
        if value.size != 1:
            raise ValueError(f"f must return a scalar value, got an array of shape {value.shape}")
        grad[idx] = value.reshape(()).imag / h
        work[idx] = x[idx]
    return grad


def elementwise_complex_step(f: Callable, z, h: float = 1e-200) -> np.ndarray:
    """f'(z) by the complex step for an elementwise analytic f, all points at once."""
    z = _as_float_array(z, "z").astype(np.float64)
    return _complex_eval(f, z + 1j * h).imag / h


def crosses_kink(z_minus, z_plus, kinks: Sequence[float] = (0.0,)) -> np.ndarray:
    """True where a kink lies in the closed interval between z_minus and z_plus, elementwise."""
    lo = np.minimum(z_minus, z_plus)
    hi = np.maximum(z_minus, z_plus)
    out = np.zeros(np.shape(lo), dtype=bool)
    for k in kinks:
        out |= (lo <= k) & (k <= hi)
    return out


@dataclass
class GradcheckReport:
    """The outcome of a gradient check; ``str(report)`` names the worst element and both values."""

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
    kink_indices: list = field(default_factory=list)

    def __str__(self) -> str:
        status = "ok" if self.ok else "FAILED"
        text = (
            f"gradient check {status}: max relative error {self.max_rel_error:.3g} (rtol {self.rtol:g}) "
            f"at index {self.worst_index}: analytic {self.analytic!r}, numerical {self.numerical!r} "
            f"({self.method}, h={self.h:.2g}); {self.n_checked} compared"
        )
        if self.n_kink_skipped:
            text += f"; {self.n_kink_skipped} within h of a kink not compared"
        return text


def check_gradient(
    f: Callable,
    grad: Callable | np.ndarray,
    x: np.ndarray,
    *,
    kinks: Callable | Sequence[float] | None = None,
    rtol: float = 1e-7,
    floor: float = FLOOR,
    h: float | np.ndarray | None = None,
    method: str = "central",
) -> GradcheckReport:
    """Compare the analytic gradient ``grad`` (a callable of x, or an array) with a numerical one.

    Args:
        f: scalar function of an array x.
        grad: the analytic gradient, as ``grad(x)`` or as an array shaped like x.
        x: the point (any shape, float32 or float64; the step follows its dtype).
        kinks: points to keep away from: a callable ``kinks(x, h) -> bool array`` (True where
            x ± h straddles a non-differentiable point), or for elementwise functions a sequence
            of kink locations in x itself (e.g. ``[0.0]`` for relu).
        rtol: the largest relative error that passes.
        floor: the denominator floor of the relative error.
        h: the step (default: the optimal step for x's dtype and scale).
        method: "central" or "complex".

    Returns:
        A GradcheckReport; ``report.ok`` is the verdict.
    """
    x = _as_float_array(x, "x")
    analytic = np.asarray(grad(x) if callable(grad) else grad)
    if analytic.shape != x.shape:
        raise ValueError(f"grad must have the shape of x {x.shape}, got {analytic.shape}")
    if method == "central":
        step = _exact_step(x, optimal_step(x.dtype, x) if h is None else np.broadcast_to(h, x.shape))
        numerical = central_difference(f, x, step)
    elif method == "complex":
        step = np.full(x.shape, 1e-200 if h is None else h)
        numerical = complex_step(f, x, 1e-200 if h is None else h)
    else:
        raise ValueError(f"method must be 'central' or 'complex', got {method!r}")
    if kinks is None:
        skip = np.zeros(x.shape, dtype=bool)
    elif callable(kinks):
        skip = np.broadcast_to(np.asarray(kinks(x, step), dtype=bool), x.shape)
    else:
        skip = crosses_kink(x - step, x + step, tuple(kinks))
    err = relative_error(analytic, numerical, floor)
    err = np.where(skip, -1.0, err)
    n_checked = int(np.count_nonzero(~skip))
    if n_checked:
        worst = np.unravel_index(int(np.argmax(err)), x.shape)
        max_err = float(err[worst])
    else:
        worst, max_err = (), 0.0
    return GradcheckReport(
        ok=bool(n_checked > 0 and max_err <= rtol),
        max_rel_error=max_err,
        worst_index=tuple(int(i) for i in worst),
        analytic=float(analytic[worst]) if n_checked else float("nan"),
        numerical=float(numerical[worst]) if n_checked else float("nan"),
        n_checked=n_checked,
        n_kink_skipped=int(np.count_nonzero(skip)),
        method="central differences" if method == "central" else "complex step",
        h=float(np.max(step)) if step.size else 0.0,
        rtol=rtol,
        kink_indices=[tuple(int(i) for i in idx) for idx in zip(*np.nonzero(skip))],
    )


def _flatten(params) -> tuple[list[np.ndarray], Callable]:
    if isinstance(params, Mapping):
        keys = sorted(params)
        arrays = [np.asarray(params[k]) for k in keys]
        return arrays, lambda arrs: dict(zip(keys, arrs))
    if isinstance(params, (list, tuple)):
        arrays = [np.asarray(p) for p in params]
        return arrays, lambda arrs: type(params)(arrs)
    return [np.asarray(params)], lambda arrs: arrs[0]


@dataclass
class DirectionalReport:
    """The outcome of a random-direction check."""

    ok: bool
    max_rel_error: float
    analytic: list[float]
    numerical: list[float]
    n_parameters: int
    rtol: float

    def __str__(self) -> str:
        status = "ok" if self.ok else "FAILED"
        pairs = ", ".join(f"{a:.12g} vs {n:.12g}" for a, n in zip(self.analytic, self.numerical))
        return (
            f"directional check {status}: max relative error {self.max_rel_error:.3g} (rtol {self.rtol:g}) "
            f"over {len(self.analytic)} random directions of {self.n_parameters} parameters "
            f"(analytic vs numerical: {pairs})"
        )


def directional_check(
    f: Callable, grad, x, *, n_directions: int = 3, seed: int = 0, h=None, rtol: float = 1e-7
) -> DirectionalReport:
    r"""Check :math:`\nabla f(x) \cdot v \approx (f(x + hv) - f(x - hv))/(2h)` along unit directions v.

    The first direction is the analytic gradient itself (which exposes any error of scale), the
    others are random. The error is measured relative to :math:`\max(|a|, |n|, \|\nabla f\|)`: a
    random direction's derivative is about :math:`\|\nabla f\|/\sqrt{N}`, far below the round-off
    of f's value for a large model, so the gradient's norm is the meaningful scale.
    ``x`` may be an array, a list/tuple of arrays or a dict of arrays (a network's parameters);
    ``f`` and ``grad`` take the same structure, and ``grad`` returns it (or is it). Two
    evaluations of f per direction, so it suits models of any size.
    """
    arrays, rebuild = _flatten(x)
    for i, a in enumerate(arrays):
        _as_float_array(a, f"x[{i}]")
    analytic_struct = grad(x) if callable(grad) else grad
    g_arrays, _ = _flatten(analytic_struct)
    if [a.shape for a in g_arrays] != [a.shape for a in arrays]:
        raise ValueError("grad must have the structure and shapes of x")
    flat_x = np.concatenate([a.ravel().astype(np.float64) for a in arrays])
    flat_g = np.concatenate([a.ravel().astype(np.float64) for a in g_arrays])
    sizes = [a.size for a in arrays]
    splits = np.cumsum(sizes)[:-1]

    def at(flat):
        parts = np.split(flat, splits)
        return rebuild([p.reshape(a.shape).astype(a.dtype) for p, a in zip(parts, arrays)])

    rng = np.random.default_rng(seed)
    scale = max(1.0, float(np.max(np.abs(flat_x))) if flat_x.size else 1.0)
    step = optimal_step(np.float64, scale) if h is None else h
    g_norm = float(np.linalg.norm(flat_g))
    analytic, numerical = [], []
    for k in range(n_directions):
        v = flat_g.copy() if (k == 0 and g_norm > 0) else rng.standard_normal(flat_x.size)
        v /= np.linalg.norm(v)
        plus = _scalar(f(at(flat_x + step * v)), "value")
        minus = _scalar(f(at(flat_x - step * v)), "value")
        numerical.append((plus - minus) / (2 * step))
        analytic.append(float(flat_g @ v))
    a, n = np.array(analytic), np.array(numerical)
    errs = np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), max(g_norm, FLOOR))
    max_err = float(np.max(errs))
    return DirectionalReport(max_err <= rtol, max_err, analytic, numerical, int(flat_x.size), rtol)


def step_sweep(f: Callable, df: Callable, x: float, hs=None, method: str = "central"):
    """Relative error of the finite difference of an elementwise f at x against df(x), per step h.

    Returns (hs, errors); plotted on log axes this is the classic V: truncation error O(h²)
    (central) or O(h) (forward) on the right, round-off O(ε/h) on the left.
    """
    hs = np.logspace(-16, -1, 61) if hs is None else np.asarray(hs, dtype=np.float64)
    x = np.float64(x)
    exact = float(np.asarray(df(np.array([x])))[0])
    errors = np.empty_like(hs)
    for i, h in enumerate(hs):
        h = float((x + h) - x)
        if method == "central":
            approx = (np.asarray(f(np.array([x + h])))[0] - np.asarray(f(np.array([x - h])))[0]) / (2 * h)
        elif method == "forward":
            approx = (np.asarray(f(np.array([x + h])))[0] - np.asarray(f(np.array([x])))[0]) / h
        else:
            raise ValueError(f"method must be 'central' or 'forward', got {method!r}")
        errors[i] = abs(approx - exact) / max(abs(exact), FLOOR)
    return hs, errors
