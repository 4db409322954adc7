"""The code a newcomer copies from the README and the docs runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The docs pages of the Learn path are not here: learn/build.py runs them as notebooks (tests/test_learn.py).
SOURCES = ["README.md", "docs/contributing.md"]


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("source", SOURCES)
def test_python_examples_run(source):
    blocks = _python_blocks(ROOT / source)
    assert blocks, f"{source} has no python example"
    for code in blocks:
        exec(compile(code, source, "exec"), {"__name__": "__docs__"})


def test_readme_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```bash\n(.*?)```", text, flags=re.S).group(1).strip().splitlines()
    assert [line.split()[:2] for line in first_block] == [["bash", "scripts/site.sh"], ["bash", "scripts/test.sh"]]
    assert text.index("```bash") < 20
