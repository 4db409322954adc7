"""The `nnref custom` command: ``nnref custom "EXPR" [--name] [--param k=v ...] [--out FILE.py] [--docs DIR]``.

Exit status: 0 verified (or --no-verify), 1 derived but not verified (the report says where it
falls short), 2 bad input or out of time (nothing is derived or written).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time
from pathlib import Path

from derivations.custom.errors import CustomError
from derivations.custom.pipeline import _check_name
from derivations.custom.write import command_line, out_path, page_paths, refuse_existing, write_module, write_page


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expr", metavar="EXPR", help='a formula in z, e.g. "z*tanh(softplus(z))" (quote it)')
    parser.add_argument("--name", default=None, help="name of the generated functions (default: custom)")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter of the formula and its value (> 0); repeat for several",
    )
    parser.add_argument("--out", type=Path, metavar="FILE.py", help="write a standalone NumPy/SciPy module")
    parser.add_argument("--docs", type=Path, metavar="DIR", help="write a reference page (and plots) into DIR")
    parser.add_argument("--force", action="store_true", help="overwrite --out / --docs files that already exist")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    parser.add_argument("--no-verify", action="store_true", help="skip the mpmath verification (faster)")
    parser.add_argument(
        "--time-budget",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="stop the whole pipeline after this many seconds, naming the step it was in (default: 120)",
    )
    parser.epilog = (
        "exit status: 0 derived and verified (or --no-verify); 1 derived but not verified (the report "
        "says where it falls short); 2 bad input or out of time (nothing is written)"
    )


def _parse_param(text: str) -> tuple[str, float]:
    if "=" not in text:
        raise CustomError(f"--param expects NAME=VALUE, got {text!r}")
    key, _, value = text.partition("=")
    key = key.strip()
    try:
        number = float(value)
    except ValueError:
        raise CustomError(f"--param {key}: value must be a number, got {value!r}") from None
    return key, number


def _check_targets(args: argparse.Namespace) -> None:
    """Refuse bad or occupied --out/--docs targets before the (slow) derivation, not after it."""
    name = _check_name(args.name)
    if args.out is not None:
        out_path(args.out, args.force)
    if args.docs is not None:
        if args.docs.exists() and not args.docs.is_dir():
            raise CustomError(f"--docs: {str(args.docs)!r} exists and is not a folder")
        for p in page_paths(args.docs, name):
            refuse_existing(p, args.force, "file")


@contextlib.contextmanager
def _progress():
    """On a terminal, the running step on one line of stderr (erased when done); elsewhere nothing."""
    if not sys.stderr.isatty():
        yield None
        return
    start = time.monotonic()

    def show(step: str) -> None:
        print(f"\r\033[Knnref custom: {step} ({time.monotonic() - start:.0f} s)", end="", file=sys.stderr, flush=True)

    try:
        yield show
    finally:
        print("\r\033[K", end="", file=sys.stderr, flush=True)


def run(args: argparse.Namespace, runtime) -> int:
    try:
        params = dict(_parse_param(p) for p in args.param)
        if len(params) != len(args.param):
            raise CustomError("--param: a parameter is given twice")
        _check_targets(args)
        budget = {} if args.time_budget is None else {"time_budget": args.time_budget}
        with _progress() as progress:
            entry, report, _ = runtime.derive_custom(
                args.expr, args.name, params, verify=not args.no_verify, progress=progress, **budget
            )
        command = command_line(report, out=args.out, docs=args.docs)
        if args.json:
            print(json.dumps(report.as_dict(), indent=2, default=str))
        else:
            print(report.table(source=args.out is None))
        if args.out is not None:
            written = write_module(
                report,
                args.out,
                runtime.primitives_source(),
                runtime.tables_source(),
                force=args.force,
                command=command,
            )
            print(f"\nwrote {written}")
        if args.docs is not None:
            args.docs.mkdir(parents=True, exist_ok=True)
            for path in write_page(entry, report, args.docs, force=args.force, command=command):
                print(f"wrote {path}")
    except (CustomError, FileExistsError) as exc:
        print(f"nnref custom: error: {exc}", file=sys.stderr)
        return 2
    return 0 if (args.no_verify or report.verified) else 1
