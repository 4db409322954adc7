"""The network from scratch: proven backprop identities, the notebook's functions, nnref.MLP, nnref train."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from derivations.backprop import identities as backprop_identities
from derivations.init import identities as init_identities
from nnref import datasets, gradcheck
from nnref import notebook as nb
from nnref.mlp import MLP

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("ident", backprop_identities(), ids=lambda i: i.name)
def test_backprop_identities_are_proven(ident):
    assert ident.proven, ident.name


@pytest.mark.parametrize("ident", init_identities(), ids=lambda i: i.name)
def test_initialisation_variances_are_derived(ident):
    assert ident.proven, ident.name


@pytest.mark.parametrize("init, variance", [("xavier", 1.0), ("he", 2.0)])
def test_mlp_initial_weights_have_the_derived_variance(init, variance):
    model = MLP([400, 300, 2], init=init, seed=0)
    assert np.var(model.params["W1"]) == pytest.approx(variance / 400, rel=0.02)


# ---- the notebook, against the classic formulas written out by hand ---------------------------


def _classic(X, Y, parameters):
    """The notebook's forward and backward pass written out with its own formulas."""
    L = len(parameters) // 2
    A, caches = X, []
    for l in range(1, L + 1):
        W, b = parameters[f"W{l}"], parameters[f"b{l}"]
        Z = W @ A + b
        caches.append((A, W, Z))
        A = np.maximum(0, Z) if l < L else 1 / (1 + np.exp(-Z))
    AL, m = A, X.shape[1]
    cost = -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m
    grads = {}
    dA = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    for l in range(L, 0, -1):
        A_prev, W, Z = caches[l - 1]
        s = 1 / (1 + np.exp(-Z))
        dZ = dA * s * (1 - s) if l == L else dA * (Z > 0)
        grads[f"dW{l}"] = dZ @ A_prev.T / m
        grads[f"db{l}"] = np.sum(dZ, axis=1, keepdims=True) / m
        dA = W.T @ dZ
        grads[f"dA{l}"] = dA
    return AL, cost, grads


def test_notebook_matches_the_classic_formulas():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 7))
    Y = (rng.random((1, 7)) > 0.5).astype(float)
    parameters = nb.initialize_parameters_deep([5, 4, 3, 1], seed=1)
    for key in parameters:  # larger weights than ×0.01 so every path carries signal
        parameters[key] = parameters[key] * 100 + (0.1 if key.startswith("b") else 0)
    AL, caches = nb.L_model_forward(X, parameters)
    grads = nb.L_model_backward(AL, Y, caches)
    AL_ref, cost_ref, grads_ref = _classic(X, Y, parameters)
    assert np.allclose(AL, AL_ref, rtol=1e-14, atol=0)
    assert nb.compute_cost(AL, Y) == pytest.approx(cost_ref, rel=1e-14)
    assert sorted(grads) == sorted(grads_ref)
    for key in grads:
        assert np.allclose(grads[key], grads_ref[key], rtol=1e-12, atol=1e-300), key
    assert grads["dA1"].shape == X.shape  # the notebook's numbering: dA{l} is w.r.t. layer l's input


def test_initialisation_is_the_notebooks():
    p = nb.initialize_parameters_deep([5, 4, 3], seed=3)
    np.random.seed(3)
    assert np.array_equal(p["W1"], np.random.randn(4, 5) * 0.01)
    assert np.array_equal(p["W2"], np.random.randn(3, 4) * 0.01)
    assert not p["b1"].any() and p["b2"].shape == (3, 1)


def test_notebook_accepts_any_registry_activation():
    rng = np.random.default_rng(0)
    A, cache = nb.linear_activation_forward(rng.normal(size=(3, 4)), rng.normal(size=(2, 3)), np.zeros((2, 1)), "gelu")
    dA_prev, dW, db = nb.linear_activation_backward(np.ones((2, 4)), cache, "gelu")
    assert A.shape == (2, 4) and dA_prev.shape == (3, 4) and dW.shape == (2, 3) and db.shape == (2, 1)


def test_update_parameters_and_bad_learning_rate():
    p = {"W1": np.ones((2, 2)), "b1": np.zeros((2, 1))}
    g = {"dW1": np.ones((2, 2)), "db1": np.ones((2, 1))}
    assert np.array_equal(nb.update_parameters(p, g, 0.5)["W1"], np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="learning_rate"):
        nb.update_parameters(p, g, 0.0)


def test_notebook_bad_shapes():
    with pytest.raises(ValueError, match="do not chain"):
        nb.linear_forward(np.ones((3, 2)), np.ones((2, 4)), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="layer_dims"):
        nb.initialize_parameters_deep([5])


# ---- end-to-end gradient checks ------------------------------------------------------------------

COMBOS = [
    ("relu", "binary_cross_entropy", 1),
    ("tanh", "softmax_cross_entropy", 3),
    ("gelu", "mse", 2),
    ("silu", "huber", 2),
    ("elu", "softmax_cross_entropy", 4),
]


@pytest.mark.parametrize("activation, loss, n_out", COMBOS, ids=lambda v: str(v))
def test_every_parameter_block_against_central_differences(activation, loss, n_out):
    rng = np.random.default_rng(5)
    model = MLP([4, 6, 5, n_out], activation=activation, loss=loss, init="xavier", weight_decay=0.1, seed=2)
    X = rng.normal(size=(4, 9))
    if loss in ("softmax_cross_entropy", "binary_cross_entropy"):
        y = rng.integers(0, max(n_out, 2), 9)
    else:
        y = rng.normal(size=(n_out, 9))
    grads = model.gradients(X, y)
    for key, value in model.params.items():

        def cost(v, key=key):
            params = dict(model.params)
            params[key] = v
            return model.cost(X, y, params)

        kinks = None
        if activation == "relu":
            # A step that moves a hidden pre-activation across 0 straddles relu's kink: flag it.
            def kinks(x, h, key=key):
                out = np.zeros(x.shape, dtype=bool)
                for idx in np.ndindex(x.shape):
                    zs = []
                    for sign in (-1, 1):
                        params = dict(model.params)
                        params[key] = x.copy()
                        params[key][idx] += sign * h[idx]
                        _, cache = model._forward(X, params)
                        zs.append(np.concatenate([c[1].ravel() for c in cache[1:]] + [cache[0][1].ravel()]))
                    out[idx] = bool(np.any(gradcheck.crosses_kink(zs[0], zs[1])))
                return out

        report = gradcheck.check_gradient(cost, grads[key], value, kinks=kinks, rtol=1e-7)
        assert report.ok, f"{activation}/{loss} {key}: {report}"


def test_directional_check_on_a_large_model():
    rng = np.random.default_rng(1)
    model = MLP([64, 512, 256, 10], activation="tanh", loss="softmax_cross_entropy", init="xavier", seed=0)
    assert model.n_parameters > 100_000
    X = rng.normal(size=(64, 32))
    y = rng.integers(0, 10, 32)
    report = gradcheck.directional_check(lambda p: model.cost(X, y, p), model.gradients(X, y), model.params)
    assert report.ok, str(report)


# ---- MLP behaviour -------------------------------------------------------------------------------


def test_same_seed_same_parameters_bit_for_bit():
    X, y = datasets.load("moons", seed=0)
    a = MLP([2, 16, 2], optimizer="sgd", lr=0.05, epochs=5, seed=7).fit(X, y)
    b = MLP([2, 16, 2], optimizer="sgd", lr=0.05, epochs=5, seed=7).fit(X, y)
    for key in a.params:
        assert np.array_equal(a.params[key], b.params[key]), key


@pytest.mark.parametrize("optimizer", ["gd", "sgd", "adam"])
def test_optimizers_learn_moons(optimizer):
    X, y = datasets.load("moons", seed=0)
    Xtr, ytr, Xte, yte = datasets.split(X, y)
    lr = {"gd": 0.5, "sgd": 0.05, "adam": 3e-3}[optimizer]
    model = MLP([2, 32, 32, 2], optimizer=optimizer, lr=lr, epochs=150, seed=0).fit(Xtr, ytr)
    assert model.score(Xte, yte) > 0.95


def test_digits_reaches_97_percent():
    X, y = datasets.load("digits")
    Xtr, ytr, Xte, yte = datasets.split(X, y, seed=0)
    model = MLP([64, 512, 10], epochs=60, seed=0).fit(Xtr, ytr)
    assert model.score(Xte, yte) >= 0.97


def test_notebook_architecture_binary_digits_reaches_99_percent():
    X, y = datasets.load("digits")
    keep = (y == 0) | (y == 1)
    X, y = X[:, keep], y[keep]
    Xtr, ytr, Xte, yte = datasets.split(X, y, seed=0)
    model = MLP(
        [64, 20, 7, 5, 1],
        activation="relu",
        loss="binary_cross_entropy",
        init="he",
        optimizer="gd",
        lr=0.1,
        epochs=300,
        seed=1,
    )
    model.fit(Xtr, ytr)
    assert model.score(Xte, yte) >= 0.99


def test_save_and_load(tmp_path):
    X, y = datasets.load("moons", seed=0)
    model = MLP([2, 8, 2], epochs=3, seed=0).fit(X, y)
    path = model.save(tmp_path / "model.npz")
    again = MLP.load(path)
    assert np.array_equal(again.predict_proba(X), model.predict_proba(X))
    with pytest.raises(FileExistsError):
        model.save(path)


def test_divergence_stops_with_the_epoch_and_advice():
    X, y = datasets.load("moons", seed=0)
    model = MLP([2, 64, 64, 2], optimizer="gd", lr=1e6, epochs=50, init="he", loss="softmax_cross_entropy", seed=0)
    with pytest.raises(FloatingPointError, match=r"epoch \d+.*smaller learning rate"):
        with np.errstate(all="ignore"):
            model.fit(X * 1e3, y)


@pytest.mark.parametrize(
    "kwargs, fit_args, match",
    [
        ({"lr": 0}, None, "lr must be"),
        ({"lr": -1}, None, "lr must be"),
        ({"activation": "nope"}, None, "unknown activation"),
        ({"loss": "hinge"}, None, "not an MLP output"),
        ({"init": "zeros"}, None, "init must be"),
        ({}, ("X_wrong", None), "X must be"),
        ({}, ("labels", None), "labels"),
        ({}, ("nan", None), "finite"),
    ],
)
def test_bad_input(kwargs, fit_args, match):
    X, y = datasets.load("moons", seed=0)
    with pytest.raises((ValueError, TypeError), match=match):
        model = MLP([2, 4, 2], **kwargs)
        if fit_args:
            kind = fit_args[0]
            if kind == "X_wrong":
                model.fit(X.T, y)
            elif kind == "labels":
                model.fit(X, y + 5)
            else:
                X2 = X.copy()
                X2[0, 0] = np.nan
                model.fit(X2, y)


# ---- nnref train -----------------------------------------------------------------------------------


def test_train_cli_small_run(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "nnref",
            "train",
            "--dataset",
            "circles",
            "--epochs",
            "20",
            "--no-progress",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "held-out accuracy" in done.stdout and (tmp_path / "loss-circles.png").stat().st_size > 1000


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lr", "-1"], "--lr"),
        (["--layers", "3,x"], "--layers"),
        (["--dataset", "mnist"], "--dataset"),
        (["--activation", "softmax"], "--activation"),
    ],
)
def test_train_cli_bad_arguments(args, message):
    done = subprocess.run(
        [sys.executable, "-m", "nnref", "train", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and message in done.stderr
