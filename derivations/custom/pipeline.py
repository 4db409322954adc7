"""The `nnref custom` pipeline: a formula in, a proven derivative, stable code and a report out.

1. ``derivations.custom.parse`` parses the string without running it (an AST whitelist);
2. ``derivations.custom.stabilise`` rewrites unstable patterns into proven stable nodes;
3. the result becomes a ``derivations.entry.Activation``, so its derivatives, Taylor patches,
   proofs (``derivations.proofs``) and properties (``derivations.properties``) are the registry's;
4. the printer generates NumPy source, which the runtime compiles (``runtime.compile_activation``:
   it is the printer's output, not the user's text), and ``derivations.custom.verify`` measures it.
"""

from __future__ import annotations

import contextlib
import keyword
import math
import re
import signal
import threading

import numpy as np
import sympy as sp

from derivations.codegen import activation_functions
from derivations.common import with_params
from derivations.custom.errors import CustomError
from derivations.custom.report import Report
from derivations.entry import WHICH, Activation
from derivations.symbols import z

#: Highest degree of a Taylor patch about an interior zero of f' (the registry's use 30).
PATCH_MAX_DEGREE = 60
#: Seconds SymPy may spend on one symbolic task (a proof, the properties, a simplification).
SYMBOLIC_SECONDS = 60


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


def _check_params(params: dict, runtime) -> dict[str, float]:
    """Finite numbers > 0, checked as the registry's parameters are (``runtime.check_params``)."""
    try:
        return runtime.check_params("custom activation", params, dict(params), positive=frozenset(params))
    except (TypeError, ValueError) as exc:
        raise CustomError(
            f"{exc} (parameters are positive symbols; write -NAME in the formula for a negative one)"
        ) from None


def _kinks(expr, params: dict[str, float]) -> list:
    """The exact points where a piecewise/abs/max/min formula changes branch, in order."""
    from derivations.properties import breakpoints

    try:
        with _time_limit(SYMBOLIC_SECONDS):
            points = breakpoints(with_params(expr, params, exact=True))
    except (TimeoutError, NotImplementedError, TypeError, ValueError):
        return []
    exact = {}
    for p in points:
        if p.is_real and p.is_finite:
            exact.setdefault(float(p), p)
    return [exact[k] for k in sorted(exact)]


#: The rule for a derivative's value where it jumps, the registry's: relu'(0) = 0, leaky_relu'(0) = α
#: and elu'(0) = α are left derivatives; hard_tanh'(±1) = 0 and hard_sigmoid'(±3) = 0 are outer slopes.
KINK_RULE = "the one-sided limit from the side away from 0 (from the left at 0), as the registry's entries do"


def _at_kinks(expr, params: dict[str, float], points: list) -> tuple[sp.Expr, list[str]]:
    """``expr`` (a printable f' or f'') with its value at each jump set by :data:`KINK_RULE`, and
    the values chosen (``["f'(0) = 1/10", ...]``); continuous points are left alone."""
    if not points:
        return expr, []
    numeric = with_params(expr, params, exact=True)
    # One-sided values 1e-30 from the point, to 40 digits: SymPy's limit of a sum of Piecewise is
    # unreliable (it gives 0 on both sides of max(z, z/10)' at 0), and float64 cannot tell the
    # difference between a branch's value 1e-30 away and its limit.
    eps = sp.Rational(1, 10**30)
    pieces, chosen = [], []
    for point in points:
        try:
            with _time_limit(SYMBOLIC_SECONDS / 4):
                left, right = (sp.N(numeric.subs(z, point + side * eps), 40) for side in (-1, 1))
            left, right = float(left), float(right)
        except (TimeoutError, NotImplementedError, TypeError, ValueError):
            continue
        if not (math.isfinite(left) and math.isfinite(right)) or abs(left - right) <= 1e-15 * (1 + abs(left)):
            continue
        value = left if point <= 0 else right
        pieces.append((sp.Float(value, 17), sp.Eq(z, sp.Float(float(point), 17))))
        chosen.append(f"{value!r} at z = {point}")
    if not pieces:
        return expr, []
    return sp.Piecewise(*pieces, (expr, True)), chosen


def generated_source(entry) -> str:
    """The NumPy source of f, f', f'' and f_df, printed exactly as `nnref derive` prints the registry's."""
    return "\n\n".join(activation_functions(entry))


def _saturation(entry, act) -> float | None:
    """If f' or f'' give NaN/inf for huge |z| while their limits are finite, the smallest clip
    point beyond which the limits hold in float64 (the registry's ``saturate``), else None."""
    big = np.array([-1e308, -1e300, -1e100, -1e10, -1e4, -745.0, 745.0, 1e4, 1e10, 1e100, 1e300, 1e308])
    with np.errstate(all="ignore"):
        values = [np.asarray(getattr(act, w)(big), dtype=float) for w in ("df", "d2f")]
    if all(np.all(np.isfinite(np.broadcast_to(v, big.shape))) for v in values):
        return None
    limits = []
    try:
        with _time_limit(SYMBOLIC_SECONDS):
            for expr in (entry.df, entry.d2f):
                expr = with_params(expr, entry.params)
                for side in (-sp.oo, sp.oo):
                    limits.append((expr, side, sp.limit(expr, z, side)))
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
    expr = expr.replace(sp.DiracDelta, lambda *a: sp.Integer(0))
    return expr.replace(sp.Heaviside, lambda u, *h: sp.Piecewise((1, u > 0), (0, True)))


def _tidy(expr: sp.Expr) -> sp.Expr:
    """A derivative in fewer operations where |u| lets it: u·sign(u) → |u|, sign(u)² → 1 (both
    exact away from u = 0, where the kink rule sets the value), then one fraction if that is
    shorter. The quotient rule on z/(1 + |z|) gives 1/(|z| + 1) − z·sign(z)/(|z| + 1)², which cancels
    (204 ULP) and is 1e-308 at z = 1e308 instead of 0; tidied it is 1/(|z| + 1)², the registry's."""

    def mul(e):
        factors = list(e.args)
        for s in [f for f in factors if isinstance(f, sp.sign)]:
            if s in factors and s.args[0] in factors:
                factors.remove(s)
                factors.remove(s.args[0])
                factors.append(sp.Abs(s.args[0]))
        return sp.Mul(*factors)

    if not expr.has(sp.sign):
        return expr
    tidied = expr.replace(lambda e: e.is_Mul, mul).replace(
        lambda e: e.is_Pow and isinstance(e.base, sp.sign) and e.exp.is_even, lambda e: sp.Integer(1)
    )
    together = sp.together(tidied)
    if sp.count_ops(together) < sp.count_ops(tidied):
        tidied = together
    return tidied if sp.count_ops(tidied) < sp.count_ops(expr) else expr


def _entry(parsed, stable, name: str, params: dict[str, float], points, saturate, why: str):
    """``stable``: the form the code evaluates, or (the form of f, the form f' and f'' differentiate)."""
    stable, df_form = stable if isinstance(stable, tuple) else (stable, stable)
    raw_df = _tidy(_printable(sp.diff(df_form, z)))
    stable_df, df_at = _at_kinks(raw_df, params, points)
    stable_d2f, d2f_at = _at_kinks(_tidy(_printable(sp.diff(raw_df, z))), params, points)
    kink = ""
    if df_at or d2f_at:
        values = [f"f'(z) = {v}" for v in df_at] + [f"f''(z) = {v}" for v in d2f_at]
        kink = f"where a derivative jumps it takes {KINK_RULE}: " + "; ".join(values) + "."
    entry = Activation(
        name=name,
        title=f"{name} (custom)",
        f=parsed.textbook,
        summary=f"A user formula: `{parsed.text}`.",
        reference="",
        expected=None,
        stable=stable,
        stable_df=stable_df,
        stable_d2f=stable_d2f,
        params=params,
        kinks=tuple(float(p) for p in points),
        kink=kink,
        why=why,
        saturate=saturate,
        # As the registry's entries, with the degree raised (to 60) where a nearby pole slows the series.
        patch_max_degree=PATCH_MAX_DEGREE,
    )
    return entry


def build(expr: str, name: str | None, params: dict, runtime, verify: bool = True, progress=None):
    """Derive, stabilise, generate and (with ``verify``) measure the activation ``expr``.

    Returns (entry, report, act): the entry, the report, and the runtime object that runs the
    generated code (``runtime.compile_activation``). Raises CustomError naming the problem: a
    formula outside the vocabulary, a bad name or parameter. ``progress(step)``, if given, is
    called with the name of each step as it starts.

    This runs in the caller's process with no overall time limit: ``nnref.custom`` runs it in a
    worker process under a time budget.
    """
    step = progress if progress is not None else (lambda name: None)
    from derivations.custom.parse import FormulaError, parse
    from derivations.custom.stabilise import stabilise

    step("parsing the formula")
    name = _check_name(name)
    params = _check_params(params, runtime)
    try:
        parsed = parse(expr, params)
    except FormulaError as exc:
        raise CustomError(str(exc)) from exc
    step("stabilising")
    with _time_limit(SYMBOLIC_SECONDS):
        stable, rewrites = stabilise(parsed.stable)
    step("finding the kinks")
    points = _kinks(parsed.textbook, params)
    found = _derive(parsed, stable, rewrites, name, params, points, runtime, verify, step)
    if not (verify and rewrites) or all(_score(found[1].naive, w) >= _score(found[1].accuracy, w) for w in ("f", "df")):
        return found
    # Never ship a rewrite that measures worse than the formula it replaced: measure the formula as
    # written, and let f and f' (with f'') each take the form that measures better.
    step("measuring the formula as written (the naive code measured better)")
    plain = _derive(parsed, parsed.stable, [], name, params, points, runtime, verify, step)
    a, b = found[1].accuracy, plain[1].accuracy
    take = {w: _score(b, w) < _score(a, w) for w in ("f", "df")}
    if not any(take.values()):
        return found
    if all(take.values()):
        result = plain
    else:
        forms = tuple(parsed.stable if take[w] else stable for w in ("f", "df"))
        result = _derive(parsed, forms, rewrites, name, params, points, runtime, verify, step)
    label = {"f": "f", "df": "f' and f''"}
    result[1].dropped = "; ".join(
        f"{label[w]} as written: {b[w].max_ulp:.3g} ULP, where the rewritten code measured {a[w].max_ulp:.3g}"
        for w in ("f", "df")
        if take[w]
    ) + (f" ({', '.join(r.rule for r in rewrites)} not used there)")
    return result


def _score(rows, which: str) -> tuple[int, float]:
    """(NaN/inf count, worst ULP) of ``which`` in ``rows`` (a report's accuracy or naive rows)."""
    return (rows[which].nan_inf, rows[which].max_ulp)


def _derive(parsed, stable, rewrites, name, params, points, runtime, verify, step):
    """The entry, report and runtime object of ``stable``, a form of the parsed formula."""
    from derivations.custom.verify import measure
    from derivations.proofs import Proof, prove_one

    expr = parsed.text
    why = " ".join(dict.fromkeys(r.why for r in rewrites))
    entry = _entry(parsed, stable, name, params, points, None, why)
    kinks = entry.kinks
    step("generating code (derivatives, Taylor patches)")
    try:
        with _time_limit(SYMBOLIC_SECONDS * 2):
            source = generated_source(entry)
    except TimeoutError as exc:
        raise CustomError(f"could not generate code for {expr!r}: {exc}") from None
    act = runtime.compile_activation(source, name, params, kinks)
    step("checking f' and f'' at huge |z|")
    saturate = _saturation(entry, act)
    if saturate is not None:
        entry = _entry(parsed, stable, name, params, points, saturate, why)
        source = generated_source(entry)
        act = runtime.compile_activation(source, name, params, kinks)

    proofs = {}
    for which in WHICH:
        step(f"proving {which}")
        try:
            with _time_limit(SYMBOLIC_SECONDS):
                proofs[which] = prove_one(entry, which)
        except TimeoutError as exc:
            proofs[which] = Proof(False, f"not proven: {exc}")
    props, note = None, ""
    step("deciding the properties")
    try:
        from derivations.properties import entry_properties

        with _time_limit(SYMBOLIC_SECONDS):
            props = entry_properties(entry)
    except TimeoutError as exc:
        note = str(exc)
    except Exception as exc:  # noqa: BLE001  (SymPy may fail in many ways on a user's formula)
        note = f"SymPy could not decide them ({type(exc).__name__}: {exc})"
    simplified = None
    step("simplifying f'")
    try:
        with _time_limit(SYMBOLIC_SECONDS / 2):
            simplified = sp.simplify(entry.df)
    except TimeoutError:
        simplified = None

    report = Report(
        name=name,
        formula=parsed.text,
        params=params,
        textbook={w: entry.textbook(w) for w in WHICH},
        simplified_df=simplified,
        code={w: entry.code(w) for w in WHICH},
        rewrites=rewrites,
        proofs=proofs,
        properties=props,
        properties_note=note,
        kinks=kinks,
        patches=list(entry.patches),
        saturate=saturate,
        source=source,
        kink=entry.kink,
    )
    if verify:
        step("verifying against mpmath")
        measure(act, entry, report, runtime.gradcheck)
    return entry, report, act
