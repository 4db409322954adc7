"""IEEE special values: what f, f' and f'' of an activation are at z = ±inf, and the contract.

The contract (docs/special-values.md): for every elementwise activation and each of f, f', f'',
f_df and vjp, NaN in gives NaN out, ±inf gives the mathematical limit, and neither raises a
floating-point warning. The limits are SymPy's (``limit`` at ±oo of the textbook expression, with
the entry's parameters as positive symbols, so elu's f(−inf) is −alpha for any alpha), and the
generated code prints them: ``nnref._primitives.special_values(z, value, at_minus_inf, at_plus_inf)``
wraps every result, so a formula that meets inf·0 or inf/inf on the way (silu's z·σ(z) at −inf,
softsign's z/(1 + |z|) at ±inf) still returns its limit, and a piecewise form whose comparisons
are all False for NaN (relu's where(z > 0, 1, 0)) still returns NaN.
"""

from __future__ import annotations

import sympy as sp

from derivations.properties import _limit

#: The points, in the order the generated code takes them.
INFINITIES = (-sp.oo, sp.oo)


def limit_at(expr: sp.Expr, point) -> sp.Expr | None:
    """The limit of a textbook expression of z at ``point`` (±oo): a number, ±oo, an expression of
    the parameters, NaN where there is none (oscillation), or None where SymPy cannot say."""
    try:
        value = _limit(expr, point)
    except (NotImplementedError, ValueError, TypeError, RecursionError):  # pragma: no cover - SymPy gaps
        return None
    if isinstance(value, sp.AccumBounds):
        return sp.nan
    if value.has(sp.Limit):
        return None
    return value


def limits(entry, which: str) -> tuple[sp.Expr | None, sp.Expr | None]:
    """(limit at −inf, limit at +inf) of the entry's f, f' or f'' ("f", "df", "d2f")."""
    return tuple(limit_at(entry.textbook(which), point) for point in INFINITIES)
