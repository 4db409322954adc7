"""Every loss, one entry each: the per-element textbook loss ℓ(ŷ, y) and the stable form the code uses.

The cost of m examples (one per column) is J = (1/m) Σ_examples Σ_units ℓ, and the gradient the
runtime returns is ∂J/∂ŷ = (1/m) ∂ℓ/∂ŷ: the 1/m lives in the loss, exactly once. The fused results
(sigmoid + BCE gives a − y; softmax + CE gives p − y) are derived here, not asserted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import sympy as sp

from derivations.codegen import function_source, producer
from derivations.functions import log1p, softplus
from derivations.identities import Identity, prove
from derivations.symbols import delta, y, y_hat

#: The logit, for the losses that take one.
z = sp.Symbol("z", real=True)


@dataclass(frozen=True)
class Loss:
    name: str
    title: str
    value: sp.Expr  # textbook per-element loss in (x, y), x = y_hat or z
    summary: str
    domain: str  # what the runtime accepts, stated for the docs and the errors
    x: sp.Symbol = y_hat
    stable: sp.Expr | None = None
    stable_grad: sp.Expr | None = None
    params: dict[str, float] = field(default_factory=dict)
    kink: str = ""
    why: str = ""
    vector: bool = False  # the loss couples the units of a column (softmax cross-entropy)
    #: Measured ULP bounds where 4 cannot be reached, with the reason: {"grad": (bound, reason)}.
    ulp_bounds: dict[str, tuple[float, str]] = field(default_factory=dict)

    @cached_property
    def grad(self) -> sp.Expr:
        return sp.diff(self.value, self.x)

    @cached_property
    def code_value(self) -> sp.Expr:
        return self.value if self.stable is None else self.stable

    @cached_property
    def code_grad(self) -> sp.Expr:
        return self.stable_grad if self.stable_grad is not None else sp.diff(self.code_value, self.x)


r = y_hat - y

ENTRIES: tuple[Loss, ...] = (
    Loss(
        name="mse",
        title="Mean squared error",
        value=(y_hat - y) ** 2,
        summary="ℓ = (ŷ − y)², summed over units and averaged over the m examples.",
        domain="y_hat and y: any finite reals of the same shape",
    ),
    Loss(
        name="mae",
        title="Mean absolute error",
        value=sp.Abs(y_hat - y),
        stable_grad=sp.sign(y_hat - y),
        summary="ℓ = |ŷ − y|: robust to outliers, not differentiable where ŷ = y.",
        domain="y_hat and y: any finite reals of the same shape",
        kink="∂ℓ/∂ŷ = sign(ŷ − y), taken as 0 where ŷ = y.",
    ),
    Loss(
        name="huber",
        title="Huber loss",
        value=sp.Piecewise((r**2 / 2, sp.Abs(r) <= delta), (delta * (sp.Abs(r) - delta / 2), True)),
        stable_grad=sp.Piecewise((r, sp.Abs(r) <= delta), (delta * sp.sign(r), True)),
        params={"delta": 1.0},
        summary="Quadratic within delta of the target, linear beyond: MSE's smoothness with MAE's robustness.",
        domain="y_hat and y: any finite reals of the same shape; delta > 0",
        kink="Continuous derivative; ∂²ℓ/∂ŷ² jumps at |ŷ − y| = delta.",
    ),
    Loss(
        name="binary_cross_entropy",
        title="Binary cross-entropy (the notebook's cost)",
        value=-(y * sp.log(y_hat) + (1 - y) * sp.log(1 - y_hat)),
        stable=-(y * sp.log(y_hat) + (1 - y) * log1p(-y_hat)),
        stable_grad=(y_hat - y) / (y_hat * (1 - y_hat)),
        summary="ℓ = −(y log ŷ + (1 − y) log(1 − ŷ)) for a probability ŷ of class 1.",
        domain="0 < y_hat < 1, 0 ≤ y ≤ 1",
        why="log(1 − ŷ) loses ŷ when ŷ < 1.1e-16; log1p(−ŷ) keeps it.",
    ),
    Loss(
        name="binary_cross_entropy_with_logits",
        title="Binary cross-entropy from logits",
        x=z,
        value=-(y * sp.log(1 / (1 + sp.exp(-z))) + (1 - y) * sp.log(1 - 1 / (1 + sp.exp(-z)))),
        stable=y * softplus(-z) + (1 - y) * softplus(z),
        summary="BCE of σ(z), computed from the logit z: never forms log(0), and its gradient is σ(z) − y.",
        domain="z: any finite real; 0 ≤ y ≤ 1",
        ulp_bounds={
            "grad": (
                16.0,
                "For a soft label y, σ(z) − y cancels near σ(z) = y: the rounding of σ(z) is magnified by "
                "σ(z)/|σ(z) − y| (12.8 ULP measured at z = −1, y = 0.3). For y ∈ {0, 1} the gradient is "
                "(1 − y)σ(z) − yσ(−z) with no subtraction, within 4 ULP.",
            )
        },
        why=(
            "log(σ(z)) is −inf once σ(z) underflows (z < −745) and log(1 − σ(z)) once σ(z) rounds to 1 "
            "(z > 37); y·softplus(−z) + (1 − y)·softplus(z) has neither problem and no subtraction."
        ),
    ),
    Loss(
        name="categorical_cross_entropy",
        title="Categorical cross-entropy (from probabilities)",
        value=-y * sp.log(y_hat),
        summary="ℓ = −Σ_k y_k log p_k for class probabilities p along axis 0.",
        domain="0 < y_hat ≤ 1; y ≥ 0 with each column summing to 1",
    ),
    Loss(
        name="softmax_cross_entropy",
        title="Softmax cross-entropy (from logits)",
        x=z,
        value=-y * z,  # placeholder per-element part; the loss couples a column, see softmax.py
        summary="−Σ_k y_k log softmax(z)_k from logits z along axis 0; its gradient is p − y.",
        domain="z: any finite reals; y ≥ 0 with each column summing to 1",
        vector=True,
    ),
    Loss(
        name="hinge",
        title="Hinge loss",
        value=sp.Max(0, 1 - y * y_hat),
        stable=sp.Piecewise((1 - y * y_hat, y * y_hat < 1), (0, True)),
        stable_grad=sp.Piecewise((-y, y * y_hat < 1), (0, True)),
        summary="ℓ = max(0, 1 − y ŷ) for labels y ∈ {−1, +1}: the support vector machine's loss.",
        domain="y in {−1, +1}; y_hat any finite real",
        kink="∂ℓ/∂ŷ = 0 at y ŷ = 1.",
    ),
)

LOSSES: dict[str, Loss] = {entry.name: entry for entry in ENTRIES}


def names() -> list[str]:
    return [entry.name for entry in ENTRIES]


# ---------------------------------------------------------------------------------------------
# The fused results, derived
# ---------------------------------------------------------------------------------------------


def fused_identities() -> list[Identity]:
    """sigmoid + BCE gives dZ = A − Y; softmax + CE gives p − y (for K = 2, 3, 4)."""
    out = []
    a = 1 / (1 + sp.exp(-z))
    bce = -(y * sp.log(a) + (1 - y) * sp.log(1 - a))
    out.append(
        prove(
            "sigmoid + BCE",
            r"\frac{\partial}{\partial z}\,\mathcal{L}\bigl(\sigma(z), y\bigr) = \sigma(z) - y",
            sp.diff(bce, z),
            a - y,
        )
    )
    m = sp.Symbol("m", positive=True, integer=True)
    out.append(
        prove(
            "with the 1/m of the cost",
            r"\frac{\partial J}{\partial Z^{[L]}} = \frac{1}{m}\bigl(A^{[L]} - Y\bigr),\; J = \frac1m \sum \mathcal{L}",
            sp.diff(bce / m, z),
            (a - y) / m,
        )
    )
    from derivations.softmax import softmax_ce_identity

    out.append(softmax_ce_identity())
    return out


# ---------------------------------------------------------------------------------------------
# Code
# ---------------------------------------------------------------------------------------------


def _doc(entry: Loss, which: str) -> str:
    textbook = entry.value if which == "value" else entry.grad
    code = entry.code_value if which == "value" else entry.code_grad
    label = "per-element loss ℓ" if which == "value" else f"∂ℓ/∂{entry.x}"
    doc = f"{entry.name}: {label}.\n\nTextbook (SymPy): {sp.sstr(textbook)}\n"
    if sp.srepr(code) != sp.srepr(textbook):
        doc += f"Computed as:      {sp.sstr(code)}\n"
    if entry.kink:
        doc += f"\nAt kinks: {entry.kink}\n"
    return doc


@producer
def generated_losses() -> dict[str, str]:
    from derivations.codegen import HEADER

    parts = [
        HEADER.format(source="losses.py"),
        '"""Per-element losses and their gradients, printed from their SymPy stable forms.\n\n'
        "nnref.losses sums them over units, averages over the m examples (columns) and divides the\n"
        'gradient by m, so that it is the exact gradient of the returned cost."""\n',
        "import numpy",
        "import scipy.special",
        "",
        "import nnref._primitives",
        "",
    ]
    for entry in ENTRIES:
        if entry.vector:
            continue
        arg = f"{entry.x}, y"
        for which, expr in (("value", entry.code_value), ("grad", entry.code_grad)):
            parts.append("")
            parts.append(function_source(f"{entry.name}_{which}", [expr], entry.params, _doc(entry, which), arg=arg))
    parts.append("")
    parts.append("#: Metadata the runtime needs without SymPy.")
    parts.append("ENTRIES = {")
    for entry in ENTRIES:
        parts.append(f"    {entry.name!r}: {{")
        parts.append(f"        'title': {entry.title!r},")
        parts.append(f"        'input': {str(entry.x)!r},")
        parts.append(f"        'params': {dict(entry.params)!r},")
        parts.append(f"        'domain': {entry.domain!r},")
        parts.append(f"        'vector': {entry.vector!r},")
        parts.append("    },")
    parts.append("}")
    return {"nnref/_generated/losses.py": "\n".join(parts)}
