"""Property-based tests of the public API: whatever a user passes, nnref answers with a result that
keeps the documented contract or with a documented error that names the argument, in bounded time.

Inputs are drawn by hypothesis: shapes from 0-d to 4-d (empty ones too), float64, float32, int64
and Python lists, with subnormals, ±0, NaN, ±inf and huge values among the elements.
"""

from __future__ import annotations

import math
import warnings
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nnref.activations as A
import nnref.losses as L
import nnref.notebook as N
from derivations.custom.parse import FormulaError, parse
from nnref import gradcheck

# Every call has to end within the deadline (a generous one: these machines are shared), and the
# examples are few enough that the whole module takes seconds.
BOUNDED = settings(
    max_examples=60,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same examples on every run: a failure is reproducible, not a flake
)

SPECIAL = [0.0, -0.0, 5e-324, -5e-324, 2.2e-308, 1e-300, 1.0, -1.0, 1e300, -1e308, 1.7e308, math.inf, -math.inf]
ACTIVATIONS = [n for n in A.names() if n not in ("softmax", "log_softmax")]


def _elements(dtype, allow_nan: bool):
    info = np.finfo(dtype)
    finite = st.floats(
        min_value=-float(info.max), max_value=float(info.max), allow_nan=False, width=info.bits, allow_subnormal=True
    )
    specials = st.sampled_from([x for x in SPECIAL if abs(x) <= float(info.max) or math.isinf(x)]).map(dtype)
    extra = [st.just(math.nan)] if allow_nan else []
    return st.one_of(finite, specials, *extra)


def real_arrays(allow_nan: bool = True, min_dims: int = 0):
    """Arrays of float64, float32 or int64, 0-d to 4-d, empty ones included; or a nested list."""

    @st.composite
    def draw(draw_):
        dtype = draw_(st.sampled_from([np.float64, np.float32, np.int64]))
        shape = draw_(hnp.array_shapes(min_dims=min_dims, max_dims=4, min_side=0, max_side=4))
        if dtype is np.int64:
            x = draw_(hnp.arrays(np.int64, shape, elements=st.integers(-(2**40), 2**40)))
        else:
            x = draw_(hnp.arrays(dtype, shape, elements=_elements(dtype, allow_nan)))
        return x.tolist() if draw_(st.booleans()) and x.ndim >= 1 and dtype is np.float64 else x

    return draw()


def _expected_dtype(z) -> np.dtype:
    z = np.asarray(z)
    return z.dtype if z.dtype == np.float32 else np.dtype(np.float64)


@pytest.mark.parametrize("name", ACTIVATIONS)
@BOUNDED
@given(z=real_arrays())
def test_an_activation_keeps_its_contract_on_any_real_array(name, z):
    act = A.get(name)
    x = np.asarray(z)
    finite = np.isfinite(x.astype(np.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no floating-point warning escapes, NaN and ±inf included
        outs = {which: getattr(act, which)(z) for which in ("f", "df", "d2f")}
        f, df = act.f_df(z)
        g = np.ones(x.shape, dtype=_expected_dtype(z))
        vjp = act.vjp(z, g)
    for which, out in {**outs, "f_df[0]": f, "f_df[1]": df, "vjp": vjp}.items():
        assert isinstance(out, np.ndarray) and out.shape == x.shape, (which, type(out), np.shape(out))
        assert out.dtype == _expected_dtype(z), (which, out.dtype)
    # A finite input never gives NaN: every registry activation is defined on the whole real line.
    # NaN in gives NaN out, in every path (docs/special-values.md).
    nan = np.isnan(x.astype(np.float64))
    for which, out in {**outs, "f_df[0]": f, "f_df[1]": df, "vjp": vjp}.items():
        assert not np.isnan(out[finite]).any(), (name, which, x[finite & np.isnan(out)])
        assert np.isnan(out[nan]).all(), (name, which, out[nan])
    # The fused and the vector-Jacobian forms agree with f and f' (a rounding apart at most).
    for fused, plain in ((f, outs["f"]), (df, outs["df"]), (vjp, outs["df"])):
        np.testing.assert_allclose(fused, plain, rtol=8 * np.finfo(fused.dtype).eps, atol=0, equal_nan=True)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "gelu"])
@BOUNDED
@given(bad=st.one_of(st.text(max_size=3), st.none(), st.complex_numbers(allow_nan=False), st.just([[1.0], [1.0, 2.0]])))
def test_an_activation_names_z_when_it_refuses_an_input(name, bad):
    with pytest.raises((TypeError, ValueError)) as info:
        A.get(name).f(bad)
    assert "z must be" in str(info.value)


def _loss_inputs(name: str):
    """(y_hat, y) of one shape for ``name``, sometimes outside the loss's domain."""

    @st.composite
    def draw(draw_):
        shape = draw_(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=4))
        y_hat = draw_(hnp.arrays(np.float64, shape, elements=_elements(np.float64, allow_nan=True)))
        if name in ("binary_cross_entropy",):
            y_hat = draw_(hnp.arrays(np.float64, shape, elements=st.floats(0, 1))) if draw_(st.booleans()) else y_hat
            y = draw_(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0, 0.5, 2.0])))
        elif name in ("categorical_cross_entropy", "softmax_cross_entropy"):
            labels = draw_(hnp.arrays(np.int64, shape[1:], elements=st.integers(0, shape[0] - 1)))
            y = np.eye(shape[0])[:, labels]
        elif name in ("hinge",):
            y = draw_(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0, 0.0])))
        else:
            y = draw_(hnp.arrays(np.float64, shape, elements=st.floats(-1e6, 1e6)))
        return y_hat, y

    return draw()


@pytest.mark.parametrize("name", L.names())
@BOUNDED
@given(data=st.data())
def test_a_loss_returns_a_number_or_names_what_it_refuses(name, data):
    y_hat, y = data.draw(_loss_inputs(name))
    loss = L.get(name)
    for method in (loss.value, loss.grad):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                out = method(y_hat, y)
        except (ValueError, TypeError) as exc:
            assert "y_hat" in str(exc) or "y " in str(exc) or "y must" in str(exc), str(exc)
            continue
        out = np.asarray(out)
        assert not np.isnan(out).any(), (name, method.__name__, y_hat, y)
        if method is loss.grad:
            assert out.shape == np.shape(y_hat)


@BOUNDED
@given(
    layer_dims=st.one_of(
        st.lists(st.integers(1, 6), min_size=2, max_size=4),
        st.lists(st.one_of(st.integers(-3, 6), st.floats(-3, 6), st.text(max_size=2)), max_size=4),
    )
)
def test_initialisation_builds_the_documented_shapes_or_names_layer_dims(layer_dims):
    try:
        params = N.initialize_parameters_deep(layer_dims, seed=1)
    except (ValueError, TypeError) as exc:
        assert "layer_dims" in str(exc)
        return
    assert all(isinstance(n, int) and n > 0 for n in layer_dims) and len(layer_dims) >= 2
    for ell in range(1, len(layer_dims)):
        assert params[f"W{ell}"].shape == (layer_dims[ell], layer_dims[ell - 1])
        assert params[f"b{ell}"].shape == (layer_dims[ell], 1)


@BOUNDED
@given(data=st.data())
def test_a_forward_step_keeps_the_shapes(data):
    n_prev = data.draw(st.integers(1, 4))
    n, m = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    finite = st.floats(-1e3, 1e3)
    a = data.draw(hnp.arrays(np.float64, (n_prev, m), elements=finite))
    w = data.draw(hnp.arrays(np.float64, (n, n_prev), elements=finite))
    b = data.draw(hnp.arrays(np.float64, (n, 1), elements=finite))
    for activation in ("relu", "sigmoid"):
        out, _ = N.linear_activation_forward(a, w, b, activation)
        assert out.shape == (n, m) and not np.isnan(out).any()
    with pytest.raises(ValueError):
        N.linear_forward(a, w.T if n != n_prev else np.zeros((n, n_prev + 1)), b)


@BOUNDED
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=4), elements=st.floats(-3, 3)))
def test_gradcheck_passes_a_right_gradient_and_fails_a_wrong_one(x):
    def f(v):
        return float(np.sum(np.sin(v) * v))

    def grad(v):
        return np.cos(v) * v + np.sin(v)

    assert gradcheck.check_gradient(f, grad, x).ok
    wrong = gradcheck.check_gradient(f, lambda v: grad(v) + 1e-3, x)
    assert not wrong.ok


TOKENS = [
    "z",
    "1",
    "2.5",
    "1e308",
    "+",
    "-",
    "*",
    "/",
    "**",
    "(",
    ")",
    "exp(",
    "log(",
    "tanh(",
    "abs(",
    "max(z, ",
    ",",
    " ",
]


@BOUNDED
@given(text=st.one_of(st.text(max_size=40), st.lists(st.sampled_from(TOKENS), max_size=30).map("".join)))
def test_the_formula_parser_answers_any_text_quickly_and_clearly(text):
    try:
        parsed = parse(text, {})
    except FormulaError as exc:
        assert str(exc).strip()  # a message, with the offending part where there is one
        return
    assert {s.name for s in parsed.textbook.free_symbols} == {"z"}  # "3" alone is refused: no z


# Each MLP setting with the domain its documentation gives: a value inside is accepted, a value
# outside is refused with an error that names the setting.
def _unit(lo_closed: bool):
    return lambda v: (0 <= v if lo_closed else 0 < v) and v < 1


DOMAINS = {
    "lr": lambda v: 0 < v < math.inf,
    "eps": lambda v: 0 < v < math.inf,
    "weight_decay": lambda v: 0 <= v < math.inf,
    "momentum": _unit(True),
    "beta1": _unit(True),
    "beta2": _unit(True),
}
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 1.0, 0.5, -0.0, 1e-300, 2.0]),
    st.floats(0, 1).map(np.float32),
    st.integers(-3, 3),
)


def _accepted_inside_named_outside(setting: str, value, inside: bool) -> None:
    """MLP accepts ``setting=value`` when it is inside the documented domain, and otherwise refuses
    it with an error whose message starts with the setting's name."""
    from nnref import MLP

    try:
        MLP([2, 3, 2], **{setting: value})
    except (ValueError, TypeError) as exc:
        assert not inside, (setting, value, str(exc))
        assert str(exc).startswith(setting), str(exc)
    else:
        assert inside, (setting, value)


@BOUNDED
@given(setting=st.sampled_from(sorted(DOMAINS)), value=NUMBERS)
def test_an_mlp_setting_is_accepted_in_its_domain_and_named_outside_it(setting, value):
    inside = not math.isnan(float(value)) and DOMAINS[setting](float(value))
    _accepted_inside_named_outside(setting, value, inside)


@BOUNDED
@given(
    setting=st.sampled_from(["epochs", "batch_size", "seed"]),
    value=st.one_of(st.integers(-2, 2**33), st.floats(-2, 5), st.booleans(), st.text(max_size=2)),
)
def test_a_count_is_a_whole_number_or_named(setting, value):
    whole = isinstance(value, int) and not isinstance(value, bool)
    inside = whole and (0 <= value < 2**32 if setting == "seed" else value >= 1)
    _accepted_inside_named_outside(setting, value, inside)


@BOUNDED
@given(data=st.data())
def test_fit_trains_on_any_finite_data_or_names_what_is_wrong(data):
    from nnref import MLP

    m = data.draw(st.integers(1, 6))
    X = data.draw(hnp.arrays(np.float64, (2, m), elements=_elements(np.float64, allow_nan=True)))
    y = data.draw(hnp.arrays(np.int64, (m,), elements=st.integers(0, 1)))
    model = MLP([2, 3, 2], epochs=2, batch_size=4)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a climbing cost on wild data is warned about
            model.fit(X, y)
    except (ValueError, TypeError) as exc:
        assert str(exc).startswith(("X", "y")), str(exc)
        assert not np.isfinite(X).all() or len(set(y.tolist())) < 2 or "class" in str(exc), str(exc)
        return
    assert np.isfinite(X).all()
    assert model.predict(X).shape == (m,)
