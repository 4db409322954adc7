"""What the deriver may call of the runtime: handed to derivations/ as arguments, never imported.

``derivations/`` (SymPy, mpmath) must not import ``nnref/`` (NumPy, SciPy), and ``nnref/`` imports
``derivations/`` only where the CLI dispatches `derive`, `check` and `custom` and where
``nnref.custom`` hands a formula to the pipeline. The functions of ``derivations/`` that measure
runtime code (``nnref check``, ``nnref custom``'s verification) receive this bundle instead; the
import contracts in pyproject.toml hold both directions.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class Runtime:
    """The runtime entry points a measurement needs."""

    #: nnref.activations.get: a registry activation with ``f``, ``df``, ``d2f``, ``f_df``, ``vjp``.
    activation: Callable[..., Any]
    #: nnref.losses.get: a registry loss with ``value`` and ``grad``.
    loss: Callable[..., Any]
    #: (loss name, "value" or "grad") -> the generated per-element kernel ``fn(x, y, **params)``.
    loss_kernel: Callable[[str, str], Callable]
    #: nnref.gradcheck: finite differences, the complex step, the step sweep.
    gradcheck: ModuleType
    #: (source, name, params, kinks) -> an activation object running the generated source.
    compile_activation: Callable[..., Any]
    #: The source of nnref/_primitives.py, which a standalone generated module carries along.
    primitives_source: Callable[[], str]
    #: The source of nnref/_generated/tables.py, the constants those primitives read.
    tables_source: Callable[[], str]
    #: nnref._arrays.check_params: parameters checked as the registry checks its own.
    check_params: Callable[..., dict]
    #: nnref.custom.derive: `nnref custom`'s pipeline in a worker process, under a time budget.
    derive_custom: Callable[..., Any]


def runtime() -> Runtime:
    from nnref import _primitives, activations, gradcheck, losses
    from nnref._arrays import check_params
    from nnref._compiled import compile_activation
    from nnref._generated import losses as generated_losses
    from nnref._generated import tables

    return Runtime(
        activation=activations.get,
        loss=losses.get,
        loss_kernel=lambda name, which: getattr(generated_losses, f"{name}_{which}"),
        gradcheck=gradcheck,
        compile_activation=compile_activation,
        primitives_source=lambda: inspect.getsource(_primitives),
        tables_source=lambda: inspect.getsource(tables),
        check_params=check_params,
        derive_custom=_derive_custom,
    )


def _derive_custom(*args, **kwargs):
    from nnref.custom import derive

    return derive(*args, **kwargs)
