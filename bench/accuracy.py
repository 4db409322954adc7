"""Writes the Accuracy page: `python -m bench.accuracy` (needs the bench extra: PyTorch and JAX).

For every elementwise activation (f and f') and every per-element loss (value and gradient) it
measures, on the full-range grid and against mpmath, the max and median ULP error, the worst
input and the NaN/inf count of: nnref's generated code; the naive lambdify of the raw SymPy
expression; PyTorch (autograd for the derivative); JAX (jax.grad), all in float64. Beside them:
nnref's other generated paths in float64 (f'', both outputs of f_df, the vjp), and f, f', f'' in
float32 over the float32 range for nnref and PyTorch (autograd, double backward for f'').
It writes docs/reference/accuracy.md and one figure per function under docs/reference/accuracy/.

    python -m bench.accuracy                    # everything, into docs/reference
    python -m bench.accuracy sigmoid mse --out /tmp/acc --peers naive,PyTorch
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "reference"
COMMAND = "python -m bench.accuracy"
HEADER = f"<!-- Written by `{COMMAND}` (measurements: rerun it to refresh). -->\n"
PEERS = ("naive", "PyTorch", "JAX")
LABELS = {"nnref": "nnref", "naive": "naive SymPy lambdify", "PyTorch": "PyTorch", "JAX": "JAX"}
COLORS = {"nnref": "#1f77b4", "naive": "#d62728", "PyTorch": "#ff7f0e", "JAX": "#2ca02c"}
GOAL = 4.0  # ULP
#: nnref's paths shown on the page, in order: f and f' with the peers, the others beside them.
PATH_ORDER = ("f", "df", "d2f", "f_df.f", "f_df.df", "vjp")


@dataclass
class Function:
    """One function measured by every tool: an activation's f/f' or a loss's value/gradient."""

    kind: str  # "activation" or "loss"
    name: str
    entry: object
    rows: dict  # which -> {tool -> AccuracyRow}
    #: nnref's other paths in float64: f'', f_df's two outputs, the vjp (activations only).
    paths: dict = field(default_factory=dict)
    #: float32: which ("f", "df", "d2f"; "value", "grad") -> {tool -> AccuracyRow}.
    single: dict = field(default_factory=dict)

    @property
    def whiches(self) -> tuple[str, str]:
        return ("f", "df") if self.kind == "activation" else ("value", "grad")


def _peer_pairs(tool: str, entry, params: dict, target=None):
    from bench import peers

    pair = peers.torch_pair if tool == "PyTorch" else peers.jax_pair
    return pair(entry.twin, params, target)


def measure_activation(entry, tools) -> Function:
    import nnref.activations as A
    from derivations.entry import PATHS
    from derivations.reference import (
        activation_accuracy,
        full_range_grid,
        measure,
        naive_accuracy,
        points_near_zeros,
        runtime_path,
    )

    grid = full_range_grid(extra=points_near_zeros(entry))
    act = A.get(entry.name)
    rows = {}
    for i, which in enumerate(("f", "df")):
        out = {"nnref": activation_accuracy(entry, which, getattr(act, which), grid)}
        for tool in tools:
            if tool == "naive":
                out[tool] = naive_accuracy(entry, which, grid)
                continue
            fn = _peer_pairs(tool, entry, entry.params)[i]
            out[tool] = measure(
                f"{entry.name} ({tool})",
                which,
                fn,
                entry.textbook(which),
                entry.params,
                entry.bound(which),
                grid,
                entry.kink_points(which),
            )
        rows[which] = out
    paths = {p: activation_accuracy(entry, p, runtime_path(act, p), grid) for p in PATHS if p not in rows}
    return Function("activation", entry.name, entry, rows, paths, measure_float32(entry, act, tools))


def measure_float32(entry, act, tools) -> dict:
    """f, f' and f'' on float32 inputs over the float32 range, in float32 ULP: nnref and PyTorch."""
    from derivations.entry import ULP_BOUND, WHICH
    from derivations.reference import activation_accuracy, float32_grid, measure, points_near_zeros

    grid = float32_grid(extra=points_near_zeros(entry))
    torch = None
    if "PyTorch" in tools:
        from bench import peers

        torch = peers.torch_derivatives(entry.twin, entry.params, np.float32)
    single = {}
    for i, which in enumerate(WHICH):
        out = {"nnref": activation_accuracy(entry, which, getattr(act, which), grid, dtype=np.float32)}
        if torch is not None:
            args = (entry.textbook(which), entry.params, ULP_BOUND, grid, entry.kink_points(which))
            try:
                out["PyTorch"] = measure(f"{entry.name} (PyTorch)", which, torch[i], *args, dtype=np.float32)
            except RuntimeError:  # no double backward for this function in PyTorch
                out["PyTorch"] = None
        single[which] = out
    return single


def measure_loss(entry, tools) -> Function:
    from derivations.reference import loss_accuracy, naive_loss_accuracy
    from nnref._generated import losses as generated

    rows = {}
    for i, which in enumerate(("value", "grad")):
        kernel = getattr(generated, f"{entry.name}_{which}")
        out = {"nnref": loss_accuracy(entry, which, lambda v, t, k=kernel: k(v, t, **entry.params))}
        for tool in tools:
            if tool == "naive":
                out[tool] = naive_loss_accuracy(entry, which)
                continue

            def fn(v, t, tool=tool, i=i):
                # One compiled pair per target value; the targets are few (see loss_targets).
                return _peer_pairs(tool, entry, entry.params, float(t.flat[0]))[i](v)

            out[tool] = loss_accuracy(entry, which, fn, label=f" ({tool})")
        rows[which] = out
    return Function("loss", entry.name, entry, rows, single=measure_loss_float32(entry, tools))


def measure_loss_float32(entry, tools) -> dict:
    """Value and gradient on float32 predictions and targets, in float32 ULP: nnref and PyTorch."""
    from derivations.reference import loss_accuracy
    from nnref._generated import losses as generated

    single = {}
    for i, which in enumerate(("value", "grad")):
        kernel = getattr(generated, f"{entry.name}_{which}")
        fn = lambda v, t, k=kernel: k(v, t, **entry.params)  # noqa: E731
        out = {"nnref": loss_accuracy(entry, which, fn, label=" (float32)", dtype=np.float32)}
        if "PyTorch" in tools:
            from bench import peers

            def torch(v, t, i=i):
                return peers.torch_pair(entry.twin, entry.params, float(t.flat[0]), dtype=np.float32)[i](v)

            out["PyTorch"] = loss_accuracy(entry, which, torch, label=" (PyTorch, float32)", dtype=np.float32)
        single[which] = out
    return single


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------


def _within(row) -> bool:
    return row.nan_inf == 0 and row.max_ulp <= GOAL


def _cell(row, best: bool = False) -> str:
    if row.nan_inf:
        text = f"{_num(row.max_ulp)}, {row.nan_inf} NaN/inf"
    else:
        text = _num(row.max_ulp)
    return f"**{text}**" if best else text


def _num(x: float) -> str:
    if math.isinf(x):
        return "inf"
    return f"{x:.2g}" if x >= 10 else f"{x:.2f}".rstrip("0").rstrip(".") if x else "0"


def _rank(row) -> tuple:
    return (row.nan_inf > 0, row.max_ulp)


def _label(which: str) -> str:
    labels = {"f": "$f$", "df": "$f'$", "d2f": "$f''$", "value": "value", "grad": "gradient"}
    return labels.get(which) or {"f_df.f": "`f_df` → $f$", "f_df.df": "`f_df` → $f'$", "vjp": "`vjp`"}[which]


def rounding_counts(rows) -> dict[str, int]:
    """How many rows are correctly rounded (≤ 0.5 ULP: the physical limit), within 1 ULP and
    within the 4-ULP goal, with no NaN/inf."""
    rows = [r for r in rows if r.nan_inf == 0]
    # 0.5 ULP plus the float32 rounding of a float64 result a few float64 ULP off (2⁻²⁶ at most).
    return {
        "≤ 0.5": sum(r.max_ulp <= 0.5 + 2**-26 for r in rows),
        "≤ 1": sum(r.max_ulp <= 1 for r in rows),
        f"≤ {GOAL:g}": sum(r.max_ulp <= GOAL for r in rows),
    }


def nnref_rows(functions: list[Function]) -> dict[str, list]:
    """Every nnref row of the page, by group: float64 f/f' and losses, float64 other paths, float32."""
    return {
        "float64, $f$ and $f'$ of the activations, value and gradient of the losses": [
            rows["nnref"] for fn in functions for rows in fn.rows.values()
        ],
        "float64, $f''$, both outputs of `f_df` and the `vjp`": [r for fn in functions for r in fn.paths.values()],
        "float32, $f$, $f'$, $f''$, loss values and gradients": [
            rows["nnref"] for fn in functions for rows in fn.single.values()
        ],
    }


def scoreboard(functions: list[Function], tools) -> dict:
    """Per tool: rows within the goal; for nnref also the rows where a peer is strictly better."""
    total = sum(len(fn.rows) for fn in functions)
    within = {tool: 0 for tool in ("nnref", *tools)}
    behind = []
    for fn in functions:
        for which, rows in fn.rows.items():
            for tool, row in rows.items():
                within[tool] += _within(row)
            better = [t for t in tools if _rank(rows[t]) < _rank(rows["nnref"])]
            if better:
                behind.append((fn, which, better))
    return {"total": total, "within": within, "behind": behind}


def page(functions: list[Function], tools, machine: dict) -> str:
    board = scoreboard(functions, tools)
    tool_names = ["nnref", *tools]
    lines = [
        HEADER,
        "# Accuracy",
        "",
        "Every elementwise activation ($f$ and $f'$) and every per-element loss (value and gradient), "
        "measured in float64 against mpmath on the full-range grid: both signs of magnitudes "
        "1e-300 … 1e3, dense steps in [−40, 40], ±708, ±745, ±1e308, and steps through ±[700, 745] and "
        "±[350, 372.5], where $e^{\\mp z}$ and $e^{\\mp 2z}$ turn subnormal while a polynomial times them is "
        "still normal (losses on their own domain, "
        "for several targets; the worst target is shown). The error is counted in ULPs where the "
        "true value is a normal float64; NaN or inf where the true value is finite counts as an "
        "infinite error and is counted separately. Kinks, where a derivative is a stated convention, "
        "are left out.",
        "",
        "The tools, as their users call them: **nnref** (the generated code); the **naive SymPy "
        "lambdify** of the raw expression (what you get by differentiating with SymPy and printing "
        "it without stabilising); **PyTorch** (torch.nn.functional, derivative by autograd); "
        "**JAX** (jax.nn, derivative by `jax.grad`). " + ", ".join(f"{k} {v}" for k, v in machine.items()) + ".",
        "",
        "## Summary",
        "",
        f"Rows within {GOAL:g} ULP everywhere on the grid, with no NaN/inf, out of {board['total']}:",
        "",
        "| " + " | ".join(LABELS[t] for t in tool_names) + " |",
        "|" + "---|" * len(tool_names),
        "| " + " | ".join(str(board["within"][t]) for t in tool_names) + " |",
        "",
    ]
    if board["behind"]:
        lines.append("Rows where a peer's worst error is smaller than nnref's:")
        lines.append("")
        for fn, which, better in board["behind"]:
            rows = fn.rows[which]
            peers = ", ".join(f"{LABELS[t]} {_cell(rows[t])}" for t in better)
            lines.append(f"- {fn.name} {_label(which)}: nnref {_cell(rows['nnref'])}; {peers}.")
        lines.append("")
    else:
        lines.append("In every row nnref's worst error is no larger than every peer's.")
        lines.append("")
    bounded = [(fn, which) for fn in functions for which in fn.rows if not _within(fn.rows[which]["nnref"])]
    if bounded:
        lines.append(f"Where nnref does not reach {GOAL:g} ULP, the entry records its measured bound and why:")
        lines.append("")
        for fn, which in bounded:
            row = fn.rows[which]["nnref"]
            reason = getattr(fn.entry, "ulp_bounds", {}).get(which, (None, "no recorded bound"))[1]
            lines.append(
                f"- **{fn.name} {_label(which)}**: {_num(row.max_ulp)} ULP at $z = {row.worst_z:.6g}$ "
                f"(bound {row.bound:g}). {reason}"
            )
        lines.append("")
    lines += [
        "How close to correct rounding nnref's rows are, where 0.5 ULP is the best a floating-point "
        "result can be (every row counted: " + ", ".join(_label(w) for w in PATH_ORDER) + " in float64, "
        "$f$, $f'$ and $f''$ in float32, loss values and gradients):",
        "",
        "| rows | count | ≤ 0.5 ULP (correctly rounded) | ≤ 1 ULP | ≤ 4 ULP |",
        "|---|---|---|---|---|",
    ]
    for group, rows in nnref_rows(functions).items():
        counts = rounding_counts(rows)
        lines.append(f"| {group} | {len(rows)} | " + " | ".join(str(v) for v in counts.values()) + " |")
    lines.append("")
    lines += [
        "## Worst error in ULPs",
        "",
        "The largest error on the grid; the smallest in each row is in bold. "
        "Each function's section below has the median, the worst input and a plot.",
        "",
        "| function | | " + " | ".join(LABELS[t] for t in tool_names) + " |",
        "|---|---|" + "---|" * len(tool_names),
    ]
    for fn in functions:
        for which, rows in fn.rows.items():
            best = min(_rank(r) for r in rows.values())
            cells = " | ".join(_cell(rows[t], _rank(rows[t]) == best) for t in tool_names)
            lines.append(f"| [{fn.name}](#{fn.name}) | {_label(which)} | {cells} |")
    acts = [fn for fn in functions if fn.paths]
    if acts:
        lines += [
            "",
            "## Every generated path",
            "",
            "nnref generates more than $f$ and $f'$: $f''$, `f_df` (both at once, common "
            "subexpressions shared) and the `vjp` ($g \\odot f'$, measured with $g = -1$). Each is "
            "measured like $f$ and $f'$ above, in float64, so that no path can lose the stable form "
            "another keeps. The recorded bound is in brackets where it is not 4.",
            "",
            "| function | " + " | ".join(_label(p) for p in acts[0].paths) + " |",
            "|---|" + "---|" * len(acts[0].paths),
        ]
        for fn in acts:
            cells = [_cell(r) + (f" (≤{r.bound:g})" if r.bound != GOAL else "") for r in fn.paths.values()]
            lines.append(f"| [{fn.name}](#{fn.name}) | " + " | ".join(cells) + " |")
    single = [fn for fn in functions if fn.single]
    if single:
        single_tools = list(single[0].single["f"])
        lines += [
            "",
            "## float32",
            "",
            "The same functions called on float32 inputs, which is what most training runs in: "
            "float32 in, float32 out, the error counted in float32 ULPs where the true value is a "
            "normal float32, on a grid over the whole float32 range (both signs of magnitudes 1e-38 … "
            "3e38, steps of 1/4 in [−120, 120], where exponentials leave the float32 range). nnref "
            "computes a float32 input in float64 and rounds the result once; PyTorch computes in "
            "float32 (autograd for $f'$, double backward for $f''$). Kinks are left out as above. The "
            "losses' values and gradients are measured the same way, on float32 predictions and "
            "targets over their domain (the target 0.3 as the float32 nearest it).",
            "",
            "| " + " | ".join(f"{LABELS[t]} (float32)" for t in single_tools) + " |",
            "|" + "---|" * len(single_tools),
            "| "
            + " | ".join(
                f"{sum(rows[t] is not None and _within(rows[t]) for fn in single for rows in fn.single.values())} of "
                f"{sum(len(fn.single) for fn in single)} within {GOAL:g} ULP"
                for t in single_tools
            )
            + " |",
            "",
            "PyTorch has no second derivative where it cannot differentiate its own backward "
            "(hardsigmoid's): n/a there, counted as not within.",
            "",
            "| function | | " + " | ".join(LABELS[t] for t in single_tools) + " | worst input (nnref, PyTorch) |",
            "|---|---|" + "---|" * len(single_tools) + "---|",
        ]
        for fn in single:
            for which, rows in fn.single.items():
                best = min(_rank(r) for r in rows.values() if r is not None)
                cells = " | ".join(
                    "n/a" if rows[t] is None else _cell(rows[t], _rank(rows[t]) == best) for t in single_tools
                )
                worst = ", ".join("—" if rows[t] is None else f"{rows[t].worst_z:.6g}" for t in single_tools)
                lines.append(f"| [{fn.name}](#{fn.name}) | {_label(which)} | {cells} | {worst} |")
    for kind, title in (("activation", "Activations"), ("loss", "Losses")):
        lines += ["", f"## {title}", ""]
        for fn in (f for f in functions if f.kind == kind):
            lines += [f"### {fn.name}", "", f"![ULP error against z of {fn.name}](accuracy/{fn.name}.svg)", ""]
            lines += [
                "| | tool | max ULP | median ULP | worst input | NaN/inf |",
                "|---|---|---|---|---|---|",
            ]
            for which, rows in fn.rows.items():
                for tool in tool_names:
                    row = rows[tool]
                    lines.append(
                        f"| {_label(which)} | {LABELS[tool]} | {_num(row.max_ulp)} | {_num(row.median_ulp)} "
                        f"| {row.worst_z:.6g} | {row.nan_inf} |"
                    )
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def figure(fn: Function, tools) -> str:
    from derivations.common import pyplot, svg_text

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3), sharey=True)
    for ax, which in zip(axes, fn.whiches):
        for tool in (*tools, "nnref"):
            row = fn.rows[which][tool]
            err = np.where(np.isinf(row.errors), 1e17, row.errors)
            shown = np.abs(row.grid) <= 1e3
            ax.scatter(
                row.grid[shown],
                np.maximum(err[shown], 1e-2),
                s=3 if tool != "nnref" else 4,
                color=COLORS[tool],
                label=LABELS[tool],
                rasterized=True,
            )
        ax.axhline(GOAL, color="gray", linestyle="--", linewidth=0.8)
        ax.set_xscale("symlog", linthresh=1e-3)
        ax.set_xticks([-1e3, -1e1, -1e-1, 0, 1e-1, 1e1, 1e3])
        ax.set_yscale("log")
        ax.set_ylim(1e-2, 3e17)
        ax.set_title(f"{fn.name}: ULP error of {_label(which).strip('$')}")
        ax.set_xlabel("z" if fn.kind == "activation" else "prediction")
    axes[0].legend(frameon=False, loc="upper left", fontsize=7, markerscale=2)
    return svg_text(fig, HEADER.replace("<!--", "<!-- figure:"))


def machine_versions(tools) -> dict[str, str]:
    import numpy
    import scipy
    import sympy

    out = {"NumPy": numpy.__version__, "SciPy": scipy.__version__, "SymPy": sympy.__version__}
    if set(tools) & {"PyTorch", "JAX"}:
        from bench import peers

        out.update(peers.versions(tools))
    return out


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME", help="activations and losses to measure (default: all)")
    parser.add_argument(
        "--out", default=str(OUT), help="folder for accuracy.md and accuracy/*.svg (default: %(default)s)"
    )
    parser.add_argument(
        "--peers", default=",".join(PEERS), help="comma-separated tools to compare with (default: %(default)s)"
    )


def run(args: argparse.Namespace) -> int:
    from derivations.activations import ACTIVATIONS
    from derivations.losses import LOSSES

    tools = tuple(t.strip() for t in args.peers.split(",") if t.strip())
    unknown = [t for t in tools if t not in PEERS]
    if unknown:
        print(
            f"bench.accuracy: error: --peers: unknown {', '.join(unknown)}; expected some of {', '.join(PEERS)}",
            file=sys.stderr,
        )
        return 2
    losses = {n: e for n, e in LOSSES.items() if not e.vector}
    known = [*ACTIVATIONS, *losses]
    unknown = [n for n in args.names if n not in known]
    if unknown:
        print(
            f"bench.accuracy: error: NAME: unknown {', '.join(unknown)}; expected some of {', '.join(known)}",
            file=sys.stderr,
        )
        return 2
    wanted = set(args.names or known)
    out = Path(args.out)
    if not out.is_dir():
        print(f"bench.accuracy: error: --out: {out} is not an existing folder", file=sys.stderr)
        return 2
    try:
        machine = machine_versions(tools)
    except ImportError as exc:
        print(f"bench.accuracy: error: --peers needs {exc.name}: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    functions = []
    with np.errstate(all="ignore"):
        for name, entry in ACTIVATIONS.items():
            if name in wanted:
                functions.append(measure_activation(entry, tools))
                print(f"  measured {name}", flush=True)
        for name, entry in losses.items():
            if name in wanted:
                functions.append(measure_loss(entry, tools))
                print(f"  measured {name}", flush=True)
    (out / "accuracy").mkdir(exist_ok=True)
    for fn in functions:
        (out / "accuracy" / f"{fn.name}.svg").write_text(figure(fn, tools), encoding="utf-8")
    (out / "accuracy.md").write_text(page(functions, tools, machine), encoding="utf-8")
    board = scoreboard(functions, tools)
    print(f"Wrote {out / 'accuracy.md'}: within {GOAL:g} ULP, of {board['total']} rows:")
    for tool, count in board["within"].items():
        print(f"  {LABELS[tool]:22} {count}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    configure(parser)
    args = parser.parse_args(argv)
    from nnref import _portable  # the page's figures are measured on the same NumPy kernels everywhere

    _portable.pin(rerun=["-m", "bench.accuracy", *(sys.argv[1:] if argv is None else argv)])
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
