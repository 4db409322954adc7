"""The code is formatted and linted as pyproject.toml says (ruff), so a change shows only what it changes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_ruff_format_leaves_every_file_as_it_is():
    done = _ruff("format", "--check", ".")
    assert done.returncode == 0, f"run `ruff format .`:\n{done.stdout}{done.stderr}"


def test_ruff_check_finds_nothing():
    done = _ruff("check", ".")
    assert done.returncode == 0, f"run `ruff check .`:\n{done.stdout}{done.stderr}"
