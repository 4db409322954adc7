"""mpmath references and the ULP metric: the yardstick every generated function is measured with.

The reference is always the *textbook* expression (``entry.f``, ``entry.df``, ``entry.d2f``),
never the stable form, evaluated by mpmath at a precision high enough that the reference itself
is exact in float64: 40 digits plus one per 2.3 units of |z| (``1 + exp(-745)`` needs over 330
digits; at 60 digits mpmath's ``log(1 + exp(-136))`` is wrong in the third digit).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import mpmath as mp
import numpy as np
import sympy as sp

from derivations.common import numeric, with_params, without_dirac
from derivations.entry import PATHS, ULP_BOUND
from derivations.functions import to_textbook
from derivations.symbols import y, z

TINY = np.finfo(np.float64).tiny  # the smallest normal float64
UNDERFLOWS = mp.mpf(10) ** -400  # far below the smallest subnormal float64 (4.9e-324)
#: The floating types every generated path is measured in, each on its own grid and in its own ULP.
DTYPES = (np.float64, np.float32)


def full_range_grid(extra=()) -> np.ndarray:
    """Both signs of magnitudes 1e-300 … 1e3, dense steps in [-40, 40], ±0, ±708, ±745, ±1e308, and
    steps of 1.5 through ±[700, 745] and 0.75 through ±[350, 372.5], where e^(∓z) (and e^(∓2z)) turns
    subnormal while a polynomial times it is still normal (silu(−711.5) = −1.8e-306)."""
    mags = np.logspace(-300, 3, 152)
    dense = np.linspace(-40.0, 40.0, 401)
    special = [0.0, 708.0, -708.0, 745.0, -745.0, 1e308, -1e308, 1.0, -1.0, 3.0, -3.0]
    underflow = np.concatenate([np.linspace(700.0, 745.0, 31), np.linspace(350.0, 372.5, 31)])
    grid = np.concatenate([mags, -mags, dense, special, underflow, -underflow, np.asarray(extra, dtype=np.float64)])
    return np.unique(grid)


def float32_grid(extra=()) -> np.ndarray:
    """The float32 range: both signs of magnitudes 1e-38 … 3e38, steps of 1/4 in [−120, 120] (where
    exp(±z) leaves the normal float32 range, −87.3 and −103.3 among them), 0, ±1, ±3, −91.17 (where
    silu computed in float32 gave −0.0 for −2.31e-38), and the extra points rounded to float32."""
    mags = np.logspace(-38, np.log10(3e38), 160)
    dense = np.linspace(-120.0, 120.0, 961)
    special = [0.0, 1.0, -1.0, 3.0, -3.0, -91.17, 3.4e38, -3.4e38]
    grid = np.concatenate([mags, -mags, dense, special, np.asarray(extra, dtype=np.float64)])
    return np.unique(grid.astype(np.float32)).astype(np.float64)


def points_near_zeros(entry) -> np.ndarray:
    """Where a closed form loses most: on and around each interior zero of f' and of f'' (the
    patch edges too), and the entry's ``dense`` intervals."""
    pts = [x for lo, hi in getattr(entry, "dense", ()) for x in np.linspace(lo, hi, 1001)]
    for patch in [*entry.patches, *getattr(entry, "d2f_patches", ())]:
        z0 = patch.z0
        offsets = np.logspace(-17, 0, 69)
        pts += [z0, *(z0 + offsets), *(z0 - offsets), *np.linspace(z0 - 0.7, z0 + 0.7, 281)]
    return np.asarray(pts, dtype=np.float64)


#: How far from a kink its neighbours are sampled: a few ULP of the kink, then 1e-15 … 1e-2.
KINK_OFFSETS = np.logspace(-15, -2, 27)


def points_near_kinks(entry) -> np.ndarray:
    """Both sides of every kink and breakpoint (``entry.kinks``), from 1, 2, 4 and 16 ULP of the
    kink out to 1e-2, the kinks themselves left out: a breakpoint moved by a few thousandths (3 to
    3.003) changes f or f' at some of them."""
    pts = []
    for k in entry.kinks:
        k = float(k)
        ulps = np.spacing(max(abs(k), np.finfo(np.float64).tiny)) * np.array([1.0, 2.0, 4.0, 16.0])
        offsets = np.concatenate([ulps, KINK_OFFSETS])
        pts += [*(k + offsets), *(k - offsets)]
    return np.unique(np.asarray(pts, dtype=np.float64))


def precision_for(x: float) -> int:
    """Digits that keep the textbook forms exact at x: exp(±x) terms for large |x|, and the
    cancellation of O(x) terms against O(1) ones (e.g. exp(x) - 1) for tiny |x|."""
    extra = abs(x) / 2.3 if abs(x) > 1 else (-np.log10(abs(x)) if x != 0 else 0.0)
    return int(min(40 + extra, 560))


def _prepare(expr: sp.Expr, params: dict[str, float] | None):
    expr = without_dirac(to_textbook(expr))
    expr = expr.rewrite(sp.Piecewise) if expr.has(sp.Heaviside, sp.Max, sp.Min) else expr
    return with_params(expr, params or {})


_EXPR_CACHE: dict[str, sp.Expr] = {}


def _key(expr: sp.Expr) -> str:
    key = sp.srepr(expr)
    _EXPR_CACHE[key] = expr
    return key


@functools.lru_cache(maxsize=512)
def _lambdified(key: str, params_key: tuple):
    return sp.lambdify(z, _prepare(_EXPR_CACHE[key], dict(params_key)), modules="mpmath")


def _evaluate(fn, x: float, dps: int):
    with mp.workdps(dps):
        try:
            value = fn(mp.mpf(x))
            return +mp.mpf(value)
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            return mp.nan


def _stable_value(fn, x: float):
    """Evaluate at two precisions and raise both until they agree far beyond float64: a textbook
    form can cancel hundreds of digits (1 + erf(-26.4) is 1e-305), and only agreement shows it didn't."""
    dps = precision_for(x)
    while True:
        a, b = _evaluate(fn, x, dps), _evaluate(fn, x, dps + 40)
        if not (mp.isfinite(a) and mp.isfinite(b)):
            return b
        if a == 0 and b == 0 and dps < 1200:
            # Exactly zero at both precisions may be total cancellation (1 + erf(-26.4) is 1e-305):
            # confirm 340 digits higher, where anything a float64 can hold (5e-324) shows. A value
            # still 0 there is 0 for ulp_errors (it asks for a subnormal or zero), whatever it is.
            return _evaluate(fn, x, min(dps + 340, 1200))
        if a == b or abs(a - b) <= abs(b) * mp.mpf(10) ** -30:
            return b
        if abs(a) < UNDERFLOWS and abs(b) < UNDERFLOWS:
            # Both far below every float (e^-21230 in softplus'' as the noise of 560 digits): the
            # truth underflows, and ulp_errors asks only for a subnormal or zero there.
            return mp.mpf(0)
        if dps > 4000:
            raise ArithmeticError(f"mpmath reference did not settle at x = {x!r}")
        dps *= 2


@functools.lru_cache(maxsize=256)
def _reference_cached(key: str, params_key: tuple, points: tuple[float, ...]) -> tuple:
    fn = _lambdified(key, params_key)
    return tuple(_stable_value(fn, x) for x in points)


def reference(expr: sp.Expr, points, params: dict[str, float] | None = None) -> list:
    """The textbook expression at each point, as mpmath numbers (cached per process)."""
    pts = tuple(float(p) for p in np.asarray(points, dtype=np.float64).ravel())
    return list(_reference_cached(_key(expr), tuple(sorted((params or {}).items())), pts))


def ulp_errors(computed, truth, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """(ULP error where the truth is a normal number of ``dtype`` else NaN, bad mask: NaN/inf where
    the truth is finite), the ULP being ``dtype``'s (float64 or float32).

    Where the truth underflows below the smallest normal number, the computed value must be finite
    and smaller than it in magnitude (a subnormal or zero), which is what correct rounding gives.
    Where it overflows, the computed value must be the infinity of its sign.
    """
    info = np.finfo(dtype)
    tiny, biggest = float(info.tiny), float(info.max)
    computed = np.asarray(computed, dtype=np.float64).ravel()
    errors = np.full(computed.shape, np.nan)
    bad = np.zeros(computed.shape, dtype=bool)
    for i, (c, t) in enumerate(zip(computed, truth)):
        if not mp.isfinite(t):
            continue
        tf = float(t)
        if not abs(tf) <= biggest:  # the truth overflows dtype: inf of the right sign is correct
            if c != (np.inf if tf > 0 else -np.inf):
                errors[i] = float("inf")
            continue
        if not np.isfinite(c):
            bad[i] = True
            continue
        if abs(tf) >= tiny:
            errors[i] = float(abs(mp.mpf(float(c)) - t) / float(np.spacing(dtype(abs(tf)))))
        elif abs(c) > 2 * tiny:
            errors[i] = float("inf")
    return errors, bad


@dataclass(frozen=True)
class AccuracyRow:
    name: str
    which: str
    max_ulp: float
    median_ulp: float
    worst_z: float
    worst_value: float
    worst_truth: float
    nan_inf: int
    n_points: int
    bound: float
    grid: np.ndarray | None = None  # the inputs measured, and the ULP error at each (NaN: not counted)
    errors: np.ndarray | None = None
    dtype: str = "float64"  # the inputs' and outputs' type, whose ULP the errors are counted in

    @property
    def ok(self) -> bool:
        return self.max_ulp <= self.bound and self.nan_inf == 0


def measure(
    name: str, which: str, fn, expr: sp.Expr, params, bound: float, grid=None, exclude=(), dtype=np.float64
) -> AccuracyRow:
    """Max/median ULP error of fn against the textbook expr, fn called on ``dtype`` inputs and held
    to return ``dtype`` (its ULP is the unit); points in `exclude` (kinks, where the value is a
    stated convention rather than a limit) are left out."""
    grid = (full_range_grid() if dtype == np.float64 else float32_grid()) if grid is None else grid
    grid = np.unique(np.asarray(grid, dtype=dtype)).astype(np.float64)  # the inputs dtype can hold
    if len(exclude):
        grid = grid[~np.isin(grid, np.asarray(exclude, dtype=dtype).astype(np.float64))]
    with np.errstate(all="ignore"):
        computed = np.asarray(fn(grid.astype(dtype)))
    if computed.dtype != dtype:
        raise TypeError(f"{name}: {which} returned {computed.dtype} for {np.dtype(dtype)} input")
    computed = computed.astype(np.float64)
    truth = reference(expr, grid, params)
    errors, bad = ulp_errors(computed, truth, dtype)
    valid = ~np.isnan(errors)
    worst = int(np.nanargmax(np.where(valid, errors, -1.0))) if valid.any() else 0
    bad_count = int(np.count_nonzero(bad))
    errors = np.where(bad, np.inf, errors)  # a NaN/inf where the truth is finite is infinitely wrong
    valid = ~np.isnan(errors)
    return AccuracyRow(
        name=name,
        which=which,
        max_ulp=float(np.max(errors[valid])) if valid.any() else 0.0,
        median_ulp=float(np.median(errors[valid])) if valid.any() else 0.0,
        worst_z=float(grid[worst]),
        worst_value=float(computed[worst]),
        worst_truth=float(truth[worst]),
        nan_inf=bad_count,
        n_points=int(valid.sum()),
        bound=bound,
        grid=grid,
        errors=errors,
        dtype=np.dtype(dtype).name,
    )


def runtime_path(act, path: str):
    """The function of z that a path of ``PATHS`` names on the runtime activation ``act``: f, df,
    d2f, either output of f_df, or the vjp with g = −1 (exact: the result is negated back, so it is
    measured against f' itself, and a vjp that ignored g would fail)."""
    if path in ("f", "df", "d2f"):
        return getattr(act, path)
    if path.startswith("f_df."):
        index = 0 if path == "f_df.f" else 1
        return lambda zs: act.f_df(zs)[index]
    if path == "vjp":
        return lambda zs: -act.vjp(zs, np.full_like(zs, -1.0))
    raise ValueError(f"path must be one of {', '.join(PATHS)}, got {path!r}")


def activation_accuracy(entry, which: str, fn, grid=None, dtype=np.float64) -> AccuracyRow:
    """Max/median ULP error of ``fn``, one generated path of an activation (a key of ``PATHS``:
    f, f', f'', either output of f_df, the vjp), against mpmath, in ``dtype``: the runtime is
    passed in, never imported (derivations/ does not depend on nnref/).

    float32 is held to 4 ULP (its own) everywhere: an entry's recorded bounds are float64's."""
    if grid is None:
        near = points_near_zeros(entry)
        grid = full_range_grid(extra=near) if dtype == np.float64 else float32_grid(extra=near)
    base = PATHS[which]
    bound = entry.bound(base) if dtype == np.float64 else ULP_BOUND
    label = entry.name if dtype == np.float64 else f"{entry.name} (float32)"
    return measure(
        label, which, fn, entry.textbook(base), entry.params, bound, grid, entry.kink_points(base), dtype=dtype
    )


#: The inputs a loss is measured on, by the kind of its prediction.
def loss_grid(entry, dtype=np.float64) -> np.ndarray:
    """Inputs inside the loss's domain: probabilities where the prediction is one, the full range of
    ``dtype`` otherwise; for float32, the probabilities it holds as normal numbers (and 0)."""
    if entry.prediction in ("probability", "class_probability"):
        lowest = -300 if dtype == np.float64 else -37
        small = np.logspace(lowest, np.log10(0.5), 160)
        near_one = 1 - np.logspace(-16 if dtype == np.float64 else -7, np.log10(0.5), 80)
        return np.unique(np.concatenate([small, near_one, np.linspace(0.01, 0.99, 99)]))
    return full_range_grid() if dtype == np.float64 else float32_grid()


def near_logit(entry, target: float, dtype=np.float64) -> np.ndarray:
    """For a logit prediction and a soft label y, logits closing in on logit(y), where σ(z) − y
    cancels: relative distances 10⁻² … 10⁻¹⁴ on both sides (10⁻⁷ for float32; σ(z) and y agree to
    47 bits, 23 for float32, there)."""
    if entry.prediction != "logit" or not 0 < target < 1:
        return np.empty(0)
    t = mp.mpf(target)
    center = float(mp.log(t / (1 - t)))
    scale = max(abs(center), 1.0)
    steps = scale * np.logspace(-14 if dtype == np.float64 else -7, -2, 13)
    return np.concatenate([center - steps, center + steps])


def loss_accuracy(entry, which: str, fn, bound: float | None = None, label: str = "", dtype=np.float64) -> AccuracyRow:
    """Worst ULP error of a per-element loss value or gradient over its grid and targets:
    ``fn(prediction, target)`` (the runtime's kernel, or a peer's) against the textbook expression,
    called on ``dtype`` predictions and targets (a target float32 cannot hold, 0.3, is measured as
    the float32 nearest it) and held to return ``dtype``, in its ULP. float32 is held to 4 ULP."""
    if bound is None:
        bound = entry.bound(which) if dtype == np.float64 else ULP_BOUND
    rows = []
    for target in entry.measured_targets:
        target = float(np.asarray(target, dtype=dtype))
        # sp.Rational(float) is the exact binary value: 1 - y must not be rounded by SymPy first.
        expr = entry.textbook(which).subs({entry.x: z}).subs(y, sp.Rational(target))
        grid = np.unique(np.concatenate([loss_grid(entry, dtype), near_logit(entry, target, dtype)]))
        rows.append(
            measure(
                entry.name + label,
                which,
                lambda v, t=target: np.broadcast_to(fn(v, np.full_like(v, t)), v.shape),
                expr,
                entry.params,
                bound,
                grid,
                exclude=entry.kink_points(which, target),
                dtype=dtype,
            )
        )
    return max(rows, key=lambda r: (r.nan_inf, r.max_ulp))


def naive_accuracy(entry, which: str, grid=None) -> AccuracyRow:
    """The same measurement for the naive lambdify of the raw SymPy expression (numpy + scipy)."""
    if grid is None:
        grid = full_range_grid(extra=points_near_zeros(entry))
    naive = numeric(entry.textbook(which), entry.params)
    exclude = entry.kink_points(which)
    return measure(
        entry.name + " (naive)", which, naive, entry.textbook(which), entry.params, entry.bound(which), grid, exclude
    )


def naive_loss_accuracy(entry, which: str) -> AccuracyRow:
    """`loss_accuracy` for the naive lambdify of the loss's raw SymPy value or gradient."""
    fn = sp.lambdify((entry.x, y), with_params(entry.textbook(which), entry.params), modules=["numpy", "scipy"])
    return loss_accuracy(entry, which, lambda v, t: np.asarray(fn(v, t), dtype=np.float64), label=" (naive)")
