"""What bench.speed measures, at which sizes, and the targets it holds nnref to."""

from __future__ import annotations

import math
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_OUT = ROOT / "docs" / "reference"
HEADER = "<!-- Written by `python -m bench.speed` (measurements: rerun it to refresh). -->\n"
ACTIVATIONS = ("sigmoid", "tanh", "softplus", "gelu", "silu", "mish", "elu")
SIZES = (10**5, 10**6, 10**7)
QUICK_CAP = 10**6
#: The thread counts compared: one (as NumPy's own ufuncs), and NNREF_THREADS=2 (this machine's cores).
THREADS = (1, 2)
#: The issue's table: every form as a multiple of np.copyto at this size, float64, at the most threads.
ISSUE_N = 4 * 10**6
#: The activations held to PyTorch's time at the most threads (f and f_df).
VS_TORCH = ("sigmoid", "tanh", "softplus", "silu", "gelu", "mish")
#: The activations whose f then df (two calls) is held to the textbook f + f'.
TWO_CALLS = ("sigmoid", "tanh")
LAYERS = (784, 256, 128, 10)
EXAMPLES = 10_000
LR = 0.01
INV_SQRT2 = 1 / math.sqrt(2)  # Python floats: weak scalars that keep float32 arrays float32
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)

# Targets: (ratio limit) for each comparison.
F_VS_TEXTBOOK = 1.3
F_DF_VS_F = 1.4
TWO_CALLS_VS_TEXTBOOK = 1.3
STEP_VS_NUMPY = 1.05
IMPORT_MS = 150.0
DERIVE_S = 20.0
MKDOCS_S = 30.0
TARGET_MIN_SIZE = 10**5  # elementwise targets are checked at every measured size from here up
NOISY = 0.25  # a cell is marked when its repeats' interquartile range exceeds this fraction of the median

# Candidate keys, in table order, with their column headings.
COLUMNS = {
    "nnref_f": "nnref f",
    "nnref_f_df": "nnref f_df",
    "nnref_f_then_df": "nnref f then df",
    "textbook_f": "textbook f",
    "textbook_f_df": "textbook f+f'",
    "best_f": "best NumPy/SciPy f",
    "torch_f": "PyTorch f",
    "torch_f_df": "PyTorch f_df",
}
#: The candidates timed at more than one thread (the others are single-threaded by nature or not compared).
MULTI_THREADED = ("nnref_f", "nnref_f_df", "textbook_f", "torch_f", "torch_f_df", "copyto")


def n_label(n: int) -> str:
    """1e6 for a power of ten, 12,345 otherwise."""
    k = round(math.log10(n))
    return f"1e{k}" if 10**k == n else f"{n:,}"
