"""Every loss, one entry each: the per-element textbook loss ℓ(ŷ, y) and the stable form the code uses.

The cost of m examples (one per column) is J = (1/m) Σ_examples Σ_units ℓ, and the gradient the
runtime returns is ∂J/∂ŷ = (1/m) ∂ℓ/∂ŷ: the 1/m lives in the loss, exactly once. The fused results
(sigmoid + BCE gives a − y; softmax + CE gives p − y) are derived in ``derivations/fused.py``.

What each field means is in ``derivations/entry.py``. A twin's ``torch``/``jax`` expression is one
whose sum over its entries is Σ ℓ (per element, or per example for softmax cross-entropy).
"""

from __future__ import annotations

import sympy as sp

from derivations.entry import Loss, Twin
from derivations.functions import sigmoid, sigmoid_minus, softplus, xdivy, xlog1py, xlogy
from derivations.symbols import delta, y, y_hat

#: The logit, for the losses that take one.
z = sp.Symbol("z", real=True)


r = y_hat - y

ENTRIES: tuple[Loss, ...] = (
    Loss(
        name="mse",
        title="Mean squared error (MSE)",
        value=(y_hat - y) ** 2,
        summary="ℓ = (ŷ − y)², summed over units and averaged over the m examples.",
        residual=True,
        known_grad=2 * sp.UnevaluatedExpr(y_hat - y),
        numpy_value="(y_hat - y) ** 2",
        numpy_grad="2 * (y_hat - y)",
        twin=Twin(torch="F.mse_loss(x, t, reduction='none')", jax="(x - t) ** 2", expressions=("JAX",)),
    ),
    Loss(
        name="mae",
        title="Mean absolute error (MAE)",
        value=sp.Abs(y_hat - y),
        stable_grad=sp.sign(y_hat - y),
        summary="ℓ = |ŷ − y|: robust to outliers, not differentiable where ŷ = y.",
        kink="∂ℓ/∂ŷ = sign(ŷ − y), taken as 0 where ŷ = y.",
        residual=True,
        known_grad=sp.sign(y_hat - y),
        numpy_value="np.abs(y_hat - y)",
        numpy_grad="np.sign(y_hat - y)",
        grad_kink="y_hat = y",
        twin=Twin(
            torch="F.l1_loss(x, t, reduction='none')",
            jax="jnp.abs(x - t)",
            note="∂|r|/∂r = sign(0) = 0 at ties in both.",
            expressions=("JAX",),
        ),
    ),
    Loss(
        name="huber",
        title="Huber loss",
        value=sp.Piecewise((r**2 / 2, sp.Abs(r) <= delta), (delta * (sp.Abs(r) - delta / 2), True)),
        stable_grad=sp.Piecewise((r, sp.Abs(r) <= delta), (delta * sp.sign(r), True)),
        params={"delta": 1.0},
        summary="Quadratic within delta of the target, linear beyond: MSE's smoothness with MAE's robustness.",
        kink="Continuous derivative; ∂²ℓ/∂ŷ² jumps at |ŷ − y| = delta.",
        residual=True,
        known_value=sp.Piecewise(
            (sp.UnevaluatedExpr(r) ** 2 / 2, sp.Abs(sp.UnevaluatedExpr(r)) <= delta),
            (delta * (sp.Abs(sp.UnevaluatedExpr(r)) - delta / 2), True),
        ),
        known_grad=sp.Max(-delta, sp.Min(r, delta)),
        numpy_value="np.where(np.abs(y_hat - y) <= delta, (y_hat - y) ** 2 / 2, delta * (np.abs(y_hat - y) - delta / 2))",
        numpy_grad="np.clip(y_hat - y, -delta, delta)",
        twin=Twin(
            torch="F.huber_loss(x, t, reduction='none', delta=delta)",
            jax="jnp.where(jnp.abs(x - t) <= delta, 0.5 * (x - t) ** 2, delta * (jnp.abs(x - t) - 0.5 * delta))",
            expressions=("JAX",),
        ),
    ),
    Loss(
        name="binary_cross_entropy",
        title="Binary cross-entropy (the notebook's cost)",
        value=-(y * sp.log(y_hat) + (1 - y) * sp.log(1 - y_hat)),
        stable=-(xlogy(y, y_hat) + xlog1py(1 - y, -y_hat)),
        # Inside (0, 1) one division, no cancellation near ŷ = y; at ŷ ∈ {0, 1} each term under the
        # 0·log 0 = 0 convention, so a certain, correct prediction has gradient ∓1, not 0/0.
        stable_grad=sp.Piecewise(
            ((y_hat - y) / (y_hat * (1 - y_hat)), (y_hat > 0) & (y_hat < 1)),
            (xdivy(1 - y, 1 - y_hat) - xdivy(y, y_hat), True),
        ),
        summary="ℓ = −(y log ŷ + (1 − y) log(1 − ŷ)) for a probability ŷ of class 1.",
        known_grad=(y_hat - y) / (y_hat * (1 - y_hat)),
        numpy_value="-(special.xlogy(y, y_hat) + special.xlog1py(1 - y, -y_hat))",
        numpy_grad="(y_hat - y) / (y_hat * (1 - y_hat))",
        numpy_note=(
            "The gradient divides by zero at ŷ = 0 or 1; there nnref counts a term whose weight (y or "
            "1 − y) is 0 as 0, so a certain, correct prediction gets ∓1."
        ),
        prediction="probability",
        target="probability",
        why=(
            "log(1 − ŷ) loses ŷ when ŷ < 1.1e-16; log1p(−ŷ) keeps it. ŷ may be 0 or 1 (sigmoid(40) "
            "rounds to 1.0), where y·log ŷ would be 0·(−inf) = NaN: xlogy and xlog1py count a term "
            "whose weight is 0 as 0 (0·log 0 = 0), so ℓ is +inf only where the true loss is (ŷ = 1 "
            "with y < 1, ŷ = 0 with y > 0), and the gradient follows the same rule (−1 at ŷ = y = 1, "
            "+1 at ŷ = y = 0)."
        ),
        twin=Twin(
            torch="F.binary_cross_entropy(x, t, reduction='none')",
            jax="-(t * jnp.log(x) + (1 - t) * jnp.log1p(-x))",
            expressions=("JAX",),
        ),
    ),
    Loss(
        name="binary_cross_entropy_with_logits",
        title="Binary cross-entropy from logits",
        x=z,
        value=-(y * sp.log(1 / (1 + sp.exp(-z))) + (1 - y) * sp.log(1 - 1 / (1 + sp.exp(-z)))),
        stable=y * softplus(-z) + (1 - y) * softplus(z),
        stable_grad=sigmoid_minus(z, y),
        summary="BCE of σ(z), computed from the logit z: never forms log(0), and its gradient is σ(z) − y.",
        known_value=-(y * sp.log(sigmoid(z)) + (1 - y) * sp.log(1 - sigmoid(z))),
        known_grad=sigmoid(z) - y,
        numpy_value="y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z)",
        numpy_grad="(1 - y) * special.expit(z) - y * special.expit(-z)",
        prediction="logit",
        target="probability",
        twin=Twin(
            torch="F.binary_cross_entropy_with_logits(x, t, reduction='none')",
            jax="jax.nn.softplus(x) - t * x",
            expressions=("JAX",),
        ),
        why=(
            "log(σ(z)) is −inf once σ(z) underflows (z < −745) and log(1 − σ(z)) once σ(z) rounds to 1 "
            "(z > 37); y·softplus(−z) + (1 − y)·softplus(z) has neither problem and no subtraction. The "
            "gradient σ(z) − y cancels for a soft label y near σ(z) = y (12.8 ULP at z = −1, y = 0.3, "
            "as (1 − y)σ(z) − yσ(−z)); nnref forms it in double-double arithmetic there."
        ),
        numpy_note=(
            "For a soft label y the copyable gradient loses the digits σ(z) and y share: 12.8 ULP at "
            "z = −1, y = 0.3, more closer to σ(z) = y. nnref's stays within 3 ULP."
        ),
    ),
    Loss(
        name="categorical_cross_entropy",
        title="Categorical cross-entropy (from probabilities)",
        value=-y * sp.log(y_hat),
        stable=-xlogy(y, y_hat),
        summary="ℓ = −Σ_k y_k log p_k for class probabilities p along axis 0.",
        numpy_value="-special.xlogy(y, y_hat)",
        numpy_grad="-y / y_hat",
        numpy_note="The gradient divides by zero where a class probability is 0; nnref gives 0 there when its label is 0.",
        why=(
            "−y·log p is 0·(−inf) = NaN where p = 0 in a class whose label y is 0: xlogy counts that "
            "term as 0 (0·log 0 = 0), and its gradient too; ℓ = +inf only where p = 0 and y > 0."
        ),
        prediction="class_probability",
        target="distribution",
        twin=Twin(torch="-(t * torch.log(x))", jax="-(t * jnp.log(x))", expressions=("PyTorch", "JAX")),
    ),
    Loss(
        name="softmax_cross_entropy",
        title="Softmax cross-entropy (from logits)",
        x=z,
        value=-y * z,  # placeholder per-element part; the loss couples a column, see softmax.py
        summary="−Σ_k y_k log softmax(z)_k from logits z along axis 0; its gradient is p − y.",
        numpy_value="-np.sum(y * special.log_softmax(z, axis=0), axis=0)",
        numpy_grad="special.softmax(z, axis=0) - y",
        numpy_note=(
            "scipy's log_softmax rounds 1 + Σ e^(z_k − max z) before taking its log, so a loss below "
            "1e-15 (a near-certain, correct prediction) is right to about 1e-16 absolute only; nnref "
            "takes log1p of the sum of the other terms and keeps it to full precision."
        ),
        prediction="logit",
        target="distribution",
        vector=True,
        twin=Twin(
            torch="F.cross_entropy(x.T, t.T, reduction='none')",
            jax="-jnp.sum(t * jax.nn.log_softmax(x, axis=0), axis=0)",
            note="F.cross_entropy with class-probability targets (soft labels), classes on dim 1 of (m, units).",
            expressions=("JAX",),
        ),
    ),
    Loss(
        name="hinge",
        title="Hinge loss",
        value=sp.Max(0, 1 - y * y_hat),
        stable=sp.Piecewise((1 - y * y_hat, y * y_hat < 1), (0, True)),
        stable_grad=sp.Piecewise((-y, y * y_hat < 1), (0, True)),
        summary="ℓ = max(0, 1 − y ŷ) for labels y ∈ {−1, +1}: the support vector machine's loss.",
        target="sign",
        kink="∂ℓ/∂ŷ = 0 at y ŷ = 1.",
        known_grad=sp.Piecewise((-y, y * y_hat < 1), (0, True)),
        numpy_value="np.maximum(0.0, 1 - y * y_hat)",
        numpy_grad="np.where(y * y_hat < 1, -y, 0.0)",
        grad_kink="y*y_hat = 1",
        twin=Twin(
            torch="F.relu(1 - t * x)",
            jax="jnp.maximum(0.0, 1 - t * x)",
            note="relu, not clamp: relu'(0) = 0 matches nnref's ∂ℓ/∂ŷ = 0 at yŷ = 1 (clamp's backward passes it).",
            expressions=("PyTorch", "JAX"),
        ),
    ),
)

LOSSES: dict[str, Loss] = {entry.name: entry for entry in ENTRIES}


def names() -> list[str]:
    return [entry.name for entry in ENTRIES]
