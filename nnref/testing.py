r"""Assertions for test suites, in the style of `numpy.testing`: they raise `AssertionError` with the report.

```python
from nnref.testing import assert_gradients_close

def test_my_layer_backward():
    assert_gradients_close(loss, loss_grad, params)   # params: a dict of arrays, tensors, ...
```

Each helper runs the check of the same name in `nnref.gradcheck`, passes its keyword arguments
through (``kinks``, ``rtol``, ``h``, ``method``, ...) and returns the report when the check passes,
so a test can look further (``report["W1"].max_rel_error``). A failure names every failing element
(``W1[3, 2]``) with both values, so pytest's output is the diagnosis.
"""

from __future__ import annotations

from collections.abc import Callable

from nnref import gradcheck

__all__ = [
    "assert_gradient_close",
    "assert_gradients_close",
    "assert_hvp_close",
    "assert_jacobian_close",
    "assert_jvp_close",
    "assert_vjp_close",
]


def _raise_unless(report, err_msg: str):
    if not report.ok:
        raise AssertionError(f"{err_msg}\n{report}" if err_msg else str(report))
    return report


def assert_gradients_close(f: Callable, grad, *args, err_msg: str = "", **options) -> gradcheck.TreeReport:
    """Assert that ``grad`` is the gradient of the scalar ``f`` at ``args`` (`nnref.gradcheck.check_gradients`).

    Args:
        f: ``f(*args)`` returns a real scalar.
        grad: ``grad(*args)`` or its value, structured like the arguments.
        *args: the point: arrays or nested dicts, lists and tuples of them (NumPy, PyTorch, JAX).
        err_msg: a line printed above the report on failure.
        **options: passed to `check_gradients` (``kinks``, ``rtol``, ``atol``, ``h``, ``method``).

    Returns:
        The passing `TreeReport`.

    Raises:
        AssertionError: with the report, naming each failing element.

    Examples:
        >>> import numpy as np
        >>> assert_gradients_close(lambda w: float(np.sum(w**2)), lambda w: 2 * w, np.ones(3)).ok
        True
        >>> assert_gradients_close(lambda w: float(np.sum(w**2)), lambda w: w, np.ones(3))
        Traceback (most recent call last):
        ...
        AssertionError: gradient check FAILED: 3 of 3 elements above rtol, in w
        ...
    """
    return _raise_unless(gradcheck.check_gradients(f, grad, *args, **options), err_msg)


def assert_gradient_close(f: Callable, grad, x, *, err_msg: str = "", **options) -> gradcheck.GradcheckReport:
    """Assert that ``grad`` is the gradient of ``f`` at the array ``x`` (`nnref.gradcheck.check_gradient`).

    Raises:
        AssertionError: with the report, naming the worst element and both values.
    """
    return _raise_unless(gradcheck.check_gradient(f, grad, x, **options), err_msg)


def assert_jacobian_close(f: Callable, jacobian, *args, err_msg: str = "", **options) -> gradcheck.TreeReport:
    """Assert that ``jacobian`` is the Jacobian of the vector-valued ``f`` (`nnref.gradcheck.check_jacobian`)."""
    return _raise_unless(gradcheck.check_jacobian(f, jacobian, *args, **options), err_msg)


def assert_vjp_close(f: Callable, vjp: Callable, *args, err_msg: str = "", **options) -> gradcheck.TreeReport:
    """Assert that ``vjp(u, *args)`` is $u^\\top J$ along random cotangents u (`nnref.gradcheck.check_vjp`)."""
    return _raise_unless(gradcheck.check_vjp(f, vjp, *args, **options), err_msg)


def assert_jvp_close(f: Callable, jvp: Callable, *args, err_msg: str = "", **options) -> gradcheck.TreeReport:
    """Assert that ``jvp(v, *args)`` is $Jv$ along random directions v (`nnref.gradcheck.check_jvp`)."""
    return _raise_unless(gradcheck.check_jvp(f, jvp, *args, **options), err_msg)


def assert_hvp_close(grad: Callable, hvp: Callable, *args, err_msg: str = "", **options) -> gradcheck.TreeReport:
    """Assert that ``hvp(v, *args)`` is $Hv$, against differences of ``grad`` (`nnref.gradcheck.check_hvp`)."""
    return _raise_unless(gradcheck.check_hvp(grad, hvp, *args, **options), err_msg)
