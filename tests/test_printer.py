"""Every stable node prints as the one NumPy/SciPy call that makes it stable (pinned, so a SymPy
upgrade or a stray simplify() cannot bring an overflow back), and CSE never takes a node apart."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derivations import functions as F
from derivations.codegen import function_source
from derivations.printer import numpy_code
from derivations.symbols import z
from derivations.tails import TailPatch
from derivations.taylor import TaylorPatch

#: node class -> (an instance, its printed form)
GOLDEN = {
    F.sigmoid: (F.sigmoid(z), "scipy.special.expit(z)"),
    F.dsigmoid: (F.dsigmoid(z), "scipy.special.expit(z)*scipy.special.expit(-(z))"),
    F.softplus: (F.softplus(z), "numpy.logaddexp(0, z)"),
    F.sech2: (F.sech2(z), "nnref._primitives.sech2(z)"),
    F.tanh: (F.tanh(z), "numpy.tanh(z)"),
    F.ncdf: (F.ncdf(z), "nnref._primitives.ndtr(z)"),
    F.npdf: (F.npdf(z), "nnref._primitives.npdf(z)"),
    F.xncdf: (F.xncdf(z), "nnref._primitives.x_ndtr(z)"),
    F.xnpdf: (F.xnpdf(z), "nnref._primitives.x_npdf(z)"),
    F.x2npdf: (F.x2npdf(z), "nnref._primitives.x2_npdf(z)"),
    F.sech2_softplus: (F.sech2_softplus(z), "nnref._primitives.sech2_softplus(z)"),
    F.expm1: (F.expm1(z), "numpy.expm1(z)"),
    F.log1p: (F.log1p(z), "numpy.log1p(z)"),
    F.hypot: (F.hypot(z, 1), "numpy.hypot(z, 1)"),
    F.exp_neg_square: (
        F.exp_neg_square(z, sp.Rational(1, 3)),
        "nnref._primitives.exp_neg_square(z, 0.3333333333333333, 1.850371707708594e-17)",
    ),
    F.sigmoid_scaled: (
        F.sigmoid_scaled(z, sp.Rational(1702, 1000)),
        "nnref._primitives.expit_scaled(z, 1.702, 4.263256414560601e-17)",
    ),
    F.sigmoid_cubic: (
        F.sigmoid_cubic(z, 2 * sp.sqrt(2 / sp.pi), sp.Float("0.044715"), z),
        "nnref._primitives.expit_cubic(z, 1.5957691216057308, -9.96930880911092e-17, 0.044715, z)",
    ),
    F.sigmoid_cubic_slope: (
        F.sigmoid_cubic_slope(z, 2 * sp.sqrt(2 / sp.pi), sp.Float("0.044715"), z, 1),
        "nnref._primitives.expit_cubic_slope(z, 1.5957691216057308, -9.96930880911092e-17, 0.044715, z, 1)",
    ),
    F.xlogy: (F.xlogy(z, 1 - z), "scipy.special.xlogy(z, 1 - z)"),
    F.xlog1py: (F.xlog1py(z, -z), "scipy.special.xlog1py(z, -z)"),
    F.xdivy: (F.xdivy(z, 1 + z), "nnref._primitives.xdivy(z, z + 1)"),
    F.sigmoid_minus: (F.sigmoid_minus(z, 1 - z), "nnref._primitives.expit_minus(z, 1 - z)"),
    TailPatch: (
        TailPatch(z * F.sigmoid(z), z, -1, 1, sp.Float(-700.0), sp.Tuple(0.0, 1.0)),
        "nnref._primitives.exp_tail(z*scipy.special.expit(z), z, -1, 1, -700.0, (0.0, 1.0,))",
    ),
    TaylorPatch: (
        TaylorPatch(F.sigmoid(z), z, sp.Float(0.5), sp.Float(0.0), sp.Float(0.25), sp.Tuple(1.0, 2.0)),
        # the coefficients are a named module constant (printed once by codegen, not inline)
        "nnref._primitives.taylor_patch(scipy.special.expit(z), z, 0.5, 0.0, 0.25, TAYLOR)",
    ),
}


def _nodes(cls=F.StableFunction) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub} | _nodes(sub)
    return {c for c in out if not c.__name__.startswith("_")}


def test_every_stable_node_is_pinned():
    assert _nodes() <= set(GOLDEN), f"pin the printed form of {sorted(c.__name__ for c in _nodes() - set(GOLDEN))}"


@pytest.mark.parametrize("cls", GOLDEN, ids=lambda c: c.__name__)
def test_node_prints_as_pinned(cls):
    node, printed = GOLDEN[cls]
    assert numpy_code(node) == printed


@pytest.mark.parametrize("cls", GOLDEN, ids=lambda c: c.__name__)
def test_node_rewrites_to_its_textbook_form_and_evaluates(cls):
    node, _ = GOLDEN[cls]
    textbook = F.to_textbook(node)
    assert not textbook.atoms(F.StableFunction) and not isinstance(textbook, F.StableFunction)
    if cls not in (TaylorPatch, TailPatch):  # a patch's "textbook" is the closed form beneath it
        assert float(sp.N(node.subs(z, sp.Rational(1, 3)), 30)) == pytest.approx(
            float(sp.N(textbook.subs(z, sp.Rational(1, 3)), 30)), rel=1e-15
        )


def _compile(source: str, name: str):
    import scipy.special  # noqa: F401

    import nnref._primitives  # noqa: F401

    namespace = {"numpy": np, "scipy": __import__("scipy"), "nnref": __import__("nnref")}
    exec(source, namespace)  # noqa: S102 - our printer's output
    return namespace[name]


def test_cse_cannot_rewrite_a_stable_node():
    """The bent identity (√(z² + 1) − 1)/2 + z with its hypot block: f and f' printed together share
    the node, and neither overflows where the textbook form does (f(1e200) was inf in f_df)."""
    f = (F.hypot(z, 1) - 1) / 2 + z
    df = z / (2 * F.hypot(z, 1)) + 1
    source = function_source("bent_f_df", [f, df], {}, "bent identity: f and f'.")
    assert source.count("numpy.hypot(") == 1 and "**2" not in source, source
    value, slope = _compile(source, "bent_f_df")(np.array([1e200, -1e200]))
    assert np.all(np.isfinite(value)) and value[0] == pytest.approx(1.5e200, rel=1e-15)
    assert slope == pytest.approx([1.5, 0.5], rel=1e-15)
