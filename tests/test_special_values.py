"""The IEEE special-values contract (docs/special-values.md), for every elementwise activation and
each of f, f', f'', f_df and vjp: NaN in gives NaN out, ±inf gives the limit SymPy computes
(derivations/special.py), and neither raises a floating-point warning. float32 stays float32.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp

import nnref.activations as A
from derivations.activations import ENTRIES
from derivations.common import with_params
from derivations.special import limits

WHICH = ("f", "df", "d2f")
#: Finite neighbours around the special values: their results must be what they are alone.
FINITE = np.array([-3.0, -0.5, 0.0, 1.25, 40.0])
SPECIAL = np.array([np.nan, -np.inf, np.inf])


def _expected(entry, which: str) -> tuple[float, float]:
    """(f at −inf, f at +inf) from SymPy's limits, with the entry's parameters."""
    pair = limits(entry, which)
    assert None not in pair, f"{entry.name}.{which}: SymPy gave no limit at ±inf: {pair}"
    return tuple(float(with_params(sp.sympify(v), entry.params)) for v in pair)


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning fails the test
        return fn(*args)


def _check(label: str, got: np.ndarray, alone: np.ndarray, at: tuple[float, float], dtype) -> None:
    assert got.dtype == dtype, f"{label}: dtype {got.dtype}, expected {dtype}"
    assert np.isnan(got[0]), f"{label}(NaN) = {got[0]!r}, expected NaN"
    np.testing.assert_array_equal(got[1:3], np.asarray(at, dtype=dtype), err_msg=f"{label}(−inf, +inf)")
    np.testing.assert_array_equal(got[3:], alone, err_msg=f"{label}: finite inputs next to special ones changed")


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_nan_in_nan_out_and_limits_at_infinity(entry, dtype):
    act = A.get(entry.name)
    z = np.concatenate([SPECIAL, FINITE]).astype(dtype)
    finite = FINITE.astype(dtype)
    for which in WHICH:
        fn = getattr(act, which)
        _check(f"{entry.name}.{which}", _quiet(fn, z), fn(finite), _expected(entry, which), dtype)
    f, df = _quiet(act.f_df, z)
    # f_df shares work between its outputs (z·σ(z) in silu's f and f'), so its bits are its own.
    alone = act.f_df(finite)
    _check(f"{entry.name}.f_df[0]", f, alone[0], _expected(entry, "f"), dtype)
    _check(f"{entry.name}.f_df[1]", df, alone[1], _expected(entry, "df"), dtype)
    g = np.full(z.shape, 2.0, dtype=dtype)
    at = tuple(2.0 * v for v in _expected(entry, "df"))
    _check(f"{entry.name}.vjp", _quiet(act.vjp, z, g), act.vjp(finite, g[: finite.size]), at, dtype)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_a_nan_upstream_gradient_stays_nan(entry):
    act = A.get(entry.name)
    g = np.array([np.nan, 1.0])
    assert np.isnan(_quiet(act.vjp, np.array([0.5, 0.5]), g)[0])


def test_blockwise_evaluation_keeps_the_contract():
    """An array large enough to be evaluated in blocks on threads: each block applies the contract."""
    z = np.linspace(-50, 50, 300_001)
    z[[7, 150_000, 299_999]] = [np.nan, -np.inf, np.inf]
    for entry in ENTRIES:
        act = A.get(entry.name)
        lo, hi = _expected(entry, "df")
        out = _quiet(act.df, z)
        assert np.isnan(out[7]) and out[150_000] == lo and out[299_999] == hi, entry.name


def test_the_issues_cases():
    """The cases the issue measured: NaN became a finite number, and ±inf became NaN."""
    nan, inf = np.array(np.nan), np.array([-np.inf, np.inf])
    for name, which in [
        ("relu", "df"),
        ("leaky_relu", "df"),
        ("identity", "df"),
        ("hard_tanh", "df"),
        ("hard_sigmoid", "df"),
        ("hard_swish", "d2f"),
        ("step", "f"),
    ]:
        assert np.isnan(_quiet(getattr(A.get(name), which), nan)), (name, which)
    for name in ("softplus", "log_sigmoid", "mish", "silu"):
        for which in WHICH:
            assert np.isnan(_quiet(getattr(A.get(name), which), nan)), (name, which)
    for name, which in [
        ("softsign", "f"),
        ("silu", "f"),
        ("mish", "f"),
        ("gelu_tanh", "f"),
        ("silu", "df"),
        ("mish", "df"),
    ]:
        entry = next(e for e in ENTRIES if e.name == name)
        np.testing.assert_array_equal(_quiet(getattr(A.get(name), which), inf), _expected(entry, which))


def test_a_custom_activation_keeps_the_contract():
    """The guard is printed by the generator, so a user's formula gets it too: z·σ(z) at −inf is
    inf·0 in floating point and 0 in the limit."""
    from nnref.custom import activation

    act = activation("z*sigmoid(z) + 1/(1 + abs(z))", name="swishy", verify=False)
    z = np.array([np.nan, -np.inf, np.inf])
    assert "special_values" in act.source
    f = _quiet(act.f, z)
    assert np.isnan(f[0]) and f[1] == 0.0 and f[2] == np.inf
    df = _quiet(act.df, z)
    assert np.isnan(df[0]) and df[1] == 0.0 and df[2] == 1.0
