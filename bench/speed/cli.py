"""The command: ``python -m bench.speed [--quick] [--threads N] [--repeats N] [--out DIR] [--regeneration]``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from bench.speed.report import figure, page, targets
from bench.speed.settings import DEFAULT_OUT, EXAMPLES, QUICK_CAP, SIZES, n_label
from bench.speed.timing import elementwise, import_cost, regeneration, training


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.speed",
        description="Measure nnref's speed side by side with NumPy, numexpr and PyTorch and write performance.md.",
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
        default=1,
        help="threads for nnref's block pool (NNREF_THREADS), numexpr, PyTorch and the BLAS (default: %(default)s, "
        "as NumPy's ufuncs; on a shared 2-core machine more threads mostly measure the other tenants)",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="repeats per measurement (default: 7, 3 with --quick)"
    )
    regen = parser.add_mutually_exclusive_group()
    regen.add_argument(
        "--regeneration",
        action="store_true",
        help="also time `nnref derive` and `mkdocs build` (the full default run does; --quick does not)",
    )
    regen.add_argument("--no-regeneration", action="store_true", help="skip `nnref derive` and `mkdocs build`")
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
    args.run_regeneration = args.regeneration or not (args.quick or args.no_regeneration)
    args.min_time = 0.01 if args.quick else 0.05
    args.import_runs = 7
    args.regeneration_runs = 1 if args.quick else 3
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()

    def progress(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {msg}", flush=True)

    import numexpr
    import threadpoolctl
    import torch

    numexpr.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    os.environ["NNREF_THREADS"] = str(args.threads)  # nnref evaluates large arrays blockwise on this many threads
    sizes = tuple(n for n in SIZES if n <= QUICK_CAP) if args.quick else SIZES
    dtypes = (np.float64, np.float32)
    # Only the BLAS is limited here: PyTorch's OpenMP pool is set by torch.set_num_threads.
    with threadpoolctl.threadpool_limits(limits=args.threads, user_api="blas"):
        progress(f"import cost ({args.import_runs} fresh interpreters each)")
        imports = import_cost(args.import_runs)
        progress(f"elementwise activations, sizes {', '.join(map(n_label, sizes))}, {args.threads} thread(s)")
        stats: dict = {}
        elem = elementwise(sizes, dtypes, args.repeats, args.min_time, progress, stats)
        m = 1_000 if args.quick else EXAMPLES
        progress(f"training step on {m} examples")
        train = training(m, args.repeats, args.min_time)
    regen = None
    if args.run_regeneration:
        progress(f"regeneration ({args.regeneration_runs} run(s) each)")
        regen = regeneration(args.regeneration_runs, progress)
    rows = targets(elem, train, imports, regen, sizes, dtypes)
    fig_name = "elementwise.svg"
    figure(elem, max(sizes), args.out / "performance" / fig_name)
    wall = time.perf_counter() - started
    text = page(args, elem, stats, train, imports, regen, sizes, dtypes, rows, wall, f"performance/{fig_name}")
    (args.out / "performance.md").write_text(text, encoding="utf-8")
    print()
    for target, measured, verdict in rows:
        print(f"{verdict:8} {target}: {measured}")
    print(f"\nwrote {args.out / 'performance.md'} and {args.out / 'performance' / fig_name} in {wall:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
