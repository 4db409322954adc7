"""Every activation, one entry each: the textbook definition, and the stable form the code uses.

``f`` is the definition a learner meets in a textbook. ``df`` and ``d2f`` are what ``sympy.diff``
makes of it, kept for the docs ("what SymPy says"). ``stable`` is the form printed into
``nnref/_generated``; its derivatives are ``sympy.diff`` of the stable form (the blocks in
``derivations/functions.py`` differentiate into stable blocks), unless ``stable_df``/``stable_d2f``
override them. Every stable form is proven equal to the textbook one (``derivations/proofs.py``).
``expected`` states the textbook facts the properties must be decided as, and ``twin`` the same
function in PyTorch and JAX (see ``derivations/entry.py`` for every field).

Adding an activation means adding one ``Activation(...)`` to ``ENTRIES``: code, docs and tests follow.
"""

from __future__ import annotations

import sympy as sp

from derivations.entry import Activation, Expected, Twin
from derivations.functions import (
    expm1,
    log_sigmoid,
    ncdf,
    npdf,
    sech2,
    sigmoid,
    sigmoid_cubic,
    softplus,
    tanh,
    xncdf,
)
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


def _pw(*pairs) -> sp.Piecewise:
    return sp.Piecewise(*pairs)


_u_gelu_tanh = sp.sqrt(2 / sp.pi) * (z + sp.Float("0.044715") * z**3)
#: The names the quick answers use for SELU's constants and GELU-tanh's argument.
_LAMBDA, _ALPHA, _U = sp.Symbol("lambda"), sp.Symbol("alpha"), sp.Symbol("u")

ENTRIES: tuple[Activation, ...] = (
    Activation(
        name="identity",
        title="Identity (linear)",
        numpy_f="z",
        numpy_df="np.ones_like(z)",
        f=z,
        summary="The linear activation. A network of linear layers is still one linear map.",
        reference="",
        expected=Expected(nonlinear=False, monotonic=True, c1=True, bounded=False, zero_centred=True, saturating=False),
        twin=Twin(
            torch="x * 1",
            jax="x * 1",
            expressions=("PyTorch", "JAX"),
        ),
    ),
    Activation(
        name="step",
        title="Step (Heaviside, the perceptron's)",
        known_f=_pw((1, z >= 0), (0, True)),
        known_df=sp.Integer(0),
        numpy_f="np.where(z >= 0, 1.0, 0.0)",
        numpy_df="np.zeros_like(z)",
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
        expected=Expected(nonlinear=True, monotonic=True, c1=False, bounded=True, zero_centred=False, saturating=True),
        twin=Twin(
            torch="torch.heaviside(x, torch.ones((), dtype=x.dtype))",
            jax="jnp.heaviside(x, 1.0)",
            note="torch.heaviside(z, 1): step(0) = 1 in both. torch has no derivative for heaviside, so the reference f' is the trivial 0 (nnref's stated convention, 0 included).",
            torch_df="torch.zeros_like(x)",
        ),
        kink="step(0) = 1 (the perceptron fires when w·x + b ≥ 0); step'(z) is taken as 0 everywhere, 0 included.",
        kinks=(0.0,),
    ),
    Activation(
        name="sigmoid",
        title="Sigmoid (logistic)",
        known_df=sigmoid(z) * (1 - sigmoid(z)),
        numpy_f="special.expit(z)",
        numpy_df="special.expit(z) * special.expit(-z)",
        f=1 / (1 + sp.exp(-z)),
        stable=sigmoid(z),
        # sigma(-z) - sigma(z) cancels near 0; it equals -tanh(z/2) exactly.
        stable_d2f=-sigmoid(z) * sigmoid(-z) * sp.tanh(z / 2),
        summary="Squashes z into (0, 1); the output unit of the notebook's binary classifier.",
        reference="",
        expected=Expected(nonlinear=True, monotonic=True, c1=True, bounded=True, zero_centred=False, saturating=True),
        twin=Twin(
            torch="torch.sigmoid(x)",
            jax="jax.nn.sigmoid(x)",
            torch_less_accurate={
                "df": (
                    "torch's backward forms σ(1 − σ) from the output: 1 − σ cancels for z > 0 and is 0 from z "
                    "≈ 36.74, so f' = 0 where it is 1.04e-16 (8.5e15 ULP at z = 36.8); nnref ≤ 2.3 ULP."
                ),
            },
        ),
        why=sigmoid.why,
    ),
    Activation(
        name="tanh",
        title="Hyperbolic tangent (tanh)",
        numpy_f="np.tanh(z)",
        numpy_df="4 * special.expit(2 * z) * special.expit(-2 * z)",
        f=sp.tanh(z),
        stable=tanh(z),
        summary="A zero-centred sigmoid: tanh(z) = 2σ(2z) − 1.",
        reference="",
        expected=Expected(nonlinear=True, monotonic=True, c1=True, bounded=True, zero_centred=True, saturating=True),
        twin=Twin(
            torch="torch.tanh(x)",
            jax="jnp.tanh(x)",
            torch_less_accurate={
                "df": (
                    "torch's backward forms 1 − tanh² from the output, which cancels for large |z| and is 0 "
                    "from |z| ≈ 19.06 (9.0e15 ULP at z = -25.3, where f' = 4.2e-22); nnref ≤ 2.6 ULP."
                ),
            },
        ),
        why=sech2.why,
    ),
    Activation(
        name="relu",
        title="ReLU (rectified linear unit)",
        known_df=_pw((1, z > 0), (0, True)),
        numpy_f="np.maximum(z, 0.0)",
        numpy_df="np.where(z > 0, 1.0, 0.0)",
        f=sp.Max(0, z),
        stable=sp.Max(z, 0),
        stable_df=_pw((1, z > 0), (0, True)),
        stable_d2f=sp.Integer(0),
        summary="max(0, z): cheap; it saturates only for z < 0 (where f' = 0, the dying-ReLU problem), never for z > 0, and is not differentiable at 0.",
        reference="Nair & Hinton (2010); on relu'(0): Bertoin et al. (2021), Numerical influence of ReLU'(0) on backpropagation",
        expected=Expected(nonlinear=True, monotonic=True, c1=False, bounded=False, zero_centred=False, saturating=True),
        twin=Twin(
            torch="torch.relu(x)",
            jax="jax.nn.relu(x)",
            note="relu'(0) = 0 in both.",
        ),
        kink="relu'(0) = 0. SymPy's diff gives Heaviside(z), which is 1/2 at 0; the code uses Heaviside(z, 0).",
        kinks=(0.0,),
    ),
    Activation(
        name="leaky_relu",
        title="Leaky ReLU",
        numpy_f="np.where(z > 0, z, alpha * z)",
        numpy_df="np.where(z > 0, 1.0, alpha)",
        f=_pw((z, z > 0), (alpha * z, True)),
        params={"alpha": 0.01},
        summary="ReLU with a small slope alpha for z ≤ 0, so no unit is ever completely dead.",
        reference="Maas, Hannun & Ng (2013)",
        expected=Expected(nonlinear=True, monotonic=True, c1=False, bounded=False, zero_centred=True, saturating=False),
        twin=Twin(
            torch="F.leaky_relu(x, negative_slope=alpha)",
            jax="jax.nn.leaky_relu(x, alpha)",
            note="f'(0) = alpha in both.",
        ),
        kink="leaky_relu'(0) = alpha (the left derivative).",
        kinks=(0.0,),
    ),
    Activation(
        name="elu",
        title="ELU (exponential linear unit)",
        numpy_f="np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0)))",
        numpy_df="np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0)))",
        f=_pw((z, z > 0), (alpha * (sp.exp(z) - 1), True)),
        stable=_pw((z, z > 0), (alpha * expm1(sp.Min(z, 0)), True)),
        stable_df=_pw((1, z > 0), (alpha * sp.exp(sp.Min(z, 0)), True)),
        stable_d2f=_pw((0, z > 0), (alpha * sp.exp(sp.Min(z, 0)), True)),
        params={"alpha": 1.0},
        summary="Smooth for z < 0 with limit −alpha; the identity for z > 0.",
        reference="Clevert, Unterthiner & Hochreiter (2016)",
        expected=Expected(nonlinear=True, monotonic=True, c1=True, bounded=False, zero_centred=True, saturating=True),
        twin=Twin(
            torch="F.elu(x, alpha=alpha)",
            jax="jax.nn.elu(x, alpha)",
            note="f'(0) = alpha in both.",
        ),
        kink="elu'(0) = alpha (the left derivative; both sides agree when alpha = 1).",
        kinks=(0.0,),
        why=expm1.why + " The unused branch is guarded with min(z, 0), because numpy evaluates both branches.",
    ),
    Activation(
        name="selu",
        title="SELU (scaled ELU)",
        known_f=_LAMBDA * _pw((z, z > 0), (_ALPHA * (sp.exp(z) - 1), True)),
        known_df=_LAMBDA * _pw((1, z > 0), (_ALPHA * sp.exp(z), True)),
        named={"lambda": SELU_LAMBDA, "alpha": SELU_ALPHA},
        numpy_f="1.0507009873554805 * np.where(z > 0, z, 1.6732632423543772 * np.expm1(np.minimum(z, 0)))",
        numpy_df="1.0507009873554805 * np.where(z > 0, 1.0, 1.6732632423543772 * np.exp(np.minimum(z, 0)))",
        f=SELU_LAMBDA * _pw((z, z > 0), (SELU_ALPHA * (sp.exp(z) - 1), True)),
        stable=_pw((SELU_LAMBDA * z, z > 0), (SELU_LAMBDA * SELU_ALPHA * expm1(sp.Min(z, 0)), True)),
        stable_df=_pw((SELU_LAMBDA, z > 0), (SELU_LAMBDA * SELU_ALPHA * sp.exp(sp.Min(z, 0)), True)),
        stable_d2f=_pw((0, z > 0), (SELU_LAMBDA * SELU_ALPHA * sp.exp(sp.Min(z, 0)), True)),
        summary=(
            "ELU scaled by the self-normalising constants λ ≈ 1.0507 and α ≈ 1.6733, kept here in "
            "closed form and rounded once."
        ),
        reference="Klambauer, Unterthiner, Mayr & Hochreiter (2017), Self-normalizing neural networks",
        expected=Expected(nonlinear=True, monotonic=True, c1=False, bounded=False, zero_centred=True, saturating=True),
        twin=Twin(
            torch="F.selu(x)",
            jax="jax.nn.selu(x)",
            note="torch's rounded λ, α and nnref's closed forms agree to a few ULP; f'(0) = λα in both.",
        ),
        kink="selu'(0) = λα (the left derivative).",
        kinks=(0.0,),
        why=expm1.why,
    ),
    Activation(
        name="softplus",
        title="Softplus",
        known_df=sigmoid(z),
        numpy_f="np.logaddexp(0.0, z)",
        numpy_df="special.expit(z)",
        f=sp.log(1 + sp.exp(z)),
        stable=softplus(z),
        summary="A smooth ReLU: log(1 + e^z). Its derivative is the sigmoid.",
        reference="Dugas et al. (2001)",
        expected=Expected(nonlinear=True, monotonic=True, c1=True, bounded=False, zero_centred=False, saturating=True),
        twin=Twin(
            torch="F.softplus(x)",
            jax="jax.nn.softplus(x)",
            note="torch's default threshold=20 is kept on purpose: it is what users get, and beyond it torch returns z (and f' = 1).",
            torch_less_accurate={
                "f": (
                    "threshold=20, torch's default: torch returns z for z > 20, dropping log1p(exp(-z)) ≈ "
                    "2e-9 (5.3e5 ULP at z = 20.1); nnref ≤ 0.5 ULP."
                ),
                "df": (
                    "threshold=20, torch's default: torch returns f' = 1 for z > 20 where σ(z) = 1 − 2e-9 "
                    "(1.7e7 ULP at z = 20.1); nnref ≤ 1.0 ULP."
                ),
            },
        ),
        why=softplus.why,
    ),
    Activation(
        name="softsign",
        title="Softsign",
        known_df=1 / (1 + sp.Abs(z)) ** 2,
        numpy_f="z / (1 + np.abs(z))",
        numpy_df="1 / (1 + np.abs(z)) ** 2",
        f=z / (1 + sp.Abs(z)),
        stable_df=1 / (1 + sp.Abs(z)) ** 2,
        stable_d2f=-2 * sp.sign(z) / (1 + sp.Abs(z)) ** 3,
        summary="Like tanh, but approaches ±1 polynomially rather than exponentially.",
        reference="Bergstra et al. (2009)",
        expected=Expected(nonlinear=True, monotonic=True, c1=True, bounded=True, zero_centred=True, saturating=True),
        twin=Twin(
            torch="F.softsign(x)",
            jax="jax.nn.soft_sign(x)",
            torch_less_accurate={
                "df": (
                    "autograd of z/(1 + |z|) forms 1/(1 + |z|) − |z|/(1 + |z|)², which cancels for large |z| "
                    "(305 ULP at z = -700); nnref computes 1/(1 + |z|)², ≤ 2.0 ULP."
                ),
            },
        ),
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
        known_f=z * ncdf(z),
        known_df=ncdf(z) + z * npdf(z),
        numpy_f="z * special.ndtr(z)",
        numpy_df="special.ndtr(z) + z * np.exp(-(z**2) / 2) / np.sqrt(2 * np.pi)",
        f=z / 2 * (1 + sp.erf(z / sp.sqrt(2))),
        stable=xncdf(z),
        saturate=40.0,
        dense=((-1.6, -1.2),),
        summary="z·Φ(z), Φ the standard normal CDF: weighs z by how likely a standard normal is below it.",
        reference="Hendrycks & Gimpel (2016), Gaussian error linear units",
        expected=Expected(nonlinear=True, monotonic=False, c1=True, bounded=False, zero_centred=True, saturating=True),
        twin=Twin(
            torch="F.gelu(x)",
            jax="jax.nn.gelu(x, approximate=False)",
            note="The exact, erf-based GELU (approximate='none').",
            torch_less_accurate={
                "f": (
                    "torch computes z(1 + erf(z/√2))/2: 1 + erf cancels in the left tail and is 0 below z ≈ "
                    "-8.37, so gelu = -0.0 where it is -1e-17 … -1e-300 (9.0e15 ULP at z = -18.9, where f = "
                    "-1.08e-78); nnref within its recorded bound of 7 ULP."
                ),
                "df": (
                    "torch's backward Φ(z) + zφ(z) cancels in the left tail: 1.1e14 ULP at z = -8.4 "
                    "(-1.5969e-15 for -1.5746e-15, 1.4% off), and 0 below z ≈ -38.6; nnref ≤ 3.2 ULP."
                ),
            },
        ),
        why=ncdf.why,
    ),
    Activation(
        name="gelu_tanh",
        title="GELU (tanh approximation)",
        known_f=z / 2 * (1 + sp.tanh(_U)),
        known_df=(1 + sp.tanh(_U)) / 2
        + z / 2 * (1 - sp.tanh(_U) ** 2) * sp.sqrt(2 / sp.pi) * (1 + 3 * sp.Float("0.044715") * z**2),
        named={"u": _u_gelu_tanh},
        numpy_f="z * special.expit(2 * np.sqrt(2 / np.pi) * (z + 0.044715 * z**3))",
        numpy_df="(lambda s: s + 2 * z * s * (1 - s) * np.sqrt(2 / np.pi) * (1 + 0.134145 * z**2))(special.expit(2 * np.sqrt(2 / np.pi) * (z + 0.044715 * z**3)))",
        f=z / 2 * (1 + sp.tanh(_u_gelu_tanh)),
        stable=sigmoid_cubic(z, 2 * sp.sqrt(2 / sp.pi), sp.Float("0.044715"), z),
        saturate=40.0,
        # f'' subtracts its terms on both sides of its patches (their edges at ±2.22): 5.7 ULP at 2.27
        dense=((-22.0, -17.0), (-3.0, -2.1), (2.1, 2.5)),
        ulp_bounds={
            "d2f": (
                7.0,
                "f'' = σ(x)(S + R) with S = (1 + M)·c(1 + 3kz²)σ(−x), M = z·c(1 + 3kz²)σ(−x), and R the rest of "
                "the product rule: each is rounded once, but beyond the zeros of f'' at ±1.42 they have opposite "
                "signs (|S| + |R| up to twice |S + R| near ±2.6), which doubles their errors: 5.4 ULP measured at "
                "z = 2.64 among 80,000 random points of [−3.4, −2] and [1.9, 2.8].",
            ),
        },
        summary="The tanh approximation of GELU: (1 + tanh(u))/2 = σ(2u), u = √(2/π)(z + 0.044715 z³).",
        reference="Hendrycks & Gimpel (2016)",
        expected=Expected(nonlinear=True, monotonic=False, c1=True, bounded=False, zero_centred=True, saturating=True),
        twin=Twin(
            torch="F.gelu(x, approximate='tanh')",
            jax="jax.nn.gelu(x, approximate=True)",
            torch_less_accurate={
                "f": (
                    "torch computes z(1 + tanh(u))/2: 1 + tanh(u) cancels for z < 0 and is 0 below z ≈ -7.15 "
                    "(9.0e15 ULP at z = -9.7, where f = -9.6e-35); nnref computes zσ(2u) with 2u a "
                    "double-double, ≤ 2.5 ULP."
                ),
                "df": (
                    "torch's backward has the same 1 + tanh(u) cancellation, 0 below z ≈ -7.15 (9.0e15 ULP at "
                    "z = -17.1, where f' = -1.7e-164), and returns NaN at z = ±1e300 (u³ overflows: inf·0); "
                    "nnref ≤ 4.3 ULP (recorded bound 5)."
                ),
            },
        ),
        why=(
            "1 + tanh(u) cancels to 0 for u < −19; σ(2u) is the same number without the subtraction. σ(2u) has "
            "condition number |2u|, so 2u is formed as a double-double (its rounding cost 810 ULP at z = −18), "
            "and z·σ(2u) is formed before σ(2u) turns subnormal (below z ≈ −21.1, where f is still normal)."
        ),
    ),
    Activation(
        name="silu",
        title="SiLU (swish)",
        known_f=z * sigmoid(z),
        known_df=sigmoid(z) * (1 + z * (1 - sigmoid(z))),
        numpy_f="z * special.expit(z)",
        numpy_df="special.expit(z) * (1 + z * special.expit(-z))",
        f=z / (1 + sp.exp(-z)),
        stable=z * sigmoid(z),
        # z(σ(−z) − σ(z)) cancels near 0 and beside the zeros of f'' (5.7 ULP at z = −4.58); σ(−z) − σ(z)
        # is −tanh(z/2) exactly, and the zeros at ±2.3994 are Taylor-patched.
        stable_d2f=sigmoid(z) * sigmoid(-z) * (2 - z * sp.tanh(z / 2)),
        summary="z·σ(z): smooth, non-monotonic, with a global minimum at z ≈ −1.2785.",
        reference="Elfwing, Uchibe & Doya (2018); Ramachandran, Zoph & Le (2017)",
        expected=Expected(nonlinear=True, monotonic=False, c1=True, bounded=False, zero_centred=True, saturating=True),
        twin=Twin(
            torch="F.silu(x)",
            jax="jax.nn.silu(x)",
            torch_less_accurate={
                "df": (
                    "torch's backward σ(z)(1 + z(1 − σ(z))) cancels next to the zero of f' at z ≈ -1.2785 "
                    "(827 ULP at z = -1.27958); nnref, Taylor-patched there, ≤ 0.94 ULP."
                ),
            },
        ),
        why=sigmoid.why,
    ),
    Activation(
        name="mish",
        title="Mish",
        known_f=z * sp.tanh(softplus(z)),
        known_df=sp.tanh(softplus(z)) + z * (1 - sp.tanh(softplus(z)) ** 2) * sigmoid(z),
        numpy_f="z * np.tanh(np.logaddexp(0.0, z))",
        numpy_df="np.tanh(np.logaddexp(0.0, z)) + z * 4 * special.expit(2 * np.logaddexp(0.0, z)) * special.expit(-2 * np.logaddexp(0.0, z)) * special.expit(z)",
        f=z * sp.tanh(sp.log(1 + sp.exp(z))),
        stable=z * tanh(softplus(z)),
        ulp_bounds={
            "d2f": (
                10.0,
                "f'' = sech²(softplus z)σ(z)(2 − 2zσ(z)tanh(softplus z) + zσ(−z)): for z beyond the patch about the zero at 1.4906 the bracket subtracts 2zσt from 2, its terms summing to up to 3.8 times its value (z = 2.18), which magnifies the roundings of σ and tanh: 7.6 ULP measured at z = 2.176 (6.9 on a grid of step 0.004 over [0, 12]). A rational form in e^(−z), with no subtraction there, would reach 4 but would no longer be what sympy.diff makes of the stable f'.",
            ),
        },
        summary="z·tanh(softplus(z)): smooth, non-monotonic, with a global minimum at z ≈ −1.1924.",
        reference="Misra (2019), Mish: a self regularized non-monotonic activation function",
        expected=Expected(nonlinear=True, monotonic=False, c1=True, bounded=False, zero_centred=True, saturating=True),
        twin=Twin(
            torch="F.mish(x)",
            jax="jax.nn.mish(x)",
            torch_less_accurate={
                "df": (
                    "torch's backward cancels next to the zero of f' at z ≈ -1.1924 (294 ULP at z = "
                    "-1.19657); nnref, Taylor-patched there, ≤ 1.3 ULP."
                ),
            },
        ),
        why=softplus.why,
    ),
    Activation(
        name="hard_sigmoid",
        title="Hard sigmoid",
        numpy_f="np.clip((z + 3) / 6, 0.0, 1.0)",
        numpy_df="np.where(np.abs(z) < 3, 1 / 6, 0.0)",
        f=_pw((0, z <= -3), (1, z >= 3), (z / 6 + sp.Rational(1, 2), True)),
        # (z + 3)/6: z + 3 is exact near -3 (Sterbenz), where z/6 + 1/2 cancels (2.7 ULP measured).
        stable=_pw((0, z <= -3), (1, z >= 3), (sp.Mul(z + 3, sp.Rational(1, 6), evaluate=False), True)),
        summary="A piecewise-linear sigmoid: relu6(z + 3)/6.",
        reference="Howard et al. (2019), Searching for MobileNetV3",
        expected=Expected(nonlinear=True, monotonic=True, c1=False, bounded=True, zero_centred=False, saturating=True),
        twin=Twin(
            torch="F.hardsigmoid(x)",
            jax="jax.nn.hard_sigmoid(x)",
            note="relu6(z + 3)/6, exactly PyTorch's hardsigmoid (not Keras's older 0.2z + 0.5); both take the outer slope 0 at ±3.",
            torch_less_accurate={
                "df": (
                    "torch's CPU backward multiplies by a float32 1/6 (0.1666666716337204): 3e-8 relative, "
                    "1.8e8 ULP, on all of (-3, 3); nnref ≤ 0.33 ULP."
                ),
            },
        ),
        kink="hard_sigmoid'(±3) = 0 (the outer slope), as in PyTorch.",
        kinks=(-3.0, 3.0),
    ),
    Activation(
        name="hard_tanh",
        title="Hard tanh",
        numpy_f="np.clip(z, -1.0, 1.0)",
        numpy_df="np.where(np.abs(z) < 1, 1.0, 0.0)",
        f=_pw((-1, z <= -1), (1, z >= 1), (z, True)),
        summary="tanh's piecewise-linear cousin: z clipped to [−1, 1].",
        reference="Collobert (2004)",
        expected=Expected(nonlinear=True, monotonic=True, c1=False, bounded=True, zero_centred=True, saturating=True),
        twin=Twin(
            torch="F.hardtanh(x)",
            jax="jax.nn.hard_tanh(x)",
            note="clip(z, -1, 1), torch's defaults min_val=-1, max_val=1; f'(±1) = 0 in both.",
        ),
        kink="hard_tanh'(±1) = 0 (the outer slope), as in PyTorch.",
        kinks=(-1.0, 1.0),
    ),
    Activation(
        name="hard_swish",
        title="Hard swish",
        numpy_f="z * np.clip((z + 3) / 6, 0.0, 1.0)",
        numpy_df="np.where(z <= -3, 0.0, np.where(z >= 3, 1.0, (2 * z + 3) / 6))",
        f=_pw((0, z <= -3), (z, z >= 3), (z * (z + 3) / 6, True)),
        # (2z + 3)/6: exact subtraction next to the zero of f' at -1.5 (z/3 + 1/2: 5.3 ULP measured).
        stable_df=_pw((0, z <= -3), (1, z >= 3), (sp.Mul(2 * z + 3, sp.Rational(1, 6), evaluate=False), True)),
        summary="z·hard_sigmoid(z): a piecewise-quadratic swish.",
        reference="Howard et al. (2019), Searching for MobileNetV3",
        expected=Expected(nonlinear=True, monotonic=False, c1=False, bounded=False, zero_centred=True, saturating=True),
        twin=Twin(
            torch="F.hardswish(x)",
            jax="jax.nn.hard_swish(x)",
            note="z·hard_sigmoid(z); f'(-3) = 0 and f'(3) = 1 (outer slopes) in both.",
            torch_less_accurate={
                "df": (
                    "torch's backward z/3 + 1/2 rounds z/3 before cancelling against 1/2 next to the zero at "
                    "-1.5 (21 ULP at z = -1.52454); nnref computes (2z + 3)/6, where 2z + 3 is exact, ≤ 0.67 "
                    "ULP."
                ),
            },
        ),
        kink="hard_swish'(−3) = 0 and hard_swish'(3) = 1 (the outer slopes); f' jumps at 3 (1.5 → 1).",
        kinks=(-3.0, 3.0),
    ),
    Activation(
        name="log_sigmoid",
        title="Log-sigmoid",
        known_f=-softplus(-z),
        known_df=sigmoid(-z),
        numpy_f="-np.logaddexp(0.0, -z)",
        numpy_df="special.expit(-z)",
        f=sp.log(1 / (1 + sp.exp(-z))),
        stable=log_sigmoid(z),
        summary="log σ(z) = −softplus(−z): the log-probability a sigmoid unit assigns to class 1.",
        reference="",
        expected=Expected(nonlinear=True, monotonic=True, c1=True, bounded=False, zero_centred=False, saturating=True),
        twin=Twin(
            torch="F.logsigmoid(x)",
            jax="jax.nn.log_sigmoid(x)",
        ),
        why="log(1/(1 + exp(−z))) returns −inf at z = −800 and loses everything once 1 + exp(−z) rounds to 1 (z > 37); −softplus(−z) does neither.",
    ),
)

ACTIVATIONS: dict[str, Activation] = {entry.name: entry for entry in ENTRIES}


def names() -> list[str]:
    """Every registry name: the elementwise entries, then the vector-valued ones (derivations/softmax.py)."""
    from derivations.softmax import VECTOR_ACTIVATIONS

    return [entry.name for entry in ENTRIES] + list(VECTOR_ACTIVATIONS)
