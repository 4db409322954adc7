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

import math
import multiprocessing
import numbers
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from derivations.custom.errors import CustomError
from nnref._compiled import CustomActivation, compile_activation

__all__ = [
    "DEFAULT_TIME_BUDGET",
    "CustomActivation",
    "CustomError",
    "activation",
    "compile_activation",
    "derive",
    "write_module",
    "write_page",
]

#: Seconds the whole pipeline may take (parse to verification) before it is stopped. A registry-like
#: formula takes 5-20 s on a 2-core machine; SymPy or mpmath can take unbounded time on others.
DEFAULT_TIME_BUDGET = 120.0


def _context():
    """Workers are forked from a single-threaded server that has imported SymPy once (fork from a
    threaded caller is unsafe; spawn would import SymPy anew for every formula)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["nnref.custom", "derivations.custom.pipeline"])
    return ctx


def _work(conn, expr, name, params, verify) -> None:
    """The worker: runs the pipeline, sending each step's name, then the result or the error."""
    try:
        from derivations.custom.pipeline import build
        from nnref._runtime import runtime

        entry, report, act = build(
            expr, name, params, runtime(), verify=verify, progress=lambda step: conn.send(("step", step))
        )
        conn.send(("done", (entry, report, act.source)))
    except CustomError as exc:
        conn.send(("error", str(exc)))
    except BaseException:  # noqa: BLE001  (anything else is a bug: its traceback goes to the caller)
        conn.send(("crash", traceback.format_exc()))
    finally:
        conn.close()


def _check_budget(time_budget, progress) -> float:
    if isinstance(time_budget, bool) or not isinstance(time_budget, numbers.Real):
        raise CustomError(f"time_budget must be a number of seconds > 0, got {time_budget!r}")
    budget = float(time_budget)
    if not (budget > 0 and math.isfinite(budget)):
        raise CustomError(f"time_budget must be a finite number of seconds > 0, got {time_budget!r}")
    if progress is not None and not callable(progress):
        raise CustomError(f"progress must be a callable taking the step's name, or None, got {progress!r}")
    return budget


def derive(
    expr: str,
    name: str | None,
    params: dict,
    *,
    verify: bool = True,
    time_budget: float = DEFAULT_TIME_BUDGET,
    progress: Callable[[str], object] | None = None,
):
    """Run the pipeline (``derivations.custom.pipeline.build``) in a worker process, under a time
    budget that holds from any thread: returns (entry, report, act) or raises CustomError.

    When the budget runs out the worker is stopped and the error names the step it was in.
    ``progress(step)`` is called in the caller's process as each step starts.
    """
    budget = _check_budget(time_budget, progress)
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=_work, args=(send, expr, name, params, verify), name="nnref-custom")
    start = time.monotonic()
    worker.start()
    send.close()
    step = "starting the worker"
    try:
        while True:
            left = start + budget - time.monotonic()
            if left <= 0:
                raise CustomError(
                    f"{expr!r} did not finish within the time budget of {budget:g} s; it was {step}. "
                    "SymPy or mpmath can take unbounded time on some formulas: try a simpler equivalent "
                    "form, skip the verification (verify=False, --no-verify), or allow more time "
                    "(time_budget=, --time-budget)"
                )
            if not receive.poll(min(left, 0.25)):
                if not worker.is_alive() and not receive.poll():
                    raise RuntimeError(f"the nnref custom worker died (exit code {worker.exitcode}) while {step}")
                continue
            try:
                kind, payload = receive.recv()
            except EOFError:
                raise RuntimeError(f"the nnref custom worker died (exit code {worker.exitcode}) while {step}") from None
            if kind == "step":
                step = payload
                if progress is not None:
                    progress(step)
            elif kind == "error":
                raise CustomError(payload)
            elif kind == "crash":
                raise RuntimeError(f"nnref custom failed while {step}; the worker's traceback:\n{payload}")
            else:
                entry, report, source = payload
                break
    finally:
        if worker.is_alive():
            worker.kill()
        worker.join()
        receive.close()
    return entry, report, compile_activation(source, entry.name, entry.params, entry.kinks)


def activation(
    expr: str,
    name: str | None = None,
    *,
    verify: bool = True,
    time_budget: float = DEFAULT_TIME_BUDGET,
    progress: Callable[[str], object] | None = None,
    **params: float,
) -> CustomActivation:
    """Derive, stabilise, generate and verify the activation ``expr`` (a formula in z).

    Args:
        expr: e.g. ``"z*tanh(softplus(z))"``. Vocabulary: numbers, z, the named parameters, pi,
            + - * / ** (^ too), exp, log, log1p, expm1, sqrt, abs, tanh, sinh, cosh, erf, erfc,
            sigmoid, max(a, b), min(a, b), where(cond, a, b) and every registry activation by name.
        name: the function names in the generated code (``NAME_f``, ...). Default "custom".
        verify: measure the generated code against mpmath (a few seconds to a minute).
        time_budget: seconds the whole pipeline may take (default 120). It runs in a worker
            process, so the budget holds from any thread; when it runs out, CustomError names the
            step that was running.
        progress: called with each step's name as it starts (e.g. ``print``), or None.
        **params: the formula's parameters with their values (finite, > 0).

    Returns:
        A CustomActivation: the registry's contract (f, df, d2f, f_df, vjp), plus ``report`` (the
        derivation and the measurements), ``entry`` and ``source``.

    Raises:
        CustomError (a ValueError) naming the problem: a formula outside the vocabulary, a bad
        name, parameter or time budget, or a pipeline that ran out of time. ``derivations.custom.parse.FormulaError`` is a CustomError's cause.
    """
    entry, report, act = derive(expr, name, params, verify=verify, time_budget=time_budget, progress=progress)
    object.__setattr__(act, "entry", entry)
    object.__setattr__(act, "report", report)
    return act


def write_module(act: CustomActivation, path, force: bool = False, command: str | None = None) -> Path:
    """Write a standalone module (NumPy and SciPy only) with the activation's generated functions;
    refuses to overwrite an existing file unless ``force``."""
    from derivations.custom import write
    from nnref._runtime import runtime

    rt = runtime()
    return write.write_module(
        act.report, path, rt.primitives_source(), rt.tables_source(), force=force, command=command
    )


def write_page(act: CustomActivation, folder, force: bool = False, command: str | None = None) -> list[Path]:
    """Write the activation's reference page (the registry's format), its plot and its error plot."""
    from derivations.custom import write

    return write.write_page(act.entry, act.report, folder, force=force, command=command)
