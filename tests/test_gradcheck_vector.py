"""nnref.gradcheck for vector-valued functions (Jacobian, VJP, JVP) and second order (Hessian-vector products)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import torch

from nnref import gradcheck
from nnref.gradcheck import _vector
from nnref.testing import assert_hvp_close, assert_jacobian_close, assert_jvp_close, assert_vjp_close

RNG = np.random.default_rng(11)
X = RNG.standard_normal((3, 5))
PARAMS = {"W": RNG.standard_normal((2, 3)), "b": RNG.standard_normal((2, 1))}


def layer(p):
    """tanh(W X + b): a (2, 5) output of a parameter dict."""
    return np.tanh(p["W"] @ X + p["b"])


def layer_jacobian(p):
    d = 1 - layer(p) ** 2  # (2, 5)
    eye = np.eye(2)
    return {
        "W": np.einsum("im,ik,jm->imkj", d, eye, X),  # ∂y[i, m]/∂W[k, j]
        "b": np.einsum("im,ik->imk", d, eye)[..., None],
    }


def layer_vjp(u, p):
    gz = u * (1 - layer(p) ** 2)
    return {"W": gz @ X.T, "b": gz.sum(axis=1, keepdims=True)}


def layer_jvp(v, p):
    return (1 - layer(p) ** 2) * (v["W"] @ X + v["b"])


def test_correct_derivatives_pass():
    assert assert_jacobian_close(layer, layer_jacobian, PARAMS).ok
    assert assert_vjp_close(layer, layer_vjp, PARAMS).ok
    assert assert_jvp_close(layer, layer_jvp, PARAMS).ok


def test_a_wrong_jacobian_entry_is_named_by_output_and_parameter():
    def wrong(p):
        J = layer_jacobian(p)
        J["W"][1, 3, 1, 2] += 0.1
        return J

    report = gradcheck.check_jacobian(layer, wrong, PARAMS)
    assert [f.element for f in report.failures] == ["∂y[1, 3]/∂W[1, 2]"]
    assert report["W"].n_checked == 2 * 5 * 2 * 3 and report["b"].ok


def test_a_wrong_vjp_element_is_named_with_its_cotangent():
    def wrong(u, p):
        g = layer_vjp(u, p)
        g["b"][1, 0] *= 1.001
        return g

    report = gradcheck.check_vjp(layer, wrong, PARAMS, n_projections=4)
    assert report["W"].ok and report["b"].n_failed == 4 and report["b"].n_checked == 8
    assert sorted(f.element for f in report.failures) == [f"b[1, 0] (u{k})" for k in range(1, 5)]


@pytest.mark.parametrize("factor", [1.0001, 0.999])
def test_a_slightly_wrong_jvp_fails(factor):
    report = gradcheck.check_jvp(layer, lambda v, p: layer_jvp(v, p) * factor, PARAMS, n_directions=2)
    assert not report.ok and [row.name for row in report.rows] == ["v1", "v2"]
    assert report.failures[0].element.startswith("y[") and report.failures[0].element.endswith(")")
    assert "direction" in str(report).splitlines()[1]


def test_jvp_is_checked_on_a_model_too_large_for_a_jacobian():
    n = 100_000
    w = RNG.standard_normal(n)

    def f(w):
        return np.array([np.sum(np.sin(w)), np.sum(w**2)])

    def jvp(v, w):
        return np.array([np.cos(w) @ v, 2 * w @ v])

    assert gradcheck.check_jvp(f, jvp, w).ok
    assert not gradcheck.check_jvp(f, lambda v, w: jvp(v, w) + [0, 1e-4], w).ok


def _logistic_loss(w):
    return float(np.sum(np.logaddexp(0.0, X.T @ w)))


def _logistic_grad(w):
    return X @ (1 / (1 + np.exp(-(X.T @ w))))


def _logistic_hvp(v, w):
    s = 1 / (1 + np.exp(-(X.T @ w)))
    return X @ (s * (1 - s) * (X.T @ v))


def test_hessian_vector_products_against_differences_of_gradients():
    w = RNG.standard_normal(3)
    assert gradcheck.check_gradients(_logistic_loss, _logistic_grad, w).ok
    assert assert_hvp_close(_logistic_grad, _logistic_hvp, w, n_directions=4).ok
    wrong = gradcheck.check_hvp(_logistic_grad, lambda v, w: X @ ((X.T @ v) / 4), w)  # s(1-s) taken at 0
    assert not wrong.ok and wrong["w"].n_failed > 0 and wrong.failures[0].element.endswith(")")


def test_hvp_over_a_parameter_tree_with_several_arguments():
    def grad(a, b):
        return np.exp(a) * b.sum(), np.full(b.shape, np.exp(a).sum())

    def hvp(v, a, b):
        va, vb = v
        return np.exp(a) * va * b.sum() + np.exp(a) * vb.sum(), np.full(b.shape, np.exp(a) @ va)

    a, b = np.array([0.1, -0.3]), np.array([1.0, 2.0, 0.5])
    report = gradcheck.check_hvp(grad, hvp, a, b)
    assert report.ok and [row.name for row in report.rows] == ["a", "b"]


def test_a_torch_autograd_function_with_a_hand_written_backward():
    class Cube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return z**3

        @staticmethod
        def backward(ctx, g):
            (z,) = ctx.saved_tensors
            return g * 3 * z * z

    class WrongCube(Cube):
        @staticmethod
        def backward(ctx, g):
            (z,) = ctx.saved_tensors
            return g * 3 * z * z.abs()  # wrong for z < 0

    def vjp_of(fn):
        def vjp(u, z):
            z = z.detach().requires_grad_()
            return torch.autograd.grad(fn.apply(z), z, u)[0]

        return vjp

    z = torch.tensor([[0.5, -1.5], [2.0, -0.25]], dtype=torch.float64)
    assert gradcheck.check_vjp(Cube.apply, vjp_of(Cube), z).ok
    report = gradcheck.check_vjp(WrongCube.apply, vjp_of(WrongCube), z, n_projections=1)
    assert sorted(f.element for f in report.failures) == [
        "x[0, 1] (u1)",
        "x[1, 1] (u1)",
    ]  # apply has no signature to name z


def test_float32_outputs_are_held_to_float32_tolerances():
    p32 = {k: v.astype(np.float32) for k, v in PARAMS.items()}
    for report in (
        gradcheck.check_vjp(layer, layer_vjp, p32),
        gradcheck.check_jvp(layer, layer_jvp, p32),
        gradcheck.check_jacobian(layer, layer_jacobian, p32),
    ):
        assert report.ok and {row.rtol for row in report.rows} == {1e-3}, str(report)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="n_projections must be a positive integer"):
        gradcheck.check_vjp(layer, layer_vjp, PARAMS, n_projections=0)
    with pytest.raises(ValueError, match="jvp must return a real array shaped like f's output"):
        gradcheck.check_jvp(layer, lambda v, p: np.ones(3), PARAMS)
    with pytest.raises(ValueError, match=r"jacobian for W must have shape \(2, 5, 2, 3\)"):
        gradcheck.check_jacobian(layer, lambda p: {"W": np.ones((2, 3)), "b": np.ones((2, 5, 2, 1))}, PARAMS)
    with pytest.raises(ValueError, match="f returned NaN or inf"):
        gradcheck.check_jvp(lambda w: np.full(2, np.nan), lambda v, w: v, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="no entry for parameter 'b'"):
        gradcheck.check_hvp(lambda p: {"W": p["W"]}, layer_vjp, PARAMS)


def test_testing_helpers_raise_with_the_report():
    with pytest.raises(AssertionError, match=r"(?s)VJP check.*FAILED.*W\["):
        assert_vjp_close(layer, lambda u, p: {"W": 2 * layer_vjp(u, p)["W"], "b": layer_vjp(u, p)["b"]}, PARAMS)


def test_docstring_examples_run():
    result = doctest.testmod(_vector, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 4 and result.failed == 0
