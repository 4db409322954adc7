"""The quick answer at the top of each activation page: the familiar forms of f and f' equal the
definition, and the copyable NumPy/SciPy code agrees with the generated code without a warning."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.special

import nnref.activations
from derivations.activations import ENTRIES
from derivations.common import numeric

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
