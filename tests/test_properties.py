"""Properties decided by SymPy match the known facts, with reasons; undecidable means None."""

from __future__ import annotations

import mpmath as mp
import pytest
import sympy as sp

from derivations.activations import ACTIVATIONS
from derivations.properties import activation_properties, decide_properties
from derivations.symbols import z


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_properties_match_the_facts(name):
    """Each entry states the textbook facts (``expected``); SymPy must decide them alike, with reasons."""
    entry = ACTIVATIONS[name]
    assert entry.expected is not None, f"{name}: a registry entry states its expected properties"
    props = activation_properties(entry)
    for key, expected in entry.expected.items():
        verdict = getattr(props, key)
        assert verdict.value is expected, f"{name}.{key}: {verdict.value} ({verdict.reason}), expected {expected}"
        assert verdict.reason, f"{name}.{key} has no reason"


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
