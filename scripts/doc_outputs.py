"""Run the python examples of the docs pages that show output, and write what each prints below it.

A ```python block followed by a ```text block is run (all blocks of a page share one namespace,
in order) and its standard output becomes the text block. tests/test_docs_examples.py fails when a
page differs from what this writes, so a printed report on a page is always the current one.

    python scripts/doc_outputs.py          # rewrite the pages
    python scripts/doc_outputs.py --check  # exit 1 and name the pages that differ
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["docs/checking-your-code.md"]
BLOCK = re.compile(r"```python\n(.*?)```(\n\n```text\n.*?```)?", re.S)


def render(path: Path) -> str:
    """The page with every output block replaced by what its example prints today."""
    text = path.read_text(encoding="utf-8")
    namespace: dict = {"__name__": "__docs__"}

    def run(match: re.Match) -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(match.group(1), str(path), "exec"), namespace)
        if match.group(2) is None:
            return match.group(0)
        return f"```python\n{match.group(1)}```\n\n```text\n{out.getvalue()}```"

    return BLOCK.sub(run, text)


def main(argv: list[str]) -> int:
    stale = []
    for page in PAGES:
        path = ROOT / page
        new = render(path)
        if new != path.read_text(encoding="utf-8"):
            stale.append(page)
            if "--check" not in argv:
                path.write_text(new, encoding="utf-8")
    if "--check" in argv and stale:
        print(f"outputs out of date in {', '.join(stale)}: run python scripts/doc_outputs.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
