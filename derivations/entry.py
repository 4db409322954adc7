"""The two kinds of registry entry, Activation and Loss: every fact about one object lives on it.

``derivations/activations.py`` and ``derivations/losses.py`` hold the entries themselves (data);
this module holds what an entry is and what follows from it (code). A new activation is one
``Activation(...)`` in ``activations.py``: its code, its pages, its checks and its tests follow from
the fields below, and no other file names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import sympy as sp

from derivations.symbols import y, y_hat, z

#: The derivatives of an activation that the code computes, with their labels.
WHICH = ("f", "df", "d2f")
LABEL = {"f": "f", "df": "f'", "d2f": "f''"}
#: Every generated path of an activation that is measured against mpmath, and which of f, f', f''
#: it computes: f_df's two outputs (common-subexpression elimination must not undo a stable form
#: there) and the vector-Jacobian product g ⊙ f'.
PATHS = {"f": "f", "df": "df", "d2f": "d2f", "f_df.f": "f", "f_df.df": "df", "vjp": "df"}
#: How the paths read in tables: f_df's outputs and the vjp are named as the code names them.
PATH_LABEL = {**LABEL, "f_df.f": "f_df→f", "f_df.df": "f_df→f'", "vjp": "vjp"}
#: The ULP bound every row is held to unless its entry records a measured one with the reason.
ULP_BOUND = 4.0

#: Bounds where 4 ULP cannot be reached: {"df": (bound, reason)}.
Bounds = dict[str, tuple[float, str]]


@dataclass(frozen=True)
class Expected:
    """The textbook facts about an activation, which ``derivations/properties.py`` must decide alike."""

    nonlinear: bool
    monotonic: bool
    c1: bool
    bounded: bool
    zero_centred: bool
    saturating: bool

    def items(self) -> list[tuple[str, bool]]:
        return [(key, getattr(self, key)) for key in PROPERTY_KEYS]


PROPERTY_KEYS = ("nonlinear", "monotonic", "c1", "bounded", "zero_centred", "saturating")


@dataclass(frozen=True)
class Twin:
    """The same function in PyTorch and JAX, as their users write it.

    ``torch`` and ``jax`` are Python expressions in ``x`` (and, for a loss, the target ``t``) and
    the entry's parameters by name, with ``torch``, ``F`` (torch.nn.functional), ``jax`` and
    ``jnp`` in scope; None where the tool has nothing (``missing`` says why). Their derivatives are
    the tools' own automatic differentiation, unless ``torch_df`` gives one where autograd has none.
    ``torch_less_accurate`` names, per "f"/"df" (or "value"/"grad"), why PyTorch is measurably
    farther from mpmath than nnref: the PyTorch cross-check requires every such case to be named.
    """

    torch: str | None = None
    jax: str | None = None
    note: str = ""
    torch_df: str | None = None
    torch_less_accurate: dict[str, str] = field(default_factory=dict)
    #: A tool's "function" that is an expression of its primitives rather than one it ships.
    expressions: tuple[str, ...] = ()
    missing: str = ""

    def call(self, expression: str, scope: dict, x, t=None, params: dict | None = None):
        """Evaluate one of this twin's expressions (``self.torch``, ``self.jax`` or ``self.torch_df``)
        with the tool's names in ``scope``, the input ``x``, the target ``t`` and the parameters bound.
        The expressions are the project's own strings, never user input."""
        names = {**scope, "x": x, "t": t, **(params or {})}
        return eval(expression, {"__builtins__": {}}, names)  # noqa: S307


class _Measured:
    """What an entry's recorded ULP bounds say (both kinds of entry have ``ulp_bounds``)."""

    ulp_bounds: Bounds

    def bound(self, which: str) -> float:
        """The ULP bound that the accuracy check holds ``which`` ("f", "df", "d2f"; "value", "grad") to."""
        return self.ulp_bounds.get(which, (ULP_BOUND, ""))[0]

    @property
    def accuracy_limit(self) -> tuple[str, float, str] | None:
        """The loosest recorded ULP bound as (which, bound, reason), or None when 4 ULP holds."""
        if not self.ulp_bounds:
            return None
        which, (bound, reason) = max(self.ulp_bounds.items(), key=lambda item: item[1][0])
        return which, bound, reason


@dataclass(frozen=True)
class Activation(_Measured):
    """One elementwise activation f(z), with named parameters and their defaults."""

    name: str
    title: str
    f: sp.Expr
    summary: str
    reference: str
    #: The textbook facts the properties module must decide alike.
    expected: Expected
    #: The same function in PyTorch and JAX (the cross-checks and the Accuracy page use it).
    twin: Twin = field(default_factory=Twin)
    stable: sp.Expr | None = None
    stable_df: sp.Expr | None = None
    stable_d2f: sp.Expr | None = None
    params: dict[str, float] = field(default_factory=dict)
    #: The convention at non-differentiable points, stated once (empty when f is smooth).
    kink: str = ""
    #: Points where f or f' is not differentiable (the checks do not difference across them).
    kinks: tuple[float, ...] = ()
    #: Why the stable form is needed (shown on the docs page as an admonition).
    why: str = ""
    #: Measured accuracy bounds in ULP where 4 cannot be reached, with the reason; empty means the
    #: project-wide 4 ULP holds for f, f' and f''.
    ulp_bounds: Bounds = field(default_factory=dict)
    #: f' and f'' are evaluated at clip(z, -saturate, saturate): beyond it they equal their limits
    #: in float64 (|difference| < 1e-300) while the closed form would compute inf·0 = NaN.
    saturate: float | None = None
    #: Patch f' and f'' with a Taylor polynomial about each interior zero, and f' about a zero of f''
    #: where its closed form cancels (see derivations/taylor.py).
    patch_zeros: bool = True
    #: Intervals where the error peaks between the full-range grid's points: measured at 1,001 points each.
    dense: tuple[tuple[float, float], ...] = ()
    #: Highest degree a patch may grow to while its radius is short of taylor.RADIUS (None: the default).
    patch_max_degree: int | None = None
    #: The quick answer at the top of the page. f and f' as practitioners write them (σ, Φ, φ, ...)
    #: where the definition or SymPy's f' is not already that form; tests prove them equal to f and f'.
    known_f: sp.Expr | None = None
    known_df: sp.Expr | None = None
    #: Symbols the known forms name, with their values (SELU's λ and α, GELU-tanh's u).
    named: dict[str, sp.Expr] = field(default_factory=dict)
    #: Copyable NumPy/SciPy code for f and f': expressions in z and the parameters by name, with
    #: ``np`` (numpy) and ``special`` (scipy.special), public functions only. Tests hold them to
    #: the generated code, raising no floating-point warning.
    numpy_f: str = ""
    numpy_df: str = ""

    # ---- what SymPy says about the textbook definition -------------------------------------
    @cached_property
    def df(self) -> sp.Expr:
        return sp.diff(self.f, z)

    @cached_property
    def d2f(self) -> sp.Expr:
        return sp.diff(self.df, z)

    @property
    def quick_f(self) -> sp.Expr:
        return self.f if self.known_f is None else self.known_f

    @property
    def quick_df(self) -> sp.Expr:
        return self.df if self.known_df is None else self.known_df

    def unnamed(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with the named symbols of the quick answer replaced by their values."""
        return expr.subs({sp.Symbol(name): value for name, value in self.named.items()})

    def textbook(self, which: str) -> sp.Expr:
        """What SymPy says: f, f' or f'' ("f", "df", "d2f") of the textbook definition."""
        return {"f": self.f, "df": self.df, "d2f": self.d2f}[which]

    # ---- what the code computes --------------------------------------------------------------
    @cached_property
    def closed_f(self) -> sp.Expr:
        """The stable f before tail patches (what the proofs compare, and what f' derives from)."""
        return self.f if self.stable is None else self.stable

    @cached_property
    def code_f(self) -> sp.Expr:
        from derivations.tails import with_tails

        return with_tails(self.closed_f, self.tails("f"))

    def tails(self, which: str) -> list:
        """Where ``which`` is a polynomial times an underflowing exponential (derivations/tails.py)."""
        if which not in self._tails:
            from derivations.tails import find_tails

            self._tails[which] = find_tails(self.textbook(which))
        return self._tails[which]

    @cached_property
    def _tails(self) -> dict:
        return {}

    @cached_property
    def closed_df(self) -> sp.Expr:
        """The stable f' before patches and saturation (what the proofs compare)."""
        return self.stable_df if self.stable_df is not None else sp.diff(self.closed_f, z)

    @cached_property
    def closed_d2f(self) -> sp.Expr:
        return self.stable_d2f if self.stable_d2f is not None else sp.diff(self.closed_df, z)

    def _patchable(self, derivative: sp.Expr) -> bool:
        """A Taylor patch needs a smooth closed form: none for a piecewise or kinked derivative."""
        return self.patch_zeros and not derivative.has(
            sp.Piecewise, sp.Abs, sp.sign, sp.Heaviside, sp.DiracDelta, sp.Max, sp.Min
        )

    @cached_property
    def patches(self) -> list:
        if not self._patchable(self.df):
            return []
        return self._patched[1]

    @cached_property
    def _patched(self) -> tuple[sp.Expr, list]:
        from derivations.taylor import DEGREE, patched

        return patched(self.closed_df, self.df, self.params, max_degree=self.patch_max_degree or DEGREE, flat=self.d2f)

    @cached_property
    def d2f_patches(self) -> list:
        """Taylor patches of f'' about its interior zeros, where its closed form cancels as the
        closed f' does about the zeros of f' (silu'': 5.5e15 ULP at z = ±2.3994 unpatched)."""
        if not self._patchable(self.d2f):
            return []
        return self._patched_d2f[1]

    @cached_property
    def _patched_d2f(self) -> tuple[sp.Expr, list]:
        from derivations.taylor import DEGREE, patched

        return patched(self.closed_d2f, self.d2f, self.params, max_degree=self.patch_max_degree or DEGREE)

    @cached_property
    def code_df(self) -> sp.Expr:
        from derivations.tails import with_tails

        expr = self._patched[0] if self.patches else self.closed_df
        return with_tails(self._saturated(expr), self.tails("df"))

    @cached_property
    def code_d2f(self) -> sp.Expr:
        from derivations.tails import with_tails

        expr = self._patched_d2f[0] if self.d2f_patches else self.closed_d2f
        return with_tails(self._saturated(expr), self.tails("d2f"))

    def code(self, which: str) -> sp.Expr:
        """What the generated code computes for "f", "df" or "d2f" (patches and saturation included)."""
        return {"f": self.code_f, "df": self.code_df, "d2f": self.code_d2f}[which]

    def closed(self, which: str) -> sp.Expr:
        """The code's closed form, before Taylor patches and saturation (what the proofs compare)."""
        return {"f": self.closed_f, "df": self.closed_df, "d2f": self.closed_d2f}[which]

    def _saturated(self, expr: sp.Expr) -> sp.Expr:
        if self.saturate is None:
            return expr
        return expr.subs(z, sp.Min(sp.Max(z, -self.saturate), self.saturate))

    @property
    def symbols(self) -> dict[str, sp.Symbol]:
        return {name: sp.Symbol(name, positive=True) for name in self.params}

    @cached_property
    def jumps(self) -> tuple[float, ...]:
        """The kinks where f itself jumps (the step's 0): there even f's value is a convention."""
        f = self.f.subs({s: sp.nsimplify(v) for s, v in zip(self.symbols.values(), self.params.values())})
        # f exactly at 10^-30 on either side: a continuous f moves by about that much, a jump by its
        # height. (SymPy's one-sided limit is no help here: it raises inside Min/Max, and it gives
        # 1/2 from both sides of Heaviside(z) rewritten as a Piecewise, where the step jumps 0 → 1.)
        eps = sp.Rational(1, 10**30)

        def side(k, sign):
            return sp.N(f.subs(z, sp.nsimplify(k) + sign * eps), 50)

        return tuple(k for k in self.kinks if abs(side(k, 1) - side(k, -1)) > sp.Rational(1, 10**20))

    def kink_points(self, which: str) -> tuple[float, ...]:
        """Inputs left out of a measurement of ``which``: at a kink f' (and at a jump, f) is a
        documented convention, tested on its own, not a limit mpmath could check."""
        return tuple(self.kinks) if which != "f" else self.jumps


# ---------------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------------

#: What a loss's prediction may be, by kind ({x} is the prediction's name): shown on the pages.
PREDICTIONS = {
    "real": "{x} any finite real",
    "probability": "0 ≤ {x} ≤ 1 (a probability)",
    "class_probability": "0 ≤ {x} ≤ 1 (class probabilities along axis 0)",
    "logit": "{x} any finite real (a logit)",
}
#: What a loss's target may be, by kind.
TARGETS = {
    "real": "y any finite real",
    "probability": "0 ≤ y ≤ 1",
    "sign": "y ∈ {−1, +1}",
    "distribution": "y ≥ 0 with each column summing to 1",
}
#: The targets a loss's accuracy is measured at, by target kind.
MEASURED_TARGETS = {
    "real": (0.0, 1.5, -2.0),
    "probability": (0.0, 0.3, 1.0),
    "sign": (-1.0, 1.0),
    "distribution": (0.0, 0.3, 1.0),
}


@dataclass(frozen=True)
class Loss(_Measured):
    """One loss: the per-element textbook loss ℓ(x, y), x = y_hat or a logit z, and its stable form."""

    name: str
    title: str
    value: sp.Expr
    summary: str
    #: The prediction's kind (a key of PREDICTIONS): what the runtime accepts and the grid measured.
    prediction: str = "real"
    #: The target's kind (a key of TARGETS): what the runtime accepts and the targets measured.
    target: str = "real"
    x: sp.Symbol = y_hat
    stable: sp.Expr | None = None
    stable_grad: sp.Expr | None = None
    params: dict[str, float] = field(default_factory=dict)
    kink: str = ""
    why: str = ""
    #: ℓ depends on ŷ − y only (mae, huber): the proofs substitute ŷ = y + w and prove in w.
    residual: bool = False
    #: Where the gradient's value is a stated convention: "" (nowhere), "y_hat = y" or "y*y_hat = 1".
    grad_kink: str = ""
    #: The loss couples the units of a column (softmax cross-entropy): no per-element form.
    vector: bool = False
    #: Measured ULP bounds where 4 cannot be reached, with the reason: {"grad": (bound, reason)}.
    ulp_bounds: Bounds = field(default_factory=dict)
    twin: Twin = field(default_factory=Twin)
    #: The quick answer at the top of the page. ℓ and ∂ℓ/∂x as practitioners write them, where the
    #: definition or SymPy's gradient is not already that form; tests prove them equal to both.
    #: (A loss that couples a column has no per-element form: its page states the vector one.)
    known_value: sp.Expr | None = None
    known_grad: sp.Expr | None = None
    #: Copyable NumPy/SciPy code for ℓ and ∂ℓ/∂x: expressions in the prediction (``y_hat`` or
    #: ``z``, as ``x`` is named), ``y`` and the parameters by name, with ``np`` (numpy) and
    #: ``special`` (scipy.special), public functions only. Summed over all their entries they give
    #: Σ ℓ and its gradient, per element (per column where the loss couples one). Tests hold them to
    #: the generated code, raising no floating-point warning.
    numpy_value: str = ""
    numpy_grad: str = ""
    #: Where the copyable code and nnref part ways, said under the code (empty: nowhere in the domain).
    numpy_note: str = ""

    def __post_init__(self):
        if self.grad_kink not in ("", "y_hat = y", "y*y_hat = 1"):
            raise ValueError(f"loss {self.name!r}: grad_kink must be '', 'y_hat = y' or 'y*y_hat = 1'")
        if self.prediction not in PREDICTIONS or self.target not in TARGETS:
            raise ValueError(
                f"loss {self.name!r}: prediction must be one of {list(PREDICTIONS)}, target one of {list(TARGETS)}"
            )

    @cached_property
    def grad(self) -> sp.Expr:
        return sp.diff(self.value, self.x)

    @cached_property
    def code_value(self) -> sp.Expr:
        return self.value if self.stable is None else self.stable

    @cached_property
    def code_grad(self) -> sp.Expr:
        return self.stable_grad if self.stable_grad is not None else sp.diff(self.code_value, self.x)

    def textbook(self, which: str) -> sp.Expr:
        return self.value if which == "value" else self.grad

    @property
    def quick_value(self) -> sp.Expr:
        return self.value if self.known_value is None else self.known_value

    @property
    def quick_grad(self) -> sp.Expr:
        return self.grad if self.known_grad is None else self.known_grad

    def code(self, which: str) -> sp.Expr:
        return self.code_value if which == "value" else self.code_grad

    @property
    def domain(self) -> str:
        """The domain in words, for the pages (the runtime words its errors itself, by the same kinds)."""
        parts = [PREDICTIONS[self.prediction].format(x=self.x), TARGETS[self.target]]
        return "; ".join(parts + [f"{p} > 0" for p in self.params])

    @property
    def classes_axis(self) -> bool:
        """Axis 0 is the classes axis (a 1-d array is one example)."""
        return self.target == "distribution"

    @property
    def measured_targets(self) -> tuple[float, ...]:
        return MEASURED_TARGETS[self.target]

    def kink_points(self, which: str, target: float) -> tuple[float, ...]:
        """Predictions left out at a target: where the gradient's value is a stated convention."""
        if which != "grad" or not self.grad_kink:
            return ()
        if self.grad_kink == "y_hat = y":
            return (target,)
        return (1.0 / target,)  # y·ŷ = 1

    @property
    def y(self) -> sp.Symbol:
        return y
