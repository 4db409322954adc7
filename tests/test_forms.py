"""The forms `nnref derive` chooses between (derivations/forms.py): each is proved equal to its
block's textbook definition, the chosen one is within the bar and the cheapest such, and the
printer writes it, sharing its exponential with the other blocks of the same argument."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import sympy as sp

from derivations import forms
from derivations.codegen import function_source
from derivations.functions import dsigmoid, sigmoid, softplus
from derivations.symbols import z
from nnref._generated import activations as gen

NODES = forms.nodes_with_forms()


def test_the_blocks_with_forms_are_found():
    assert {cls.__name__ for cls in NODES} >= {"sigmoid", "dsigmoid", "softplus", "sech2"}


@pytest.mark.parametrize("cls", NODES, ids=lambda c: c.__name__)
def test_every_form_is_proved_and_the_choice_is_the_cheapest_within_the_bar(cls):
    choice = forms.choice(cls)
    assert all(c.proved for c in choice.candidates), [c.label for c in choice.candidates if not c.proved]
    chosen = choice.form
    assert choice.chosen == 0 or chosen.eligible(choice.bar), (
        f"{cls.__name__}: chose {chosen.label}, {chosen.max_ulp} ULP"
    )
    cheaper = [c for c in choice.candidates if c.eligible(choice.bar) and c.cost_ns < chosen.cost_ns]
    assert not cheaper, f"{cls.__name__}: {[c.label for c in cheaper]} are cheaper and within the bar"


def test_a_wrong_form_is_not_proved():
    """The proof can fail: σ(u) written as e/(1 + e) without the branch for u ≥ 0 is σ(−|u|)."""
    u = sp.Symbol("u", real=True)
    wrong = sp.exp(-sp.Abs(u)) / (1 + sp.exp(-sp.Abs(u)))
    assert not forms._proved(sigmoid, wrong)


def test_a_form_that_overflows_is_measured_and_rejected():
    """log1p(exp(u)) is cheaper than every softplus form that is right, and overflows at u = 710."""
    choice = forms.choice(softplus)
    overflowing = next(c for c in choice.candidates if c.label == "log1p(exp(u))")
    assert overflowing.max_ulp == float("inf") and not overflowing.eligible(choice.bar)
    assert overflowing.cost_ns < choice.form.cost_ns
    assert "log1p(exp(u)) costs less but is inf ULP" in choice.reason


def test_the_cost_model_counts_calls_and_operators():
    assert forms.cost_ns("def f(u):\n    return numpy.exp(-u)\n") == pytest.approx(
        forms.COST_NS["exp"] + forms.COST_NS["USub"]
    )
    assert forms.cost_ns("def f(u):\n    return -1.0\n") == 0  # a negative literal is not an operation


def test_sigmoid_times_its_mirror_is_fused_only_where_a_form_of_the_derivative_is_chosen(monkeypatch):
    product = z * sigmoid(z) ** 2 * sigmoid(-z)
    if forms.choice(dsigmoid).chosen == 0:  # e/(1 + e)² measures 2.33 ULP, σ(u)σ(−u) 2.22: kept
        assert forms.fuse(product) == product
    chosen = forms.Choice("dsigmoid", forms.choice(dsigmoid).candidates, 1)
    monkeypatch.setattr(forms, "choice", lambda cls: chosen if cls is dsigmoid else forms.choice.__wrapped__(cls))
    assert forms.fuse(product) == z * sigmoid(z) * dsigmoid(z)
    source = function_source("d", [sigmoid(z) * sigmoid(-z)], {}, "σ'")
    assert "expit" not in source and source.count("numpy.exp(") == 1, source


def test_the_generated_kernels_compute_the_chosen_forms():
    """sigmoid's f and softplus's f, as printed: one exp each, no SciPy call and no logaddexp."""
    for fn, exp in ((gen.sigmoid_f, "numpy.exp(-z)"), (gen.softplus_f, "numpy.exp(-numpy.abs(z))")):
        source = inspect.getsource(fn)
        assert "scipy" not in source and "logaddexp" not in source, source
        assert source.count(exp) == 1, source


def test_every_activation_page_shows_the_forms_its_code_uses():
    from derivations.activations import ACTIVATIONS

    text = forms.forms_section(ACTIVATIONS["mish"])
    for node in ("softplus", "sigmoid"):
        assert f"**{node}**" in text
    assert forms.forms_section(ACTIVATIONS["relu"]) == ""


def test_the_chosen_forms_agree_with_the_blocks_on_finite_inputs():
    """A quick cross-check next to the mpmath measurement: chosen form against SciPy/NumPy."""
    import scipy.special

    x = np.linspace(-700, 700, 10_001)
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(gen.sigmoid_f(x), scipy.special.expit(x), rtol=4e-16, atol=0)
        np.testing.assert_allclose(gen.softplus_f(x), np.logaddexp(0, x), rtol=4e-16, atol=0)
