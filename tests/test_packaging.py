"""nnref as users meet it: the version, the lazily loaded submodules, the installed package."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import nnref

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_version_is_the_package_metadata_and_the_cli_prints_it():
    assert nnref.__version__ == importlib.metadata.version("nnref")
    done = subprocess.run(
        [sys.executable, "-m", "nnref", "--version"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == f"nnref {nnref.__version__}", done.stderr


def test_submodules_load_on_first_use_and_not_before():
    done = _python(
        "import sys, nnref, nnref.activations;"
        "early = [m for m in ('nnref.datasets', 'nnref.testing', 'nnref.gradcheck') if m in sys.modules];"
        "assert not early, early;"
        "assert nnref.datasets.NAMES and nnref.testing.assert_gradients_close;"
        "assert 'sklearn' not in sys.modules"
    )
    assert done.returncode == 0, done.stderr
    assert {"datasets", "testing", "gradcheck"} <= set(dir(nnref))
