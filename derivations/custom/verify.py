"""`nnref custom`'s measurements: the generated code against mpmath, finite differences and the
complex step, and the regions where more than 4 ULP remain; the runtime object is passed in."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np

from derivations.custom.errors import ULP_BOUND
from derivations.custom.report import Region, Report
from derivations.entry import PATHS
from derivations.reference import (
    float32_grid,
    full_range_grid,
    naive_accuracy,
    points_near_zeros,
    reference,
    runtime_path,
)
from derivations.reference import measure as measure_row
from derivations.verify import complex_step_error, fd_errors


def _regions(row, which: str) -> list[Region]:
    """Group the grid points with more than 4 ULP (or NaN/inf) into runs of neighbouring points."""
    bad = np.where(np.isnan(row.errors), False, row.errors > ULP_BOUND)
    if not bad.any():
        return []
    order = np.argsort(row.grid)
    grid, err, bad = row.grid[order], row.errors[order], bad[order]
    out, i = [], 0
    while i < len(grid):
        if not bad[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(grid) and (bad[j + 1] or np.isnan(err[j + 1])):
            j += 1
        seg = slice(i, j + 1)
        e = np.where(np.isnan(err[seg]), -1, err[seg])
        k = int(np.argmax(e))
        out.append(Region(which, float(grid[i]), float(grid[j]), float(e[k]), float(grid[seg][k])))
        i = j + 1
    # Runs separated by a short stretch of accurate points read as one region.
    merged: list[Region] = []
    for r in out:
        last = merged[-1] if merged else None
        if last is not None and r.lo - last.hi <= max(2.0, 0.5 * min(abs(r.lo), abs(last.hi))):
            worst = r if r.max_ulp > last.max_ulp else last
            merged[-1] = Region(which, last.lo, r.hi, worst.max_ulp, worst.worst_z)
        else:
            merged.append(r)
    return merged


def measure(act, entry, report: Report, gradcheck) -> None:
    """Fill the report's measurements of ``act``, the runtime object running the generated code."""
    grid = full_range_grid(extra=points_near_zeros(entry))
    for which, base in PATHS.items():
        exclude = entry.kinks if base != "f" else ()
        bound = ULP_BOUND if base != "d2f" else math.inf
        report.accuracy[which] = measure_row(
            entry.name, which, runtime_path(act, which), entry.textbook(base), entry.params, bound, grid, exclude
        )
        report.regions += _regions(report.accuracy[which], which)
    for which in ("f", "df"):
        report.naive[which] = naive_accuracy(entry, which, grid)
    single = float32_grid(extra=points_near_zeros(entry))
    for which in ("f", "df", "d2f"):  # in float32 too: float32 in, float32 out, its own ULP
        exclude = entry.kinks if which != "f" else ()
        bound = ULP_BOUND if which != "d2f" else math.inf
        report.float32[which] = measure_row(
            f"{entry.name} (float32)",
            which,
            getattr(act, which),
            entry.textbook(which),
            entry.params,
            bound,
            single,
            exclude,
            dtype=np.float32,
        )
    with np.errstate(all="ignore"):
        values = act.f(grid)
    nan = np.isnan(values)
    # An infinite f at moderate |z| is a pole (1/z at 0) when the exact value is infinite too.
    suspects = np.flatnonzero(np.isinf(values) & (np.abs(grid) < 700))
    if suspects.size:
        truth = reference(entry.f, grid[suspects], entry.params)
        nan[suspects[[not mp.isfinite(t) for t in truth]]] = True
    if nan.any():
        order = np.argsort(grid)
        runs, start = [], None
        for i, bad in zip(order, nan[order]):
            if bad and start is None:
                start = i
            if bad:
                last = i
            if not bad and start is not None:
                runs.append((float(grid[start]), float(grid[last])))
                start = None
        if start is not None:
            runs.append((float(grid[start]), float(grid[last])))
        report.undefined = runs
    # A formula undefined on part of [-15, 15] gives NaN errors there: reported as such, not warned.
    with np.errstate(all="ignore"):
        try:
            report.fd_df, report.fd_d2f = fd_errors(entry, act, gradcheck)
        except (ValueError, FloatingPointError):
            report.fd_df = report.fd_d2f = math.nan
        try:
            report.complex_step = complex_step_error(entry, act, gradcheck)
        except (ValueError, FloatingPointError, TypeError):
            report.complex_step = math.nan
