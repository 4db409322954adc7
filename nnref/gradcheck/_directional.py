r"""`directional_check`: the gradient of a model with many parameters along a few directions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nnref.gradcheck._steps import optimal_step
from nnref.gradcheck._tree import flatten_args, match_leaves
from nnref.gradcheck._validate import _check_rtol, _scalar


@dataclass
class DirectionalReport:
    """The outcome of `directional_check`: one analytic and one numerical slope per direction."""

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

    $$
    \nabla f(x) \cdot v \approx \frac{f(x + hv) - f(x - hv)}{2h}, \qquad
    e = \frac{|a - n|}{\max(|n|, \|\nabla f(x)\|)}
    $$

    for unit vectors v: the first is the analytic gradient's own direction (it catches any error of
    scale), the others random (seeded). The error is relative to $\|\nabla f\|$, the largest
    any directional slope can be: a random direction's slope is only about
    $\|\nabla f\|/\sqrt{N}$. The points $x \pm hv$ are rounded to x's dtype and the
    analytic slope uses the displacement actually applied, so rounding of x + hv is not mistaken
    for a gradient error. Two evaluations of f per direction: suits models of any size.

    Args:
        f: scalar function of a structure like x.
        grad: the analytic gradient: a structure like x, or a callable returning one. For a dict,
            ``grad["W1"]`` or the notebook's ``grad["dW1"]`` is used for ``x["W1"]``; extra keys
            (``dA1``) are ignored.
        x: an array, or nested dicts, lists and tuples of arrays (a network's parameters), named
            and converted (PyTorch tensors, JAX arrays) exactly as `check_gradients` does.
        n_directions: how many directions (at least 1).
        seed: seed of the random directions.
        h: the step along v (default $\varepsilon^{1/3}\max(1, \max|x|)$, ε of the least
            precise array).
        rtol: the largest error that passes (default 1e-7; 1e-3 if any array is float32).

    Returns:
        A `DirectionalReport`.

    Examples:
        >>> params = {"W": np.ones((2, 3)), "b": np.zeros(2)}
        >>> f = lambda p: float(np.sum(p["W"] ** 2) + np.sum(p["b"]))
        >>> directional_check(f, lambda p: {"dW": 2 * p["W"], "db": np.ones(2)}, params).ok
        True
    """
    if not isinstance(n_directions, (int, np.integer)) or n_directions < 1:
        raise ValueError(f"n_directions must be a positive integer, got {n_directions!r}")
    tree = flatten_args(f, (x,))  # the leaves named as check_gradients names them (W1, layers[0].W)
    arrays = tree.arrays()

    def rebuild(parts: list[np.ndarray]):
        return tree.native(parts)[0]

    g_arrays = match_leaves(grad(rebuild(tree.arrays())) if callable(grad) else grad, tree, "grad")
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
