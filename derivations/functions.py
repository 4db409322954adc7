"""Stable building blocks as SymPy functions.

Each block is a SymPy ``Function`` that knows three things:

* its derivative (``fdiff``), written in terms of other stable blocks, so that ``sympy.diff`` of a
  stable form is itself a stable form;
* its textbook definition (``textbook``), so that ``simplify(to_textbook(stable) - raw) == 0``
  proves a stable form equal to the raw one;
* how it prints to NumPy/SciPy (``numpy_template``), pinned by golden strings in the tests so a
  SymPy upgrade or a stray ``simplify()`` cannot bring an overflow back.

Measured with SymPy 1.14: ``log(1 + exp(z))`` printed naively overflows at z = 800, and SymPy's own
rewrite passes turn it into ``log1p(exp(z))``, which still does. Hence blocks rather than rewrites.
"""

from __future__ import annotations

import sympy as sp


class StableFunction(sp.Function):
    """A SymPy function with a textbook rewrite and its own NumPy printing."""

    nargs = 1
    #: How the block prints: ``{0}`` is replaced by the printed argument.
    numpy_template: str = ""
    #: How the block typesets in LaTeX: ``{0}`` is replaced by the typeset argument.
    latex_template: str = ""
    #: Why the textbook form is not used in floating point (shown on the docs pages).
    why: str = ""

    @classmethod
    def textbook(cls, u: sp.Expr) -> sp.Expr:
        raise NotImplementedError

    def numpy_code(self, printer) -> str:
        return self.numpy_template.format(*[printer._print(a) for a in self.args])

    def _latex(self, printer, exp=None):
        tex = self.latex_template.format(*[printer._print(a) for a in self.args])
        return tex if exp is None else r"\left(%s\right)^{%s}" % (tex, exp)

    def _eval_is_real(self):
        return self.args[0].is_extended_real

    def _eval_evalf(self, prec):
        return self.textbook(self.args[0])._eval_evalf(prec)

    def _eval_rewrite_as_exp(self, u, **kwargs):
        return self.textbook(u)


class sigmoid(StableFunction):
    r"""The logistic function :math:`\sigma(u) = 1/(1 + e^{-u})`."""

    latex_template = r"\sigma\left({0}\right)"
    numpy_template = "scipy.special.expit({0})"
    why = "1/(1 + exp(-u)) overflows exp(-u) for u < -709 (a warning, and NaN in its derivative)."

    @classmethod
    def textbook(cls, u):
        return 1 / (1 + sp.exp(-u))

    def fdiff(self, argindex=1):
        u = self.args[0]
        return sigmoid(u) * sigmoid(-u)

    def _eval_is_positive(self):
        if self.args[0].is_extended_real:
            return True


class softplus(StableFunction):
    r"""Softplus :math:`\log(1 + e^{u})`, evaluated as ``logaddexp(0, u)``."""

    latex_template = r"\operatorname{{softplus}}\left({0}\right)"
    numpy_template = "numpy.logaddexp(0, {0})"
    why = "log(1 + exp(u)) returns inf at u = 800, and log1p(exp(u)) does too."

    @classmethod
    def textbook(cls, u):
        return sp.log(1 + sp.exp(u))

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_is_positive(self):
        if self.args[0].is_extended_real:
            return True


class sech2(StableFunction):
    r"""The squared hyperbolic secant :math:`\operatorname{sech}^2 u = 1 - \tanh^2 u`."""

    latex_template = r"\operatorname{{sech}}^{{2}}\left({0}\right)"
    numpy_template = "nnref._primitives.sech2({0})"
    why = (
        "1 - tanh(u)**2 cancels to exactly 0 once tanh(u) rounds to 1 (u > 19.1), where the true "
        "value is still 1.7e-17 at u = 20 and 1.1e-260 at u = 300. The primitive forms 4e/(1 + e)² "
        "from one e = exp(−2|u|): no subtraction, no overflow, and 3.2 ULP at worst where 1/cosh(u)² "
        "measures 4.2."
    )

    @classmethod
    def textbook(cls, u):
        return 1 - sp.tanh(u) ** 2

    def fdiff(self, argindex=1):
        u = self.args[0]
        return -2 * tanh(u) * sech2(u)

    def _eval_is_positive(self):
        if self.args[0].is_extended_real:
            return True


class tanh(StableFunction):
    r"""The hyperbolic tangent, differentiating into :math:`\operatorname{sech}^2` rather than ``1 - tanh**2``."""

    latex_template = r"\tanh\left({0}\right)"
    numpy_template = "numpy.tanh({0})"

    @classmethod
    def textbook(cls, u):
        return sp.tanh(u)

    def fdiff(self, argindex=1):
        return sech2(self.args[0])


class ncdf(StableFunction):
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
    def textbook(cls, u):
        return (1 + sp.erf(u / sp.sqrt(2))) / 2

    def fdiff(self, argindex=1):
        u = self.args[0]
        return npdf(u)

    def _eval_is_positive(self):
        if self.args[0].is_extended_real:
            return True


class npdf(StableFunction):
    r"""The standard normal density :math:`\varphi(u) = e^{-u^2/2}/\sqrt{2\pi}`."""

    latex_template = r"\varphi\left({0}\right)"
    numpy_template = "nnref._primitives.npdf({0})"
    why = "exp(-u**2/2) loses up to |u|**2 ULP to the rounding of u**2; the primitive squares exactly."

    @classmethod
    def textbook(cls, u):
        return sp.exp(-(u**2) / 2) / sp.sqrt(2 * sp.pi)

    def fdiff(self, argindex=1):
        u = self.args[0]
        return -u * npdf(u)

    def _eval_is_positive(self):
        if self.args[0].is_extended_real:
            return True


class xncdf(StableFunction):
    r""":math:`u\,\Phi(u)`, formed before Φ's tail underflows (GELU itself)."""

    latex_template = r"{0}\,\Phi\left({0}\right)"
    numpy_template = "nnref._primitives.x_ndtr({0})"
    why = "u·Φ(u) is a normal number down to u ≈ −37.7 where Φ(u) alone is already subnormal."

    @classmethod
    def textbook(cls, u):
        return u * ncdf.textbook(u)

    def fdiff(self, argindex=1):
        u = self.args[0]
        return ncdf(u) + xnpdf(u)


class xnpdf(StableFunction):
    r""":math:`u\,\varphi(u)`, formed before φ's tail underflows, and 0 (not inf·0) for huge |u|."""

    latex_template = r"{0}\,\varphi\left({0}\right)"
    numpy_template = "nnref._primitives.x_npdf({0})"
    why = "u·φ(u) stays normal where φ(u) is subnormal, and is 0 rather than NaN at |u| = 1e308."

    @classmethod
    def textbook(cls, u):
        return u * npdf.textbook(u)

    def fdiff(self, argindex=1):
        u = self.args[0]
        return npdf(u) - u * xnpdf(u)


class expm1(StableFunction):
    r""":math:`e^u - 1` without cancellation near 0."""

    latex_template = r"\operatorname{{expm1}}\left({0}\right)"
    numpy_template = "numpy.expm1({0})"
    why = "exp(u) - 1 cancels near u = 0: relative error up to 1e16 ULP for |u| < 1e-16."

    @classmethod
    def textbook(cls, u):
        return sp.exp(u) - 1

    def fdiff(self, argindex=1):
        return sp.exp(self.args[0])


class log1p(StableFunction):
    r""":math:`\log(1 + u)` without cancellation near 0."""

    latex_template = r"\operatorname{{log1p}}\left({0}\right)"
    numpy_template = "numpy.log1p({0})"
    why = "log(1 + u) loses u entirely once 1 + u rounds to 1."

    @classmethod
    def textbook(cls, u):
        return sp.log(1 + u)

    def fdiff(self, argindex=1):
        return 1 / (1 + self.args[0])


#: Every block, for printing, rewriting and the docs.
BLOCKS: tuple[type[StableFunction], ...] = (sigmoid, softplus, sech2, tanh, xncdf, xnpdf, ncdf, npdf, expm1, log1p)


def to_textbook(expr: sp.Expr) -> sp.Expr:
    """Replace every stable block by its textbook definition (for proofs and mpmath references)."""
    expr = expr.replace(lambda e: hasattr(e, "dd_textbook"), lambda e: e.dd_textbook())
    for block in BLOCKS:
        expr = expr.replace(block, lambda u, _b=block: _b.textbook(u))
    return expr


def log_sigmoid(u: sp.Expr) -> sp.Expr:
    r""":math:`\log \sigma(u) = -\operatorname{softplus}(-u)`: one block reused, as JAX does."""
    return -softplus(-u)
