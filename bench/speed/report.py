"""The Performance page: the machine, the targets (MET or MISSED), the figure, and performance.md,
whose prose is the Markdown template page.md next to this module."""

from __future__ import annotations

import os
import platform
import statistics
from pathlib import Path

import numpy as np
import scipy

from bench.speed.candidates import BEST_NOTE
from bench.speed.settings import (
    ACTIVATIONS,
    COLUMNS,
    DERIVE_S,
    F_DF_VS_F,
    F_VS_TEXTBOOK,
    HEADER,
    IMPORT_MS,
    ISSUE_N,
    LAYERS,
    LR,
    MKDOCS_S,
    NOISY,
    STEP_VS_NUMPY,
    TWO_CALLS,
    TWO_CALLS_VS_TEXTBOOK,
    VS_TORCH,
    n_label,
)
from bench.speed.timing import IMPORTS, PRIMITIVE_N, calls_in
from nnref import _blockwise


def machine() -> list[str]:
    import torch

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    blas = "unknown"
    try:
        import threadpoolctl

        info = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
        mine = [i for i in info if "numpy" in i.get("filepath", "")] or info
        if mine:
            i = mine[0]
            blas = f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, {i.get('threading_layer')})"
    except ImportError:
        try:
            deps = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
            blas = f"{deps.get('name')} {deps.get('version')}"
        except Exception:  # noqa: BLE001 - show_config's layout varies between NumPy versions
            pass
    return [
        f"- CPU: {cpu or 'unknown'} ({platform.machine()}, {platform.processor() or 'processor unknown'}), "
        f"{os.cpu_count()} logical cores, {usable} usable by this process",
        f"- Python {platform.python_version()} on {platform.system()}; NumPy {np.__version__} (BLAS: {blas}), "
        f"SciPy {scipy.__version__}, PyTorch {torch.__version__}",
    ]


def _ms(seconds: float) -> str:
    """A median difference of wall times in ms; below 1 ms it is within the noise of starting Python."""
    return f"{seconds * 1e3:.0f} ms" if seconds >= 1e-3 else "< 1 ms"


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def _kernel_source(name: str, which: str) -> str:
    import inspect

    from nnref._generated import activations as gen

    return inspect.getsource(getattr(gen, f"{name}_{which}"))


def limiting(name: str, which: str, prims: dict[str, float]) -> str:
    """The primitive that costs the generated kernels most (calls × its time per element);
    ``which`` names one kernel or several joined by "+" (f+df: two calls)."""
    counts: dict[str, int] = {}
    for kernel in which.split("+"):
        source = _kernel_source(name, kernel)
        for key, n in calls_in(source).items():  # nnref's primitives are timed whole (timing.PRIMITIVES)
            counts[key] = counts.get(key, 0) + n
    counts = {k: n for k, n in counts.items() if n}
    if not counts:
        return "—"
    worst = max(counts, key=lambda k: counts[k] * prims[k])
    total = sum(counts[k] * prims[k] for k in counts)
    return (
        f"`{worst}`: {counts[worst]} call(s) × {prims[worst] * 1e9:.2f} ns = "
        f"{counts[worst] * prims[worst] * 1e9:.2f} ns of the {total * 1e9:.2f} ns its primitives take per element"
    )


def _cases(elem, threads: int, names, dtypes, sizes):
    return [(d, n) for d in (np.dtype(t).name for t in dtypes) for n in sizes if (threads, d, n, names[0]) in elem]


def findings(elem, prims, train, imports, regen, sizes, dtypes, max_threads: int) -> tuple[str, list]:
    """The findings: one table per target, each row met or missed with its figures; where an
    elementwise row is missed, the primitive that limits the generated kernel, measured."""
    out, summary = [], []

    def ratio_table(title, names, num, den, limit, threads, which, note=""):
        cases = _cases(elem, threads, names, dtypes, sizes)
        out.append(f"### {title}\n")
        if note:
            out.append(note + "\n")
        head = " | ".join(f"{d} {n_label(n)}" for d, n in cases)
        out.append(f"| activation | {head} | worst | verdict |")
        out.append("|---|" + "---:|" * (len(cases) + 1) + "---|")
        met_all, limits = True, []
        for name in names:
            ratios = [
                sum(elem[(threads, d, n, name)][k] for k in num) / sum(elem[(threads, d, n, name)][k] for k in den)
                for d, n in cases
            ]
            ok = max(ratios) <= limit
            met_all &= ok
            if not ok:
                limits.append(f"- **{name}**: {limiting(name, which, prims)}")
            cells = " | ".join(f"{r:.2f}×" for r in ratios)
            out.append(f"| {name} | {cells} | {max(ratios):.2f}× | {_verdict(ok)} |")
        out.append("")
        if limits:  # (under the table: a column of sentences made every row a dozen lines tall)
            out.append("Where missed, the primitive that costs the generated kernel most:\n")
            out.extend([*limits, ""])
        summary.append((title, met_all))

    ratio_table(
        f"Stable f ≤ {F_VS_TEXTBOOK}× its textbook NumPy form, 1 thread",
        ACTIVATIONS,
        ["nnref_f"],
        ["textbook_f"],
        F_VS_TEXTBOOK,
        1,
        "f",
        "nnref's `f(x)` over the textbook formula (`1/(1+np.exp(-x))`, `np.log(1+np.exp(x))`, ...), which "
        "overflows or cancels in the tails that nnref gets right. In the float32 columns nnref computes in "
        "float64 and rounds once (the 4-ULP bar holds in float32 too), while the textbook form runs NumPy's "
        "float32 loops: compare `numpy.exp` with `numpy.exp on float32`, and the round trip through float64, "
        "under *What the primitives cost*.",
    )
    ratio_table(
        f"f_df ≤ {F_DF_VS_F}× f, 1 thread",
        ACTIVATIONS,
        ["nnref_f_df"],
        ["nnref_f"],
        F_DF_VS_F,
        1,
        "f_df",
        "`f_df(x)`, which returns f and f′ together, over `f(x)` alone.",
    )
    ratio_table(
        f"f and df as two calls ≤ {TWO_CALLS_VS_TEXTBOOK}× the textbook f + f′, 1 thread",
        TWO_CALLS,
        ["nnref_f_then_df"],
        ["textbook_f_df"],
        TWO_CALLS_VS_TEXTBOOK,
        1,
        "f+df",
        "`f(x)` then `df(x)` over the textbook pair computed from one intermediate (`s = 1/(1+e^{-x})`, `s*(1-s)`).",
    )
    if max_threads > 1:
        for which, key, tkey in (("f", "nnref_f", "torch_f"), ("f_df", "nnref_f_df", "torch_f_df")):
            ratio_table(
                f"{which} ≤ PyTorch, {max_threads} threads",
                VS_TORCH,
                [key],
                [tkey],
                1.0,
                max_threads,
                which,
                f"nnref's `{which}` with `NNREF_THREADS={max_threads}` over PyTorch CPU with "
                f"`torch.set_num_threads({max_threads})`"
                + (
                    " (f_df: the forward and autograd's backward with an upstream gradient of ones)."
                    if which == "f_df"
                    else "."
                ),
            )
    if train:
        out.append(f"### Training step ≤ {STEP_VS_NUMPY}× hand-written NumPy and ≤ PyTorch CPU\n")
        out.append("| threads | nnref | × hand-written NumPy | verdict | × PyTorch | verdict |")
        out.append("|---:|---:|---:|---|---:|---|")
        ok_all = True
        for threads, t in sorted(train.items()):
            s = t["step"]
            a, b = s["nnref"] / s["numpy"], s["nnref"] / s["torch"]
            ok_all &= a <= STEP_VS_NUMPY and b <= 1
            out.append(
                f"| {threads} | {s['nnref'] * 1e3:.1f} ms | {a:.3f}× | {_verdict(a <= STEP_VS_NUMPY)} | {b:.3f}× | {_verdict(b <= 1)} |"
            )
        out.append("")
        summary.append(("training step", ok_all))
    if imports:
        ms = imports["import nnref.activations"] * 1e3
        out.append(f"### `import nnref.activations` < {IMPORT_MS:.0f} ms\n")
        out.append("| what | median | verdict |")
        out.append("|---|---:|---|")
        out.append(
            f"| `import nnref.activations` in a fresh interpreter, minus `pass` | {ms:.0f} ms | {_verdict(ms < IMPORT_MS)} |"
        )
        out.append("")
        summary.append(("import nnref.activations", ms < IMPORT_MS))
    if regen:
        out.append("### Regeneration\n")
        out.append("| command | median | verdict |")
        out.append("|---|---:|---|")
        for key, label, limit in (("derive", "nnref derive", DERIVE_S), ("mkdocs", "mkdocs build", MKDOCS_S)):
            seconds, why = regen[key]
            ok = seconds is not None and seconds < limit
            out.append(
                f"| {label} < {limit:.0f} s | {why if seconds is None else f'{seconds:.1f} s'} | {_verdict(ok)} |"
            )
        out.append("")
    return "\n".join(out), summary


def issue_table(elem, threads: int) -> str:
    """Every form as a multiple of np.copyto at ISSUE_N float64, at the most threads."""
    lines = [
        "| function | textbook NumPy | nnref f | nnref f_df | PyTorch f |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in ACTIVATIONS:
        row = elem[(threads, "float64", ISSUE_N, name)]
        cells = " | ".join(f"{row[k] / row['copyto']:.1f}" for k in ("textbook_f", "nnref_f", "nnref_f_df", "torch_f"))
        lines.append(f"| {name} | {cells} |")
    return "\n".join(lines)


def primitives_table(prims: dict[str, float]) -> str:
    lines = ["| primitive | ns per element |", "|---|---:|"]
    for k, v in sorted(prims.items(), key=lambda kv: kv[1]):
        lines.append(f"| `{k}` | {v * 1e9:.2f} |")
    return "\n".join(lines)


def control(elem: dict, d: str, n: int) -> tuple[float, str, float, str]:
    """The "best NumPy/SciPy f" column is timed twice, as two candidates making identical calls: the
    largest max/min ratio and the largest difference in seconds per element between the two, each
    with the activation where it occurs."""
    ratio, diff = {}, {}
    for name in ACTIVATIONS:
        times = [elem[(1, d, n, name)][k] for k in ("best_f", "control")]
        ratio[name] = max(times) / min(times)
        diff[name] = (max(times) - min(times)) / n
    r, a = max(ratio, key=ratio.get), max(diff, key=diff.get)
    return ratio[r], r, diff[a], a


def figure(elem: dict, sizes, threads_list, path: Path) -> None:
    """Time per element against n, float64: nnref f, the textbook f and PyTorch f, one panel per
    activation; solid at the most threads, dashed at one."""
    from derivations.common import pyplot, svg_text

    plt = pyplot()
    fig, axes = plt.subplots(2, 4, figsize=(11, 5.2), sharex=True)
    styles = {"nnref_f": ("nnref f", "C0"), "textbook_f": ("textbook NumPy f", "C1"), "torch_f": ("PyTorch f", "C2")}
    for ax, name in zip(axes.ravel(), ACTIVATIONS):
        for key, (label, colour) in styles.items():
            for threads in threads_list:
                ys = [elem[(threads, "float64", n, name)][key] / n * 1e9 for n in sizes]
                ax.plot(
                    sizes,
                    ys,
                    color=colour,
                    ls="-" if threads == max(threads_list) else "--",
                    marker="o",
                    ms=3,
                    label=f"{label}, {threads} thread{'s' if threads > 1 else ''}",
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
    axes.ravel()[-1].axis("off")
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    axes.ravel()[-1].legend(handles, labels, frameon=False, fontsize=8, loc="center")
    for ax in axes[:, 0]:
        ax.set_ylabel("ns per element")
    for ax in axes[1, :]:
        ax.set_xlabel("n (float64 elements)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    header = HEADER.replace("<!--", "<!-- figure:")
    path.write_text(svg_text(fig, header), encoding="utf-8")


TEMPLATE = Path(__file__).with_name("page.md")


def _elementwise_tables(elem, stats, conditions) -> str:
    lines = []
    for threads, dtype, n in conditions:
        d = np.dtype(dtype).name
        if n not in (10**5, 10**6, 10**7):
            continue
        copy = statistics.median(elem[(threads, d, n, name)]["copyto"] for name in ACTIVATIONS)
        cols = [k for k in COLUMNS if k in elem[(threads, d, n, ACTIVATIONS[0])]]
        lines += [f"### {threads} thread{'s' if threads > 1 else ''}, {d}, n = {n_label(n)}", ""]
        lines.append("| activation | " + " | ".join(COLUMNS[k] for k in cols) + " |")
        lines.append("|---|" + "---:|" * len(cols))
        noisy = False
        for name in ACTIVATIONS:
            row, st = elem[(threads, d, n, name)], stats[(threads, d, n, name)]
            cells = []
            for k in cols:
                mark = "†" if max(st[k]["spread"], st["copyto"]["spread"]) > NOISY else ""
                noisy = noisy or bool(mark)
                cells.append(f"{row[k] / row['copyto']:.2f}×{mark} ({row[k] / n * 1e9:.2f} ns)")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        gbs = 2 * n * np.dtype(dtype).itemsize / copy / 1e9
        lines += [
            "",
            f"`np.copyto`: {copy / n * 1e9:.3f} ns per element ({gbs:.1f} GB/s read + write), the median over the rows."
            + (f" † noisy: the repeats' interquartile range exceeds {NOISY:.0%} of the median." if noisy else ""),
            "",
        ]
        if "control" in elem[(threads, d, n, ACTIVATIONS[0])]:
            ratio, worst, diff, where = control(elem, d, n)
            lines += [
                f"Control: best NumPy/SciPy f timed twice differs by up to {ratio:.2f}× ({worst}), "
                f"{diff * 1e9:.2f} ns per element ({where}).",
                "",
            ]
    return "\n".join(lines)


def _training_section(train) -> str:
    if not train:
        return "Not measured in this run.\n"
    labels = {
        "numpy": "hand-written NumPy (Z = W@A + b, relu, fused softmax-CE ∂J/∂Z = (P − Y)/m, backprop, in-place update)",
        "nnref": "nnref: `MLP._gradients(X, Y)` + update (the step inside `fit`)",
        "nnref_public": "nnref: `MLP.gradients(X, y)` + update (validates X and y every call)",
        "nnref_fit": "nnref: `MLP.fit(X, y)` with `epochs=1`, `optimizer='gd'` (one step, plus fit's checks)",
        "torch": "PyTorch CPU (addmm, relu, `F.cross_entropy`, autograd, `torch.optim.SGD`)",
    }
    any_t = next(iter(train.values()))
    m = any_t["m"]
    lines = [
        f"One full-batch forward + backward + gradient-descent update of a {'-'.join(map(str, LAYERS))} network "
        f"(relu hidden layers, softmax cross-entropy) on {m:,} random examples, float64 (nnref.MLP computes in "
        f"float64 only: `fit` and `gradients` convert X), lr = {LR}, all from the same weights (checked to "
        "agree after one step). The BLAS, PyTorch and nnref's block pool use the same number of threads.",
        "",
        "| threads | implementation | median time | × hand-written NumPy | × PyTorch |",
        "|---:|---|---:|---:|---:|",
    ]
    for threads, t in sorted(train.items()):
        s = t["step"]
        for key, label in labels.items():
            lines.append(
                f"| {threads} | {label} | {s[key] * 1e3:.1f} ms | {s[key] / s['numpy']:.2f}× | {s[key] / s['torch']:.2f}× |"
            )
    lines += [
        "",
        f"For context, the first layer's GEMM, {LAYERS[1]}×{LAYERS[0]} @ {LAYERS[0]}×{m:,} "
        f"({any_t['flops'] / 1e9:.2f} GFLOP), at 1 thread:",
        "",
        "| dtype | NumPy | PyTorch |",
        "|---|---:|---:|",
    ]
    t1 = train[min(train)]
    for d in ("float64", "float32"):
        cells = [
            f"{t1['gemm'][(d, lib)] * 1e3:.1f} ms ({t1['flops'] / t1['gemm'][(d, lib)] / 1e9:.1f} GFLOP/s)"
            for lib in ("numpy", "torch")
        ]
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _imports_table(imports) -> str:
    lines = []
    if imports:
        for key in IMPORTS:
            lines.append(f'| `python -c "{IMPORTS[key]}"` minus `python -c "pass"` | {_ms(imports[key])} |')
        lines.append(f'| `python -c "pass"` itself | {imports["pass"] * 1e3:.0f} ms |')
    return "\n".join(lines)


def page(args, elem, stats, prims, train, imports, regen, conditions, sizes, dtypes, wall, fig_rel) -> str:
    """performance.md: the prose of page.md with the measured tables filled in."""
    max_threads = max(t for t, _, _ in conditions)
    found, summary = findings(elem, prims, train, imports, regen, sizes, dtypes, max_threads)
    met = sum(ok for _, ok in summary)
    fields = {
        "header": HEADER.rstrip("\n"),
        "summary": f"{met} of the {len(summary)} targets below are met in this run: "
        + "; ".join(f"{t} ({'met' if ok else 'missed'})" for t, ok in summary)
        + ".",
        "findings": found,
        "issue_n": n_label(ISSUE_N) if ISSUE_N in sizes else f"{ISSUE_N:.0e}".replace("+0", ""),
        "issue_threads": max_threads,
        "issue_table": issue_table(elem, max_threads),
        "primitives": primitives_table(prims),
        "figure": fig_rel,
        "block": f"{_blockwise.BLOCK:,}",
        "primitive_n": f"{PRIMITIVE_N:,}",
        "small": f"{_blockwise.SMALL:,}",
        "threshold": f"{_blockwise.THRESHOLD:,}",
        "repeats": args.repeats,
        "min_time_ms": f"{args.min_time * 1e3:.0f}",
        "noisy": f"{NOISY:.0%}",
        "threads": ", ".join(str(t) for t in sorted({t for t, _, _ in conditions})),
        "quick": "; this one was written by a `--quick` run." if args.quick else ".",
        "machine": "\n".join(machine()),
        "best_forms": "\n".join(f"| {name} | `{BEST_NOTE[name]}` |" for name in ACTIVATIONS),
        "elementwise": _elementwise_tables(elem, stats, conditions),
        "training": _training_section(train),
        "imports": _imports_table(imports),
        "import_runs": args.import_runs,
        "wall": f"{wall:.0f}",
    }
    return TEMPLATE.read_text(encoding="utf-8").format_map(fields)
