"""Files that hold measured figures are written on the same NumPy kernels on every x86-64 machine
(nnref/_portable.py): the suite itself runs so, and a command that writes files starts again with
NumPy's AVX-512 kernels off where they were on."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from nnref import _portable, cli


def test_the_suite_runs_on_the_portable_kernels():
    assert _portable.pinned()
    assert not _portable._avx512_in_use()
    if platform.machine().lower() in ("x86_64", "amd64"):
        import torch

        assert torch.backends.cpu.get_cpu_capability() in ("AVX2", "DEFAULT")
        assert _blas_architectures() <= {"Haswell"}  # SkylakeX's matmul rounds a Learn page's gradient otherwise


def _blas_architectures(env=None) -> set[str]:
    """The OpenBLAS kernels NumPy loaded, in this process (env None) or in a new one started with env."""
    code = (
        "from nnref import _portable; _portable.pin(); import numpy, threadpoolctl; "
        "print(' '.join(i.get('architecture', '') for i in threadpoolctl.threadpool_info() "
        "if i['internal_api'] == 'openblas'))"
    )
    if env is None:
        import threadpoolctl

        return {i.get("architecture", "") for i in threadpoolctl.threadpool_info() if i["internal_api"] == "openblas"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="OpenBLAS's x86 kernels")
def test_openblas_gets_the_same_kernels_in_a_new_process():
    env = {k: v for k, v in os.environ.items() if k not in (_portable.VARIABLE, _portable.BLAS_VARIABLE)}
    assert _blas_architectures(env) <= {"Haswell"}


@pytest.fixture
def avx512(monkeypatch):
    """A process where NumPy came up with AVX-512: the variable unset, the kernels in use."""
    import numpy  # noqa: F401 - loaded, as in a command that has started (else pin() has nothing to undo)

    monkeypatch.delenv(_portable.VARIABLE, raising=False)
    monkeypatch.setattr(_portable, "_avx512_in_use", lambda: True)
    calls = []

    def execv(path, args):
        calls.append((path, args, os.environ.get(_portable.VARIABLE)))
        raise SystemExit(0)

    monkeypatch.setattr(os, "execv", execv)
    return calls


@pytest.mark.parametrize("command", ["derive", "check"])
def test_a_command_that_writes_figures_starts_again_on_the_portable_kernels(avx512, command):
    with pytest.raises(SystemExit):
        cli.main([command])  # started again before any work: execv (here: SystemExit) comes first
    ((path, args, variable),) = avx512
    assert path == sys.executable and args == [sys.executable, "-m", "nnref", command]
    assert set(_portable.FEATURES) <= set(variable.split())


def test_without_a_way_to_start_again_it_says_what_to_set(avx512):
    with pytest.raises(RuntimeError, match=_portable.VARIABLE):
        _portable.pin()
    assert not avx512


def test_a_machine_without_avx512_runs_on(monkeypatch):
    monkeypatch.delenv(_portable.VARIABLE, raising=False)
    monkeypatch.setattr(_portable, "_avx512_in_use", lambda: False)
    monkeypatch.setattr(os, "execv", lambda *a: pytest.fail("started again on a machine without AVX-512"))
    _portable.pin(rerun=["-m", "nnref", "derive"])
    assert _portable.pinned()


def test_the_variable_reaches_numpy_in_a_new_process():
    env = {k: v for k, v in os.environ.items() if k != _portable.VARIABLE}
    code = "from nnref import _portable; _portable.pin(); import numpy, os; print(os.environ[_portable.VARIABLE])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == list(_portable.FEATURES)
