"""The activation registry's contract (DESIGN.md), the printed stable forms, and the issue's facts."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

import nnref.activations as A
from derivations.activations import ACTIVATIONS, ENTRIES
from derivations.printer import numpy_code
from derivations.reference import full_range_grid

ELEMENTWISE = [e.name for e in ENTRIES]


def test_the_runtime_registry_is_the_derivations_registry():
    """The generated metadata lists every entry of derivations/activations.py, in order, and the
    vector-valued ones after them: a new entry reaches the runtime by `nnref derive` alone."""
    from derivations.activations import names

    assert A.names() == names()


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (2, 2, 2)], ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64], ids=lambda d: d.__name__)
def test_shape_and_dtype(name, shape, dtype):
    act = A.get(name)
    z = (np.arange(int(np.prod(shape))).reshape(shape) - 2).astype(dtype)
    expected = np.float64 if dtype == np.int64 else dtype
    for fn in (act.f, act.df, act.d2f):
        out = fn(z)
        assert out.shape == z.shape and out.dtype == expected, (name, fn.__name__, out.shape, out.dtype)
    a, d = act.f_df(z)
    assert np.array_equal(a, act.f(z)) and np.array_equal(d, act.df(z))
    g = np.ones(z.shape, dtype=expected)
    assert np.array_equal(act.vjp(z, g), act.df(z))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_no_invalid_operation_anywhere_on_the_grid(name):
    """On finite inputs the generated code never divides by zero or makes an invalid operation (the
    runtime quiets those only for the NaN and ±inf inputs, whose results are set afterwards)."""
    act = A.get(name)
    grid = full_range_grid()
    with np.errstate(over="ignore", under="ignore", invalid="raise", divide="raise"):
        for which in ("f", "df", "d2f", "f_df"):
            outs = act._kernel(which)(grid)
            for out in outs if which == "f_df" else (outs,):
                assert not np.isnan(out).any(), f"{name}.{which} makes NaN on the full-range grid"


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_float32_close_to_float64(name):
    act = A.get(name)
    z = np.linspace(-8, 8, 321)
    for fn in (act.f, act.df):
        lo = fn(z.astype(np.float32)).astype(np.float64)
        hi = fn(z)
        assert np.allclose(lo, hi, rtol=1e-5, atol=1e-6), f"{name}.{fn.__name__}: float32 far from float64"


GOLDEN = {
    ("softplus", "f"): "numpy.logaddexp(0, z)",
    ("sigmoid", "f"): "scipy.special.expit(z)",
    ("tanh", "df"): "nnref._primitives.sech2(z)",
    ("log_sigmoid", "f"): "-numpy.logaddexp(0, -z)",
    ("elu", "f"): "numpy.where(numpy.greater(z, 0), z, alpha*numpy.expm1(numpy.minimum(z, 0)))",
    ("relu", "f"): "numpy.maximum(z, 0)",
    ("relu", "df"): "numpy.greater(z, 0).astype(numpy.float64)",
    ("gelu", "f"): "nnref._primitives.x_ndtr(z)",
}


@pytest.mark.parametrize("key", GOLDEN, ids=lambda k: f"{k[0]}-{k[1]}")
def test_golden_printed_forms(key):
    entry = ACTIVATIONS[key[0]]
    expr = entry.code(key[1])
    assert numpy_code(expr) == GOLDEN[key]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_no_select_and_no_math_module(entry):
    for expr in (entry.code_f, entry.code_df, entry.code_d2f):
        code = numpy_code(expr)
        assert "numpy.select" not in code and "math." not in code, code


def _ulp(computed: float, true) -> float:
    return float(abs(mp.mpf(computed) - true) / np.spacing(abs(float(true))))


def test_issue_facts_are_fixed():
    mp.mp.dps = 500
    sig = A.get("sigmoid")
    value = sig.df(np.array([-800.0]))[0]
    true = mp.exp(-800) / (1 + mp.exp(-800)) ** 2
    assert np.isfinite(value) and (float(true) == 0 or _ulp(value, true) <= 4)
    tanh = A.get("tanh")
    for z in (20.0, 300.0):
        got = tanh.df(np.array([z]))[0]
        assert _ulp(got, 1 / mp.cosh(z) ** 2) <= 4, (z, got)
    assert tanh.df(np.array([20.0]))[0] == pytest.approx(1.70e-17, rel=1e-2)
    assert A.get("softplus").f(np.array([800.0]))[0] == 800.0


KINK_VALUES = [
    ("relu", "df", 0.0, 0.0),
    ("leaky_relu", "df", 0.0, 0.01),
    ("elu", "df", 0.0, 1.0),
    ("step", "f", 0.0, 1.0),
    ("step", "df", 0.0, 0.0),
    ("hard_sigmoid", "df", 3.0, 0.0),
    ("hard_sigmoid", "df", -3.0, 0.0),
    ("hard_tanh", "df", 1.0, 0.0),
    ("hard_swish", "df", -3.0, 0.0),
    ("hard_swish", "df", 3.0, 1.0),
    ("softsign", "d2f", 0.0, 0.0),
]


@pytest.mark.parametrize("name, which, z, value", KINK_VALUES)
def test_documented_kink_conventions(name, which, z, value):
    assert getattr(A.get(name), which)(np.array(z)) == value


def test_parameters_are_used_and_validated():
    assert A.get("leaky_relu", alpha=0.2).f(np.array(-1.0)) == -0.2
    with pytest.raises(TypeError, match="unknown parameter"):
        A.get("relu", alpha=0.1)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        A.get("elu", alpha=0)
    with pytest.raises(ValueError, match="finite"):
        A.get("elu", alpha=float("nan"))
    with pytest.raises(TypeError, match="real number"):
        A.get("elu", alpha="big")


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="known activations: identity, step, sigmoid"):
        A.get("swish")


@pytest.mark.parametrize("bad", ["1.0", np.array(["a"]), np.array([object()], dtype=object), np.array([1j])])
def test_bad_input_names_z(bad):
    with pytest.raises(TypeError, match="z must be"):
        A.get("sigmoid").f(bad)


def test_vjp_shape_mismatch():
    with pytest.raises(ValueError, match="g must have the shape of z"):
        A.get("tanh").vjp(np.ones(3), np.ones(4))
