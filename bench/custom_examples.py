"""Writes the worked examples of `nnref custom`: `python -m bench.custom_examples`.

Three formulas, each through the same pipeline a user's formula goes through: Mish typed as a
formula (it must reproduce the built-in entry), quick GELU `z*sigmoid(1.702*z)` and the centred
softplus `log1p(exp(z)) - log(2)` (no built-in has either). It writes
docs/reference/custom/examples.md (each report as `nnref custom` prints it) and, for quick GELU,
the reference page `nnref custom --docs` writes, under docs/reference/custom/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nnref.custom import activation, write_page

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "reference" / "custom"
COMMAND = "python -m bench.custom_examples"
HEADER = f"<!-- Written by `{COMMAND}` (measurements: rerun it to refresh). -->\n"

#: (formula, name, why it is here)
EXAMPLES = (
    (
        "z*tanh(softplus(z))",
        "my_mish",
        "Mish, typed as a formula: it must give the built-in mish's derivative and accuracy.",
    ),
    (
        "z*sigmoid(1.702*z)",
        "quick_gelu",
        "The sigmoid approximation of GELU. 1.702 is not a float64, f' has an interior zero, "
        "and the naive derivative is NaN in both tails.",
    ),
    (
        "log1p(exp(z)) - log(2)",
        "centred_softplus",
        "Softplus shifted through the origin: the naive form overflows for z > 709 and cancels next to z = 0.",
    ),
)


def _num(x: float) -> str:
    return "inf" if x == float("inf") else f"{x:.3g}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(OUT), help="folder to write into (default: %(default)s)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    acts = [(formula, why, activation(formula, name=name)) for formula, name, why in EXAMPLES]
    lines = [
        HEADER,
        "# Three formulas through `nnref custom`",
        "",
        'Each formula below went through `nnref custom "FORMULA" --name NAME`: parsed without running '
        "Python, differentiated by SymPy, stabilised (each rewrite proven), printed into NumPy, and "
        "measured against mpmath over the whole float64 range. Summary (max ULP error on the grid; "
        "f'' is reported but not held to 4 ULP):",
        "",
        "| formula | f | f' | f'' | naive f | naive f' | rewrites | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for formula, _, act in acts:
        r = act.report
        naive = [
            f"{_num(r.naive[w].max_ulp)}" + (f" ({r.naive[w].nan_inf} NaN/inf)" if r.naive[w].nan_inf else "")
            for w in ("f", "df")
        ]
        lines.append(
            f"| `{formula}` | {_num(r.accuracy['f'].max_ulp)} | {_num(r.accuracy['df'].max_ulp)} "
            f"| {_num(r.accuracy['d2f'].max_ulp)} | {naive[0]} | {naive[1]} | {len(r.rewrites)} "
            f"| {'✓ verified' if r.verified else '✗ not verified'} |"
        )
    lines.append("")
    lines.append("The reference page `--docs` writes for quick GELU: [quick_gelu](quick_gelu.md).")
    for formula, why, act in acts:
        table = act.report.table()
        # The generated source is on the page `--docs` writes; here the report stops before it.
        table = table.split("\nGenerated NumPy source")[0].rstrip()
        lines += [
            "",
            f"## `{formula}`",
            "",
            why,
            "",
            "```text",
            f"$ nnref custom {formula!r} --name {act.name}",
            table,
            "```",
        ]
    (out / "examples.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    quick = next(a for f, _, a in acts if a.name == "quick_gelu")
    write_page(
        quick, out, force=True, command=f"{COMMAND} (as nnref custom 'z*sigmoid(1.702*z)' --name quick_gelu --docs DIR)"
    )
    print(f"Wrote {out / 'examples.md'} and {out / 'quick_gelu.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
