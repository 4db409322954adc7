"""nnref.gradcheck: passes correct gradients, fails wrong ones and says where, respects kinks."""

from __future__ import annotations

import numpy as np
import pytest

from nnref import gradcheck

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
A = RNG.standard_normal((4, 4))

CASES = {
    "quadratic": (lambda x: 0.5 * np.sum(x * x), lambda x: x),
    "sin_exp": (
        lambda x: np.sum(np.sin(x) * np.exp(0.3 * x)),
        lambda x: np.exp(0.3 * x) * (np.cos(x) + 0.3 * np.sin(x)),
    ),
    "logsumexp": (
        lambda x: np.log(np.sum(np.exp(x))),
        lambda x: np.exp(x) / np.sum(np.exp(x)),
    ),
    "bilinear": (lambda x: np.sum(x @ A * x), lambda x: x @ A + x @ A.T),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("method", ["central", "complex"])
def test_correct_gradient_passes(name, method):
    f, g = CASES[name]
    report = gradcheck.check_gradient(f, g, X, method=method)
    assert report.ok, str(report)
    if method == "complex":
        assert report.max_rel_error < 1e-13, str(report)


def test_wrong_gradient_fails_and_names_the_worst_element():
    f, g = CASES["sin_exp"]

    def wrong(x):
        out = g(x)
        out[2, 1] *= 1.001
        return out

    report = gradcheck.check_gradient(f, wrong, X)
    assert not report.ok
    assert report.worst_index == (2, 1)
    text = str(report)
    assert "(2, 1)" in text and repr(report.analytic) in text and repr(report.numerical) in text


def test_complex_step_rejects_non_analytic_code():
    with pytest.raises(TypeError, match="complex"):
        gradcheck.complex_step(lambda x: np.sum(np.abs(x)), X)


def test_kinks_are_flagged_not_compared():
    z = np.array([-1.0, -1e-9, 0.0, 1e-9, 0.5, 2.0])
    f = lambda x: np.sum(np.maximum(x, 0.0))  # noqa: E731
    g = lambda x: (x > 0).astype(float)  # noqa: E731
    report = gradcheck.check_gradient(f, g, z, kinks=[0.0])
    assert report.ok, str(report)
    assert report.n_kink_skipped == 3
    assert sorted(report.kink_indices) == [(1,), (2,), (3,)]
    assert report.n_checked == 3
    # Without kink awareness the straddling points fail: the check can fail.
    assert not gradcheck.check_gradient(f, g, z).ok


def test_directional_check_on_a_large_model():
    n = 200_000
    w = RNG.standard_normal(n)
    data = RNG.standard_normal(n)

    def f(p):
        return float(np.sum(np.log1p(np.exp(-p["w"] * data))) + 0.5 * p["b"][0] ** 2)

    def g(p):
        s = -data / (1 + np.exp(p["w"] * data))
        return {"w": s, "b": np.array([p["b"][0]])}

    params = {"w": w, "b": np.array([0.3])}
    assert gradcheck.directional_check(f, g, params).ok

    def wrong(p):
        out = g(p)
        out["w"] = out["w"] * 1.0001
        return out

    report = gradcheck.directional_check(f, wrong, params)
    assert not report.ok, str(report)


def test_step_sweep_is_v_shaped():
    f = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    df = lambda x: f(x) * (1 - f(x))  # noqa: E731
    hs, errors = gradcheck.step_sweep(f, df, 0.5)
    h_opt = gradcheck.optimal_step(np.float64)
    best = errors[np.argmin(np.abs(np.log(hs / h_opt)))]
    assert best < errors[np.argmin(np.abs(hs - 1e-14))]
    assert best < errors[np.argmin(np.abs(hs - 1e-2))]
    assert 1e-7 < hs[np.argmin(errors)] < 1e-3


def test_elementwise_helpers_agree():
    z = np.linspace(-3, 3, 13)
    fd = gradcheck.elementwise_derivative(np.tanh, z)
    cs = gradcheck.elementwise_complex_step(np.tanh, z)
    exact = 1 / np.cosh(z) ** 2
    assert np.max(gradcheck.relative_error(fd, exact)) < 1e-9
    assert np.max(gradcheck.relative_error(cs, exact)) < 1e-14


@pytest.mark.parametrize(
    "x, error",
    [
        (np.array([1.0, np.nan]), ValueError),
        (np.array(["a", "b"]), TypeError),
        (np.array([1 + 1j]), TypeError),
    ],
)
def test_bad_x_is_named(x, error):
    with pytest.raises(error, match="x"):
        gradcheck.check_gradient(lambda v: 0.0, lambda v: v, x)


def test_grad_shape_mismatch_is_named():
    with pytest.raises(ValueError, match="grad must have the shape"):
        gradcheck.check_gradient(lambda v: float(np.sum(v)), np.ones(3), np.ones(4))


def test_non_scalar_f_is_named():
    with pytest.raises(ValueError, match="scalar"):
        gradcheck.check_gradient(lambda v: v, np.ones(2), np.ones(2))
