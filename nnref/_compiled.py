"""The runtime side of a custom activation: generated source compiled into an object with the
registry's contract. ``nnref.custom`` (the façade) and ``nnref._runtime`` (what the pipeline is
handed) both use it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from nnref.activations import Activation


class CustomActivation(Activation):
    """A user's activation with the registry's contract: ``f``, ``df``, ``d2f``, ``f_df``, ``vjp``
    (the registry's own methods, blockwise evaluation included), on the generated source.

    Inputs of any shape (0-d included); float32 stays float32, integers become float64.
    ``report`` holds the derivation and the measurements; ``source`` the generated NumPy code.
    """

    # A user's formula may be undefined somewhere (log(z) for z < 0): NaN there, said in the report.
    _errstate: ClassVar[dict] = {"over": "ignore", "under": "ignore", "invalid": "ignore", "divide": "ignore"}

    def __init__(self, name: str, params: dict[str, float], namespace: dict, source: str, kinks=()):
        super().__init__(name=name, params=dict(params), kinks=tuple(kinks))
        for key, value in (("source", source), ("_ns", namespace), ("entry", None), ("report", None)):
            object.__setattr__(self, key, value)  # (a frozen dataclass)

    def _function(self, which: str) -> Callable:
        return self._ns[f"{self.name}_{which}"]

    def __deepcopy__(self, memo):
        return self  # immutable; scikit-learn's clone deep-copies settings, and modules cannot be

    def __reduce__(self):
        # Pickled as the generated source (never the user's text) and compiled again on load.
        return _restore, (self.source, self.name, dict(self.params), self.kinks, self.entry, self.report)

    def __repr__(self) -> str:
        formula = self.report.formula if self.report is not None else "?"
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"nnref.custom.activation({formula!r}, name={self.name!r}{args})"


def compile_activation(source: str, name: str, params: dict[str, float], kinks=()) -> CustomActivation:
    """The activation object running ``source``, the printer's output for a formula (never the
    user's text: the formula was parsed by a whitelist and printed by nnref's printer)."""
    import scipy.special  # noqa: F401  (the generated code calls scipy.special.*)

    import nnref._primitives  # noqa: F401

    namespace: dict[str, Any] = {"numpy": np, "scipy": sys.modules["scipy"], "nnref": sys.modules["nnref"]}
    exec(compile(source, f"<nnref custom {name}>", "exec"), namespace)  # noqa: S102
    return CustomActivation(name, params, namespace, source, kinks)


def _restore(source, name, params, kinks, entry, report) -> CustomActivation:
    act = compile_activation(source, name, params, kinks)
    object.__setattr__(act, "entry", entry)
    object.__setattr__(act, "report", report)
    return act
