"""Proofs that each stable form equals its textbook form: symbolic, per branch where piecewise.

A proof is ``simplify(textbook − stable) == 0`` after rewriting the stable blocks to their
textbook definitions, region by region for piecewise forms: on each branch the condition becomes
an assumption (z > c is z = c + p with p > 0), so ``Min(z, 0)``, ``Abs(z)`` and ``sign(z)``
evaluate. Numbers never prove anything here: if no symbolic method succeeds the proof is reported
as not proven, with what was tried.

Taylor patches (derivations/taylor.py) and saturation are approximations, not identities; the
proofs are about the closed forms beneath them (``entry.closed_df``), and the pages state the
patches and their truncation bounds separately.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from derivations.common import piecewise
from derivations.functions import to_textbook
from derivations.symbols import y, z


@dataclass(frozen=True)
class Proof:
    proven: bool
    method: str
    branches: tuple[str, ...] = ()
    note: str = ""


def _zero(expr: sp.Expr) -> str | None:
    """The method that shows expr == 0, or None."""
    if expr == 0:
        return "identical"
    # rewrite(exp) first: on the sigmoid/tanh forms it settles in a fraction of a second what a
    # plain simplify spends seconds failing at (gelu_tanh's f'': 0.5 s against 14 s).
    attempts = (
        ("rewrite(exp) + simplify", lambda e: sp.simplify(e.rewrite(sp.exp))),
        ("simplify", lambda e: sp.simplify(e)),
        ("rewrite(exp) + expand + simplify", lambda e: sp.simplify(sp.expand(e.rewrite(sp.exp)))),
        ("logcombine + simplify", lambda e: sp.simplify(sp.logcombine(sp.expand_log(e, force=True), force=True))),
    )
    for name, fn in attempts:
        try:
            if fn(expr) == 0:
                return name
        except (TypeError, ValueError, NotImplementedError, RecursionError):  # pragma: no cover - SymPy gaps
            continue
    return None


def _as_set(cond, var: sp.Symbol) -> sp.Set:
    """The set of real var where cond holds. And, Or, Not and comparisons of var with a number are
    combined directly; anything else goes to SymPy's ``as_set``, which took 38 s on the kinks of
    clip(z, −1, 1)' (it simplifies every sub-condition to test it for periodicity)."""
    if isinstance(cond, sp.And):
        return sp.Intersection(*[_as_set(a, var) for a in cond.args])
    if isinstance(cond, sp.Or):
        return sp.Union(*[_as_set(a, var) for a in cond.args])
    if isinstance(cond, sp.Not):
        return sp.S.Reals - _as_set(cond.args[0], var)
    if isinstance(cond, sp.core.relational.Relational):
        lhs, rhs = cond.lhs, cond.rhs
        if rhs == var and lhs.is_number:
            cond, lhs, rhs = cond.reversed, var, lhs
        if lhs == var and rhs.is_number and rhs.is_extended_real:
            c = rhs
            return {
                sp.Eq: lambda: sp.FiniteSet(c),
                sp.Ne: lambda: sp.S.Reals - sp.FiniteSet(c),
                sp.StrictLessThan: lambda: sp.Interval.open(-sp.oo, c),
                sp.LessThan: lambda: sp.Interval(-sp.oo, c),
                sp.StrictGreaterThan: lambda: sp.Interval.open(c, sp.oo),
                sp.GreaterThan: lambda: sp.Interval(c, sp.oo),
            }[type(cond)]()
    return cond.as_set()


def _effective_regions(diff: sp.Piecewise, var: sp.Symbol) -> list[tuple[sp.Expr, sp.Set]]:
    """(branch expression, the set of var where that branch is the one taken): ordered semantics."""
    taken = sp.S.EmptySet
    out = []
    for expr, cond in diff.args:
        region = sp.S.Reals if cond is sp.true else _as_set(cond, var)
        region = sp.Intersection(region, sp.S.Reals) - taken
        taken = sp.Union(taken, region)
        out.append((expr, region))
    return out


def _on_interval(expr: sp.Expr, region: sp.Interval, var: sp.Symbol) -> str | None:
    """Show expr == 0 on an interval by substituting var = left end + p (p > 0) or right end − p."""
    p = sp.Symbol("p", positive=True)
    if region.left.is_finite:
        candidate = expr.subs(var, region.left + p)
    elif region.right.is_finite:
        candidate = expr.subs(var, region.right - p)
    else:
        return None
    method = _zero(candidate)
    return f"{method} on {region}" if method else None


def _prove_piecewise(diff: sp.Piecewise, var: sp.Symbol) -> tuple[bool, list[str], list]:
    branches, ok, points = [], True, []
    for expr, region in _effective_regions(diff, var):
        if region is sp.S.EmptySet:
            continue
        method = _zero(expr)
        if method is None and isinstance(region, sp.FiniteSet):
            values = [sp.simplify(expr.subs(var, pt)) for pt in region]
            if all(v == 0 for v in values):
                method = f"equal at {set(region)}"
            else:
                points.extend(region)
                branches.append(f"{region}: differ (a convention at a single point)")
                continue
        if method is None and isinstance(region, sp.Interval):
            method = _on_interval(expr, region, var)
        if method is None and isinstance(region, sp.Union):
            parts = [_on_interval(expr, r, var) if isinstance(r, sp.Interval) else None for r in region.args]
            method = "; ".join(parts) if all(parts) else None
        branches.append(f"{region}: {method or 'not proven'}")
        ok = ok and method is not None
    return ok, branches, points


def prove_equal(textbook: sp.Expr, stable: sp.Expr, note: str = "", var: sp.Symbol = z) -> Proof:
    """Prove textbook == stable for all real var (per branch for piecewise forms).

    Branches that differ only at isolated points (a derivative's value at a kink, which is a
    stated convention) are reported, and the proof holds for every other point.
    """
    a = piecewise(to_textbook(textbook))
    b = piecewise(to_textbook(stable))
    if textbook.has(sp.DiracDelta) and not stable.has(sp.DiracDelta):
        note = (
            note + " " if note else ""
        ) + "DiracDelta(z) is 0 for z ≠ 0: equal almost everywhere; the value at 0 is a convention."
    diff = sp.piecewise_fold(a - b)
    if not isinstance(diff, sp.Piecewise):
        method = _zero(diff)
        return Proof(
            method is not None, method or "not proven: simplify, rewrite(exp) and logcombine all failed", (), note
        )
    ok, branches, points = _prove_piecewise(diff, var)
    if points:
        # One kink may come as both 1 and 1.0 (a float in the printed code's Eq): name it once,
        # exactly where the exact form is at hand.
        unique: dict[float, sp.Expr] = {}
        for pt in sorted(points, key=lambda pt: (float(pt), isinstance(pt, sp.Float))):
            unique.setdefault(float(pt), pt)
        where = ", ".join(str(pt) for pt in unique.values())
        note = (
            note + " " if note else ""
        ) + f"Equal for every {var} except {where}, where the value is the documented convention."
    return Proof(ok, "per branch: " + "; ".join(branches), tuple(branches), note)


@functools.cache
def _prove_activation_cached(name: str) -> dict[str, Proof]:
    from derivations.activations import ACTIVATIONS

    return prove_entry(ACTIVATIONS[name])


def prove_one(entry, which: str) -> Proof:
    """The proof that the code's closed form of f, f' or f'' ("f", "df", "d2f") equals the textbook one."""
    return prove_equal(entry.textbook(which), entry.closed(which))


def prove_entry(entry) -> dict[str, Proof]:
    """The proofs for any activation entry, registry or not (`nnref custom` builds its own)."""
    return {which: prove_one(entry, which) for which in ("f", "df", "d2f")}


def prove_activation(entry) -> dict[str, Proof]:
    """Proofs that the code's f, f' and f'' (closed forms) equal the textbook f, f', f''."""
    return dict(_prove_activation_cached(entry.name))


def prove_loss(entry) -> dict[str, Proof]:
    """Proofs for a loss's value and gradient, made univariate: ŷ = y + w for a loss of the
    residual, y = ±1 separately for a loss of signed labels, z or ŷ itself otherwise."""
    if entry.vector:
        return {}
    w = sp.Symbol("w", real=True)
    out = {}
    for which in ("value", "grad"):
        textbook, code = entry.textbook(which), entry.code(which)
        if entry.residual:
            out[which] = prove_equal(textbook.subs(entry.x, y + w), code.subs(entry.x, y + w), var=w)
        elif entry.target == "sign":
            proofs = [prove_equal(textbook.subs(y, s), code.subs(y, s), var=entry.x) for s in (1, -1)]
            out[which] = Proof(
                all(p.proven for p in proofs),
                " | ".join(f"y = {s}: {p.method}" for s, p in zip((1, -1), proofs)),
                note=" ".join(p.note for p in proofs if p.note),
            )
        else:
            out[which] = prove_equal(textbook, code, var=entry.x)
    return out
