"""The formula parser runs nothing it is given: a hostile corpus, each entry refused clearly and fast."""

from __future__ import annotations

import builtins
import subprocess
import sys
import time

import pytest
import sympy as sp
from sympy.parsing import sympy_parser

from derivations.custom.parse import FormulaError, parse
from derivations.symbols import z

# (input, a fragment the error message must contain)
HOSTILE = [
    ("__import__('os').system('touch {sentinel}')", "only named functions"),
    ("__import__('os')", "unknown function '__import__'"),
    ("().__class__.__bases__[0].__subclasses__()", "only named functions"),
    ("z.__class__", "attribute access"),
    ("z.real", "attribute access"),
    ("exp.__globals__", "attribute access"),
    ("getattr(z, '__class__')", "unknown function 'getattr'"),
    ("eval('1+1')", "unknown function 'eval'"),
    ("exec('import os')", "unknown function 'exec'"),
    ("open('/etc/passwd')", "unknown function 'open'"),
    ("compile('1', 'f', 'eval')", "unknown function 'compile'"),
    ("globals()", "unknown function 'globals'"),
    ("__builtins__", "names starting with _"),
    ("_", "names starting with _"),
    ("z[0]", "subscripts"),
    ("lambda: 1", "lambdas"),
    ("[z for z in ()]", "comprehensions"),
    ("(z for z in ())", "comprehensions"),
    ("{z: 1}", "dicts"),
    ("{z}", "sets"),
    ("[z]", "lists"),
    ("(z, z)", "tuples"),
    ("'abc'", "strings"),
    ("b'abc'", "strings"),
    ("f'{z}'", "strings"),
    ("z if z > 0 else 0", "where(cond, a, b)"),
    ("(z := 3)", "assignments"),
    ("import os", "not a formula"),
    ("z; import os", "not a formula"),
    ("z\nimport os", "control character"),
    ("z\x00", "control character"),
    ("9**9**9", "exponent larger than"),
    ("10**400*z", "digits"),
    ("10**300*10**300*z", "digits"),
    ("2**-5000*z", "exponent larger than"),
    ("1e999*z", "not a finite float64"),
    ("1" * 80 + "*z", "longer than"),
    ("(" * 500 + "z" + ")" * 500, "nested more than"),
    ("exp(" * 60 + "z" + ")" * 60, "nested more than"),
    ("-" * 60 + "z", "nested more than"),
    ("z+" * 1500 + "z", "longer than 2000 characters"),
    ("+".join(["z"] * 300), "too large"),
    ("", "empty formula"),
    ("   ", "empty formula"),
    ("z²", "non-ASCII"),
    ("zеro", "non-ASCII"),  # a Cyrillic е
    ("z\u202e", "non-ASCII"),  # right-to-left override
    ("1j*z", "complex"),
    ("sqrt(-1)*z", "complex-valued"),
    ("True*z", "bool"),
    ("None", "NoneType"),
    ("z @ z", "operator not allowed"),
    ("z // 2", "operator not allowed"),
    ("~z", "operator not allowed"),
    ("not z", "operator not allowed"),
    ("z > 0", "comparisons only inside where"),
    ("z and 1", "and/or only inside"),
    ("foo(z)", "unknown function 'foo'"),
    ("exp(z, z)", "takes 1 argument"),
    ("exp(x=z)", "no keyword arguments"),
    ("exp(*z)", "starred"),
    ("where(z, 1, 0)", "must be a comparison"),
    ("exp", "is a function: call it"),
    ("alpha*z", "declare a parameter with --param alpha"),
    ("1/0*z", "division by zero"),
    ("3", "does not depend on z"),
    ("log(0)*z", "undefined"),
]


@pytest.mark.parametrize("text,fragment", HOSTILE, ids=[repr(t)[:40] for t, _ in HOSTILE])
def test_hostile_input_is_refused_clearly_and_fast(text, fragment, tmp_path, monkeypatch):
    sentinel = tmp_path / "pwned"
    text = text.replace("{sentinel}", str(sentinel))

    def forbidden(*args, **kwargs):
        raise AssertionError("the parser called eval/exec/__import__/sympify")

    # Nothing may be evaluated as Python: eval/exec, or SymPy's string evaluation (sympify and
    # parse_expr both end in sympy_parser.eval_expr). The registry is imported first (imports exec).
    parse("z")
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(sympy_parser, "eval_expr", forbidden)
    start = time.perf_counter()
    with pytest.raises(FormulaError) as info:
        parse(text)
    elapsed = time.perf_counter() - start
    assert fragment in str(info.value), str(info.value)
    assert elapsed < 1.0, f"{elapsed:.2f} s for {text[:40]!r}"
    assert not sentinel.exists()


def test_the_error_points_at_the_offending_part():
    with pytest.raises(FormulaError) as info:
        parse("z*tanh(softplus(z)) + z.__class__")
    err = info.value
    assert err.col == len("z*tanh(softplus(z)) + ") + 1
    lines = str(err).splitlines()
    caret = lines[-1]
    assert caret.strip() == "^" * len("z.__class__")
    assert caret.index("^") - 2 == err.col - 1


def test_the_cli_refuses_a_hostile_formula_without_running_it(tmp_path):
    sentinel = tmp_path / "pwned"
    result = subprocess.run(
        [sys.executable, "-m", "nnref", "custom", f"__import__('os').system('touch {sentinel}')"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "nnref custom: error: only named functions may be called" in result.stderr
    assert "Traceback" not in result.stderr
    assert not sentinel.exists()


@pytest.mark.parametrize(
    "text,expected",
    [
        ("z*tanh(softplus(z))", z * sp.tanh(sp.log(1 + sp.exp(z)))),
        ("z*sigmoid(1.702*z)", z / (1 + sp.exp(-sp.Rational(851, 500) * z))),
        ("log1p(exp(z)) - log(2)", sp.log(1 + sp.exp(z)) - sp.log(2)),
        ("1 - tanh(z)^2", 1 - sp.tanh(z) ** 2),  # ^ is a power, with a power's precedence
        ("where(z > 0, z, 0.1*z)", sp.Piecewise((z, z > 0), (z / 10, True))),
        ("max(z, 0) + min(z, 0)/2", sp.Max(z, 0) + sp.Min(z, 0) / 2),
        ("z \u2212 1", z - 1),  # a pasted minus sign
        ("1e-3*z", z / 1000),
        ("erfc(z)", 1 - sp.erf(z)),
        ("mish(z)", z * sp.tanh(sp.log(sp.exp(z) + 1))),
        ("elu(z)", sp.Piecewise((z, z > 0), (sp.exp(z) - 1, True))),
    ],
)
def test_accepted_formulas_mean_what_they_say(text, expected):
    assert sp.simplify(parse(text).textbook - expected) == 0


def test_parameters_are_positive_symbols_and_must_be_used():
    parsed = parse("z*sigmoid(beta*z)", {"beta": 1.5})
    beta = sp.Symbol("beta", positive=True)
    assert parsed.textbook == z / (1 + sp.exp(-beta * z))
    with pytest.raises(FormulaError, match="declared but the formula does not use it"):
        parse("z", {"beta": 1.0})
    for bad in ("z", "exp", "__x", "1a", "pi", "mish"):
        with pytest.raises(FormulaError, match="parameter name"):
            parse("z", {bad: 1.0})


def test_registry_parameters_do_not_capture_the_users():
    # leaky_relu's own alpha is bound at its default; the user's alpha is a different quantity.
    parsed = parse("alpha*leaky_relu(z)", {"alpha": 2.0})
    assert parsed.textbook.subs(z, -1).subs(sp.Symbol("alpha", positive=True), 2) == sp.Rational(-2, 100)
