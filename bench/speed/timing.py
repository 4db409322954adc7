"""How bench.speed times: calls interleaved in a rotating order, repeats, medians; the elementwise
kernels, one training step, the import cost and the regeneration commands."""

from __future__ import annotations

import gc
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.speed.candidates import BEST_F, TEXTBOOK_F, quiet, textbook_f_df, torch_f, torch_f_df
from bench.speed.settings import ACTIVATIONS, COLUMNS, LAYERS, LR, MULTI_THREADED, ROOT, n_label


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


def _threads(n: int) -> None:
    """n threads for nnref's block pool and PyTorch (NumPy's ufuncs always use one)."""
    import torch

    os.environ["NNREF_THREADS"] = str(n)
    torch.set_num_threads(n)


def _candidates(name: str, x: np.ndarray, out: np.ndarray, keys) -> dict[str, Callable[[], object]]:
    import torch

    from nnref import activations

    act = activations.get(name)
    textbook_f, textbook_pair = quiet(TEXTBOOK_F[name]), textbook_f_df(name)
    best, tf, tfd = quiet(BEST_F[name]), torch_f(name), torch_f_df(name)
    xt = torch.from_numpy(x)
    every = {
        "nnref_f": lambda: act.f(x),
        "nnref_f_df": lambda: act.f_df(x),
        "nnref_f_then_df": lambda: (act.f(x), act.df(x)),
        "textbook_f": lambda: textbook_f(x),
        "textbook_f_df": lambda: textbook_pair(x),
        "best_f": lambda: best(x),
        "control": lambda: best(x),  # best_f again: identical calls, for the control line
        "torch_f": lambda: tf(xt),
        "torch_f_df": lambda: tfd(xt),
        "copyto": lambda: np.copyto(out, x),
    }
    return {k: every[k] for k in keys}


def elementwise(conditions, repeats: int, min_time: float, progress, stats: dict) -> dict:
    """{(threads, dtype name, n, activation): {candidate: median seconds per call}} for each
    condition (threads, dtype, n); `stats` gets measure's stats under the same keys."""
    from nnref import activations

    results = {}
    for threads, dtype, n in conditions:
        _threads(threads)
        x = np.random.default_rng(0).standard_normal(n).astype(dtype) * dtype(5)
        out = np.empty_like(x)
        keys = list(COLUMNS) + ["control", "copyto"] if threads == 1 else list(MULTI_THREADED)
        for name in ACTIVATIONS:
            cands = _candidates(name, x, out, keys)
            k = min(n, 10_000)
            act = activations.get(name)
            small = _candidates(name, x[:k].copy(), np.empty(k, dtype=dtype), keys)
            _check_agree(name, x, small, (act.f(x[:k]), act.df(x[:k])))
            key = (threads, np.dtype(dtype).name, n, name)
            stats[key] = {}
            results[key] = measure(cands, repeats, min_time, stats[key])
        progress(f"  {threads} thread(s), {np.dtype(dtype).name} n = {n_label(n)}: done")
    return results


#: The primitives a generated kernel may call, and how to time one call of each on x.
PRIMITIVES: dict[str, Callable[[np.ndarray], object]] = {
    "numpy.exp": np.exp,
    "numpy.expm1": np.expm1,
    "numpy.log1p": np.log1p,  # timed on exp(−|x|), the argument softplus gives it (see primitive_costs)
    "numpy.tanh": np.tanh,
    "numpy.logaddexp": lambda x: np.logaddexp(0, x),
    "numpy.where": lambda x: np.where(x > 0, x, 1.0),
    "numpy.maximum": lambda x: np.maximum(x, 0),
    "numpy.minimum": lambda x: np.minimum(x, 0),
    "numpy.abs": np.abs,
    "division": lambda x: 1 / x,
    "multiplication": lambda x: x * x,
    "scipy.special.expit": lambda x: __import__("scipy.special").special.expit(x),
    "scipy.special.erfc": lambda x: __import__("scipy.special").special.erfc(x),
    "scipy.special.erfcx": lambda x: __import__("scipy.special").special.erfcx(x),
    "scipy.special.erf": lambda x: __import__("scipy.special").special.erf(x),
    # nnref's own primitives, timed whole: Φ is erfc for u ≥ 0 and the generated pieces of
    # e^(u²/2)Φ(u) for u < 0 (nnref/_generated/tables.py), sech² one exp and a few operations
    "nnref._primitives.ndtr": lambda x: __import__("nnref._primitives")._primitives.ndtr(x),
    "nnref._primitives.x_ndtr": lambda x: __import__("nnref._primitives")._primitives.x_ndtr(x),
    "nnref._primitives.npdf": lambda x: __import__("nnref._primitives")._primitives.npdf(x),
    "nnref._primitives.sech2": lambda x: __import__("nnref._primitives")._primitives.sech2(x),
    # The patches of a derivative, as silu' calls them: its degree-30 Taylor polynomial about
    # z0 = −2.40 on the elements within 0.8 (11% of randn × 5), and its tail beyond z = −700 (none).
    "nnref._primitives.taylor_patch": lambda x: _patch(x),
    "nnref._primitives.exp_tail": lambda x: __import__("nnref._primitives")._primitives.exp_tail(
        x, x, -1, 1, -700.0, (1.0, 1.0)
    ),
    "nnref._primitives.special_values": lambda x: __import__("nnref._primitives")._primitives.special_values(
        x, x, 0, 1
    ),
}


def _patch(x: np.ndarray):
    from nnref._generated import activations as gen
    from nnref._primitives import taylor_patch

    return taylor_patch(x, x, -2.3993572805154675, -1.8464872855353363e-16, 0.8, gen.TAYLOR_SILU_DF_2)


#: The primitives are timed on this many float64 values (256 KiB, in cache): the cost of the
#: operation rather than of main memory.
PRIMITIVE_N = 32_768


def primitive_costs(repeats: int, min_time: float) -> dict[str, float]:
    """Seconds per float64 element of each primitive, on PRIMITIVE_N values (in cache)."""
    x = np.random.default_rng(1).standard_normal(PRIMITIVE_N) * 5
    e = np.exp(-np.abs(x))
    x32 = x.astype(np.float32)
    cands = {k: (lambda f=f, a=(e if k == "numpy.log1p" else x): f(a)) for k, f in PRIMITIVES.items()}
    # What a float32 input costs nnref, which computes in float64 and rounds once, and what the
    # textbook form's float32 loops cost.
    cands["float32 → float64 → float32"] = lambda: x32.astype(np.float64).astype(np.float32)
    cands["numpy.exp on float32"] = lambda: np.exp(x32)
    cands["numpy.tanh on float32"] = lambda: np.tanh(x32)
    with np.errstate(all="ignore"):
        times = measure(cands, repeats, min_time)
    return {k: v / PRIMITIVE_N for k, v in times.items()}


def calls_in(source: str) -> dict[str, int]:
    """How often a kernel's source calls each primitive of PRIMITIVES (division and multiplication
    counted from the operators), the nnref primitives it calls expanded one level."""
    import ast

    counts: dict[str, int] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name in PRIMITIVES:
                counts[name] = counts.get(name, 0) + 1
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Mult)):
            key = "division" if isinstance(node.op, ast.Div) else "multiplication"
            counts[key] = counts.get(key, 0) + 1
    return counts


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
    # Gradients of the mean cost J, as nnref.MLP computes them: ∂J/∂Z3 = (P − Y)/m (softmax-CE
    # fused), so the weight gradients take no further 1/m.
    dJ_dZ3 = (E / E.sum(axis=0, keepdims=True) - Y) / m
    dW3 = dJ_dZ3 @ A2.T
    db3 = dJ_dZ3.sum(axis=1, keepdims=True)
    dJ_dZ2 = (P["W3"].T @ dJ_dZ3) * (Z2 > 0)
    dW2 = dJ_dZ2 @ A1.T
    db2 = dJ_dZ2.sum(axis=1, keepdims=True)
    dJ_dZ1 = (P["W2"].T @ dJ_dZ2) * (Z1 > 0)
    dW1 = dJ_dZ1 @ X.T
    db1 = dJ_dZ1.sum(axis=1, keepdims=True)
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
