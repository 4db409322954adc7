"""The `nnref` command. Each subcommand lives in its own module, imported only when it runs,
so `nnref --help` stays fast and SymPy is loaded only by the commands that derive."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

# subcommand -> (module, one-line help). Each module defines configure(parser) and run(args) -> int.
COMMANDS: dict[str, tuple[str, str]] = {
    "derive": ("derivations.codegen", "regenerate nnref/_generated and docs/reference from derivations/"),
    "check": ("nnref._check", "verify every activation and loss (finite differences, complex step, mpmath)"),
    "train": ("nnref.train", "train an MLP on a bundled data set (digits, moons, circles, spirals)"),
    "custom": ("nnref.custom", "derive, stabilise, verify and generate code for your own activation"),
}


def available() -> dict[str, tuple[str, str]]:
    """The subcommands whose module is installed (the ones still being built are not offered)."""
    out = {}
    for name, (module, help_text) in COMMANDS.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            out[name] = (module, help_text)
    return out


def build_parser(load: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnref",
        description="nnref: a numerically verified math reference for neural networks.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in available().items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        if name == load:
            importlib.import_module(module).configure(sp)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in available():
        command = None
    parser = build_parser(load=command)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(COMMANDS[args.command][0])
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
