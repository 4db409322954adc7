"""The layering holds (DESIGN.md): derivations/ never imports nnref/, nnref/ imports derivations/ only
where nnref.custom hands a formula to the pipeline, and the runtime is NumPy and SciPy only.
The contracts are import-linter's, in pyproject.toml; here they run, and are shown able to fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = [
    sys.executable,
    "-c",
    "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
]


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(LINT, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_import_contracts_are_kept():
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    contracts = Path(ROOT / "pyproject.toml").read_text().count("[[tool.importlinter.contracts]]")
    assert f"{contracts} kept, 0 broken" in done.stdout


def test_a_planted_import_of_the_runtime_breaks_a_contract(tmp_path):
    for package in ("nnref", "derivations"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "derivations" / "proofs.py"
    target.write_text(target.read_text() + "\n\ndef _planted():\n    import nnref.activations  # noqa: F401\n")
    done = _lint(tmp_path)
    assert done.returncode != 0 and "BROKEN" in done.stdout, done.stdout
    assert "derivations.proofs -> nnref.activations" in done.stdout


def test_scikit_learn_stays_in_the_estimators_and_the_data_sets(tmp_path):
    shutil.copytree(ROOT / "nnref", tmp_path / "nnref", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "derivations", tmp_path / "derivations", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "nnref" / "mlp.py"
    target.write_text(target.read_text() + "\n\ndef _planted():\n    import sklearn  # noqa: F401\n")
    done = _lint(tmp_path)
    assert done.returncode != 0 and "nnref.mlp -> sklearn" in done.stdout, done.stdout
