"""Every stable form is proven equal to its textbook form, symbolically; a wrong one is not."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sympy as sp

from derivations.activations import ACTIVATIONS, ENTRIES
from derivations.functions import sigmoid
from derivations.losses import ENTRIES as LOSS_ENTRIES
from derivations.proofs import prove_activation, prove_equal, prove_loss
from derivations.symbols import z


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_stable_forms_are_proven(entry):
    for which, proof in prove_activation(entry).items():
        assert proof.proven, f"{entry.name}.{which}: {proof.method}"


@pytest.mark.parametrize("entry", [e for e in LOSS_ENTRIES if not e.vector], ids=lambda e: e.name)
def test_loss_stable_forms_are_proven(entry):
    for which, proof in prove_loss(entry).items():
        assert proof.proven, f"{entry.name}.{which}: {proof.method}"


def test_a_wrong_stable_form_is_not_proven():
    assert not prove_equal(1 / (1 + sp.exp(z)), sigmoid(z)).proven
    assert not prove_equal(sp.Piecewise((z, z > 0), (0, True)), sp.Piecewise((z, z > 1), (0, True))).proven


def test_a_kink_convention_is_reported_not_hidden():
    proof = prove_equal(sp.Heaviside(z), sp.Piecewise((1, z > 0), (0, True)))
    assert proof.proven and "except 0" in proof.note


def test_patches_are_approximations_with_small_truncation():
    """The first omitted Taylor term at the patch edge is below a few ULP of f' there."""
    import numpy as np

    import nnref.activations as A

    patched = [e for e in ENTRIES if e.patches]
    assert {e.name for e in patched} >= {"gelu", "silu", "mish"}
    for entry in patched:
        for patch in entry.patches:
            edges = np.array([patch.z0 - patch.radius, patch.z0 + patch.radius])
            smallest = float(np.min(np.abs(A.get(entry.name).df(edges))))
            assert patch.truncation < 8 * np.finfo(np.float64).eps * smallest, (entry.name, patch.truncation, smallest)


@pytest.mark.parametrize(
    "f, kinks, jumps",
    [
        (sp.Min(sp.Max(z, -1), 1), (-1.0, 1.0), ()),  # hard_tanh as `nnref custom` parses it
        (sp.Min(sp.Max(z + 3, 0), 6) / 6, (-3.0, 3.0), ()),
        (sp.Heaviside(z) + sp.Max(z, 0), (0.0,), (0.0,)),  # a step: f itself jumps at 0
    ],
)
def test_jumps_of_a_formula_with_min_and_max(f, kinks, jumps):
    """SymPy's one-sided limit fails inside Min/Max (a TypeError from gruntz), which stopped the
    verification of `nnref custom "min(max(z, -1), 1)"` with a traceback."""
    entry = replace(ACTIVATIONS["relu"], name="kinked", f=f, kinks=kinks)
    assert entry.jumps == jumps


def test_a_convention_point_is_named_once():
    """A kink that comes as both -1 and -1.0 (the printed code's Eq holds a float) is named once."""
    df = sp.Min(sp.Max(z, -1), 1).diff(z)
    code = sp.Piecewise((0.0, sp.Eq(z, -1.0) | sp.Eq(z, 1.0)), (df, True))
    note = prove_equal(df, code).note
    assert "except -1, 1, where" in note, note
