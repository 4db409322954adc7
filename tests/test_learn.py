"""The Learn pages: each is executed from its source in a fresh kernel, and what it prints, draws
and offers for download must be exactly what is committed (learn/build.py writes both)."""

from __future__ import annotations

import json
import re

import nbformat
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
