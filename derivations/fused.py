"""The fused gradients, derived: sigmoid + BCE gives dZ = A − Y, softmax + CE gives dZ = P − Y.

Composing the output activation with its loss, the gradient with respect to the pre-activation
collapses to a difference; SymPy derives it rather than the docs asserting it. The MLP trains
through these fused forms (``binary_cross_entropy_with_logits``, ``softmax_cross_entropy``).
"""

from __future__ import annotations

import sympy as sp

from derivations.identities import Identity, prove
from derivations.losses import z
from derivations.softmax import softmax_ce_identity
from derivations.symbols import y


def identities() -> list[Identity]:
    """sigmoid + BCE gives dZ = A − Y, so ∂J/∂Z = (1/m)(A − Y) with the cost's 1/m; softmax + CE gives p − y."""
    a = 1 / (1 + sp.exp(-z))
    bce = -(y * sp.log(a) + (1 - y) * sp.log(1 - a))
    m = sp.Symbol("m", positive=True, integer=True)
    return [
        prove(
            "sigmoid + BCE",
            r"\frac{\partial}{\partial z}\,\mathcal{L}\bigl(\sigma(z), y\bigr) = \sigma(z) - y",
            sp.diff(bce, z),
            a - y,
        ),
        prove(
            "with the 1/m of the cost",
            r"\frac{\partial J}{\partial Z^{[L]}} = \frac{1}{m}\bigl(A^{[L]} - Y\bigr),\; J = \frac1m \sum \mathcal{L}",
            sp.diff(bce / m, z),
            (a - y) / m,
        ),
        softmax_ce_identity(),
    ]
