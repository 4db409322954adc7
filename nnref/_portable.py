"""The same NumPy kernels for everything nnref writes to a file, so the bytes match on every x86-64 machine.

NumPy chooses its exp, log, tanh, … kernels by CPU when it is imported. On a machine with AVX-512
(x86-64-v4) they are other kernels than on an AVX2 machine (x86-64-v3), and they round some inputs
differently: the max-ULP figures that `nnref derive` writes into the reference pages (sigmoid's
one-exp form: 1.64 ULP on one, 1.72 on the other) and the gradients a Learn page prints then differ
in their last digits, and the drift tests fail on the other machine. The commands that write
files (`nnref derive`, `nnref check`, ``python -m learn.build``, ``python -m bench.accuracy``) and
the test suite therefore run with NumPy's AVX-512 kernels turned off (``NPY_DISABLE_CPU_FEATURES``),
which are the kernels every x86-64-v3 machine runs, PyTorch's likewise (``ATEN_CPU_CAPABILITY=avx2``),
and OpenBLAS's (``OPENBLAS_CORETYPE=Haswell``: on an AVX-512 machine it picks its SkylakeX kernels,
whose matrix products round differently, and the gradient a Learn page prints changed in its 10th digit).
The runtime itself, imported by your code, uses whatever your machine has.
"""

from __future__ import annotations

import os
import platform
import sys

VARIABLE = "NPY_DISABLE_CPU_FEATURES"
TORCH_VARIABLE = "ATEN_CPU_CAPABILITY"
BLAS_VARIABLE = "OPENBLAS_CORETYPE"  # read by OpenBLAS when NumPy loads it
#: NumPy 2.4's dispatch targets above x86-64-v3 (``numpy._core._multiarray_umath.__cpu_dispatch__``).
FEATURES = ("X86_V4", "AVX512_ICL", "AVX512_SPR")


def pinned() -> bool:
    return set(FEATURES) <= set(os.environ.get(VARIABLE, "").replace(",", " ").split())


def _x86() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64")


def _avx512_in_use() -> bool:
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_features__
    # The dispatch targets only: NPY_DISABLE_CPU_FEATURES turns them off, while the hardware flags
    # (AVX512F, ...) stay True on an AVX-512 machine whatever the variable says.
    return any(__cpu_features__.get(f) for f in FEATURES)


def pin(rerun: list[str] | None = None) -> None:
    """Turn NumPy's AVX-512 kernels off for this process and the processes it starts.

    Before NumPy is imported, setting the variable is enough. After, it is too late for this
    process: where the machine has AVX-512 and NumPy uses it, ``rerun`` (the arguments after
    ``python``, e.g. ``["-m", "nnref", "derive"]``) starts the command again with the variable set,
    and without ``rerun`` this raises, naming the variable to set.
    """
    if _x86():
        # PyTorch picks its CPU kernels by itself: AVX-512 ones round softplus differently, and the
        # "checking your code" page prints a torch VJP check (read when torch is imported, later).
        os.environ.setdefault(TORCH_VARIABLE, "avx2")
        # OpenBLAS too, when NumPy is imported: an AVX-512 machine gets SkylakeX's matmul kernels.
        # Set before NumPy is imported (the NumPy variable's check below reruns the command if not).
        os.environ.setdefault(BLAS_VARIABLE, "Haswell")
    if pinned():
        return
    os.environ[VARIABLE] = " ".join([*os.environ.get(VARIABLE, "").split(), *FEATURES])
    if "numpy" not in sys.modules or not _avx512_in_use():
        return
    if rerun is None:
        raise RuntimeError(
            f"NumPy was imported with its AVX-512 kernels, whose roundings differ from the ones the committed "
            f"files were written with: set {VARIABLE}='{' '.join(FEATURES)}' before starting Python "
            "(scripts/test.sh and scripts/site.sh do)"
        )
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *rerun])
