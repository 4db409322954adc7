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
    worst = page.split("## Worst error in ULPs")[1].split("## Every generated path")[0]
    for name in ("sigmoid", "softplus", "mse"):
        rows = _rows(worst, name)
        assert len(rows) == 2, name
        for row in rows:
            assert row[2].startswith("**"), row
            assert float(row[2].strip("*")) <= accuracy.GOAL, row
    # PyTorch's softplus switches to the identity at z > 20, where it is 4.7e5 ULP off (measured),
    # and its sigmoid' is σ(1 − σ), 8.5e15 ULP off at z = 36.8 where 1 − σ cancels.
    softplus_f, _ = _rows(worst, "softplus")
    assert float(softplus_f[4]) > 1e5
    assert float(_rows(worst, "sigmoid")[1][4]) > 1e15
    # The summary counts rows within 4 ULP; nnref has all six.
    summary = re.search(r"\| nnref \| naive SymPy lambdify \| PyTorch \|\n\|---\|---\|---\|\n\| (\d+) \|", page)
    assert summary and summary.group(1) == "6"
    # nnref's other paths in float64, and float32 beside PyTorch's float32: nnref within 4 ULP in
    # every one; PyTorch's float32 sigmoid' is σ(1 − σ) again, 0 from z ≈ 16.6 (over 1e6 ULP).
    paths = _rows(page.split("## Every generated path")[1].split("## float32")[0], "sigmoid")
    assert len(paths) == 1 and len(paths[0]) == 5
    assert all(float(cell.split(" ")[0]) <= accuracy.GOAL for cell in paths[0][1:])
    single = page.split("## float32")[1].split("## Activations")[0]
    assert "| nnref (float32) | PyTorch (float32) |" in single
    for name in ("sigmoid", "softplus"):
        rows = _rows(single, name)
        assert [r[1] for r in rows] == ["$f$", "$f'$", "$f''$"], name
        assert all(float(r[2].strip("*")) <= accuracy.GOAL for r in rows), rows
    assert float(_rows(single, "sigmoid")[1][3]) > 1e6
    # mse's value and gradient join them in float32: 6 + 2 rows, all within 4 ULP.
    assert [r[1] for r in _rows(single, "mse")] == ["value", "gradient"]
    counts = re.search(
        r"\| float32, \$f\$, \$f'\$, \$f''\$, loss values and gradients \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|", page
    )
    assert counts and counts.group(1) == counts.group(4) == "8", counts
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
