"""The reference pages print exactly the registry's expressions, and the plots are deterministic."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sympy as sp

from derivations.activations import ENTRIES
from derivations.docgen import activation_page, activation_plot

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "docs" / "reference" / "activations"


def _display_math(markdown: str) -> list[str]:
    return [block.strip() for block in re.findall(r"\$\$\n(.*?)\n\s*\$\$", markdown, flags=re.S)]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_page_formulas_are_sympy_latex_of_the_entry(entry):
    page = (PAGES / f"{entry.name}.md").read_text(encoding="utf-8")
    formulas = _display_math(page)
    expected = {
        f"f(z) = {sp.latex(entry.f)}",
        f"f'(z) = {sp.latex(entry.df)}",
        f"f''(z) = {sp.latex(entry.d2f)}",
    }
    missing = [formula for formula in expected if formula not in formulas]
    assert not missing, f"{entry.name}.md does not show {missing}"
    code_forms = {
        f"f(z) = {sp.latex(entry.code_f)}",
        f"f'(z) = {sp.latex(entry.code_df)}",
        f"f''(z) = {sp.latex(entry.code_d2f)}",
    }
    allowed = expected | code_forms
    stray = [formula for formula in formulas if formula not in allowed]
    assert not stray, f"{entry.name}.md shows formulas that are not the entry's: {stray}"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_page_shows_the_generated_source(entry):
    page = (PAGES / f"{entry.name}.md").read_text(encoding="utf-8")
    generated = (ROOT / "nnref" / "_generated" / "activations.py").read_text(encoding="utf-8")
    for which in ("f", "df", "d2f"):
        body = re.search(rf"def {entry.name}_{which}\(.*?\n    return (.*?)\n", generated, flags=re.S)
        assert body, f"{entry.name}_{which} missing from the generated module"
        assert body.group(1) in page, f"{entry.name}.md does not show the generated {which}"


def test_a_wrong_formula_is_caught():
    entry = ENTRIES[2]  # sigmoid
    page = activation_page(entry).replace(sp.latex(entry.df), sp.latex(entry.df + 1))
    formulas = _display_math(page)
    assert f"f'(z) = {sp.latex(entry.df)}" not in formulas


def test_plots_are_deterministic():
    entry = next(e for e in ENTRIES if e.name == "gelu")
    first, second = activation_plot(entry), activation_plot(entry)
    assert first == second
    assert "<dc:date>" not in first, "the SVG carries a date"
