"""Tests that share an expensive fixture (one cold derive, one site build and browser pass, one entry's
mpmath references) carry an xdist group, and the suite relies on --dist loadgroup keeping each group
on one worker. pytest 9.2 with pytest-xdist 3.8 dropped the groups without a word, and every worker
derived and browsed on its own: this runs two grouped tests on two workers and asks where each ran."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from conftest import ROOT

PROBE = textwrap.dedent(
    """
    import os, pytest

    def _record(name):
        with open(os.environ["PROBE_OUT"], "a") as out:
            out.write(f"{name} {os.environ['PYTEST_XDIST_WORKER']}\\n")

    @pytest.mark.xdist_group("one")
    @pytest.mark.parametrize("i", range(6))
    def test_grouped(i):
        _record(f"grouped{i}")

    @pytest.mark.parametrize("i", range(6))
    def test_free(i):
        _record(f"free{i}")
    """
)


def test_a_group_runs_on_one_worker(tmp_path):
    (tmp_path / "test_probe.py").write_text(PROBE, encoding="utf-8")
    out = tmp_path / "where.txt"
    # The project's own settings (pyproject's addopts: -n auto --dist loadgroup) with two workers.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            "-n",
            "2",
            "-q",
            "-p",
            "no:cacheprovider",
            str(tmp_path / "test_probe.py"),
        ],
        cwd=tmp_path,
        env=dict(os.environ, PROBE_OUT=str(out)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    where = dict(line.split() for line in out.read_text().splitlines())
    assert len(where) == 12, where
    grouped = {worker for name, worker in where.items() if name.startswith("grouped")}
    assert len(grouped) == 1, f"the group 'one' ran on {sorted(grouped)}: --dist loadgroup is not keeping groups"
