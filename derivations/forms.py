"""Which form of each stable node the generated code computes: the cheapest one that is accurate.

A node (``derivations/functions.py``) prints itself one way (σ as ``scipy.special.expit``) and may
list other forms written in SymPy (σ from one exp of −|u|). For every node with forms, this module

* **proves** each form equal to the node's textbook definition: ``simplify(form − textbook) == 0``
  for u > 0 and for u < 0 (|u| and the branches resolve on each side), and at u = 0;
* **measures** each form's worst ULP error against mpmath over the full float64 range (the grid of
  ``derivations/reference.py``), running the code the printer writes for it;
* **counts** each form's cost from that printed code: every NumPy call and arithmetic operator it
  makes, weighted by ``COST_NS``, the time per element of that operation on one block of the
  runtime;

and chooses the cheapest form within ``BAR`` ULP. The printer (``derivations/codegen.py``) then
computes each such node once, in its chosen form, and common-subexpression elimination shares
the pieces of those forms (exp(−|z|)) between them.
The reference pages show the candidates, their error and cost, and the choice.

Products σ(u)·σ(−u) are written as the node σ′(u) (``dsigmoid``) first, so that σ′ can be computed
as e/(1 + e)² rather than as two sigmoids.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass

import numpy as np
import sympy as sp

from derivations.functions import StableFunction, dsigmoid, sigmoid

#: A form is chosen only within this many ULP, or within the error of the node's own printing where
#: that is larger: a block takes at most this share of an entry's 4-ULP bar, and the rest is left to
#: the operations around it (measured: with 2.3-ULP blocks, mish' reached 4.17 ULP and silu''
#: 4,400). Every entry is then measured against mpmath as a whole (tests/test_accuracy.py).
BAR = 1.5

#: Nanoseconds per float64 element of each NumPy operation on one 32,768-element block (the
#: runtime's block, in cache), the minimum of repeated timings on the machine of the Performance
#: page; the cost of a printed form is their sum over the operations it makes.
COST_NS = {
    "exp": 0.70,
    "expm1": 0.80,
    "log": 0.65,
    "log1p": 0.65,
    "tanh": 0.80,
    "logaddexp": 5.0,
    "expit": 4.0,
    "where": 0.85,
    "astype": 0.26,
    "abs": 0.15,
    "maximum": 0.50,
    "minimum": 0.50,
    "greater": 0.07,
    "greater_equal": 0.07,
    "less": 0.07,
    "less_equal": 0.07,
    "Add": 0.12,
    "Sub": 0.12,
    "Mult": 0.12,
    "Div": 0.30,
    "Pow": 0.12,
    "USub": 0.10,
}


@dataclass(frozen=True)
class Candidate:
    label: str
    code: str  # the NumPy source the printer writes for it, at u
    max_ulp: float
    cost_ns: float
    proved: bool

    def eligible(self, bar: float) -> bool:
        return self.proved and self.max_ulp <= bar


@dataclass(frozen=True)
class Choice:
    node: str
    candidates: tuple[Candidate, ...]
    chosen: int  # index into candidates; 0 is the node's own printing

    @property
    def bar(self) -> float:
        """BAR, or the node's own printing's error where that is larger (and measured)."""
        own = self.candidates[0].max_ulp
        return max(BAR, own) if own == own else BAR

    @property
    def form(self) -> Candidate:
        return self.candidates[self.chosen]

    @property
    def reason(self) -> str:
        c = self.form
        others = [o for i, o in enumerate(self.candidates) if i != self.chosen]
        cheaper = [o for o in others if o.cost_ns < c.cost_ns]  # NaN (not counted) is never cheaper
        if self.chosen == 0:
            why = f"no other form is within {self.bar:.3g} ULP"
        else:
            why = f"the cheapest form within {self.bar:.3g} ULP ({c.max_ulp:.3g} ULP, {c.cost_ns:.2f} ns per element)"
        if cheaper:
            why += "; " + ", ".join(
                f"{o.label} costs less but is {'not proved' if not o.proved else f'{o.max_ulp:.3g} ULP'}"
                for o in cheaper
            )
        return why


_u = sp.Symbol("u", real=True)


def nodes_with_forms() -> tuple[type[StableFunction], ...]:
    from derivations import functions

    found = []
    for obj in vars(functions).values():
        if isinstance(obj, type) and issubclass(obj, StableFunction) and obj.forms:
            found.append(obj)
    return tuple(sorted(found, key=lambda cls: cls.__name__))


def _proved(cls: type[StableFunction], form: sp.Expr) -> bool:
    from derivations.functions import to_textbook

    textbook = cls.textbook_of(_u)
    p = sp.Symbol("p", positive=True)
    for side in (p, -p):
        diff = (to_textbook(form) - textbook).subs(_u, side)
        if sp.simplify(diff.rewrite(sp.exp)) != 0:
            return False
    at0 = to_textbook(form).subs(_u, 0) - textbook.subs(_u, 0)
    return sp.simplify(at0) == 0


def _printed(expr: sp.Expr) -> str:
    from derivations.codegen import function_source

    return function_source("candidate", [expr], {}, "", arg="u", forms=False)


def cost_ns(source: str) -> float:
    """The modelled cost of printed code: ``COST_NS`` summed over its calls and operators."""
    total = 0.0
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            total += COST_NS.get(node.func.attr, 1.0)
        elif isinstance(node, (ast.BinOp, ast.UnaryOp)):
            op = type(node.op).__name__
            if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
                continue  # a negative literal, not an operation
            total += COST_NS.get(op, 0.12)
    return total


def _max_ulp(cls: type[StableFunction], source: str) -> float:
    from derivations.reference import full_range_grid, measure

    scope: dict = {"numpy": np}
    if "scipy." in source:
        import scipy.special

        scope["scipy"] = scipy
    exec(compile(source, f"<form of {cls.__name__}>", "exec"), scope)  # noqa: S102 - the printer's output
    fn = scope["candidate"]
    z = sp.Symbol("z", real=True)
    row = measure(cls.__name__, "f", fn, cls.textbook_of(z), {}, BAR, full_range_grid())
    return row.max_ulp if row.nan_inf == 0 else float("inf")


@functools.cache
def choice(cls: type[StableFunction]) -> Choice:
    """The node's candidates, measured and counted, and the one the printer writes."""
    candidates = []
    for label, expr in [("as the node prints itself: " + cls.numpy_template.format("u"), cls(_u))] + [
        (f.label, f.build(_u)) for f in cls.forms
    ]:
        source = _printed(expr)
        runnable = "nnref." not in source
        candidates.append(
            Candidate(
                label=label,
                code=source,
                max_ulp=_max_ulp(cls, source) if runnable else float("nan"),
                cost_ns=cost_ns(source) if runnable else float("nan"),
                proved=True if expr.func is cls else _proved(cls, expr),
            )
        )
    bar = Choice(cls.__name__, tuple(candidates), 0).bar
    eligible = [i for i, c in enumerate(candidates) if c.eligible(bar)]
    # The node's own printing stays when nothing else qualifies (or it cannot be run here).
    chosen = min(eligible, key=lambda i: (candidates[i].cost_ns, i)) if eligible else 0
    return Choice(cls.__name__, tuple(candidates), chosen)


def fuse(expr: sp.Expr) -> sp.Expr:
    """Every product σ(a)^m·σ(−a)^n written as σ′(a)^k·σ(±a)^(|m − n|), k = min(m, n), where a
    form of σ′ was chosen (otherwise σ(a) and σ(−a) stay, for CSE to share with the rest)."""
    if choice(dsigmoid).chosen == 0:
        return expr

    def rewrite(e):
        if not isinstance(e, sp.Mul):
            return e
        powers: dict[sp.Expr, int] = {}  # the argument a (sign taken out) -> [power of σ(a), of σ(−a)]
        rest = []
        for factor in e.args:
            base, exp = factor.as_base_exp()
            if isinstance(base, sigmoid) and exp.is_Integer and exp > 0:
                a = base.args[0]
                key, side = (-a, 1) if a.could_extract_minus_sign() else (a, 0)
                powers.setdefault(key, [0, 0])[side] += int(exp)
            else:
                rest.append(factor)
        if not any(m and n for m, n in powers.values()):
            return e
        out = []
        for a, (m, n) in powers.items():
            k = min(m, n)
            out += [dsigmoid(a) ** k] if k else []
            out += [sigmoid(a) ** (m - k)] if m > k else []
            out += [sigmoid(-a) ** (n - k)] if n > k else []
        return sp.Mul(*rest, *out)

    return expr.replace(lambda e: isinstance(e, sp.Mul), rewrite)


def name_forms(exprs: list[sp.Expr]) -> tuple[list[sp.Expr], list[tuple[sp.Symbol, sp.Expr]]]:
    """``exprs`` with σ(u)σ(−u) fused and every node that has a chosen form replaced by a symbol
    named after it (sigmoid0, softplus0, ...), innermost first, and the [(symbol, chosen form)]
    that define them. The printer computes each once, as its own line: z·σ(z) in f and in f_df
    then multiply the same rounded σ, and CSE still shares exp(−|z|) between the definitions."""
    kinds = nodes_with_forms()
    symbols: dict[sp.Basic, sp.Symbol] = {}
    defs: list[tuple[sp.Symbol, sp.Expr]] = []
    counts: dict[str, int] = {}

    def named(node):
        if node in symbols:
            return symbols[node]
        c = choice(type(node))
        if c.chosen == 0:
            return node
        label = type(node).__name__.lower()
        sym = symbols[node] = sp.Symbol(f"{label}{counts.get(label, 0)}", real=True)
        counts[label] = counts.get(label, 0) + 1
        defs.append((sym, type(node).forms[c.chosen - 1].build(node.args[0])))
        return sym

    out = [fuse(e).replace(lambda e: isinstance(e, kinds), named) for e in exprs]
    return out, defs


def used_by(exprs: list[sp.Expr]) -> list[Choice]:
    """The choices made for the nodes these expressions use (after fusion), in name order."""
    kinds = nodes_with_forms()
    found = set()
    for e in exprs:
        for node in sp.preorder_traversal(fuse(e)):
            if isinstance(node, kinds):
                found.add(type(node))
    return [choice(cls) for cls in sorted(found, key=lambda cls: cls.__name__)]


def forms_section(entry) -> str:
    """The reference page's account of the forms chosen for the nodes the entry's code uses."""
    choices = used_by([entry.code(w) for w in ("f", "df", "d2f")])
    if not choices:
        return ""
    out = [
        "### Forms chosen by `nnref derive`\n",
        "Each stable block below has several forms proved equal to its textbook definition. `nnref derive` "
        f"measured each against mpmath over the full float64 range and counted its cost from the code it "
        f"prints (`derivations/forms.py`), and the code below computes the cheapest one within {BAR:g} ULP, or within the error of the block's own printing where that is larger.\n",
        "| block | form | max ULP | modelled cost (ns/element) | proved equal | used |",
        "|---|---|---:|---:|---|---|",
    ]
    for c in choices:
        for i, cand in enumerate(c.candidates):
            runnable = cand.max_ulp == cand.max_ulp
            ulp = f"{cand.max_ulp:.3g}" if runnable else "—"
            cost = f"{cand.cost_ns:.2f}" if runnable else "— (an nnref primitive: not run by derive)"
            used = "**yes**" if i == c.chosen else ""
            label = cand.label.replace("|", "\\|")
            out.append(f"| {c.node} | {label} | {ulp} | {cost} | {'yes' if cand.proved else 'no'} | {used} |")
    out.append("")
    out += [f"- **{c.node}**: {c.reason}." for c in choices]
    return "\n".join(out) + "\n"
