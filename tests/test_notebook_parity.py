"""nnref.notebook on inputs like the notebook's own test cases: NumPy's legacy generator seeded as
they seed it and randn arrays of their shapes, not only probabilities. Each function is compared
with the notebook's formula written out here, independently of nnref, in plain NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest

import nnref.losses as L
from nnref import notebook as nb


def _randn(seed: int, *shapes):
    np.random.seed(seed)
    return [np.random.randn(*shape) for shape in shapes]


def _sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def _sigmoid_backward(dA, Z):
    s = 1 / (1 + np.exp(-Z))
    return dA * s * (1 - s)


def _relu_backward(dA, Z):
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def _linear_backward(dZ, A_prev, W):
    m = A_prev.shape[1]
    return W.T @ dZ, dZ @ A_prev.T / m, np.sum(dZ, axis=1, keepdims=True) / m


def _close(a, b):
    assert np.shape(a) == np.shape(b)
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_linear_forward():
    A, W, b = _randn(1, (3, 2), (1, 3), (1, 1))
    Z, cache = nb.linear_forward(A, W, b)
    _close(Z, np.dot(W, A) + b)
    assert all(x is y or np.array_equal(x, y) for x, y in zip(cache, (A, W, b)))


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_linear_activation_forward(activation):
    A_prev, W, b = _randn(2, (3, 2), (1, 3), (1, 1))
    A, ((A0, W0, b0), Z) = nb.linear_activation_forward(A_prev, W, b, activation)
    Z_ref = np.dot(W, A_prev) + b
    _close(Z, Z_ref)
    _close(A, _sigmoid(Z_ref) if activation == "sigmoid" else np.maximum(0, Z_ref))


def test_L_model_forward_two_hidden_layers():
    X, W1, b1, W2, b2, W3, b3 = _randn(6, (5, 4), (4, 5), (4, 1), (3, 4), (3, 1), (1, 3), (1, 1))
    parameters = {"W1": W1, "b1": b1, "W2": W2, "b2": b2, "W3": W3, "b3": b3}
    AL, caches = nb.L_model_forward(X, parameters)
    A1 = np.maximum(0, W1 @ X + b1)
    A2 = np.maximum(0, W2 @ A1 + b2)
    _close(AL, _sigmoid(W3 @ A2 + b3))
    assert len(caches) == 3


def test_compute_cost():
    Y, AL = np.asarray([[1, 1, 0]]), np.array([[0.8, 0.9, 0.4]])
    m = Y.shape[1]
    expected = -1 / m * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    assert nb.compute_cost(AL, Y) == pytest.approx(float(np.squeeze(expected)), rel=1e-15)


def test_linear_backward():
    dZ, A, W, b = _randn(1, (3, 4), (5, 4), (3, 5), (3, 1))
    for got, want in zip(nb.linear_backward(dZ, (A, W, b)), _linear_backward(dZ, A, W)):
        _close(got, want)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_linear_activation_backward(activation):
    dA, A, W, b, Z = _randn(2, (1, 2), (3, 2), (1, 3), (1, 1), (1, 2))
    got = nb.linear_activation_backward(dA, ((A, W, b), Z), activation)
    dZ = _sigmoid_backward(dA, Z) if activation == "sigmoid" else _relu_backward(dA, Z)
    for g, w in zip(got, _linear_backward(dZ, A, W)):
        _close(g, w)


def _L_model_backward_case():
    """The notebook's case: AL from randn (1.7886… is its first value), outside (0, 1)."""
    AL, A1, W1, b1, Z1, A2, W2, b2, Z2 = _randn(
        3, (1, 2), (4, 2), (3, 4), (3, 1), (3, 2), (3, 2), (1, 3), (1, 1), (1, 2)
    )
    Y = np.array([[1, 0]])
    caches = (((A1, W1, b1), Z1), ((A2, W2, b2), Z2))
    return AL, Y, caches


def test_L_model_backward_on_the_notebooks_own_case():
    AL, Y, caches = _L_model_backward_case()
    assert AL[0, 0] == pytest.approx(1.7886284734303186, rel=1e-15)
    with pytest.warns(RuntimeWarning, match="AL is not a probability"):
        grads = nb.L_model_backward(AL, Y, caches)
    ((A1, W1, _), Z1), ((A2, W2, _), Z2) = caches
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    dA1, dW2, db2 = _linear_backward(_sigmoid_backward(dAL, Z2), A2, W2)
    dA0, dW1, db1 = _linear_backward(_relu_backward(dA1, Z1), A1, W1)
    expected = {"dA2": dA1, "dW2": dW2, "db2": db2, "dA1": dA0, "dW1": dW1, "db1": db1}
    assert sorted(grads) == sorted(expected)
    for key in expected:
        _close(grads[key], expected[key])


def test_L_model_backward_prints_the_notebooks_expected_output():
    """The numbers the notebook prints under its L_model_backward test case (8 digits), besides the
    formula above: dW1, db1, and the gradient with respect to A1 (grads["dA2"] in its numbering)."""
    AL, Y, caches = _L_model_backward_case()
    with pytest.warns(RuntimeWarning):
        grads = nb.L_model_backward(AL, Y, caches)
    printed = {
        "dW1": [
            [0.41010002, 0.07807203, 0.13798444, 0.10502167],
            [0, 0, 0, 0],
            [0.05283652, 0.01005865, 0.01777766, 0.0135308],
        ],
        "db1": [[-0.22007063], [0], [-0.02835349]],
        "dA2": [[0.12913162, -0.44014127], [-0.14175655, 0.48317296], [0.01663708, -0.05670698]],
    }
    for key, value in printed.items():
        np.testing.assert_allclose(grads[key], value, rtol=0, atol=5e-9, err_msg=key)


def test_the_library_keeps_its_validation():
    """The parity layer relaxes only the notebook's backward pass: nnref.losses (which nnref.MLP's
    cost goes through) and compute_cost refuse AL outside [0, 1]."""
    AL, Y, _ = _L_model_backward_case()
    loss = L.get("binary_cross_entropy")
    for method in (loss.value, loss.grad, loss.grad_terms):
        with pytest.raises(ValueError, match="0 <= y_hat <= 1"):
            method(AL, Y)
    with pytest.raises(ValueError, match="0 <= y_hat <= 1"):
        nb.compute_cost(AL, Y)


def test_update_parameters():
    W1, b1, W2, b2, dW1, db1, dW2, db2 = _randn(2, (3, 4), (3, 1), (1, 3), (1, 1), (3, 4), (3, 1), (1, 3), (1, 1))
    parameters = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
    updated = nb.update_parameters(parameters, grads, 0.1)
    for key in parameters:
        _close(updated[key], parameters[key] - 0.1 * grads["d" + key])


def test_initialize_parameters_deep():
    p = nb.initialize_parameters_deep([5, 4, 3], seed=3)
    np.random.seed(3)
    _close(p["W1"], np.random.randn(4, 5) * 0.01)
    _close(p["W2"], np.random.randn(3, 4) * 0.01)
    assert not p["b1"].any() and p["b2"].shape == (3, 1)


def test_a_saturated_prediction_costs_zero_or_says_it_is_infinite():
    """sigmoid(40) rounds to 1.0: right, the cost is ~0 (the true one is 4e-18); wrong, it is +inf
    and compute_cost says so."""
    AL = nb.linear_activation_forward(np.array([[40.0]]), np.array([[1.0]]), np.zeros((1, 1)), "sigmoid")[0]
    assert AL[0, 0] == 1.0
    assert nb.compute_cost(AL, np.array([[1.0]])) == 0.0
    with pytest.warns(RuntimeWarning, match="cost is infinite"):
        assert nb.compute_cost(AL, np.array([[0.0]])) == np.inf
