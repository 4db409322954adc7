"""The network from scratch: proven backprop identities, the notebook's functions, nnref.MLP, nnref train."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from derivations.backprop import identities as backprop_identities
from derivations.init import identities as init_identities
from nnref import activations, datasets, gradcheck
from nnref import notebook as nb
from nnref.mlp import MLP
from nnref.testing import assert_gradients_close

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
    kinks = None
    if activation == "relu":
        # A step that moves a hidden pre-activation across 0 straddles relu's kink: flag it.
        def kinks(key, x, h):
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

    # Every block of the parameter dict at once; a failure names the element (W2[3, 1]).
    assert_gradients_close(
        lambda params: model.cost(X, y, params),
        model.gradients(X, y),
        model.params,
        kinks=kinks,
        rtol=1e-7,
        err_msg=f"{activation}/{loss}",
    )


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


# Each refused setting: the error names the argument and what it expects, at construction.
BAD_SETTINGS = [
    ({"beta1": 1.0}, ValueError, r"beta1 must be a finite number with 0 ≤ beta1 < 1, got 1"),
    ({"beta1": -0.1}, ValueError, r"beta1 must be a finite number with 0 ≤ beta1 < 1"),
    ({"beta2": 2}, ValueError, r"beta2 must be a finite number with 0 ≤ beta2 < 1, got 2"),
    ({"momentum": 5}, ValueError, r"momentum must be a finite number with 0 ≤ momentum < 1, got 5"),
    ({"momentum": -1}, ValueError, r"momentum must be a finite number with 0 ≤ momentum < 1, got -1"),
    ({"epochs": 2.7}, TypeError, r"epochs must be a whole number ≥ 1, got 2.7"),
    ({"epochs": 0}, ValueError, r"epochs must be a whole number ≥ 1, got 0"),
    ({"batch_size": "32"}, TypeError, r"batch_size must be a whole number"),
    ({"layers": [2, 2.5, 2]}, TypeError, r"layers\[1\] must be a whole number ≥ 1, got 2.5"),
    ({"layers": [2, 0, 2]}, ValueError, r"layers\[1\] must be a whole number ≥ 1, got 0"),
    ({"layers": "2,4,2"}, TypeError, r"layers must be a list of sizes"),
    ({"layers": [2]}, ValueError, r"layers must list at least two sizes"),
    ({"lr": True}, TypeError, r"lr must be a real number, got True"),
    ({"lr": float("inf")}, ValueError, r"lr must be a finite number"),
    ({"eps": 0}, ValueError, r"eps must be a finite number with 0 < eps"),
    ({"weight_decay": -1}, ValueError, r"weight_decay must be a finite number with 0 ≤ weight_decay, got -1"),
    ({"weight_decay": float("nan")}, ValueError, r"weight_decay must be a finite number"),
    ({"seed": -1}, ValueError, r"seed must be a whole number ≥ 0, got -1"),
    ({"seed": 1.5}, TypeError, r"seed must be None, a whole number ≥ 0 or a numpy.random.Generator"),
    ({"warm_start": "yes"}, TypeError, r"warm_start must be True or False"),
    ({"activation": 3}, TypeError, r"activation must be a registry name .* or an activation object"),
    ({"activation": ["relu"] * 2}, ValueError, r"activation lists 2 activations for 1 hidden layers"),
    # Binary data with one output unit and the multi-class loss: the message names the right loss.
    ({"layers": [2, 8, 1]}, ValueError, r"layers\[-1\] ≥ 2.*use loss='binary_cross_entropy'"),
    ({"layers": [2, 8, 2], "loss": "binary_cross_entropy"}, ValueError, r"needs one output unit \(layers\[-1\] = 1\)"),
]


@pytest.mark.parametrize("kwargs, error, match", BAD_SETTINGS, ids=lambda v: str(v)[:40])
def test_settings_are_validated_up_front(kwargs, error, match):
    kwargs = {"layers": [2, 4, 2], **kwargs}
    with pytest.raises(error, match=match):
        MLP(**kwargs)


def test_numpy_scalars_are_accepted_everywhere():
    model = MLP(
        [np.int64(2), np.int32(4), np.uint8(2)],
        lr=np.float32(0.1),
        momentum=np.float64(0.5),
        beta1=np.float32(0.8),
        beta2=np.float16(0.9),
        eps=np.float32(1e-7),
        weight_decay=np.int64(0),
        epochs=np.int64(2),
        batch_size=np.uint16(16),
        seed=np.int64(3),
    )
    assert model.layers == [2, 4, 2] and all(type(n) is int for n in model.layers)
    assert type(model.lr) is float and model.lr == pytest.approx(0.1) and model.epochs == 2
    X, y = datasets.load("moons", seed=0)
    assert len(model.fit(X, y).history) == 2
    assert MLP([2, 4, 2], epochs=3.0).epochs == 3  # a whole number written as a float is that number


def test_a_generator_seed_is_drawn_from():
    X, y = datasets.load("moons", seed=0)
    a = MLP([2, 8, 2], epochs=2, seed=np.random.default_rng(5)).fit(X, y)
    b = MLP([2, 8, 2], epochs=2, seed=np.random.default_rng(5)).fit(X, y)
    for key in a.params:
        assert np.array_equal(a.params[key], b.params[key]), key
    assert a.config()["seed"] is None  # a Generator's state is not a JSON value


def test_a_second_fit_starts_again_unless_warm_start():
    X, y = datasets.load("moons", seed=0)
    cold = MLP([2, 8, 2], epochs=3, seed=1)
    first = {k: v.copy() for k, v in cold.fit(X, y).params.items()}
    cold.fit(X, y)
    assert len(cold.history) == 3
    for key in first:
        assert np.array_equal(cold.params[key], first[key]), key
    warm = MLP([2, 8, 2], epochs=3, seed=1, warm_start=True).fit(X, y)
    warm.fit(X, y)
    assert len(warm.history) == 6 and warm.history[3] < warm.history[2] * 1.5
    assert not np.array_equal(warm.params["W1"], first["W1"])


def test_divergence_without_nan_stops_with_the_epoch_and_advice():
    """moons, full-batch gd, lr=1000: the cost jumps by orders of magnitude and then sits at 1e3
    (dead ReLUs), finite all along; fit stops at the first epoch above 100 × the starting cost."""
    X, y = datasets.load("moons", seed=0)
    model = MLP([2, 32, 32, 2], optimizer="gd", lr=1000, epochs=200, seed=0)
    with pytest.raises(FloatingPointError) as info:
        model.fit(X, y)
    message = str(info.value)
    assert re.search(r"diverged at epoch \d+: the cost rose to \S+, more than 100 × its starting value", message)
    assert "smaller learning rate than lr=1000" in message and "optimizer='adam'" in message


def test_a_cost_growing_without_bound_stops_and_one_that_ends_higher_warns():
    """Linear regression by full-batch gd with too large a step: the cost grows geometrically.
    Left to run it crosses 100 × its start (epoch 3 here); stopped after 4 epochs below that, fit
    warns that the cost ended above where it began."""
    X, y = np.array([[1.0, 2.0, 3.0]]), np.array([[2.0, 4.0, 6.0]])
    with pytest.raises(FloatingPointError, match=r"diverged at epoch 3: .* lr=0.3 \(e.g. lr=0.03\)"):
        MLP([1, 1], loss="mse", optimizer="gd", lr=0.3, epochs=100, seed=0).fit(X, y)
    with pytest.warns(RuntimeWarning, match=r"ended with a higher cost than it started with .* lr=0.2"):
        model = MLP([1, 1], loss="mse", optimizer="gd", lr=0.2, epochs=4, seed=0).fit(X, y)
    assert np.all(np.diff(model.history) > 0) and model.history[-1] < 100 * model.history[0]


def test_datasets_load_with_nnref():
    done = subprocess.run(
        [sys.executable, "-c", "import nnref; print(nnref.datasets.NAMES, nnref.MLPClassifier.__name__)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "MLPClassifier" and "digits" in done.stdout


def test_held_out_cost_is_recorded_and_history_survives_save_and_load(tmp_path):
    X, y = datasets.load("moons", seed=0)
    Xtr, ytr, Xte, yte = datasets.split(X, y)
    model = MLP([2, 8, 2], epochs=4, seed=0).fit(Xtr, ytr, validation=(Xte, yte))
    assert len(model.val_history) == 4 and model.val_history[-1] == pytest.approx(model.cost(Xte, yte))
    again = MLP.load(model.save(tmp_path / "m.npz"))
    assert again.history == model.history and again.val_history == model.val_history
    assert again.config() == model.config()
    with pytest.raises(TypeError, match="validation must be a pair"):
        model.fit(Xtr, ytr, validation=Xte)


def test_activation_objects_with_parameters_train_and_save(tmp_path):
    X, y = datasets.load("moons", seed=0)
    leaky = activations.get("leaky_relu", alpha=0.2)
    model = MLP([2, 8, 8, 2], activation=[leaky, "tanh"], epochs=3, seed=0).fit(X, y)
    again = MLP.load(model.save(tmp_path / "m.npz"))
    assert again._units[0].params == {"alpha": 0.2}
    assert np.array_equal(again.predict_proba(X), model.predict_proba(X))


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


def _train(*args, cwd=ROOT, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "nnref", "train", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lr", "-1"], "--lr"),
        (["--layers", "3,x"], "--layers"),
        (["--dataset", "mnist"], "--dataset"),
        (["--activation", "softmax"], "--activation"),
        (["--activation", "rleu"], "argument --activation: unknown hidden activation 'rleu'"),
        (["--weight-decay", "-1"], "argument --weight-decay: must be a finite number ≥ 0, got -1"),
        (["--weight-decay", "nan"], "argument --weight-decay: must be a finite number ≥ 0, got nan"),
        (["--seed", "-1"], "argument --seed: must be a whole number from 0 to 4294967295"),
        (["--seed", "4294967296"], "argument --seed: must be a whole number from 0 to 4294967295"),
        (["--layers", "64,512", "--hidden", "512"], "not allowed with argument"),
        # --layers means what MLP(layers) means: every size; the message gives both spellings.
        (
            ["--layers", "512"],
            "--layers 512: lists every size, input first, as MLP(layers) does; digits with "
            "softmax_cross_entropy needs 64 inputs and 10 outputs, e.g. --layers 64,512,10 (or --hidden 512)",
        ),
        (
            ["--dataset", "moons", "--layers", "2,8,2"],
            "e.g. --layers 2,8,1 (or --hidden 8); 2 outputs, one per class, go with --loss softmax_cross_entropy",
        ),
        (["--activation", "z*foo(z)"], "--activation 'z*foo(z)': unknown function 'foo'"),
        (["--activation", "missing.py"], "--activation missing.py: no such module"),
    ],
)
def test_train_cli_bad_arguments(args, message, tmp_path):
    done = _train(*args, "--out", tmp_path / "out")
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert done.stdout == "" and not (tmp_path / "out").exists()  # nothing trained, nothing written


def test_train_cli_checks_out_before_training(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    done = _train("--epochs", "3", "--out", afile)
    assert done.returncode == 2 and f"--out {afile}: exists and is not a folder" in done.stderr
    done = _train("--out", afile / "x")
    assert done.returncode == 2 and f"--out {afile / 'x'}: {afile} is a file, not a folder" in done.stderr
    curve = tmp_path / "loss-digits.png"
    curve.write_bytes(b"mine")
    done = _train("--out", tmp_path)
    assert done.returncode == 2 and f"{curve} exists; pass --force to replace it" in done.stderr
    assert done.stdout == "" and afile.read_text() == "mine" and curve.read_bytes() == b"mine"


def test_train_cli_layers_are_every_size_as_in_mlp(tmp_path):
    done = _train("--layers", "64,24,10", "--epochs", "1", "--no-progress", "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "layers [64, 24, 10]," in done.stdout
    done = _train("--hidden", "24", "--epochs", "1", "--no-progress", "--out", tmp_path, "--force")
    assert done.returncode == 0, done.stderr
    assert "layers [64, 24, 10]," in done.stdout


def test_train_cli_divergence_stops_with_advice(tmp_path):
    done = _train("--dataset", "moons", "--optimizer", "gd", "--lr", "1000", "--no-progress", "--out", tmp_path)
    assert done.returncode == 1
    assert re.search(r"training diverged at epoch \d+: the cost rose to .* try a smaller learning rate", done.stderr)
    assert not (tmp_path / "loss-moons.png").exists()


def test_train_help_shows_defaults_and_outputs():
    done = _train("--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for fragment in (
        "--optimizer {gd,sgd,adam} default: adam",
        "--init {small,xavier,he} default: he",
        "(default: 0.0)",
        "(default: ./nnref-train-output)",
        "OUT/loss-DATASET.png, the training and the held-out cost per epoch",
        "Exit status: 0 trained (with a warning if the cost ended above where it started); 1 training diverged",
    ):
        assert fragment in text, fragment


# ---- a custom activation is accepted wherever a registry name is ---------------------------------


@pytest.fixture(scope="module")
def swish():
    from nnref.custom import activation

    return activation("z*sigmoid(z)", name="swish_custom", verify=False)


def test_a_custom_activation_trains_and_matches_the_registry_entry(swish, tmp_path):
    X, y = datasets.load("moons", seed=0)
    ours = MLP([2, 8, 2], activation=swish, epochs=5, seed=0).fit(X, y)
    registry = MLP([2, 8, 2], activation="silu", epochs=5, seed=0).fit(X, y)  # silu is z·σ(z)
    assert np.allclose(ours.history, registry.history, rtol=1e-12)
    again = MLP.load(ours.save(tmp_path / "custom.npz"))  # saved as its formula, derived again
    assert again.config()["activation"] == [{"formula": "z*sigmoid(z)", "name": "swish_custom", "params": {}}]
    assert np.array_equal(again.predict_proba(X), ours.predict_proba(X))


def test_the_notebook_functions_take_a_custom_activation(swish):
    rng = np.random.default_rng(0)
    A_prev, W, b = rng.normal(size=(3, 4)), rng.normal(size=(2, 3)), np.zeros((2, 1))
    A, cache = nb.linear_activation_forward(A_prev, W, b, swish)
    A_ref, _ = nb.linear_activation_forward(A_prev, W, b, "silu")
    assert np.allclose(A, A_ref, rtol=1e-14)
    grads = nb.linear_activation_backward(np.ones((2, 4)), cache, swish)
    grads_ref = nb.linear_activation_backward(np.ones((2, 4)), cache, "silu")
    for ours, theirs in zip(grads, grads_ref):
        assert np.allclose(ours, theirs, rtol=1e-12)
    with pytest.raises(TypeError, match="activation must be a registry name"):
        nb.linear_activation_forward(A_prev, W, b, 42)


def test_train_cli_takes_a_formula_and_a_module(tmp_path):
    done = _train(
        "--dataset", "moons", "--activation", "z*sigmoid(z)", "--epochs", "3", "--no-progress", "--out", tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "layers [2, 32, 32, 1], z*sigmoid(z)," in done.stdout
    module = tmp_path / "swishy.py"
    written = subprocess.run(
        [sys.executable, "-m", "nnref", "custom", "z*sigmoid(z)", "--name", "swishy", "--no-verify", "--out", module],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert written.returncode == 0, written.stderr
    done = _train(
        "--dataset", "moons", "--activation", module, "--epochs", "3", "--no-progress", "--out", tmp_path / "m"
    )
    assert done.returncode == 0, done.stderr
    assert "held-out accuracy" in done.stdout


def test_an_estimator_with_a_custom_activation_clones_and_pickles(swish):
    import pickle

    from sklearn.base import clone

    import nnref

    X, y = datasets.load("moons", seed=0)
    clf = nnref.MLPClassifier(hidden=(8,), activation=swish, epochs=3).fit(X.T, y)
    assert clone(clf).activation is swish  # immutable: clone keeps the one object
    again = pickle.loads(pickle.dumps(clf))  # compiled again from the generated source
    assert np.array_equal(again.predict_proba(X.T), clf.predict_proba(X.T))
    assert again.mlp_._units[0].report.formula == "z*sigmoid(z)"
