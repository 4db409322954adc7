"""softmax and log_softmax over the units axis (axis 0): Jacobians and VJPs derived on symbolic K-vectors.

p = softmax(z), p_i = e^{z_i} / Σ_j e^{z_j}. SymPy differentiates p_i by z_j for K = 2, 3, 4 and the
result is shown equal to diag(p) − p pᵀ; log_softmax's Jacobian to I − 1 pᵀ. The vector-Jacobian
products the code uses follow: Jᵀg = p ⊙ (g − Σ_j p_j g_j) and g − p Σ_j g_j.
"""

from __future__ import annotations

import sympy as sp

from derivations.codegen import HEADER, producer
from derivations.identities import Identity, prove_all
from derivations.printer import numpy_code

SIZES = (2, 3, 4)


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


# The elementwise parts, printed by the same printer as everything else.
_p, _g, _s, _d, _lse = sp.symbols("p g s shifted lse", real=True)


@producer
def generated_softmax() -> dict[str, str]:
    vjp_softmax = numpy_code(_p * (_g - _s))
    vjp_log_softmax = numpy_code(_g - _p * _s)
    log_softmax = numpy_code(_d - _lse)
    text = f'''{HEADER.format(source="softmax.py")}
"""softmax and log_softmax over axis 0 (the units axis), and their vector-Jacobian products.

The Jacobians diag(p) − p pᵀ and I − 1 pᵀ are derived in derivations/softmax.py; the reductions
over axis 0 are written here, the elementwise parts are printed from SymPy.
"""

import numpy


def softmax(z):
    r"""p = exp(z − max z) / Σ exp(z − max z) over axis 0: shifting by the max cannot overflow."""
    e = numpy.exp(z - numpy.max(z, axis=0, keepdims=True))
    return e / numpy.sum(e, axis=0, keepdims=True)


def log_softmax(z):
    r"""log p = (z − max z) − log(1 + Σ' exp(z − max z)) over axis 0, Σ' leaving out the max unit.

    No log of an underflowed p; and log1p of the other units' sum keeps the dominant unit's
    log p ≈ −Σ' accurate (log of the rounded 1 + Σ' would keep only its first digits). The
    rounding error r of z − max z (Knuth's two-sum) enters Σ' as exp(d + r) ≈ exp(d)(1 + r).
    """
    top = numpy.argmax(z, axis=0)[numpy.newaxis]
    zmax = numpy.take_along_axis(z, top, axis=0)
    shifted = z - zmax
    with numpy.errstate(invalid="ignore"):  # inf − inf in the error term of an infinite z
        b = shifted - z
        r = (z - (shifted - b)) - (zmax + b)  # shifted + r = z − zmax exactly
    r[~numpy.isfinite(r)] = 0.0
    e = numpy.exp(shifted)
    e += e * r
    numpy.put_along_axis(e, top, 0.0, axis=0)  # the max unit's exp(0) = 1, held out of the sum
    lse = numpy.log1p(numpy.sum(e, axis=0, keepdims=True))
    return {log_softmax}


def softmax_vjp(z, g):
    r"""Jᵀg = p ⊙ (g − Σ_j p_j g_j), from J = diag(p) − p pᵀ."""
    p = softmax(z)
    s = numpy.sum(p * g, axis=0, keepdims=True)
    return {vjp_softmax}


def log_softmax_vjp(z, g):
    r"""Jᵀg = g − p Σ_j g_j, from J = I − 1 pᵀ."""
    p = softmax(z)
    s = numpy.sum(g, axis=0, keepdims=True)
    return {vjp_log_softmax}
'''
    return {"nnref/_generated/softmax.py": text}
