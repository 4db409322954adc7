r"""`check_gradients`: a scalar function of parameter trees, every element, failures named ``W1[3, 2]``."""

from __future__ import annotations

from collections.abc import Callable

from nnref.gradcheck._report import TreeReport, collect, summarise
from nnref.gradcheck._scalar import _check_atol, _compare
from nnref.gradcheck._tree import flatten_args, match_leaves, to_numpy
from nnref.gradcheck._validate import _check_method, _check_rtol


def _leaf_kinks(kinks, name: str):
    """check_gradient's kinks for one leaf: a callable kinks(name, x, h) is told which leaf it is."""
    if callable(kinks):
        return lambda x, h: kinks(name, x, h)
    return kinks


def check_gradients(
    f: Callable,
    grad,
    *args,
    kinks=None,
    rtol: float | None = None,
    atol: float | None = None,
    h: float | None = None,
    method: str = "central",
) -> TreeReport:
    r"""Check the gradient of a scalar function of one or more parameter trees, element by element.

    Each argument may be an array or a nested dict, list or tuple of arrays (a network's
    parameters); NumPy, PyTorch tensors and JAX arrays are accepted. Every element is compared as in
    `check_gradient`:

    $$
    e = \frac{|a - n|}{\max(|a|, |n|, \text{floor})}, \qquad
    n = \frac{f(x + h e_k) - f(x - h e_k)}{2h}, \quad h = \varepsilon^{1/3}\max(1, |x_k|)
    $$

    with ε from each array's own dtype. Costs two evaluations of f per element: for models with
    many parameters see `directional_check`.

    Args:
        f: ``f(*args)`` returns a real scalar (a float, a 0-d array or a one-element tensor).
        grad: the analytic gradient, ``grad(*args)`` or its value: a structure like the arguments
            (a tuple with one entry per argument when there are several). A dict may use the
            notebook's keys (``dW1`` for ``W1``); extra keys are ignored.
        *args: the point: the arguments of f.
        kinks: elements never compared because $x \pm h$ straddles a non-differentiable point:
            kink locations in the parameters' own values (``[0.0]``), or a callable
            ``kinks(name, x, h)`` returning a boolean mask shaped like the parameter called name
            (h is the array of steps).
        rtol: the largest relative error that passes (default per parameter: 1e-7 for float64,
            1e-3 for float32).
        atol: a fixed denominator floor instead of the round-off one.
        h: the step, one number for every parameter (default: the rule above).
        method: "central" (differences) or "complex" (step; NumPy code that accepts complex input).

    Returns:
        A `TreeReport`: ``report.ok``, one row per parameter (worst relative error and where, how
        many elements fail, the step and method) and ``report.failures``, every failing element by
        name, worst first. ``str(report)`` shows them.

    Examples:
        >>> import numpy as np
        >>> params = {"W": np.array([[1.0, 2.0], [3.0, 4.0]]), "b": np.array([0.5, -0.5])}
        >>> f = lambda p: float(np.sum(p["W"] ** 2) + np.sum(p["b"] ** 3))
        >>> wrong = lambda p: {"W": 2 * p["W"], "b": 3 * p["b"]}  # b's should be 3 b²
        >>> report = check_gradients(f, wrong, params)
        >>> report.ok, report["W"].n_failed, report["b"].n_failed, report.failures[0].element
        (False, 0, 2, 'b[1]')
    """
    _check_method(method, ("central", "complex"))
    _check_atol(atol)
    tree = flatten_args(f, args)
    analytic = match_leaves(to_numpy(grad(*args)) if callable(grad) else grad, tree, "grad")
    parts = []
    for k, (leaf, a) in enumerate(zip(tree.leaves, analytic)):
        arrays = tree.arrays()

        def f_leaf(x, k=k, arrays=arrays):
            arrays[k] = x
            return to_numpy(tree.call(f, arrays))

        leaf_rtol = _check_rtol(rtol, leaf.array.dtype)
        c = _compare(f_leaf, a, leaf.array, _leaf_kinks(kinks, leaf.name), leaf_rtol, atol, h, method)
        parts.append(summarise(leaf.name, leaf.array.shape, c.error, a, c.numerical, c.step, c.method, leaf_rtol))
    return collect("gradient check", parts)
