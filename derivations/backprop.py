"""Backpropagation in matrix form, proven entry by entry on symbolic matrices.

For a layer Z = W A_prev + b (examples in columns, m of them) and the cost J = (1/m) Σ_j L_j,
SymPy differentiates elementwise on concrete, non-square sizes with m > 1 and compares with the
matrix forms the notebook uses. Here dZ denotes ∂(mJ)/∂Z, the gradient of the *sum* over
examples, which is what the notebook's dZ is; the 1/m then appears on dW and db only.
"""

from __future__ import annotations

import sympy as sp

from derivations.identities import Identity, prove_all

SIZES = ((2, 3, 4), (3, 2, 5), (1, 4, 3))  # (units n_l, inputs n_{l-1}, examples m)
_U = sp.Symbol("u", real=True)  # the argument of g' in the two-layer chain rule


def _matrix(name: str, rows: int, cols: int) -> sp.Matrix:
    return sp.Matrix(rows, cols, lambda r, c: sp.Symbol(f"{name}_{r}{c}", real=True))


def _entrywise(rows: int, cols: int, entries) -> sp.Matrix:
    """A matrix from a flat row-major sequence of entries (built eagerly, inside the loop)."""
    return sp.Matrix(rows, cols, list(entries))


def _layer(n: int, n_prev: int, m: int):
    W = _matrix("W", n, n_prev)
    A = _matrix("A", n_prev, m)
    b = _matrix("b", n, 1)
    Z = W * A + b * sp.ones(1, m)
    return W, A, b, Z


def identities() -> list[Identity]:
    dW_pairs, db_pairs, dA_pairs, dZ_pairs, chain_pairs = [], [], [], [], []
    g = sp.Function("g")
    for n, n_prev, m in SIZES:
        W, A, b, Z = _layer(n, n_prev, m)
        # A generic downstream cost: J = (1/m) Σ_ij G_ij · Z_ij with symbols G (any downstream
        # gradient works: the chain rule is linear in it). Then dZ = ∂(mJ)/∂Z is G.
        G = _matrix("G", n, m)
        J = sum(G[i, j] * Z[i, j] for i in range(n) for j in range(m)) / m
        dW = _entrywise(n, n_prev, (sp.diff(J, W[r, c]) for r in range(n) for c in range(n_prev)))
        db = _entrywise(n, 1, (sp.diff(J, b[r, 0]) for r in range(n)))
        dA = _entrywise(n_prev, m, (sp.diff(J, A[r, c]) * m for r in range(n_prev) for c in range(m)))
        dW_pairs.append((dW, G * A.T / m))
        db_pairs.append((db, _entrywise(n, 1, (sum(G[r, j] for j in range(m)) / m for r in range(n)))))
        dA_pairs.append((dA, W.T * G))
        # The activation step, on a sum S = Σ H_ij g(Z_ij) with dA = H:  dZ = ∂S/∂Z = H ⊙ g'(Z).
        Zs = _matrix("Z", n, m)
        H = _matrix("H", n, m)
        J2 = sum(H[i, j] * g(Zs[i, j]) for i in range(n) for j in range(m))
        dZ = _entrywise(n, m, (sp.diff(J2, Zs[r, c]) for r in range(n) for c in range(m)))
        rule = _entrywise(n, m, (H[r, c] * sp.diff(g(Zs[r, c]), Zs[r, c]) for r in range(n) for c in range(m)))
        dZ_pairs.append((dZ, rule))
    # Two stacked layers: d/dW1 of a cost through Z2 = W2 g(W1 A0 + b1) + b2.
    for n1, n0, m in ((2, 3, 2), (3, 2, 3)):
        n2 = 2
        W1, A0, b1, Z1 = _layer(n1, n0, m)
        W2 = _matrix("V", n2, n1)
        b2 = _matrix("c", n2, 1)
        A1 = Z1.applyfunc(g)
        Z2 = W2 * A1 + b2 * sp.ones(1, m)
        G = _matrix("G", n2, m)
        J = sum(G[i, j] * Z2[i, j] for i in range(n2) for j in range(m)) / m
        dW1 = _entrywise(n1, n0, (sp.diff(J, W1[r, c]) for r in range(n1) for c in range(n0)))
        g_prime = Z1.applyfunc(lambda e: sp.Subs(sp.Derivative(g(_U), _U), _U, e))
        dZ1 = (W2.T * G).multiply_elementwise(g_prime)
        chain_pairs.append((dW1, dZ1 * A0.T / m))
    cases = tuple(f"W {n}×{p}, m = {m}" for n, p, m in SIZES)
    out = [
        prove_all("weights", r"dW^{[l]} = \frac{1}{m}\, dZ^{[l]} A^{[l-1]\top}", dW_pairs, cases),
        prove_all("bias", r"db^{[l]} = \frac{1}{m} \sum_{j=1}^{m} dZ^{[l](j)}", db_pairs, cases),
        prove_all("input", r"dA^{[l-1]} = W^{[l]\top} dZ^{[l]}", dA_pairs, cases),
        prove_all("activation", r"dZ^{[l]} = dA^{[l]} \odot g'\!\left(Z^{[l]}\right)", dZ_pairs, cases),
        prove_all(
            "two layers",
            r"dW^{[1]} = \frac1m \Bigl(\bigl(W^{[2]\top} dZ^{[2]}\bigr) \odot g'(Z^{[1]})\Bigr) A^{[0]\top}",
            chain_pairs,
            ("W1 2×3, W2 2×2, m = 2", "W1 3×2, W2 2×3, m = 3"),
        ),
    ]
    from derivations import fused

    out += [ident for ident in fused.identities() if ident.name != "softmax + CE"]
    return out
