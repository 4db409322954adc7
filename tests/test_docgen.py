"""The reference pages print exactly the registry's expressions, and the plots are deterministic."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from derivations.activations import ENTRIES
from derivations.docgen import activation_page, activation_plot, with_names

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "docs" / "reference" / "activations"


def _display_math(markdown: str) -> list[str]:
    return [block.strip() for block in re.findall(r"\$\$\n(.*?)\n\s*\$\$", markdown, flags=re.S)]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_page_formulas_are_sympy_latex_of_the_entry(entry):
    page = (PAGES / f"{entry.name}.md").read_text(encoding="utf-8")
    formulas = _display_math(page)

    def named(expr):  # SELU's constants are shown as λ and α (test_names_keep_the_value proves it)
        return with_names(entry, expr)

    expected = {
        f"f(z) = {sp.latex(named(entry.f))}",
        f"f'(z) = {sp.latex(named(entry.df))}",
        f"f''(z) = {sp.latex(named(entry.d2f))}",
    }
    missing = [formula for formula in expected if formula not in formulas]
    assert not missing, f"{entry.name}.md does not show {missing}"
    code_forms = {
        f"f(z) = {sp.latex(named(entry.code_f))}",
        f"f'(z) = {sp.latex(entry.code_df)}",
        f"f''(z) = {sp.latex(entry.code_d2f)}",
        f"f'(z) = {sp.latex(named(entry.closed_df))}",
        f"f''(z) = {sp.latex(named(entry.closed_d2f))}",
    }
    # The quick answer's familiar forms (tests/test_quick_answer.py proves them equal) and its constants.
    quick = {f"f(z) = {sp.latex(entry.quick_f)}", f"f'(z) = {sp.latex(entry.quick_df)}"}
    quick |= {f"{sp.latex(sp.Symbol(n))} = {sp.latex(v)}" for n, v in entry.named.items()}
    allowed = expected | code_forms | quick
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


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_the_page_opens_with_the_quick_answer(entry):
    """Before the definition: f and f' in the familiar form, the copyable code, and the known limit."""
    page = (PAGES / f"{entry.name}.md").read_text(encoding="utf-8")
    box = page[page.index('!!! abstract "Quick answer"') : page.index("## Definition")]
    assert f"f'(z) = {sp.latex(entry.quick_df)}" in box
    assert f"df = lambda z: {entry.numpy_df}" in box and f"f = lambda z: {entry.numpy_f}" in box
    limit = entry.accuracy_limit
    assert ("Known accuracy limit" in box) == (limit is not None)
    if limit:
        assert limit[2] in box


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.patches or e.saturate], ids=lambda e: e.name)
def test_guards_stay_out_of_the_first_display(entry):
    """The tab "Stable (used in code)" shows the closed forms; the clamps and Taylor patches are
    explained once, under "Guards in the generated code", which the page links to."""
    page = (PAGES / f"{entry.name}.md").read_text(encoding="utf-8")
    first = page[: page.index("### Guards in the generated code")]
    assert "\\operatorname{taylor}" not in first and "\\min\\left(" not in first.replace("\\min(\\max(z", "")
    assert "(#guards-in-the-generated-code)" in first


def test_no_empty_error_plot_for_an_exact_function():
    """An activation exact at every measured point (relu) gets a sentence, not an empty frame."""
    from types import SimpleNamespace

    from derivations.verify import has_error_plot

    def row(error, nan_inf=0):
        acc = SimpleNamespace(errors=np.array([0.0, error, 0.0]), nan_inf=nan_inf)
        return SimpleNamespace(naive={"f": acc, "df": acc}, accuracy={"f": acc, "df": acc})

    assert not has_error_plot(row(0.0)) and has_error_plot(row(0.5))
    # A point left out at a kink (NaN error) is not an error; a NaN/inf output is.
    assert not has_error_plot(row(np.nan)) and has_error_plot(row(np.nan, nan_inf=1))
    relu = (ROOT / "docs" / "reference" / "verification" / "activations" / "relu.md").read_text(encoding="utf-8")
    assert "no error to plot" in relu and ".svg" not in relu


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.named], ids=lambda e: e.name)
def test_names_keep_the_value(entry):
    """Writing SELU's constants as λ and α changes how the formula looks, never what it is."""
    for expr in (entry.f, entry.df, entry.d2f, entry.code_f, entry.closed_df):
        shown = with_names(entry, expr)
        assert sp.simplify(entry.unnamed(shown) - expr) == 0, (entry.name, expr)
