"""The Learn pages: each is executed from its source in a fresh kernel, and what it prints, draws
and offers for download must be exactly what is committed (learn/build.py writes both)."""

from __future__ import annotations

import ast
import json
import math
import re

import nbformat
import numpy as np
import pytest

from learn import build

SOURCES = build.sources()


def test_there_are_learn_sources():
    assert len(SOURCES) >= 2


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_page_and_notebook_are_what_a_fresh_run_writes(source):
    files = build.build(source)
    assert set(files) == set(build.owned(source)), (
        f"{source.name}: written {sorted(map(str, files))}, committed {sorted(map(str, build.owned(source)))}; "
        f"run `{build.COMMAND} {source.name}`"
    )
    for path, text in files.items():
        committed = path.read_text(encoding="utf-8")
        assert committed == text, (
            f"{path} differs from a fresh run of {source.path}; run `{build.COMMAND} {source.name}`"
        )


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_each_page_links_its_notebook_which_is_valid(source):
    page = source.page.read_text(encoding="utf-8")
    links = re.findall(r"\]\((notebooks/[^)]+\.ipynb)\)", page)
    assert links == [f"notebooks/{source.name}.ipynb"], f"{source.page} links {links}"
    nb = nbformat.reads(source.notebook.read_text(encoding="utf-8"), as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs for c in code)
    # The snippets are written out in the notebook (a learner has no pymdownx), and left for the site on the page.
    assert "--8<--" not in json.dumps([c.source for c in nb.cells])


def test_snippet_sections_are_found_and_bad_ones_named():
    body = build.section("nnref/notebook.py", "linear_forward")
    assert body.startswith("def linear_forward(A, W, b):") and "Z = W @ A + b" in body and "--8<--" not in body
    with pytest.raises(ValueError, match=r"\[start:no_such_function\]"):
        build.section("nnref/notebook.py", "no_such_function")
    with pytest.raises(FileNotFoundError, match="no_such_file.py"):
        build.section("nnref/no_such_file.py", None)


def test_a_changed_source_is_reported(tmp_path, monkeypatch):
    source = SOURCES[0]
    files = build.render(source, build.read(source))  # not executed: no outputs, so the page differs
    assert files[source.page] != source.page.read_text(encoding="utf-8")


def _shown(page: str) -> dict[str, object]:
    """The `name = [[...]]` lines the worked example prints, as nested lists of floats."""
    values = {}
    for block in re.findall(r"```text\n(.*?)```", page, flags=re.S):
        for line in block.splitlines():
            name, _, value = line.partition("=")
            values[name.strip()] = ast.literal_eval(value.strip())
    return values


def _hand_computed_2_2_1() -> dict[str, object]:
    """The worked example's network by hand, in plain Python floats: no NumPy, no nnref."""
    W1, b1 = [[0.5, -0.3], [0.2, 0.8]], [0.1, -0.1]
    W2, b2 = [0.7, -0.4], 0.05
    X, Y = [[1.0, -1.0], [0.5, 2.0]], [1.0, 0.0]
    m = 2

    def forward(W1, b1, W2, b2):
        z1 = [[W1[i][0] * X[0][j] + W1[i][1] * X[1][j] + b1[i] for j in range(m)] for i in range(2)]
        a1 = [[max(0.0, z1[i][j]) for j in range(m)] for i in range(2)]
        z2 = [W2[0] * a1[0][j] + W2[1] * a1[1][j] + b2 for j in range(m)]
        a2 = [1 / (1 + math.exp(-z)) for z in z2]
        cost = -sum(y * math.log(a) + (1 - y) * math.log(1 - a) for a, y in zip(a2, Y)) / m
        return z1, a1, z2, a2, cost

    z1, a1, z2, a2, cost = forward(W1, b1, W2, b2)
    dz2 = [a2[j] - Y[j] for j in range(m)]
    dW2 = [sum(dz2[j] * a1[i][j] for j in range(m)) / m for i in range(2)]
    db2 = sum(dz2) / m
    da1 = [[W2[i] * dz2[j] for j in range(m)] for i in range(2)]
    dz1 = [[da1[i][j] if z1[i][j] > 0 else 0.0 for j in range(m)] for i in range(2)]
    dW1 = [[sum(dz1[i][j] * X[k][j] for j in range(m)) / m for k in range(2)] for i in range(2)]
    db1 = [sum(dz1[i]) / m for i in range(2)]
    dX = [[sum(W1[i][k] * dz1[i][j] for i in range(2)) for j in range(m)] for k in range(2)]
    step = 0.5
    after = forward(
        [[W1[i][k] - step * dW1[i][k] for k in range(2)] for i in range(2)],
        [b1[i] - step * db1[i] for i in range(2)],
        [W2[i] - step * dW2[i] for i in range(2)],
        b2 - step * db2,
    )[-1]
    column = lambda v: [[x] for x in v]  # noqa: E731
    return {
        "W1": W1, "b1": column(b1), "W2": [W2], "b2": [[b2]], "X": X, "Y": [Y],
        "Z1": z1, "A1": a1, "Z2": [z2], "A2": [a2], "J": cost,
        "dZ2": [dz2], "dW2": [dW2], "db2": [[db2]], "dA1": da1, "dZ1": dz1, "dW1": dW1, "db1": column(db1), "dX": dX,
        "J after": after,
    }  # fmt: skip


def test_worked_example_numbers_equal_a_hand_computation():
    page = (build.OUT / "worked-example.md").read_text(encoding="utf-8")
    shown, hand = _shown(page), _hand_computed_2_2_1()
    assert set(shown) == set(hand), f"the page shows {sorted(shown)}, the hand computation has {sorted(hand)}"
    for name, expected in hand.items():
        got = np.asarray(shown[name], dtype=float)
        assert got.shape == np.shape(expected), f"{name}: shape {got.shape} on the page, {np.shape(expected)} by hand"
        # The page rounds to 6 decimals.
        assert np.all(np.abs(got - np.asarray(expected)) <= 5.000001e-7), f"{name}: page {got}, by hand {expected}"
    assert shown["J after"] < shown["J"]


# dZ and dA (arrays with one column per example) are gradients of the *sum* of the losses, so they
# never carry the 1/m (docs/learn/notation.md). These catch "dZ = (p − y)/m" and "dZ = \frac1m(...)";
# a dZ that is itself multiplied by 1/m ("\frac1m\,dZ = ...") is the convention, not a breach.
_ONE_OVER_M_ON_DZ = (
    re.compile(r"(?<!\\,)(?<!m )\bd[ZA]\w*\s*=\s*\(.*\)\s*/\s*m\b"),
    re.compile(r"(?<!\\,)(?<!m )\bd[ZA][\w^{}\[\]\\]*\s*=\s*\\[td]?frac\s*\{?1\}?\s*\{?m\}?"),
)


def _one_over_m_breaches(text: str) -> list[str]:
    return [m.group(0) for pattern in _ONE_OVER_M_ON_DZ for m in pattern.finditer(text)]


def test_the_one_convention_for_1_over_m_holds_everywhere():
    assert _one_over_m_breaches("dZ = (p − y)/m") and _one_over_m_breaches(r"$dZ^{[L]} = \frac{1}{m}(A - Y)$")
    assert not _one_over_m_breaches(r"$\partial J / \partial Z = \frac1m\,dZ^{[L]} = \frac1m(A - Y)$")
    root = build.ROOT
    files = [root / "README.md"] + [
        path
        for folder in ("docs", "learn", "nnref", "derivations", "bench", "scripts")
        for path in sorted((root / folder).rglob("*"))
        if path.suffix in (".md", ".py", ".ipynb")
    ]
    breaches = {
        path.relative_to(root).as_posix(): found
        for path in files
        if (found := _one_over_m_breaches(path.read_text(encoding="utf-8")))
    }
    assert not breaches, f"dZ/dA written with the 1/m (see docs/learn/notation.md): {breaches}"


def _links_that_break_when_downloaded(nb, notebook_names: set[str]) -> list[str]:
    """Links of a notebook's Markdown that mean nothing once it is downloaded and opened in Jupyter:
    anything but an address (https:, mailto:) or a sibling Learn notebook by its file name."""
    bad = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for match in build.links(cell.source):
            target = match.group(3)
            if re.match(r"[a-zA-Z][\w+.-]*:", target) or target in notebook_names:
                continue
            bad.append(f"{match.group(0)} (cell {cell.id})")
    return bad


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_every_link_in_a_notebook_works_where_it_is_opened(source):
    nb = nbformat.reads(source.notebook.read_text(encoding="utf-8"), as_version=4)
    bad = _links_that_break_when_downloaded(nb, {s.notebook.name for s in SOURCES})
    assert not bad, f"{source.notebook} has relative links that a downloaded notebook cannot follow: {bad}"


def test_a_link_that_would_not_resolve_is_caught_and_rewritten():
    cell = nbformat.v4.new_markdown_cell(
        "See [sigmoid](../reference/activations/sigmoid.md), ![a figure](figures/x.svg) and $a^{[L](j)}$.", id="c"
    )
    nb = nbformat.v4.new_notebook(cells=[cell])
    assert len(_links_that_break_when_downloaded(nb, {"backprop.ipynb"})) == 2  # not the math
    backprop = next(s for s in SOURCES if s.name == "backprop")
    rewritten = build.notebook_links(
        "[sigmoid](../reference/activations/sigmoid.md), [step 6](backprop.md), [in words](#no-such-heading)", backprop
    )
    assert rewritten.startswith("sigmoid (on the nnref site, the page “Sigmoid (logistic)”), [step 6](backprop.ipynb)")
    nb.cells[0].source = rewritten
    assert not _links_that_break_when_downloaded(nb, {"backprop.ipynb"})
    with pytest.raises(ValueError, match="no_such_page.md"):
        build.notebook_links("[x](no_such_page.md)", backprop)
