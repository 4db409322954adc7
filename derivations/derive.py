"""`nnref derive`: write nnref/_generated/ and the generated docs pages from the derivations.

The work is split into units, one per registry entry and one per group of identities. A unit
derives, proves, decides, prints and plots everything about its entry; the files that list every
entry (the generated modules, the overview pages) are assembled from the units' parts. So:

* **independent units run in parallel**, one process per core (``--jobs``);
* **each unit's result is cached** under ``.nnref-cache/derive/``, keyed by the entry's own
  ``srepr``, a hash of the derivation code (every ``derivations/`` module except the two entry
  lists) and the versions of SymPy, mpmath, NumPy, SciPy and matplotlib. After one entry changes,
  only its unit runs again. The cache is never committed: delete it (or pass ``--no-cache``) and
  the bytes come out identical, which the tests check.

Every output is a pure function of the derivations, so two runs give identical bytes. SymPy's
common-subexpression elimination walks sets, whose order depends on Python's string hash salt,
so the command re-runs itself with PYTHONHASHSEED=0 when the salt is not fixed.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import sympy as sp

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
#: The entry lists: data, covered by each unit's own fingerprint rather than the code hash.
ENTRY_LISTS = ("activations.py", "losses.py")
CACHE_FORMAT = 1


# ---------------------------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """One independent piece of `nnref derive`: ``build(name)`` returns JSON-able parts."""

    kind: str  # "activation", "loss", "identities", "tables"
    name: str
    fingerprint: str  # what the unit depends on besides the derivation code

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"


def fingerprint(entry) -> str:
    """The entry's content: ``srepr`` of its expressions, ``repr`` of everything else."""
    parts = []
    for f in dataclasses.fields(entry):
        value = getattr(entry, f.name)
        parts.append(f"{f.name}={sp.srepr(value) if isinstance(value, sp.Basic) else repr(value)}")
    return "\n".join(parts)


def activation_unit(name: str) -> dict:
    from derivations import codegen, docgen
    from derivations.activations import ACTIVATIONS
    from derivations.proofs import prove_activation
    from derivations.properties import activation_properties

    entry = ACTIVATIONS[name]
    proofs, props = prove_activation(entry), activation_properties(entry)
    return {
        "files": {
            f"docs/reference/activations/{name}.md": docgen.activation_page(entry, proofs, props),
            f"docs/reference/activations/plots/{name}.svg": docgen.activation_plot(entry),
        },
        "source": codegen.activation_functions(entry),
        "metadata": codegen.metadata_entry(name, codegen.activation_metadata(entry)),
        "overview": docgen.overview_row(entry, props),
    }


def loss_unit(name: str) -> dict:
    from derivations import codegen, docgen
    from derivations.losses import LOSSES

    entry = LOSSES[name]
    return {
        "files": {f"docs/reference/losses/{name}.md": docgen.loss_page(entry)},
        "source": [] if entry.vector else codegen.loss_functions(entry),
        "metadata": codegen.metadata_entry(name, codegen.loss_metadata(entry)),
    }


def _identity_groups() -> dict[str, Callable]:
    from derivations import backprop, fused, init, neuron, softmax

    return {
        "neuron": neuron.identities,
        "backprop": backprop.identities,
        "init": init.identities,
        "fused": fused.identities,
        "softmax": softmax.identities,
    }


def identities_unit(name: str) -> dict:
    from derivations import docgen

    return {"files": {f"docs/reference/{name}_identities.md": docgen.identity_page(_identity_groups()[name]())}}


def tables_unit(name: str) -> dict:
    from derivations import tables

    return {"files": {"nnref/_generated/tables.py": tables.module_text()}}


BUILDERS: dict[str, Callable[[str], dict]] = {
    "activation": activation_unit,
    "loss": loss_unit,
    "identities": identities_unit,
    "tables": tables_unit,
}


def units() -> list[Unit]:
    from derivations.activations import ENTRIES
    from derivations.losses import ENTRIES as LOSS_ENTRIES

    out = [Unit("activation", e.name, fingerprint(e)) for e in ENTRIES]
    out += [Unit("identities", name, "") for name in _identity_groups()]
    out += [Unit("loss", e.name, fingerprint(e)) for e in LOSS_ENTRIES]
    out.append(Unit("tables", "mills", ""))
    return out


def _build(unit: Unit) -> tuple[dict, float]:
    start = time.perf_counter()
    return BUILDERS[unit.kind](unit.name), time.perf_counter() - start


# ---------------------------------------------------------------------------------------------
# The cache
# ---------------------------------------------------------------------------------------------


def code_hash() -> str:
    """A hash of every derivation module but the entry lists, and of the library versions."""
    import matplotlib
    import mpmath
    import numpy
    import scipy

    digest = hashlib.sha256()
    for path in sorted(HERE.rglob("*.py")):
        rel = path.relative_to(HERE).as_posix()
        if rel in ENTRY_LISTS:
            continue
        digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    versions = (CACHE_FORMAT, sp.__version__, mpmath.__version__, numpy.__version__, scipy.__version__)
    digest.update(repr((*versions, matplotlib.__version__, sys.version_info[:2])).encode())
    return digest.hexdigest()


class Cache:
    """One JSON file per unit, named by the hash of everything the unit's output depends on."""

    def __init__(self, folder: Path | None, code: str):
        self.folder, self.code = folder, code

    def _path(self, unit: Unit) -> Path | None:
        if self.folder is None:
            return None
        key = hashlib.sha256(f"{self.code}\n{unit.key}\n{unit.fingerprint}".encode()).hexdigest()[:32]
        return self.folder / f"{unit.kind}-{unit.name}-{key}.json"

    def get(self, unit: Unit) -> dict | None:
        path = self._path(unit)
        if path is None or not path.exists():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # a damaged entry is rebuilt, never trusted

    def put(self, unit: Unit, parts: dict) -> None:
        path = self._path(unit)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(f"{unit.kind}-{unit.name}-*.json"):
            stale.unlink(missing_ok=True)  # one version per unit: the cache does not grow
        _write_atomic(path, json.dumps(parts, sort_keys=True))


# ---------------------------------------------------------------------------------------------
# Running the units, assembling the files
# ---------------------------------------------------------------------------------------------


def run_units(all_units: list[Unit], cache: Cache, jobs: int, log: Callable[[str], None]) -> dict[str, dict]:
    """Every unit's parts: from the cache where it holds them, else built (in parallel)."""
    results: dict[str, dict] = {}
    todo = []
    for unit in all_units:
        cached = cache.get(unit)
        if cached is None:
            todo.append(unit)
        else:
            results[unit.key] = cached
    if todo:
        log(f"deriving {len(todo)} of {len(all_units)} units on {min(jobs, len(todo))} process(es)")
        if jobs > 1 and len(todo) > 1:
            with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
                built = list(pool.map(_build, todo))
        else:
            built = [_build(unit) for unit in todo]
        for unit, (parts, seconds) in zip(todo, built):
            parts = json.loads(json.dumps(parts, sort_keys=True))  # exactly what a cache hit returns
            cache.put(unit, parts)
            results[unit.key] = parts
            log(f"  {unit.key}: {seconds:.1f} s")
    return results


def assemble(all_units: list[Unit], results: dict[str, dict]) -> dict[str, str]:
    """{path relative to the repo root: text} of every generated file."""
    from derivations import codegen, docgen
    from derivations.activations import ENTRIES

    files: dict[str, str] = {}
    for unit in all_units:
        files.update(results[unit.key].get("files", {}))
    acts = [results[u.key] for u in all_units if u.kind == "activation"]
    losses = [results[u.key] for u in all_units if u.kind == "loss"]
    files["nnref/_generated/activations.py"] = codegen.module_text(
        "activations.py",
        "Elementwise activations f, f' and f'' as printed from their SymPy stable forms.",
        [part for r in acts for part in r["source"]],
        codegen.metadata_source(
            "Metadata the runtime needs without SymPy: parameters (all must be > 0), kinks, ULP bounds.",
            [r["metadata"] for r in acts],
        ),
    )
    files["nnref/_generated/losses.py"] = codegen.module_text(
        "losses.py",
        "Per-element losses and their gradients, printed from their SymPy stable forms.\n\n"
        "nnref.losses sums them over units, averages over the m examples (columns) and divides the\n"
        "gradient by m, so that it is the exact gradient of the returned cost.",
        [part for r in losses for part in r["source"]],
        codegen.metadata_source(
            "Metadata the runtime needs without SymPy: parameters, and the domain as kinds the runtime checks.",
            [r["metadata"] for r in losses],
        ),
    )
    files["nnref/_generated/__init__.py"] = (
        codegen.HEADER.format(source="")
        + '"""Code printed from the derivations. Imported by nnref.activations and nnref.losses."""\n'
    )
    files["docs/reference/activations/index.md"] = docgen.overview_page([r["overview"] for r in acts], ENTRIES)
    files["docs/reference/activations/softmax.md"] = docgen.softmax_page()
    from derivations.losses import ENTRIES as LOSS_ENTRIES

    files["docs/reference/losses/index.md"] = docgen.losses_overview(LOSS_ENTRIES)
    files["docs/reference/custom_vocabulary.md"] = docgen.custom_vocabulary(ENTRIES)
    return {path: (text if text.endswith("\n") else text + "\n") for path, text in sorted(files.items())}


def render_all(
    jobs: int | None = None, cache_dir: Path | None = None, log: Callable[[str], None] = print
) -> dict[str, str]:
    """Every generated file: {path relative to the repo root: text}."""
    all_units = units()
    cache = Cache(cache_dir, code_hash())
    results = run_units(all_units, cache, jobs or _cores(), log)
    return assemble(all_units, results)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


# ---------------------------------------------------------------------------------------------
# Writing and checking
# ---------------------------------------------------------------------------------------------


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: Where generated files live, and the mark each carries in its first lines.
GENERATED_FOLDERS = ("nnref/_generated", "docs/reference")
MARK = "Generated by `nnref derive`"


def orphans(files: dict[str, str], root: Path) -> list[str]:
    """Files `nnref derive` wrote once and writes no more (an entry renamed or removed)."""
    out = []
    for folder in GENERATED_FOLDERS:
        for path in sorted((root / folder).rglob("*")) if (root / folder).is_dir() else ():
            rel = path.relative_to(root).as_posix()
            if path.is_file() and rel not in files and "__pycache__" not in rel:
                with path.open(encoding="utf-8", errors="replace") as fh:
                    if MARK in fh.read(600):
                        out.append(rel)
    return out


def stale_files(files: dict[str, str], root: Path) -> list[str]:
    """The generated files whose text under root differs from what `nnref derive` writes."""
    return [
        rel
        for rel, text in files.items()
        if not (root / rel).exists() or (root / rel).read_text(encoding="utf-8") != text
    ]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and name the files if the committed output differs",
    )
    parser.add_argument("--diff", action="store_true", help="with --check, also print a unified diff")
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="write under this folder instead of the repository (default: %(default)s)",
    )
    parser.add_argument(
        "--jobs", type=int, default=None, metavar="N", help="processes to derive with (default: one per core)"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        metavar="DIR",
        help="where each unit's result is kept between runs (default: ROOT/.nnref-cache/derive)",
    )
    parser.add_argument("--no-cache", action="store_true", help="derive everything again and keep nothing")
    parser.add_argument("--quiet", action="store_true", help="print only the result")


def run(args: argparse.Namespace) -> int:
    if args.root == ROOT and not (ROOT / "pyproject.toml").is_file():
        print(
            f"nnref derive: error: it regenerates the files of a source checkout, and this nnref is installed "
            f"in {ROOT}: run it in a clone of the repository, or give --root DIR",
            file=sys.stderr,
        )
        return 2
    root = args.root.resolve()
    if not root.is_dir():
        print(f"nnref derive: error: --root {str(args.root)!r} is not a folder", file=sys.stderr)
        return 2
    if args.jobs is not None and args.jobs < 1:
        print(f"nnref derive: error: --jobs must be a whole number ≥ 1, got {args.jobs}", file=sys.stderr)
        return 2
    if os.environ.get("PYTHONHASHSEED") != "0":
        env = dict(os.environ, PYTHONHASHSEED="0")
        argv = [sys.executable, "-m", "derivations", "--root", str(root)]
        argv += ["--check"] * args.check + ["--diff"] * args.diff + ["--no-cache"] * args.no_cache
        argv += ["--quiet"] * args.quiet + (["--jobs", str(args.jobs)] if args.jobs else [])
        argv += ["--cache", str(args.cache)] if args.cache else []
        return subprocess.call(argv, env=env)
    cache_dir = None if args.no_cache else (args.cache or root / ".nnref-cache" / "derive")
    log = (lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr, flush=True))
    files = render_all(args.jobs, cache_dir, log)
    stale, gone = stale_files(files, root), orphans(files, root)
    if args.check:
        if stale or gone:
            print("nnref derive --check: these generated files differ from what `nnref derive` writes:")
            for rel in gone:
                print(f"  {rel} (no longer generated)")
            for rel in stale:
                print(f"  {rel}")
                if args.diff:
                    path = root / rel
                    old = path.read_text(encoding="utf-8").splitlines(keepends=True) if path.exists() else []
                    new = files[rel].splitlines(keepends=True)
                    sys.stdout.writelines(difflib.unified_diff(old, new, f"a/{rel}", f"b/{rel}"))
            print("Run `nnref derive` and commit the result.")
            return 1
        print(f"nnref derive --check: all {len(files)} generated files are up to date.")
        return 0
    for rel in stale:
        _write_atomic(root / rel, files[rel])
    for rel in gone:
        (root / rel).unlink()
    print(f"nnref derive: {len(stale)} of {len(files)} generated files changed under {root}")
    for rel in stale:
        print(f"  wrote {rel}")
    for rel in gone:
        print(f"  removed {rel} (it carried the mark of `nnref derive`, which no longer writes it)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m derivations", description=__doc__)
    configure(parser)
    return run(parser.parse_args(argv))
