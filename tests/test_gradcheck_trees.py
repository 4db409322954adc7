"""nnref.gradcheck over parameter trees and nnref.testing: failures named by parameter and index."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import torch

from nnref import gradcheck, notebook, testing

RNG = np.random.default_rng(3)
X = RNG.standard_normal((3, 6))
Y = (RNG.random((1, 6)) > 0.5).astype(float)


def _network():
    params = notebook.initialize_parameters_deep([3, 5, 4, 1], seed=2)
    return {k: v * 50 for k, v in params.items()}  # weights large enough to move the cost


def _cost(params):
    AL, _ = notebook.L_model_forward(X, params)
    return notebook.compute_cost(AL, Y)


def _grads(params):
    AL, caches = notebook.L_model_forward(X, params)
    return notebook.L_model_backward(AL, Y, caches)


def _kinks(name, x, h):
    """An element is set aside when its ±h moves any hidden pre-activation across relu's 0."""
    params = _network()
    out = np.zeros(x.shape, dtype=bool)
    for idx in np.ndindex(x.shape):
        zs = []
        for sign in (-1, 1):
            moved = dict(params)
            moved[name] = x.copy()
            moved[name][idx] += sign * h[idx]
            _, caches = notebook.L_model_forward(X, moved)
            zs.append(np.concatenate([c[1].ravel() for c in caches[:-1]]))
        out[idx] = bool(np.any(gradcheck.crosses_kink(zs[0], zs[1])))
    return out


def test_a_network_parameter_dict_passes_with_the_notebook_keys():
    report = gradcheck.check_gradients(_cost, _grads, _network(), kinks=_kinks)
    assert report.ok, str(report)
    assert [row.name for row in report.rows] == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert sum(row.n_checked + row.n_kink_skipped for row in report.rows) == 5 * 3 + 5 + 4 * 5 + 4 + 4 + 1


@pytest.mark.parametrize("key, index", [("W2", (3, 2)), ("b1", (4, 0)), ("W1", (0, 1))])
def test_a_planted_bug_is_named_by_parameter_and_index(key, index):
    def wrong(params):
        grads = {k: v.copy() for k, v in _grads(params).items()}
        grads["d" + key][index] += 0.5
        return grads

    report = gradcheck.check_gradients(_cost, wrong, _network(), kinks=_kinks)
    name = f"{key}[{index[0]}, {index[1]}]"
    assert not report.ok
    assert [f.element for f in report.failures] == [name]
    assert report[key].n_failed == 1 and report[key].worst == name
    assert all(row.ok for row in report.rows if row.name != key)
    text = str(report)
    assert "FAILED: 1 of" in text and f"in {key}" in text and f"  {name}: analytic" in text


def test_counts_every_failing_element_and_the_step_and_method():
    params = {"a": np.array([1.0, 2.0, 3.0]), "c": np.full((2, 2), 10.0, dtype=np.float32)}

    def f(p):
        return float(np.sum(p["a"] ** 2) + np.sum(np.asarray(p["c"], dtype=np.float64) ** 2))

    report = gradcheck.check_gradients(f, lambda p: {"a": 2 * p["a"] * [1, 1.1, 1.2], "c": 2 * p["c"]}, params)
    assert report["a"].n_failed == 2 and report["c"].ok
    assert [x.element for x in report.failures] == ["a[2]", "a[1]"]  # worst first
    assert report["a"].rtol == 1e-7 and report["c"].rtol == 1e-3  # each from its own dtype
    eps32 = np.finfo(np.float32).eps
    assert report["c"].h_min == pytest.approx(eps32 ** (1 / 3) * 10, rel=1e-3)
    assert report["a"].method == "central differences"
    assert report["a"].step == f"{report['a'].h_min:.2g}..{report['a'].h_max:.2g}"


def test_nested_structures_and_several_arguments_are_named():
    params = {"layers": [{"W": np.ones((2, 2))}, {"W": np.ones((1, 2))}], "scale": (np.array(2.0),)}

    def f(p, bias):
        return float(p["scale"][0] * (np.sum(p["layers"][0]["W"] ** 2) + np.sum(p["layers"][1]["W"])) + bias @ bias)

    def grad(p, bias):
        gp = {
            "layers": [{"W": 2 * p["scale"][0] * p["layers"][0]["W"]}, {"W": np.full((1, 2), p["scale"][0])}],
            "scale": (np.array(np.sum(p["layers"][0]["W"] ** 2) + np.sum(p["layers"][1]["W"]) + 1.0),),  # bug: + 1
        }
        return gp, 2 * bias

    report = gradcheck.check_gradients(f, grad, params, np.array([1.0, -2.0]))
    assert [row.name for row in report.rows] == ["p.layers[0].W", "p.layers[1].W", "p.scale[0]", "bias"]
    assert [x.element for x in report.failures] == ["p.scale[0]"]


def test_a_single_array_is_named_after_the_parameter_of_f():
    report = gradcheck.check_gradients(lambda w: float(np.sum(w**3)), lambda w: 3 * w, np.array([1.0, 2.0]))
    assert [x.element for x in report.failures] == ["w[1]"]


def test_kink_locations_apply_to_each_parameters_values():
    relu_sum = lambda p: float(np.sum(np.maximum(p["z"], 0)))  # noqa: E731
    report = gradcheck.check_gradients(
        relu_sum, lambda p: {"z": (p["z"] > 0) * 1.0}, {"z": np.array([-1.0, 0.0, 2.0])}, kinks=[0.0]
    )
    assert report.ok and report["z"].n_kink_skipped == 1 and report["z"].n_checked == 2


def test_a_parameter_with_every_element_at_a_kink_is_not_a_pass():
    report = gradcheck.check_gradients(lambda z: float(np.sum(np.abs(z))), np.sign, np.zeros(2), kinks=[0.0])
    assert not report.ok and "nothing compared in z" in str(report)


@pytest.mark.parametrize("method", ["central", "complex"])
def test_torch_tensors_are_converted_at_the_boundary(method):
    W = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float64, requires_grad=True)
    x = torch.tensor([1.0, 3.0], dtype=torch.float64)

    def f(W):
        assert isinstance(W, torch.Tensor)  # f sees tensors, as in the user's own code
        return torch.sum(torch.exp(W * x))  # elementwise: torch's matmul refuses complex @ real

    def grad(W):
        return torch.exp(W * x) * x

    assert gradcheck.check_gradients(f, grad, W, method=method).ok
    report = gradcheck.check_gradients(f, lambda W: grad(W) * 1.01, W, method=method)
    assert report["W"].n_failed == 4


def test_bad_structures_are_named():
    params = {"W": np.ones(3)}
    with pytest.raises(ValueError, match="no entry for parameter 'W'"):
        gradcheck.check_gradients(lambda p: 0.0, {"V": np.ones(3)}, params)
    with pytest.raises(ValueError, match="grad for W must have shape"):
        gradcheck.check_gradients(lambda p: 0.0, {"W": np.ones(4)}, params)
    with pytest.raises(TypeError, match="one entry per argument"):
        gradcheck.check_gradients(lambda a, b: 0.0, np.ones(1), np.ones(1), np.ones(1))
    with pytest.raises(ValueError, match=r"\['W'\]\[1\]|W\[1\] must be finite|W must be finite"):
        gradcheck.check_gradients(lambda p: 0.0, params, {"W": np.array([1.0, np.nan])})
    with pytest.raises(TypeError, match="at least one argument"):
        gradcheck.check_gradients(lambda: 0.0, {})


def test_testing_raises_assertion_error_with_the_report():
    def wrong(params):
        grads = dict(_grads(params))
        grads["db3"] = grads["db3"] * 2
        return grads

    assert testing.assert_gradients_close(_cost, _grads, _network(), kinks=_kinks).ok
    with pytest.raises(AssertionError, match=r"(?s)my network\ngradient check FAILED.*b3\[0, 0\]: analytic"):
        testing.assert_gradients_close(_cost, wrong, _network(), kinks=_kinks, err_msg="my network")
    with pytest.raises(AssertionError, match=r"at index \(1,\)"):
        testing.assert_gradient_close(lambda v: float(np.sum(v**3)), lambda v: 3 * v**2 * [1, 2], np.ones(2))


def test_docstring_examples_run():
    from nnref.gradcheck import _gradients

    results = [doctest.testmod(m, optionflags=doctest.ELLIPSIS) for m in (_gradients, testing)]
    assert sum(r.attempted for r in results) >= 3 and sum(r.failed for r in results) == 0
