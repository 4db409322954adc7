"""softmax and log_softmax over the units axis (axis 0): Jacobians and VJPs derived on symbolic K-vectors.

p = softmax(z), p_i = e^{z_i} / Σ_j e^{z_j}. SymPy differentiates p_i by z_j for K = 2, 3, 4 and the
result is shown equal to diag(p) − p pᵀ; log_softmax's Jacobian to I − 1 pᵀ. The vector-Jacobian
products the code uses follow: Jᵀg = p ⊙ (g − Σ_j p_j g_j) and g − p Σ_j g_j.
"""

from __future__ import annotations

import sympy as sp

from derivations.entry import Twin
from derivations.identities import Identity, prove_all

SIZES = (2, 3, 4)

#: The vector-valued activations (over axis 0, the units axis), implemented by hand in
#: nnref/_vector.py and tested against these identities, with their PyTorch and JAX twins.
VECTOR_ACTIVATIONS: dict[str, Twin] = {
    "softmax": Twin(torch="torch.softmax(x, dim=0)", jax="jax.nn.softmax(x, axis=0)"),
    "log_softmax": Twin(torch="torch.log_softmax(x, dim=0)", jax="jax.nn.log_softmax(x, axis=0)"),
}


def _vectors(K: int):
    zs = sp.Matrix([sp.Symbol(f"z_{i}", real=True) for i in range(K)])
    gs = sp.Matrix([sp.Symbol(f"g_{i}", real=True) for i in range(K)])
    ys = sp.Matrix([sp.Symbol(f"y_{i}", nonnegative=True) for i in range(K)])
    denom = sum(sp.exp(zi) for zi in zs)
    p = sp.Matrix([sp.exp(zi) / denom for zi in zs])
    return zs, gs, ys, p


def identities() -> list[Identity]:
    jac, jac_log, vjp, vjp_log, shift = [], [], [], [], []
    c = sp.Symbol("c", real=True)
    for K in SIZES:
        zs, gs, ys, p = _vectors(K)
        J = p.jacobian(zs)
        jac.append((J, sp.diag(*p) - p * p.T))
        logp = sp.Matrix([zi - sp.log(sum(sp.exp(zj) for zj in zs)) for zi in zs])
        J_log = logp.jacobian(zs)
        jac_log.append((J_log, sp.eye(K) - sp.ones(K, 1) * p.T))
        s = sum(p[j] * gs[j] for j in range(K))
        vjp.append((J.T * gs, sp.Matrix([p[i] * (gs[i] - s) for i in range(K)])))
        vjp_log.append((J_log.T * gs, sp.Matrix([gs[i] - p[i] * sum(gs) for i in range(K)])))
        shifted = sp.Matrix([sp.exp(zi - c) / sum(sp.exp(zj - c) for zj in zs) for zi in zs])
        shift.append((shifted, p))
    cases = tuple(f"K = {K}" for K in SIZES)
    return [
        prove_all("softmax Jacobian", r"\frac{\partial p}{\partial z} = \operatorname{diag}(p) - p p^\top", jac, cases),
        prove_all(
            "log_softmax Jacobian", r"\frac{\partial \log p}{\partial z} = I - \mathbf{1} p^\top", jac_log, cases
        ),
        prove_all("softmax VJP", r"J^\top g = p \odot \bigl(g - \textstyle\sum_j p_j g_j\bigr)", vjp, cases),
        prove_all("log_softmax VJP", r"J^\top g = g - p \textstyle\sum_j g_j", vjp_log, cases),
        prove_all("shift invariance", r"\operatorname{softmax}(z - c) = \operatorname{softmax}(z)", shift, cases),
    ]


def softmax_ce_identity() -> Identity:
    """d/dz_i of −Σ_k y_k log softmax(z)_k equals p_i − y_i when Σ_k y_k = 1 (K = 2, 3, 4)."""
    pairs = []
    for K in SIZES:
        zs, _, ys, p = _vectors(K)
        loss = -sum(ys[k] * sp.log(p[k]) for k in range(K))
        grad = sp.Matrix([sp.diff(loss, zi) for zi in zs])
        # Impose Σ y = 1 by eliminating the last label.
        last = 1 - sum(ys[:-1])
        grad = grad.subs(ys[-1], last)
        pairs.append((grad, (p - ys).subs(ys[-1], last)))
    return prove_all(
        "softmax + CE",
        r"\frac{\partial}{\partial z}\Bigl(-\textstyle\sum_k y_k \log \operatorname{softmax}(z)_k\Bigr) = p - y\;\;(\textstyle\sum_k y_k = 1)",
        pairs,
        tuple(f"K = {K}" for K in SIZES),
    )
