"""Rewrite the known unstable patterns of a formula into the stable blocks the library proves.

Each rule replaces one local pattern by a stable block from ``derivations/functions.py``
(``log(1 + exp(u))`` → ``softplus(u)``, ``1/(1 + exp(-u))`` → ``sigmoid(u)``, ...). Rules are
applied bottom-up until nothing changes; every rule that fired is reported with one instance of
its pattern and a symbolic proof (``derivations.proofs.prove_equal``) that the instance and its
replacement are equal, so a rewrite can never change the function, only how it is computed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from derivations import functions as F


def _scaled(u: sp.Expr) -> tuple[sp.Expr, sp.Symbol] | None:
    """(c, z) if u is c·z with a constant c that float64 cannot hold exactly, else None; z may be
    the variable or its clip min(max(z, a), b), which is exact too."""
    coeff, rest = u.as_coeff_Mul()
    exact = rest.is_Symbol or (
        isinstance(rest, (sp.Min, sp.Max)) and rest.free_symbols and rest.atoms(sp.Symbol) == rest.free_symbols
    )
    if not (exact and coeff.is_Rational) or coeff.q & (coeff.q - 1) == 0:
        return None  # c a dyadic rational (1, −1, 1/2, ...) is exact: plain expit
    return coeff, rest


def sigmoid(u: sp.Expr) -> sp.Expr:
    """σ(u) as a block: the scaled block when u is c·v with c not a float64, else the registry's."""
    scaled = _scaled(u)
    return F.sigmoid_scaled(scaled[1], scaled[0]) if scaled else F.sigmoid(u)


def _sigmoid_arg(e) -> sp.Expr | None:
    if isinstance(e, F.sigmoid):
        return e.args[0]
    if isinstance(e, F.sigmoid_scaled):
        return e.args[1] * e.args[0]
    return None


@dataclass(frozen=True)
class Rewrite:
    rule: str  # e.g. "log(1 + exp(u)) → softplus(u)"
    why: str
    before: sp.Expr  # the first instance met in the formula
    after: sp.Expr
    proof: object = None  # derivations.proofs.Proof of before == after
    count: int = 1


def _split_add(expr: sp.Add, pred: Callable[[sp.Expr], bool]) -> tuple[list[sp.Expr], list[sp.Expr]]:
    hit = [a for a in expr.args if pred(a)]
    rest = [a for a in expr.args if not pred(a)]
    return hit, rest


# ---- the rules: each takes one node (children already rewritten) and returns a new node or None ----


def _tanh_block(e):
    if isinstance(e, sp.tanh):
        return F.tanh(e.args[0])


def _sech2(e):
    # 1 - tanh(u)**2 → sech²(u), also inside a longer sum (c + 1 - tanh² ...)
    if isinstance(e, sp.Add) and sp.S.One in e.args:
        for a in e.args:
            coeff, rest = a.as_coeff_Mul()
            if coeff == -1 and rest.is_Pow and rest.exp == 2 and isinstance(rest.base, F.tanh):
                others = [b for b in e.args if b is not a and b != sp.S.One]
                return sp.Add(F.sech2(rest.base.args[0]), *others)
    if e.is_Pow and e.exp == -2 and isinstance(e.base, sp.cosh):
        return F.sech2(e.base.args[0])
    if e.is_Pow and e.exp == 2 and isinstance(e.base, sp.sech):
        return F.sech2(e.base.args[0])


def _one_plus_exp(base) -> sp.Expr | None:
    """u if base is 1 + exp(u), else None."""
    if isinstance(base, sp.Add) and len(base.args) == 2 and sp.S.One in base.args:
        other = base.args[0] if base.args[1] == sp.S.One else base.args[1]
        if isinstance(other, sp.exp):
            return other.args[0]
    return None


def _sigmoid(e):
    # (1 + exp(u))**-n → sigmoid(-u)**n
    if e.is_Pow and e.exp.is_Integer and e.exp < 0:
        u = _one_plus_exp(e.base)
        if u is not None:
            return sigmoid(-u) ** (-e.exp)
    # exp(u) * sigmoid(-u) → sigmoid(u)   (exp(u)/(1 + exp(u)) overflows for u > 709)
    if isinstance(e, sp.Mul):
        exps = [a for a in e.args if isinstance(a, sp.exp)]
        sigs = [a for a in e.args if _sigmoid_arg(a) is not None]
        for x in exps:
            for s in sigs:
                if sp.expand(_sigmoid_arg(s) + x.args[0]) == 0:
                    rest = [a for a in e.args if a is not x and a is not s]
                    return sp.Mul(sigmoid(x.args[0]), *rest)


def _one_minus_sigmoid(e):
    if isinstance(e, sp.Add) and sp.S.One in e.args:
        for a in e.args:
            coeff, rest = a.as_coeff_Mul()
            if coeff == -1 and _sigmoid_arg(rest) is not None:
                others = [b for b in e.args if b is not a and b != sp.S.One]
                return sp.Add(sigmoid(-_sigmoid_arg(rest)), *others)


def _softplus(e):
    if isinstance(e, sp.log):
        u = _one_plus_exp(e.args[0])
        if u is not None:
            return F.softplus(u)


def _log_sigmoid(e):
    if isinstance(e, sp.log) and _sigmoid_arg(e.args[0]) is not None:
        return F.log_sigmoid(_sigmoid_arg(e.args[0]))


def _softplus_minus_log2(e):
    # softplus(u) - log(2) cancels near u = 0 (the value is ≈ u/2): log1p(expm1(u)/2) does not,
    # and is used for u < 1, guarded so the unused branch cannot overflow.
    if isinstance(e, sp.Add):
        for a in e.args:
            if isinstance(a, F.softplus) and -sp.log(2) in e.args:
                u = a.args[0]
                others = [b for b in e.args if b is not a and b != -sp.log(2)]
                near = F.log1p(F.expm1(sp.Min(u, 1)) / 2)
                return sp.Add(sp.Piecewise((near, u < 1), (a - sp.log(2), True)), *others)


def _expm1(e):
    if isinstance(e, sp.Add) and (sp.S.NegativeOne in e.args or sp.S.One in e.args):
        for a in e.args:
            coeff, rest = a.as_coeff_Mul()
            if isinstance(rest, sp.exp) and abs(coeff) == 1:
                const = -coeff  # exp(u) - 1 or 1 - exp(u)
                if const in e.args:
                    others = [b for b in e.args if b is not a and b != const]
                    return sp.Add(coeff * F.expm1(rest.args[0]), *others)


def _log1p(e):
    if isinstance(e, sp.log) and isinstance(e.args[0], sp.Add) and sp.S.One in e.args[0].args:
        u = sp.Add(*[a for a in e.args[0].args if a != sp.S.One])
        if u.has(sp.Symbol) and not isinstance(u, sp.exp):
            return F.log1p(u)


def _ncdf(e):
    # c ± c·erf(u) → 2c·Φ(±√2 u): erfc without its cancellation, and accurate in the far tail.
    # (SymPy distributes a number over a sum, so (1 + erf(u))/2 arrives as 1/2 + erf(u)/2.)
    if isinstance(e, sp.Add):
        c, _ = e.as_coeff_Add()
        if c == 0:
            return None
        for a in e.args:
            coeff, rest = a.as_coeff_Mul()
            if isinstance(rest, sp.erf) and abs(coeff / c) == 1:
                others = [b for b in e.args if b is not a and b != c]
                return sp.Add(2 * c * F.ncdf((coeff / c) * sp.sqrt(2) * rest.args[0]), *others)


def _xncdf(e):
    if isinstance(e, sp.Mul):
        for a in e.args:
            if isinstance(a, F.ncdf) and a.args[0] in e.args:
                rest = [b for b in e.args if b is not a and b != a.args[0]]
                return sp.Mul(F.xncdf(a.args[0]), *rest)


def _exp_neg_square(e):
    # exp(-c u²) → a block that forms c·u² exactly. Not √(2π)·φ(√(2c)·u): the rounding of √(2c)·u
    # costs as much as that of u² (1,620 ULP measured for exp(-z**2), 382 for the plain formula).
    if isinstance(e, sp.exp):
        coeff, rest = e.args[0].as_coeff_Mul()
        if coeff.is_negative and coeff.is_Rational and rest.is_Pow and rest.exp == 2:
            return F.exp_neg_square(rest.base, -coeff)


#: (name, why, rule) in the order they are tried at each node.
RULES: tuple[tuple[str, str, Callable], ...] = (
    ("(1 + exp(-u))⁻¹ → sigmoid(u)", F.sigmoid.why, _sigmoid),
    (
        "1 − sigmoid(u) → sigmoid(−u)",
        "1 − σ(u) cancels to 0 for u > 37 where σ(−u) is still 1e-16 or more.",
        _one_minus_sigmoid,
    ),
    ("log(1 + exp(u)) → softplus(u)", F.softplus.why, _softplus),
    ("log(sigmoid(u)) → −softplus(−u)", "log(σ(u)) is log(0) = −inf once σ(u) underflows (u < −745).", _log_sigmoid),
    (
        "softplus(u) − log 2 → log1p(expm1(u)/2) for u < 1",
        "softplus(u) − log 2 cancels near u = 0, where the value is ≈ u/2.",
        _softplus_minus_log2,
    ),
    ("tanh(u) → tanh(u) differentiating to sech²(u), not 1 − tanh²(u)", F.sech2.why, _tanh_block),
    ("1 − tanh(u)² → sech²(u)", F.sech2.why, _sech2),
    ("exp(u) − 1 → expm1(u)", F.expm1.why, _expm1),
    ("log(1 + u) → log1p(u)", F.log1p.why, _log1p),
    ("c ± c·erf(u) → 2c·Φ(±√2·u)", F.ncdf.why, _ncdf),
    ("u·Φ(u) → xΦ(u)", F.xncdf.why, _xncdf),
    ("exp(−c·u²) → exp_neg_square(u, c)", F.exp_neg_square.why, _exp_neg_square),
)


def _rewrite_node(e: sp.Expr, fired: dict[str, list]) -> sp.Expr:
    """Apply the rules at one node until none fires (a rule's result may enable another)."""
    for _ in range(len(RULES)):
        for name, _why, rule in RULES:
            new = rule(e)
            if new is not None and new != e:
                fired.setdefault(name, []).append((e, new))
                e = new
                break
        else:
            return e
    return e


def _walk(e: sp.Expr, fired: dict[str, list]) -> sp.Expr:
    """One bottom-up pass: children first, then the node. A rule's output is not walked again,
    so a rule may keep its own pattern in a branch where it is harmless."""
    if not e.args or isinstance(e, (sp.Symbol, sp.Number)):
        return e
    if isinstance(e, sp.Piecewise):
        node = sp.Piecewise(*[(_walk(v, fired), c) for v, c in e.args])
    elif isinstance(e, sp.logic.boolalg.Boolean):
        return e
    else:
        node = e.func(*[_walk(a, fired) for a in e.args])
    return _rewrite_node(node, fired)


def stabilise(expr: sp.Expr, prove: bool = True) -> tuple[sp.Expr, list[Rewrite]]:
    """(stable expression, the rewrites that fired), each rewrite proven on its first instance."""
    fired: dict[str, list] = {}
    expr = _walk(expr, fired)
    rewrites = []
    why = {name: reason for name, reason, _ in RULES}
    for name, _w, _r in RULES:
        if name not in fired:
            continue
        before, after = fired[name][0]
        proof = None
        if prove:
            from derivations.proofs import prove_equal

            proof = prove_equal(before, after)
        rewrites.append(Rewrite(name, why[name], before, after, proof, len(fired[name])))
    return expr, rewrites
