"""Measures nnref's speed against plain NumPy, numexpr and PyTorch: `python -m bench.speed`.

Writes docs/reference/performance.md (and the bar chart docs/reference/performance/elementwise.svg):

- the elementwise activations: nnref's generated f, f_df and f-then-df against the textbook NumPy form,
  the best hand-written NumPy/SciPy form, numexpr and PyTorch CPU, as time per element and as a
  multiple of ``np.copyto`` on the same array (the memory floor), float32 and float64;
- one full-batch training step of a 784-256-128-10 MLP: nnref.MLP, the same step hand-written in
  NumPy, and PyTorch autograd with SGD, plus the GEMM throughput for context;
- the cost of ``import nnref`` in a fresh interpreter and, with --regeneration (or in the full
  default run), of ``nnref derive`` into a temporary folder and ``mkdocs build``;
- the performance targets, each MET or MISSED.

Every table is a ratio of medians measured side by side in one process: the candidates are
interleaved in every repeat (in a rotating order), so a noisy machine slows them all alike.

    python -m bench.speed                    # everything (several minutes)
    python -m bench.speed --quick            # sizes up to 1e6, 3 repeats, no regeneration
    python -m bench.speed --no-regeneration  # the full run without `nnref derive` and `mkdocs build`
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy
import scipy.special

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "reference"
HEADER = "<!-- Written by `python -m bench.speed` (measurements: rerun it to refresh). -->\n"
ACTIVATIONS = ("sigmoid", "tanh", "softplus", "gelu", "silu", "mish", "elu")
SIZES = (10**4, 10**6, 10**7)
QUICK_CAP = 10**6
LAYERS = (784, 256, 128, 10)
EXAMPLES = 10_000
LR = 0.01
INV_SQRT2 = 1 / math.sqrt(2)  # Python floats: weak scalars that keep float32 arrays float32
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)

# Targets: (ratio limit) for each comparison.
F_VS_TEXTBOOK = 1.3
F_DF_VS_F = 1.4
STEP_VS_NUMPY = 1.05
IMPORT_MS = 150.0
DERIVE_S = 20.0
MKDOCS_S = 30.0
TARGET_MIN_SIZE = 10**6  # elementwise targets are checked at every measured size from here up
NOISY = 0.25  # a cell is marked when its repeats' interquartile range exceeds this fraction of the median

# Candidate keys, in table order, with their column headings.
COLUMNS = {
    "nnref_f": "nnref f",
    "nnref_f_df": "nnref f_df",
    "nnref_f_then_df": "nnref f then df",
    "textbook_f": "textbook f",
    "textbook_f_df": "textbook f+f'",
    "best_f": "best NumPy/SciPy f",
    "numexpr_f": "numexpr f",
    "torch_f": "PyTorch f",
}


# ---------------------------------------------------------------------------------------------
# The forms compared
# ---------------------------------------------------------------------------------------------


def _quiet(fn: Callable) -> Callable:
    """fn under np.errstate(over/under="ignore"), as nnref's own calls are."""

    def wrapped(x):
        with np.errstate(over="ignore", under="ignore"):
            return fn(x)

    return wrapped


def _textbook_f_df(name: str) -> Callable:
    """The textbook f and f' together, sharing the obvious subexpression (s, t, e^x, ...)."""

    def sigmoid(x):
        s = 1 / (1 + np.exp(-x))
        return s, s * (1 - s)

    def tanh(x):
        t = np.tanh(x)
        return t, 1 - t * t

    def softplus(x):
        e = np.exp(x)
        return np.log(1 + e), e / (1 + e)

    def gelu(x):
        c = 0.5 * (1 + scipy.special.erf(x * INV_SQRT2))
        return x * c, c + x * np.exp(-0.5 * x * x) * INV_SQRT_2PI

    def silu(x):
        s = 1 / (1 + np.exp(-x))
        return x * s, s * (1 + x * (1 - s))

    def mish(x):
        e = np.exp(x)
        t = np.tanh(np.log(1 + e))
        return x * t, t + x * (1 - t * t) * e / (1 + e)

    def elu(x):
        e = np.exp(x)
        return np.where(x > 0, x, e - 1), np.where(x > 0, 1.0, e)

    return _quiet(locals()[name])


TEXTBOOK_F = {
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "softplus": lambda x: np.log(1 + np.exp(x)),
    "gelu": lambda x: 0.5 * x * (1 + scipy.special.erf(x * INV_SQRT2)),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "mish": lambda x: x * np.tanh(np.log(1 + np.exp(x))),
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1),
}

BEST_F = {
    "sigmoid": scipy.special.expit,
    "tanh": np.tanh,
    "softplus": lambda x: np.logaddexp(0, x),
    "gelu": lambda x: x * scipy.special.ndtr(x),
    "silu": lambda x: x * scipy.special.expit(x),
    "mish": lambda x: x * np.tanh(np.logaddexp(0, x)),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
}
BEST_NOTE = {
    "sigmoid": "scipy.special.expit(x)",
    "tanh": "np.tanh(x)",
    "softplus": "np.logaddexp(0, x)",
    "gelu": "x * scipy.special.ndtr(x)",
    "silu": "x * scipy.special.expit(x)",
    "mish": "x * np.tanh(np.logaddexp(0, x))",
    "elu": "np.where(x > 0, x, np.expm1(x))",
}

# numexpr has no erf, so GELU has no numexpr form.
NUMEXPR_F = {
    "sigmoid": "1 / (1 + exp(-x))",
    "tanh": "tanh(x)",
    "softplus": "log(1 + exp(x))",
    "gelu": None,
    "silu": "x / (1 + exp(-x))",
    "mish": "x * tanh(log(1 + exp(x)))",
    "elu": "where(x > 0, x, exp(x) - 1)",
}


def _torch_f(name: str):
    """The entry's PyTorch twin as a function of a tensor (derivations/activations.py)."""
    import torch
    import torch.nn.functional as F

    from derivations.activations import ACTIVATIONS

    twin, params = ACTIVATIONS[name].twin, ACTIVATIONS[name].params
    return lambda x: twin.call(twin.torch, {"torch": torch, "F": F}, x, params=params)


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------


def _time(fn: Callable[[], object], number: int) -> float:
    """Seconds for `number` calls, with the garbage collector off (as timeit does)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def _calibrate(fn: Callable[[], object], min_time: float) -> int:
    """timeit's autorange: the number of calls that takes at least min_time (after one warm-up)."""
    fn()
    number = 1
    while True:
        elapsed = _time(fn, number)
        if elapsed >= min_time or number >= 1_000_000:
            return number
        number = max(2 * number, math.ceil(number * 1.2 * min_time / max(elapsed, 1e-9)))


def measure(
    candidates: dict[str, Callable[[], object]], repeats: int, min_time: float, stats: dict | None = None
) -> dict[str, float]:
    """The median seconds per call of every candidate, interleaved in each repeat (rotating order).

    If `stats` is given it receives, per candidate, the interquartile range of the repeats relative
    to the median ("spread").
    """
    numbers = {name: _calibrate(fn, min_time) for name, fn in candidates.items()}
    names = list(candidates)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            samples[name].append(_time(candidates[name], numbers[name]) / numbers[name])
    medians = {name: statistics.median(values) for name, values in samples.items()}
    if stats is not None:
        for name, values in samples.items():
            q1, _, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else (values[0],) * 3
            stats[name] = {"spread": (q3 - q1) / medians[name]}
    return medians


def _run_seconds(argv: list[str], env: dict | None = None) -> tuple[float, int, str]:
    """Wall time of a subprocess run from the repository root: (seconds, exit code, its output)."""
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    return elapsed, proc.returncode, (proc.stdout + "\n" + proc.stderr).strip()


def _why(output: str) -> str:
    """The gist of a failed command's output: its verdict line and its first warning or error."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    verdict = [line for line in lines if line.startswith(("Aborted", "Error", "ERROR"))][-1:] or lines[-1:]
    first = [line for line in lines if line.startswith(("WARNING", "ERROR"))][:1]
    return "; first: ".join(dict.fromkeys(verdict + first))[:400].replace("|", "/")  # it goes in a table cell


# ---------------------------------------------------------------------------------------------
# Elementwise activations
# ---------------------------------------------------------------------------------------------


def _check_agree(name: str, x: np.ndarray, candidates: dict[str, Callable], reference) -> None:
    """Every form computes the same function (loosely: the textbook forms lose accuracy in the tails)."""
    f_ref, d_ref = (np.asarray(v, dtype=np.float64) for v in reference)
    for key, fn in candidates.items():
        if key == "copyto":
            continue
        out = fn()
        pairs = [(out[0], f_ref), (out[1], d_ref)] if isinstance(out, tuple) else [(out, f_ref)]
        for got, want in pairs:
            got = np.asarray(got.numpy() if hasattr(got, "numpy") else got, dtype=np.float64)
            if got.shape != want.shape or not np.allclose(got, want, rtol=1e-3, atol=1e-5):
                raise RuntimeError(f"{name}: the {COLUMNS.get(key, key)} form disagrees with nnref on {x.dtype}")


def elementwise(sizes, dtypes, repeats: int, min_time: float, progress, stats: dict) -> dict:
    """{(dtype name, n, activation): {candidate: median seconds per call}}; `stats` gets measure's stats."""
    import numexpr
    import torch

    from nnref import activations

    results = {}
    for dtype in dtypes:
        for n in sizes:
            x = np.random.default_rng(0).standard_normal(n).astype(dtype) * dtype(5)
            out = np.empty_like(x)
            xt = torch.from_numpy(x)
            for name in ACTIVATIONS:
                act = activations.get(name)
                textbook_f, textbook_f_df = _quiet(TEXTBOOK_F[name]), _textbook_f_df(name)
                best, tf = _quiet(BEST_F[name]), _torch_f(name)
                cands: dict[str, Callable[[], object]] = {
                    "nnref_f": lambda act=act, x=x: act.f(x),
                    "nnref_f_df": lambda act=act, x=x: act.f_df(x),
                    "nnref_f_then_df": lambda act=act, x=x: (act.f(x), act.df(x)),
                    "textbook_f": lambda g=textbook_f, x=x: g(x),
                    "textbook_f_df": lambda g=textbook_f_df, x=x: g(x),
                    "best_f": lambda g=best, x=x: g(x),
                    "control": lambda g=best, x=x: g(x),  # best_f again: identical calls, for the control line
                    "torch_f": lambda g=tf, xt=xt: g(xt),
                    "copyto": lambda out=out, x=x: np.copyto(out, x),
                }
                if NUMEXPR_F[name]:
                    cands["numexpr_f"] = lambda e=NUMEXPR_F[name], x=x: numexpr.evaluate(e, local_dict={"x": x})
                k = min(n, 10_000)
                _check_agree(name, x, _on_prefix(cands, x, xt, k, act, name), (act.f(x[:k]), act.df(x[:k])))
                key = (np.dtype(dtype).name, n, name)
                stats[key] = {}
                results[key] = measure(cands, repeats, min_time, stats[key])
                progress(f"  {np.dtype(dtype).name} n = {_n(n)} {name}: done")
    return results


def _on_prefix(cands: dict, x: np.ndarray, xt, k: int, act, name: str) -> dict:
    """The same candidates evaluated on the first k elements, for the agreement check."""
    import numexpr

    xs = x[:k].copy()
    ts = xt[:k].clone()
    checks = {
        "nnref_f_df": lambda: act.f_df(xs),
        "textbook_f": lambda: _quiet(TEXTBOOK_F[name])(xs),
        "textbook_f_df": lambda: _textbook_f_df(name)(xs),
        "best_f": lambda: _quiet(BEST_F[name])(xs),
        "torch_f": lambda: _torch_f(name)(ts),
    }
    if "numexpr_f" in cands:
        checks["numexpr_f"] = lambda: numexpr.evaluate(NUMEXPR_F[name], local_dict={"x": xs})
    return checks


# ---------------------------------------------------------------------------------------------
# The MLP training step
# ---------------------------------------------------------------------------------------------


def _numpy_step(P: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray, lr: float) -> None:
    """One full-batch gradient-descent step, hand-written: relu hidden layers, softmax cross-entropy."""
    m = X.shape[1]
    Z1 = P["W1"] @ X + P["b1"]
    A1 = np.maximum(Z1, 0)
    Z2 = P["W2"] @ A1 + P["b2"]
    A2 = np.maximum(Z2, 0)
    Z3 = P["W3"] @ A2 + P["b3"]
    E = np.exp(Z3 - Z3.max(axis=0, keepdims=True))
    dZ3 = (E / E.sum(axis=0, keepdims=True) - Y) / m  # softmax-CE fused: (p - y)/m
    dW3 = dZ3 @ A2.T
    db3 = dZ3.sum(axis=1, keepdims=True)
    dZ2 = (P["W3"].T @ dZ3) * (Z2 > 0)
    dW2 = dZ2 @ A1.T
    db2 = dZ2.sum(axis=1, keepdims=True)
    dZ1 = (P["W2"].T @ dZ2) * (Z1 > 0)
    dW1 = dZ1 @ X.T
    db1 = dZ1.sum(axis=1, keepdims=True)
    for key, grad in (("W1", dW1), ("b1", db1), ("W2", dW2), ("b2", db2), ("W3", dW3), ("b3", db3)):
        P[key] -= lr * grad


def _torch_step(params, opt, X, labels) -> None:
    import torch
    import torch.nn.functional as F

    W1, b1, W2, b2, W3, b3 = params
    A1 = torch.relu(torch.addmm(b1, W1, X))
    A2 = torch.relu(torch.addmm(b2, W2, A1))
    loss = F.cross_entropy(torch.addmm(b3, W3, A2).T, labels)  # the mean over the m examples
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def training(m: int, repeats: int, min_time: float) -> dict:
    """Median seconds of one training step (nnref, hand-written NumPy, PyTorch) and of the GEMM."""
    import torch

    from nnref.mlp import MLP

    rng = np.random.default_rng(0)
    X = rng.standard_normal((LAYERS[0], m))
    y = rng.integers(0, LAYERS[-1], m)
    Y = np.eye(LAYERS[-1])[:, y]

    def model(**kw):
        return MLP(list(LAYERS), activation="relu", loss="softmax_cross_entropy", optimizer="gd", lr=LR, seed=0, **kw)

    core, public, fitted = model(), model(), model(epochs=1)
    hand = {k: v.copy() for k, v in core.params.items()}
    keys = [f"{p}{l}" for l in range(1, len(LAYERS)) for p in "Wb"]
    tparams = [torch.tensor(core.params[k], requires_grad=True) for k in keys]
    opt = torch.optim.SGD(tparams, lr=LR)
    Xt, labels = torch.from_numpy(X), torch.from_numpy(y)

    # In place, as MLP.fit updates its parameters.
    def nnref_core():
        for k, g in core._gradients(X, Y).items():
            core.params[k] -= LR * g

    def nnref_public():
        for k, g in public.gradients(X, y).items():
            public.params[k] -= LR * g

    cands = {
        "numpy": lambda: _numpy_step(hand, X, Y, LR),
        "nnref": nnref_core,
        "nnref_public": nnref_public,
        "nnref_fit": lambda: fitted.fit(X, y),
        "torch": lambda: _torch_step(tparams, opt, Xt, labels),
    }
    # All five take the same step from the same weights: check once before timing.
    for fn in cands.values():
        fn()
    for i, k in enumerate(keys):
        want = hand[k]
        for label, got in (
            ("nnref", core.params[k]),
            ("nnref.gradients", public.params[k]),
            ("nnref.fit", fitted.params[k]),
            ("PyTorch", tparams[i].detach().numpy()),
        ):
            if not np.allclose(got, want, rtol=1e-6, atol=1e-9):
                raise RuntimeError(f"the {label} training step differs from the hand-written one on {k}")
    step = measure(cands, repeats, min_time)

    W = core.params["W1"]
    gemm = {}
    for dtype in (np.float64, np.float32):
        A, B = W.astype(dtype), X.astype(dtype)
        At, Bt = torch.from_numpy(A), torch.from_numpy(B)
        gemm_cands = {"numpy": lambda A=A, B=B: A @ B, "torch": lambda At=At, Bt=Bt: At @ Bt}
        for lib, sec in measure(gemm_cands, repeats, min_time).items():
            gemm[(np.dtype(dtype).name, lib)] = sec
    flops = 2.0 * LAYERS[1] * LAYERS[0] * m
    return {"m": m, "step": step, "gemm": gemm, "flops": flops}


# ---------------------------------------------------------------------------------------------
# Import and regeneration
# ---------------------------------------------------------------------------------------------

IMPORTS = {
    "import nnref": "import nnref",
    "import nnref.activations": "import nnref.activations",
    "from nnref import MLP": "from nnref import MLP",
}


def import_cost(runs: int) -> dict[str, float]:
    """Median wall seconds of `python -c STMT` minus `python -c pass`, interleaved, fresh interpreters."""
    stmts = {"pass": "pass", **IMPORTS}
    samples: dict[str, list[float]] = {k: [] for k in stmts}
    names = list(stmts)
    for r in range(runs + 1):  # the first round only warms the file cache
        k = r % len(names)
        for name in names[k:] + names[:k]:
            seconds, code, err = _run_seconds([sys.executable, "-c", stmts[name]])
            if code:
                raise RuntimeError(f"`python -c {stmts[name]!r}` failed: {_why(err)}")
            if r:
                samples[name].append(seconds)
    base = statistics.median(samples["pass"])
    out = {name: statistics.median(v) - base for name, v in samples.items() if name != "pass"}
    out["pass"] = base
    return out


def regeneration(runs: int, progress, which=("derive", "mkdocs")) -> dict[str, tuple[float | None, str]]:
    """Median seconds of `nnref derive --root TMP` and `mkdocs build --site-dir TMP`, or why it failed."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}  # as a user runs it
    commands = {
        "derive": lambda tmp: [sys.executable, "-m", "nnref", "derive", "--root", str(tmp)],
        "mkdocs": lambda tmp: [sys.executable, "-m", "mkdocs", "build", "--site-dir", str(tmp / "site")],
    }
    commands = {k: v for k, v in commands.items() if k in which}
    samples: dict[str, list[float]] = {k: [] for k in commands}
    failed: dict[str, str] = {}
    for r in range(runs):
        for name, argv in commands.items():
            if name in failed:
                continue
            tmp = Path(tempfile.mkdtemp(prefix=f"nnref-speed-{name}-"))
            try:
                seconds, code, err = _run_seconds(argv(tmp), env=env)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            if code:
                failed[name] = f"failed (exit {code}): {_why(err)}"
            else:
                samples[name].append(seconds)
            progress(f"  {name} run {r + 1}: {seconds:.1f} s" + (f" {failed[name]}" if name in failed else ""))
    return {k: (None, failed[k]) if k in failed else (statistics.median(v), "") for k, v in samples.items()}


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------


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


def _n(n: int) -> str:
    """1e6 for a power of ten, 12,345 otherwise."""
    k = round(math.log10(n))
    return f"1e{k}" if 10**k == n else f"{n:,}"


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
            shown = ", ".join(f"{d} {_n(n)}: {r:.2f}×" for (d, n), r in zip(cases, ratios))
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
    ax.set_title(f"float64, n = {_n(n)}: each form as a multiple of np.copyto on the same array")
    ax.set_ylim(bottom=1)
    ax.legend(frameon=False, fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.09))
    ax.grid(alpha=0.3, axis="y")
    path.parent.mkdir(parents=True, exist_ok=True)
    header = HEADER.replace("<!--", "<!-- figure:")
    path.write_text(svg_text(fig, header), encoding="utf-8")


def page(args, elem, stats, train, imports, regen, sizes, dtypes, rows, wall: float, fig_rel: str | None) -> str:
    lines = [HEADER, "# Performance", ""]
    lines += [
        "How fast nnref's generated NumPy code is, next to the textbook NumPy formula, the best hand-written "
        "NumPy/SciPy form, numexpr and PyTorch on the CPU. Every figure is the median of "
        f"{args.repeats} repeats (each repeat times enough calls to last at least {args.min_time * 1e3:.0f} ms, "
        "timeit style); the candidates of one table row are interleaved in every repeat, in a rotating order, "
        "so a noisy, shared machine slows them all alike, and only ratios measured side by side in one process "
        "are compared. Elementwise times are a multiple of `np.copyto(out, x)` on the same array (the memory "
        "floor: one read and one write), followed by the time per element. Inputs are `randn × 5` with a fixed "
        "seed. "
        + (
            "At n = 1e7 every temporary array is fresh memory (glibc maps blocks that large from the kernel and "
            "unmaps them when freed), so those times include page faults and huge-page allocation, which vary "
            "from run to run. "
            if max(sizes) >= 10**7
            else ""
        )
        + f"A cell is marked † when its repeats' interquartile range exceeds {NOISY:.0%} of the median. The "
        '"Control" line under each table gives its resolution: the best NumPy/SciPy f column is timed a second '
        "time as a separate candidate making the very same calls, and two cells closer than those two are not told "
        "apart (a difference that persists over the repeats comes with the candidate, not the moment: most likely "
        "where its large arrays land, a reused heap block or fresh memory the kernel must map). "
        f"nnref's block pool, numexpr, PyTorch and the BLAS under NumPy all use {args.threads} thread(s) "
        "(`NNREF_THREADS`, `numexpr.set_num_threads`, `torch.set_num_threads`, threadpoolctl); NumPy's and SciPy's "
        "ufuncs use one. "
        "Regenerate this page with `python -m bench.speed` (see `--help`)"
        + ("; this one was written by a `--quick` run." if args.quick else "."),
        "",
        "Machine:",
        "",
        *machine(),
        "",
        "Columns: **nnref f**, **nnref f_df** and **nnref f then df** are `nnref.activations.get(name).f(x)`, "
        "`.f_df(x)` and `.f(x)` followed by `.df(x)`; **textbook f** is the formula as printed in a textbook "
        "(`1/(1+np.exp(-x))`, `np.log(1+np.exp(x))`, `0.5*x*(1+erf(x/√2))`, ...), **textbook f+f'** computes f' "
        "from the same intermediate (`s*(1-s)`, `1-t*t`, ...); **best NumPy/SciPy f** is the stable hand-written "
        "form (below); **numexpr f** evaluates the textbook string (numexpr has no erf, so no GELU); **PyTorch f** "
        "is `torch.sigmoid`, `F.softplus`, `F.gelu`, ... on `torch.from_numpy(x)`.",
        "",
        "| activation | best NumPy/SciPy f |",
        "|---|---|",
        *(f"| {name} | `{BEST_NOTE[name]}` |" for name in ACTIVATIONS),
        "",
        "## Elementwise activations",
        "",
    ]
    if fig_rel:
        lines += [f"![Each form's time as a multiple of np.copyto, float64]({fig_rel})", ""]
    for dtype in dtypes:
        d = np.dtype(dtype).name
        for n in sizes:
            copy = statistics.median(elem[(d, n, name)]["copyto"] for name in ACTIVATIONS)
            lines += [f"### {d}, n = {_n(n)}", ""]
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
    lines += ["## Training step", ""]
    if train:
        s, m = train["step"], train["m"]
        labels = {
            "numpy": "hand-written NumPy (Z = W@A + b, relu, fused softmax-CE (p − y)/m, backprop, in-place update)",
            "nnref": "nnref: `MLP._gradients(X, Y)` + update (the step inside `fit`)",
            "nnref_public": "nnref: `MLP.gradients(X, y)` + update (validates X and y every call)",
            "nnref_fit": "nnref: `MLP.fit(X, y)` with `epochs=1`, `optimizer='gd'` (one step, plus fit's checks)",
            "torch": "PyTorch CPU (addmm, relu, `F.cross_entropy`, autograd, `torch.optim.SGD`)",
        }
        lines += [
            f"One full-batch forward + backward + gradient-descent update of a {'-'.join(map(str, LAYERS))} network "
            f"(relu hidden layers, softmax cross-entropy) on {m:,} random examples, float64 (nnref.MLP computes in "
            f"float64 only: `fit` and `gradients` convert X), lr = {LR}, all from the same weights (checked to "
            f"agree after one step). {args.threads} thread(s) for the BLAS, PyTorch and nnref's block pool.",
            "",
            "| implementation | median time | × hand-written NumPy | × PyTorch |",
            "|---|---:|---:|---:|",
        ]
        for key, label in labels.items():
            lines.append(
                f"| {label} | {s[key] * 1e3:.1f} ms | {s[key] / s['numpy']:.2f}× | {s[key] / s['torch']:.2f}× |"
            )
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
        lines.append("")
    else:
        lines += ["Not measured in this run.", ""]
    lines += ["## Import and regeneration", ""]
    lines += ["| what | median |", "|---|---:|"]
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
    lines += [
        "",
        f"Imports: median of {args.import_runs} fresh interpreters each, interleaved. `import nnref` loads its "
        "submodules lazily, so the first use of `nnref.activations` or `nnref.MLP` pays for NumPy and SciPy."
        + (f" Regeneration: median of {args.regeneration_runs} run(s)." if regen else ""),
        "",
        "## Targets",
        "",
        f"Elementwise targets are checked at every measured size from n = {_n(TARGET_MIN_SIZE)} up, for both "
        "dtypes, and are MET only if every one of those ratios is; at n = 1e4 the fixed cost of a call dominates. "
        "Two times closer than the control line under their table (identical calls differing by up to "
        + ", ".join(
            f"{control(elem, np.dtype(d).name, n)[2] * 1e9:.2f} ns per element at {np.dtype(d).name} {_n(n)}"
            for d in dtypes
            for n in sizes
            if n >= TARGET_MIN_SIZE
        )
        + ") are not told apart by this machine.",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        *(f"| {t} | {m} | **{v}** |" for t, m, v in rows),
        "",
        f"The whole run took {wall:.0f} s.",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------


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
        progress(f"elementwise activations, sizes {', '.join(map(_n, sizes))}, {args.threads} thread(s)")
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
