"""A proven identity: the unit in which neuron, loss, softmax and backprop facts reach the docs."""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp


@dataclass(frozen=True)
class Identity:
    """lhs = rhs, with how it was proven. ``proven`` is computed, never typed."""

    name: str
    statement: str  # LaTeX shown on the docs page
    lhs: object
    rhs: object
    proven: bool
    method: str
    cases: tuple[str, ...] = field(default_factory=tuple)


def _is_zero(expr) -> bool:
    if isinstance(expr, sp.MatrixBase):
        return all(_is_zero(e) for e in expr)
    expr = sp.simplify(expr)
    if expr == 0:
        return True
    return sp.simplify(sp.expand(expr.rewrite(sp.exp))) == 0


def prove(name: str, statement: str, lhs, rhs, cases: tuple[str, ...] = ()) -> Identity:
    """Prove lhs == rhs by simplify(lhs - rhs) == 0 (matrices entrywise)."""
    diff = lhs - rhs
    ok = _is_zero(diff)
    return Identity(name, statement, lhs, rhs, ok, "simplify(lhs − rhs) = 0", cases)


def prove_all(name: str, statement: str, pairs, cases: tuple[str, ...]) -> Identity:
    """Prove several instances (e.g. one per concrete matrix size); proven only if all are."""
    ok = all(_is_zero(lhs - rhs) for lhs, rhs in pairs)
    first = pairs[0]
    return Identity(name, statement, first[0], first[1], ok, "simplify(lhs − rhs) = 0 entrywise", cases)


def identity_table(identities) -> str:
    rows = ["| identity | statement | checked on | status |", "|---|---|---|---|"]
    for ident in identities:
        status = "✓ proven" if ident.proven else "✗ not proven"
        cases = ", ".join(ident.cases) if ident.cases else "symbolic"
        rows.append(f"| {ident.name} | ${ident.statement}$ | {cases} | {status} ({ident.method}) |")
    return "\n".join(rows) + "\n"
