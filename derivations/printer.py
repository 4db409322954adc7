"""lambdify's SciPy printer, taught nnref's conventions.

* Stable nodes print themselves (``scipy.special.expit``, ``numpy.logaddexp(0, u)``, ...): the
  printer dispatches on ``isinstance(expr, StableFunction)``.
* A node's large constant (a Taylor patch's coefficients) becomes a named module constant through
  ``printer.constant``, printed once above the functions that use it.
* ``Piecewise`` prints as nested ``numpy.where`` (every branch is still evaluated on every input,
  which is why the derivations guard unused branches with ``min``/``max``). It never prints as
  ``numpy.select(..., default=nan)``: a gap in the conditions would silently fill with NaN.
  An indicator, ``Piecewise((1, c), (0, True))`` (relu', the step), prints as
  ``c.astype(numpy.float64)``, four times faster than ``where`` with scalar branches.
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
        if isinstance(e, StableFunction):
            if all(a.is_number for a in e.args):  # e.g. sigmoid(0)
                return sp.Float(float(sp.N(e, 50)))
            if e.exact_args is True:
                return e  # the node splits its own constants into float64 pairs (sigmoid_scaled)
            if e.exact_args:  # these positions only (sigmoid_cubic's c); the rest fold as usual
                return e.func(*[a if i in e.exact_args else fold(a) for i, a in enumerate(e.args)])
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
    """The printer. ``constants`` collects the named constants its nodes ask for (see ``constant``)."""

    def __init__(self, prefix: str = ""):
        super().__init__({"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": False})
        #: Names start with this (the function being printed, e.g. "GELU_DF"), so they explain themselves.
        self.prefix = prefix
        #: name -> (values, comment), in the order first asked for.
        self.constants: dict[str, tuple[tuple[float, ...], str]] = {}

    def _print(self, expr, **kwargs):
        if isinstance(expr, StableFunction):
            return expr.numpy_code(self)
        return super()._print(expr, **kwargs)

    def constant(self, kind: str, values: tuple[float, ...], about: float) -> str:
        """The module constant holding ``values`` (one per distinct table), e.g. TAYLOR_GELU_DF."""
        for name, (known, _) in self.constants.items():
            if known == values:
                return name
        base = "_".join(part for part in (kind, self.prefix.upper()) if part)
        name, n = base, 1
        while name in self.constants:
            n += 1
            name = f"{base}_{n}"
        comment = f"c_0 … c_{len(values) - 1} of the Taylor polynomial about z0 = {about!r} (derivations/taylor.py)"
        self.constants[name] = (values, comment)
        return name

    def constants_source(self) -> str:
        """The constants as module-level assignments, one documented tuple each."""
        out = []
        for name, (values, comment) in self.constants.items():
            body = "".join(f"    {v!r},\n" for v in values)
            out.append(f"#: {comment}\n{name} = (\n{body})\n")
        return "\n".join(out)

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Rational(self, expr):
        return repr(float(expr))

    def _print_Piecewise(self, expr):
        *branches, (last_value, last_cond) = expr.args
        if last_cond is not sp.true:
            raise ValueError(f"Piecewise without a final (expr, True) clause: {expr}")

        if len(branches) == 1 and branches[0][0] == 1 and last_value == 0:
            # An indicator (relu', the step): the comparison itself, as 0.0/1.0, is a quarter of the
            # time of where(c, 1.0, 0.0), whose scalar branches take NumPy's slow broadcasting path.
            return f"{self._print(branches[0][1])}.astype(numpy.float64)"

        # Integer branch values print as floats: where(z > 0, 1, 0) would be an int64 array.
        def value(v):
            return repr(float(v)) if v.is_Integer else self._print(v)

        code = value(last_value)
        for v, cond in reversed(branches):
            code = f"numpy.where({self._print(cond)}, {value(v)}, {code})"
        return code

    def _print_Mul(self, expr):
        """A product with its numeric coefficient last, the other factors in SymPy's order.

        Python multiplies left to right, so a coefficient taken first can overflow a huge factor
        before a vanishing one is reached: mish'' at z = 1e308 computed 2*z = inf, then
        inf * sech²(...) = 0 gave NaN. Last, it multiplies what the other factors made of z.
        """
        coeff, rest = expr.as_coeff_Mul()
        sign = "-" if coeff < 0 else ""
        coeff = -coeff if coeff < 0 else coeff
        numerator, denominator = [], []
        for factor in rest.as_ordered_factors() if rest != 1 else ():  # never re-evaluated: (z + 3)/6 stays
            if factor.is_Pow and factor.exp.is_Rational and factor.exp.is_negative:
                denominator.append(
                    factor.base if factor.exp == -1 else sp.Pow(factor.base, -factor.exp, evaluate=False)
                )
            else:
                numerator.append(factor)
        numerator.sort(key=lambda f: 1 if f.is_number else 0)
        if coeff != 1 or not numerator:
            numerator.append(coeff)
        prec = PRECEDENCE["Mul"]
        if len(numerator) == 1 and sign and not denominator:
            # Python's unary minus binds tighter than * and looser than **.
            return sign + self.parenthesize(numerator[0], 0.5 * (PRECEDENCE["Pow"] + prec))
        top = "*".join(self.parenthesize(f, prec) for f in numerator)
        if not denominator:
            return sign + top
        bottom = [self.parenthesize(f, prec) for f in denominator]
        if len(bottom) == 1 and not (isinstance(denominator[0], sp.Mul) or denominator[0].is_Add):
            return f"{sign}{top}/{bottom[0]}"
        return f"{sign}{top}/({'*'.join(bottom)})"

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
        if exp.is_Integer and exp < 0:
            if exp == -1:
                return f"1/{self.parenthesize(base, PRECEDENCE['Pow'])}"
            return f"1/{self.parenthesize(base, PRECEDENCE['Pow'])}**{int(-exp)}"
        if exp.is_Integer:
            return f"{self.parenthesize(base, PRECEDENCE['Pow'])}**{int(exp)}"
        return super()._print_Pow(expr, rational=rational)


def numpy_code(expr: sp.Expr, printer: NnrefPrinter | None = None) -> str:
    """The NumPy source of one expression (constants folded, nodes printed). Without a printer,
    a fresh one: any constant it names is then not kept (the golden tests print single nodes)."""
    return (printer or NnrefPrinter()).doprint(fold_constants(expr))
