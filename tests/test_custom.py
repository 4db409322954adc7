"""`nnref custom`: a user's formula in, a proven derivative, stable verified code, a module and a page out."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import nnref.activations as A
from derivations.activations import ACTIVATIONS
from derivations.custom.stabilise import stabilise
from derivations.properties import activation_properties
from derivations.reference import activation_accuracy, full_range_grid
from derivations.symbols import z
from nnref.custom import CustomError, activation, write_module, write_page

GRID = full_range_grid()


@pytest.fixture(scope="module")
def mish():
    return activation("z*tanh(softplus(z))", name="my_mish")


QUICK_GELU_STEPS: list[str] = []


@pytest.fixture(scope="module")
def quick_gelu():
    return activation("z*sigmoid(1.702*z)", name="quick_gelu", progress=QUICK_GELU_STEPS.append)


@pytest.fixture(scope="module")
def centred_softplus():
    return activation("log1p(exp(z)) - log(2)", name="centred_softplus")


def test_mish_typed_as_a_formula_is_the_builtin_mish(mish):
    entry = ACTIVATIONS["mish"]
    # Same derivative, symbolically: the textbook forms and the stable closed forms.
    assert sp.simplify(mish.entry.df - entry.df) == 0
    assert sp.srepr(mish.entry.code_f) == sp.srepr(entry.code_f)
    assert sp.srepr(mish.entry.stable_d2f) == sp.srepr(entry.closed_d2f)
    # Same accuracy, measured the same way on the same grid.
    for which in ("f", "df", "d2f"):
        builtin = activation_accuracy(entry, which, getattr(A.get("mish"), which)).max_ulp
        assert mish.report.accuracy[which].max_ulp <= builtin + 0.5, which
    assert np.array_equal(mish.f(GRID), A.get("mish").f(GRID))
    assert mish.report.verified
    assert all(p.proven for p in mish.report.proofs.values())
    props = mish.report.properties
    builtin_props = activation_properties(entry)
    for key in ("nonlinear", "monotonic", "c1", "bounded", "zero_centred", "saturating"):
        assert getattr(props, key).value == getattr(builtin_props, key).value, key


def test_quick_gelu_is_stable_verified_and_beats_the_naive_form(quick_gelu):
    report = quick_gelu.report
    assert report.verified, report.table()
    assert report.accuracy["f"].max_ulp <= 4 and report.accuracy["df"].max_ulp <= 4
    assert report.accuracy["f"].nan_inf == report.accuracy["df"].nan_inf == 0
    # The naive lambdify loses the far tail of f (the rounding of 1.702·z) and is NaN in f'.
    assert report.naive["f"].max_ulp > 10 * report.accuracy["f"].max_ulp
    assert report.naive["df"].nan_inf > 0
    assert [r.rule for r in report.rewrites] == ["(1 + exp(-u))⁻¹ → sigmoid(u)"]
    assert all(r.proof.proven for r in report.rewrites)
    assert "expit_scaled" in report.source  # 1.702 is not a float64: the product is split
    zeros = [p for p in report.patches if p.kind == "zero"]
    assert len(zeros) == 1 and abs(zeros[0].z0 + 0.7511542554) < 1e-9
    # The derivative agrees with finite differences and the complex step (measured in the report).
    assert report.fd_df < 1e-5 and report.complex_step < 1e-9


def test_a_rewrite_removes_the_cancellation_of_softplus_minus_log2(centred_softplus):
    report = centred_softplus.report
    assert report.verified, report.table()
    rules = [r.rule for r in report.rewrites]
    assert rules[0] == "log(1 + exp(u)) → softplus(u)" and "log1p(expm1(u)/2)" in rules[1]
    assert report.naive["f"].nan_inf > 0 or report.naive["f"].max_ulp > 1e6
    # Next to z = 0, where softplus(z) − log 2 cancels: f(1e-10) = 5e-11 to full precision.
    assert centred_softplus.f(np.array([1e-10]))[0] == pytest.approx(5e-11, rel=4e-16)


def test_the_object_keeps_the_registry_contract(quick_gelu):
    for dtype in (np.float32, np.float64, np.int64):
        x = (np.arange(6).reshape(2, 3) - 3).astype(dtype)
        expected = np.float64 if dtype == np.int64 else dtype
        for fn in (quick_gelu.f, quick_gelu.df, quick_gelu.d2f):
            out = fn(x)
            assert out.shape == x.shape and out.dtype == expected
    x = np.linspace(-5, 5, 11)
    f, d = quick_gelu.f_df(x)
    assert np.array_equal(f, quick_gelu.f(x)) and np.array_equal(d, quick_gelu.df(x))
    g = np.full_like(x, 2.0)
    assert np.array_equal(quick_gelu.vjp(x, g), 2.0 * quick_gelu.df(x))
    assert quick_gelu.f(0.5).shape == ()
    with pytest.raises(TypeError, match="z must be"):
        quick_gelu.f("1.0")
    with pytest.raises(ValueError, match="g must have the shape of z"):
        quick_gelu.vjp(x, g[:3])


def test_the_report_is_data_and_a_table(quick_gelu):
    data = json.loads(json.dumps(quick_gelu.report.as_dict()))
    assert data["verified"] is True
    assert data["properties"]["monotonic"]["value"] is False  # a minimum near z = −0.75
    assert data["accuracy"]["df"]["max_ulp"] <= 4
    table = quick_gelu.report.table()
    for heading in ("Derivative", "Stabilisation", "Properties", "Verification", "Generated NumPy source"):
        assert heading in table
    assert "f'(z), as SymPy" in table and "verdict: ✓ verified" in table


def test_parameters_are_bound_and_named(tmp_path):
    swish = activation("z*sigmoid(beta*z)", name="swish", beta=1.0, verify=False)
    assert swish.params == {"beta": 1.0}
    # Beyond |z| = 700 silu has its tail patch (derivations/tails.py), which needs a polynomial fixed
    # at derive time: a parameter in the exponent (β) leaves none, so the two differ only there.
    inner = GRID[np.abs(GRID) < 700]
    assert np.array_equal(swish.f(inner), A.get("silu").f(inner))
    assert "def swish_f(z, beta=1.0):" in swish.source
    for bad in ({"beta": -1.0}, {"beta": float("nan")}, {"beta": "1"}):
        with pytest.raises(CustomError, match="parameter beta"):
            activation("z*sigmoid(beta*z)", verify=False, **bad)
    with pytest.raises(CustomError, match="name must be"):
        activation("z", name="Not A Name", verify=False)


def test_a_formula_undefined_on_part_of_the_line_is_not_verified():
    act = activation("log(z)", name="log_z")
    assert act.report.undefined and act.report.undefined[0][1] <= 0  # NaN for z < 0, -inf at 0
    assert not act.report.verified
    assert "outside its domain" in act.report.table()


def test_stabilise_rewrites_are_proven_and_only_where_needed():
    x = z
    cases = {
        sp.log(1 + sp.exp(x)): "softplus",
        1 / (1 + sp.exp(-x)): "sigmoid",
        1 - sp.tanh(x) ** 2: "sech2",
        sp.log(1 / (1 + sp.exp(-x))): "softplus",
        sp.exp(x) - 1: "expm1",
        sp.log(1 + x**2): "log1p",
        (1 + sp.erf(x / sp.sqrt(2))) / 2: "ncdf",
        sp.exp(-(x**2) / 2): "exp_neg_square",
    }
    for raw, block in cases.items():
        stable, rewrites = stabilise(raw)
        assert block in sp.srepr(stable), (raw, stable)
        assert rewrites and all(r.proof.proven for r in rewrites), raw
    stable, rewrites = stabilise(x**2 + sp.sin(x))
    assert rewrites == [] and stable == x**2 + sp.sin(x)


def _load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_out_writes_a_standalone_module_that_refuses_to_be_overwritten(quick_gelu, tmp_path, monkeypatch):
    path = write_module(quick_gelu, tmp_path / "quick_gelu.py", command="nnref custom ...")
    text = path.read_text()
    assert text.startswith("# Generated by `nnref custom ...`")
    assert "nnref." not in text.replace("printed by nnref.", "")
    monkeypatch.setitem(sys.modules, "nnref", None)  # the module must not need nnref
    module = _load(path)
    with np.errstate(all="ignore"):
        for which in ("f", "df", "d2f"):
            standalone = getattr(module, f"quick_gelu_{which}")(GRID)
            assert np.array_equal(standalone, getattr(quick_gelu, which)(GRID), equal_nan=True), which
    monkeypatch.delitem(sys.modules, "nnref")
    with pytest.raises(FileExistsError, match="--force"):
        write_module(quick_gelu, path)
    assert path.read_text() == text
    write_module(quick_gelu, path, force=True)


def test_docs_writes_a_page_in_the_registry_format(quick_gelu, tmp_path):
    paths = write_page(quick_gelu, tmp_path / "pages", command="nnref custom ...")
    page = (tmp_path / "pages" / "quick_gelu.md").read_text()
    builtin = Path("docs/reference/activations/silu.md").read_text(encoding="utf-8")
    sections = [line for line in builtin.splitlines() if line.startswith("## ")]
    for heading in sections:
        if heading not in ("## Reference", "## Convention at kinks"):
            assert heading in page, heading
    assert "$$" in page and "expit_scaled" in page
    assert "| max ULP error of $f'$ against mpmath |" in page
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
    with pytest.raises(FileExistsError):
        write_page(quick_gelu, tmp_path / "pages")


def test_cli_end_to_end(tmp_path):
    out = tmp_path / "act.py"
    cmd = [sys.executable, "-m", "nnref", "custom", "log1p(exp(z)) - log(2)", "--name", "cs", "--out", str(out)]
    result = subprocess.run(cmd + ["--docs", str(tmp_path / "docs")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: ✓ verified" in result.stdout and out.exists()
    assert (tmp_path / "docs" / "cs.md").exists()
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "already exists; pass --force" in again.stderr
    for args, message in (
        (["z", "--param", "beta"], "--param expects NAME=VALUE"),
        (["z", "--param", "beta=x"], "value must be a number"),
        (["z*beta", "--param", "beta=-2"], "parameter beta must be > 0"),
        (["z", "--out", str(tmp_path / "x.txt")], "--out must name a .py file"),
        (["z.real"], "attribute access"),
    ):
        bad = subprocess.run(
            [sys.executable, "-m", "nnref", "custom", *args], capture_output=True, text=True, timeout=120
        )
        assert bad.returncode == 2 and message in bad.stderr and "Traceback" not in bad.stderr, (args, bad.stderr)


def test_progress_names_each_step_in_order(quick_gelu):
    assert QUICK_GELU_STEPS[0] == "parsing the formula" and QUICK_GELU_STEPS[-1] == "verifying against mpmath"
    for step in ("stabilising", "generating code (derivatives, Taylor patches)", "proving f", "proving d2f"):
        assert step in QUICK_GELU_STEPS
    assert QUICK_GELU_STEPS.index("proving f") < QUICK_GELU_STEPS.index("proving df")


# Formulas on which SymPy or mpmath can work without end: each ends within its time budget, with a
# result or an error naming the budget and the step (huge towers, nested exponentials, long sums
# and products, a simplification that explodes).
SLOW = [
    "z**z**z**z**z",
    "exp(exp(exp(z)))",
    "log(1 + log(1 + log(1 + exp(exp(z)))))",
    "+".join(f"tanh({k}*z + {k})" for k in range(1, 31)),
    "*".join(f"(1 + z/{k})" for k in range(1, 31)),
    "(1 + z)**40/(1 + z**2)**20 + sqrt(1 + exp(z)**3)",
]
BUDGET = 2.0  # short: every formula here would run far past any budget; what counts is that it stops


@pytest.mark.parametrize("text", SLOW, ids=[t[:30] for t in SLOW])
def test_every_formula_ends_within_its_time_budget(text):
    start = time.monotonic()
    try:
        act = activation(text, name="slow", time_budget=BUDGET)
    except CustomError as exc:
        assert f"did not finish within the time budget of {BUDGET:g} s; it was " in str(exc), exc
    else:
        assert act.report.accuracy  # derived and measured in time: a verdict either way
    # Started, stopped and cleaned up, with a margin for a loaded machine's process start.
    assert time.monotonic() - start < BUDGET + 15


def test_the_budget_holds_from_any_thread():
    outcome = {}

    def run():
        try:
            activation("exp(exp(exp(z)))", time_budget=3)
        except CustomError as exc:
            outcome["error"] = str(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert "within the time budget of 3 s" in outcome["error"]


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "10", True, None])
def test_a_bad_time_budget_is_refused_before_any_work(bad):
    start = time.monotonic()
    with pytest.raises(CustomError, match="time_budget must be"):
        activation("z", time_budget=bad)
    assert time.monotonic() - start < 1.0
    with pytest.raises(CustomError, match="progress must be"):
        activation("z", progress="print")


def test_the_cli_stops_at_its_budget_and_says_where():
    cmd = [sys.executable, "-m", "nnref", "custom", "exp(exp(exp(z)))", "--time-budget", "3"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "within the time budget of 3 s; it was " in result.stderr and "--time-budget" in result.stderr
    assert "Traceback" not in result.stderr
    bad = subprocess.run(cmd[:-1] + ["-5"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--time-budget: expected a number of seconds > 0" in bad.stderr
    usage = subprocess.run(cmd[:4] + ["--help"], capture_output=True, text=True, timeout=120)
    assert "1 derived but not verified" in " ".join(usage.stdout.split())


@pytest.mark.parametrize(
    "text,registry,points",
    [
        ("max(z, 0.1*z)", A.get("leaky_relu", alpha=0.1), [0.0]),
        ("max(z, 0)", A.get("relu"), [0.0]),
        ("min(max(z, -1), 1)", A.get("hard_tanh"), [-1.0, 1.0]),
        ("min(max(z + 3, 0), 6)/6", A.get("hard_sigmoid"), [-3.0, 3.0]),
    ],
)
def test_a_kink_takes_the_registrys_value(text, registry, points):
    act = activation(text, name="kinked", verify=False)
    x = np.array(points)
    assert np.array_equal(act.df(x), registry.df(x)), (act.df(x), registry.df(x))
    # Away from the kinks the two agree everywhere.
    assert np.array_equal(act.df(GRID), registry.df(GRID))
    assert "side away from 0" in act.report.kink and "side away from 0" in act.report.table()
    assert "f'(z) = " in act.source  # the convention is written into the generated code's docstring


def test_a_proof_with_a_convention_says_so_and_is_not_cut_mid_word():
    act = activation("max(z, 0.1*z)", name="leaky", verify=False)
    table = act.report.table()
    assert "Equal for every z except 0, where the value is the documented convention" in table
    for line in table.splitlines():
        if line.endswith("…)"):
            assert line[-4] == " " or line[-3] == " ", line  # cut at a boundary: "... …)"


def test_exp_of_minus_a_square_verifies():
    act = activation("exp(-z**2)", name="gauss")
    report = act.report
    assert report.verified, report.table()
    assert [r.rule for r in report.rewrites] == ["exp(−c·u²) → exp_neg_square(u, c)"]
    # The plain formula loses hundreds of ULP to the rounding of z² near underflow.
    assert report.accuracy["f"].max_ulp <= 2 and report.naive["f"].max_ulp > 100


def test_a_rewrite_that_measures_worse_is_not_shipped(monkeypatch):
    """Plant a sigmoid block printed 1e-11 off (45,000 ULP): f as written (1/(1 + exp(-z)), 1.4 ULP)
    must be shipped instead, while f', whose plain form overflows to NaN at z = -708, keeps the block."""
    from derivations import functions as F
    from derivations.custom.pipeline import build
    from nnref._runtime import runtime

    monkeypatch.setattr(F.sigmoid, "numpy_template", "(scipy.special.expit({0})*1.00000000001)")
    monkeypatch.setattr(F.sigmoid, "forms", ())  # the block prints itself, planted error and all
    _, report, act = build("1/(1 + exp(-z))", "sig", {}, runtime())
    assert report.dropped.startswith("f as written: "), report.dropped
    assert "f' and f''" not in report.dropped and "measured better, so shipped: f as written" in report.table()
    assert report.accuracy["f"].max_ulp <= 4 and report.accuracy["f"].max_ulp < report.accuracy["df"].max_ulp
    assert "1.00000000001" not in act.source.split("def sig_df")[0].split("def sig_f")[1]


def test_softsign_typed_as_a_formula_verifies_as_the_registrys_does():
    act = activation("z/(1+abs(z))", name="my_softsign")
    report, entry = act.report, ACTIVATIONS["softsign"]
    assert report.verified, report.table()
    for which in ("f", "df"):
        builtin = activation_accuracy(entry, which, getattr(A.get("softsign"), which)).max_ulp
        assert report.accuracy[which].max_ulp <= max(builtin, 1.0) + 0.5, which
    assert report.accuracy["d2f"].nan_inf == 0
    huge = np.array([-1e308, 1e308])
    assert np.array_equal(act.df(huge), [0.0, 0.0])  # 1/(|z| + 1)² underflows; the quotient rule gave 1e-308
    assert np.all(np.isfinite(act.d2f(huge)))


def test_out_keeps_the_code_out_of_the_terminal_and_huge_constants_stay_short(tmp_path):
    out = tmp_path / "big.py"
    cmd = [sys.executable, "-m", "nnref", "custom", "z*1e308", "--no-verify", "--out", str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "def custom_f" in out.read_text() and "def custom_f" not in result.stdout
    assert "Generated NumPy source" not in result.stdout and f"wrote {out}" in result.stdout
    assert "1e+308" in result.stdout and "0" * 30 not in result.stdout


def test_a_standalone_module_answers_with_arrays_shaped_like_z(tmp_path):
    act = activation("max(z, 0.1*z)", name="leaky", verify=False)
    module = _load(write_module(act, tmp_path / "leaky.py"))
    for x in (np.array([-1.0, 0.0, 2.0]), np.zeros((2, 3), dtype=np.float32), np.array(0.5), np.array([1, 2])):
        for fn in (module.leaky_f, module.leaky_df, module.leaky_d2f):
            out = fn(x)
            # NumPy's own rule: an array for an array, a NumPy float for a 0-d input; never Python's int 0.
            assert isinstance(out, (np.ndarray, np.floating)) and np.shape(out) == x.shape, (fn.__name__, out)
            assert np.issubdtype(np.asarray(out).dtype, np.floating), (fn.__name__, out)
