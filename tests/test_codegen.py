"""The generated files are exactly what `nnref derive` writes today, and writing them is deterministic."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _derive_into(folder: Path, hashseed: str) -> dict[str, bytes]:
    env = dict(os.environ, PYTHONHASHSEED=hashseed)
    done = subprocess.run(
        [sys.executable, "-m", "nnref", "derive", "--root", str(folder)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    # Different hash salts: `nnref derive` must pin its own, so the bytes cannot depend on ours.
    first = _derive_into(tmp_path_factory.mktemp("derive1"), "1")
    second = _derive_into(tmp_path_factory.mktemp("derive2"), "random")
    return first, second


def test_generation_is_deterministic(two_runs):
    first, second = two_runs
    assert sorted(first) == sorted(second)
    differing = [path for path in first if first[path] != second[path]]
    assert not differing, f"two runs of `nnref derive` wrote different bytes for {differing}"


def test_committed_files_have_no_drift(two_runs):
    generated, _ = two_runs
    assert generated, "nnref derive wrote nothing"
    drifted = [p for p, data in generated.items() if not (ROOT / p).exists() or (ROOT / p).read_bytes() != data]
    assert not drifted, f"committed generated files differ from `nnref derive` output: {drifted}; run `nnref derive`"


def test_every_generated_file_names_its_command(two_runs):
    generated, _ = two_runs
    for path, data in generated.items():
        head = data[:600].decode("utf-8", errors="replace")
        assert "nnref derive" in head, f"{path} does not say which command regenerates it"


def test_derive_check_passes_on_this_tree():
    done = subprocess.run(
        [sys.executable, "-m", "nnref", "derive", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_derive_check_names_a_drifted_file(tmp_path):
    _derive_into(tmp_path, "0")
    target = tmp_path / "nnref" / "_generated" / "activations.py"
    target.write_text(target.read_text() + "\n# edited by hand\n")
    done = subprocess.run(
        [sys.executable, "-m", "nnref", "derive", "--check", "--root", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 1
    assert "nnref/_generated/activations.py" in done.stdout


def test_import_nnref_does_not_import_sympy():
    code = (
        "import sys, numpy as np, nnref, nnref.activations as A, nnref.losses, nnref.gradcheck;"
        "[A.get(n) for n in A.names()]; A.get('gelu').f_df(np.linspace(-3, 3, 7));"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sympy', 'mpmath')];"
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"import nnref pulled in: {done.stdout} {done.stderr}"


def test_generated_modules_import_only_numpy_scipy_and_primitives():
    for path in (ROOT / "nnref" / "_generated").glob("*.py"):
        imports = [line for line in path.read_text().splitlines() if line.startswith(("import ", "from "))]
        for line in imports:
            module = line.split()[1].split(".")[0]
            assert module in ("numpy", "scipy", "nnref", "__future__"), f"{path.name}: {line}"


def test_cli_without_command_prints_help_and_fails():
    done = subprocess.run([sys.executable, "-m", "nnref"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "derive" in done.stdout and "check" in done.stdout


def test_cli_rejects_unknown_command():
    done = subprocess.run(
        [sys.executable, "-m", "nnref", "frobnicate"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "invalid choice" in done.stderr
