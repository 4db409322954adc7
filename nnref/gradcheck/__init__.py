r"""Gradient checking: compare an analytic gradient with one estimated from function values.

The checker nnref uses on itself, and the one to run on your own code. NumPy only.

* Central differences with the step chosen from the dtype and the scale of x,
  $h_i = \varepsilon^{1/3} \max(1, |x_i|)$: the step that balances the $O(h^2)$
  truncation error against the $O(\varepsilon/h)$ round-off error (not a fixed 1e-7). The
  step is rounded so that $x_i \pm h_i$ are exactly $h_i$ away from $x_i$.
* The complex step $f'(x) = \operatorname{Im} f(x + ih)/h$: no subtraction, so accurate to
  a few ε, for analytic functions written with complex-safe operations.
* Kinks: a point whose $[x - h, x + h]$ contains a non-differentiable point is flagged and
  counted, never compared and never counted as a pass.
* Relative error $|a - n| / \max(|a|, |n|, \text{floor})$. A check passes when the largest
  relative error is at most ``rtol`` (default 1e-7 for float64, 1e-3 for float32).
* A random-direction check for models with many parameters (two evaluations of f per direction),
  and a step sweep for the classic V-shaped error curve.
* Parameters as they are in your code: an array, or nested dicts, lists and tuples of arrays, as
  one argument or several, NumPy arrays, PyTorch tensors or JAX arrays (`check_gradients`). The
  report has one row per parameter (worst relative error and where, how many elements fail, the
  step and method) and names every failing element, ``W1[3, 2]``.
* Vector-valued functions: the Jacobian entry by entry, and for large outputs the VJP along random
  cotangents and the JVP along random directions (`check_jacobian`, `check_vjp`, `check_jvp`);
  second order: Hessian-vector products against differences of gradients (`check_hvp`).
  `nnref.testing` turns each into an assertion for a test suite.

float32 inputs stay float32: f is evaluated in the dtype you gave, and the step comes from that
dtype's ε ($\varepsilon_{32}^{1/3} \approx 4.9 \cdot 10^{-3}$), so expect errors near
$\varepsilon_{32}^{2/3} \approx 2.4 \cdot 10^{-5}$, not 1e-10.
"""

from __future__ import annotations

from nnref.gradcheck._complex import COMPLEX_STEP, complex_step, elementwise_complex_step
from nnref.gradcheck._differences import central_difference, elementwise_derivative, step_sweep
from nnref.gradcheck._directional import DirectionalReport, directional_check
from nnref.gradcheck._gradients import check_gradients
from nnref.gradcheck._kinks import crosses_kink
from nnref.gradcheck._report import Failure, ParameterResult, TreeReport
from nnref.gradcheck._scalar import GradcheckReport, check_gradient
from nnref.gradcheck._steps import FLOOR, optimal_step, relative_error
from nnref.gradcheck._vector import check_hvp, check_jacobian, check_jvp, check_vjp

__all__ = [
    "COMPLEX_STEP",
    "FLOOR",
    "DirectionalReport",
    "Failure",
    "GradcheckReport",
    "ParameterResult",
    "TreeReport",
    "central_difference",
    "check_gradient",
    "check_gradients",
    "check_hvp",
    "check_jacobian",
    "check_jvp",
    "check_vjp",
    "complex_step",
    "crosses_kink",
    "directional_check",
    "elementwise_complex_step",
    "elementwise_derivative",
    "optimal_step",
    "relative_error",
    "step_sweep",
]
