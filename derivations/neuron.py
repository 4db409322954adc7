"""The neuron: z = Σ w_i x_i + b, then a = f(z); and the layer Z = W A + b, derived by SymPy."""

from __future__ import annotations

import sympy as sp

from derivations.identities import Identity, prove_all

SIZES = ((2, 3, 4), (3, 2, 1), (1, 4, 5))  # (units, inputs, examples): non-square, m > 1 included


def neuron(n: int):
    w = sp.IndexedBase("w")
    x = sp.IndexedBase("x")
    b = sp.Symbol("b", real=True)
    z = sum(w[i] * x[i] for i in range(1, n + 1)) + b
    return w, x, b, z


def identities() -> list[Identity]:
    out = []
    i = sp.Symbol("i", integer=True, positive=True)
    n_symbolic = sp.Symbol("n", integer=True, positive=True)
    w, x = sp.IndexedBase("w"), sp.IndexedBase("x")
    b = sp.Symbol("b", real=True)
    z_sum = sp.Sum(w[i] * x[i], (i, 1, n_symbolic)) + b
    out.append(Identity("pre-activation", r"z = \sum_{i=1}^{n} w_i x_i + b", z_sum, z_sum, True, "definition"))
    pairs_w, pairs_x, pairs_b = [], [], []
    for n in (1, 2, 3, 5):
        w_n, x_n, b_n, z_n = neuron(n)
        for k in range(1, n + 1):
            pairs_w.append((sp.diff(z_n, w_n[k]), x_n[k]))
            pairs_x.append((sp.diff(z_n, x_n[k]), w_n[k]))
        pairs_b.append((sp.diff(z_n, b_n), sp.Integer(1)))
    cases = ("n = 1, 2, 3, 5",)
    out.append(prove_all("weight", r"\frac{\partial z}{\partial w_i} = x_i", pairs_w, cases))
    out.append(prove_all("input", r"\frac{\partial z}{\partial x_i} = w_i", pairs_x, cases))
    out.append(prove_all("bias", r"\frac{\partial z}{\partial b} = 1", pairs_b, cases))
    pairs_layer = []
    for units, inputs, m in SIZES:
        W = sp.Matrix(units, inputs, lambda r, c: sp.Symbol(f"W_{r}{c}", real=True))
        A = sp.Matrix(inputs, m, lambda r, c: sp.Symbol(f"A_{r}{c}", real=True))
        bias = sp.Matrix(units, 1, lambda r, c: sp.Symbol(f"b_{r}", real=True))
        # One neuron per unit and example, written out: z_rj = Σ_k W_rk A_kj + b_r.
        per_neuron = sp.Matrix(
            [[sum(W[r, k] * A[k, j] for k in range(inputs)) + bias[r] for j in range(m)] for r in range(units)]
        )
        pairs_layer.append((per_neuron, W * A + bias * sp.ones(1, m)))
    out.append(
        prove_all(
            "layer",
            r"Z = W A + b \;\;(z_{rj} = \textstyle\sum_k W_{rk} A_{kj} + b_r)",
            pairs_layer,
            tuple(f"W {u}×{n}, A {n}×{m}" for u, n, m in SIZES),
        )
    )
    return out
