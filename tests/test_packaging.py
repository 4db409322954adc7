"""nnref as users meet it: the version, the lazily loaded submodules, the installed package."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import zipfile
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


def _copy_checkout(dest: Path) -> Path:
    """The source tree as a user would build it: without the venv, node_modules, site and caches."""
    skip = shutil.ignore_patterns(
        ".git", ".venv*", "node_modules", "site", ".*cache", "__pycache__", "*.egg-info", "build", "dist"
    )
    shutil.copytree(ROOT, dest, ignore=skip, symlinks=True)
    return dest


def test_the_wheel_holds_the_runtime_only_builds_without_warnings_and_works_installed(tmp_path):
    src = _copy_checkout(tmp_path / "src")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    # The build backend itself, offline and without isolation: what `python -m build` runs.
    build = (
        "import sys; from setuptools import build_meta as b;"
        "print('WHEEL', b.build_wheel(sys.argv[1])); print('SDIST', b.build_sdist(sys.argv[1]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", build, str(tmp_path / "dist")],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    output = done.stdout + done.stderr
    warnings = [line for line in output.splitlines() if "warning" in line.lower()]
    assert not warnings, "\n".join(warnings)

    wheel = tmp_path / "dist" / re.search(r"^WHEEL (\S+)$", done.stdout, re.M).group(1)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(f"nnref-{nnref.__version__}.dist-info/METADATA").decode()
    assert {name.split("/")[0] for name in names} == {"nnref", "derivations", f"nnref-{nnref.__version__}.dist-info"}
    for needed in (
        "nnref/_generated/activations.py",
        "nnref/gradcheck/_tree.py",
        "nnref/testing.py",
        "derivations/derive.py",
    ):
        assert needed in names
    assert "License-Expression: MIT" in metadata and f"Version: {nnref.__version__}" in metadata
    assert "License-File: LICENSE" in metadata and f"nnref-{nnref.__version__}.dist-info/licenses/LICENSE" in names
    assert "Classifier: Programming Language :: Python :: 3 :: Only" in metadata

    site = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(site)]
    done = subprocess.run([*install, str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    run_env = dict(env, PYTHONPATH=str(site))
    code = (
        "import numpy as np, nnref;"
        "from nnref import gradcheck;"
        "assert nnref.__file__.startswith(sys.argv[1]), nnref.__file__;"
        "r = gradcheck.check_gradients(lambda p: float(np.sum(p['w'] ** 2)), lambda p: {'w': 2 * p['w']}, {'w': np.ones(3)});"
        "assert r.ok;"
        "print(nnref.activations.get('sigmoid').f(np.array([0.0]))[0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", "import sys;" + code, str(site)],
        cwd=tmp_path,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "0.5", done.stderr
    done = subprocess.run(
        [sys.executable, str(site / "bin" / "nnref"), "--version"],
        cwd=tmp_path,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == f"nnref {nnref.__version__}", done.stderr
    done = subprocess.run(
        [sys.executable, str(site / "bin" / "nnref"), "derive"],
        cwd=tmp_path,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "source checkout" in done.stderr, done.stderr
