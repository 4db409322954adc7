"""The `nnref` command. Each subcommand lives in its own module, imported only when it runs,
so `nnref --help` stays fast and SymPy is loaded only by the commands that derive.

`derive`, `check` and `custom` run in ``derivations/`` (SymPy, mpmath): this is the one place the
runtime reaches it, lazily. `check` and `custom` measure runtime code, which they receive as
``nnref._runtime.Runtime`` rather than import.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> (module, one-line help, whether run() takes the runtime). Each module defines
# configure(parser) and run(args[, runtime]) -> int.
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "derive": ("derivations.derive", "regenerate nnref/_generated and docs/reference from derivations/", False),
    "check": (
        "derivations.verify",
        "verify every activation and loss (finite differences, complex step, mpmath)",
        True,
    ),
    "train": ("nnref.train", "train an MLP on a bundled data set (digits, moons, circles, spirals)", False),
    "custom": (
        "derivations.custom.cli",
        "derive, stabilise, verify and generate code for your own activation",
        True,
    ),
}

#: Commands whose files hold measured figures: they run on the same NumPy kernels on every machine.
WRITES_MEASUREMENTS = ("derive", "check")


def build_parser(load: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnref",
        description="nnref: a numerically verified math reference for neural networks.",
    )
    from nnref import __version__

    parser.add_argument("--version", action="version", version=f"nnref {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text, _) in COMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        if name == load:
            importlib.import_module(module).configure(sp)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(load=command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module_name, _, needs_runtime = COMMANDS[args.command]
    if args.command in WRITES_MEASUREMENTS:
        from nnref import _portable

        _portable.pin(rerun=["-m", "nnref", *argv])
    module = importlib.import_module(module_name)
    try:
        if needs_runtime:
            from nnref._runtime import runtime

            return int(module.run(args, runtime()) or 0)
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
