"""Parse a user's formula into SymPy without running any Python it contains.

``sympify`` and ``parse_expr`` evaluate their input as Python, so a pasted string such as
``__import__('os').system(...)`` would run. Here the text is only *parsed* by :mod:`ast` (which
executes nothing), every node of the syntax tree is checked against a whitelist, and the SymPy
expression is then built node by node from the tree: numbers, the variable ``z``, the named
parameters, ``pi``, arithmetic, comparisons inside ``where``, and calls of whitelisted functions
or registry activations. Anything else is rejected with a :class:`FormulaError` that points at
the offending part. Size limits (length, nesting, exponent magnitude) keep every rejection and
every accepted parse bounded in time and memory: ``9**9**9`` is refused before SymPy sees it.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from derivations.common import with_params
from derivations.symbols import z

MAX_LENGTH = 2000  # characters
MAX_DEPTH = 40  # nesting of parentheses / calls / operators
MAX_NODES = 400  # syntax-tree nodes
MAX_EXPONENT = 1000  # |n| of a numeric exponent
MAX_DIGITS = 60  # digits of one numeric literal
MAX_CONSTANT_DIGITS = 400  # decimal digits of any exact constant built from literals

#: Pasted formulas often carry typographic operators; these (and only these) are read as ASCII.
TYPOGRAPHIC = {"\u2212": "-", "\u00b7": "*", "\u00d7": "*", "\u2013": "-"}


class FormulaError(ValueError):
    """A formula that is not accepted; ``col`` is the 1-based column of the offending part."""

    def __init__(self, message: str, text: str = "", col: int | None = None, length: int = 1):
        self.message, self.text, self.col = message, text, col
        detail = message
        if text and col is not None and len(text) <= 200:
            detail += f"\n  {text}\n  {' ' * (col - 1)}{'^' * max(1, min(length, len(text) - col + 1))}"
        elif col is not None:
            detail += f" (at column {col})"
        super().__init__(detail)


@dataclass(frozen=True)
class Parsed:
    """The formula as the user means it (``textbook``: registry activations expanded to their
    definitions) and the same formula with registry activations in their proven stable forms
    (``stable``), plus the names it used."""

    text: str
    textbook: sp.Expr
    stable: sp.Expr
    functions: tuple[str, ...]
    params: dict[str, sp.Symbol]


def _erfc(u):
    return 1 - sp.erf(u)


def _log1p(u):
    return sp.log(1 + u)


def _expm1(u):
    return sp.exp(u) - 1


def _sigmoid(u):
    return 1 / (1 + sp.exp(-u))


#: name -> (number of arguments, builder of the textbook expression)
FUNCTIONS: dict[str, tuple[int, Callable]] = {
    "exp": (1, sp.exp),
    "log": (1, sp.log),
    "log1p": (1, _log1p),
    "expm1": (1, _expm1),
    "sqrt": (1, sp.sqrt),
    "abs": (1, sp.Abs),
    "tanh": (1, sp.tanh),
    "sinh": (1, sp.sinh),
    "cosh": (1, sp.cosh),
    "erf": (1, sp.erf),
    "erfc": (1, _erfc),
    "sigmoid": (1, _sigmoid),
    "max": (2, lambda a, b: sp.Max(a, b)),
    "min": (2, lambda a, b: sp.Min(a, b)),
    "where": (3, None),  # where(cond, a, b): built as a Piecewise
}
CONSTANTS = {"pi": sp.pi}


def _registry_activations() -> dict:
    from derivations.activations import ENTRIES

    return {entry.name: entry for entry in ENTRIES if entry.name not in FUNCTIONS}


def vocabulary() -> list[str]:
    """Every function name a formula may call."""
    return sorted(set(FUNCTIONS) | set(_registry_activations()))


def check_param_name(name: str) -> None:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*", name):
        raise FormulaError(
            f"parameter name {name!r} must be letters and digits (underscores between), like alpha or beta_1"
        )
    if name == "z" or name in FUNCTIONS or name in CONSTANTS or name in _registry_activations():
        raise FormulaError(
            f"parameter name {name!r} is already taken (z is the variable; functions and pi are reserved)"
        )


class _Builder:
    """Checks each node against the whitelist and builds its SymPy value (textbook, stable)."""

    def __init__(self, text: str, params: dict[str, sp.Symbol]):
        self.text, self.params = text, params
        self.registry = _registry_activations()
        self.used: set[str] = set()

    def fail(self, node: ast.AST, message: str):
        col = getattr(node, "col_offset", None)
        end = getattr(node, "end_col_offset", None)
        length = (end - col) if (col is not None and end is not None) else 1
        raise FormulaError(message, self.text, None if col is None else col + 1, length)

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or type(node).__name__

    # ---- nodes ----------------------------------------------------------------------------
    def build(self, node: ast.AST, depth: int = 0) -> tuple[sp.Expr, sp.Expr]:
        if depth > MAX_DEPTH:
            self.fail(node, f"formula nested more than {MAX_DEPTH} levels deep")
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            self.fail(node, self._refusal(node))
        return method(node, depth + 1)

    def _refusal(self, node: ast.AST) -> str:
        what = {
            ast.Attribute: "attribute access",
            ast.Subscript: "subscripts",
            ast.Lambda: "lambdas",
            ast.ListComp: "comprehensions",
            ast.GeneratorExp: "comprehensions",
            ast.SetComp: "comprehensions",
            ast.DictComp: "comprehensions",
            ast.List: "lists",
            ast.Tuple: "tuples",
            ast.Dict: "dicts",
            ast.Set: "sets",
            ast.JoinedStr: "strings",
            ast.NamedExpr: "assignments",
            ast.IfExp: "if-expressions (use where(cond, a, b))",
            ast.Starred: "starred arguments",
            ast.Await: "await",
            ast.Yield: "yield",
        }.get(type(node), type(node).__name__)
        return f"{what} not allowed in a formula: {self.segment(node)!r}"

    def _Expression(self, node, depth):
        return self.build(node.body, depth)

    def _Constant(self, node, depth):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "strings" if isinstance(value, (str, bytes)) else type(value).__name__
            self.fail(node, f"{kind} not allowed in a formula: {self.segment(node)!r} (numbers only)")
        literal = self.segment(node)
        if len(re.sub(r"[^0-9]", "", literal)) > MAX_DIGITS:
            self.fail(node, f"number literal longer than {MAX_DIGITS} digits")
        if isinstance(value, float):
            if not math.isfinite(value):
                self.fail(node, f"number {literal!r} is not a finite float64")
            # The decimal the user typed, exactly (1.702 is 851/500), not its binary rounding.
            number = sp.Rational(literal.replace("_", "")) if "e" not in literal.lower() else sp.Rational(repr(value))
        else:
            number = sp.Integer(value)
        return number, number

    def _Name(self, node, depth):
        name = node.id
        if name.startswith("_"):
            self.fail(node, f"name {name!r} not allowed (names starting with _ are refused)")
        if name == "z":
            return z, z
        if name in self.params:
            self.used.add(name)
            return self.params[name], self.params[name]
        if name in CONSTANTS:
            return CONSTANTS[name], CONSTANTS[name]
        if name in FUNCTIONS or name in self.registry:
            self.fail(node, f"{name} is a function: call it, as in {name}(z)")
        hint = f"; declare a parameter with --param {name}=VALUE" if re.fullmatch(r"[A-Za-z]\w*", name) else ""
        self.fail(node, f"unknown name {name!r}: the variable is z{hint}")

    def _UnaryOp(self, node, depth):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            self.fail(node, f"operator not allowed in a formula: {self.segment(node)!r} (use + - * / ** only)")
        t, s = self.build(node.operand, depth)
        return (-t, -s) if isinstance(node.op, ast.USub) else (t, s)

    def _BinOp(self, node, depth):
        ops = {
            ast.Add: lambda a, b: a + b,
            ast.Sub: lambda a, b: a - b,
            ast.Mult: lambda a, b: a * b,
            ast.Div: lambda a, b: a / b,
        }
        a_t, a_s = self.build(node.left, depth)
        b_t, b_s = self.build(node.right, depth)
        if isinstance(node.op, ast.Pow):
            self._check_power(node, a_t, b_t)
            out = a_t**b_t, a_s**b_s
            self._check_size(node, out[0])
            return out
        op = ops.get(type(node.op))
        if op is None:
            self.fail(node, f"operator not allowed in a formula: {self.segment(node)!r} (use + - * / ** only)")
        if isinstance(node.op, ast.Div) and b_t.is_zero:
            self.fail(node.right, "division by zero")
        out = op(a_t, b_t), op(a_s, b_s)
        self._check_size(node, out[0])
        return out

    def _check_power(self, node, base: sp.Expr, exponent: sp.Expr) -> None:
        if exponent.is_number:
            value = sp.N(exponent, 20)
            if not value.is_real:
                self.fail(node.right, "the exponent must be a real number")
            if abs(value) > MAX_EXPONENT:
                self.fail(node.right, f"exponent larger than {MAX_EXPONENT} in magnitude: {self.segment(node.right)!r}")
            if base.is_number and base.is_zero and value < 0:
                self.fail(node, "0 to a negative power (division by zero)")
            if base.is_number:
                size = abs(float(value)) * abs(math.log10(max(abs(float(sp.N(base, 20))), 1e-300)))
                if size >= MAX_CONSTANT_DIGITS:
                    self.fail(node, f"constant {self.segment(node)!r} would have about {size:.0f} digits")

    def _check_size(self, node, expr: sp.Expr) -> None:
        if expr.is_Rational and max(len(str(abs(expr.p))), len(str(expr.q))) > MAX_CONSTANT_DIGITS:
            self.fail(node, f"constant {self.segment(node)!r} has more than {MAX_CONSTANT_DIGITS} digits")
        if expr.is_number and expr.is_real and not expr.is_zero:
            magnitude = abs(sp.N(expr, 20))
            if magnitude > sp.Float("1.7976931348623157e308") or magnitude < sp.Float("2.2250738585072014e-308"):
                self.fail(node, f"constant {self.segment(node)!r} is outside the float64 range")

    def _BoolOp(self, node, depth):
        self.fail(node, f"and/or only inside the condition of where(cond, a, b): {self.segment(node)!r}")

    def _Compare(self, node, depth):
        self.fail(node, f"comparisons only inside where(cond, a, b): {self.segment(node)!r}")

    def _condition(self, node: ast.AST, depth: int) -> tuple[sp.Basic, sp.Basic]:
        if isinstance(node, ast.BoolOp):
            parts = [self._condition(v, depth + 1) for v in node.values]
            fn = sp.And if isinstance(node.op, ast.And) else sp.Or
            return fn(*[p[0] for p in parts]), fn(*[p[1] for p in parts])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            t, s = self._condition(node.operand, depth + 1)
            return sp.Not(t), sp.Not(s)
        if not isinstance(node, ast.Compare):
            self.fail(node, f"the condition of where must be a comparison such as z > 0: {self.segment(node)!r}")
        rel = {ast.Lt: sp.Lt, ast.LtE: sp.Le, ast.Gt: sp.Gt, ast.GtE: sp.Ge}
        terms = [self.build(node.left, depth)] + [self.build(c, depth) for c in node.comparators]
        out_t, out_s = [], []
        for op, (lt, ls), (rt, rs) in zip(node.ops, terms, terms[1:]):
            fn = rel.get(type(op))
            if fn is None:
                self.fail(node, f"comparison not allowed: {self.segment(node)!r} (use <, <=, >, >=)")
            out_t.append(fn(lt, rt))
            out_s.append(fn(ls, rs))
        return sp.And(*out_t), sp.And(*out_s)

    def _Call(self, node, depth):
        if not isinstance(node.func, ast.Name):
            self.fail(node.func, f"only named functions may be called: {self.segment(node.func)!r}")
        name = node.func.id
        if node.keywords:
            self.fail(node, f"{name}() takes no keyword arguments")
        if any(isinstance(a, ast.Starred) for a in node.args):
            self.fail(node, f"{name}() takes no starred arguments")
        if name in FUNCTIONS:
            nargs, fn = FUNCTIONS[name]
        elif name in self.registry:
            nargs, fn = 1, None
        else:
            self.fail(
                node.func,
                f"unknown function {name!r}; allowed: {', '.join(vocabulary())}",
            )
        if len(node.args) != nargs:
            self.fail(node, f"{name}() takes {nargs} argument{'s' * (nargs > 1)}, got {len(node.args)}")
        self.used.add(name)
        if name == "where":
            cond_t, cond_s = self._condition(node.args[0], depth)
            a_t, a_s = self.build(node.args[1], depth)
            b_t, b_s = self.build(node.args[2], depth)
            if cond_t in (sp.true, sp.false):
                return (a_t, a_s) if cond_t == sp.true else (b_t, b_s)
            return sp.Piecewise((a_t, cond_t), (b_t, True)), sp.Piecewise((a_s, cond_s), (b_s, True))
        args = [self.build(a, depth) for a in node.args]
        if fn is not None:
            return fn(*[a[0] for a in args]), fn(*[a[1] for a in args])
        entry = self.registry[name]
        # The registry's own parameters are bound at their defaults (they must not capture the user's).
        (u_t, u_s) = args[0]
        textbook = with_params(entry.f, entry.params, exact=True).subs(z, u_t)
        stable = with_params(entry.code_f, entry.params, exact=True).subs(z, u_s)
        return textbook, stable


def _prepare_text(text) -> str:
    if not isinstance(text, str):
        raise FormulaError(f"the formula must be a string, got {type(text).__name__}")
    for typographic, ascii_char in TYPOGRAPHIC.items():
        text = text.replace(typographic, ascii_char)
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"formula longer than {MAX_LENGTH} characters ({len(text)})")
    if not text.strip():
        raise FormulaError("empty formula: write an expression in z, such as z*sigmoid(z)")
    for i, ch in enumerate(text):
        if ord(ch) > 127:
            raise FormulaError(
                f"non-ASCII character {ch!r} (U+{ord(ch):04X}); write formulas in ASCII (z**2, not z²)", text, i + 1
            )
        if ch in "\r\n\t\f\v\x00" or (ord(ch) < 32):
            raise FormulaError(f"control character {ch!r} in the formula; write it on one line", text, i + 1)
    # A formula's z^2 means z**2; replaced before parsing so that 1 - z^2 keeps the power's
    # precedence (Python's ^ would bind looser than -).
    text = text.strip().replace("^", "**")
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth > MAX_DEPTH:
            raise FormulaError(f"formula nested more than {MAX_DEPTH} brackets deep", text, i + 1)
    return text


def parse(text: str, params: dict[str, float] | None = None) -> Parsed:
    """Parse ``text`` (a formula in z) into SymPy, running nothing; raise FormulaError otherwise."""
    params = dict(params or {})
    for name in params:
        check_param_name(name)
    symbols = {name: sp.Symbol(name, positive=True) for name in params}
    text = _prepare_text(text)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        col = exc.offset if exc.offset and exc.lineno == 1 else None
        raise FormulaError(f"not a formula: {exc.msg}", text, col) from None
    except (ValueError, MemoryError, RecursionError) as exc:  # e.g. null bytes, absurd nesting
        raise FormulaError(f"not a formula: {exc}") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise FormulaError(f"formula too large: {count} syntax nodes (at most {MAX_NODES})")
    builder = _Builder(text, symbols)
    textbook, stable = builder.build(tree)
    if not isinstance(textbook, sp.Expr):
        raise FormulaError("the formula must be a number-valued expression in z")
    if textbook.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise FormulaError("the formula is undefined (it simplifies to infinity or NaN)")
    if textbook.has(sp.I):
        raise FormulaError("the formula is complex-valued (the square root or log of a negative constant)")
    if z not in textbook.free_symbols:
        raise FormulaError("the formula does not depend on z (an activation is a function of z)")
    unused = sorted(set(params) - builder.used)
    if unused:
        raise FormulaError(f"parameter {unused[0]!r} is declared but the formula does not use it")
    functions = tuple(sorted(builder.used - set(params)))
    return Parsed(text, textbook, stable, functions, symbols)
