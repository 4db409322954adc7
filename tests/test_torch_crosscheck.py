"""nnref against PyTorch, in float64: every activation, every loss, and a whole MLP's gradients.

What is cross-checked:

* every elementwise activation: f(z) and f'(z) (torch autograd of f(z).sum()), and the
  vector-Jacobian product g ⊙ f'(z) against torch's backward with a random g, on seeded random
  normals, a dense grid in [-40, 40] and the extremes ±1e-300 … ±1e300;
* softmax and log_softmax along axis 0 (arrays are (units, m), one example per column), values and
  vector-Jacobian products;
* every loss: the value J = (1/m) Σ_examples Σ_units ℓ and its gradient ∂J/∂ŷ against the same
  scalar built from torch.nn.functional, differentiated by torch autograd;
* nnref.MLP: every parameter gradient (and the cost) against a torch network holding the same weights.

Why mpmath arbitrates: two float64 libraries that disagree cannot both be right, and neither is the
truth. Where nnref and torch differ by more than TOL_ULP, the textbook expression from
derivations/activations.py is evaluated by mpmath (derivations.reference) at that input; nnref must
then be within its ULP bound and torch must be the farther one. Every (activation, f/df) pair where
that happens must be named on the entry (``twin.torch_less_accurate``) with the reason, so a new,
unexplained disagreement fails, and so does a named one that no longer disagrees anywhere. The losses' known differences (torch's
clamps in binary_cross_entropy, its cancelling σ(z) − y) are settled by mpmath in their own tests, as is
log_softmax of the dominant unit (where nnref once lost six digits to torch's one).

Every registry entry carries its torch expression (``twin.torch``) or says why there is none
(``twin.missing``): a new activation or loss is cross-checked with no edit here.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
import torch
import torch.nn.functional as F

import nnref.activations as A
import nnref.losses as L
from derivations.activations import ACTIVATIONS
from derivations.losses import LOSSES
from derivations.reference import points_near_kinks, reference, ulp_errors
from derivations.softmax import VECTOR_ACTIVATIONS
from derivations.symbols import z as Z_SYMBOL
from nnref.mlp import MLP

DTYPE = torch.float64
EPS = np.finfo(np.float64).eps
TINY = np.finfo(np.float64).tiny
#: nnref and torch "agree" within this many ULP of the larger magnitude (about 1.8e-15 relative), or
#: when they differ by less than the smallest normal float64 (both then round an underflowing value).
TOL_ULP = 8.0
SEED = 20240607

# ---- the torch twins: each entry's ``twin`` (derivations/entry.py) ----------------------------------

SCOPE = {"torch": torch, "F": F}


def _twin_of(name: str):
    """The entry's twin (activations, the vector-valued ones, losses)."""
    if name in ACTIVATIONS:
        return ACTIVATIONS[name].twin
    if name in VECTOR_ACTIVATIONS:
        return VECTOR_ACTIVATIONS[name]
    return LOSSES[name].twin


def _known_losses() -> dict[tuple[str, str], str]:
    """(activation, "f" or "df") where the entry names why torch is farther from mpmath than nnref."""
    return {(n, w): why for n, e in ACTIVATIONS.items() for w, why in e.twin.torch_less_accurate.items()}


def _elementwise_names() -> list[str]:
    return [name for name in A.names() if isinstance(A.get(name), A.Activation)]


def _vector_names() -> list[str]:
    return [name for name in A.names() if not isinstance(A.get(name), A.Activation)]


def _params(names, whiches=(None,)):
    """pytest params per registry name (and f/df); an entry without a torch twin is not collected:
    test_every_entry_has_a_torch_twin_or_says_why holds it to stating the reason."""
    out = []
    for name in names:
        if _twin_of(name).torch is None:
            continue
        for which in whiches:
            args = (name,) if which is None else (name, which)
            out.append(pytest.param(*args, id="-".join(args)))
    return out


# ---- inputs --------------------------------------------------------------------------------------

EXTREMES = (1e-300, 1e-8, 20.0, 36.8, 50.0, 700.0, 708.0, 745.0, 1e3, 1e300)


def _grid() -> np.ndarray:
    rng = np.random.default_rng(SEED)
    normals = np.concatenate([rng.standard_normal(200), 10.0 * rng.standard_normal(200)])
    extremes = np.asarray(EXTREMES)
    return np.unique(np.concatenate([normals, np.linspace(-40.0, 40.0, 801), extremes, -extremes, [0.0]]))


GRID = _grid()


def _torch_f(name: str, x: torch.Tensor) -> torch.Tensor:
    twin = _twin_of(name)
    return twin.call(twin.torch, SCOPE, x, params=A.get(name).params)


def _torch_f_df(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    twin = _twin_of(name)
    x = torch.tensor(z, dtype=DTYPE, requires_grad=True)
    y = _torch_f(name, x)
    d = twin.call(twin.torch_df, SCOPE, x) if twin.torch_df else torch.autograd.grad(y.sum(), x)[0]
    return y.detach().numpy().copy(), d.detach().numpy().copy()


# ---- arbitration -----------------------------------------------------------------------------------


def _disagree(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        diff = np.abs(ours - theirs)
        scale = np.spacing(np.maximum(np.abs(ours), np.abs(theirs)))
        agree = (ours == theirs) | (diff <= TOL_ULP * scale) | (diff < TINY)
    return ~agree


def _distance(values: np.ndarray, truth: list) -> list:
    """|value − truth| in mpmath, infinite for a NaN/inf where the truth is a finite float64."""
    out = []
    for v, t in zip(values, truth):
        if np.isfinite(v):
            out.append(abs(mp.mpf(float(v)) - t))
        else:  # inf is right only where the truth overflows float64 with the same sign
            out.append(mp.mpf(0) if v == float(t) else mp.inf)
    return out


@dataclass
class Arbitration:
    """The inputs where nnref and torch disagree, with both ULP errors against mpmath there."""

    z: np.ndarray
    ours: np.ndarray
    theirs: np.ndarray
    ours_ulp: np.ndarray  # NaN where the truth is subnormal and the value is acceptably small
    theirs_ulp: np.ndarray  # inf for a NaN/inf where the truth is finite
    ours_bad: np.ndarray  # NaN/inf where the truth is finite
    torch_farther: np.ndarray

    @property
    def count(self) -> int:
        return self.z.size

    def worst_torch(self) -> str:
        i = int(np.argmax(np.nan_to_num(self.theirs_ulp, nan=-1.0)))
        return (
            f"torch {self.theirs_ulp[i]:.3g} ULP (value {self.theirs[i]!r}) vs nnref {self.ours_ulp[i]:.3g} ULP "
            f"(value {self.ours[i]!r}) at z = {self.z[i]!r}"
        )


def _arbitrate(z: np.ndarray, ours: np.ndarray, theirs: np.ndarray, truth_of) -> Arbitration | None:
    """None when nnref and torch agree everywhere; else the mpmath verdict at each disagreement."""
    ours, theirs = np.asarray(ours, dtype=np.float64).ravel(), np.asarray(theirs, dtype=np.float64).ravel()
    z = np.asarray(z, dtype=np.float64).ravel()
    mask = _disagree(ours, theirs)
    if not mask.any():
        return None
    truth = truth_of(mask)
    unsettled = [float(p) for p, t in zip(z[mask], truth) if mp.isnan(t)]
    assert not unsettled, f"mpmath could not evaluate the reference at z = {unsettled[:5]}"
    ours_ulp, ours_bad = ulp_errors(ours[mask], truth)
    theirs_ulp, theirs_bad = ulp_errors(theirs[mask], truth)
    farther = np.array([t > o for o, t in zip(_distance(ours[mask], truth), _distance(theirs[mask], truth))])
    return Arbitration(
        z=z[mask],
        ours=ours[mask],
        theirs=theirs[mask],
        ours_ulp=ours_ulp,
        theirs_ulp=np.where(theirs_bad, np.inf, theirs_ulp),
        ours_bad=ours_bad,
        torch_farther=farther,
    )


def _bound(name: str, which: str) -> float:
    """4 ULP, or the bound the entry records with its reason (derivations/activations.py)."""
    return ACTIVATIONS[name].bound(which)


def _assert_nnref_wins(name: str, which: str, verdict: Arbitration, bound: float) -> None:
    label = f"{name}.{which}"
    bad = verdict.z[verdict.ours_bad]
    assert bad.size == 0, f"{label}: nnref gives NaN/inf where the mpmath value is finite, at z = {bad[:5]}"
    over = np.nan_to_num(verdict.ours_ulp, nan=0.0) > bound
    assert not over.any(), (
        f"{label}: nnref is {verdict.ours_ulp[over].max():.3g} ULP from mpmath at z = {verdict.z[over][:5]} "
        f"(bound {bound:g}) where it disagrees with torch"
    )
    closer = ~verdict.torch_farther
    # Where torch is the closer one, nnref may only be relying on its entry's recorded, reasoned bound
    # (e.g. gelu_tanh's conditioning): both are then a few ULP out, and nnref is the one measured.
    assert not closer.any() or which in ACTIVATIONS[name].ulp_bounds, (
        f"{label}: torch is closer to mpmath than nnref at z = {verdict.z[closer][:5]} "
        f"(nnref {verdict.ours_ulp[closer][:3]} ULP, torch {verdict.theirs_ulp[closer][:3]} ULP), and the "
        "entry records no bound above 4 ULP that would explain it"
    )
    if verdict.torch_farther.any():
        assert (name, which) in _known_losses(), (
            f"{label}: nnref and torch disagree at {verdict.count} inputs and torch is the less accurate one "
            f"(worst: {verdict.worst_torch()}); if that is expected, name the reason on the entry's "
            f"twin.torch_less_accurate[{which!r}]"
        )
        # A listed loss is a real one, not a rounding tie: torch is beyond the project-wide 4 ULP somewhere.
        worst = np.max(np.nan_to_num(verdict.theirs_ulp, nan=0.0))
        assert worst > 4, f"{label}: torch is within 4 ULP everywhere: {verdict.worst_torch()}"


def _kinkless(name: str, z: np.ndarray) -> np.ndarray:
    """z without the kinks, where f' is a stated convention (test_kink_conventions_agree checks those)."""
    return z[~np.isin(z, np.asarray(A.get(name).kinks, dtype=np.float64))]


# ---- activations -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", A.names() + L.names())
def test_every_entry_has_a_torch_twin_or_says_why(name):
    twin = _twin_of(name)
    assert twin.torch is not None or len(twin.missing) > 20, (
        f"{name!r} has no PyTorch twin: give its entry twin=Twin(torch=...), or Twin(missing=...) with the reason"
    )
    assert set(twin.torch_less_accurate) <= {"f", "df"}, f"{name}: torch_less_accurate keys are 'f' and 'df'"


def test_default_parameters_are_torchs_defaults():
    """nnref's defaults are torch's: leaky_relu's slope 0.01, elu's alpha 1, huber's delta 1."""

    def default(fn, arg):
        return inspect.signature(fn).parameters[arg].default

    assert A.get("leaky_relu").params == {"alpha": default(F.leaky_relu, "negative_slope")}
    assert A.get("elu").params == {"alpha": default(F.elu, "alpha")}
    assert L.get("huber").params == {"delta": default(F.huber_loss, "delta")}


@pytest.mark.parametrize("name, which", _params(_elementwise_names(), ("f", "df")))
def test_elementwise_activation_against_torch(name, which):
    """f and f' on the grid and on both sides of every kink (a few ULP to 1e-2 away); every
    disagreement beyond TOL_ULP is settled by mpmath in nnref's favour."""
    act, entry = A.get(name), ACTIVATIONS[name]
    grid = np.unique(np.concatenate([GRID, points_near_kinks(entry)]))
    z = grid if which == "f" else _kinkless(name, grid)
    ours = getattr(act, which)(z)
    theirs = _torch_f_df(name, z)[0 if which == "f" else 1]
    expr = entry.f if which == "f" else entry.df
    verdict = _arbitrate(z, ours, theirs, lambda mask: reference(expr, z[mask], entry.params))
    if verdict is None:
        assert (name, which) not in _known_losses(), (
            f"{name}.{which}: nnref and torch now agree everywhere on the grid: drop it from the entry's "
            "twin.torch_less_accurate"
        )
        return
    _assert_nnref_wins(name, which, verdict, _bound(name, which))


@pytest.mark.parametrize("name", _params(_elementwise_names()))
def test_elementwise_vjp_against_torch(name):
    """nnref's vjp(z, g) = g ⊙ f'(z) against torch's backward with the same random g, shape (units, m)."""
    act, entry = A.get(name), ACTIVATIONS[name]
    rng = np.random.default_rng(SEED + 1)
    z = np.concatenate([rng.standard_normal((4, 30)), 8.0 * rng.standard_normal((4, 30))], axis=1)
    g = rng.standard_normal(z.shape)
    twin = _twin_of(name)
    x = torch.tensor(z, dtype=DTYPE, requires_grad=True)
    gt = torch.tensor(g, dtype=DTYPE)
    if twin.torch_df:
        theirs = (gt * twin.call(twin.torch_df, SCOPE, x)).numpy()
    else:
        theirs = torch.autograd.grad(_torch_f(name, x), x, grad_outputs=gt)[0].numpy()
    ours = act.vjp(z, g)
    assert ours.shape == z.shape

    def truth_of(mask):
        return [
            mp.mpf(float(gi)) * t for gi, t in zip(g.ravel()[mask], reference(entry.df, z.ravel()[mask], act.params))
        ]

    verdict = _arbitrate(z, ours, theirs, truth_of)
    if verdict is not None:
        # One more rounding than f' itself: the product with g.
        _assert_nnref_wins(name, "df", verdict, _bound(name, "df") + 1.0)


def _kink_cases():
    return [
        pytest.param(name, kink, id=f"{name}@{kink:g}")
        for name in _elementwise_names()
        if _twin_of(name).torch is not None
        for kink in A.get(name).kinks
    ]


@pytest.mark.parametrize("name, kink", _kink_cases())
def test_kink_conventions_agree(name, kink):
    """At each kink f' is a convention (derivations/activations.py states it); torch's must be nnref's."""
    act = A.get(name)
    z = np.array([kink])
    f, df = _torch_f_df(name, z)
    assert act.f(z)[0] == f[0], f"{name}({kink}): nnref {act.f(z)[0]!r}, torch {f[0]!r}"
    assert act.df(z)[0] == pytest.approx(df[0], rel=TOL_ULP * EPS, abs=0.0), (
        f"{name}'({kink}): nnref {act.df(z)[0]!r} ({act.kink}), torch {df[0]!r}: the conventions differ"
    )


# ---- softmax and log_softmax -------------------------------------------------------------------------


def _vector_inputs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED + 2)
    special = np.array(
        [
            [0.0, 1000.0, -1000.0, 745.0, -745.0],
            [1e300, -1e300, 0.0, 1.0, 2.0],
            [3.0, 3.0, 3.0, 3.0, 3.0],
            [-40.0, -20.0, 0.0, 20.0, 40.0],
            [700.0, 0.0, -700.0, 1e-300, -1e-8],
        ]
    ).T
    z = np.concatenate([rng.standard_normal((5, 60)), 5.0 * rng.standard_normal((5, 60)), special], axis=1)
    return z, rng.standard_normal(z.shape)


@pytest.mark.parametrize("name", _params(_vector_names()))
def test_vector_activation_against_torch(name):
    """softmax / log_softmax over axis 0 and their vjp against torch. The tolerances are the
    condition-scaled rounding of the formulas: ε·|p| for softmax, ε·(|z| + max|z| + |log p|) for
    log_softmax (subtracting the max and lse), ε·(|g| + Σ p|g|)·(p or 1) for the vjps."""
    act = A.get(name)
    z, g = _vector_inputs()
    x = torch.tensor(z, dtype=DTYPE, requires_grad=True)
    y = _torch_f(name, x)
    (vjp,) = torch.autograd.grad(y, x, grad_outputs=torch.tensor(g, dtype=DTYPE))
    f_t, vjp_t = y.detach().numpy(), vjp.numpy()
    f_n, vjp_n = act.f(z), act.vjp(z, g)
    p = np.asarray(torch.softmax(torch.tensor(z), dim=0))
    with np.errstate(all="ignore"):
        if name == "softmax":
            f_scale = np.abs(f_t)
            vjp_scale = p * (np.abs(g) + np.sum(p * np.abs(g), axis=0, keepdims=True))
        else:
            f_scale = np.abs(z) + np.max(np.abs(z), axis=0, keepdims=True) + np.abs(f_t)
            vjp_scale = np.abs(g) + p * np.sum(np.abs(g), axis=0, keepdims=True)
        for label, ours, theirs, scale in (("f", f_n, f_t, f_scale), ("vjp", vjp_n, vjp_t, vjp_scale)):
            assert np.all(np.isfinite(ours)) and np.all(np.isfinite(theirs)), f"{name}.{label}: NaN/inf"
            excess = np.abs(ours - theirs) / (TOL_ULP * EPS * scale + TINY)
            worst = np.unravel_index(int(np.argmax(excess)), excess.shape)
            assert excess[worst] <= 1.0, (
                f"{name}.{label}: nnref {ours[worst]!r}, torch {theirs[worst]!r} in column {z[:, worst[1]]}"
            )
    assert np.allclose(np.sum(f_n if name == "softmax" else np.exp(f_n), axis=0), 1.0, rtol=1e-14, atol=0)


def test_log_softmax_of_the_dominant_unit_is_accurate_to_a_few_ulp():
    # log p of the dominant unit is ≈ −Σ' exp(z − zmax): tiny, so an absolute rounding of lse or zmax
    # ruins it. nnref takes log1p of the other units' sum; torch rounds 1 + Σ' first (3e-8 relative here).
    rng = np.random.default_rng(3)
    cases = [[-40.0, -20.0, 0.0, 20.0, 40.0], [0.0, -30.0], [1e3, 1e3 - 25, -1e3]] + [
        list(rng.normal(0, 15, 6)) for _ in range(20)
    ]
    for zs in cases:
        z = np.array(zs)[:, None]
        with mp.workdps(80):
            lse = mp.log(mp.fsum(mp.exp(mp.mpf(v)) for v in zs))
            truth = [mp.mpf(v) - lse for v in zs]
        ours = A.get("log_softmax").f(z).ravel()
        theirs = torch.log_softmax(torch.tensor(z, dtype=DTYPE), dim=0).numpy().ravel()
        ours_err, theirs_err = _distance(ours, truth), _distance(theirs, truth)
        for o, t, v, zi in zip(ours_err, theirs_err, truth, zs):
            # z − zmax is rounded for the other units (to the spacing of the larger); the dominant one is exact.
            shift = 0 if zi == max(zs) else 2 * np.spacing(max(abs(x) for x in zs))
            assert o <= 4 * np.spacing(abs(float(v))) + shift, (zs, ours)
            assert o <= t or o <= 2 * np.spacing(abs(float(v))), (zs, ours, theirs)


# ---- losses ---------------------------------------------------------------------------------------------


def _torch_loss_sum(name: str, x: torch.Tensor, y: torch.Tensor, params: dict) -> torch.Tensor:
    """The per-batch SUM of a loss in torch: the sum of its entry's twin (per element, or per example
    for softmax cross-entropy). nnref's J is that over the m columns."""
    twin = _twin_of(name)
    return twin.call(twin.torch, SCOPE, x, y, params).sum()


#: Every loss's inputs: (y_hat or logits, target), shaped (units, m).
UNITS, M = 3, 50


def _loss_inputs(name: str, soft: bool) -> tuple[np.ndarray, np.ndarray]:
    """A prediction and a target inside the loss's domain, drawn by the kinds its entry states, with
    the points where a convention decides (ties, the margin, |r| = 1) included."""
    entry = LOSSES[name]
    rng = np.random.default_rng(SEED + 3)
    shape = (UNITS, M)
    labels = rng.integers(0, UNITS, M)
    onehot = np.eye(UNITS)[:, labels]
    probs = rng.dirichlet(np.ones(UNITS), M).T
    y = {
        "real": lambda: 2.0 * rng.standard_normal(shape),
        "probability": lambda: rng.uniform(0, 1, shape) if soft else rng.integers(0, 2, shape).astype(float),
        "sign": lambda: np.where(rng.integers(0, 2, shape) == 1, 1.0, -1.0),
        "distribution": lambda: probs if soft else onehot,
    }[entry.target]()
    x = {
        "real": lambda: (2.0 if entry.residual else 1.5) * rng.standard_normal(shape),
        "logit": lambda: 2.0 * rng.standard_normal(shape),
        "probability": lambda: rng.uniform(0.02, 0.98, shape),
        "class_probability": lambda: rng.dirichlet(np.ones(UNITS), M).T,
    }[entry.prediction]()
    if entry.residual:
        x[:, :5] = y[:, :5]  # ties: mae's convention sign(0) = 0
        x[0, 5], y[0, 5], x[1, 5], y[1, 5] = 1.0, 0.0, -0.5, 0.5  # |r| = 1 exactly: huber's seam at its default delta
    if entry.target == "sign":
        x[:, :4] = y[:, :4]  # y·ŷ = 1 exactly: the kink, where both take ∂ℓ/∂ŷ = 0
    return x, y


def _loss_cases():
    out = []
    for name in L.names():
        soft_ok = LOSSES[name].target in ("probability", "distribution")
        for soft in (False, True) if soft_ok else (False,):
            out.append(pytest.param(name, soft, {}, id=f"{name}-{'soft' if soft else 'hard'}"))
    # A non-default parameter must reach torch too.
    out.append(pytest.param("huber", False, {"delta": 0.5}, id="huber-delta=0.5"))
    return out


def _torch_loss(name: str, x: np.ndarray, y: np.ndarray, params: dict) -> tuple[float, np.ndarray]:
    """torch's J = sum/m and ∂J/∂x by autograd."""
    xt = torch.tensor(x, dtype=DTYPE, requires_grad=True)
    value = _torch_loss_sum(name, xt, torch.tensor(y, dtype=DTYPE), params) / x.shape[1]
    (grad,) = torch.autograd.grad(value, xt)
    return value.item(), grad.numpy()


def _assert_close(label: str, ours, theirs, rtol: float = 1e-13) -> None:
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, (label, ours.shape, theirs.shape)
    atol = rtol * float(np.max(np.abs(theirs), initial=0.0))
    err = np.abs(ours - theirs) - (rtol * np.abs(theirs) + atol)
    worst = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
    assert err[worst] <= 0, f"{label}: nnref {ours[worst]!r}, torch {theirs[worst]!r} (rtol {rtol:g})"


@pytest.mark.parametrize("name, soft, params", _loss_cases())
def test_loss_against_torch(name, soft, params):
    """J = (1/m) Σ_examples Σ_units ℓ and ∂J/∂ŷ against torch's sum over everything divided by m."""
    loss = L.get(name, **params)
    x, y = _loss_inputs(name, soft)
    value, grad = _torch_loss(name, x, y, loss.params)
    _assert_close(f"{name} value", loss.value(x, y), value)
    _assert_close(f"{name} grad", loss.grad(x, y), grad)
    if not soft and LOSSES[name].target == "distribution":
        # The index-label forms: nll_loss of log p, and cross_entropy of logits with class indices.
        labels = torch.tensor(np.argmax(y, axis=0))
        xt = torch.tensor(x, dtype=DTYPE)
        probabilities = LOSSES[name].prediction == "class_probability"
        logp = torch.log(xt.T) if probabilities else xt.T
        fn = F.nll_loss if probabilities else F.cross_entropy
        _assert_close(f"{name} value (labels)", loss.value(x, y), fn(logp, labels, reduction="mean").item())


def _loss_truth(name: str, which: str, x: np.ndarray, target: float) -> list:
    entry = LOSSES[name]
    expr = entry.value if which == "value" else entry.grad
    expr = expr.subs(entry.x, Z_SYMBOL).subs(sp.Symbol("y", real=True), sp.Rational(target))
    return reference(expr, x, entry.params)


def test_bce_where_torch_clamps_and_nnref_does_not():
    """torch's binary_cross_entropy clamps log(p) at -100 (stated in its docs) and p(1 - p) at 1e-12 in its
    backward; nnref has neither clamp and stays within 4 ULP of mpmath there."""
    p, y = np.array([[1e-60, 1e-13]]), np.array([[1.0, 1.0]])
    value, grad = _torch_loss("binary_cross_entropy", p, y, {})
    loss = L.get("binary_cross_entropy")
    assert value == pytest.approx((100.0 - math.log(1e-13)) / 2, rel=1e-12)  # -log(1e-60) = 138.2 clamped to 100
    # torch's EPSILON is the float32 1e-12 (9.9999999600e-13), so even the clamped value is off by 4e-9.
    assert grad[0, 1] == pytest.approx((1e-13 - 1.0) / float(np.float32(1e-12)) / 2, rel=1e-15)
    ours_terms = [loss.value(p[:, i : i + 1], y[:, i : i + 1]) for i in range(2)]
    truth = _loss_truth("binary_cross_entropy", "value", p.ravel(), 1.0)
    assert np.all(ulp_errors(ours_terms, truth)[0] <= 4.0), (ours_terms, truth)
    truth = [t / 2 for t in _loss_truth("binary_cross_entropy", "grad", p.ravel(), 1.0)]
    assert np.all(ulp_errors(loss.grad(p, y), truth)[0] <= 4.0)


def test_bce_with_logits_gradient_where_torch_cancels():
    """torch's backward of binary_cross_entropy_with_logits is σ(z) − y, which cancels for y = 1 and
    large z (and for y = 0, large -z); nnref computes (1 − y)σ(z) − yσ(−z) and stays within 4 ULP."""
    z = np.array([[30.0, 35.0, 40.0]])
    y = np.ones_like(z)
    _, theirs = _torch_loss("binary_cross_entropy_with_logits", z, y, {})
    ours = L.get("binary_cross_entropy_with_logits").grad(z, y)
    truth = [t / z.shape[1] for t in _loss_truth("binary_cross_entropy_with_logits", "grad", z.ravel(), 1.0)]
    ours_ulp, _ = ulp_errors(ours, truth)
    theirs_ulp, _ = ulp_errors(theirs, truth)
    assert np.all(ours_ulp <= 4.0), ours_ulp
    assert np.all(theirs_ulp > 1e3), theirs_ulp  # torch: 1e-3 relative at z = 30, 0 at z = 40


# ---- the whole network ---------------------------------------------------------------------------------

MLP_CASES = {
    "softmax-ce-tanh-relu": dict(layers=[5, 7, 6, 3], activation=["tanh", "relu"], loss="softmax_cross_entropy"),
    "binary-sigmoid-bce-gelu-silu": dict(layers=[5, 8, 6, 1], activation=["gelu", "silu"], loss="binary_cross_entropy"),
    "huber-softplus-elu-weight-decay": dict(
        layers=[4, 6, 5, 2], activation=["softplus", "elu"], loss="huber", init="xavier", weight_decay=0.3
    ),
    "mse-mish-hard-swish": dict(layers=[4, 6, 5, 2], activation=["mish", "hard_swish"], loss="mse"),
}


@pytest.mark.parametrize("case", MLP_CASES)
def test_mlp_gradients_match_a_torch_network(case):
    """Same weights, same forward (Z = W A + b; torch's own activations), same cost: every parameter
    gradient from nnref's backprop equals torch autograd's to 1e-12 relative, and the costs agree."""
    model = MLP(seed=3, **MLP_CASES[case])
    rng = np.random.default_rng(SEED + 4)
    m = 40
    X = rng.standard_normal((model.layers[0], m))
    if model.loss == "softmax_cross_entropy":
        y = rng.integers(0, model.layers[-1], m)
    elif model.loss == "binary_cross_entropy":
        y = rng.integers(0, 2, m)
    else:
        y = rng.standard_normal((model.layers[-1], m))
    ours = model.gradients(X, y)

    weights = {k: torch.tensor(v, dtype=DTYPE, requires_grad=True) for k, v in model.params.items()}
    A_ = torch.tensor(X, dtype=DTYPE)
    n_layers = len(model.layers) - 1
    for layer in range(1, n_layers + 1):
        Z = weights[f"W{layer}"] @ A_ + weights[f"b{layer}"]
        if layer < n_layers:
            name = model.activations[layer - 1]
            A_ = _torch_f(name, Z)
    if model.loss == "softmax_cross_entropy":
        cost = F.cross_entropy(Z.T, torch.tensor(y), reduction="mean")
    elif model.loss == "binary_cross_entropy":
        # The unfused form, sigmoid then BCE on probabilities: checks nnref's fused ∂J/∂Z = (A − Y)/m too.
        cost = F.binary_cross_entropy(torch.sigmoid(Z), torch.tensor(y, dtype=DTYPE).reshape(1, m), reduction="mean")
    else:
        cost = _torch_loss_sum(model.loss, Z, torch.tensor(y, dtype=DTYPE), L.get(model.loss).params) / m
    penalty = sum((w**2).sum() for k, w in weights.items() if k.startswith("W"))
    cost = cost + model.weight_decay / (2 * m) * penalty
    theirs = dict(zip(weights, torch.autograd.grad(cost, list(weights.values()))))

    assert model.cost(X, y) == pytest.approx(cost.item(), rel=1e-13)
    assert set(ours) == set(theirs)
    for key, g in theirs.items():
        g = g.numpy()
        rel = np.max(np.abs(ours[key] - g)) / np.max(np.abs(g))
        assert ours[key].shape == g.shape and rel <= 1e-12, f"{case} {key}: relative difference {rel:.3g}"
