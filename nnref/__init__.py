"""nnref: a numerically verified math reference for neural networks built from scratch.

Importing nnref loads nothing more: submodules (and with them NumPy and SciPy, all the runtime
needs) load on first use. SymPy is imported by `nnref derive`, `nnref check` and `nnref custom`,
never here.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    "activations": "nnref.activations",
    "losses": "nnref.losses",
    "gradcheck": "nnref.gradcheck",
    "notebook": "nnref.notebook",
    "custom": "nnref.custom",
    "datasets": "nnref.datasets",
    "testing": "nnref.testing",
    "MLP": ("nnref.mlp", "MLP"),
    # scikit-learn estimators wrapping MLP (they import scikit-learn, so only when asked for)
    "MLPClassifier": ("nnref.estimators", "MLPClassifier"),
    "MLPRegressor": ("nnref.estimators", "MLPRegressor"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'nnref' has no attribute {name!r}")
    if isinstance(target, tuple):
        return getattr(importlib.import_module(target[0]), target[1])
    return importlib.import_module(target)


def __dir__() -> list[str]:
    return sorted(__all__)
