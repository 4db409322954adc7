"""Bring your own activation: a formula in, a proven derivative, stable NumPy code and a report out.

>>> from nnref.custom import activation
>>> act = activation("z*sigmoid(1.702*z)", name="quick_gelu")     # doctest: +SKIP
>>> act.df([0.0, 1.0])                                             # doctest: +SKIP
>>> print(act.report.table())                                      # doctest: +SKIP

This module is a thin façade: the pipeline (parse, stabilise, derive, prove, generate, verify)
is ``derivations.custom``, which needs SymPy and mpmath and is imported when a formula is derived,
never by ``import nnref``. The object that runs the generated code with the registry's contract
is ``nnref._compiled.CustomActivation``.

Command line: ``nnref custom "EXPR" [--name NAME] [--param alpha=0.1 ...] [--out FILE.py] [--docs DIR]``.
"""

from __future__ import annotations

from pathlib import Path

from derivations.custom.errors import CustomError
from nnref._compiled import CustomActivation, compile_activation

__all__ = ["CustomActivation", "CustomError", "activation", "compile_activation", "write_module", "write_page"]


def activation(expr: str, name: str | None = None, *, verify: bool = True, **params: float) -> CustomActivation:
    """Derive, stabilise, generate and verify the activation ``expr`` (a formula in z).

    Args:
        expr: e.g. ``"z*tanh(softplus(z))"``. Vocabulary: numbers, z, the named parameters, pi,
            + - * / ** (^ too), exp, log, log1p, expm1, sqrt, abs, tanh, sinh, cosh, erf, erfc,
            sigmoid, max(a, b), min(a, b), where(cond, a, b) and every registry activation by name.
        name: the function names in the generated code (``NAME_f``, ...). Default "custom".
        verify: measure the generated code against mpmath (a few seconds to a minute).
        **params: the formula's parameters with their values (finite, > 0).

    Returns:
        A CustomActivation: the registry's contract (f, df, d2f, f_df, vjp), plus ``report`` (the
        derivation and the measurements), ``entry`` and ``source``.

    Raises:
        CustomError (a ValueError) naming the problem: a formula outside the vocabulary, a bad
        name or parameter. ``derivations.custom.parse.FormulaError`` is a CustomError's cause.
    """
    from derivations.custom.pipeline import build
    from nnref._runtime import runtime

    entry, report, act = build(expr, name, params, runtime(), verify=verify)
    object.__setattr__(act, "entry", entry)
    object.__setattr__(act, "report", report)
    return act


def write_module(act: CustomActivation, path, force: bool = False, command: str | None = None) -> Path:
    """Write a standalone module (NumPy and SciPy only) with the activation's generated functions;
    refuses to overwrite an existing file unless ``force``."""
    from derivations.custom import write
    from nnref._runtime import runtime

    return write.write_module(act.report, path, runtime().primitives_source(), force=force, command=command)


def write_page(act: CustomActivation, folder, force: bool = False, command: str | None = None) -> list[Path]:
    """Write the activation's reference page (the registry's format), its plot and its error plot."""
    from derivations.custom import write

    return write.write_page(act.entry, act.report, folder, force=force, command=command)
