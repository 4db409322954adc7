r"""The report of a check over parameter trees: one row per parameter, failures named by element."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnref.gradcheck._tree import element_name

_SHOWN = 10
"""How many failing elements ``str(report)`` lists (all of them are in ``report.failures``)."""


@dataclass
class Failure:
    """One element whose relative error is above rtol, e.g. ``W1[3, 2]``."""

    element: str
    analytic: float
    numerical: float
    rel_error: float

    def __str__(self) -> str:
        return f"{self.element}: analytic {self.analytic:.17g}, numerical {self.numerical:.17g} (relative error {self.rel_error:.2g})"


@dataclass
class ParameterResult:
    """One parameter's (or one direction's) comparison: the worst element, how many fail, the step and method."""

    name: str
    shape: tuple
    n_checked: int
    n_failed: int
    n_kink_skipped: int
    max_rel_error: float
    worst: str
    analytic: float
    numerical: float
    h_min: float
    h_max: float
    method: str
    rtol: float

    @property
    def ok(self) -> bool:
        """No element fails and at least one was compared (a parameter skipped entirely is not a pass)."""
        return self.n_failed == 0 and self.n_checked > 0

    @property
    def step(self) -> str:
        lo, hi = f"{self.h_min:.2g}", f"{self.h_max:.2g}"
        return lo if lo == hi else f"{lo}..{hi}"


@dataclass
class TreeReport:
    """The outcome of a check over parameters: ``ok``, one row per parameter and every failing element.

    ``str(report)`` is a table (parameter, shape, elements compared, failing, set aside at kinks,
    worst relative error and where, step, method) followed by the worst failing elements by name;
    ``report["W1"]`` is one parameter's row.
    """

    check: str
    rows: list[ParameterResult]
    failures: list[Failure] = field(default_factory=list)
    row_label: str = "parameter"

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    @property
    def max_rel_error(self) -> float:
        errors = [row.max_rel_error for row in self.rows if row.n_checked]
        return max(errors) if errors else float("nan")

    def __getitem__(self, name: str) -> ParameterResult:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no parameter {name!r}; the report has {', '.join(r.name for r in self.rows)}")

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        n_checked = sum(r.n_checked for r in self.rows)
        n_failed = sum(r.n_failed for r in self.rows)
        empty = [r.name for r in self.rows if r.n_checked == 0]
        if self.ok:
            head = f"{self.check} passed: all {n_checked} elements compared are within rtol"
        else:
            bad = [r.name for r in self.rows if r.n_failed]
            head = f"{self.check} FAILED: {n_failed} of {n_checked} elements above rtol"
            if bad:
                head += f", in {', '.join(bad)}"
            if empty:
                head += f"; nothing compared in {', '.join(empty)} (every element within h of a kink)"
        header = (
            self.row_label,
            "shape",
            "compared",
            "failing",
            "at kinks",
            "worst error",
            "at",
            "rtol",
            "step",
            "method",
        )
        table = [header] + [
            (
                r.name or "x",
                str(r.shape),
                str(r.n_checked),
                str(r.n_failed),
                str(r.n_kink_skipped),
                f"{r.max_rel_error:.2g}",
                r.worst,
                f"{r.rtol:g}",
                r.step,
                r.method,
            )
            for r in self.rows
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        lines = [head] + ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
        if self.failures:
            lines.append(f"failing elements, worst first ({len(self.failures)}):")
            lines += [f"  {failure}" for failure in self.failures[:_SHOWN]]
            if len(self.failures) > _SHOWN:
                lines.append(f"  ... and {len(self.failures) - _SHOWN} more (report.failures)")
        return "\n".join(lines)


def summarise(
    name: str,
    shape: tuple,
    error: np.ndarray,
    analytic: np.ndarray,
    numerical: np.ndarray,
    step: np.ndarray,
    method: str,
    rtol: float,
    labels=None,
) -> tuple[ParameterResult, list[Failure]]:
    """A row and its failures from arrays of errors (-1 where set aside), analytic and numerical values.

    The arrays may have a leading axis more than ``shape`` (one slice per projection or direction);
    ``labels(flat_index)`` names an element (default: ``name[index]`` in ``shape``).
    """
    error, analytic, numerical = (np.asarray(a, dtype=np.float64).ravel() for a in (error, analytic, numerical))
    size = int(np.prod(shape, dtype=np.int64))

    def label(i: int) -> str:
        if labels is not None:
            return labels(i)
        return element_name(name, np.unravel_index(i % size, shape) if shape else ())

    checked = error >= 0
    failed = np.flatnonzero(error > rtol)
    failed = failed[np.argsort(-error[failed], kind="stable")]
    failures = [Failure(label(int(i)), float(analytic[i]), float(numerical[i]), float(error[i])) for i in failed]
    steps = np.asarray(step, dtype=np.float64)
    if np.any(checked):
        worst = int(np.argmax(error))
        stats = (float(error[worst]), label(worst), float(analytic[worst]), float(numerical[worst]))
    else:
        stats = (float("nan"), "-", float("nan"), float("nan"))
    row = ParameterResult(
        name=name,
        shape=tuple(shape),
        n_checked=int(np.count_nonzero(checked)),
        n_failed=len(failures),
        n_kink_skipped=int(np.count_nonzero(~checked)),
        max_rel_error=stats[0],
        worst=stats[1],
        analytic=stats[2],
        numerical=stats[3],
        h_min=float(np.min(steps)) if steps.size else float("nan"),
        h_max=float(np.max(steps)) if steps.size else float("nan"),
        method=method,
        rtol=rtol,
    )
    return row, failures


def collect(check: str, parts: list[tuple[ParameterResult, list[Failure]]], row_label: str = "parameter") -> TreeReport:
    rows = [row for row, _ in parts]
    failures = sorted((f for _, fs in parts for f in fs), key=lambda f: -f.rel_error)
    return TreeReport(check, rows, failures, row_label)
