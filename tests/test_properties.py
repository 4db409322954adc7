"""Properties decided by SymPy match the known facts, with reasons; undecidable means None."""

from __future__ import annotations

import mpmath as mp
import pytest
import sympy as sp

from derivations.activations import ACTIVATIONS
from derivations.properties import activation_properties, decide_properties
from derivations.symbols import z

# name: (non-linear, monotonic, C¹, bounded, zero-centred, saturating) — the textbook facts.
EXPECTED = {
    "identity": (False, True, True, False, True, False),
    "step": (True, True, False, True, False, True),
    "sigmoid": (True, True, True, True, False, True),
    "tanh": (True, True, True, True, True, True),
    "relu": (True, True, False, False, False, True),
    "leaky_relu": (True, True, False, False, True, False),
    "elu": (True, True, True, False, True, True),
    "selu": (True, True, False, False, True, True),
    "softplus": (True, True, True, False, False, True),
    "softsign": (True, True, True, True, True, True),
    "gelu": (True, False, True, False, True, True),
    "gelu_tanh": (True, False, True, False, True, True),
    "silu": (True, False, True, False, True, True),
    "mish": (True, False, True, False, True, True),
    "hard_sigmoid": (True, True, False, True, False, True),
    "hard_tanh": (True, True, False, True, True, True),
    "hard_swish": (True, False, False, False, True, True),
    "log_sigmoid": (True, True, True, False, False, True),
}
KEYS = ("nonlinear", "monotonic", "c1", "bounded", "zero_centred", "saturating")


@pytest.mark.parametrize("name", EXPECTED)
def test_properties_match_the_facts(name):
    props = activation_properties(ACTIVATIONS[name])
    for key, expected in zip(KEYS, EXPECTED[name]):
        verdict = getattr(props, key)
        assert verdict.value is expected, f"{name}.{key}: {verdict.value} ({verdict.reason}), expected {expected}"
        assert verdict.reason, f"{name}.{key} has no reason"


def test_every_entry_has_expectations():
    assert set(EXPECTED) == set(ACTIVATIONS)


@pytest.mark.parametrize(
    "name, minimum",
    [("gelu", "-0.75179152469356445746"), ("silu", "-1.2784645427610737951"), ("mish", "-1.1924312145154952121")],
)
def test_global_minimum_located(name, minimum):
    props = activation_properties(ACTIVATIONS[name])
    assert props.critical_points, name
    assert abs(props.critical_points[0] - float(mp.mpf(minimum))) < 1e-10
    assert props.range.lower_closed and props.range.lower < 0


def test_relu_is_not_c1_because_its_derivative_jumps():
    assert "jumps at z = 0" in activation_properties(ACTIVATIONS["relu"]).c1.reason


def test_undecidable_is_none_not_a_guess():
    # f' = cos(z)·exp(z) + ...: a sign pattern nothing here can prove, with no sign change at the probes
    # is not available; instead use a function whose continuity SymPy cannot vouch for.
    weird = sp.gamma(z**2 + 1)
    props = decide_properties(weird)
    assert props.c1.value is None and "could not" in props.c1.reason
