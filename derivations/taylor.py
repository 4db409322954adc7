"""Taylor patches: accurate derivatives next to their interior zeros.

Where f' crosses zero at an interior point z0 (gelu, silu, mish, gelu_tanh), no closed form is
accurate nearby: the closed form subtracts two terms of similar size, and the relative error
grows without bound as z → z0 (silu' loses up to 26,000 ULP there). The patch evaluates instead
the Taylor polynomial of f' about z0,

    f'(z) ≈ Σ_{k=1..N} c_k d^k,   d = (z − z0_hi) − z0_lo,

with z0 split into two float64s so that d is exact up to one rounding (z − z0_hi is exact by
Sterbenz's lemma for z within a factor of 2 of z0). The coefficients come from mpmath at high
precision, the zero from mpmath's findroot on the textbook derivative. The patch is an
approximation, not an identity: its truncation bound (the first omitted term at the patch edge)
is stated with it, and the accuracy tests measure it.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath as mp
import sympy as sp

from derivations.common import with_params
from derivations.functions import StableFunction, to_textbook
from derivations.symbols import z

DEGREE = 30
RADIUS = 0.8


class TaylorPatch(StableFunction):
    """closed(z) outside |z − z0| < r; inside, Σ c_k d^k with d = (z − hi) − lo.

    Printed as one call of ``nnref._primitives.taylor_patch``, which evaluates the polynomial
    (Horner) only on the elements inside the patch, so the patch costs nothing elsewhere. The
    coefficients print once, as a named module constant (``printer.constant``).
    Args: (closed, z, hi, lo, radius, Tuple(c_1, ..., c_N)).

    Its "textbook" form is the closed form beneath it: a patch is an approximation with a stated
    truncation bound, not an identity, so proofs are about the closed form.
    """

    nargs = 6

    @classmethod
    def textbook_of(cls, closed, u, hi, lo, radius, coeffs):
        return closed

    def numpy_code(self, printer) -> str:
        closed, u, hi, lo, radius, coeffs = self.args
        table = printer.constant("TAYLOR", tuple(float(c) for c in coeffs), about=float(hi))
        return (
            f"nnref._primitives.taylor_patch({printer._print(closed)}, {printer._print(u)}, "
            f"{float(hi)!r}, {float(lo)!r}, {float(radius)!r}, {table})"
        )

    def _latex(self, printer, exp=None):
        closed, u, hi, lo, radius, coeffs = self.args
        return rf"\operatorname{{taylor}}_{{z_0 = {float(hi):.6g}}}\left[{printer._print(closed)}\right]"

    def _sympystr(self, printer):
        closed, u, hi, lo, radius, coeffs = self.args
        return (
            f"TaylorPatch({printer._print(closed)}, about z0 = {float(hi):.10g}, "
            f"|z - z0| < {float(radius):g}, degree {len(coeffs)})"
        )


@dataclass(frozen=True)
class Patch:
    z0: float  # the zero, rounded to float64 (hi)
    z0_lo: float  # the rest of the zero
    radius: float
    degree: int
    truncation: float  # |c_{N+1}| r^{N+1}: the size of the first omitted term at the edge
    coeffs: sp.Tuple  # c_1 … c_N of the polynomial in d = (z − hi) − lo


def _mp_function(expr: sp.Expr, params: dict[str, float]):
    expr = with_params(to_textbook(expr), params)
    return sp.lambdify(z, expr, modules="mpmath")


def _real_or_none(fn, x):
    try:
        value = fn(x)
    except (ZeroDivisionError, ValueError, OverflowError, TypeError):
        return None
    return value if isinstance(value, mp.mpf) and mp.isfinite(value) else None


def interior_zeros(expr: sp.Expr, params: dict[str, float], lo: float = -8.0, hi: float = 8.0) -> list:
    """Zeros of a smooth expression on [lo, hi], located by sign changes and refined by findroot."""
    fn = _mp_function(expr, params)
    zeros = []
    with mp.workdps(60):
        steps = 1601
        xs = [mp.mpf(lo) + (mp.mpf(hi) - mp.mpf(lo)) * i / (steps - 1) for i in range(steps)]
        values = [_real_or_none(fn, x) for x in xs]
        for a, b, fa, fb in zip(xs, xs[1:], values, values[1:]):
            if fa is None or fb is None:  # a pole or a point outside the real domain: no patch across it
                continue
            if fa == 0 or fa * fb < 0:
                root = mp.findroot(fn, (a, b), solver="anderson")
                if a <= root <= b and abs(root) > mp.mpf("1e-30"):
                    zeros.append(root)
    return zeros


def patch_at(expr: sp.Expr, params: dict[str, float], root, degree: int = DEGREE) -> Patch:
    fn = _mp_function(expr, params)
    with mp.workdps(80):
        coeffs = mp.taylor(fn, root, degree + 1)
        hi = float(root)
        lo = float(root - mp.mpf(hi))
        # The widest radius (≤ RADIUS) whose first omitted term stays below 2 ULP of f' at the edges.
        radius = mp.mpf(RADIUS)
        while True:
            truncation = abs(coeffs[degree + 1]) * radius ** (degree + 1)
            edge = min(abs(fn(root - radius)), abs(fn(root + radius)))
            if truncation <= 2 * mp.mpf(2) ** -52 * edge:
                break
            if radius <= mp.mpf("0.1"):
                # The series converges too slowly (a nearby singularity): no patch rather than a bad one.
                raise ValueError(f"no Taylor patch about z0 = {float(root):.6g}: the series converges too slowly")
            radius -= mp.mpf("0.05")
        coefficients = sp.Tuple(*[sp.Float(float(coeffs[k])) for k in range(1, degree + 1)])
    return Patch(hi, lo, float(mp.nstr(radius, 3)), degree, float(truncation), coefficients)


def patched(
    closed_form: sp.Expr, textbook: sp.Expr, params: dict[str, float], max_degree: int = DEGREE
) -> tuple[sp.Expr, list[Patch]]:
    """closed_form with a Taylor patch about every interior zero of textbook (nearest first).

    With ``max_degree`` above DEGREE, the degree grows by 10 while the radius stays below RADIUS
    (a singularity near the zero slows the series: σ(1.702 z) has poles at ±1.85i).
    """
    patches = []
    for root in interior_zeros(textbook, params):
        best = None
        for degree in range(DEGREE, max_degree + 1, 10):
            try:
                patch = patch_at(textbook, params, root, degree)
            except ValueError:  # the accuracy measurement shows the unpatched neighbourhood instead
                continue
            if best is None or patch.radius > best.radius:
                best = patch
            if patch.radius >= RADIUS:
                break
        if best is not None:
            patches.append(best)
    expr = closed_form
    for p in patches:
        expr = TaylorPatch(expr, z, sp.Float(p.z0), sp.Float(p.z0_lo), sp.Float(p.radius), p.coeffs)
    return expr, patches


def strip_patches(expr: sp.Expr) -> sp.Expr:
    """The closed form under the patches: what proofs compare with the textbook form."""
    return expr.replace(TaylorPatch, lambda closed, *rest: closed)
