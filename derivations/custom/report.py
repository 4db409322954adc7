"""What `nnref custom` derived and measured, as data (``Report.as_dict``) and as a table."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import sympy as sp

from derivations.custom.errors import ULP_BOUND
from derivations.docgen import PROPERTY_ROWS
from derivations.entry import LABEL, PATH_LABEL, PATHS
from derivations.reference import AccuracyRow
from derivations.verify import COMPLEX_STEP, FD_D2F, FD_DF, ActivationRow


@dataclass
class Region:
    which: str  # a key of PATHS: "f", "df", "d2f", "f_df.f", "f_df.df", "vjp"
    lo: float
    hi: float
    max_ulp: float
    worst_z: float

    def text(self) -> str:
        where = f"z = {self.lo:.6g}" if self.lo == self.hi else f"z in [{self.lo:.6g}, {self.hi:.6g}]"
        return (
            f"{PATH_LABEL[self.which]} loses up to {self.max_ulp:.3g} ULP for {where} (worst at z = {self.worst_z:.6g})"
        )


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
    accuracy: dict[str, AccuracyRow] = field(default_factory=dict)  # which -> the generated code's row
    naive: dict[str, AccuracyRow] = field(default_factory=dict)  # which -> the naive lambdify's row
    #: f, f', f'' on float32 inputs over the float32 range, in float32 ULP (which -> row).
    float32: dict[str, AccuracyRow] = field(default_factory=dict)
    fd_df: float | None = None
    fd_d2f: float | None = None
    complex_step: float | None = None
    regions: list[Region] = field(default_factory=list)
    #: Where f itself is NaN on the grid (outside the formula's real domain): [(lo, hi), ...].
    undefined: list[tuple[float, float]] = field(default_factory=list)
    #: The values the derivatives take where they jump (the registry's rule), or "".
    kink: str = ""
    #: The rewrites left out because the code they gave measured worse than the formula as written.
    dropped: str = ""

    @property
    def verified(self) -> bool:
        """f and f' within 4 ULP with no NaN/inf on every path that computes them (f, f', f_df's
        outputs, the vjp) and in float32, proofs hold, and finite differences agree."""
        if not self.accuracy:
            return False
        rows = [*self.accuracy.items(), *self.float32.items()]
        acc_ok = all(r.max_ulp <= ULP_BOUND and r.nan_inf == 0 for w, r in rows if PATHS[w] != "d2f")
        proofs_ok = all(getattr(p, "proven", False) for p in self.proofs.values())
        fd_ok = self.fd_df is not None and self.fd_df < FD_DF and self.fd_d2f < FD_D2F
        cs_ok = self.complex_step is None or self.complex_step < COMPLEX_STEP
        return acc_ok and proofs_ok and fd_ok and cs_ok and not self.undefined

    def row(self) -> ActivationRow | None:
        """The measurements as `nnref check` reports them (None when not verified)."""
        if not self.accuracy:
            return None
        return ActivationRow(
            self.name, self.accuracy, self.naive, self.fd_df, self.fd_d2f, self.complex_step, self.float32
        )

    def as_dict(self) -> dict:
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
            "proofs": {w: {"proven": p.proven, "method": p.method, "note": p.note} for w, p in self.proofs.items()},
            "kink": self.kink,
            "dropped": self.dropped,
            "properties": props,
            "properties_note": self.properties_note,
            "kinks": list(self.kinks),
            "taylor_patches": [
                {"z0": p.z0, "kind": p.kind, "radius": p.radius, "truncation": p.truncation} for p in self.patches
            ],
            "saturate": self.saturate,
            "source": self.source,
            "accuracy": {w: row(r) for w, r in self.accuracy.items()},
            "naive": {w: row(r) for w, r in self.naive.items()},
            "float32": {w: row(r) for w, r in self.float32.items()},
            "finite_differences": {"df": self.fd_df, "d2f": self.fd_d2f},
            "complex_step": self.complex_step,
            "inaccurate_regions": [r.text() for r in self.regions],
            "undefined_for": [list(r) for r in self.undefined],
            "verified": self.verified,
        }

    def table(self, source: bool = True) -> str:
        """The report as text; ``source=False`` leaves out the generated code (written to a file)."""
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
        if self.dropped:
            out.append(f"  measured better, so shipped: {self.dropped}")
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
            if p.note:
                out.append(f"      {p.note}")
        if self.kink:
            out.append(f"  At the kinks: {self.kink}")
        for p in self.patches:
            about = "its zero" if p.kind == "zero" else "a zero of f'', where it cancels,"
            out.append(
                f"  Taylor patch of f' about {about} z0 = {p.z0:.10g} (|z − z0| < {p.radius:g}, truncation {p.truncation:.1e})"
            )
        if self.saturate is not None:
            out.append(f"  f' and f'' evaluated at clip(z, ±{self.saturate:g}): beyond it they equal their limits")
        out.append("")
        out.append("Properties (decided by SymPy)")
        if self.properties is None:
            out.append(f"  undecided: {self.properties_note}")
        else:
            for key, label in PROPERTY_ROWS:
                v = getattr(self.properties, key)
                verdict = {True: "yes", False: "no", None: "undecided"}[v.value]
                out.append(f"  {label:34} {verdict:10} {v.reason}")
            out.append(f"  {'Range':34} {self.properties.range.text:10} {self.properties.range.reason}")
        out.append("")
        out.append("Verification (float64, full-range grid, mpmath reference)")
        if self.accuracy:
            out.append(
                f"  {'':7} {'nnref max ULP':>14} {'median':>7} {'worst z':>12} {'NaN/inf':>8} {'naive max ULP':>14} {'naive NaN/inf':>14}"
            )
            for w, r in self.accuracy.items():
                n = self.naive.get(w)
                naive = f"{n.max_ulp:14.3g} {n.nan_inf:14d}" if n is not None else f"{'—':>14} {'—':>14}"
                out.append(
                    f"  {PATH_LABEL[w]:7} {r.max_ulp:14.3g} {r.median_ulp:7.2g} {r.worst_z:12.6g} {r.nan_inf:8d} {naive}"
                )
            for w, r in self.float32.items():
                nan = f", {r.nan_inf} NaN/inf" if r.nan_inf else ""
                out.append(
                    f"  {PATH_LABEL[w]:7} in float32 (float32 ULP): {r.max_ulp:.3g} at z = {r.worst_z:.6g}{nan}"
                    + ("" if PATHS[w] == "d2f" or (r.max_ulp <= ULP_BOUND and not r.nan_inf) else "  (more than 4)")
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
                    f"  the naive form of {PATH_LABEL[r.which]} loses {r.max_ulp:.3g} ULP at z = {r.worst_z:.6g}"
                    + (f" and gives {r.nan_inf} NaN/inf" if r.nan_inf else "")
                )
            out.append(f"  verdict: {'✓ verified' if self.verified else '✗ not verified (see above)'}")
        else:
            out.append("  skipped (verify=False)")
        text = _digits("\n".join(out))
        if source:
            text += "\n\nGenerated NumPy source\n" + self.source.rstrip()
        return text


def _digits(text: str) -> str:
    """An exact number of more than 20 digits (1e308 in a formula is an integer of 309) as a float."""
    return re.sub(r"\d{21,}", lambda m: f"{float(m.group()):.6g}", text)


def _short(text: str, width: int = 160) -> str:
    """``text`` cut to ``width`` characters at a word or clause boundary, never mid-word."""
    text = _digits(text)
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    for sep in ("; ", ", ", " "):
        if sep in cut:
            cut = cut[: cut.rindex(sep)].rstrip(",;")
            break
    return cut + " …"
