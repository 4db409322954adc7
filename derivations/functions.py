"""Stable nodes: the SymPy functions that the generated code evaluates in a stable way.

Every node is a :class:`StableFunction`, one base class that knows five things:

* its textbook definition (``textbook_of``), so that ``simplify(to_textbook(stable) - raw) == 0``
  proves a stable form equal to the raw one, and mpmath evaluates it (``evalf``);
* its derivative (``fdiff``), written in terms of other stable nodes, so that ``sympy.diff`` of a
  stable form is itself a stable form;
* how it prints to NumPy/SciPy (``numpy_code``), pinned by golden strings in the tests so a SymPy
  upgrade or a stray ``simplify()`` cannot bring an overflow back;
* how it typesets in LaTeX;
* whether constant folding may touch its arguments (``exact_args``: ``sigmoid_scaled`` splits its
  constant into two float64s itself).

The printer dispatches on ``isinstance(expr, StableFunction)``, and common-subexpression
elimination treats every node as an atom (``derivations/codegen.py``), so neither can take a node
apart and rebuild the textbook form it replaces.

Measured with SymPy 1.14: ``log(1 + exp(z))`` printed naively overflows at z = 800, and SymPy's own
rewrite passes turn it into ``log1p(exp(z))``, which still does. Hence nodes rather than rewrites.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import sympy as sp


@dataclass(frozen=True)
class Form:
    """Another way to compute a stable node, written in SymPy: ``build(u)`` is an expression of u
    that equals the node's textbook definition (``derivations/forms.py`` proves it, measures it
    against mpmath and counts its cost, and `nnref derive` prints the cheapest accurate one)."""

    label: str
    build: Callable[[sp.Expr], sp.Expr]


def _e(u: sp.Expr, k: int = 1) -> sp.Expr:
    """exp(−k|u|): never above 1, so nothing built from it overflows."""
    return sp.exp(-k * sp.Abs(u))


def _signed(u: sp.Expr) -> sp.Expr:
    """u without a constant factor, with u's sign: the test u ≥ 0 then compares no rounded product."""
    coeff, rest = u.as_independent(*u.free_symbols, as_Add=False)
    if rest == 1 or not coeff.is_number or coeff == 0:
        return u
    return rest if coeff.is_positive else -rest


class StableFunction(sp.Function):
    """A SymPy function with a textbook definition and its own NumPy printing."""

    nargs = 1
    #: How the node prints: ``{0}``, ``{1}``, ... are replaced by the printed arguments.
    numpy_template: ClassVar[str] = ""
    #: How the node typesets in LaTeX: ``{0}``, ... are replaced by the typeset arguments.
    latex_template: ClassVar[str] = ""
    #: Why the textbook form is not used in floating point (shown on the docs pages).
    why: ClassVar[str] = ""
    #: Constant folding leaves the arguments exactly as written (the node rounds them itself): all
    #: of them (True) or those at the given positions.
    exact_args: ClassVar[bool | tuple[int, ...]] = False
    #: Other forms of the node, written in SymPy; the node's own printing (``numpy_template``) is
    #: the first candidate, and `nnref derive` prints whichever is cheapest within the accuracy bar.
    forms: ClassVar[tuple[Form, ...]] = ()

    @classmethod
    def textbook_of(cls, *args: sp.Expr) -> sp.Expr:
        """The textbook expression this node stands for, at the given arguments."""
        raise NotImplementedError

    def textbook(self) -> sp.Expr:
        return self.textbook_of(*self.args)

    def numpy_code(self, printer) -> str:
        return self.numpy_template.format(*[printer._print(a) for a in self.args])

    def _latex(self, printer, exp=None):
        tex = self.latex_template.format(*[printer._print(a) for a in self.args])
        return tex if exp is None else r"\left(%s\right)^{%s}" % (tex, exp)

    def _eval_is_real(self):
        return self.args[0].is_extended_real

    def _eval_evalf(self, prec):
        return self.textbook()._eval_evalf(prec)

    def _eval_rewrite_as_exp(self, *args, **kwargs):
        return self.textbook_of(*args)


class _PositiveOnReals(StableFunction):
    """A node that is positive wherever its argument is real (σ, softplus, sech², Φ, φ)."""


class sigmoid(_PositiveOnReals):
    r"""The logistic function :math:`\sigma(u) = 1/(1 + e^{-u})`."""

    latex_template = r"\sigma\left({0}\right)"
    numpy_template = "scipy.special.expit({0})"
    why = "1/(1 + exp(-u)) overflows exp(-u) for u < -709 (a warning, and NaN in its derivative)."
    forms = (
        Form(
            "the textbook 1/(1 + exp(−u)): below u = −709.78 exp(−u) overflows to inf and σ to 0, the "
            "correct rounding of a subnormal; the overflow is a warning the runtime quiets",
            lambda u: 1 / (1 + sp.exp(-u)),
        ),
        Form(
            "one exp of −|u|: where(u ≥ 0, 1, e)/(1 + e), e = exp(−|u|)",
            lambda u: sp.Piecewise((1, _signed(u) >= 0), (_e(u), True)) / (1 + _e(u)),
        ),
    )

    @classmethod
    def textbook_of(cls, u):
        return 1 / (1 + sp.exp(-u))

    def fdiff(self, argindex=1):
        u = self.args[0]
        return sigmoid(u) * sigmoid(-u)


class dsigmoid(_PositiveOnReals):
    r"""The logistic function's derivative :math:`\sigma'(u) = \sigma(u)\,\sigma(-u)`.

    The printer writes every product σ(u)·σ(−u) as this node (``derivations/forms.py``), so that it
    can be computed from one exponential rather than two sigmoids."""

    latex_template = r"\sigma'\left({0}\right)"
    numpy_template = "scipy.special.expit({0})*scipy.special.expit(-({0}))"
    why = "e^{-u}/(1 + e^{-u})² is inf/inf = NaN for u < -709, and σ(u)(1 − σ(u)) cancels for u > 37."
    forms = (
        Form("one exp: e/(1 + e)², e = exp(−|u|)", lambda u: _e(u) / (1 + _e(u)) ** 2),
        Form("σ(u)(1 − σ(u)), σ as printed", lambda u: sigmoid(u) * (1 - sigmoid(u))),
    )

    @classmethod
    def textbook_of(cls, u):
        return sp.exp(-u) / (1 + sp.exp(-u)) ** 2

    def fdiff(self, argindex=1):
        u = self.args[0]
        return -dsigmoid(u) * tanh(u / 2)


class softplus(_PositiveOnReals):
    r"""Softplus :math:`\log(1 + e^{u})`, evaluated as ``logaddexp(0, u)``."""

    latex_template = r"\operatorname{{softplus}}\left({0}\right)"
    numpy_template = "numpy.logaddexp(0, {0})"
    why = "log(1 + exp(u)) returns inf at u = 800, and log1p(exp(u)) does too."
    forms = (
        Form("max(u, 0) + log1p(exp(−|u|))", lambda u: sp.Max(u, 0) + log1p(_e(u))),
        Form("log1p(exp(u))", lambda u: log1p(sp.exp(u))),
    )

    @classmethod
    def textbook_of(cls, u):
        return sp.log(1 + sp.exp(u))

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])


class sech2(_PositiveOnReals):
    r"""The squared hyperbolic secant :math:`\operatorname{sech}^2 u = 1 - \tanh^2 u`.

    Of a softplus it becomes ``sech2_softplus`` (mish's derivatives): composed, the rounding of
    softplus(u) ≈ u would be magnified 2|u| times.
    """

    latex_template = r"\operatorname{{sech}}^{{2}}\left({0}\right)"
    numpy_template = "nnref._primitives.sech2({0})"
    why = (
        "1 - tanh(u)**2 cancels to exactly 0 once tanh(u) rounds to 1 (u > 19.1), where the true "
        "value is still 1.7e-17 at u = 20 and 1.1e-260 at u = 300. The primitive forms 4e/(1 + e)² "
        "from one e = exp(−2|u|): no subtraction, no overflow, and 3.2 ULP at worst where 1/cosh(u)² "
        "measures 4.2."
    )
    forms = (Form("inline: 4e/(1 + e)², e = exp(−2|u|)", lambda u: 4 * _e(u, 2) / (1 + _e(u, 2)) ** 2),)

    @classmethod
    def eval(cls, u):
        if isinstance(u, softplus):
            return sech2_softplus(u.args[0])

    @classmethod
    def textbook_of(cls, u):
        return 1 - sp.tanh(u) ** 2

    def fdiff(self, argindex=1):
        u = self.args[0]
        return -2 * tanh(u) * sech2(u)


class sech2_softplus(_PositiveOnReals):
    r""":math:`\operatorname{sech}^2(\operatorname{softplus} u)`, formed from one exponential of u."""

    latex_template = r"\operatorname{{sech}}^{{2}}\left(\operatorname{{softplus}}\left({0}\right)\right)"
    numpy_template = "nnref._primitives.sech2_softplus({0})"
    why = (
        "sech²(softplus(u)) ≈ 4e^(−2 softplus(u)) magnifies the rounding of softplus(u) ≈ u 2|u| times "
        "(mish'' 45.6 ULP at u = 33.4); with q = e^(−|u|) it is a rational function of q, no subtraction."
    )

    @classmethod
    def textbook_of(cls, u):
        return 1 - sp.tanh(softplus.textbook_of(u)) ** 2

    def fdiff(self, argindex=1):
        u = self.args[0]
        return -2 * tanh(softplus(u)) * sech2_softplus(u) * sigmoid(u)


class tanh(StableFunction):
    r"""The hyperbolic tangent, differentiating into :math:`\operatorname{sech}^2` rather than ``1 - tanh**2``."""

    latex_template = r"\tanh\left({0}\right)"
    numpy_template = "numpy.tanh({0})"

    @classmethod
    def textbook_of(cls, u):
        return sp.tanh(u)

    def fdiff(self, argindex=1):
        return sech2(self.args[0])


class ncdf(_PositiveOnReals):
    r"""The standard normal CDF :math:`\Phi(u) = \tfrac12 \operatorname{erfc}(-u/\sqrt2)`.

    Evaluated by nnref's own primitive, which corrects the rounding of ``-u/sqrt(2)`` and SciPy's
    ``erfc`` in the far left tail (see ``nnref._primitives.ndtr``).
    """

    latex_template = r"\Phi\left({0}\right)"
    numpy_template = "nnref._primitives.ndtr({0})"
    why = (
        "(1 + erf(u/sqrt(2)))/2 cancels to 0 for u < -8.3; erfc(-u/sqrt(2))/2 avoids that but the "
        "rounding of -u/sqrt(2) and SciPy's erfc cost up to 1,558 ULP near u = -36."
    )

    @classmethod
    def textbook_of(cls, u):
        return (1 + sp.erf(u / sp.sqrt(2))) / 2

    def fdiff(self, argindex=1):
        u = self.args[0]
        return npdf(u)


class npdf(_PositiveOnReals):
    r"""The standard normal density :math:`\varphi(u) = e^{-u^2/2}/\sqrt{2\pi}`."""

    latex_template = r"\varphi\left({0}\right)"
    numpy_template = "nnref._primitives.npdf({0})"
    why = "exp(-u**2/2) loses up to |u|**2 ULP to the rounding of u**2; the primitive squares exactly."

    @classmethod
    def textbook_of(cls, u):
        return sp.exp(-(u**2) / 2) / sp.sqrt(2 * sp.pi)

    def fdiff(self, argindex=1):
        u = self.args[0]
        return -u * npdf(u)


class xncdf(StableFunction):
    r""":math:`u\,\Phi(u)`, formed before Φ's tail underflows (GELU itself)."""

    latex_template = r"{0}\,\Phi\left({0}\right)"
    numpy_template = "nnref._primitives.x_ndtr({0})"
    why = "u·Φ(u) is a normal number down to u ≈ −37.7 where Φ(u) alone is already subnormal."

    @classmethod
    def textbook_of(cls, u):
        return u * ncdf.textbook_of(u)

    def fdiff(self, argindex=1):
        u = self.args[0]
        return ncdf(u) + xnpdf(u)


class xnpdf(StableFunction):
    r""":math:`u\,\varphi(u)`, formed before φ's tail underflows, and 0 (not inf·0) for huge |u|."""

    latex_template = r"{0}\,\varphi\left({0}\right)"
    numpy_template = "nnref._primitives.x_npdf({0})"
    why = "u·φ(u) stays normal where φ(u) is subnormal, and is 0 rather than NaN at |u| = 1e308."

    @classmethod
    def textbook_of(cls, u):
        return u * npdf.textbook_of(u)

    def fdiff(self, argindex=1):
        u = self.args[0]
        return npdf(u) - x2npdf(u)


class x2npdf(StableFunction):
    r""":math:`u^2\varphi(u)`, formed before φ's tail underflows."""

    latex_template = r"{0}^{{2}}\,\varphi\left({0}\right)"
    numpy_template = "nnref._primitives.x2_npdf({0})"
    why = "u²·φ(u) is normal up to u ≈ 37.9, where φ(u) alone is subnormal (gelu'' lost 306 ULP there)."

    @classmethod
    def textbook_of(cls, u):
        return u**2 * npdf.textbook_of(u)

    def fdiff(self, argindex=1):
        u = self.args[0]
        return 2 * xnpdf(u) - u * x2npdf(u)


class expm1(StableFunction):
    r""":math:`e^u - 1` without cancellation near 0."""

    latex_template = r"\operatorname{{expm1}}\left({0}\right)"
    numpy_template = "numpy.expm1({0})"
    why = "exp(u) - 1 cancels near u = 0: relative error up to 1e16 ULP for |u| < 1e-16."

    @classmethod
    def textbook_of(cls, u):
        return sp.exp(u) - 1

    def fdiff(self, argindex=1):
        return sp.exp(self.args[0])


class log1p(StableFunction):
    r""":math:`\log(1 + u)` without cancellation near 0."""

    latex_template = r"\operatorname{{log1p}}\left({0}\right)"
    numpy_template = "numpy.log1p({0})"
    why = "log(1 + u) loses u entirely once 1 + u rounds to 1."

    @classmethod
    def textbook_of(cls, u):
        return sp.log(1 + u)

    def fdiff(self, argindex=1):
        return 1 / (1 + self.args[0])


class hypot(StableFunction):
    r""":math:`\sqrt{a^2 + b^2}` without overflow or underflow of the squares (``numpy.hypot``)."""

    nargs = 2
    latex_template = r"\sqrt{{\left({0}\right)^{{2}} + \left({1}\right)^{{2}}}}"
    numpy_template = "numpy.hypot({0}, {1})"
    why = "sqrt(a**2 + b**2) overflows once a**2 does (|a| > 1.3e154) and loses a tiny b² to underflow."

    @classmethod
    def textbook_of(cls, a, b):
        return sp.sqrt(a**2 + b**2)

    def fdiff(self, argindex=1):
        return self.args[argindex - 1] / self

    def _eval_is_real(self):
        return all(a.is_extended_real for a in self.args) or None

    def _eval_is_nonnegative(self):
        if all(a.is_extended_real for a in self.args):
            return True

    def _eval_is_positive(self):
        if all(a.is_extended_real for a in self.args) and any(a.is_nonzero for a in self.args):
            return True


def _float_pair(c) -> str:
    """An exact constant as the two float64s ``hi, lo`` with hi = fl(c) and hi + lo = c to 30 digits,
    printed for a primitive that takes a constant float64 cannot hold."""
    hi = float(c)
    return f"{hi!r}, {float(sp.N(c - sp.Rational(hi), 30))!r}"


class exp_neg_square(StableFunction):
    r""":math:`e^{-c v^2}` for a constant c > 0, printed as ``nnref._primitives.exp_neg_square``,
    which forms c·v² exactly as a double-double: the rounding of v² (and of c·v², and of c itself
    when float64 cannot hold it) would cost up to c v² ULP, 700 ULP where the value is still normal.

    Two arguments (v, c) for the reason ``sigmoid_scaled`` has them (``exact_args``).
    """

    nargs = 2
    exact_args = True
    why = "exp(-c·u²) loses up to c·u² ULP (700 near underflow) to the rounding of u² and c·u²; the primitive forms c·u² exactly."

    @classmethod
    def textbook_of(cls, v, c):
        return sp.exp(-c * v**2)

    def fdiff(self, argindex=1):
        v, c = self.args
        return -2 * c * v * exp_neg_square(v, c)

    def numpy_code(self, printer) -> str:
        v, c = self.args
        return f"nnref._primitives.exp_neg_square({printer._print(v)}, {_float_pair(c)})"

    def _latex(self, printer, exp=None):
        v, c = self.args
        tex = rf"e^{{-{printer._print(c * v**2)}}}"
        return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"

    def _eval_is_positive(self):
        if self.args[0].is_extended_real:
            return True


class _TwoArgs(StableFunction):
    """A node of two real arguments (x, u)."""

    nargs = 2

    def _eval_is_real(self):
        return all(a.is_extended_real for a in self.args) or None


class xdivy(_TwoArgs):
    r""":math:`x/u`, and 0 wherever x = 0 (u = 0 included): the derivative of :math:`x\log u` under
    the convention :math:`0 \log 0 = 0`."""

    latex_template = r"\frac{{{0}}}{{{1}}}"
    numpy_template = "nnref._primitives.xdivy({0}, {1})"
    why = "x/u is 0/0 = NaN at x = u = 0, where the 0·log 0 = 0 convention makes the term 0."

    @classmethod
    def textbook_of(cls, x, u):
        return x / u

    def fdiff(self, argindex=1):
        x, u = self.args
        return 1 / u if argindex == 1 else -xdivy(x, u**2)


class xlogy(_TwoArgs):
    r""":math:`x \log u`, and 0 wherever x = 0 (``scipy.special.xlogy``): the convention
    :math:`0 \log 0 = 0` that makes a cross-entropy finite at a certain, correct prediction."""

    latex_template = r"{0} \log\left({1}\right)"
    numpy_template = "scipy.special.xlogy({0}, {1})"
    why = "x·log(u) is 0·(−inf) = NaN at x = u = 0, where the term is 0 (0·log 0 = 0)."

    @classmethod
    def textbook_of(cls, x, u):
        return x * sp.log(u)

    def fdiff(self, argindex=1):
        x, u = self.args
        return sp.log(u) if argindex == 1 else xdivy(x, u)


class xlog1py(_TwoArgs):
    r""":math:`x \log(1 + u)`, and 0 wherever x = 0 (``scipy.special.xlog1py``): log1p keeps a
    tiny u, and 0·log 0 = 0 as in ``xlogy``."""

    latex_template = r"{0} \operatorname{{log1p}}\left({1}\right)"
    numpy_template = "scipy.special.xlog1py({0}, {1})"
    why = "x·log1p(u) is 0·(−inf) = NaN at x = 0, u = −1, where the term is 0 (0·log 0 = 0)."

    @classmethod
    def textbook_of(cls, x, u):
        return x * sp.log(1 + u)

    def fdiff(self, argindex=1):
        x, u = self.args
        return log1p(u) if argindex == 1 else xdivy(x, 1 + u)


class sigmoid_minus(_TwoArgs):
    r""":math:`\sigma(z) - y`, the gradient of binary cross-entropy from logits, printed as
    ``nnref._primitives.expit_minus``: no subtraction at all for y ∈ {0, 1}, and formed in
    double-double arithmetic where a soft label y comes close to σ(z)."""

    latex_template = r"\sigma\left({0}\right) - {1}"
    numpy_template = "nnref._primitives.expit_minus({0}, {1})"
    why = (
        "σ(z) − y cancels near σ(z) = y for a soft label y: the rounding of σ(z) is magnified "
        "σ(z)/|σ(z) − y| times (12.8 ULP at z = −1, y = 0.3). The primitive forms the difference in "
        "double-double arithmetic there, which keeps it within 3 ULP until σ(z) and y agree in 50 "
        "bits; closer still its error is 2⁻¹⁰³ σ(z) at most."
    )

    @classmethod
    def textbook_of(cls, z, y):
        return 1 / (1 + sp.exp(-z)) - y

    def fdiff(self, argindex=1):
        z, _ = self.args
        return sigmoid(z) * sigmoid(-z) if argindex == 1 else sp.Integer(-1)


class sigmoid_scaled(StableFunction):
    r"""σ(c·v) for a constant c that is not a float64 (``z*sigmoid(1.702*z)``), printed as
    ``nnref._primitives.expit_scaled``, which does not lose |c v|/2 ULP to the rounding of c·v.

    Two arguments (v, c) rather than one product, so that neither constant folding nor CSE can
    round c·v before the primitive sees c exactly (``exact_args``).
    """

    nargs = 2
    exact_args = True
    why = "σ(c·z) for a constant c that float64 cannot hold loses |c z|/2 ULP to the rounding of c·z."

    @classmethod
    def textbook_of(cls, v, c):
        return 1 / (1 + sp.exp(-c * v))

    def fdiff(self, argindex=1):
        v, c = self.args
        return c * sigmoid_scaled(v, c) * sigmoid_scaled(v, -c)

    def numpy_code(self, printer) -> str:
        v, c = self.args
        return f"nnref._primitives.expit_scaled({printer._print(v)}, {_float_pair(c)})"

    def _latex(self, printer, exp=None):
        v, c = self.args
        tex = rf"\sigma\left({printer._print(c * v)}\right)"
        return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"

    def _eval_is_positive(self):
        if self.args[0].is_extended_real:
            return True


class sigmoid_cubic(StableFunction):
    r""":math:`m\,\sigma(c(v + k v^3))` for constants c and k (GELU-tanh's gate, times a multiplier m),
    printed as ``nnref._primitives.expit_cubic``, which forms the argument as a double-double and
    multiplies by m before the tail of σ turns subnormal.

    σ(x) has condition number |x|σ(−x): the rounding of x = c(v + kv³) costs up to |x|/2 ULP (810
    in gelu_tanh at z = −18), and below x ≈ −708 σ(x) is subnormal while m·σ(x) (gelu_tanh's f, f'
    and f'' down to z ≈ −21.4) is still normal. The derivative keeps its factors inside m, so every
    derivative is again one node per term (``_eval_derivative``). Four arguments (v, c, k, m): c
    is split into a float64 pair by the primitive, as ``sigmoid_scaled``'s is (``exact_args``).
    """

    nargs = 4
    exact_args = (1,)
    why = (
        "σ(x) loses |x|/2 ULP to the rounding of x = c(v + kv³), and m·σ(x) is normal below x ≈ −708 where "
        "σ(x) alone is subnormal: the primitive forms x as a double-double and multiplies by m first."
    )

    @classmethod
    def textbook_of(cls, v, c, k, m):
        return m / (1 + sp.exp(-c * (v + k * v**3)))

    def _eval_derivative(self, s):
        v, c, k, m = self.args
        return sigmoid_cubic(v, c, k, sigmoid_cubic_slope(v, c, k, m * sp.diff(v, s), sp.diff(m, s)))

    def fdiff(self, argindex=1):
        v, c, k, m = self.args
        if argindex == 1:
            return sigmoid_cubic(v, c, k, sigmoid_cubic_slope(v, c, k, m, 0))
        if argindex == 4:
            return sigmoid_cubic(v, c, k, 1)
        raise ValueError("sigmoid_cubic: c and k are constants")

    def numpy_code(self, printer) -> str:
        v, c, k, m = self.args
        return (
            f"nnref._primitives.expit_cubic({printer._print(v)}, {_float_pair(c)}, {float(k)!r}, {printer._print(m)})"
        )

    def _latex(self, printer, exp=None):
        v, c, k, m = self.args
        gate = rf"\sigma\left({printer._print(c * (v + k * v**3))}\right)"
        tex = gate if m == 1 else rf"\left({printer._print(m)}\right) {gate}"
        return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"

    def _eval_is_real(self):
        return all(a.is_extended_real for a in self.args) or None


class sigmoid_cubic_slope(StableFunction):
    r""":math:`a + m\,c(1 + 3kv^2)\,\sigma(-c(v + k v^3))`: m times the derivative of
    log σ(c(v + kv³)), the factor each derivative of ``sigmoid_cubic`` brings down, plus the rest
    of that derivative's multiplier a; printed as ``nnref._primitives.expit_cubic_slope``, which
    forms m·c(1 + 3kv²) and the gate's argument as double-doubles and rounds the whole once.

    Written out it is seven roundings (v², the two constants, three products, the sum): 4.3 ULP
    in gelu_tanh's f' = σ(x)(1 + z·c(1 + 3kz²)σ(−x)) at z = −18. Its own derivative is again
    such nodes (``_eval_derivative``), so f'' keeps the form. In the product −m q² σ(x)σ(−x) of that
    derivative, σ(−x) is applied last (the inner node is −m q σ(x)): for large v it is the factor
    that underflows, and the primitive applies it without a subnormal in between (gelu_tanh's f''
    near z = 21.26, where it is 3e-308, lost 1,080 ULP to a subnormal −m q σ(−x) times q²).
    """

    nargs = 5
    exact_args = (1,)
    why = (
        "a + m·c(1 + 3kv²)σ(−x) written out rounds seven times (4.3 ULP in gelu_tanh's f'): the primitive "
        "forms m·c(1 + 3kv²) and x as double-doubles and rounds the result once."
    )

    @classmethod
    def eval(cls, v, c, k, m, a):
        if m.is_zero:
            return a

    @classmethod
    def textbook_of(cls, v, c, k, m, a):
        return a + m * c * (1 + 3 * k * v**2) / (1 + sp.exp(c * (v + k * v**3)))

    def _eval_derivative(self, s):
        v, c, k, m, a = self.args
        dv = sp.diff(v, s)
        rest = (
            sp.diff(a, s)
            + sigmoid_cubic(v, -c, k, 6 * c * k * m * v * dv)
            + sigmoid_cubic_slope(v, c, k, sigmoid_cubic_slope(v, -c, k, m * dv, 0), 0)
        )
        return sigmoid_cubic_slope(v, c, k, sp.diff(m, s), rest)

    def fdiff(self, argindex=1):
        v, c, k, m, a = self.args
        if argindex == 1:
            return sigmoid_cubic(v, -c, k, 6 * c * k * m * v) + sigmoid_cubic_slope(
                v, c, k, sigmoid_cubic_slope(v, -c, k, m, 0), 0
            )
        if argindex == 4:
            return sigmoid_cubic_slope(v, c, k, 1, 0)
        if argindex == 5:
            return sp.Integer(1)
        raise ValueError("sigmoid_cubic_slope: c and k are constants")

    def numpy_code(self, printer) -> str:
        v, c, k, m, a = self.args
        args = f"{printer._print(v)}, {_float_pair(c)}, {float(k)!r}, {printer._print(m)}"
        return f"nnref._primitives.expit_cubic_slope({args}{'' if a == 0 else ', ' + printer._print(a)})"

    def _latex(self, printer, exp=None):
        v, c, k, m, a = self.args
        # m·c(1 + 3kv²) as one SymPy product, unless m holds a node (SymPy would print it bare inside
        # a fraction): then (m) times the product, the sign in front either way
        gate = rf"\,\sigma\left({printer._print(-c * (v + k * v**3))}\right)"
        if m.has(StableFunction):
            factor = printer._print(c * (1 + 3 * k * v**2))
            sign, factor = ("- ", factor[1:].lstrip()) if factor.startswith("-") else ("", factor)
            tex = rf"{sign}\left({printer._print(m)}\right) {factor}{gate}"
        else:
            tex = printer._print(m * c * (1 + 3 * k * v**2)) + gate
        if a != 0:
            tex = (
                rf"{printer._print(a)} - {tex[1:].lstrip()}" if tex.startswith("-") else rf"{printer._print(a)} + {tex}"
            )
        return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"

    def _eval_is_real(self):
        return all(a.is_extended_real for a in self.args) or None


#: Every one-argument block of the registry, for the docs and the custom vocabulary.
BLOCKS: tuple[type[StableFunction], ...] = (
    sigmoid,
    softplus,
    sech2,
    sech2_softplus,
    tanh,
    xncdf,
    xnpdf,
    x2npdf,
    ncdf,
    npdf,
    expm1,
    log1p,
)


def to_textbook(expr: sp.Expr) -> sp.Expr:
    """Replace every stable node by its textbook definition (for proofs and mpmath references).

    ``replace`` works bottom-up, so nested nodes (tanh(softplus(z))) are rewritten inside out."""
    return expr.replace(lambda e: isinstance(e, StableFunction), lambda e: e.textbook())


def log_sigmoid(u: sp.Expr) -> sp.Expr:
    r""":math:`\log \sigma(u) = -\operatorname{softplus}(-u)`: one block reused, as JAX does."""
    return -softplus(-u)
