r"""Vector-valued functions and second order: the Jacobian, VJP and JVP checks and the Hessian-vector product check.

A Jacobian has as many columns as there are parameters and as many rows as outputs; for large
outputs it is never formed. The VJP check projects the outputs on a few random cotangents u
(so $u^\top J$ is a gradient, checked element by element), the JVP check moves the parameters
along a few random directions v (so $Jv$ is a vector of outputs, checked element by element), and
the Hessian-vector product is checked against a central difference of the gradient along v.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnref.gradcheck._kinks import _kink_mask
from nnref.gradcheck._report import TreeReport, collect, summarise
from nnref.gradcheck._scalar import _ROUNDOFF_ULPS, _check_atol
from nnref.gradcheck._steps import _steps, optimal_step, relative_error
from nnref.gradcheck._tree import Tree, _framework, _native, element_name, flatten_args, match_leaves, to_numpy
from nnref.gradcheck._validate import _check_rtol


def _output(value, what: str) -> np.ndarray:
    """f's value as a finite real float64 array (a tensor is converted)."""
    arr = to_numpy(value)
    arr = np.asarray(arr) if not isinstance(arr, (str, bytes)) else np.asarray(None, dtype=object)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"f must return a real array, got {type(value).__name__} of dtype {arr.dtype} at {what}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"f returned NaN or inf at {what}; the derivatives need finite values around the point")
    return arr.astype(np.float64)


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _columns(f: Callable, tree: Tree, k: int, step: np.ndarray, mask: np.ndarray, shape: tuple):
    """Central differences of a vector f along each element of leaf k: (columns, largest |f| seen)."""
    leaf = tree.leaves[k]
    cols = np.full(leaf.array.shape + shape, np.nan)
    fmax = np.zeros(leaf.array.shape + shape)
    arrays = tree.arrays()
    work = arrays[k]
    for idx in np.ndindex(leaf.array.shape):
        if not mask[idx]:
            continue
        orig = work[idx]
        values = []
        for sign in (1, -1):
            work[idx] = orig + sign * step[idx]
            values.append(_output(tree.call(f, [a.copy() for a in arrays]), f"{element_name(leaf.name, idx)} ± h"))
            if values[-1].shape != shape:
                raise ValueError(
                    f"f must return the same shape everywhere: {shape} at the point, {values[-1].shape} at {element_name(leaf.name, idx)} ± h"
                )
        work[idx] = orig
        cols[idx] = (values[0] - values[1]) / (2 * np.float64(step[idx]))
        fmax[idx] = np.maximum(np.abs(values[0]), np.abs(values[1]))
    return cols, fmax


def _leaf_kinks(kinks, name):
    return (lambda x, h: kinks(name, x, h)) if callable(kinks) else kinks


def _stacked_label(name: str, shape: tuple, tag: str) -> Callable[[int], str]:
    """Names for an array stacked over projections or directions: ``W1[3, 2] (u2)``."""
    size = max(int(np.prod(shape, dtype=np.int64)), 1)
    return lambda i: f"{element_name(name, np.unravel_index(i % size, shape) if shape else ())} ({tag}{i // size + 1})"


def _floor(fmax, step, eps, rtol, atol):
    if atol is not None:
        return atol
    return np.maximum(_ROUNDOFF_ULPS * eps * fmax / step / rtol, 1e-300)


def check_jacobian(f: Callable, jacobian, *args, kinks=None, rtol=None, atol=None, h=None) -> TreeReport:
    r"""Check the Jacobian of a vector-valued function of parameter trees, entry by entry.

    $$
    J_{jk} = \frac{\partial y_j}{\partial x_k} \approx \frac{y_j(x + h e_k) - y_j(x - h e_k)}{2h}
    $$

    Two evaluations of f per parameter element give a whole column. For large outputs, check
    `check_vjp` or `check_jvp` instead: they never form J.

    Args:
        f: ``f(*args)`` returns an array y (or a tensor) of any shape.
        jacobian: ``jacobian(*args)`` or its value: a structure like the arguments whose entry for
            a parameter of shape P has shape ``y.shape + P`` (as ``torch.autograd.functional.jacobian``
            and ``jax.jacobian`` lay it out).
        *args: the point: arrays or nested dicts, lists and tuples of them.
        kinks: as in `check_gradients` (a parameter element set aside sets aside its column).
        rtol: default 1e-7, or 1e-3 if y or the parameter is float32.
        atol: a fixed denominator floor instead of the round-off one.
        h: the step (default $\varepsilon^{1/3}\max(1, |x_k|)$).

    Returns:
        A `TreeReport` with one row per parameter; an entry is named ``∂y[j]/∂W1[3, 2]``.

    Examples:
        >>> W = np.array([[1.0, 2.0], [0.5, -1.0]])
        >>> report = check_jacobian(lambda W: np.tanh(W @ [1.0, 2.0]),
        ...                         lambda W: np.einsum("j,jk,l->jkl", 1 - np.tanh(W @ [1.0, 2.0]) ** 2, np.eye(2), [1.0, 2.0]), W)
        >>> report.ok, report["W"].n_checked
        (True, 8)
    """
    _check_atol(atol)
    tree = flatten_args(f, args)
    y0 = _output(tree.call(f, tree.arrays()), "the point")
    shapes = [y0.shape + leaf.array.shape for leaf in tree.leaves]
    J = match_leaves(to_numpy(jacobian(*args)) if callable(jacobian) else jacobian, tree, "jacobian", shapes)
    parts = []
    for k, (leaf, a) in enumerate(zip(tree.leaves, J)):
        x = leaf.array
        leaf_rtol = _check_rtol(rtol, x.dtype)
        step = _steps(x, h)
        skip = _kink_mask(_leaf_kinks(kinks, leaf.name), x, step)
        cols, fmax = _columns(f, tree, k, step, ~skip, y0.shape)
        # the columns are indexed (param..., out...); the Jacobian (out..., param...)
        n = np.moveaxis(cols, tuple(range(x.ndim)), tuple(range(y0.ndim, y0.ndim + x.ndim)))
        fm = np.moveaxis(fmax, tuple(range(x.ndim)), tuple(range(y0.ndim, y0.ndim + x.ndim)))
        st = np.broadcast_to(step.astype(np.float64), a.shape)
        floor = _floor(fm, st, np.finfo(x.dtype).eps, leaf_rtol, atol)
        skipped = np.broadcast_to(skip, a.shape)
        error = np.where(skipped, -1.0, relative_error(a, n, floor))

        def label(i, leaf=leaf, x=x):
            idx = np.unravel_index(i, y0.shape + x.shape)
            return f"∂{element_name('y', idx[: y0.ndim])}/∂{element_name(leaf.name, idx[y0.ndim :])}"

        parts.append(summarise(leaf.name, a.shape, error, a, n, step, "central differences", leaf_rtol, label))
    return collect("Jacobian check", parts)


def _seeded(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    return np.random.default_rng(int(seed))


def check_vjp(
    f: Callable, vjp: Callable, *args, n_projections: int = 3, seed: int = 0, kinks=None, rtol=None, atol=None, h=None
) -> TreeReport:
    r"""Check a vector-Jacobian product (a hand-written backward) along a few random cotangents.

    $$
    (u^\top J)_k \approx u \cdot \frac{y(x + h e_k) - y(x - h e_k)}{2h}
    $$

    for u drawn from a standard normal (seeded), each shaped like y: the projection turns a large
    output into a scalar, so $u^\top J$ is a gradient, checked element by element as in
    `check_gradients`. The two evaluations of f per parameter element serve every u.

    Args:
        f: ``f(*args)`` returns an array y (or a tensor) of any shape.
        vjp: ``vjp(u, *args)`` returns $u^\top J$: a structure like the arguments (a tuple
            with one entry per argument when there are several). u is of y's kind (a tensor for
            a tensor y).
        *args: the point: arrays or nested dicts, lists and tuples of them (NumPy, PyTorch, JAX).
        n_projections: how many cotangents u.
        seed: the seed of the cotangents.
        kinks: as in `check_gradients`.
        rtol: as in `check_gradients` (float32 if either the parameter or y is).
        atol: as in `check_gradients`.
        h: as in `check_gradients`.

    Returns:
        A `TreeReport`, one row per parameter; an element is named ``W1[3, 2] (u2)``.

    Examples:
        >>> A = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
        >>> check_vjp(lambda x: np.sin(A @ x), lambda u, x: A.T @ (u * np.cos(A @ x)), np.ones(3)).ok
        True
    """
    _check_atol(atol)
    n_projections = _positive_int(n_projections, "n_projections")
    tree = flatten_args(f, args)
    y_native = tree.call(f, tree.arrays())
    y0 = _output(y_native, "the point")
    y_dtype = np.asarray(to_numpy(y_native)).dtype
    y_dtype = y_dtype if y_dtype.kind == "f" else np.dtype(np.float64)
    rng = _seeded(seed)
    U = rng.standard_normal((n_projections, *y0.shape)).astype(y_dtype)
    kind = _framework(y_native)
    analytic = [match_leaves(to_numpy(vjp(_native(kind, y_native, u), *args)), tree, "vjp") for u in U]
    U = U.astype(np.float64)
    axes = (tuple(range(-y0.ndim, 0)), tuple(range(1, y0.ndim + 1)))
    parts = []
    for k, leaf in enumerate(tree.leaves):
        x = leaf.array
        leaf_rtol = _check_rtol(rtol, max(x.dtype, y_dtype, key=lambda d: np.finfo(d).eps))
        step = _steps(x, h)
        skip = _kink_mask(_leaf_kinks(kinks, leaf.name), x, step)
        cols, fmax = _columns(f, tree, k, step, ~skip, y0.shape)
        numerical = np.moveaxis(np.tensordot(cols, U, axes=axes), -1, 0)
        roundoff = np.moveaxis(np.tensordot(fmax, np.abs(U), axes=axes), -1, 0)
        eps = max(np.finfo(x.dtype).eps, np.finfo(y_dtype).eps)
        floor = _floor(roundoff, step.astype(np.float64), eps, leaf_rtol, atol)
        a = np.stack([part[k] for part in analytic])
        error = np.where(skip, -1.0, relative_error(a, numerical, floor))

        label = _stacked_label(leaf.name, x.shape, "u")

        parts.append(summarise(leaf.name, x.shape, error, a, numerical, step, "central differences", leaf_rtol, label))
    return collect(f"VJP check ({n_projections} random cotangents)", parts)


def _directions(tree: Tree, rng, h):
    """A random unit direction over all leaves; x ± hv rounded to each leaf's dtype, and the tangent applied."""
    v = [rng.standard_normal(leaf.array.shape) for leaf in tree.leaves]
    norm = np.sqrt(sum(float(np.sum(a * a)) for a in v))
    plus, minus, tangent = [], [], []
    for leaf, a in zip(tree.leaves, v):
        x = leaf.array.astype(np.float64)
        p, m = (x + h * a / norm).astype(leaf.array.dtype), (x - h * a / norm).astype(leaf.array.dtype)
        plus.append(p)
        minus.append(m)
        tangent.append((p.astype(np.float64) - m.astype(np.float64)) / (2 * h))
    return plus, minus, tangent


def _direction_step(tree: Tree, h) -> tuple[float, np.dtype]:
    coarsest = max((leaf.array.dtype for leaf in tree.leaves), key=lambda d: np.finfo(d).eps)
    if h is None:
        scale = max(float(np.max(np.abs(leaf.array), initial=0.0)) for leaf in tree.leaves)
        return float(optimal_step(coarsest, scale)), coarsest
    if not np.isscalar(h) or not np.isfinite(h) or h <= 0:
        raise ValueError(f"h must be a positive finite number, got {h!r}")
    return float(h), coarsest


def _tangent_value(tree: Tree, tangent: list[np.ndarray]):
    """The tangent as the user's structure: one tree, or a tuple of them for several arguments."""
    value = tree.native([t.astype(leaf.array.dtype) for leaf, t in zip(tree.leaves, tangent)])
    return value[0] if len(value) == 1 else value


def check_jvp(
    f: Callable, jvp: Callable, *args, n_directions: int = 3, seed: int = 0, rtol=None, atol=None, h=None
) -> TreeReport:
    r"""Check a Jacobian-vector product (a forward-mode derivative) along a few random directions.

    $$
    J v \approx \frac{y(x + h v) - y(x - h v)}{2h}
    $$

    for unit directions v over all parameters at once (seeded), each output element compared.
    Two evaluations of f per direction, whatever the number of parameters or outputs. The points
    $x \pm hv$ are rounded to each parameter's dtype and jvp gets the displacement actually
    applied, divided by 2h.

    Args:
        f: ``f(*args)`` returns an array y (or a tensor) of any shape.
        jvp: ``jvp(v, *args)`` returns $Jv$ shaped like y; v is a structure like the arguments
            (a tuple with one entry per argument when there are several).
        *args: the point.
        n_directions: how many directions v.
        seed: the seed of the directions.
        rtol: as in `check_gradients`.
        atol: as in `check_gradients`.
        h: the step along v (default $\varepsilon^{1/3}\max(1, \max|x|)$).

    Returns:
        A `TreeReport` with one row per direction; an element is named ``y[4] (v1)``.

    Examples:
        >>> A = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
        >>> check_jvp(lambda x: np.sin(A @ x), lambda v, x: np.cos(A @ x) * (A @ v), np.ones(3)).ok
        True
    """
    _check_atol(atol)
    n_directions = _positive_int(n_directions, "n_directions")
    tree = flatten_args(f, args)
    y_native = tree.call(f, tree.arrays())
    y0 = _output(y_native, "the point")
    h, coarsest = _direction_step(tree, h)
    y_dtype = np.asarray(to_numpy(y_native)).dtype
    if y_dtype.kind == "f" and np.finfo(y_dtype).eps > np.finfo(coarsest).eps:
        coarsest = y_dtype
    leaf_rtol = _check_rtol(rtol, coarsest)
    rng = _seeded(seed)
    parts = []
    for d in range(n_directions):
        plus, minus, tangent = _directions(tree, rng, h)
        y_plus = _output(tree.call(f, plus), f"x + h·v{d + 1}")
        y_minus = _output(tree.call(f, minus), f"x - h·v{d + 1}")
        value = to_numpy(jvp(_tangent_value(tree, tangent), *args))
        a = np.asarray(value)
        if a.dtype.kind not in "fiub" or a.shape != y0.shape:
            raise ValueError(f"jvp must return a real array shaped like f's output {y0.shape}, got {a.dtype} {a.shape}")
        a = a.astype(np.float64)
        numerical = (y_plus - y_minus) / (2 * h)
        floor = _floor(np.maximum(np.abs(y_plus), np.abs(y_minus)), h, np.finfo(coarsest).eps, leaf_rtol, atol)
        error = relative_error(a, numerical, floor)
        name = f"v{d + 1}"
        label = lambda i, name=name: f"{element_name('y', np.unravel_index(i, y0.shape) if y0.shape else ())} ({name})"  # noqa: E731
        parts.append(
            summarise(name, y0.shape, error, a, numerical, np.array([h]), "central differences", leaf_rtol, label)
        )
    return collect(f"JVP check ({n_directions} random directions)", parts, row_label="direction")


def check_hvp(
    grad: Callable, hvp: Callable, *args, n_directions: int = 3, seed: int = 0, rtol=None, atol=None, h=None
) -> TreeReport:
    r"""Check a Hessian-vector product against central differences of the gradient.

    $$
    H v \approx \frac{\nabla f(x + h v) - \nabla f(x - h v)}{2h}
    $$

    for a few random unit directions v (seeded), element by element in every parameter. Check the
    gradient itself first (`check_gradients`): this compares hvp with the gradient you give.

    Args:
        grad: ``grad(*args)`` returns the gradient, a structure like the arguments.
        hvp: ``hvp(v, *args)`` returns $Hv$, a structure like the arguments; v is one too.
        *args: the point.
        n_directions: how many directions v.
        seed: the seed of the directions.
        rtol: as in `check_gradients`.
        atol: as in `check_gradients`.
        h: the step along v (default $\varepsilon^{1/3}\max(1, \max|x|)$).

    Returns:
        A `TreeReport`, one row per parameter; an element is named ``W1[3, 2] (v2)``.

    Examples:
        >>> A = np.array([[2.0, 1.0], [1.0, 3.0]])
        >>> grad = lambda x: A @ x + np.exp(x)  # of x·Ax/2 + sum(exp(x))
        >>> check_hvp(grad, lambda v, x: A @ v + np.exp(x) * v, np.array([0.5, -1.0])).ok
        True
    """
    _check_atol(atol)
    n_directions = _positive_int(n_directions, "n_directions")
    tree = flatten_args(grad, args)
    h, _ = _direction_step(tree, h)
    rng = _seeded(seed)
    analytic, numerical, roundoff = ([[] for _ in tree.leaves] for _ in range(3))
    for _ in range(n_directions):
        plus, minus, tangent = _directions(tree, rng, h)
        g_plus = match_leaves(to_numpy(tree.call(grad, plus)), tree, "grad")
        g_minus = match_leaves(to_numpy(tree.call(grad, minus)), tree, "grad")
        hv = match_leaves(to_numpy(hvp(_tangent_value(tree, tangent), *args)), tree, "hvp")
        for k in range(len(tree.leaves)):
            analytic[k].append(hv[k])
            numerical[k].append((g_plus[k] - g_minus[k]) / (2 * h))
            roundoff[k].append(np.maximum(np.abs(g_plus[k]), np.abs(g_minus[k])))
    parts = []
    for k, leaf in enumerate(tree.leaves):
        x = leaf.array
        leaf_rtol = _check_rtol(rtol, x.dtype)
        a, n, r = np.stack(analytic[k]), np.stack(numerical[k]), np.stack(roundoff[k])
        error = relative_error(a, n, _floor(r, h, np.finfo(x.dtype).eps, leaf_rtol, atol))
        label = _stacked_label(leaf.name, x.shape, "v")
        parts.append(
            summarise(leaf.name, x.shape, error, a, n, np.array([h]), "central differences of grad", leaf_rtol, label)
        )
    return collect(f"Hessian-vector product check ({n_directions} random directions)", parts)
