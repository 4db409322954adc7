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
    LAYERS,
    LR,
    MKDOCS_S,
    NOISY,
    STEP_VS_NUMPY,
    TARGET_MIN_SIZE,
    n_label,
)
from bench.speed.timing import IMPORTS


def machine() -> list[str]:
    import numexpr
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
        f"SciPy {scipy.__version__}, numexpr {numexpr.__version__}, PyTorch {torch.__version__}",
    ]


def _ms(seconds: float) -> str:
    """A median difference of wall times in ms; below 1 ms it is within the noise of starting Python."""
    return f"{seconds * 1e3:.0f} ms" if seconds >= 1e-3 else "< 1 ms"


def targets(elem: dict, train: dict | None, imports: dict | None, regen: dict | None, sizes, dtypes) -> list[tuple]:
    """(target, measured, verdict) rows; verdict is MET, MISSED or NOT RUN."""
    rows = []
    checked = [n for n in sizes if n >= TARGET_MIN_SIZE] or [max(sizes)]
    cases = [(np.dtype(d).name, n) for d in dtypes for n in checked]

    def verdict(values: list[float], limit: float) -> str:
        return "MET" if all(v <= limit for v in values) else "MISSED"

    for name in ACTIVATIONS:
        for label, num, den, limit in (
            (f"{name}: nnref f ≤ {F_VS_TEXTBOOK}× textbook f", "nnref_f", "textbook_f", F_VS_TEXTBOOK),
            (f"{name}: nnref f_df ≤ {F_VS_TEXTBOOK}× textbook f+f'", "nnref_f_df", "textbook_f_df", F_VS_TEXTBOOK),
            (f"{name}: nnref f_df ≤ {F_DF_VS_F}× nnref f", "nnref_f_df", "nnref_f", F_DF_VS_F),
        ):
            ratios = [elem[(d, n, name)][num] / elem[(d, n, name)][den] for d, n in cases]
            shown = ", ".join(f"{d} {n_label(n)}: {r:.2f}×" for (d, n), r in zip(cases, ratios))
            rows.append((label, shown, verdict(ratios, limit)))
    if train:
        s = train["step"]
        rows.append(
            (
                f"training step: nnref ≤ {STEP_VS_NUMPY}× hand-written NumPy",
                f"{s['nnref'] / s['numpy']:.3f}×",
                verdict([s["nnref"] / s["numpy"]], STEP_VS_NUMPY),
            )
        )
        rows.append(
            (
                "training step: nnref ≤ PyTorch CPU",
                f"{s['nnref'] / s['torch']:.3f}×",
                verdict([s["nnref"] / s["torch"]], 1),
            )
        )
    if imports:
        ms = imports["import nnref"] * 1e3
        rows.append((f"import nnref < {IMPORT_MS:.0f} ms", _ms(ms / 1e3), "MET" if ms < IMPORT_MS else "MISSED"))
    for key, label, limit in (("derive", "nnref derive", DERIVE_S), ("mkdocs", "mkdocs build", MKDOCS_S)):
        if not regen:
            rows.append((f"{label} < {limit:.0f} s", "not measured (run with --regeneration)", "NOT RUN"))
            continue
        seconds, why = regen[key]
        if seconds is None:
            rows.append((f"{label} < {limit:.0f} s", why, "MISSED"))
        else:
            rows.append((f"{label} < {limit:.0f} s", f"{seconds:.1f} s", "MET" if seconds < limit else "MISSED"))
    return rows


def control(elem: dict, d: str, n: int) -> tuple[float, str, float, str]:
    """The "best NumPy/SciPy f" column is timed twice, as two candidates making identical calls: the
    largest max/min ratio and the largest difference in seconds per element between the two, each
    with the activation where it occurs."""
    ratio, diff = {}, {}
    for name in ACTIVATIONS:
        times = [elem[(d, n, name)][k] for k in ("best_f", "control")]
        ratio[name] = max(times) / min(times)
        diff[name] = (max(times) - min(times)) / n
    r, a = max(ratio, key=ratio.get), max(diff, key=diff.get)
    return ratio[r], r, diff[a], a


def figure(elem: dict, n: int, path: Path) -> None:
    from derivations.common import pyplot, svg_text

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 3.8))
    keys = list(COLUMNS)
    width = 0.8 / len(keys)
    for j, key in enumerate(keys):
        xs, ys = [], []
        for i, name in enumerate(ACTIVATIONS):
            row = elem[("float64", n, name)]
            if key in row:
                xs.append(i + (j - (len(keys) - 1) / 2) * width)
                ys.append(row[key] / row["copyto"])
        ax.bar(xs, ys, width, label=COLUMNS[key])
    ax.set_yscale("log")
    ax.set_xticks(range(len(ACTIVATIONS)), ACTIVATIONS)
    ax.set_ylabel("time / np.copyto time")
    ax.set_title(f"float64, n = {n_label(n)}: each form as a multiple of np.copyto on the same array")
    ax.set_ylim(bottom=1)
    ax.legend(frameon=False, fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.09))
    ax.grid(alpha=0.3, axis="y")
    path.parent.mkdir(parents=True, exist_ok=True)
    header = HEADER.replace("<!--", "<!-- figure:")
    path.write_text(svg_text(fig, header), encoding="utf-8")


TEMPLATE = Path(__file__).with_name("page.md")


def _elementwise_tables(elem, stats, sizes, dtypes, fig_rel) -> str:
    lines = []
    if fig_rel:
        lines += [f"![Each form's time as a multiple of np.copyto, float64]({fig_rel})", ""]
    for dtype in dtypes:
        d = np.dtype(dtype).name
        for n in sizes:
            copy = statistics.median(elem[(d, n, name)]["copyto"] for name in ACTIVATIONS)
            lines += [f"### {d}, n = {n_label(n)}", ""]
            lines.append("| activation | " + " | ".join(COLUMNS.values()) + " |")
            lines.append("|---|" + "---:|" * len(COLUMNS))
            noisy = False
            for name in ACTIVATIONS:
                row, st = elem[(d, n, name)], stats[(d, n, name)]
                cells = []
                for k in COLUMNS:
                    if k not in row:
                        cells.append("—")
                        continue
                    mark = "†" if max(st[k]["spread"], st["copyto"]["spread"]) > NOISY else ""
                    noisy = noisy or bool(mark)
                    cells.append(f"{row[k] / row['copyto']:.2f}×{mark} ({row[k] / n * 1e9:.2f} ns)")
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
            gbs = 2 * n * np.dtype(dtype).itemsize / copy / 1e9
            lines += [
                "",
                f"`np.copyto`: {copy / n * 1e9:.3f} ns per element ({gbs:.1f} GB/s read + write), "
                "the median over the rows."
                + (f" † noisy: the repeats' interquartile range exceeds {NOISY:.0%} of the median." if noisy else ""),
                "",
            ]
            ratio, worst, diff, where = control(elem, d, n)
            lines += [
                f"Control: best NumPy/SciPy f timed twice differs by up to {ratio:.2f}× ({worst}), "
                f"{diff * 1e9:.2f} ns per element ({where}).",
                "",
            ]
    return "\n".join(lines)


def _training_section(args, train) -> str:
    if not train:
        return "Not measured in this run.\n"
    s, m = train["step"], train["m"]
    labels = {
        "numpy": "hand-written NumPy (Z = W@A + b, relu, fused softmax-CE ∂J/∂Z = (P − Y)/m, backprop, in-place update)",
        "nnref": "nnref: `MLP._gradients(X, Y)` + update (the step inside `fit`)",
        "nnref_public": "nnref: `MLP.gradients(X, y)` + update (validates X and y every call)",
        "nnref_fit": "nnref: `MLP.fit(X, y)` with `epochs=1`, `optimizer='gd'` (one step, plus fit's checks)",
        "torch": "PyTorch CPU (addmm, relu, `F.cross_entropy`, autograd, `torch.optim.SGD`)",
    }
    lines = [
        f"One full-batch forward + backward + gradient-descent update of a {'-'.join(map(str, LAYERS))} network "
        f"(relu hidden layers, softmax cross-entropy) on {m:,} random examples, float64 (nnref.MLP computes in "
        f"float64 only: `fit` and `gradients` convert X), lr = {LR}, all from the same weights (checked to "
        f"agree after one step). {args.threads} thread(s) for the BLAS, PyTorch and nnref's block pool.",
        "",
        "| implementation | median time | × hand-written NumPy | × PyTorch |",
        "|---|---:|---:|---:|",
    ]
    for key, label in labels.items():
        lines.append(f"| {label} | {s[key] * 1e3:.1f} ms | {s[key] / s['numpy']:.2f}× | {s[key] / s['torch']:.2f}× |")
    lines += [
        "",
        f"For context, the first layer's GEMM, {LAYERS[1]}×{LAYERS[0]} @ {LAYERS[0]}×{m:,} "
        f"({train['flops'] / 1e9:.2f} GFLOP):",
        "",
        "| dtype | NumPy | PyTorch |",
        "|---|---:|---:|",
    ]
    for d in ("float64", "float32"):
        cells = [
            f"{train['gemm'][(d, lib)] * 1e3:.1f} ms ({train['flops'] / train['gemm'][(d, lib)] / 1e9:.1f} GFLOP/s)"
            for lib in ("numpy", "torch")
        ]
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _imports_table(imports, regen) -> str:
    lines = []
    if imports:
        for key in IMPORTS:
            lines.append(f'| `python -c "{IMPORTS[key]}"` minus `python -c "pass"` | {_ms(imports[key])} |')
        lines.append(f'| `python -c "pass"` itself | {imports["pass"] * 1e3:.0f} ms |')
    if regen:
        for key, label in (
            ("derive", "`nnref derive --root TMP` (everything regenerated into an empty folder)"),
            ("mkdocs", "`mkdocs build --site-dir TMP`"),
        ):
            seconds, why = regen[key]
            lines.append(f"| {label} | {why if seconds is None else f'{seconds:.1f} s'} |")
    else:
        lines.append(
            "| `nnref derive`, `mkdocs build` | not measured in this run (`python -m bench.speed --regeneration`) |"
        )
    return "\n".join(lines)


def page(args, elem, stats, train, imports, regen, sizes, dtypes, rows, wall: float, fig_rel: str | None) -> str:
    """performance.md: the prose of page.md with the measured tables filled in."""
    controls = ", ".join(
        f"{control(elem, np.dtype(d).name, n)[2] * 1e9:.2f} ns per element at {np.dtype(d).name} {n_label(n)}"
        for d in dtypes
        for n in sizes
        if n >= TARGET_MIN_SIZE
    )
    fresh = (
        "At n = 1e7 every temporary array is fresh memory (glibc maps blocks that large from the kernel and "
        "unmaps them when freed), so those times include page faults and huge-page allocation, which vary "
        "from run to run. "
    )
    fields = {
        "header": HEADER.rstrip("\n"),
        "repeats": args.repeats,
        "min_time_ms": f"{args.min_time * 1e3:.0f}",
        "fresh_memory": fresh if max(sizes) >= 10**7 else "",
        "noisy": f"{NOISY:.0%}",
        "threads": args.threads,
        "quick": "; this one was written by a `--quick` run." if args.quick else ".",
        "machine": "\n".join(machine()),
        "best_forms": "\n".join(f"| {name} | `{BEST_NOTE[name]}` |" for name in ACTIVATIONS),
        "elementwise": _elementwise_tables(elem, stats, sizes, dtypes, fig_rel),
        "training": _training_section(args, train),
        "imports": _imports_table(imports, regen),
        "import_runs": args.import_runs,
        "regeneration_runs": f" Regeneration: median of {args.regeneration_runs} run(s)." if regen else "",
        "target_min": n_label(TARGET_MIN_SIZE),
        "controls": controls,
        "targets": "\n".join(f"| {t} | {m} | **{v}** |" for t, m, v in rows),
        "wall": f"{wall:.0f}",
    }
    return TEMPLATE.read_text(encoding="utf-8").format_map(fields)
