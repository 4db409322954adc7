"""The errors `nnref custom` raises, and its bounds: importable without SymPy (``nnref.custom`` re-exports them)."""

from __future__ import annotations

#: ULP bound a custom activation's f and f' are held to (the registry's project-wide bound).
ULP_BOUND = 4.0


class CustomError(ValueError):
    """A formula, name or parameter that `nnref custom` does not accept, with the reason."""
