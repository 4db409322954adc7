"""Blockwise, multi-threaded evaluation of an elementwise kernel on a large array.

A generated f, f' or (f, f') is a chain of NumPy ufuncs, each making a temporary the size of the
input. On a large array every temporary goes through main memory; on a block of BLOCK elements
they stay in cache. NumPy releases the GIL inside ufuncs, so blocks on a small thread pool run on
several cores. Results are bit-identical to one call on the whole (contiguous) array: each element
is computed by the same operations, whatever block it falls in. (On a strided array NumPy's SIMD
loops, such as z**3's, may round differently; blocks are always contiguous.)

The pool size is ``NNREF_THREADS`` if set, else the number of CPUs this process may use.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: Elements per block: 1 MiB of float64 per buffer of a block kernel (nnref/_inplace.py).
#: Measured with the block kernels on 1e6 values (randn × 5) and 2.56e6 (the MLP's first hidden
#: layer), 8,192 … 262,144, time against 32,768's: at 2 threads 131,072 took 0.32-0.96 of it
#: (relu f 0.32, sigmoid f 0.45, silu f_df 0.53, gelu f 0.96: fewer blocks, fewer handovers of the
#: GIL between the pool's threads), at 1 thread 0.65-1.00; 8,192 took up to 3.2×.
BLOCK = 131_072
THRESHOLD = 4 * BLOCK  # below this, the blocks are computed in the calling thread (no pool overhead)
#: Below this many elements, one call of the generated code on the whole array: a block kernel's
#: buffers (nnref/_inplace.py) save a fresh temporary per operation from here up.
SMALL = 4_096


def in_blocks(z: np.ndarray) -> bool:
    """Whether ``evaluate`` runs a block kernel on z, in blocks of at most BLOCK elements (else it
    makes one call of the generated code on the whole array)."""
    return z.size >= SMALL


def threads() -> int:
    value = os.environ.get("NNREF_THREADS", "")
    if value:
        try:
            n = int(value)
        except ValueError:
            raise ValueError(f"NNREF_THREADS must be a positive integer, got {value!r}") from None
        if n < 1:
            raise ValueError(f"NNREF_THREADS must be a positive integer, got {value!r}")
        return n
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0


def _pool(n: int) -> ThreadPoolExecutor:
    global _POOL, _POOL_SIZE
    if _POOL is None or _POOL_SIZE != n:
        if _POOL is not None:
            _POOL.shutdown(wait=False)
        _POOL = ThreadPoolExecutor(max_workers=n, thread_name_prefix="nnref-block")
        _POOL_SIZE = n
    return _POOL


def evaluate(
    kernel: Callable,
    z: np.ndarray,
    n_out: int,
    errstate: dict,
    *others: np.ndarray,
    out: np.ndarray | None = None,
    blocks: Callable | None = None,
) -> tuple[np.ndarray, ...] | np.ndarray:
    """kernel(z, *others) for an elementwise kernel returning one array (n_out = 1) or a tuple of
    n_out, computed block by block into preallocated outputs of z's shape and dtype. ``others``
    are further inputs of z's shape (the upstream gradient of a vjp). ``out`` (n_out = 1): a
    C-contiguous array of z's shape and dtype to write into, which may be one of the inputs
    (each block is read before it is written). ``blocks``: the kernel to run on the blocks, where
    it differs (``nnref._inplace``: the same code into reused buffers), called with ``_out``, the
    block's slices of the outputs; what it returns other than those slices is copied into them
    before the next block."""
    if out is not None and not (
        isinstance(out, np.ndarray) and out.shape == z.shape and out.dtype == z.dtype and out.flags.c_contiguous
    ):
        raise ValueError(f"out must be a C-contiguous {z.dtype} array of shape {z.shape}")
    if not in_blocks(z):
        with np.errstate(**errstate):
            result = kernel(z, *others)
        if out is None:
            return result
        np.copyto(out, result)
        return out
    flats = [np.ascontiguousarray(a).reshape(-1) for a in (z, *others)]
    flat = flats[0]
    if out is not None:
        outs = (out.reshape(-1),)
    else:
        outs = tuple(np.empty(flat.shape, dtype=z.dtype) for _ in range(n_out))
    starts = range(0, flat.size, BLOCK)

    def run(start: int) -> None:
        pieces = [a[start : start + BLOCK] for a in flats]
        slices = tuple(o[start : start + BLOCK] for o in outs)
        with np.errstate(**errstate):  # np.errstate is per thread
            result = kernel(*pieces) if blocks is None else blocks(*pieces, _out=slices)
        if n_out == 1:
            result = (result,)
        for piece, r in zip(slices, result):
            if r is not piece:  # (a block kernel computes what it can straight into the slice)
                piece[...] = r

    n = min(threads(), len(starts)) if flat.size >= THRESHOLD else 1
    if n == 1:
        for s in starts:
            run(s)
    else:
        for future in [_pool(n).submit(run, s) for s in starts]:
            future.result()
    if out is not None:
        return out
    outs = tuple(o.reshape(z.shape) for o in outs)
    return outs[0] if n_out == 1 else outs
