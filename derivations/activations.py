"""Every activation, one entry each: the textbook definition, and the stable form the code uses.

``f`` is the definition a learner meets in a textbook. ``df`` and ``d2f`` are what ``sympy.diff``
makes of it, kept for the docs ("what SymPy says"). ``stable`` is the form printed into
``nnref/_generated``; its derivatives are ``sympy.diff`` of the stable form (the blocks in
``derivations/functions.py`` differentiate into stable blocks), unless ``stable_df``/``stable_d2f``
override them. Every stable form is proven equal to the textbook one (``derivations/proofs.py``).

Adding an activation means adding one ``Activation(...)`` to ``ENTRIES``: code, docs and tests follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import sympy as sp

from derivations.functions import expm1, log_sigmoid, ncdf, sech2, sigmoid, softplus, tanh, xncdf
from derivations.symbols import alpha, z

#: SELU's constants in closed form (Klambauer et al. 2017, eq. 14), not the rounded decimals.
_e = sp.E
_erfc1 = sp.erfc(1 / sp.sqrt(2))
SELU_ALPHA = -sp.sqrt(2 / sp.pi) / (_erfc1 * sp.exp(sp.Rational(1, 2)) - 1)
SELU_LAMBDA = (
    (1 - _erfc1 * sp.sqrt(_e))
    * sp.sqrt(2 * sp.pi)
    / sp.sqrt(
        2 * sp.erfc(sp.sqrt(2)) * _e**2 + sp.pi * _erfc1**2 * _e - 2 * (2 + sp.pi) * _erfc1 * sp.sqrt(_e) + sp.pi + 2
    )
)


@dataclass(frozen=True)
class Activation:
    """One elementwise activation f(z), with named parameters and their defaults."""

    name: str
    title: str
    f: sp.Expr
    summary: str
    reference: str
    stable: sp.Expr | None = None
    stable_df: sp.Expr | None = None
    stable_d2f: sp.Expr | None = None
    params: dict[str, float] = field(default_factory=dict)
    #: The convention at non-differentiable points, stated once (empty when f is smooth).
    kink: str = ""
    #: Points where f or f' is not differentiable (the checks do not difference across them).
    kinks: tuple[float, ...] = ()
    #: Why the stable form is needed (shown on the docs page as an admonition).
    why: str = ""
    #: Measured accuracy bounds in ULP where 4 cannot be reached, with the reason:
    #: {"df": (bound, reason)}; empty means the project-wide 4 ULP holds for f and f'.
    ulp_bounds: dict[str, tuple[float, str]] = field(default_factory=dict)
    vector: bool = False
    #: f' and f'' are evaluated at clip(z, -saturate, saturate): beyond it they equal their limits
    #: in float64 (|difference| < 1e-300) while the closed form would compute inf·0 = NaN.
    saturate: float | None = None
    #: Patch f' with a Taylor polynomial about each interior zero (see derivations/taylor.py).
    patch_zeros: bool = True
    #: Intervals where the error peaks between the full-range grid's points: measured at 1,001 points each.
    dense: tuple[tuple[float, float], ...] = ()
    #: Highest degree a patch may grow to while its radius is short of taylor.RADIUS (None: the default).
    patch_max_degree: int | None = None

    # ---- what SymPy says about the textbook definition -------------------------------------
    @cached_property
    def df(self) -> sp.Expr:
        return sp.diff(self.f, z)

    @cached_property
    def d2f(self) -> sp.Expr:
        return sp.diff(self.df, z)

    # ---- what the code computes --------------------------------------------------------------
    @cached_property
    def code_f(self) -> sp.Expr:
        return self.f if self.stable is None else self.stable

    @cached_property
    def closed_df(self) -> sp.Expr:
        """The stable f' before patches and saturation (what the proofs compare)."""
        return self.stable_df if self.stable_df is not None else sp.diff(self.code_f, z)

    @cached_property
    def closed_d2f(self) -> sp.Expr:
        return self.stable_d2f if self.stable_d2f is not None else sp.diff(self.closed_df, z)

    @cached_property
    def patches(self) -> list:
        if not self.patch_zeros or self.df.has(
            sp.Piecewise, sp.Abs, sp.sign, sp.Heaviside, sp.DiracDelta, sp.Max, sp.Min
        ):
            return []
        return self._patched()[1]

    def _patched(self) -> tuple[sp.Expr, list]:
        from derivations.taylor import DEGREE, patched

        return patched(self.closed_df, self.df, self.params, max_degree=self.patch_max_degree or DEGREE)

    @cached_property
    def code_df(self) -> sp.Expr:
        expr = self.closed_df
        if self.patches:
            expr = self._patched()[0]
        return self._saturated(expr)

    @cached_property
    def code_d2f(self) -> sp.Expr:
        return self._saturated(self.closed_d2f)

    def _saturated(self, expr: sp.Expr) -> sp.Expr:
        if self.saturate is None:
            return expr
        return expr.subs(z, sp.Min(sp.Max(z, -self.saturate), self.saturate))

    def textbook(self, which: str) -> sp.Expr:
        """What SymPy says: f, f' or f'' ("f", "df", "d2f") of the textbook definition."""
        return {"f": self.f, "df": self.df, "d2f": self.d2f}[which]

    def code(self, which: str) -> sp.Expr:
        """What the generated code computes for "f", "df" or "d2f" (patches and saturation included)."""
        return {"f": self.code_f, "df": self.code_df, "d2f": self.code_d2f}[which]

    def closed(self, which: str) -> sp.Expr:
        """The code's closed form, before Taylor patches and saturation (what the proofs compare)."""
        return {"f": self.code_f, "df": self.closed_df, "d2f": self.closed_d2f}[which]

    @property
    def symbols(self) -> dict[str, sp.Symbol]:
        return {name: sp.Symbol(name, positive=True) for name in self.params}

    def bound(self, which: str) -> float:
        """The ULP bound that the accuracy check holds ``which`` ("f", "df", "d2f") to."""
        return self.ulp_bounds.get(which, (4.0, ""))[0]


def _pw(*pairs) -> sp.Piecewise:
    return sp.Piecewise(*pairs)


_u_gelu_tanh = sp.sqrt(2 / sp.pi) * (z + sp.Float("0.044715") * z**3)

ENTRIES: tuple[Activation, ...] = (
    Activation(
        name="identity",
        title="Identity (linear)",
        f=z,
        summary="The linear activation. A network of linear layers is still one linear map.",
        reference="",
    ),
    Activation(
        name="step",
        title="Step (Heaviside, the perceptron's)",
        f=sp.Heaviside(z, 1),
        stable=_pw((1, z >= 0), (0, True)),
        stable_df=sp.Integer(0),
        stable_d2f=sp.Integer(0),
        summary=(
            "The perceptron's threshold. Its derivative is 0 wherever it exists (SymPy says "
            "DiracDelta(z): zero except at 0), so the gradient carries no signal and gradient "
            "descent cannot train a perceptron: this is why smooth activations replaced it."
        ),
        reference="Rosenblatt (1958), The perceptron",
        kink="step(0) = 1 (the perceptron fires when w·x + b ≥ 0); step'(z) is taken as 0 everywhere, 0 included.",
        kinks=(0.0,),
    ),
    Activation(
        name="sigmoid",
        title="Sigmoid (logistic)",
        f=1 / (1 + sp.exp(-z)),
        stable=sigmoid(z),
        # sigma(-z) - sigma(z) cancels near 0; it equals -tanh(z/2) exactly.
        stable_d2f=-sigmoid(z) * sigmoid(-z) * sp.tanh(z / 2),
        summary="Squashes z into (0, 1); the output unit of the notebook's binary classifier.",
        reference="",
        why=sigmoid.why,
    ),
    Activation(
        name="tanh",
        title="Hyperbolic tangent",
        f=sp.tanh(z),
        stable=tanh(z),
        summary="A zero-centred sigmoid: tanh(z) = 2σ(2z) − 1.",
        reference="",
        why=sech2.why,
    ),
    Activation(
        name="relu",
        title="ReLU (rectified linear unit)",
        f=sp.Max(0, z),
        stable=sp.Max(z, 0),
        stable_df=_pw((1, z > 0), (0, True)),
        stable_d2f=sp.Integer(0),
        summary="max(0, z): cheap, does not saturate for z > 0, and is not differentiable at 0.",
        reference="Nair & Hinton (2010); on relu'(0): Bertoin et al. (2021), Numerical influence of ReLU'(0) on backpropagation",
        kink="relu'(0) = 0. SymPy's diff gives Heaviside(z), which is 1/2 at 0; the code uses Heaviside(z, 0).",
        kinks=(0.0,),
    ),
    Activation(
        name="leaky_relu",
        title="Leaky ReLU",
        f=_pw((z, z > 0), (alpha * z, True)),
        params={"alpha": 0.01},
        summary="ReLU with a small slope alpha for z ≤ 0, so no unit is ever completely dead.",
        reference="Maas, Hannun & Ng (2013)",
        kink="leaky_relu'(0) = alpha (the left derivative).",
        kinks=(0.0,),
    ),
    Activation(
        name="elu",
        title="ELU (exponential linear unit)",
        f=_pw((z, z > 0), (alpha * (sp.exp(z) - 1), True)),
        stable=_pw((z, z > 0), (alpha * expm1(sp.Min(z, 0)), True)),
        stable_df=_pw((1, z > 0), (alpha * sp.exp(sp.Min(z, 0)), True)),
        stable_d2f=_pw((0, z > 0), (alpha * sp.exp(sp.Min(z, 0)), True)),
        params={"alpha": 1.0},
        summary="Smooth for z < 0 with limit −alpha; the identity for z > 0.",
        reference="Clevert, Unterthiner & Hochreiter (2016)",
        kink="elu'(0) = alpha (the left derivative; both sides agree when alpha = 1).",
        kinks=(0.0,),
        why=expm1.why + " The unused branch is guarded with min(z, 0), because numpy evaluates both branches.",
    ),
    Activation(
        name="selu",
        title="SELU (scaled ELU)",
        f=SELU_LAMBDA * _pw((z, z > 0), (SELU_ALPHA * (sp.exp(z) - 1), True)),
        stable=_pw((SELU_LAMBDA * z, z > 0), (SELU_LAMBDA * SELU_ALPHA * expm1(sp.Min(z, 0)), True)),
        stable_df=_pw((SELU_LAMBDA, z > 0), (SELU_LAMBDA * SELU_ALPHA * sp.exp(sp.Min(z, 0)), True)),
        stable_d2f=_pw((0, z > 0), (SELU_LAMBDA * SELU_ALPHA * sp.exp(sp.Min(z, 0)), True)),
        summary=(
            "ELU scaled by the self-normalising constants λ ≈ 1.0507 and α ≈ 1.6733, kept here in "
            "closed form and rounded once."
        ),
        reference="Klambauer, Unterthiner, Mayr & Hochreiter (2017), Self-normalizing neural networks",
        kink="selu'(0) = λα (the left derivative).",
        kinks=(0.0,),
        why=expm1.why,
    ),
    Activation(
        name="softplus",
        title="Softplus",
        f=sp.log(1 + sp.exp(z)),
        stable=softplus(z),
        summary="A smooth ReLU: log(1 + e^z). Its derivative is the sigmoid.",
        reference="Dugas et al. (2001)",
        why=softplus.why,
    ),
    Activation(
        name="softsign",
        title="Softsign",
        f=z / (1 + sp.Abs(z)),
        stable_df=1 / (1 + sp.Abs(z)) ** 2,
        stable_d2f=-2 * sp.sign(z) / (1 + sp.Abs(z)) ** 3,
        summary="Like tanh, but approaches ±1 polynomially rather than exponentially.",
        reference="Bergstra et al. (2009)",
        kink="softsign''(0) = 0 (sign(0) = 0); f and f' are continuous, f' has a corner and f'' jumps at 0.",
        kinks=(0.0,),
        why=(
            "SymPy's derivative 1/(|z|+1) − z·sign(z)/(|z|+1)² subtracts two nearly equal terms "
            "for large |z| (236 ULP measured); 1/(1+|z|)² has no subtraction."
        ),
    ),
    Activation(
        name="gelu",
        title="GELU (exact, with erf)",
        f=z / 2 * (1 + sp.erf(z / sp.sqrt(2))),
        stable=xncdf(z),
        saturate=40.0,
        ulp_bounds={
            "f": (
                6.0,
                "SciPy's erfcx carries up to 2.4 ULP; with exp(-z²/2) and three products the measured worst is 5.6 ULP near z = -1.45.",
            ),
            "d2f": (
                400.0,
                "f'' = (2 - z²)φ(z): for z > 37 φ(z) is subnormal, so its product loses digits; measured 306 ULP at z = 37.8.",
            ),
        },
        summary="z·Φ(z), Φ the standard normal CDF: weighs z by how likely a standard normal is below it.",
        reference="Hendrycks & Gimpel (2016), Gaussian error linear units",
        why=ncdf.why,
    ),
    Activation(
        name="gelu_tanh",
        title="GELU (tanh approximation)",
        f=z / 2 * (1 + sp.tanh(_u_gelu_tanh)),
        stable=z * sigmoid(2 * _u_gelu_tanh),
        saturate=40.0,
        dense=((-22.0, -17.0),),
        ulp_bounds={
            "f": (
                1e16,
                "σ(2u) has condition number |2u|: the rounding of u = √(2/π)(z + 0.044715z³) costs up to 810 ULP for z > -18.1 and over 1,000 below z ≈ -19.4. Below z ≈ -21.1, σ(2u) is subnormal while f is still normal, and all digits are lost (8.8e15 ULP at z = -21.17). A double-double u, and exp(2u + log|z|) in the far tail, would remove both.",
            ),
            "df": (
                1e16,
                "Below z ≈ -20.5, σ(2u) is subnormal while f' is still normal (about 1e-305): all digits are lost there. Above z = -20 the error is set by the same conditioning as f.",
            ),
            "d2f": (1e16, "As for f': subnormal intermediates below z ≈ -20.5."),
        },
        summary="The tanh approximation of GELU: (1 + tanh(u))/2 = σ(2u), u = √(2/π)(z + 0.044715 z³).",
        reference="Hendrycks & Gimpel (2016)",
        why="1 + tanh(u) cancels to 0 for u < −19; σ(2u) is the same number without the subtraction.",
    ),
    Activation(
        name="silu",
        title="SiLU (swish)",
        f=z / (1 + sp.exp(-z)),
        stable=z * sigmoid(z),
        ulp_bounds={
            "d2f": (
                1500.0,
                "f'' has interior zeros at z ≈ ±2.3994, where the closed form cancels (1.2e3 ULP measured); only f' is patched.",
            )
        },
        summary="z·σ(z): smooth, non-monotonic, with a global minimum at z ≈ −1.2785.",
        reference="Elfwing, Uchibe & Doya (2018); Ramachandran, Zoph & Le (2017)",
        why=sigmoid.why,
    ),
    Activation(
        name="mish",
        title="Mish",
        f=z * sp.tanh(sp.log(1 + sp.exp(z))),
        stable=z * tanh(softplus(z)),
        ulp_bounds={
            "d2f": (
                60.0,
                "f'' has interior zeros and, for large z, sums terms of opposite sign (45.6 ULP measured at z = 33.4); only f' is patched.",
            )
        },
        summary="z·tanh(softplus(z)): smooth, non-monotonic, with a global minimum at z ≈ −1.1924.",
        reference="Misra (2019), Mish: a self regularized non-monotonic activation function",
        why=softplus.why,
    ),
    Activation(
        name="hard_sigmoid",
        title="Hard sigmoid",
        f=_pw((0, z <= -3), (1, z >= 3), (z / 6 + sp.Rational(1, 2), True)),
        # (z + 3)/6: z + 3 is exact near -3 (Sterbenz), where z/6 + 1/2 cancels (2.7 ULP measured).
        stable=_pw((0, z <= -3), (1, z >= 3), (sp.Mul(z + 3, sp.Rational(1, 6), evaluate=False), True)),
        summary="A piecewise-linear sigmoid: relu6(z + 3)/6.",
        reference="Howard et al. (2019), Searching for MobileNetV3",
        kink="hard_sigmoid'(±3) = 0 (the outer slope), as in PyTorch.",
        kinks=(-3.0, 3.0),
    ),
    Activation(
        name="hard_tanh",
        title="Hard tanh",
        f=_pw((-1, z <= -1), (1, z >= 1), (z, True)),
        summary="tanh's piecewise-linear cousin: z clipped to [−1, 1].",
        reference="Collobert (2004)",
        kink="hard_tanh'(±1) = 0 (the outer slope), as in PyTorch.",
        kinks=(-1.0, 1.0),
    ),
    Activation(
        name="hard_swish",
        title="Hard swish",
        f=_pw((0, z <= -3), (z, z >= 3), (z * (z + 3) / 6, True)),
        # (2z + 3)/6: exact subtraction next to the zero of f' at -1.5 (z/3 + 1/2: 5.3 ULP measured).
        stable_df=_pw((0, z <= -3), (1, z >= 3), (sp.Mul(2 * z + 3, sp.Rational(1, 6), evaluate=False), True)),
        summary="z·hard_sigmoid(z): a piecewise-quadratic swish.",
        reference="Howard et al. (2019), Searching for MobileNetV3",
        kink="hard_swish'(−3) = 0 and hard_swish'(3) = 1 (the outer slopes); f' jumps at 3 (1.5 → 1).",
        kinks=(-3.0, 3.0),
    ),
    Activation(
        name="log_sigmoid",
        title="Log-sigmoid",
        f=sp.log(1 / (1 + sp.exp(-z))),
        stable=log_sigmoid(z),
        summary="log σ(z) = −softplus(−z): the log-probability a sigmoid unit assigns to class 1.",
        reference="",
        why="log(1/(1 + exp(−z))) returns −inf at z = −800 and loses everything once 1 + exp(−z) rounds to 1 (z > 37); −softplus(−z) does neither.",
    ),
)

ACTIVATIONS: dict[str, Activation] = {entry.name: entry for entry in ENTRIES}

#: The vector-valued activations, derived in derivations/softmax.py.
VECTOR_ACTIVATIONS = ("softmax", "log_softmax")


def names() -> list[str]:
    return [entry.name for entry in ENTRIES] + list(VECTOR_ACTIVATIONS)
