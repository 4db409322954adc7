"""The quick answer at the top of each activation and loss page: the familiar forms (f and f', ℓ and
∂ℓ/∂ŷ) equal the definition, and the copyable NumPy/SciPy code agrees with the generated code
without a warning."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.special

import nnref.activations
import nnref.losses
from derivations.activations import ENTRIES
from derivations.common import numeric
from derivations.docgen import loss_quick_code
from derivations.losses import ENTRIES as LOSS_ENTRIES
from derivations.reference import loss_grid
from derivations.symbols import y
from derivations.verify import loss_sample
from nnref._generated import losses as generated_losses

#: Inputs for the comparisons: a dense stretch around 0, the tails, and values near the kinks.
GRID = np.concatenate([np.linspace(-12, 12, 2401), [-1e3, -40.0, -20.0, -1e-300, 0.0, 1e-300, 20.0, 40.0, 1e3]])


def _away_from_kinks(entry, z):
    return z[np.all([np.abs(z - k) > 1e-9 for k in entry.kinks], axis=0)] if entry.kinks else z


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
@pytest.mark.parametrize("which", ["f", "df"])
def test_the_familiar_form_is_the_definition(entry, which):
    quick = entry.unnamed(entry.quick_f if which == "f" else entry.quick_df)
    truth = entry.f if which == "f" else entry.df
    z = _away_from_kinks(entry, np.linspace(-8, 8, 1601))
    got, want = numeric(quick, entry.params)(z), numeric(truth, entry.params)(z)
    assert np.allclose(got, want, rtol=1e-12, atol=1e-300), (
        f"{entry.name}: the quick answer's {which} differs from the definition's, worst at "
        f"z = {z[np.argmax(np.abs(got - want))]:.6g}"
    )


def run(code: str, z: np.ndarray, params: dict):
    """Evaluate a one-liner as a reader would paste it: numpy as np, scipy.special as special."""
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        return np.broadcast_to(eval(code, {"np": np, "special": scipy.special, "z": z, **params}), z.shape)  # noqa: S307


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
@pytest.mark.parametrize("which", ["f", "df"])
def test_the_one_liner_matches_the_generated_code(entry, which):
    code = entry.numpy_f if which == "f" else entry.numpy_df
    assert code, f"{entry.name} has no numpy_{which}: every activation gives its copyable code"
    assert not re.search(r"nnref|\._", code), f"{entry.name}'s numpy_{which} uses a private function: {code}"
    act = nnref.activations.get(entry.name)
    z = GRID.copy()
    got = run(code, z, entry.params)
    want = getattr(act, which)(z)
    close = np.isclose(got, want, rtol=1e-10, atol=1e-300)
    assert close.all(), (
        f"{entry.name}: numpy_{which} = {code!r} gives {got[~close][0]!r} at z = {z[~close][0]!r}, "
        f"the generated code {want[~close][0]!r}"
    )


def test_a_wrong_one_liner_is_caught():
    sigmoid = next(e for e in ENTRIES if e.name == "sigmoid")
    wrong = run("special.expit(z) * (1 - special.expit(z))", GRID, {})  # cancels for large z
    assert not np.isclose(wrong, nnref.activations.get("sigmoid").df(GRID), rtol=1e-10, atol=1e-300).all()
    assert sigmoid.numpy_df != "special.expit(z) * (1 - special.expit(z))"
    with pytest.raises(FloatingPointError):
        run("1 / np.cosh(z) ** 2", GRID, {})  # cosh overflows at 1e3


# ---- losses ----------------------------------------------------------------------------------

ELEMENTWISE_LOSSES = [e for e in LOSS_ENTRIES if not e.vector]


def _predictions(entry, moderate: bool = False) -> np.ndarray:
    """Inputs inside the loss's domain: its measured probabilities, or GRID for a real prediction."""
    if entry.prediction in ("probability", "class_probability"):
        return np.linspace(0.01, 0.99, 99) if moderate else loss_grid(entry)
    return np.linspace(-8, 8, 1601) if moderate else GRID.copy()


@pytest.mark.parametrize("entry", ELEMENTWISE_LOSSES, ids=lambda e: e.name)
@pytest.mark.parametrize("which", ["value", "grad"])
def test_the_familiar_loss_form_is_the_definition(entry, which):
    quick = entry.quick_value if which == "value" else entry.quick_grad
    for target in entry.measured_targets:
        x = _predictions(entry, moderate=True)
        kinks = entry.kink_points(which, target)
        x = x[np.all([np.abs(x - k) > 1e-9 for k in kinks], axis=0)] if kinks else x
        got = numeric(quick.subs(y, target), entry.params, var=entry.x)(x)
        want = numeric(entry.textbook(which).subs(y, target), entry.params, var=entry.x)(x)
        # atol: the textbook gradients cancel where the gradient is near 0 (BCE's −y/ŷ + (1 − y)/(1 − ŷ)).
        close = np.isclose(got, want, rtol=1e-12, atol=1e-12)
        assert close.all(), (
            f"{entry.name}: the quick answer's {which} differs from the definition's at "
            f"{entry.x} = {x[~close][0]!r}, y = {target}: {got[~close][0]!r} against {want[~close][0]!r}"
        )


def _quick_code(entry) -> dict:
    """The quick answer's code block, run as a reader would paste it: loss, dloss, cost, grad."""
    for code in (entry.numpy_value, entry.numpy_grad):
        assert code, f"{entry.name} has no numpy_value or numpy_grad: every loss gives its copyable code"
        assert not re.search(r"nnref|\._", code), f"{entry.name}'s copyable code uses a private function: {code}"
    scope: dict = {}
    exec(loss_quick_code(entry), scope)  # noqa: S102 - the project's own text, shown on its page
    return scope


def _quiet_call(fn, x, t):
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        return np.broadcast_to(fn(x, t), np.shape(fn(x, t)))


def _assert_close(entry, what, got, want, x, t, atol=1e-300):
    close = np.isclose(got, want, rtol=1e-10, atol=atol)
    assert close.all(), (
        f"{entry.name}: the quick answer's {what} gives {got[~close].flat[0]!r} at "
        f"{entry.x} = {x[~close].flat[0]!r}, y = {t[~close].flat[0]!r}; the generated code {want[~close].flat[0]!r}"
    )


@pytest.mark.parametrize("entry", ELEMENTWISE_LOSSES, ids=lambda e: e.name)
def test_the_loss_code_matches_the_generated_code(entry):
    code = _quick_code(entry)
    kernels = {which: getattr(generated_losses, f"{entry.name}_{which}") for which in ("value", "grad")}
    for target in entry.measured_targets:
        x = _predictions(entry)
        t = np.full_like(x, target)
        with np.errstate(all="ignore"):  # as nnref.losses calls its kernels
            want = {which: np.broadcast_to(k(x, t, **entry.params), x.shape) for which, k in kernels.items()}
        _assert_close(entry, "loss", _quiet_call(code["loss"], x, t), want["value"], x, t)
        _assert_close(entry, "dloss", _quiet_call(code["dloss"], x, t), want["grad"], x, t)


def test_the_softmax_cross_entropy_code_matches_the_runtime():
    entry = next(e for e in LOSS_ENTRIES if e.vector)
    code = _quick_code(entry)
    loss = nnref.losses.get(entry.name)
    # Three logits per column, spread over GRID (large ones included); one-hot and soft labels.
    z = np.stack([GRID, GRID[::-1], np.roll(GRID, len(GRID) // 3)])
    labels = np.eye(3)[:, np.arange(z.shape[1]) % 3]
    labels[:, ::7] = np.array([[0.2], [0.3], [0.5]])
    per_column = np.array([loss.value(z[:, [j]], labels[:, [j]]) for j in range(z.shape[1])])
    # Absolute: scipy's log_softmax rounds 1 + Σ' e^(z_k − max z) before its log (the entry's note).
    _assert_close(entry, "loss", _quiet_call(code["loss"], z, labels), per_column, z[0], labels[0], atol=1e-15)
    _assert_close(entry, "dloss", _quiet_call(code["dloss"], z, labels), loss.grad_terms(z, labels), z, labels)


@pytest.mark.parametrize("entry", LOSS_ENTRIES, ids=lambda e: e.name)
def test_the_cost_and_grad_lines_are_the_runtime_loss(entry):
    """The last two lines of the code: the mean over the columns and the 1/m, as nnref.losses returns them."""
    code = _quick_code(entry)
    loss = nnref.losses.get(entry.name)
    x, t = loss_sample(entry, np.random.default_rng(3), shape=(3, 40))
    assert code["cost"](x, t) == pytest.approx(loss.value(x, t), rel=1e-12)
    _assert_close(entry, "grad", code["grad"](x, t), loss.grad(x, t), x, t)


def test_a_wrong_loss_one_liner_is_caught():
    entry = next(e for e in LOSS_ENTRIES if e.name == "binary_cross_entropy_with_logits")
    z = GRID.copy()
    t = np.ones_like(z)
    wrong = scipy.special.expit(z) - t  # the familiar σ(z) − y cancels to 0 for y = 1, large z
    right = nnref.losses.get(entry.name).grad_terms(z, t)
    assert not np.isclose(wrong, right, rtol=1e-10, atol=1e-300).all()
    assert entry.numpy_grad != "special.expit(z) - y"
