"""Fixtures shared by the test modules.

``derived``: one cold `nnref derive` into a temporary folder, with a cache of its own, shared by the
drift, determinism and add-an-entry tests (all in the xdist group "derive", so one worker runs it once).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from nnref import _portable

_portable.pin()  # before NumPy is imported: the kernels the committed files were measured with

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Derived:
    root: Path  # where the cold run wrote every generated file
    cache: Path  # the per-unit cache it filled
    files: dict[str, bytes]  # {path relative to root: bytes}


def derive(root: Path, cache: Path | None, *args: str, hashseed: str = "random", cwd: Path = ROOT):
    """`nnref derive --root ROOT` (with --cache, or --no-cache) in a fresh process."""
    cache_args = ["--cache", str(cache)] if cache is not None else ["--no-cache"]
    return subprocess.run(
        [sys.executable, "-m", "nnref", "derive", "--root", str(root), *cache_args, *args],
        cwd=cwd,
        env=dict(os.environ, PYTHONHASHSEED=hashseed),
        capture_output=True,
        text=True,
        timeout=900,
    )


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def derived(tmp_path_factory) -> Derived:
    root, cache = tmp_path_factory.mktemp("derive-cold"), tmp_path_factory.mktemp("derive-cache")
    done = derive(root, cache, hashseed="1")  # a salt of its own: derive must pin the one it uses
    assert done.returncode == 0, done.stdout + done.stderr
    return Derived(root, cache, files_under(root))
