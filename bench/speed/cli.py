"""The command: ``python -m bench.speed [--quick] [--threads N] [--repeats N] [--out DIR] [--regeneration]``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from bench.speed.report import figure, page
from bench.speed.settings import DEFAULT_OUT, EXAMPLES, ISSUE_N, QUICK_CAP, SIZES, THREADS, n_label
from bench.speed.timing import elementwise, import_cost, primitive_costs, regeneration, training


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.speed",
        description="Measure nnref's speed side by side with NumPy and PyTorch and write performance.md.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a small fast run: sizes up to 1e6, 3 repeats, no regeneration"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="folder for performance.md and performance/ (default: %(default)s)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=max(THREADS),
        help="the most threads for nnref's block pool (NNREF_THREADS), PyTorch and the BLAS; every run also "
        "measures 1 thread (default: %(default)s)",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="repeats per measurement (default: 7, 3 with --quick)"
    )
    parser.add_argument(
        "--regeneration", action="store_true", help="also time `nnref derive` and `mkdocs build` (cold)"
    )
    return parser


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 1 <= args.threads <= 1024:
        parser.error(f"--threads must be between 1 and 1024, got {args.threads}")
    if args.repeats is None:
        args.repeats = 3 if args.quick else 7
    elif not 1 <= args.repeats <= 1000:
        parser.error(f"--repeats must be between 1 and 1000, got {args.repeats}")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out must be a folder, but {args.out} is a file")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        parser.error(f"--out: cannot create the folder {args.out}: {exc.strerror}")
    args.min_time = 0.01 if args.quick else 0.05
    args.import_runs = 7 if args.quick else 15
    args.regeneration_runs = 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()

    def progress(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {msg}", flush=True)

    import threadpoolctl

    sizes = tuple(n for n in SIZES if n <= QUICK_CAP) if args.quick else SIZES
    dtypes = (np.float64, np.float32)
    threads_list = sorted({1, args.threads})
    conditions = [(t, d, n) for t in threads_list for d in dtypes for n in sizes]
    conditions.append((max(threads_list), np.float64, ISSUE_N))
    progress(f"import cost ({args.import_runs} fresh interpreters each)")
    imports = import_cost(args.import_runs)
    progress("primitives on one block")
    prims = primitive_costs(args.repeats, args.min_time)
    progress(f"elementwise activations, sizes {', '.join(map(n_label, sizes))}, threads {threads_list}")
    stats: dict = {}
    elem = elementwise(conditions, args.repeats, args.min_time, progress, stats)
    m = 1_000 if args.quick else EXAMPLES
    train = {}
    for t in threads_list:
        progress(f"training step on {m} examples, {t} thread(s)")
        os.environ["NNREF_THREADS"] = str(t)
        import torch

        torch.set_num_threads(t)
        with threadpoolctl.threadpool_limits(limits=t, user_api="blas"):
            train[t] = training(m, args.repeats, args.min_time)
    regen = None
    if args.regeneration:
        progress(f"regeneration ({args.regeneration_runs} run(s) each)")
        regen = regeneration(args.regeneration_runs, progress)
    fig_name = "elementwise.svg"
    figure(elem, sizes, threads_list, args.out / "performance" / fig_name)
    wall = time.perf_counter() - started
    text = page(
        args, elem, stats, prims, train, imports, regen, conditions, sizes, dtypes, wall, f"performance/{fig_name}"
    )
    (args.out / "performance.md").write_text(text, encoding="utf-8")
    print(text[: text.index("## Methodology")])
    print(f"\nwrote {args.out / 'performance.md'} and {args.out / 'performance' / fig_name} in {wall:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
