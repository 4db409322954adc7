"""A new activation is one entry (docs/contributing.md): in a copy of the project, one Activation(...)
added to derivations/activations.py is derived, checked by `nnref check` and covered by the
parametrised tests, with no other file edited by hand.

The entry is squareplus, (z + √(z² + b))/2 with b = 4, which no registry here has. It needs what a
contributor meets: a hypot block (z² overflows), a branch without cancellation for z < 0, a guard
for the branch numpy evaluates but does not use, and its own f' and f''."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, derive

pytestmark = pytest.mark.xdist_group("derive")

#: The example of docs/contributing.md, which this test adds: the page and the test cannot disagree.
GUIDE = ROOT / "docs" / "contributing.md"


def _the_guides_entry() -> tuple[list[str], list[str], str]:
    """(import lines, module-level lines, the Activation(...) call) of the guide's example."""
    block = re.search(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S).group(1)
    head, call = block.split("entry = ", 1)
    lines = [line for line in head.splitlines() if line.strip()]
    imports = [line for line in lines if line.startswith(("import ", "from "))]
    return imports, [line for line in lines if line not in imports], call.rstrip()


#: What `nnref derive` writes for a new activation (anything else changed would be a hand edit).
GENERATED = re.compile(r"^(nnref/_generated/|docs/reference/activations/|docs/reference/custom_vocabulary\.md$)")


def _run(args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_a_new_activation_is_one_entry(derived, tmp_path):
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True)
    copy = tmp_path / "project"
    original = {}
    for rel in tracked.stdout.split("\0"):
        if rel and (ROOT / rel).is_file():
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, copy / rel)
            original[rel] = (ROOT / rel).read_bytes()
    where = _run(["-c", "import nnref, derivations; print(nnref.__file__, derivations.__file__)"], copy)
    assert str(copy) in where.stdout and str(ROOT) + "/" not in where.stdout, where.stdout  # the copy runs

    # The one edit, in derivations/activations.py: the guide's entry in ENTRIES, and the imports and
    # the parameter symbol it needs at the top of the file.
    imports, module_lines, call = _the_guides_entry()
    registry = copy / "derivations" / "activations.py"
    text = registry.read_text()
    missing = [line for line in imports if line not in text]
    start = text.index("\n\n", text.index("from derivations.symbols import"))
    text = text[:start] + "\n" + "\n".join(missing + module_lines) + text[start:]
    end = text.rindex("\n)\n\nACTIVATIONS")
    registry.write_text(text[:end] + "\n" + "\n".join("    " + line for line in call.splitlines()) + "," + text[end:])

    cache = tmp_path / "cache"
    shutil.copytree(derived.cache, cache)  # warm for every other entry: only the new one is derived
    done = derive(copy, cache, cwd=copy)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "deriving 1 of" in done.stderr, done.stderr
    assert (copy / "docs" / "reference" / "activations" / "squareplus.md").exists()

    check = _run(["-m", "nnref", "check", "squareplus", "--no-color"], copy)
    assert check.returncode == 0 and "all 1 rows verified" in check.stdout, check.stdout + check.stderr

    tests = _run(["-m", "pytest", "tests", "-k", "squareplus", "-n", "0", "-q", "-p", "no:cacheprovider"], copy, 900)
    passed = re.search(r"(\d+) passed", tests.stdout)
    assert tests.returncode == 0 and passed and int(passed.group(1)) >= 20, tests.stdout[-3000:] + tests.stderr

    edited = sorted(
        rel
        for rel in {p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file()}
        if (rel not in original or (copy / rel).read_bytes() != original[rel])
        and not rel.startswith(("docs/reference/verification/", "test-artifacts/", ".hypothesis/"))
        and "__pycache__" not in rel
    )
    by_hand = [rel for rel in edited if rel != "derivations/activations.py" and not GENERATED.match(rel)]
    assert not by_hand, f"adding an activation needed more than its entry: {by_hand}"
    assert "derivations/activations.py" in edited and "nnref/_generated/activations.py" in edited
