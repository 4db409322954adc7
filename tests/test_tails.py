"""Tail patches (derivations/tails.py): far out, f, f' and f'' are a polynomial times an exponential
that is subnormal while the product is still normal; the code computes them without the subnormal."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import scipy.special
import sympy as sp

import nnref
import nnref.activations as A
from derivations.activations import ENTRIES
from derivations.codegen import function_source
from derivations.reference import reference, ulp_errors
from derivations.symbols import z
from derivations.tails import EDGE, find_tails
from nnref import _primitives as P

TAILED = [(e, which, t) for e in ENTRIES for which in ("f", "df", "d2f") for t in e.tails(which)]


def test_silu_and_mish_have_their_tails_found():
    found = {(e.name, which, t.side) for e, which, t in TAILED}
    assert {("silu", w, -1) for w in ("f", "df", "d2f")} | {("mish", w, -1) for w in ("f", "df", "d2f")} <= found
    assert ("silu", "d2f", 1) in found and ("mish", "d2f", 1) in found
    # sigmoid is e^z itself on the left: no polynomial multiplies the subnormal, so no patch
    assert not any(name == "sigmoid" for name, _, _ in found)


@pytest.mark.parametrize(("entry", "which", "tail"), TAILED, ids=lambda v: getattr(v, "name", str(v)))
def test_the_tail_is_the_function_to_all_digits_beyond_its_edge(entry, which, tail):
    """P(z)·e^(−n|z|) against mpmath's textbook value at the edge and beyond (relative 1e-30)."""
    xs = [tail.edge, tail.edge * 1.02, tail.edge * 1.06]
    truths = reference(entry.textbook(which), xs)  # raised in precision until it settles
    poly = sp.lambdify(z, tail.poly, modules="mpmath")
    with mp.workdps(60):
        for x, truth in zip(xs, truths):
            asymptotic = poly(mp.mpf(x)) * mp.exp(-tail.order * abs(mp.mpf(x)))
            assert truth != 0 and abs(asymptotic - truth) <= abs(truth) * mp.mpf(10) ** -30


@pytest.mark.parametrize(
    ("name", "which", "at"), [("silu", "f", -711.5), ("mish", "df", -711.5), ("silu", "d2f", 712.0)]
)
def test_the_closed_form_alone_loses_the_tail_and_the_code_does_not(name, which, at):
    entry = next(e for e in ENTRIES if e.name == name)
    zs = np.array([at, at - 1.7, at + 2.3])
    truth = reference(entry.textbook(which), zs)
    scope: dict = {"numpy": np, "nnref": nnref, "scipy": scipy}  # as a generated module has them
    exec(function_source("closed", [entry.closed(which)], {}, ""), scope)  # noqa: S102 - the printer's output
    with np.errstate(all="ignore"):
        closed = scope["closed"](zs)
    ours = getattr(A.get(name), which)(zs)
    assert np.nanmax(ulp_errors(closed, truth)[0]) > 100
    assert np.nanmax(ulp_errors(ours, truth)[0]) <= 4


def test_exp_tail_leaves_everything_else_alone():
    zs = np.array([np.nan, -np.inf, np.inf, -1e308, -800.0, -699.0, 0.0, 1e308])
    closed = np.arange(zs.size, dtype=np.float64)
    with np.errstate(all="raise"):
        out = P.exp_tail(closed, zs, -1, 1, -EDGE, (0.0, 1.0))
    assert out[0] == 0 and out[1] == 1 and out[2] == 2  # NaN and ±inf: the caller's special values
    assert out[3] == 0.0 and np.signbit(out[3])  # −1e308·e^(−1e308): −0
    assert out[4] == 0.0  # −800·e^(−800) underflows: −0
    assert list(out[5:]) == [5.0, 6.0, 7.0]  # inside the edge: the closed form
    assert P.exp_tail(np.float32([1.0]), np.float32([-710.0]), -1, 1, -EDGE, (0.0, 1.0)).dtype == np.float32


def test_a_parameter_or_a_kink_means_no_tail():
    alpha = sp.Symbol("alpha", positive=True)
    assert find_tails(z * sp.exp(alpha * z)) == []
    assert find_tails(sp.Piecewise((z * sp.exp(z), z < 0), (z, True))) == []
    assert find_tails(z * sp.exp(z) / (1 + sp.exp(z)))[0].poly == z
