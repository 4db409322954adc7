"""Helpers every derivation module shares: one copy each.

* ``piecewise``: a derivative with Heaviside, Max, Min, Abs or sign as one Piecewise (DiracDelta
  taken as 0: a derivative's value at an isolated kink is a stated convention);
* ``with_params``: an entry's parameter symbols replaced by values;
* ``numeric``: a textbook expression as a NumPy function (plots, the naive lambdify);
* ``pyplot`` and ``svg_text``: matplotlib set up for deterministic SVG, and the SVG of a figure
  with a header naming the command that regenerates it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping

import numpy as np
import sympy as sp

from derivations.functions import to_textbook
from derivations.symbols import z


def without_dirac(expr: sp.Expr) -> sp.Expr:
    """DiracDelta(...) as 0: zero except at isolated points, where the value is a convention."""
    return expr.replace(sp.DiracDelta, lambda *a: sp.Integer(0))


def piecewise(expr: sp.Expr) -> sp.Expr:
    """One Piecewise for an expression with Heaviside, Max, Min, Abs or sign (DiracDelta as 0)."""
    expr = without_dirac(expr)
    if expr.has(sp.Heaviside, sp.Max, sp.Min, sp.Abs, sp.sign):
        expr = expr.rewrite(sp.Piecewise)
    return sp.piecewise_fold(expr)


def with_params(expr: sp.Expr, params: Mapping[str, float], exact: bool = False) -> sp.Expr:
    """Substitute an entry's parameters (positive symbols) by their values: floats, or with
    ``exact`` the rationals they are (for SymPy's decisions, which need exact numbers)."""
    if not params:
        return expr
    value = sp.nsimplify if exact else (lambda v: v)
    return expr.subs({sp.Symbol(k, positive=True): value(v) for k, v in params.items()})


def numeric(expr: sp.Expr, params: Mapping[str, float] | None = None, var: sp.Symbol = z) -> Callable:
    """The textbook form of ``expr`` as a NumPy/SciPy function of one array, quiet, shaped like its input."""
    expr = without_dirac(with_params(to_textbook(expr), params or {}))
    fn = sp.lambdify(var, expr, modules=["numpy", "scipy"])

    def call(x):
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(fn(x), dtype=float), np.shape(x))

    return call


def pyplot():
    """matplotlib's pyplot on the Agg backend, set up so that SVG output is byte-for-byte repeatable."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams.update(
        {
            "svg.hashsalt": "nnref",
            "svg.fonttype": "path",
            "font.size": 10,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "figure.figsize": (6.4, 3.6),
            "path.simplify": False,
        }
    )
    return plt


def svg_text(fig, header: str, dpi: float | None = None) -> str:
    """Deterministic SVG text of a figure (fixed hash salt, no date) with ``header``, a comment that
    names the command regenerating it, right after the XML declaration."""
    if "--" in header.strip()[4:-3]:
        raise ValueError(f"an XML comment cannot hold '--' (the SVG would not display): {header!r}")
    plt = pyplot()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight", dpi=dpi)
    plt.close(fig)
    first, rest = buf.getvalue().split("\n", 1)
    return first + "\n" + header + rest
