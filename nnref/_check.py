"""`nnref check [NAME ...]`: one verification row per activation and loss.

For an activation: the largest relative error of f' and f'' against central differences (away from
kinks), of f' against the complex step of the textbook form (where it is analytic), the worst ULP
error of f, f' and f'' against mpmath over the full float64 range next to the entry's bound, and a
NaN/inf scan. For a loss: the worst ULP error of the per-element value and gradient, and the
gradient of the mean cost against central differences. Exit status 1 if any row fails.
SymPy and mpmath are imported here, lazily: `import nnref` never loads them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

GREEN, RED, RESET = "\033[32m", "\033[31m", "\033[0m"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME", help="activations or losses to check (default: all)")
    parser.add_argument(
        "--docs",
        type=Path,
        metavar="DIR",
        help="also write the verification tables the reference pages include, under DIR/reference/verification",
    )
    parser.add_argument("--no-color", action="store_true", help="plain ✓/✗ without terminal colours")


def _fd_errors(entry, act=None) -> tuple[float, float]:
    """Max relative error of f' and f'' against central differences on [-15, 15], kinks excluded.
    ``act`` is the activation object to check (default: the registry's ``entry.name``)."""
    import nnref.activations as A
    from nnref import gradcheck

    act = A.get(entry.name) if act is None else act
    zs = np.linspace(-15, 15, 241)
    if entry.kinks:
        zs = zs[np.min(np.abs(zs[:, None] - np.asarray(entry.kinks)[None, :]), axis=1) > 1e-3]
    h = gradcheck.optimal_step(np.float64, zs)
    out = []
    for fn, deriv in ((act.f, act.df), (act.df, act.d2f)):
        exact = deriv(zs)
        fd = gradcheck.elementwise_derivative(fn, zs)
        roundoff = 8 * np.finfo(np.float64).eps * np.abs(fn(zs)) / h
        rel = np.maximum(np.abs(fd - exact) - roundoff, 0) / np.maximum(np.abs(exact), 1e-300)
        out.append(float(np.max(np.where(np.abs(exact) > 1e-200, rel, 0.0))))
    return out[0], out[1]


def _complex_step_error(entry, act=None) -> float | None:
    import sympy as sp

    import nnref.activations as A
    from derivations.symbols import z
    from nnref import gradcheck

    if entry.kinks or entry.f.has(sp.Abs, sp.Piecewise, sp.Heaviside, sp.Max, sp.Min):
        return None
    textbook = sp.lambdify(
        z, entry.f.subs({sp.Symbol(k, positive=True): v for k, v in entry.params.items()}), modules=["numpy", "scipy"]
    )
    zs = np.linspace(-4, 4, 33)
    cs = gradcheck.elementwise_complex_step(textbook, zs)
    act = A.get(entry.name) if act is None else act
    return float(np.max(np.abs(cs - act.df(zs)) / np.maximum(np.abs(cs), 1e-300)))


def activation_row(entry, naive: bool = False) -> dict:
    from derivations.reference import activation_accuracy, naive_accuracy

    acc = {which: activation_accuracy(entry, which) for which in ("f", "df", "d2f")}
    raw = {which: naive_accuracy(entry, which) for which in ("f", "df")} if naive else {}
    fd_df, fd_d2f = _fd_errors(entry)
    cs = _complex_step_error(entry)
    ok = all(row.ok for row in acc.values()) and fd_df < 1e-5 and fd_d2f < 1e-4 and (cs is None or cs < 1e-9)
    return {
        "kind": "activation",
        "name": entry.name,
        "accuracy": acc,
        "naive": raw,
        "fd_df": fd_df,
        "fd_d2f": fd_d2f,
        "cs": cs,
        "ok": ok,
    }


def loss_row(entry) -> dict:
    import nnref.losses as L
    from derivations.reference import loss_accuracy
    from nnref import gradcheck

    loss = L.get(entry.name)
    rng = np.random.default_rng(0)
    if entry.name in ("binary_cross_entropy", "categorical_cross_entropy"):
        logits = rng.normal(size=(3, 6))
        x = 1 / (1 + np.exp(-logits)) if entry.name.startswith("binary") else np.exp(logits) / np.exp(logits).sum(0)
    else:
        x = rng.normal(0, 2, size=(3, 6))
    if entry.name in ("categorical_cross_entropy", "softmax_cross_entropy"):
        y = np.eye(3)[:, rng.integers(0, 3, 6)]
    elif entry.name == "hinge":
        y = rng.choice([-1.0, 1.0], size=(3, 6))
    elif "binary" in entry.name:
        y = rng.integers(0, 2, size=(3, 6)).astype(float)
    else:
        y = rng.normal(size=(3, 6))
    report = gradcheck.check_gradient(lambda v: loss.value(v, y), loss.grad(x, y), x)
    acc = {} if entry.vector else {which: loss_accuracy(entry, which) for which in ("value", "grad")}
    ok = report.ok and all(row.ok for row in acc.values())
    return {"kind": "loss", "name": entry.name, "accuracy": acc, "fd": report.max_rel_error, "ok": ok}


def _fmt_ulp(row) -> str:
    bound = "" if row.bound == 4 else f" (≤{row.bound:g})"
    return f"{row.max_ulp:.3g}{bound}"


def _print_rows(rows: list[dict], color: bool) -> None:
    def mark(ok):
        text = "✓" if ok else "✗"
        return (GREEN if ok else RED) + text + RESET if color else text

    print(
        f"{'':2}{'activation':14} {'FD f′':>9} {'FD f″':>9} {'CS f′':>9} {'ULP f':>9} {'ULP f′':>14} {'ULP f″':>14} {'NaN':>4}"
    )
    for row in (r for r in rows if r["kind"] == "activation"):
        acc = row["accuracy"]
        cs = "n/a" if row["cs"] is None else f"{row['cs']:.1e}"
        nan = sum(r.nan_inf for r in acc.values())
        print(
            f"{mark(row['ok'])} {row['name']:14} {row['fd_df']:9.1e} {row['fd_d2f']:9.1e} {cs:>9} "
            f"{_fmt_ulp(acc['f']):>9} {_fmt_ulp(acc['df']):>14} {_fmt_ulp(acc['d2f']):>14} {nan:>4}"
        )
    losses = [r for r in rows if r["kind"] == "loss"]
    if losses:
        print(f"\n{'':2}{'loss':34} {'FD grad':>9} {'ULP value':>10} {'ULP grad':>12} {'NaN':>4}")
        for row in losses:
            acc = row["accuracy"]
            value = _fmt_ulp(acc["value"]) if acc else "(vector)"
            grad = _fmt_ulp(acc["grad"]) if acc else "(vector)"
            nan = sum(r.nan_inf for r in acc.values())
            print(f"{mark(row['ok'])} {row['name']:34} {row['fd']:9.1e} {value:>10} {grad:>12} {nan:>4}")


def verification_markdown(row: dict, entry, figure: str | None = None, header: str | None = None) -> str:
    """The table a reference page includes under "Verification" (``figure``: the error plot's
    path relative to the page; ``header``: the first line, naming the command that wrote it)."""
    if header is None:
        header = "<!-- Written by `nnref check --docs docs` (measurements, regenerated by scripts/site.sh). -->\n\n"
    if figure is None:
        figure = f"../verification/activations/{row['name']}.svg"
    lines = [header, "| check | result | bound |", "|---|---|---|"]
    for which, acc in row["accuracy"].items():
        label = {"f": "$f$", "df": "$f'$", "d2f": "$f''$", "value": "value", "grad": "gradient"}[which]
        lines.append(
            f"| max ULP error of {label} against mpmath | {acc.max_ulp:.3g} at $z = {acc.worst_z:.6g}$ "
            f"(median {acc.median_ulp:.2g}, {acc.n_points} points) | {acc.bound:g} |"
        )
        lines.append(f"| NaN/inf where {label} is finite | {acc.nan_inf} | 0 |")
        raw = row.get("naive", {}).get(which)
        if raw is not None:
            lines.append(
                f"| the same for the naive lambdify of SymPy's raw {label} | {raw.max_ulp:.3g} at $z = {raw.worst_z:.6g}$, "
                f"{raw.nan_inf} NaN/inf | — |"
            )
    if row["kind"] == "activation":
        lines.append(f"| finite differences, max relative error of $f'$ | {row['fd_df']:.2g} | 1e-5 |")
        lines.append(f"| finite differences, max relative error of $f''$ | {row['fd_d2f']:.2g} | 1e-4 |")
        cs = "n/a (not analytic: kinks or |z|)" if row["cs"] is None else f"{row['cs']:.2g}"
        lines.append(f"| complex step of the textbook $f$ against $f'$ (on [−4, 4]) | {cs} | 1e-9 |")
    else:
        lines.append(f"| gradient of the mean cost, central differences | {row['fd']:.2g} | 1e-7 |")
    if row.get("naive"):
        lines.append("")
        lines.append(f"![ULP error over z of the generated code and of the naive lambdify, for f and f']({figure})")
    reasons = [f"- **{w}**: {reason}" for w, (_, reason) in getattr(entry, "ulp_bounds", {}).items()]
    text = "\n".join(lines) + "\n"
    if reasons:
        text += '\n!!! info "Where 4 ULP is not reached, and why"\n\n' + "\n".join("    " + r for r in reasons) + "\n"
    return text


def error_plot(row: dict) -> str:
    """SVG of the ULP error against z: generated code against the naive lambdify, f and f'."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams.update({"svg.hashsalt": "nnref", "svg.fonttype": "path", "font.size": 9})
    fig, axes = plt.subplots(1, 2, figsize=(8, 3), sharey=True)
    for ax, which, label in zip(axes, ("f", "df"), ("f", "f'")):
        for acc, color, name in (
            (row["naive"][which], "#d62728", "naive lambdify"),
            (row["accuracy"][which], "#1f77b4", "nnref"),
        ):
            err = np.where(np.isinf(acc.errors), 1e17, acc.errors)
            shown = np.abs(acc.grid) <= 1e3  # ±708, ±745 included; ±1e308 are in the table
            ax.scatter(acc.grid[shown], np.maximum(err[shown], 1e-2), s=3, color=color, label=name, rasterized=True)
        ax.axhline(4, color="gray", linestyle="--", linewidth=0.8)
        ax.set_xscale("symlog", linthresh=1e-3)
        ax.set_xticks([-1e3, -1e1, -1e-1, 0, 1e-1, 1e1, 1e3])
        ax.set_yscale("log")
        ax.set_ylim(1e-2, 3e17)
        ax.set_title(f"ULP error of {label} (inf and NaN drawn at 1e17)")
        ax.set_xlabel("z")
    axes[0].legend(frameon=False, loc="upper left")
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def run(args: argparse.Namespace) -> int:
    from derivations.activations import ACTIVATIONS
    from derivations.losses import LOSSES

    known = list(ACTIVATIONS) + list(LOSSES)
    unknown = [n for n in args.names if n not in known and n not in ("softmax", "log_softmax")]
    if unknown:
        print(f"nnref check: unknown name(s) {', '.join(unknown)}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    wanted = set(args.names) or set(known)
    rows, entries = [], {}
    for name, entry in ACTIVATIONS.items():
        if name in wanted:
            rows.append(activation_row(entry, naive=args.docs is not None))
            entries[name] = entry
    for name, entry in LOSSES.items():
        if name in wanted:
            rows.append(loss_row(entry))
            entries[name] = entry
    _print_rows(rows, color=not args.no_color and sys.stdout.isatty())
    if args.docs:
        for row in rows:
            folder = (
                args.docs / "reference" / "verification" / ("activations" if row["kind"] == "activation" else "losses")
            )
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{row['name']}.md").write_text(
                verification_markdown(row, entries[row["name"]]), encoding="utf-8"
            )
            if row.get("naive"):
                (folder / f"{row['name']}.svg").write_text(error_plot(row), encoding="utf-8")
    failed = [r["name"] for r in rows if not r["ok"]]
    if failed:
        print(f"\nnnref check: {len(failed)} of {len(rows)} rows failed: {', '.join(failed)}")
        return 1
    print(f"\nnnref check: all {len(rows)} rows verified.")
    return 0
