"""Taylor patches: accurate derivatives next to their interior zeros.

Where f' crosses zero at an interior point z0 (gelu, silu, mish, gelu_tanh), no closed form is
accurate nearby: the closed form subtracts two terms of similar size, and the relative error
grows without bound as z → z0 (silu' loses up to 26,000 ULP there). The patch evaluates instead
the Taylor polynomial of f' about z0,

    f'(z) ≈ Σ_{k=0..N} c_k d^k,   d = (z − z0_hi) − z0_lo,

with c_0 = 0 about a zero. f' is patched too about a zero of f'' (where f' is flat) if its closed
form cancels there, its terms summing to at least ``CANCELLING`` times |f'|: mish' = tanh(softplus z)
+ z sech²(softplus z) σ(z) subtracts 0.23 from 0.13 at z = −2 (8.5 ULP measured beside the zero
patch), while silu' at +2.4 adds positive terms and is left alone. Such a patch stops short of
every zero of f', whose own patch is laid over it.

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
#: f' is patched about a zero of f'' where its closed form's terms sum to this many times |f'|.
CANCELLING = 2.0


class TaylorPatch(StableFunction):
    """closed(z) outside |z − z0| < r; inside, Σ c_k d^k (k = 0 … N) with d = (z − hi) − lo.

    Printed as one call of ``nnref._primitives.taylor_patch``, which evaluates the polynomial
    (Horner) only on the elements inside the patch, so the patch costs nothing elsewhere. The
    coefficients print once, as a named module constant (``printer.constant``).
    Args: (closed, z, hi, lo, radius, Tuple(c_0, ..., c_N)).

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
            f"|z - z0| < {float(radius):g}, degree {len(coeffs) - 1})"
        )


@dataclass(frozen=True)
class Patch:
    z0: float  # the centre (a zero of f', or of f''), rounded to float64 (hi)
    z0_lo: float  # the rest of the centre
    radius: float
    degree: int
    truncation: float  # |c_{N+1}| r^{N+1}: the size of the first omitted term at the edge
    coeffs: sp.Tuple  # c_0 … c_N of the polynomial in d = (z − hi) − lo (c_0 = 0 about a zero)
    #: "zero": about a zero of the patched function; "flat": about a zero of its derivative,
    #: where its closed form cancels.
    kind: str = "zero"


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


#: Cauchy's integral formula on two circles about z0; where they disagree, mpmath's differentiation.
CAUCHY_RADII = (mp.mpf("0.5"), mp.mpf("0.25"))
CAUCHY_POINTS = 96


def taylor_coefficients(fn, root, n: int) -> list:
    """c_0 … c_n of fn's Taylor series about ``root``, at the working precision.

    By Cauchy's integral formula as a discrete Fourier sum, c_k ≈ (1/N r^k) Σ_j f(z0 + r ω^j) ω^(−jk)
    with ω = e^(2πi/N), which costs N complex evaluations of fn (mpmath.taylor's numerical
    differentiation took 2.2 s per patch, the most of a derive after SymPy's limits). The sum is
    exact up to the coefficients it aliases, c_(k+N) r^N, which are negligible only where fn is
    analytic well beyond the circle: the sums on two circles must agree to 30 digits, else (a
    singularity within 0.5 of z0) mpmath's differentiation is used as before."""
    sums = []
    for r in CAUCHY_RADII:
        try:
            values = [fn(root + r * mp.expjpi(mp.mpf(2 * j) / CAUCHY_POINTS)) for j in range(CAUCHY_POINTS)]
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            return mp.taylor(fn, root, n)
        sums.append(
            [
                mp.re(mp.fsum(v * mp.expjpi(mp.mpf(-2 * j * k) / CAUCHY_POINTS) for j, v in enumerate(values)))
                / (CAUCHY_POINTS * r**k)
                for k in range(n + 1)
            ]
        )
    a, b = sums
    scale = max(abs(c) for c in b)
    if all(abs(x - y) <= mp.mpf(10) ** -30 * max(abs(y), scale * mp.mpf(10) ** -12) for x, y in zip(a, b)):
        return b
    return mp.taylor(fn, root, n)


def patch_at(
    expr: sp.Expr, params: dict[str, float], root, degree: int = DEGREE, kind: str = "zero", widest: float = RADIUS
) -> Patch:
    fn = _mp_function(expr, params)
    with mp.workdps(80):
        coeffs = taylor_coefficients(fn, root, degree + 1)
        if kind == "zero":
            coeffs[0] = mp.mpf(0)
        hi = float(root)
        lo = float(root - mp.mpf(hi))
        # The widest radius (≤ widest) whose first omitted term stays below 2 ULP of f' at the edges.
        radius = mp.mpf(min(RADIUS, widest))
        while True:
            truncation = abs(coeffs[degree + 1]) * radius ** (degree + 1)
            edge = min(abs(fn(root - radius)), abs(fn(root + radius)))
            if truncation <= 2 * mp.mpf(2) ** -52 * edge:
                break
            if radius <= mp.mpf("0.1"):
                # The series converges too slowly (a nearby singularity): no patch rather than a bad one.
                raise ValueError(f"no Taylor patch about z0 = {float(root):.6g}: the series converges too slowly")
            radius -= mp.mpf("0.05")
        coefficients = sp.Tuple(*[sp.Float(float(coeffs[k])) for k in range(0, degree + 1)])
    return Patch(hi, lo, float(mp.nstr(radius, 3)), degree, float(truncation), coefficients, kind)


def cancellation(expr: sp.Expr, params: dict[str, float], at) -> float:
    """The largest Σ|terms| / |Σ terms| over the sums in ``expr`` at ``at``: how many times the
    rounding of its terms is magnified in the closed form (1: no cancellation)."""
    worst = 1.0
    with mp.workdps(60):
        for node in sp.preorder_traversal(expr):
            if not isinstance(node, sp.Add) or not node.has(z):
                continue
            values = [
                _real_or_none(_mp_function(term, params), at) if term.has(z) else mp.mpf(sp.N(term, 30))
                for term in node.args
            ]
            total = _real_or_none(_mp_function(node, params), at)
            if total and all(v is not None for v in values):
                worst = max(worst, float(sum(abs(v) for v in values) / abs(total)))
    return worst


def patched(
    closed_form: sp.Expr, textbook: sp.Expr, params: dict[str, float], max_degree: int = DEGREE, flat=None
) -> tuple[sp.Expr, list[Patch]]:
    """closed_form with a Taylor patch about every interior zero of textbook (nearest first) and,
    given ``flat`` (the textbook derivative of textbook), about every zero of ``flat`` where
    closed_form cancels (``CANCELLING``). The patches about zeros are laid last, over the others.

    With ``max_degree`` above DEGREE, the degree grows by 10 while the radius stays below RADIUS
    (a singularity near the zero slows the series: σ(1.702 z) has poles at ±1.85i).
    """
    zeros = interior_zeros(textbook, params)
    centres = []
    if flat is not None:
        for root in interior_zeros(flat, params):
            if cancellation(closed_form, params, root) >= CANCELLING:
                clear = min((float(abs(root - r)) for r in zeros), default=RADIUS)
                centres.append((root, "flat", clear))
    centres += [(root, "zero", RADIUS) for root in zeros]
    patches = []
    for root, kind, widest in centres:
        best = None
        for degree in range(DEGREE, max_degree + 1, 10):
            try:
                patch = patch_at(textbook, params, root, degree, kind, widest)
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
