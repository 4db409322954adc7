"""The accuracy report (`python -m bench.accuracy`): it measures every tool the same way, and says so.

JAX is needed only for the published page, not here: these runs compare with PyTorch and the
naive lambdify.
"""

from __future__ import annotations

import re

from bench import accuracy


def _rows(text: str, name: str) -> list[list[str]]:
    return [
        [c.strip() for c in line.strip("|").split("|")] for line in text.splitlines() if line.startswith(f"| [{name}]")
    ]


def test_the_report_ranks_nnref_against_pytorch_and_the_naive_form(tmp_path, capsys):
    code = accuracy.main(["sigmoid", "softplus", "mse", "--out", str(tmp_path), "--peers", "naive,PyTorch"])
    assert code == 0, capsys.readouterr()
    page = (tmp_path / "accuracy.md").read_text(encoding="utf-8")
    assert page.startswith("<!-- Written by `python -m bench.accuracy`")
    # One row per function and derivative; nnref's worst error is the smallest in each (bold).
    for name in ("sigmoid", "softplus", "mse"):
        rows = _rows(page, name)
        assert len(rows) == 2, name
        for row in rows:
            assert row[2].startswith("**"), row
            assert float(row[2].strip("*")) <= accuracy.GOAL, row
    # PyTorch's softplus switches to the identity at z > 20, where it is 4.7e5 ULP off (measured),
    # and its sigmoid' is σ(1 − σ), 8.5e15 ULP off at z = 36.8 where 1 − σ cancels.
    softplus_f, _ = _rows(page, "softplus")
    assert float(softplus_f[4]) > 1e5
    assert float(_rows(page, "sigmoid")[1][4]) > 1e15
    # The summary counts rows within 4 ULP; nnref has all six.
    summary = re.search(r"\| nnref \| naive SymPy lambdify \| PyTorch \|\n\|---\|---\|---\|\n\| (\d+) \|", page)
    assert summary and summary.group(1) == "6"
    for name in ("sigmoid", "softplus", "mse"):
        svg = (tmp_path / "accuracy" / f"{name}.svg").read_text(encoding="utf-8")
        assert "<!-- figure: Written by `python -m bench.accuracy`" in svg


def test_bad_arguments_name_what_was_expected(tmp_path, capsys):
    assert accuracy.main(["sigmoidd", "--out", str(tmp_path)]) == 2
    assert "NAME: unknown sigmoidd" in capsys.readouterr().err
    assert accuracy.main(["sigmoid", "--peers", "tensorflow", "--out", str(tmp_path)]) == 2
    assert "--peers: unknown tensorflow" in capsys.readouterr().err
    assert accuracy.main(["sigmoid", "--out", str(tmp_path / "missing")]) == 2
    assert "is not an existing folder" in capsys.readouterr().err
    assert not (tmp_path / "accuracy.md").exists()
