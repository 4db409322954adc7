"""The generated files are exactly what `nnref derive` writes today, writing them is deterministic,
and the per-unit cache gives the same bytes as a cold run."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, derive, files_under

pytestmark = pytest.mark.xdist_group("derive")


def test_committed_files_have_no_drift(derived):
    assert derived.files, "nnref derive wrote nothing"
    drifted = [p for p, data in derived.files.items() if not (ROOT / p).exists() or (ROOT / p).read_bytes() != data]
    assert not drifted, f"committed generated files differ from `nnref derive` output: {drifted}; run `nnref derive`"


def test_generation_is_deterministic(derived):
    """A cold run in a fresh process with its own hash salt wrote the committed bytes (above); the
    committed ones came from another process. And two processes with different salts agree on a unit
    rebuilt from scratch: here the one with the most stable nodes, next to the cached others."""
    gelu_tanh = next(derived.cache.glob("activation-gelu_tanh-*.json"))
    cache = derived.cache.parent / "derive-cache-partial"
    shutil.copytree(derived.cache, cache)
    (cache / gelu_tanh.name).unlink()
    root = derived.root.parent / "derive-partial"
    root.mkdir()
    done = derive(root, cache, hashseed="12345")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "deriving 1 of" in done.stderr, done.stderr
    again = files_under(root)
    differing = [path for path in derived.files if again.get(path) != derived.files[path]]
    assert sorted(again) == sorted(derived.files) and not differing, f"runs of `nnref derive` differ: {differing}"


def test_a_warm_cache_changes_nothing_and_is_not_committed(derived, tmp_path):
    done = derive(tmp_path, derived.cache)
    assert done.returncode == 0 and "deriving" not in done.stderr, done.stderr
    assert files_under(tmp_path) == derived.files
    ignored = subprocess.run(["git", "check-ignore", "-q", ".nnref-cache/derive/x.json"], cwd=ROOT)
    assert ignored.returncode == 0, ".nnref-cache/ must be in .gitignore: the cache is never committed"


def test_every_generated_file_names_its_command(derived):
    for path, data in derived.files.items():
        head = data[:600].decode("utf-8", errors="replace")
        assert "nnref derive" in head, f"{path} does not say which command regenerates it"


def test_derive_check_passes_on_this_tree(derived):
    done = derive(ROOT, derived.cache, "--check")
    assert done.returncode == 0, done.stdout + done.stderr


def test_derive_check_names_a_drifted_file(derived, tmp_path):
    shutil.copytree(derived.root, tmp_path, dirs_exist_ok=True)
    target = tmp_path / "nnref" / "_generated" / "activations.py"
    target.write_text(target.read_text() + "\n# edited by hand\n")
    done = derive(tmp_path, derived.cache, "--check")
    assert done.returncode == 1
    assert "nnref/_generated/activations.py" in done.stdout


def test_derive_refuses_a_root_that_is_not_a_folder(tmp_path):
    done = derive(tmp_path / "missing", None)
    assert done.returncode == 2 and "is not a folder" in done.stderr and "Traceback" not in done.stderr


def test_import_nnref_does_not_import_sympy():
    code = (
        "import sys, numpy as np, nnref, nnref.activations as A, nnref.losses, nnref.gradcheck;"
        "[A.get(n) for n in A.names()]; A.get('gelu').f_df(np.linspace(-3, 3, 7));"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sympy', 'mpmath', 'derivations')];"
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
