"""nnref.gradcheck: passes correct gradients, fails wrong ones and says where, respects kinks."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

from nnref import gradcheck

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
A = RNG.standard_normal((4, 4))
EPS = np.finfo(np.float64).eps


def _logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def _softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


CASES = {
    "quadratic": (lambda x: 0.5 * np.sum(x * x), lambda x: x),
    "sin_exp": (
        lambda x: np.sum(np.sin(x) * np.exp(0.3 * x)),
        lambda x: np.exp(0.3 * x) * (np.cos(x) + 0.3 * np.sin(x)),
    ),
    "logsumexp": (_logsumexp, _softmax),
    "bilinear": (lambda x: np.sum(x @ A * x), lambda x: x @ A + x @ A.T),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("method", ["central", "complex"])
def test_correct_gradient_passes(name, method):
    f, g = CASES[name]
    report = gradcheck.check_gradient(f, g, X, method=method)
    assert report.ok, f"{name}: {report}"
    assert report.n_checked == X.size and report.n_kink_skipped == 0


@pytest.mark.parametrize("name", ["quadratic", "sin_exp", "bilinear"])
def test_complex_step_is_accurate_to_a_few_eps(name):
    f, g = CASES[name]
    cs = gradcheck.complex_step(f, X)
    err = np.max(np.abs(cs - g(X)) / np.maximum(np.abs(g(X)), 1.0))
    assert err < 8 * EPS, f"{name}: complex step off by {err:.3g}"
    # Central differences cannot get there: the complex step earns its place.
    cd = gradcheck.central_difference(f, X)
    assert np.max(np.abs(cd - g(X)) / np.maximum(np.abs(g(X)), 1.0)) > 100 * EPS


def test_elementwise_helpers_agree_with_the_exact_derivative():
    z = np.linspace(-3, 3, 13)
    exact = 1 / np.cosh(z) ** 2
    fd = gradcheck.elementwise_derivative(np.tanh, z)
    cs = gradcheck.elementwise_complex_step(np.tanh, z)
    assert fd.shape == z.shape and np.max(gradcheck.relative_error(fd, exact)) < 1e-9
    assert np.max(gradcheck.relative_error(cs, exact)) < 4 * EPS


@pytest.mark.parametrize("index", [(0, 0), (2, 1), (1, 3)])
def test_wrong_gradient_fails_and_names_the_worst_element(index):
    f, g = CASES["sin_exp"]

    def wrong(x):
        out = g(x)
        out[index] *= 1.001
        return out

    report = gradcheck.check_gradient(f, wrong, X)
    assert not report.ok
    assert report.worst_index == index
    assert report.analytic == pytest.approx(1.001 * g(X)[index], rel=1e-15)
    assert report.numerical == pytest.approx(g(X)[index], rel=1e-8)
    text = str(report)
    assert "FAILED" in text and str(index) in text
    assert repr(report.analytic) in text and repr(report.numerical) in text
    assert "central differences" in text


def test_wrong_gradient_fails_with_complex_step_too():
    f, g = CASES["logsumexp"]
    report = gradcheck.check_gradient(f, lambda x: g(x) * 1.000001, X, method="complex")
    assert not report.ok and "complex step" in str(report)


def test_entries_below_round_off_are_compared_absolutely():
    # softmax entries near e^-60 are far below what f(x ± h) can resolve (~1e-10).
    x = np.array([0.0, 1.0, -60.0, -61.0])
    f, g = CASES["logsumexp"]
    assert gradcheck.check_gradient(f, g, x).ok
    # A fixed tiny floor demands the impossible and fails on round-off, which is why it is not the default.
    assert not gradcheck.check_gradient(f, g, x, atol=1e-30).ok
    # Errors above the round-off still fail, also in the tiny entries.
    wrong = g(x)
    wrong[2] = 1e-6
    report = gradcheck.check_gradient(f, wrong, x)
    assert not report.ok and report.worst_index == (2,)


def test_float32_keeps_its_dtype_and_steps_from_its_eps():
    f, g = CASES["sin_exp"]
    x32 = X.astype(np.float32)
    report = gradcheck.check_gradient(f, g, x32)
    assert report.ok, str(report)
    assert report.rtol == 1e-3
    expected_h = np.finfo(np.float32).eps ** (1 / 3) * max(1.0, abs(float(x32[report.worst_index])))
    assert report.h == pytest.approx(expected_h, rel=1e-3)
    assert gradcheck.central_difference(f, x32).dtype == np.float32
    seen = []
    gradcheck.central_difference(lambda v: seen.append(v.dtype) or float(np.sum(v)), x32)
    assert set(seen) == {np.dtype(np.float32)}


def test_step_is_exactly_representable():
    x = np.array([0.1, 1 / 3, 7.3e5])
    seen = []
    gradcheck.central_difference(lambda v: seen.append(v.copy()) or 0.0, x)
    plus, minus = seen[0::2], seen[1::2]
    for i, (p, m) in enumerate(zip(plus, minus)):
        h = p[i] - x[i]
        assert x[i] - m[i] == h and p[i] - h == x[i]


def test_f_may_modify_its_argument():
    def f(v):
        out = float(np.sum(v**2))
        v[...] = 0.0
        return out

    assert gradcheck.check_gradient(f, lambda v: 2 * v, X).ok


# ----------------------------------------------------------------------------- complex step guard


@pytest.mark.parametrize(
    "f, error, match",
    [
        (lambda x: np.sum(np.abs(x)), TypeError, "real result"),
        (lambda x: float(np.sum(x)), TypeError, "rejected complex input"),
        (lambda x: np.sum(np.asarray(x, dtype=float) ** 2), TypeError, "rejected complex input"),
        (lambda x: np.sum(np.maximum(x, 0.0)), ValueError, "branches on the imaginary part"),
        (lambda x: np.sum(np.where(x >= 0, x, 0.1 * x)), ValueError, "branches on the imaginary part"),
    ],
    ids=["abs", "float", "asarray_float", "maximum", "comparison"],
)
def test_complex_step_rejects_non_analytic_code(f, error, match):
    x = np.array([-1.0, 0.0, 2.0])
    with pytest.raises(error, match=match) as info:
        gradcheck.complex_step(f, x)
    assert "complex-safe operations" in str(info.value)


def test_elementwise_complex_step_names_the_offending_point():
    z = np.array([-1.0, 0.0, 2.0])
    with pytest.raises(ValueError, match=r"z\[1\] = 0\.0"):
        gradcheck.elementwise_complex_step(lambda v: np.maximum(v, 0.0), z)
    with pytest.raises(TypeError, match="real result"):
        gradcheck.elementwise_complex_step(np.abs, z)


# ----------------------------------------------------------------------------- kinks


def _relu_sum(x):
    return np.sum(np.maximum(x, 0.0))  # no float(): complex-safe away from the kink


def _relu_grad(x):
    return (x > 0).astype(float)


@pytest.mark.parametrize("method", ["central", "complex"])
def test_kinks_are_flagged_not_compared(method):
    z = np.array([-1.0, -1e-9, 0.0, 1e-9, 0.5, 2.0])
    report = gradcheck.check_gradient(_relu_sum, _relu_grad, z, kinks=[0.0], method=method)
    assert report.ok, str(report)
    flagged = [(1,), (2,), (3,)] if method == "central" else [(2,)]
    assert report.kink_indices == flagged
    assert report.n_kink_skipped == len(flagged) and report.n_checked == z.size - len(flagged)
    assert f"{len(flagged)} point" in str(report)


def test_without_kink_awareness_the_straddling_points_fail():
    z = np.array([-1.0, 1e-9, 2.0])
    report = gradcheck.check_gradient(_relu_sum, _relu_grad, z)
    assert not report.ok and report.worst_index == (1,)


def test_a_point_just_outside_h_is_compared():
    h = gradcheck.optimal_step(np.float64)
    z = np.array([-3 * h, 3 * h])
    report = gradcheck.check_gradient(_relu_sum, _relu_grad, z, kinks=[0.0])
    assert report.ok and report.n_kink_skipped == 0


def test_all_points_at_kinks_is_not_a_pass():
    report = gradcheck.check_gradient(_relu_sum, _relu_grad, np.zeros(3), kinks=[0.0])
    assert not report.ok and report.n_checked == 0 and report.n_kink_skipped == 3
    assert "nothing compared" in str(report)


def test_kinks_inside_a_network_through_the_callable_hook():
    # f(W) = sum(relu(W @ inputs)); a weight's difference quotient is meaningless when some
    # pre-activation crosses 0 between W - h e_k and W + h e_k.
    rng = np.random.default_rng(1)
    inputs = rng.standard_normal((3, 5))
    W = rng.standard_normal((2, 3))
    W[0] = 0.0  # unit 0's pre-activations are all exactly at the kink

    def f(w):
        return float(np.sum(np.maximum(w @ inputs, 0.0)))

    def grad(w):
        return ((w @ inputs) > 0).astype(float) @ inputs.T

    def kinks(w, h):
        out = np.zeros(w.shape, dtype=bool)
        for k in np.ndindex(w.shape):
            e = np.zeros_like(w)
            e[k] = h[k]
            row = k[0]  # only this unit's pre-activations move
            out[k] = np.any(gradcheck.crosses_kink((w - e)[row] @ inputs, (w + e)[row] @ inputs))
        return out

    report = gradcheck.check_gradient(f, grad, W, kinks=kinks)
    assert report.ok, str(report)
    assert report.kink_indices == [(0, 0), (0, 1), (0, 2)]
    assert not gradcheck.check_gradient(f, grad, W).ok


def test_crosses_kink_is_inclusive_and_order_free():
    lo = np.array([-1.0, 0.0, 1.0, -2.0, 0.5])
    hi = np.array([-0.5, 0.5, 0.0, 2.0, 3.0])
    assert gradcheck.crosses_kink(lo, hi).tolist() == [False, True, True, True, False]
    assert gradcheck.crosses_kink(hi, lo).tolist() == [False, True, True, True, False]
    assert gradcheck.crosses_kink(lo, hi, (-1.0, 1.0)).tolist() == [True, False, True, True, True]


# ----------------------------------------------------------------------------- directional check


@pytest.fixture(scope="module")
def large_model():
    n = 200_000
    rng = np.random.default_rng(2)
    data = rng.standard_normal(n)
    params = {"w": rng.standard_normal(n), "b": np.array([0.3])}

    def f(p):
        return float(np.sum(np.logaddexp(0.0, -p["w"] * data)) + 0.5 * p["b"][0] ** 2)

    def grad(p):
        return {"w": -data / (1 + np.exp(p["w"] * data)), "b": np.array([p["b"][0]])}

    return f, grad, params


def test_directional_check_passes_on_a_large_model(large_model):
    f, grad, params = large_model
    report = gradcheck.directional_check(f, grad, params)
    assert report.ok, str(report)
    assert report.n_parameters == 200_001 and len(report.analytic) == 3


@pytest.mark.parametrize("factor", [1.0001, 0.999])
def test_directional_check_fails_on_a_perturbed_gradient(large_model, factor):
    f, grad, params = large_model

    def wrong(p):
        out = grad(p)
        out["w"] = out["w"] * factor
        return out

    report = gradcheck.directional_check(f, wrong, params)
    assert not report.ok, str(report)
    assert "FAILED" in str(report) and "200001 parameters" in str(report)


def test_directional_check_catches_one_wrong_entry_among_many(large_model):
    f, grad, params = large_model

    def wrong(p):
        out = grad(p)
        out["b"] = out["b"] + 0.5
        return out

    assert not gradcheck.directional_check(f, wrong, params).ok


def test_directional_check_takes_lists_and_notebook_keys():
    rng = np.random.default_rng(3)
    W, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 1))
    inputs = rng.standard_normal((3, 7))

    def f_dict(p):
        return float(np.sum(np.tanh(p["W1"] @ inputs + p["b1"])))

    def grads(p):
        d = 1 - np.tanh(p["W1"] @ inputs + p["b1"]) ** 2
        return {"dA0": None, "dW1": d @ inputs.T, "db1": d.sum(axis=1, keepdims=True)}

    assert gradcheck.directional_check(f_dict, grads, {"W1": W, "b1": b}).ok
    as_list = lambda p: [grads({"W1": p[0], "b1": p[1]})[k] for k in ("dW1", "db1")]  # noqa: E731
    report = gradcheck.directional_check(lambda p: f_dict({"W1": p[0], "b1": p[1]}), as_list, [W, b])
    assert report.ok, str(report)


def test_directional_check_in_float32():
    rng = np.random.default_rng(4)
    w = rng.standard_normal(1000).astype(np.float32)

    def f(v):
        return float(np.sum(np.sin(v)))

    report = gradcheck.directional_check(f, lambda v: np.cos(v), w)
    assert report.ok and report.rtol == 1e-3, str(report)
    assert not gradcheck.directional_check(f, lambda v: 1.01 * np.cos(v), w).ok


@pytest.mark.parametrize(
    "x, grad, error, match",
    [
        ({"W": np.ones(3)}, {"V": np.ones(3)}, ValueError, "no entry for parameter 'W'"),
        ({"W": np.ones(3)}, {"W": np.ones(4)}, ValueError, r"grad for W must have shape \(3,\)"),
        ([np.ones(3)], [np.ones(3), np.ones(1)], ValueError, "must hold 1 entries like the parameters"),
        ([np.ones(3)], {"W": np.ones(3)}, TypeError, "must be a list or tuple like the parameters"),
        ({"W": np.array([1.0, np.inf])}, {"W": np.ones(2)}, ValueError, "W must be finite"),
        ({"layers": [{"W": np.ones(2)}]}, {"layers": [{"dW": np.ones(3)}]}, ValueError, r"layers\[0\]\.W"),
    ],
)
def test_directional_check_names_bad_structures(x, grad, error, match):
    with pytest.raises(error, match=match):
        gradcheck.directional_check(lambda p: 0.0, grad, x)


# ----------------------------------------------------------------------------- step sweep


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _dsigmoid(x):
    return _sigmoid(x) * (1 - _sigmoid(x))


@pytest.mark.parametrize("method", ["central", "forward"])
def test_step_sweep_is_v_shaped(method):
    hs, errors = gradcheck.step_sweep(_sigmoid, _dsigmoid, 0.5, method=method)
    h_opt = float(gradcheck.optimal_step(np.float64, 1.0, method))
    at = lambda h: errors[np.argmin(np.abs(np.log(hs / h)))]  # noqa: E731
    assert at(h_opt) < at(1e-14) and at(h_opt) < at(1e-2)
    best = hs[np.nanargmin(errors)]
    assert h_opt / 100 < best < h_opt * 100, f"{method}: minimum at {best:.2g}, optimal_step {h_opt:.2g}"
    order = 2 if method == "central" else 1  # truncation slope on the right arm
    slope = np.log(at(1e-1) / at(1e-2)) / np.log(10)
    assert slope == pytest.approx(order, abs=0.3)


def test_step_sweep_marks_steps_below_float_spacing():
    hs, errors = gradcheck.step_sweep(np.exp, np.exp, 4.0, hs=[1e-17, 1e-6])
    assert np.isnan(errors[0]) and errors[1] < 1e-8


def test_optimal_step_follows_dtype_and_scale():
    assert gradcheck.optimal_step(np.float64) == pytest.approx(EPS ** (1 / 3))
    assert gradcheck.optimal_step(np.float32, 100.0) == pytest.approx(100 * np.finfo(np.float32).eps ** (1 / 3))
    assert gradcheck.optimal_step(np.float64, 1.0, "forward") == pytest.approx(EPS**0.5)
    assert gradcheck.optimal_step(np.float64, np.array([0.1, -8.0])).tolist() == pytest.approx(
        [EPS ** (1 / 3), 8 * EPS ** (1 / 3)]
    )


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "x, error, match",
    [
        (np.array([1.0, np.nan]), ValueError, "x must be finite"),
        (np.array([1.0, np.inf]), ValueError, "x must be finite"),
        (np.array(["a", "b"]), TypeError, "x must be a real number"),
        ("ab", TypeError, "x must be a real number"),
        (np.array([1 + 1j]), TypeError, "x must be real"),
    ],
)
def test_bad_x_is_named(x, error, match):
    with pytest.raises(error, match=match):
        gradcheck.check_gradient(lambda v: 0.0, lambda v: v, x)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"grad": np.ones(3)}, ValueError, r"grad must have the shape of x \(4,\), got \(3,\)"),
        ({"grad": np.array(["a"] * 4)}, TypeError, "grad must be"),
        ({"h": -1.0}, ValueError, "h must be positive"),
        ({"h": 1e-30, "x": np.full(4, 1.0)}, ValueError, "h is below the spacing"),
        ({"rtol": 0.0}, ValueError, "rtol must be"),
        ({"atol": -1.0}, ValueError, "atol must be"),
        ({"method": "forward"}, ValueError, "method must be one of 'central', 'complex'"),
        ({"kinks": lambda x, h: np.zeros(2, dtype=bool)}, ValueError, r"kinks\(x, h\) must return"),
        ({"kinks": ["a"]}, TypeError, "kinks must be"),
        ({"f": lambda v: v}, ValueError, "f must return a scalar"),
        ({"f": lambda v: "one"}, TypeError, "f must return a real scalar"),
        ({"f": lambda v: np.log(v[0] - 1.5)}, ValueError, "f returned nan"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match):
    args = {"f": lambda v: float(np.sum(v)), "grad": np.ones(4), "x": np.ones(4)} | kwargs
    with np.errstate(invalid="ignore"), pytest.raises(error, match=match):
        gradcheck.check_gradient(args.pop("f"), args.pop("grad"), args.pop("x"), **args)


def test_elementwise_derivative_requires_an_elementwise_f():
    with pytest.raises(ValueError, match="f must be elementwise"):
        gradcheck.elementwise_derivative(np.sum, np.ones(3))


def test_docstring_examples_run():
    # nnref.gradcheck is a package: its examples live in the modules that define each function.
    modules = [importlib.import_module(f"nnref.gradcheck.{m.name}") for m in pkgutil.iter_modules(gradcheck.__path__)]
    results = [doctest.testmod(module, optionflags=doctest.ELLIPSIS) for module in [gradcheck, *modules]]
    assert sum(r.attempted for r in results) >= 10 and sum(r.failed for r in results) == 0


def test_directional_check_takes_the_trees_check_gradients_takes():
    """Nested dicts and lists, and PyTorch tensors, as check_gradients takes them: f sees tensors."""
    import torch

    rng = np.random.default_rng(0)
    params = {"layers": [{"W": torch.tensor(rng.standard_normal((3, 2)))}, {"W": rng.standard_normal(3)}]}

    def f(p):
        assert isinstance(p["layers"][0]["W"], torch.Tensor)
        return float((p["layers"][0]["W"] ** 3).sum()) + float(np.sum(np.sin(p["layers"][1]["W"])))

    def grad(p):
        return {"layers": [{"W": 3 * p["layers"][0]["W"] ** 2}, {"dW": np.cos(p["layers"][1]["W"])}]}

    assert gradcheck.directional_check(f, grad, params).ok
    assert not gradcheck.directional_check(
        f, lambda p: {**grad(p), "layers": [grad(p)["layers"][0], {"W": 0 * p["layers"][1]["W"]}]}, params
    ).ok
