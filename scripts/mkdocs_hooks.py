"""MkDocs hooks: serve KaTeX from the site itself and list the generated reference pages in the nav."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KATEX = ROOT / "node_modules" / "katex" / "dist"


def on_config(config):
    if not (KATEX / "katex.min.js").exists():
        raise SystemExit(
            "KaTeX is missing: run `npm install` in the repository (scripts/site.sh does it). "
            "The site renders math offline from node_modules/katex, never from a CDN."
        )
    docs = Path(config["docs_dir"])
    nav = config["nav"]
    for i, item in enumerate(nav):
        ((title, target),) = item.items()
        if isinstance(target, str) and target.startswith("reference/") and target.endswith("/index.md"):
            folder = docs / Path(target).parent
            pages = sorted(p for p in folder.glob("*.md") if p.name != "index.md")
            nav[i] = {title: [target] + [{p.stem: str(p.relative_to(docs))} for p in pages]}
    return config


def on_post_build(config):
    target = Path(config["site_dir"]) / "assets" / "katex"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copy2(KATEX / "katex.min.js", target)
    shutil.copy2(KATEX / "katex.min.css", target)
    (target / "contrib").mkdir()
    shutil.copy2(KATEX / "contrib" / "auto-render.min.js", target / "contrib")
    shutil.copytree(KATEX / "fonts", target / "fonts")
