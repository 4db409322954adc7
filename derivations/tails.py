"""Tail patches: f, f' and f'' where a polynomial times an underflowing exponential is still normal.

Far out on either side, many activations are a polynomial times an exponential: silu is z·σ(z),
which is z·e^z to all digits below z = −40, mish' is (1 + z)e^z there, silu'' is (2 − z)e^(−z) on
the right. Any closed form computes e^z (or σ(z)) first and multiplies by the polynomial after.
Between z ≈ −745 and −708 e^z is subnormal, with fewer than 53 significant bits, while P(z)·e^z is
still normal: silu(−711.5) = −1.8e-306 came out as −0.0 (8.8e15 ULP) and mish(−714.75) 247 ULP off.

SymPy finds the tail of each textbook expression: with t = e^z on the left (e^(−z) on the right)
every exponential e^(az), a rational, is t^(±a), and the series in t about 0 is
0 + P(z)·t^n + O(t^(n+1)). Where its first term vanishes and P is a polynomial of degree one or
more, the generated code computes P(z)·e^(nz) beyond ``EDGE``/n, as (P(z)·e^(nz + 64))·e^(−64):
no subnormal before the last rounding. The omitted terms are e^(−700) of the result there. Where P
is a constant (sigmoid's e^z), the closed form's subnormal is the function's own value and no
patch is laid.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derivations.common import without_dirac
from derivations.functions import StableFunction, to_textbook
from derivations.symbols import z

#: The patch covers n·|z| ≥ EDGE: e^(−700) is 1e-304, normal, so the closed form is still right at
#: the edge, and the omitted O(t) terms are 1e-304 of the result.
EDGE = 700.0
#: Orders of decay looked for: e^(±z) and e^(±2z) (n·z + 64 is then exact in float64).
ORDERS = (1, 2)

_t = sp.Symbol("t", positive=True)


@dataclass(frozen=True)
class Tail:
    side: int  # −1: z → −∞ (t = e^z); +1: z → +∞ (t = e^(−z))
    order: int  # n in P(z)·e^(−n|z|)
    poly: sp.Expr  # P(z)

    @property
    def edge(self) -> float:
        return self.side * EDGE / self.order

    @property
    def coeffs(self) -> tuple[float, ...]:
        """P's coefficients, constant term first."""
        return tuple(float(c) for c in reversed(sp.Poly(self.poly, z).all_coeffs()))


def _in_t(expr: sp.Expr, side: int) -> sp.Expr | None:
    """``expr`` with each e^(az), a rational, written as a power of t; None if anything else of z
    is left that is not a polynomial (erf(z), |z|, e^(z²), a Piecewise)."""
    unknown = []

    def power(arg):
        ratio = sp.cancel(arg / z)
        if ratio.is_Rational:
            return _t ** (ratio if side < 0 else -ratio)
        unknown.append(arg)
        return sp.exp(arg)

    e = without_dirac(to_textbook(expr)).rewrite(sp.exp)
    e = e.replace(lambda x: isinstance(x, sp.exp), lambda x: power(x.args[0]))
    if unknown or e.has(sp.Piecewise, sp.Heaviside, sp.Abs, sp.sign, sp.Max, sp.Min):
        return None
    if any(z in f.free_symbols for f in e.atoms(sp.Function)):
        return None
    return e


def find_tails(textbook: sp.Expr) -> list[Tail]:
    """The tails of ``textbook`` (both sides) that need a patch: P(z)·e^(−n|z|) with P of degree ≥ 1."""
    out = []
    expr = textbook
    if expr.free_symbols - {z}:  # a parameter (the code takes it as an argument): no fixed P
        return out
    for side in (-1, 1):
        e = _in_t(expr, side)
        if e is None:
            continue
        try:
            series = sp.series(e, _t, 0, max(ORDERS) + 1).removeO()
        except (ValueError, NotImplementedError, TypeError, sp.PoleError):
            continue
        if sp.simplify(series.coeff(_t, 0)) != 0 or series.has(sp.log(_t)):
            continue
        for n in ORDERS:
            poly = sp.expand(sp.simplify(series.coeff(_t, n)))
            if poly == 0:
                continue
            if poly.is_polynomial(z) and sp.degree(poly, z) >= 1 and not poly.free_symbols - {z}:
                out.append(Tail(side, n, poly))
            break
    return out


class TailPatch(StableFunction):
    """closed(z), except beyond the tail's edge: there P(z)·e^(−n|z|), computed without a subnormal.

    Printed as one call of ``nnref._primitives.exp_tail``, which evaluates the tail only on the
    elements beyond the edge. Args: (closed, z, side, n, edge, Tuple(p_0, ..., p_d)). Its "textbook"
    form is the closed form beneath it, as a Taylor patch's is."""

    nargs = 6

    @classmethod
    def textbook_of(cls, closed, u, side, n, edge, coeffs):
        return closed

    def numpy_code(self, printer) -> str:
        closed, u, side, n, edge, coeffs = self.args
        poly = "(" + ", ".join(repr(float(c)) for c in coeffs) + ",)"
        return (
            f"nnref._primitives.exp_tail({printer._print(closed)}, {printer._print(u)}, "
            f"{int(side)}, {int(n)}, {float(edge)!r}, {poly})"
        )

    def _latex(self, printer, exp=None):
        closed, u, side, n, edge, coeffs = self.args
        where = "z < " if side < 0 else "z > "
        return rf"\operatorname{{tail}}_{{{where}{float(edge):g}}}\left[{printer._print(closed)}\right]"

    def _sympystr(self, printer):
        closed, u, side, n, edge, coeffs = self.args
        poly = sp.Add(*[sp.Float(c) * z**k for k, c in enumerate(coeffs)])
        return f"TailPatch({printer._print(closed)}, {poly}*exp({-int(side) * int(n)}*z) beyond z = {float(edge):g})"

    def _eval_is_real(self):
        return self.args[0].is_extended_real


def with_tails(expr: sp.Expr, tails: list[Tail]) -> sp.Expr:
    for tail in tails:
        expr = TailPatch(expr, z, tail.side, tail.order, sp.Float(tail.edge), sp.Tuple(*tail.coeffs))
    return expr
