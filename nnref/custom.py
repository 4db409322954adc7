"""Bring your own activation: a formula in, a proven derivative, stable NumPy code and a report out.

>>> from nnref.custom import activation
>>> act = activation("z*sigmoid(1.702*z)", name="quick_gelu")     # doctest: +SKIP
>>> act.df([0.0, 1.0])                                             # doctest: +SKIP
>>> print(act.report.table())                                      # doctest: +SKIP

The pipeline is the registry's, opened to a user's string:

1. ``derivations.safe_parse`` parses the string without running it (an AST whitelist);
2. ``derivations.stabilise`` rewrites unstable patterns into proven stable blocks;
3. the result becomes a ``derivations.activations.Activation`` entry, so its derivatives,
   Taylor patches, proofs (``derivations.proofs``) and properties (``derivations.properties``)
   are the built-in ones';
4. the printer generates NumPy source, which is compiled (it is our printer's output, not the
   user's text) and verified: finite differences, complex step, ULP error of f, f', f'' against
   mpmath over the full float64 range, and a NaN/inf scan, next to the naive lambdify.

Command line: ``nnref custom "EXPR" [--name NAME] [--param alpha=0.1 ...] [--out FILE.py] [--docs DIR]``.
SymPy and mpmath are imported when a formula is derived, never by ``import nnref``.
"""

from __future__ import annotations

import argparse
import contextlib
import keyword
import math
import re
import shlex
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from nnref.activations import Activation

#: ULP bound a custom activation's f and f' are held to (the registry's project-wide bound).
ULP_BOUND = 4.0
#: Highest degree of a Taylor patch about an interior zero of f' (the registry's use 30).
PATCH_MAX_DEGREE = 60
#: Seconds SymPy may spend on one symbolic task (a proof, the properties, a simplification).
SYMBOLIC_SECONDS = 60
WHICH = ("f", "df", "d2f")
LABEL = {"f": "f", "df": "f'", "d2f": "f''"}


class CustomError(ValueError):
    """A formula, name or parameter that `nnref custom` does not accept, with the reason."""


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------


@dataclass
class Region:
    which: str  # "f", "df", "d2f"
    lo: float
    hi: float
    max_ulp: float
    worst_z: float

    def text(self) -> str:
        where = f"z = {self.lo:.6g}" if self.lo == self.hi else f"z in [{self.lo:.6g}, {self.hi:.6g}]"
        return f"{LABEL[self.which]} loses up to {self.max_ulp:.3g} ULP for {where} (worst at z = {self.worst_z:.6g})"


@dataclass
class Report:
    """Everything `nnref custom` derived and measured, as data (``as_dict``) and as a table."""

    name: str
    formula: str
    params: dict[str, float]
    textbook: dict[str, object]  # which -> SymPy expression of the definition and sympy.diff of it
    simplified_df: object
    code: dict[str, object]  # which -> the expression the code computes
    rewrites: list
    proofs: dict[str, object]
    properties: object
    properties_note: str
    kinks: tuple[float, ...]
    patches: list
    saturate: float | None
    source: str
    accuracy: dict[str, object] = field(default_factory=dict)  # which -> AccuracyRow (generated code)
    naive: dict[str, object] = field(default_factory=dict)  # which -> AccuracyRow (naive lambdify)
    fd_df: float | None = None
    fd_d2f: float | None = None
    complex_step: float | None = None
    regions: list[Region] = field(default_factory=list)
    #: Where f itself is NaN on the grid (outside the formula's real domain): [(lo, hi), ...].
    undefined: list[tuple[float, float]] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        """f and f' within 4 ULP with no NaN/inf, proofs hold, and finite differences agree."""
        if not self.accuracy:
            return False
        acc_ok = all(self.accuracy[w].max_ulp <= ULP_BOUND and self.accuracy[w].nan_inf == 0 for w in ("f", "df"))
        proofs_ok = all(getattr(p, "proven", False) for p in self.proofs.values())
        fd_ok = self.fd_df is not None and self.fd_df < 1e-5 and self.fd_d2f < 1e-4
        cs_ok = self.complex_step is None or self.complex_step < 1e-9
        return acc_ok and proofs_ok and fd_ok and cs_ok and not self.undefined

    def as_dict(self) -> dict:
        import sympy as sp

        def row(r):
            if r is None:
                return None
            return {
                "max_ulp": r.max_ulp,
                "median_ulp": r.median_ulp,
                "worst_z": r.worst_z,
                "nan_inf": r.nan_inf,
                "n_points": r.n_points,
            }

        props = {}
        if self.properties is not None:
            from derivations.docgen import PROPERTY_ROWS

            for key, _label in PROPERTY_ROWS:
                v = getattr(self.properties, key)
                props[key] = {"value": v.value, "reason": v.reason}
            props["range"] = {"text": self.properties.range.text, "reason": self.properties.range.reason}
        return {
            "name": self.name,
            "formula": self.formula,
            "params": dict(self.params),
            "f": sp.sstr(self.textbook["f"]),
            "df_sympy": sp.sstr(self.textbook["df"]),
            "df_simplified": sp.sstr(self.simplified_df) if self.simplified_df is not None else None,
            "code": {w: sp.sstr(e) for w, e in self.code.items()},
            "rewrites": [
                {"rule": r.rule, "before": sp.sstr(r.before), "after": sp.sstr(r.after), "proven": r.proof.proven}
                for r in self.rewrites
            ],
            "proofs": {w: {"proven": p.proven, "method": p.method} for w, p in self.proofs.items()},
            "properties": props,
            "properties_note": self.properties_note,
            "kinks": list(self.kinks),
            "taylor_patches": [{"z0": p.z0, "radius": p.radius, "truncation": p.truncation} for p in self.patches],
            "saturate": self.saturate,
            "source": self.source,
            "accuracy": {w: row(r) for w, r in self.accuracy.items()},
            "naive": {w: row(r) for w, r in self.naive.items()},
            "finite_differences": {"df": self.fd_df, "d2f": self.fd_d2f},
            "complex_step": self.complex_step,
            "inaccurate_regions": [r.text() for r in self.regions],
            "undefined_for": [list(r) for r in self.undefined],
            "verified": self.verified,
        }

    def table(self) -> str:
        import sympy as sp

        out = [f"nnref custom: {self.name}(z) = {self.formula}"]
        if self.params:
            out.append("  parameters: " + ", ".join(f"{k} = {v!r}" for k, v in self.params.items()))
        out.append("")
        out.append("Derivative")
        out.append(f"  f(z)              = {sp.sstr(self.textbook['f'])}")
        out.append(f"  f'(z), as SymPy   = {sp.sstr(self.textbook['df'])}")
        if self.simplified_df is not None:
            out.append(f"  f'(z), simplified = {sp.sstr(self.simplified_df)}")
        out.append(f"  f(z), code        = {sp.sstr(self.code['f'])}")
        out.append(f"  f'(z), code       = {_short(sp.sstr(self.code['df']))}")
        out.append("")
        out.append("Stabilisation")
        if not self.rewrites:
            out.append("  no unstable pattern found: the formula is printed as written")
        for r in self.rewrites:
            mark = "proven" if r.proof is not None and r.proof.proven else "NOT proven"
            times = f" ({r.count}×)" if r.count > 1 else ""
            out.append(f"  {r.rule}{times}: {sp.sstr(r.before)} → {sp.sstr(r.after)}  [{mark}]")
        for w, p in self.proofs.items():
            out.append(
                f"  code {LABEL[w]:3} = textbook {LABEL[w]:3}: {'proven' if p.proven else 'NOT proven'} ({_short(p.method, 90)})"
            )
        for p in self.patches:
            out.append(
                f"  Taylor patch of f' about its zero z0 = {p.z0:.10g} (|z − z0| < {p.radius:g}, truncation {p.truncation:.1e})"
            )
        if self.saturate is not None:
            out.append(f"  f' and f'' evaluated at clip(z, ±{self.saturate:g}): beyond it they equal their limits")
        out.append("")
        out.append("Properties (decided by SymPy)")
        if self.properties is None:
            out.append(f"  undecided: {self.properties_note}")
        else:
            from derivations.docgen import PROPERTY_ROWS

            for key, label in PROPERTY_ROWS:
                v = getattr(self.properties, key)
                verdict = {True: "yes", False: "no", None: "undecided"}[v.value]
                out.append(f"  {label:34} {verdict:10} {v.reason}")
            out.append(f"  {'Range':34} {self.properties.range.text:10} {self.properties.range.reason}")
        out.append("")
        out.append("Verification (float64, full-range grid, mpmath reference)")
        if self.accuracy:
            out.append(
                f"  {'':4} {'nnref max ULP':>14} {'median':>7} {'worst z':>12} {'NaN/inf':>8} {'naive max ULP':>14} {'naive NaN/inf':>14}"
            )
            for w, r in self.accuracy.items():
                n = self.naive.get(w)
                naive = f"{n.max_ulp:14.3g} {n.nan_inf:14d}" if n is not None else f"{'—':>14} {'—':>14}"
                out.append(
                    f"  {LABEL[w]:4} {r.max_ulp:14.3g} {r.median_ulp:7.2g} {r.worst_z:12.6g} {r.nan_inf:8d} {naive}"
                )
            if math.isnan(self.fd_df):
                out.append("  finite differences: n/a (f or f' is not finite on [-15, 15])")
            else:
                out.append(
                    f"  finite differences, max relative error: f' {self.fd_df:.2g} (bound 1e-5), f'' {self.fd_d2f:.2g} (bound 1e-4)"
                )
            if self.complex_step is None:
                cs = "n/a (not analytic: kinks, |z|, max/min or where)"
            elif math.isnan(self.complex_step) or math.isinf(self.complex_step):
                cs = "n/a (f is not finite or not analytic on [-4, 4])"
            else:
                cs = f"{self.complex_step:.2g} (bound 1e-9)"
            out.append(f"  complex step of the textbook f against f': {cs}")
            for lo, hi in self.undefined:
                where = f"z = {lo:.6g}" if lo == hi else f"z in [{lo:.6g}, {hi:.6g}]"
                out.append(
                    f"  f is NaN or infinite (outside its domain, or a pole) for {where}: an activation must be finite for every real z"
                )
            if self.regions:
                out.append("  where more than 4 ULP remain:")
                out.extend(f"    {r.text()}" for r in self.regions)
            naive_bad = [r for w, r in self.naive.items() if r.max_ulp > ULP_BOUND or r.nan_inf]
            for r in naive_bad:
                out.append(
                    f"  the naive form of {LABEL[r.which]} loses {r.max_ulp:.3g} ULP at z = {r.worst_z:.6g}"
                    + (f" and gives {r.nan_inf} NaN/inf" if r.nan_inf else "")
                )
            out.append(f"  verdict: {'✓ verified' if self.verified else '✗ not verified (see above)'}")
        else:
            out.append("  skipped (verify=False)")
        out.append("")
        out.append("Generated NumPy source")
        out.append(self.source.rstrip())
        return "\n".join(out)


def _short(text: str, width: int = 160) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# ---------------------------------------------------------------------------------------------
# The activation object
# ---------------------------------------------------------------------------------------------


class CustomActivation(Activation):
    """A user's activation with the registry's contract: ``f``, ``df``, ``d2f``, ``f_df``, ``vjp``
    (the registry's own methods, blockwise evaluation included), on the generated source.

    Inputs of any shape (0-d included); float32 stays float32, integers become float64.
    ``report`` holds the derivation and the measurements; ``source`` the generated NumPy code.
    """

    # A user's formula may be undefined somewhere (log(z) for z < 0): NaN there, said in the report.
    _errstate: ClassVar[dict] = {"over": "ignore", "under": "ignore", "invalid": "ignore", "divide": "ignore"}

    def __init__(self, name: str, params: dict[str, float], namespace: dict, entry, report: Report):
        super().__init__(name=name, params=dict(params), kinks=tuple(entry.kinks))
        for key, value in (("entry", entry), ("report", report), ("source", report.source), ("_ns", namespace)):
            object.__setattr__(self, key, value)  # (a frozen dataclass)

    def _function(self, which: str) -> Callable:
        return self._ns[f"{self.name}_{which}"]

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"nnref.custom.activation({self.report.formula!r}, name={self.name!r}{args})"


# ---------------------------------------------------------------------------------------------
# Building one
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raise TimeoutError after ``seconds`` (main thread on POSIX; elsewhere no limit)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def handler(signum, frame):
        raise TimeoutError(f"SymPy did not finish within {seconds:g} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _check_name(name) -> str:
    if name is None:
        return "custom"
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", name) or keyword.iskeyword(name):
        raise CustomError(
            f"name must be a lower-case Python identifier of at most 40 characters (letters, digits, _), got {name!r}"
        )
    return name


def _check_params(params: dict) -> dict[str, float]:
    out = {}
    for key, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise CustomError(f"parameter {key} must be a real number, got {value!r}")
        value = float(value)
        if not math.isfinite(value) or value <= 0:
            raise CustomError(
                f"parameter {key} must be finite and > 0 (parameters are positive symbols; write -{key} "
                f"in the formula for a negative one), got {value!r}"
            )
        out[key] = value
    return out


def _kinks(expr, params: dict[str, float]) -> tuple[float, ...]:
    """The numeric points where a piecewise/abs/max/min formula changes branch."""
    import sympy as sp

    from derivations.properties import _breakpoints

    subs = {sp.Symbol(k, positive=True): sp.nsimplify(v) for k, v in params.items()}
    try:
        with _time_limit(SYMBOLIC_SECONDS):
            points = _breakpoints(expr.subs(subs))
    except (TimeoutError, NotImplementedError, TypeError, ValueError):
        return ()
    return tuple(sorted({float(p) for p in points if p.is_real and p.is_finite}))


def _compile(source: str, name: str) -> dict:
    import scipy.special  # noqa: F401  (the generated code calls scipy.special.*)

    import nnref._primitives  # noqa: F401

    namespace = {"numpy": np, "scipy": sys.modules["scipy"], "nnref": sys.modules["nnref"]}
    # The source is the printer's output from a whitelisted expression, never the user's text.
    exec(compile(source, f"<nnref custom {name}>", "exec"), namespace)  # noqa: S102
    return namespace


def generated_source(entry) -> str:
    """The NumPy source of f, f', f'' and f_df, printed exactly as `nnref derive` prints the registry's."""
    from derivations.codegen import activation_functions

    return "\n\n".join(activation_functions(entry))


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


def _saturation(entry, namespace) -> float | None:
    """If f' or f'' give NaN/inf for huge |z| while their limits are finite, the smallest clip
    point beyond which the limits hold in float64 (the registry's ``saturate``), else None."""
    import sympy as sp

    from derivations.symbols import z

    big = np.array([-1e308, -1e300, -1e100, -1e10, -1e4, -745.0, 745.0, 1e4, 1e10, 1e100, 1e300, 1e308])
    with np.errstate(all="ignore"):
        values = [np.asarray(namespace[f"{entry.name}_{w}"](big, **entry.params), dtype=float) for w in ("df", "d2f")]
    if all(np.all(np.isfinite(np.broadcast_to(v, big.shape))) for v in values):
        return None
    subs = {sp.Symbol(k, positive=True): v for k, v in entry.params.items()}
    limits = []
    try:
        with _time_limit(SYMBOLIC_SECONDS):
            for expr in (entry.df, entry.d2f):
                for side in (-sp.oo, sp.oo):
                    limits.append((expr.subs(subs), side, sp.limit(expr.subs(subs), z, side)))
    except (TimeoutError, NotImplementedError, ValueError, TypeError):
        return None
    if not all(lim.is_finite for _, _, lim in limits):
        return None
    from derivations.reference import reference

    for s in (20.0, 40.0, 50.0, 100.0, 200.0, 400.0, 750.0, 1000.0):
        ok = True
        for expr, side, lim in limits:
            point = s if side == sp.oo else -s
            truth = reference(expr, [point], {})[0]
            lim_f = float(lim)
            if not np.isfinite(float(truth)) or abs(float(truth) - lim_f) > max(abs(lim_f) * 2**-53, 1e-300):
                ok = False
                break
        if ok:
            return s
    return None


def _printable(expr):
    """A derivative made printable: Heaviside(u) as where(u > 0, 1, 0), so at a max/min kink f'
    takes the left-hand slope (as relu'(0) = 0 in the registry), and DiracDelta as 0 (a
    derivative's value at an isolated kink is a convention, which the report states)."""
    import sympy as sp

    expr = expr.replace(sp.DiracDelta, lambda *a: sp.Integer(0))
    return expr.replace(sp.Heaviside, lambda u, *h: sp.Piecewise((1, u > 0), (0, True)))


def _entry(parsed, stable, name: str, params: dict[str, float], kinks, saturate, why: str):
    import sympy as sp

    from derivations.activations import Activation
    from derivations.symbols import z

    stable_df = _printable(sp.diff(stable, z))
    stable_d2f = _printable(sp.diff(stable_df, z))
    entry = Activation(
        name=name,
        title=f"{name} (custom)",
        f=parsed.textbook,
        summary=f"A user formula: `{parsed.text}`.",
        reference="",
        stable=stable,
        stable_df=stable_df,
        stable_d2f=stable_d2f,
        params=params,
        kinks=kinks,
        why=why,
        saturate=saturate,
        # As the registry's entries, with the degree raised (to 60) where a nearby pole slows the series.
        patch_max_degree=PATCH_MAX_DEGREE,
    )
    return entry


def activation(expr: str, name: str | None = None, *, verify: bool = True, **params: float) -> CustomActivation:
    """Derive, stabilise, generate and verify the activation ``expr`` (a formula in z).

    Args:
        expr: e.g. ``"z*tanh(softplus(z))"``. Vocabulary: numbers, z, the named parameters, pi,
            + - * / ** (^ too), exp, log, log1p, expm1, sqrt, abs, tanh, sinh, cosh, erf, erfc,
            sigmoid, max(a, b), min(a, b), where(cond, a, b) and every registry activation by name.
        name: the function names in the generated code (``NAME_f``, ...). Default "custom".
        verify: measure the generated code against mpmath (a few seconds to a minute).
        **params: the formula's parameters with their values (finite, > 0).

    Raises:
        CustomError (a ValueError) naming the problem: a formula outside the vocabulary, a bad
        name or parameter. ``derivations.safe_parse.FormulaError`` is a CustomError's cause.
    """
    import sympy as sp

    from derivations.proofs import Proof, prove_one
    from derivations.safe_parse import FormulaError, parse
    from derivations.stabilise import stabilise

    name = _check_name(name)
    params = _check_params(params)
    try:
        parsed = parse(expr, params)
    except FormulaError as exc:
        raise CustomError(str(exc)) from exc
    with _time_limit(SYMBOLIC_SECONDS):
        stable, rewrites = stabilise(parsed.stable)
    kinks = _kinks(parsed.textbook, params)
    why = " ".join(dict.fromkeys(r.why for r in rewrites))
    entry = _entry(parsed, stable, name, params, kinks, None, why)
    try:
        with _time_limit(SYMBOLIC_SECONDS * 2):
            source = generated_source(entry)
    except TimeoutError as exc:
        raise CustomError(f"could not generate code for {expr!r}: {exc}") from None
    namespace = _compile(source, name)
    saturate = _saturation(entry, namespace)
    if saturate is not None:
        entry = _entry(parsed, stable, name, params, kinks, saturate, why)
        source = generated_source(entry)
        namespace = _compile(source, name)

    proofs = {}
    for which in WHICH:
        try:
            with _time_limit(SYMBOLIC_SECONDS):
                proofs[which] = prove_one(entry, which)
        except TimeoutError as exc:
            proofs[which] = Proof(False, f"not proven: {exc}")
    props, note = None, ""
    try:
        from derivations.properties import entry_properties

        with _time_limit(SYMBOLIC_SECONDS):
            props = entry_properties(entry)
    except TimeoutError as exc:
        note = str(exc)
    except Exception as exc:  # noqa: BLE001  (SymPy may fail in many ways on a user's formula)
        note = f"SymPy could not decide them ({type(exc).__name__}: {exc})"
    simplified = None
    try:
        with _time_limit(SYMBOLIC_SECONDS / 2):
            simplified = sp.simplify(entry.df)
    except TimeoutError:
        simplified = None

    report = Report(
        name=name,
        formula=parsed.text,
        params=params,
        textbook={"f": entry.f, "df": entry.df, "d2f": entry.d2f},
        simplified_df=simplified,
        code={"f": entry.code_f, "df": entry.code_df, "d2f": entry.code_d2f},
        rewrites=rewrites,
        proofs=proofs,
        properties=props,
        properties_note=note,
        kinks=kinks,
        patches=list(entry.patches),
        saturate=saturate,
        source=source,
    )
    act = CustomActivation(name, params, namespace, entry, report)
    if verify:
        _verify(act, entry, report)
    return act


def mp_finite(value) -> bool:
    import mpmath as mp

    return bool(mp.isfinite(value))


def _verify(act: CustomActivation, entry, report: Report) -> None:
    from derivations.reference import full_range_grid, measure, naive_accuracy, points_near_zeros
    from nnref._check import _complex_step_error, _fd_errors

    grid = full_range_grid(extra=points_near_zeros(entry))
    textbook = {"f": entry.f, "df": entry.df, "d2f": entry.d2f}
    for which in WHICH:
        exclude = entry.kinks if which != "f" else ()
        bound = ULP_BOUND if which != "d2f" else math.inf
        report.accuracy[which] = measure(
            entry.name, which, getattr(act, which), textbook[which], entry.params, bound, grid, exclude
        )
        report.regions += _regions(report.accuracy[which], which)
    for which in ("f", "df"):
        report.naive[which] = naive_accuracy(entry, which, grid)
    with np.errstate(all="ignore"):
        values = act.f(grid)
    nan = np.isnan(values)
    # An infinite f at moderate |z| is a pole (1/z at 0) when the exact value is infinite too.
    suspects = np.flatnonzero(np.isinf(values) & (np.abs(grid) < 700))
    if suspects.size:
        from derivations.reference import reference

        truth = reference(entry.f, grid[suspects], entry.params)
        nan[suspects[[not mp_finite(t) for t in truth]]] = True
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
            report.fd_df, report.fd_d2f = _fd_errors(entry, act)
        except (ValueError, FloatingPointError):
            report.fd_df = report.fd_d2f = math.nan
        try:
            report.complex_step = _complex_step_error(entry, act)
        except (ValueError, FloatingPointError, TypeError):
            report.complex_step = math.nan


# ---------------------------------------------------------------------------------------------
# Outputs: a standalone module, a reference page
# ---------------------------------------------------------------------------------------------


def command_line(act: CustomActivation, out: str | None = None, docs: str | None = None) -> str:
    args = ["nnref", "custom", act.report.formula, "--name", act.name]
    for k, v in act.params.items():
        args += ["--param", f"{k}={v!r}"]
    if out:
        args += ["--out", str(out)]
    if docs:
        args += ["--docs", str(docs)]
    return " ".join(shlex.quote(a) for a in args)


def _primitives_section(source: str) -> tuple[str, str]:
    """If the code calls nnref._primitives, (its functions' source, the code calling them locally)."""
    if "nnref._primitives." not in source:
        return "", source
    import ast
    import inspect

    import nnref._primitives as prim

    text = inspect.getsource(prim)
    tree = ast.parse(text)
    body = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the module docstring
    lines = text.splitlines()
    start = body[0].lineno - 1
    if getattr(body[0], "decorator_list", None):
        start = min(d.lineno for d in body[0].decorator_list) - 1
    section = "\n".join(lines[start:]).replace("np.", "numpy.")
    header = "# ---- nnref's float64 primitives (nnref/_primitives.py), copied in so this module stands alone ----\n"
    return header + section + "\n", source.replace("nnref._primitives.", "")


def standalone_module(act: CustomActivation, command: str) -> str:
    """A module with the generated functions that needs only NumPy and SciPy."""
    import sympy as sp

    report = act.report
    accuracy = (
        ", ".join(f"{LABEL[w]} {r.max_ulp:.3g}" for w, r in report.accuracy.items()) or "not measured (verify=False)"
    )
    primitives, code = _primitives_section(act.source)
    head = [
        f"# Generated by `{command}`.",
        "# DO NOT EDIT: change the formula and rerun that command (it refuses to overwrite without --force).",
        "",
        f'"""{act.name}: the activation f(z) = {report.formula}, its derivatives, printed by nnref.',
        "",
        f"f(z), textbook:  {sp.sstr(report.textbook['f'])}",
        f"f(z), computed:  {sp.sstr(report.code['f'])}",
        f"Worst ULP error against mpmath over the float64 range: {accuracy}.",
        "Stable rewrites: " + ("; ".join(r.rule for r in report.rewrites) or "none needed") + ".",
        "Needs only NumPy and SciPy.",
        '"""',
        "",
        "import numpy",
        "import scipy.special",
        "",
    ]
    parts = ["\n".join(head)]
    if primitives:
        parts.append(primitives)
    parts.append(code.rstrip() + "\n")
    return "\n\n".join(parts)


def _refuse_existing(path: Path, force: bool, what: str) -> None:
    if path.exists() and not force:
        raise FileExistsError(f"{what} {path} already exists; pass --force to overwrite it")


def _out_path(path, force: bool) -> Path:
    path = Path(path)
    if path.suffix != ".py":
        raise CustomError(f"--out must name a .py file, got {str(path)!r}")
    if not path.parent.is_dir():
        raise CustomError(f"--out: folder {str(path.parent)!r} does not exist")
    _refuse_existing(path, force, "module")
    return path


def _page_paths(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """The page, its plot and its ULP-error plot."""
    return folder / f"{name}.md", folder / "plots" / f"{name}.svg", folder / "plots" / f"{name}_ulp.svg"


def write_module(act: CustomActivation, path, force: bool = False, command: str | None = None) -> Path:
    """Write the standalone module; refuses to overwrite an existing file unless ``force``."""
    path = _out_path(path, force)
    text = standalone_module(act, command or command_line(act, out=str(path)))
    path.write_text(text, encoding="utf-8")
    return path


def write_page(act: CustomActivation, folder, force: bool = False, command: str | None = None) -> list[Path]:
    """The reference page (same format as the built-in ones) with its plot and verification."""
    from derivations import docgen
    from nnref._check import error_plot, verification_markdown

    folder = Path(folder)
    page, plot, errors = _page_paths(folder, act.name)
    for p in (page, plot, errors):
        _refuse_existing(p, force, "file")
    command = command or command_line(act, docs=str(folder))
    header = f"<!-- Generated by `{command}`. DO NOT EDIT: rerun the command. -->\n"
    report = act.report
    text = docgen.activation_page(
        act.entry,
        report.proofs,
        report.properties,
        verification=False,
        header=header,
        usage=f"`nnref.custom.activation({report.formula!r}, name={act.name!r}"
        + "".join(f", {k}={v!r}" for k, v in act.params.items())
        + ")`",
        source_note=f"Printed by `{command}`:",
    )
    if report.accuracy:
        row = {"kind": "activation", "name": act.name, "accuracy": report.accuracy, "naive": report.naive}
        row.update(fd_df=report.fd_df, fd_d2f=report.fd_d2f, cs=report.complex_step)
        text += "\n## Verification\n\n" + verification_markdown(
            row, act.entry, figure=f"plots/{act.name}_ulp.svg", header=""
        )
        if report.regions:
            text += (
                '\n!!! warning "Where more than 4 ULP remain"\n\n'
                + "\n".join(f"    - {r.text()}" for r in report.regions)
                + "\n"
            )
    plot.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(text, encoding="utf-8")
    plot.write_text(docgen.activation_plot(act.entry), encoding="utf-8")
    if report.accuracy:
        errors.write_text(error_plot({"accuracy": report.accuracy, "naive": report.naive}), encoding="utf-8")
    return [page, plot] + ([errors] if report.accuracy else [])


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expr", metavar="EXPR", help='a formula in z, e.g. "z*tanh(softplus(z))" (quote it)')
    parser.add_argument("--name", default=None, help="name of the generated functions (default: custom)")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter of the formula and its value (> 0); repeat for several",
    )
    parser.add_argument("--out", type=Path, metavar="FILE.py", help="write a standalone NumPy/SciPy module")
    parser.add_argument("--docs", type=Path, metavar="DIR", help="write a reference page (and plots) into DIR")
    parser.add_argument("--force", action="store_true", help="overwrite --out / --docs files that already exist")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    parser.add_argument("--no-verify", action="store_true", help="skip the mpmath verification (faster)")


def _parse_param(text: str) -> tuple[str, float]:
    if "=" not in text:
        raise CustomError(f"--param expects NAME=VALUE, got {text!r}")
    key, _, value = text.partition("=")
    key = key.strip()
    try:
        number = float(value)
    except ValueError:
        raise CustomError(f"--param {key}: value must be a number, got {value!r}") from None
    return key, number


def _check_targets(args: argparse.Namespace) -> None:
    """Refuse bad or occupied --out/--docs targets before the (slow) derivation, not after it."""
    name = _check_name(args.name)
    if args.out is not None:
        _out_path(args.out, args.force)
    if args.docs is not None:
        if args.docs.exists() and not args.docs.is_dir():
            raise CustomError(f"--docs: {str(args.docs)!r} exists and is not a folder")
        for p in _page_paths(args.docs, name):
            _refuse_existing(p, args.force, "file")


def run(args: argparse.Namespace) -> int:
    import json

    try:
        params = dict(_parse_param(p) for p in args.param)
        if len(params) != len(args.param):
            raise CustomError("--param: a parameter is given twice")
        _check_targets(args)
        act = activation(args.expr, name=args.name, verify=not args.no_verify, **params)
        command = command_line(act, out=args.out, docs=args.docs)
        if args.json:
            print(json.dumps(act.report.as_dict(), indent=2, default=str))
        else:
            print(act.report.table())
        if args.out is not None:
            print(f"\nwrote {write_module(act, args.out, force=args.force, command=command)}")
        if args.docs is not None:
            args.docs.mkdir(parents=True, exist_ok=True)
            for path in write_page(act, args.docs, force=args.force, command=command):
                print(f"wrote {path}")
    except (CustomError, FileExistsError) as exc:
        print(f"nnref custom: error: {exc}", file=sys.stderr)
        return 2
    return 0 if (args.no_verify or act.report.verified) else 1
