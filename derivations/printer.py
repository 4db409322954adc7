"""lambdify's SciPy printer, taught nnref's conventions.

* Stable blocks print themselves (``scipy.special.expit``, ``numpy.logaddexp(0, u)``, ...).
* ``Piecewise`` prints as nested ``numpy.where`` (every branch is still evaluated on every input,
  which is why the derivations guard unused branches with ``min``/``max``). It never prints as
  ``numpy.select(..., default=nan)``: a gap in the conditions would silently fill with NaN.
* Every numeric constant (``sqrt(2/pi)``, SELU's λα, 1/6) is evaluated at 50 digits and rounded
  once to the nearest float64, printed with ``repr`` so that it reads back exactly.
* ``Max``/``Min`` of two arguments print as ``numpy.maximum``/``numpy.minimum``.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import SciPyPrinter
from sympy.printing.precedence import PRECEDENCE

from derivations.functions import StableFunction


def fold_constants(expr: sp.Expr) -> sp.Expr:
    """Replace every maximal numeric subexpression that is not an integer by one rounded Float."""

    def fold(e):
        if getattr(e, "exact_args", False) and not e.args[0].is_number:
            return e  # the block splits its own constants into float64 pairs (expit_scaled)
        if isinstance(e, StableFunction) and e.args[0].is_number:  # e.g. sigmoid(0)
            return sp.Float(float(sp.N(e, 50)))
        if e.is_number and not e.is_Integer and not isinstance(e, sp.Float):
            if e.is_Rational and e.q in (2, 4, 8):  # exact in binary: keep as written
                return sp.Float(float(e))
            value = sp.N(e, 50)
            if value.is_real:
                return sp.Float(float(value))
            return e
        if not e.args or isinstance(e, (sp.Symbol, sp.Float)):
            return e
        if isinstance(e, sp.Piecewise):  # nested (inside a sum or product)
            return sp.Piecewise(*[(fold(v), c) for v, c in e.args])
        args = [fold(a) for a in e.args]
        if isinstance(e, (sp.Mul, sp.Add)):
            numeric = [a for a in e.args if a.is_number]
            if len(numeric) > 1:
                rest = [fold(a) for a in e.args if not a.is_number]
                args = [fold(e.func(*numeric))] + rest
        return e.func(*args, evaluate=False)

    if isinstance(expr, sp.Piecewise):
        return sp.Piecewise(*[(fold_constants(v), c) for v, c in expr.args])
    return fold(expr)


class NnrefPrinter(SciPyPrinter):
    def __init__(self):
        super().__init__({"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": False})

    def _print(self, expr, **kwargs):
        if isinstance(expr, sp.Function) and hasattr(expr, "numpy_code"):
            return expr.numpy_code(self)
        return super()._print(expr, **kwargs)

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Rational(self, expr):
        return repr(float(expr))

    def _print_Piecewise(self, expr):
        *branches, (last_value, last_cond) = expr.args
        if last_cond is not sp.true:
            raise ValueError(f"Piecewise without a final (expr, True) clause: {expr}")

        # Integer branch values print as floats: where(z > 0, 1, 0) would be an int64 array.
        def value(v):
            return repr(float(v)) if v.is_Integer else self._print(v)

        code = value(last_value)
        for v, cond in reversed(branches):
            code = f"numpy.where({self._print(cond)}, {value(v)}, {code})"
        return code

    def _print_Max(self, expr):
        return self._minmax("numpy.maximum", expr.args)

    def _print_Min(self, expr):
        return self._minmax("numpy.minimum", expr.args)

    def _minmax(self, fn, args):
        # The array first, the constants last: numpy.maximum(z, 0) is faster than numpy.maximum(0, z).
        args = sorted(args, key=lambda a: a.is_number)
        code = self._print(args[-1])
        for a in reversed(args[:-1]):
            code = f"{fn}({self._print(a)}, {code})"
        return code

    def _print_Abs(self, expr):
        return f"numpy.abs({self._print(expr.args[0])})"

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.args
        if exp == sp.Rational(1, 2):
            return f"numpy.sqrt({self._print(base)})"
        if exp.is_Integer and exp < 0:
            if exp == -1:
                return f"1/{self.parenthesize(base, PRECEDENCE['Pow'])}"
            return f"1/{self.parenthesize(base, PRECEDENCE['Pow'])}**{int(-exp)}"
        if exp.is_Integer:
            return f"{self.parenthesize(base, PRECEDENCE['Pow'])}**{int(exp)}"
        return super()._print_Pow(expr, rational=rational)


_PRINTER = NnrefPrinter()


def numpy_code(expr: sp.Expr) -> str:
    """The NumPy source of one expression (constants folded, blocks printed)."""
    return _PRINTER.doprint(fold_constants(expr))
