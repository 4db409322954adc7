"""Losses: the contract, gradients against finite differences and mpmath, fused identities, bad input."""

from __future__ import annotations

import zlib

import mpmath as mp
import numpy as np
import pytest

import nnref.activations as A
import nnref.losses as L
from derivations.fused import identities as fused_identities
from derivations.losses import LOSSES
from derivations.neuron import identities as neuron_identities
from derivations.softmax import identities as softmax_identities
from nnref import gradcheck
from nnref.testing import assert_gradient_close


def sample(name: str, shape=(3, 5), dtype=np.float64):
    """A valid (y_hat, y) pair for the loss, drawn by the kinds its entry states, with a seed of its
    own per case (so a case draws the same numbers whichever worker runs it, in whatever order)."""
    entry = LOSSES[name]
    rng = np.random.default_rng(zlib.crc32(f"{name} {shape} {np.dtype(dtype)}".encode()))
    # Class probabilities from logits in [-1, 1]: at least 0.06 for three classes, so the central
    # differences' truncation (h²/3p² relative, for -log p) stays far below the check's 1e-7.
    logits = rng.uniform(-1, 1, shape)
    x = {
        "real": lambda: rng.normal(0, 2, shape),
        "logit": lambda: rng.normal(0, 3, shape),
        "probability": lambda: rng.uniform(0.05, 0.95, shape),
        "class_probability": lambda: A.get("softmax").f(logits),
    }[entry.prediction]()
    if entry.target == "distribution":
        labels = rng.integers(0, shape[0], shape[1:])
        y = np.moveaxis(np.eye(shape[0])[labels], -1, 0)
    else:
        y = {
            "real": lambda: rng.normal(0, 2, shape),
            "probability": lambda: rng.uniform(0, 1, shape),
            "sign": lambda: rng.choice([-1.0, 1.0], shape),
        }[entry.target]()
    return np.asarray(x, dtype=dtype), np.asarray(y, dtype=dtype)


#: Where a gradient's value is a stated convention, by the entry's grad_kink: the check skips there.
KINKS = {
    "y_hat = y": lambda yh, y: np.abs(yh - y) < 1e-4,
    "y*y_hat = 1": lambda yh, y: np.abs(y * yh - 1) < 1e-4,
}


@pytest.mark.parametrize("name", L.names())
def test_gradient_is_the_gradient_of_value(name):
    loss = L.get(name)
    y_hat, y = sample(name)
    kink = KINKS.get(LOSSES[name].grad_kink)
    assert_gradient_close(
        lambda v: loss.value(v, y),
        loss.grad(y_hat, y),
        y_hat,
        kinks=(lambda x, h: kink(x, y)) if kink else None,
        err_msg=name,
    )


SHAPE_CASES = [
    (name, shape)
    for name in L.names()
    for shape in [(), (4,), (2, 3), (2, 3, 2)]
    # The class losses need a classes axis: their scalar case is an error, tested below.
    if shape or name not in ("categorical_cross_entropy", "softmax_cross_entropy")
]


@pytest.mark.parametrize("name, shape", SHAPE_CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
def test_shapes_and_dtypes(name, shape, dtype):
    y_hat, y = sample(name, shape if shape else (), dtype) if shape else sample(name, (1, 1), dtype)
    if not shape:
        y_hat, y = y_hat.reshape(()), y.reshape(())
    loss = L.get(name)
    g = loss.grad(y_hat, y)
    assert g.shape == np.shape(y_hat) and g.dtype == dtype
    assert isinstance(loss.value(y_hat, y), float)


def test_value_is_mean_over_examples_and_sum_over_units():
    y_hat = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    y = np.zeros_like(y_hat)
    assert L.get("mse").value(y_hat, y) == pytest.approx((1 + 4 + 9) / 3)
    assert L.get("mse").grad(y_hat, y)[0, 2] == pytest.approx(2 * 3 / 3)


def test_notebook_cost_matches_the_formula():
    AL = np.array([[0.8, 0.9, 0.4]])
    Y = np.array([[1.0, 1.0, 0.0]])
    expected = -np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    assert L.get("binary_cross_entropy").value(AL, Y) == pytest.approx(expected, rel=1e-15)


def _ulp(computed: float, true) -> float:
    true_f = float(true)
    return float(abs(mp.mpf(computed) - true) / np.spacing(abs(true_f))) if true_f else abs(computed)


@pytest.mark.parametrize("z", [-800.0, -40.0, -1e-10, 0.0, 3.5, 40.0, 800.0])
@pytest.mark.parametrize("y", [0.0, 0.3, 1.0])
def test_bce_with_logits_extremes_against_mpmath(z, y):
    mp.mp.dps = 400
    loss = L.get("binary_cross_entropy_with_logits")
    zz, yy = mp.mpf(z), mp.mpf(y)
    s = 1 / (1 + mp.exp(-zz))
    true_value = -(yy * mp.log(s) + (1 - yy) * mp.log(1 - s))
    true_grad = s - yy
    value = loss.value(np.array([z]), np.array([y]))
    grad = loss.grad(np.array([z]), np.array([y]))[0]
    assert _ulp(value, true_value) <= 4, f"value at z={z}, y={y}: {value} vs {mp.nstr(true_value, 20)}"
    if float(true_grad) != 0 and abs(float(true_grad)) > 1e-300:
        assert _ulp(grad, true_grad) <= 4, f"grad at z={z}, y={y}: {grad} vs {true_grad}"


@pytest.mark.parametrize("y", [0.3, 0.5 + 2**-30, 0.01, 0.999, 1e-10, 0.7])
def test_bce_with_logits_gradient_keeps_its_digits_as_sigma_z_nears_a_soft_label(y):
    """σ(z) − y for logits closing in on logit(y), down to the doubles next to it: within 3 ULP
    while σ(z) and y share fewer than 50 bits, and within 2⁻¹⁰³ σ(z) (absolute) closer in, as the
    primitive's docstring says. (1 − y)σ(z) − yσ(−z) in float64 lost 12.8 ULP at z = −1, y = 0.3."""
    with mp.workdps(60):
        yy = mp.mpf(y)
        center = float(mp.log(yy / (1 - yy)))
        steps = max(abs(center), 1.0) * np.logspace(-14, -1, 14)
        zs = [center - steps, center + steps, [center]]
        for _ in range(4):
            zs += [[np.nextafter(min(np.concatenate(zs)), -np.inf)], [np.nextafter(max(np.concatenate(zs)), np.inf)]]
        zs = np.unique(np.concatenate(zs))
        zs = np.concatenate([zs, [np.nextafter(center, -np.inf), np.nextafter(center, np.inf)]])
        grad = L.get("binary_cross_entropy_with_logits").grad_terms(zs, np.full_like(zs, y))
        for z, g in zip(zs, grad):
            s = 1 / (1 + mp.exp(-mp.mpf(z)))
            true = s - yy
            if abs(true) >= 2.0**-50 * s:
                assert _ulp(g, true) <= 3, f"z={z!r}, y={y}: {g!r} vs {mp.nstr(true, 20)}"
            else:
                assert abs(mp.mpf(g) - true) <= 2.0**-103 * s, f"z={z!r}, y={y}: {g!r} vs {mp.nstr(true, 20)}"


def test_fused_identities_are_derived():
    for ident in fused_identities():
        assert ident.proven, ident.name


def test_softmax_identities_are_derived():
    for ident in softmax_identities():
        assert ident.proven, ident.name


def test_neuron_identities_are_derived():
    for ident in neuron_identities():
        assert ident.proven, ident.name


def test_a_wrong_identity_is_not_proven():
    import sympy as sp

    from derivations.identities import prove

    zz = sp.Symbol("z", real=True)
    assert not prove("wrong", "", sp.diff(1 / (1 + sp.exp(-zz)), zz), 1 / (1 + sp.exp(-zz))).proven


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_vector_activation_jacobian_and_vjp(name):
    act = A.get(name)
    rng = np.random.default_rng(7)
    z = rng.normal(0, 2, 4)
    J = act.jacobian(z)
    fd = np.stack(
        [
            gradcheck.elementwise_derivative(
                lambda t, i=i: act.f(z + (np.arange(4) == i) * (t - z[i]))[:, None].T[0], np.full(4, z[i])
            )
            for i in range(4)
        ]
    )
    # fd[i, k] = d f_k / d z_i  ->  J[k, i]
    assert np.allclose(J, fd.T, rtol=1e-8, atol=1e-10)
    g = rng.normal(size=(4, 3))
    zz = rng.normal(size=(4, 3))
    for col in range(3):
        assert np.allclose(act.vjp(zz, g)[:, col], act.jacobian(zz[:, col]).T @ g[:, col])


def test_softmax_does_not_overflow_and_sums_to_one():
    z = np.array([[1000.0, -1000.0], [0.0, -1000.0], [-1000.0, 1000.0]])
    with np.errstate(all="raise"):
        p = A.get("softmax").f(z)
        logp = A.get("log_softmax").f(z)
    assert np.allclose(p.sum(axis=0), 1.0)
    assert logp[1, 0] == -1000.0 and np.isfinite(logp).all()


@pytest.mark.parametrize(
    "name, y_hat, y, match",
    [
        ("mse", [[1.0, 2.0]], [[1.0]], "shape"),
        ("mse", [["a", "b"]], [[1.0, 2.0]], "y_hat"),
        ("mse", np.array([[1.0, None]], dtype=object), [[1.0, 2.0]], "y_hat"),
        ("mse", [[1.0, np.nan]], [[1.0, 2.0]], "y_hat must be finite"),
        ("binary_cross_entropy", [[-0.1, 0.5]], [[0.0, 1.0]], "y_hat must satisfy 0 <= y_hat <= 1"),
        ("binary_cross_entropy", [[1.5, 0.5]], [[0.0, 1.0]], "y_hat must satisfy 0 <= y_hat <= 1"),
        ("binary_cross_entropy", [[np.inf, 0.5]], [[0.0, 1.0]], "y_hat must be finite"),
        ("mse", [[1.0, 2.0]], [[1.0, -np.inf]], "y must be finite"),
        ("binary_cross_entropy_with_logits", [[np.nan]], [[1.0]], r"y_hat \(the logits z\) must be finite"),
        ("mse", np.zeros((1, 0)), np.zeros((1, 0)), "empty"),
        ("binary_cross_entropy", [], [], "empty"),
        ("binary_cross_entropy", [[0.2, 0.5]], [[2.0, 1.0]], "y must satisfy"),
        ("hinge", [[0.2, 0.5]], [[0.0, 1.0]], r"y must satisfy y in \{-1, \+1\}"),
        ("categorical_cross_entropy", [[0.5, 0.5], [0.5, 0.5]], [[1.0, 1.0], [1.0, 0.0]], "summing to 1"),
        ("softmax_cross_entropy", 1.0, 1.0, "classes axis"),
    ],
)
def test_bad_input_names_the_argument(name, y_hat, y, match):
    with pytest.raises((ValueError, TypeError), match=match):
        L.get(name).value(y_hat, y)


def test_empty_arrays_are_an_error_not_nan():
    """The mean over no examples is 0/0: a clear error for value and gradient alike, no RuntimeWarning."""
    for name in L.names():
        for method in ("value", "grad"):
            with pytest.raises(ValueError, match="empty"):
                getattr(L.get(name), method)(np.zeros((2, 0)), np.zeros((2, 0)))


#: The losses whose prediction is a probability: their domain is closed, ŷ ∈ [0, 1].
PROBABILITY_LOSSES = [n for n, e in LOSSES.items() if e.prediction in ("probability", "class_probability")]


def _edge_limit(entry, which: str, edge: int, target):
    """ℓ or ∂ℓ/∂ŷ as ŷ tends to the edge (0 or 1) from inside, for an exact target (SymPy)."""
    import sympy as sp

    expr = entry.textbook(which).subs(entry.y, sp.nsimplify(target))
    return sp.limit(expr, entry.x, edge, "+" if edge == 0 else "-")


@pytest.mark.parametrize("name", PROBABILITY_LOSSES)
@pytest.mark.parametrize("which", ["value", "grad"])
def test_the_edges_of_the_domain_are_their_limits(name, which):
    """ŷ = 0 or 1 (sigmoid(40) rounds to 1.0) is accepted: ℓ and ∂ℓ/∂ŷ are SymPy's one-sided limits
    there, finite for a term whose weight is 0 (0·log 0 = 0), +inf (or ±inf) only where the true
    loss is infinite. Two-class columns [ŷ, 1 − ŷ], so the class targets sum to 1."""
    entry, loss = LOSSES[name], L.get(name)
    for edge in (0, 1):
        for t in entry.measured_targets:
            x = np.array([[float(edge)], [1.0 - edge]])
            y = np.array([[t], [1.0 - t]])
            rows = [(edge, t), (1 - edge, 1 - t)] if entry.classes_axis else [(edge, t)]
            x, y = x[: len(rows)], y[: len(rows)]
            limits = [float(_edge_limit(entry, which, e, tt)) for e, tt in rows]
            if which == "value":
                assert loss.value(x, y) == sum(limits), (name, edge, t, limits)
            else:
                np.testing.assert_array_equal(loss.grad_terms(x, y).ravel(), limits, err_msg=f"{name} at ŷ = {edge}")


def test_a_sigmoid_rounded_to_one_is_a_certain_prediction():
    """The issue's case: binary_cross_entropy(sigmoid(40), 1) is about 4e-18, not an error."""
    bce, a = L.get("binary_cross_entropy"), A.get("sigmoid").f([[40.0]])
    assert a[0, 0] == 1.0
    value = bce.value(a, [[1.0]])
    assert value == 0.0 and str(value) == "0.0"
    assert bce.grad(a, [[1.0]])[0, 0] == -1.0
    assert bce.value(a, [[0.0]]) == np.inf and bce.grad(a, [[0.0]])[0, 0] == np.inf


def test_unknown_name_lists_known_ones():
    with pytest.raises(ValueError, match="known losses: mse, mae"):
        L.get("cross_entropyy")


def test_bad_parameter():
    with pytest.raises(ValueError, match="delta must be > 0"):
        L.get("huber", delta=-1)
    with pytest.raises(TypeError, match="unknown parameter"):
        L.get("mse", delta=1)


@pytest.mark.parametrize("name", [n for n in LOSSES if not LOSSES[n].vector])
def test_stable_forms_print_no_select(name):
    from derivations.printer import numpy_code

    entry = LOSSES[name]
    for expr in (entry.code_value, entry.code_grad):
        assert "numpy.select" not in numpy_code(expr)


PER_ELEMENT = [name for name, entry in LOSSES.items() if not entry.vector]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("which", ["value", "grad"])
@pytest.mark.parametrize("name", PER_ELEMENT)
def test_loss_kernels_against_mpmath_in_their_own_ulp(name, which, dtype):
    """Value and gradient on dtype predictions and targets (0, 0.3 and 1, or the kind's own), over
    the domain's grid in dtype, held to dtype's result and to 4 of its ULP (float64: or the entry's
    recorded bound)."""
    from derivations.reference import loss_accuracy
    from nnref._generated import losses as generated

    entry = LOSSES[name]
    kernel = getattr(generated, f"{name}_{which}")
    row = loss_accuracy(entry, which, lambda v, t: kernel(v, t, **entry.params), dtype=dtype)
    assert row.nan_inf == 0, f"{name}.{which} ({np.dtype(dtype)}): {row.nan_inf} NaN/inf where the loss is finite"
    assert row.max_ulp <= row.bound, (
        f"{name}.{which} ({np.dtype(dtype)}): {row.max_ulp:.3g} ULP at {row.worst_z!r}: "
        f"computed {row.worst_value!r}, mpmath {row.worst_truth!r} (bound {row.bound:g})"
    )


def test_a_loss_that_leaves_float32_fails_the_float32_measure():
    """The float32 measure holds a kernel to float32: one that answers in float64 is an error, not a pass."""
    from derivations.reference import loss_accuracy
    from nnref._generated import losses as generated

    entry = LOSSES["mse"]
    with pytest.raises(TypeError, match="float64 for float32 input"):
        loss_accuracy(entry, "value", lambda v, t: generated.mse_value(v.astype(np.float64), t), dtype=np.float32)
