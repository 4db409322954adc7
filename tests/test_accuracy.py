"""Every generated path (f, f', f'', both outputs of f_df, the vjp) against mpmath over the full
float64 range, in ULP.

The bound is 4 ULP wherever the true value is a normal float64, unless the entry records its own
measured bound with the reason next to it; and never a NaN or inf where the true value is finite.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import nnref.activations as A
from derivations.activations import ENTRIES
from derivations.common import with_params
from derivations.entry import PATHS
from derivations.reference import activation_accuracy, full_range_grid, measure, points_near_kinks, runtime_path
from derivations.symbols import z
from nnref import gradcheck


def _on_one_worker(entry, *rest):
    """A case run on the worker that measures the entry's other paths: f_df and the vjp share f's and
    f''s mpmath references (cached per process), which take seconds to compute (gelu's 1 + erf
    cancels hundreds of digits in the float32 range), so they are computed once, not once per worker."""
    return pytest.param(entry, *rest, marks=pytest.mark.xdist_group(f"accuracy-{entry.name}"))


CASES = [_on_one_worker(entry, path) for entry in ENTRIES for path in PATHS]


@pytest.mark.parametrize("entry, which", CASES, ids=[f"{e.name}-{w}" for e, w in (c.values for c in CASES)])
def test_ulp_error_within_bound(entry, which):
    row = activation_accuracy(entry, which, runtime_path(A.get(entry.name), which))
    assert row.nan_inf == 0, f"{entry.name}.{which}: {row.nan_inf} NaN/inf where the true value is finite"
    assert row.max_ulp <= row.bound, (
        f"{entry.name}.{which}: {row.max_ulp:.3g} ULP at z = {row.worst_z!r}: "
        f"computed {row.worst_value!r}, mpmath {row.worst_truth!r} (bound {row.bound:g})"
    )


KINKED = [(entry, which) for entry in ENTRIES if entry.kinks for which in ("f", "df", "d2f")]


@pytest.mark.parametrize("entry, which", KINKED, ids=[f"{e.name}-{w}" for e, w in KINKED])
def test_both_sides_of_every_kink(entry, which):
    """f, f' and f'' a few ULP to 1e-2 from each kink (the entry's ``kinks``), against mpmath: the
    full-range grid steps by 0.2, so a breakpoint moved from 3 to 3.003 would pass it unseen."""
    grid = points_near_kinks(entry)
    row = activation_accuracy(entry, which, getattr(A.get(entry.name), which), grid)
    assert row.nan_inf == 0 and row.max_ulp <= row.bound, (
        f"{entry.name}.{which}: {row.max_ulp:.3g} ULP at z = {row.worst_z!r} next to a kink: "
        f"computed {row.worst_value!r}, mpmath {row.worst_truth!r} (bound {row.bound:g})"
    )


@pytest.mark.parametrize("entry, which", CASES, ids=[f"{e.name}-{w}" for e, w in (c.values for c in CASES)])
def test_float32_stays_float32_within_4_ulp(entry, which):
    """Every path on float32 inputs over the float32 range, in float32 ULP, wherever the true value
    is a normal float32 (measure raises if a path hands back another dtype)."""
    row = activation_accuracy(entry, which, runtime_path(A.get(entry.name), which), dtype=np.float32)
    assert row.nan_inf == 0, f"{entry.name}.{which} (float32): {row.nan_inf} NaN/inf where the true value is finite"
    assert row.max_ulp <= row.bound, (
        f"{entry.name}.{which} (float32): {row.max_ulp:.3g} ULP at z = {row.worst_z!r}: "
        f"computed {row.worst_value!r}, mpmath {row.worst_truth!r} (bound {row.bound:g})"
    )


def test_the_float32_check_can_fail():
    """The generated silu evaluated in float32 itself: exp(91.17) overflows float32, so f(−91.17) is
    −0.0 where the truth is −2.31e-38, a normal float32 (1.6e7 ULP)."""
    from nnref._generated import activations as generated

    entry = next(e for e in ENTRIES if e.name == "silu")
    with np.errstate(all="ignore"):
        row = activation_accuracy(entry, "f", generated.silu_f, dtype=np.float32)
    assert not row.ok and row.max_ulp > 1e6
    assert -92 < row.worst_z < -89 and row.worst_value == 0.0


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.ulp_bounds], ids=lambda e: e.name)
def test_every_recorded_bound_has_a_reason_and_is_needed(entry):
    for which, (bound, reason) in entry.ulp_bounds.items():
        assert bound > 4 and len(reason) > 20, f"{entry.name}.{which}: a bound needs a measured figure and a reason"
        row = activation_accuracy(entry, which, getattr(A.get(entry.name), which))
        assert row.max_ulp > 4, f"{entry.name}.{which} now reaches 4 ULP ({row.max_ulp:.3g}): drop its bound"


def test_a_fused_path_that_loses_the_stable_form_fails():
    """Were common-subexpression elimination to undo softplus's stable form inside f_df (log(1 + e^z),
    inf at z = 1e3), or the vjp to ignore g, their rows would fail even though f and f' pass."""

    class Undone:
        act = A.get("softplus")
        f, df, d2f = act.f, act.df, act.d2f

        def f_df(self, zs):
            with np.errstate(over="ignore"):
                return np.log(1 + np.exp(zs)), self.act.df(zs)

        def vjp(self, zs, g):
            return self.act.df(zs)

    entry = next(e for e in ENTRIES if e.name == "softplus")
    rows = {path: activation_accuracy(entry, path, runtime_path(Undone(), path)) for path in PATHS}
    assert rows["f"].ok and rows["f_df.df"].ok
    assert rows["f_df.f"].nan_inf > 0 and not rows["f_df.f"].ok
    assert not rows["vjp"].ok


def test_the_check_can_fail():
    """The naive lambdify of SymPy's sigmoid derivative fails the same check (NaN at -800, 6.7e15 ULP)."""
    entry = next(e for e in ENTRIES if e.name == "sigmoid")
    naive = sp.lambdify(z, entry.df, modules="numpy")
    row = measure("sigmoid-naive", "df", naive, entry.df, {}, 4.0)
    assert not row.ok


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_finite_differences_and_complex_step_agree_with_df(entry):
    import nnref.activations as A

    act = A.get(entry.name)
    # Beyond |z| = 15 the Gaussian-like tails make the O(h²) truncation term dominate; accuracy there
    # is the mpmath test's job.
    zs = np.concatenate([np.linspace(-15, 15, 241), [-700.0, 700.0]])
    zs = zs[np.all(np.abs(zs[:, None] - np.asarray(entry.kinks or [np.inf])[None, :]) > 1e-3, axis=1)]
    h = gradcheck.optimal_step(np.float64, zs)
    for label, fn, deriv, rtol in (("f'", act.f, act.df, 1e-5), ("f''", act.df, act.d2f, 1e-5)):
        exact = deriv(zs)
        fd = gradcheck.elementwise_derivative(fn, zs)
        # Central differences: truncation O(h²) (inside rtol) plus round-off of about ε|f|/h.
        allowed = rtol * np.abs(exact) + 8 * np.finfo(np.float64).eps * np.abs(fn(zs)) / h + 1e-300
        worst = int(np.argmax(np.abs(fd - exact) / allowed))
        assert np.abs(fd - exact)[worst] <= allowed[worst], (
            f"{entry.name}: {label}({zs[worst]!r}) = {exact[worst]!r}, finite differences {fd[worst]!r}"
        )
    if not entry.kinks and not entry.f.has(sp.Abs, sp.Piecewise):
        textbook = sp.lambdify(z, with_params(entry.f, entry.params), modules=["numpy", "scipy"])
        # Only where the textbook form itself is stable: at z = -15, 1 + erf(z/√2) is already 0 in
        # float64 and the complex step of the textbook gelu is off by 1.4% (the stable form is not).
        moderate = np.linspace(-4, 4, 33)
        cs = gradcheck.elementwise_complex_step(textbook, moderate)
        err = np.max(np.abs(cs - act.df(moderate)) / np.maximum(np.abs(cs), 1e-300))
        # The complex step inherits the textbook formula's own rounding (mish: 2e-11 near z = -15).
        assert err < 1e-9, f"{entry.name}: complex step differs from f' by {err:.3g} (relative)"


def test_grid_covers_the_issue_points():
    grid = full_range_grid()
    for point in (0.0, 708.0, -708.0, 745.0, -745.0, 1e308, -1e308, 1e-300, -1e-300, 1e3, -1e3):
        assert np.any(grid == point), point


def test_the_normal_cdf_pieces_are_within_1_3_ulp():
    """e^(u²/2)Φ(u) from the Taylor pieces of nnref/_generated/tables.py (derivations/tables.py)
    against mpmath over [−40, 0): 1.3 ULP at worst, where SciPy's erfcx, which gelu's f, f' and f''
    used before, is off by up to 5.2 (and left gelu's f at 6 ULP)."""
    import mpmath as mp

    from derivations.tables import mills
    from nnref._primitives import _mills

    u = np.concatenate([np.linspace(-40, 0, 4001)[:-1], -np.logspace(-300, 0, 50)])
    got = _mills(u)
    with mp.workdps(40):
        errors = np.array([float(abs(mp.mpf(g) - mills(mp.mpf(x))) / np.spacing(g)) for g, x in zip(got, u)])
    assert errors.max() <= 1.3, f"{errors.max():.3g} ULP at u = {u[errors.argmax()]!r}"
