r"""Properties of an activation, decided by SymPy, each with its reason or counterexample.

Definitions (the docs show them):

* **non-linear**: f' is not constant. Counterexample to linearity: two points where f' differs.
* **monotonic**: f' ≥ 0 everywhere (or ≤ 0), and no downward jump. Proven from the sign of f'
  region by region (SymPy's assumptions on the stable blocks: σ, sech², ... are positive);
  refuted by exact evaluation of f' at a rational point where its sign is opposite, with the
  critical point located by mpmath.
* **C¹** (continuously differentiable): f and f' continuous on ℝ. At each breakpoint of a
  piecewise form the one-sided limits of f and f' are compared; a smooth form is checked with
  ``continuous_domain``.
* **range / bounded**: limits at ±∞ and the values at critical points; bounded iff both ends
  are finite.
* **zero-centred**: f(0) = 0 and f takes both signs (inf f < 0 < sup f).
* **saturating**: f' → 0 as z → −∞ or as z → +∞ (which side is said).

Where SymPy cannot decide, the verdict is ``None`` ("undecided") with the reason, never a guess.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import mpmath as mp
import sympy as sp

from derivations.common import piecewise as _pw
from derivations.common import with_params
from derivations.functions import to_textbook
from derivations.symbols import z

PROBES = (-5, -3, -2, -1, sp.Rational(-1, 2), sp.Rational(1, 2), 1, 2, 3, 5)


@dataclass(frozen=True)
class Verdict:
    value: bool | None
    reason: str
    evidence: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Range:
    lower: object
    upper: object
    lower_closed: bool
    upper_closed: bool
    text: str
    reason: str


@dataclass(frozen=True)
class Properties:
    nonlinear: Verdict
    monotonic: Verdict
    c1: Verdict
    bounded: Verdict
    zero_centred: Verdict
    saturating: Verdict
    range: Range
    critical_points: tuple = ()


def _fmt(value) -> str:
    if value in (sp.oo, -sp.oo):
        return "∞" if value == sp.oo else "−∞"
    if value.is_Rational or value.is_Integer:
        return str(value)
    return f"≈ {float(value):.6g}".replace("-", "−")


def _branch_near(expr: sp.Expr, point, side: str) -> sp.Expr:
    """The piece of a piecewise expression taken just left ("-") or right ("+") of point (±oo allowed)."""
    if not isinstance(expr, sp.Piecewise):
        return expr
    if point == sp.oo:
        probe = sp.Interval.open(sp.Integer(10) ** 9, sp.oo)
        inside = (sp.Integer(10) ** 9 + 1, sp.Integer(10) ** 300)
    elif point == -sp.oo:
        probe = sp.Interval.open(-sp.oo, -(sp.Integer(10) ** 9))
        inside = (-(sp.Integer(10) ** 9) - 1, -(sp.Integer(10) ** 300))
    else:
        eps = sp.Rational(1, 10**9)
        probe = sp.Interval.open(point, point + eps) if side == "+" else sp.Interval.open(point - eps, point)
        inside = (probe.left + eps / 1000, probe.right - eps / 1000)
    # Fast: the first condition true at points inside the probe, each condition decided by
    # substitution (an as_set per condition solved inequalities for seconds per call).
    decided = [[cond if cond is sp.true else cond.subs(z, x) for x in inside] for _, cond in expr.args]
    if all(v in (sp.true, sp.false) for values in decided for v in values):
        for (value, _), values in zip(expr.args, decided):
            if all(v is sp.true for v in values):
                return value
    taken = sp.S.EmptySet
    for value, cond in expr.args:
        region = (sp.S.Reals if cond is sp.true else cond.as_set()) - taken
        taken = sp.Union(taken, region)
        if sp.Intersection(region, probe) == probe:
            return value
    raise ValueError(f"no branch of {expr} covers {probe}")


@functools.lru_cache(maxsize=1024)
def _limit(expr: sp.Expr, point, side: str = "+") -> sp.Expr:
    """SymPy's limit, once per process for each (expression, point, side): the properties and the
    special values (derivations/special.py) ask for f and f' at ±oo alike, at a second each."""
    piece = _branch_near(_pw(expr), point, side)
    if piece.has(sp.Piecewise):
        return sp.limit(piece, z, point, side)
    if piece.has(sp.tanh, sp.sinh, sp.cosh):  # the same function in exp: Gruntz takes half the time
        piece = piece.rewrite(sp.exp)
    return sp.limit(piece, z, point, side if point not in (sp.oo, -sp.oo) else "+")


def _continuous_on_reals(expr: sp.Expr) -> bool | None:
    """A sound sufficient test: built from functions continuous on ℝ, with every division by and
    every log of a positive expression. None when this test cannot tell."""
    smooth = (sp.exp, sp.erf, sp.erfc, sp.tanh, sp.sinh, sp.cosh, sp.sin, sp.cos, sp.Abs, sp.atan)
    for fn in expr.atoms(sp.Function):
        if isinstance(fn, sp.log):
            if fn.args[0].is_positive is not True:
                return None
        elif not isinstance(fn, smooth):
            return None
    for power in expr.atoms(sp.Pow):
        base, exponent = power.args
        if exponent.is_negative or not exponent.is_integer:
            if base.is_positive is not True:
                return None
    return True


def _equal(a: sp.Expr, b: sp.Expr) -> bool:
    """a == b for two real constants, decided by simplify; a difference that evaluates to more than
    1e-20 at 30 digits says "no" first, cheaply (SELU's closed-form constants take seconds to simplify)."""
    difference = sp.N(a - b, 30)
    if difference.is_Float and abs(difference) > sp.Float("1e-20"):
        return False
    return sp.simplify(a - b) == 0


def _value(expr: sp.Expr, point) -> sp.Expr:
    """The exact value at a point: simplified only if substitution leaves something unevaluated
    (simplifying mish'(-5) as a number takes a second and decides nothing more)."""
    value = _pw(expr).subs(z, point)
    return value if value.is_number and not value.has(sp.Piecewise) else sp.simplify(value)


def breakpoints(expr: sp.Expr) -> list:
    pts = set()
    for pw in _pw(expr).atoms(sp.Piecewise):
        for _, cond in pw.args:
            for rel in cond.atoms(sp.Rel) if cond not in (sp.true, sp.false) else ():
                sol = sp.solve(sp.Eq(rel.lhs, rel.rhs), z)
                pts.update(s for s in sol if s.is_real)
    return sorted(pts, key=float)


def _sign_at(expr: sp.Expr, point) -> int | None:
    value = sp.N(_pw(expr).subs(z, point), 50)
    if value.is_zero:
        return 0
    if value.is_positive:
        return 1
    if value.is_negative:
        return -1
    return None


def _regions(expr: sp.Expr) -> list[tuple[sp.Expr, sp.Set]]:
    """(piece, the set of z where it is the piece taken), for a piecewise or a plain expression."""
    pw = _pw(expr)
    if not isinstance(pw, sp.Piecewise):
        return [(pw, sp.S.Reals)]
    taken, out = sp.S.EmptySet, []
    for value, cond in pw.args:
        region = (sp.S.Reals if cond is sp.true else cond.as_set()) - taken
        taken = sp.Union(taken, region)
        if region is not sp.S.EmptySet:
            out.append((value, region))
    return out


def _on_region(value: sp.Expr, region: sp.Set) -> list[sp.Expr]:
    """value with z replaced so that SymPy's assumptions know the region (z = a + p, p > 0, ...)."""
    p = sp.Symbol("p", positive=True)
    out = []
    for interval in region.args if isinstance(region, sp.Union) else (region,):
        if isinstance(interval, sp.FiniteSet):
            out += [value.subs(z, pt) for pt in interval]
        elif interval == sp.S.Reals:
            out.append(value)
        elif isinstance(interval, sp.Interval) and interval.left.is_finite:
            out.append(value.subs(z, interval.left + p))
        elif isinstance(interval, sp.Interval) and interval.right.is_finite:
            out.append(value.subs(z, interval.right - p))
        else:
            out.append(value)
    return out


def _branch_sign(expr: sp.Expr) -> bool | None:
    """True if expr ≥ 0 everywhere is shown by SymPy's assumptions, region by region."""
    for value, region in _regions(expr):
        for candidate in _on_region(value, region):
            verdict = candidate.is_nonnegative
            if verdict is None:
                verdict = sp.simplify(candidate.rewrite(sp.exp)).is_nonnegative
            if verdict is not True:
                return verdict
    return True


def _critical_points(df_textbook: sp.Expr, params_fn) -> list:
    """Zeros of f' on [−8, 8] where its sign changes, by mpmath (smooth f' only)."""
    smooth = _pw(df_textbook)
    if z not in smooth.free_symbols:
        return []
    if smooth.has(sp.Piecewise):
        # Piecewise (polynomial pieces): solve each piece on its own region, exactly.
        roots = []
        for value, region in _regions(smooth):
            if value.free_symbols:
                roots += [r for r in sp.solve(value, z) if r.is_real and region.contains(r) is sp.true]
        return [mp.mpf(sp.N(r, 40)) for r in roots]
    fn = sp.lambdify(z, to_textbook(smooth), modules="mpmath")
    roots = []
    with mp.workdps(40):
        xs = [mp.mpf(-8) + mp.mpf(16) * i / 800 for i in range(801)]
        vals = [fn(x) for x in xs]
        for a, b, fa, fb in zip(xs, xs[1:], vals, vals[1:]):
            if fa * fb < 0:
                roots.append(mp.findroot(fn, (a, b), solver="anderson"))
    return roots


def decide_properties(f: sp.Expr, df: sp.Expr | None = None, stable_df: sp.Expr | None = None) -> Properties:
    """Decide every property of f(z) (parameters already substituted)."""
    f = to_textbook(f)
    df = sp.diff(f, z) if df is None else to_textbook(df)
    df_pw = _pw(df)
    breaks = breakpoints(f) + [b for b in breakpoints(df) if b not in breakpoints(f)]
    probes = [pt for pt in PROBES if all(pt != b for b in breaks)]

    # non-linear
    jumps = [b for b in breakpoints(f) if sp.simplify(_limit(f, b, "-") - _limit(f, b, "+")) != 0]
    values = {pt: _value(df, pt) for pt in probes}
    lo = min(probes, key=lambda pt: float(values[pt]))
    hi = max(probes, key=lambda pt: float(values[pt]))
    if jumps:
        nonlinear = Verdict(True, f"f jumps at z = {jumps[0]}: no affine function does")
    elif not _equal(values[lo], values[hi]):
        nonlinear = Verdict(True, f"f'({lo}) = {_fmt(values[lo])} ≠ f'({hi}) = {_fmt(values[hi])}")
    elif sp.simplify(df_pw - values[lo]) == 0:
        nonlinear = Verdict(False, f"f' = {values[lo]} everywhere: f is linear")
    else:
        nonlinear = Verdict(None, "f' took one value at every probe, and SymPy could not show it constant")

    # critical points (for monotonicity and the range)
    crit = _critical_points(df, None)
    crit_text = ", ".join(f"z ≈ {float(r):.6g}" for r in crit).replace("-", "−")

    # monotonic
    jumps_down = []
    for b in breakpoints(f):
        left, right = _limit(f, b, "-"), _limit(f, b, "+")
        if (right - left).is_negative:
            jumps_down.append(b)
    sign_neg = [pt for pt in probes if _sign_at(df, pt) == -1]
    sign_pos = [pt for pt in probes if _sign_at(df, pt) == 1]
    if sign_neg and sign_pos:
        where = f"; f' changes sign at {crit_text}" if crit else ""
        monotonic = Verdict(False, f"f'({sign_neg[0]}) < 0 < f'({sign_pos[-1]}){where}", {"critical_points": crit})
    elif jumps_down:
        monotonic = Verdict(False, f"f jumps down at {jumps_down}")
    else:
        nonneg = _branch_sign(stable_df if stable_df is not None else df)
        if nonneg is not True and stable_df is not None:
            nonneg = _branch_sign(df)
        if nonneg is True:
            monotonic = Verdict(True, "f' ≥ 0 on every region (SymPy's sign assumptions)")
        else:
            nonpos = _branch_sign(-df)
            if nonpos is True:
                monotonic = Verdict(True, "f' ≤ 0 on every region (SymPy's sign assumptions)")
            elif crit:
                monotonic = Verdict(False, f"f' changes sign at {crit_text}", {"critical_points": crit})
            else:
                monotonic = Verdict(None, "no sign change of f' found at the probes, and SymPy could not prove f' ≥ 0")

    # C¹
    reasons = []
    c1_value: bool | None = True
    for b in sorted(set(breakpoints(f)) | set(breakpoints(df)), key=float):
        fl, fr = _limit(f, b, "-"), _limit(f, b, "+")
        if sp.simplify(fl - fr) != 0:
            c1_value = False
            reasons.append(f"f jumps at z = {b} ({_fmt(fl)} → {_fmt(fr)})")
            continue
        dl, dr = _limit(df, b, "-"), _limit(df, b, "+")
        if sp.simplify(dl - dr) != 0:
            c1_value = False
            reasons.append(f"f' jumps at z = {b} ({_fmt(dl)} → {_fmt(dr)})")
    if c1_value:
        checks = [_continuous_on_reals(c) for value, region in _regions(df) for c in _on_region(value, region)]
        if all(checks):
            where = " and its one-sided limits agree at every breakpoint" if breakpoints(df) or breakpoints(f) else ""
            reasons.append(f"f' is continuous on ℝ{where}")
        else:
            c1_value = None
            reasons.append("SymPy could not show f' continuous on ℝ (a function or a division it cannot vouch for)")
    c1 = Verdict(c1_value, "; ".join(reasons))

    # range, bounded
    f_pw = _pw(f)
    lim_lo, lim_hi = _limit(f, -sp.oo), _limit(f, sp.oo)
    crit_values = [sp.Float(mp.nstr(mp.mpf(sp.N(f_pw.subs(z, sp.Float(str(r), 30)), 30)), 25), 25) for r in crit]
    candidates = [v for v in (lim_lo, lim_hi, *crit_values) if v.is_finite]
    lower = min(
        candidates + ([-sp.oo] if sp.oo in (-lim_lo, -lim_hi) else []),
        key=lambda v: float(v) if v.is_finite else -1e999,
    )
    upper = max(
        candidates + ([sp.oo] if sp.oo in (lim_lo, lim_hi) else []), key=lambda v: float(v) if v.is_finite else 1e999
    )
    # A bound is attained if some probe or breakpoint (or critical point) reaches it.
    samples = [_value(f, pt) for pt in list(PROBES) + breaks]
    lower_closed = lower.is_finite and (lower in crit_values or any(_equal(s, lower) for s in samples))
    upper_closed = upper.is_finite and (upper in crit_values or any(_equal(s, upper) for s in samples))
    text = f"{'[' if lower_closed else '('}{_fmt(lower)}, {_fmt(upper)}{']' if upper_closed else ')'}"
    rng = Range(
        lower,
        upper,
        lower_closed,
        upper_closed,
        text,
        f"lim −∞: {_fmt(lim_lo)}; lim +∞: {_fmt(lim_hi)}" + (f"; critical point {crit_text}" if crit else ""),
    )
    bounded = Verdict(bool(lower.is_finite and upper.is_finite), f"range {text}")

    # zero-centred
    f0 = _value(f, 0)
    both_signs = (lower.is_finite and float(lower) < 0 or lower == -sp.oo) and (upper == sp.oo or float(upper) > 0)
    if f0 != 0:
        centred_reason = f"f(0) = {f0}, not 0"
    elif not both_signs:
        centred_reason = f"f(0) = 0, but f takes one sign only: range {text}"
    else:
        centred_reason = f"f(0) = 0 and f takes both signs: range {text}"
    zero_centred = Verdict(bool(f0 == 0 and both_signs), centred_reason)

    # saturating
    left, right = _limit(df, -sp.oo), _limit(df, sp.oo)
    sides = [s for s, lim in (("z → −∞", left), ("z → +∞", right)) if lim == 0]
    saturating = Verdict(
        bool(sides), f"f' → 0 as {' and '.join(sides)}" if sides else f"f' → {_fmt(left)} (−∞), {_fmt(right)} (+∞)"
    )
    return Properties(nonlinear, monotonic, c1, bounded, zero_centred, saturating, rng, tuple(float(r) for r in crit))


@functools.cache
def _activation_properties(name: str) -> Properties:
    from derivations.activations import ACTIVATIONS

    return entry_properties(ACTIVATIONS[name])


def entry_properties(entry) -> Properties:
    """The properties of any activation entry at its parameters (`nnref custom` builds its own)."""
    f, df, closed_df = (with_params(e, entry.params, exact=True) for e in (entry.f, entry.df, entry.closed_df))
    return decide_properties(f, df, closed_df)


def activation_properties(entry) -> Properties:
    """The properties of a registry activation at its default parameters."""
    return _activation_properties(entry.name)
