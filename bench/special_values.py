"""What the special-values contract costs: every activation's generated f and f' timed with the
guard it returns through (``nnref._primitives.special_values``), without it, and with the obvious
alternative, ``numpy.where(numpy.isnan(z), z, value)`` (which would still leave ±inf wrong).

    python -m bench.special_values            # writes docs/reference/special_values_cost.md

Each is timed on one block of the runtime (``nnref._blockwise.BLOCK`` float64 elements of randn × 5, the size the
runtime hands a kernel on a large array) by bench.speed's interleaved median of repeats.
"""

from __future__ import annotations

import argparse
import inspect
import statistics
from pathlib import Path

import numpy as np

from bench.speed.timing import measure
from nnref._blockwise import BLOCK

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "reference" / "special_values_cost.md"
HEADER = "<!-- Written by `python -m bench.special_values` (measurements: rerun it to refresh). -->\n"
#: Below this (seconds) the unguarded function returns its input or a constant.
NO_WORK = 1e-6


def _unguarded(entry, which: str):
    """The generated function printed without the guard: what the code computed before it, run
    in a copy of the generated module's namespace (its Taylor tables)."""
    from derivations.codegen import function_source
    from nnref._generated import activations as gen

    name = f"{entry.name}_{which}"
    source = function_source(name, [entry.code(which)], entry.params, "unguarded")
    scope = dict(vars(gen))
    exec(source, scope)  # noqa: S102 - the project's own printer output
    return scope[name]


def rows(repeats: int, min_time: float) -> list[tuple[str, str, float, float, float]]:
    import scipy.special  # noqa: F401

    from derivations.activations import ENTRIES
    from nnref._generated import activations as gen

    z = np.random.default_rng(0).standard_normal(BLOCK) * 5
    out = []
    for entry in ENTRIES:
        for which in ("f", "df"):
            bare, guarded = _unguarded(entry, which), getattr(gen, f"{entry.name}_{which}")
            times = measure(
                {
                    "bare": lambda bare=bare: bare(z),
                    "guard": lambda guarded=guarded: guarded(z),
                    "where": lambda bare=bare: np.where(np.isnan(z), z, bare(z)),
                },
                repeats,
                min_time,
            )
            printed = "special_values" in inspect.getsource(guarded)
            out.append((entry.name, which, times["bare"], times["guard"], times["where"], printed))
    return out


def page(table: list[tuple[str, str, float, float, float]]) -> str:
    lines = [
        HEADER,
        "| activation | | without a guard | as generated | with `where(isnan(z), z, …)` |",
        "|---|---|---|---|---|",
    ]
    for name, which, bare, guard, where, guarded in table:
        label = "f" if which == "f" else "f′"
        mark = "" if guarded else " (no guard needed)"
        if bare < NO_WORK:  # returns z itself or a constant: there is no work to compare with
            lines.append(
                f"| {name} | {label} | (returns z or a constant) | {guard * 1e6:.1f} µs{mark} | {where * 1e6:.1f} µs |"
            )
            continue
        lines.append(
            f"| {name} | {label} | {bare * 1e6:.1f} µs | {guard * 1e6:.1f} µs ({guard / bare - 1:+.0%}){mark} | "
            f"{where * 1e6:.1f} µs ({where / bare - 1:+.0%}) |"
        )
    working = [row for row in table if row[2] >= NO_WORK and row[5]]
    guard = statistics.median(g / b - 1 for _, _, b, g, _, _ in working)
    where = statistics.median(w / b - 1 for _, _, b, _, w, _ in working)
    worst = max(working, key=lambda row: row[3] / row[2])
    free = sum(1 for row in table if not row[5])
    lines.append(
        f"\n{free} of the {len(table)} functions need no guard (`nnref derive` ran their code on NaN and ±∞). "
        f"Median over the {len(working)} guarded rows that compute something: the guard adds {guard:+.0%}, "
        f"`where(isnan(z), z, …)` {where:+.0%}. The guard costs most, relatively, on the cheapest function "
        f"({worst[0]} {'f' if worst[1] == 'f' else 'f′'}: {worst[3] / worst[2] - 1:+.0%}), and about one "
        f"pass over z ({table[1][3] * 1e6:.1f} µs, identity's f′, a constant) in absolute terms. One block of "
        f"{BLOCK:,} float64 elements; each figure is the median of interleaved repeats on a shared machine, "
        "so differences of a few per cent are noise.\n"
    )
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--min-time", type=float, default=0.02)
    args = parser.parse_args(argv)
    text = page(rows(args.repeats, args.min_time))
    OUT.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
