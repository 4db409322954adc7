"""Why Xavier/Glorot and He initialisation scale the weights as they do, derived with sympy.stats.

For z = Σ_{i=1..n} w_i x_i with independent weights (mean 0, variance σ_w²) and inputs:
Var(z) = n σ_w² E[x²]. Xavier keeps Var(z) = Var(x) for zero-mean inputs: σ_w² = 1/n.
After a ReLU, x = max(0, u) with u ~ N(0, s²) has E[x²] = s²/2, so keeping Var(z) = s² needs
σ_w² = 2/n: He's initialisation. The notebook's randn × 0.01 shrinks the signal by 0.01·√n per
layer instead.
"""

from __future__ import annotations

import sympy as sp
from sympy import stats

from derivations.identities import Identity, prove, prove_all


def identities() -> list[Identity]:
    sw, sx, s = sp.symbols("sigma_w sigma_x s", positive=True)
    pairs = []
    for n in (1, 2, 3):
        w = [stats.Normal(f"w{i}", 0, sw) for i in range(n)]
        x = [stats.Normal(f"x{i}", 0, sx) for i in range(n)]
        z = sum(wi * xi for wi, xi in zip(w, x))
        pairs.append((sp.simplify(stats.variance(z)), n * sw**2 * sx**2))
    u = stats.Normal("u", 0, s)
    relu_second_moment = sp.simplify(stats.E(sp.Piecewise((u, u > 0), (0, True)) ** 2))
    n = sp.Symbol("n", positive=True, integer=True)
    return [
        prove_all(
            "variance of a pre-activation",
            r"\operatorname{Var}\Bigl(\sum_{i=1}^{n} w_i x_i\Bigr) = n\,\sigma_w^2 \sigma_x^2",
            pairs,
            ("n = 1, 2, 3 (independent normals)",),
        ),
        prove("after a ReLU", r"E\bigl[\max(0, u)^2\bigr] = s^2/2,\;\; u \sim N(0, s^2)", relu_second_moment, s**2 / 2),
        prove(
            "Xavier/Glorot",
            r"n\,\sigma_w^2 \sigma_x^2 = \sigma_x^2 \iff \sigma_w^2 = 1/n",
            (n * sw**2 * sx**2).subs(sw, 1 / sp.sqrt(n)),
            sx**2,
        ),
        prove(
            "He",
            r"n\,\sigma_w^2\, s^2/2 = s^2 \iff \sigma_w^2 = 2/n",
            (n * sw**2 * s**2 / 2).subs(sw, sp.sqrt(2 / n)),
            s**2,
        ),
    ]
