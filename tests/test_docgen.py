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


def _cells(row: str) -> int:
    """How many cells Python-Markdown's table gives a row: it splits at every unescaped `|` outside
    code spans, inside `$...$` math too."""
    row = re.sub(r"`[^`]*`", "", row.strip()).strip("|")
    return len(re.split(r"(?<!\\)\|", row))


def _table_rows(markdown: str):
    lines = markdown.splitlines()
    for i, line in enumerate(lines[1:], 1):
        if re.fullmatch(r"\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*", line) and "|" in lines[i - 1]:
            header, j = lines[i - 1], i + 1
            while j < len(lines) and lines[j].strip().startswith("|"):
                yield header, lines[j]
                j += 1


@pytest.mark.parametrize("page", sorted((ROOT / "docs").rglob("*.md")), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_table_rows_keep_their_cells(page):
    """A `|` inside a cell (|z| as text or \\left| in math) starts a new cell: the rest of the formula
    shows as raw TeX and the last columns are dropped. Every row must have its header's cells."""
    broken = [
        row[:90] for header, row in _table_rows(page.read_text(encoding="utf-8")) if _cells(row) != _cells(header)
    ]
    assert not broken, f"{page.name}: rows split by a stray |: {broken}"


def test_a_bar_in_a_cell_is_caught():
    from derivations.docgen import cell_tex

    header, formula = "| a | b |", "\\left|{z}\\right|"
    assert _cells(f"| ${formula}$ | x |") != _cells(header)
    assert _cells(f"| ${cell_tex(formula)}$ | x |") == _cells(header)
