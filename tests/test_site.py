"""The built site in a real browser: Debian's Chromium driven by Playwright, served on 127.0.0.1.

For every page: it loads, logs no console error, requests nothing outside 127.0.0.1, every formula
is typeset by KaTeX (not left as raw TeX), every internal link and image resolves. A fixture page
with broken formulas shows that the rendering check can fail. Screenshots go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "test-artifacts" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _build(config: Path, out: Path) -> None:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _serve(folder: Path):
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `bash scripts/test.sh`, which installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    _build(ROOT / "mkdocs.yml", out)
    server, url = _serve(out)
    yield out, url
    server.shutdown()
    server.server_close()


def visit(browser, url: str, screenshot: Path | None = None) -> dict:
    """Load one page; return console errors, off-host requests, unrendered formulas, links, images."""
    page = browser.new_page()
    errors, outside = [], []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def route(r):
        host = urlparse(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    response = page.goto(url, wait_until="networkidle")
    status = response.status if response else None
    page.wait_for_timeout(100)
    formulas = page.eval_on_selector_all(
        ".arithmatex",
        "els => els.map(e => ({rendered: !!e.querySelector('.katex') && !e.querySelector('.katex-error'),"
        " text: e.textContent.slice(0, 80)}))",
    )
    links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    images = page.eval_on_selector_all(
        "img", "els => els.map(e => ({src: e.src, ok: e.complete && e.naturalWidth > 0}))"
    )
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=False)
    page.close()
    return {
        "status": status,
        "errors": errors,
        "outside": outside,
        "formulas": formulas,
        "links": links,
        "images": images,
    }


def _pages(site_dir: Path) -> list[str]:
    pages = []
    for html in sorted(site_dir.rglob("index.html")):
        rel = html.parent.relative_to(site_dir).as_posix()
        pages.append("" if rel == "." else rel + "/")
    return pages


def test_every_page_renders_offline(browser, site):
    site_dir, url = site
    pages = _pages(site_dir)
    assert len(pages) > 30, pages
    problems = []
    checked_links: dict[str, bool] = {}
    for rel in pages:
        shot = None
        if rel in ("", "reference/activations/gelu/", "gradient-checking/"):
            shot = SHOTS / f"{rel.strip('/').replace('/', '_') or 'home'}.png"
        result = visit(browser, url + rel, shot)
        if result["status"] != 200:
            problems.append(f"{rel}: HTTP {result['status']}")
        if result["errors"]:
            problems.append(f"{rel}: console errors {result['errors'][:3]}")
        if result["outside"]:
            problems.append(f"{rel}: requests leaving 127.0.0.1 {result['outside'][:3]}")
        raw = [f["text"] for f in result["formulas"] if not f["rendered"]]
        if raw:
            problems.append(f"{rel}: {len(raw)} formulas not typeset, e.g. {raw[:2]}")
        bad_images = [i["src"] for i in result["images"] if not i["ok"]]
        if bad_images:
            problems.append(f"{rel}: images that did not load {bad_images[:3]}")
        for link in result["links"]:
            target = link.split("#")[0]
            if not target.startswith(url) or target in checked_links:
                continue
            path = site_dir / urlparse(target).path.lstrip("/")
            ok = path.exists() and (path.is_file() or (path / "index.html").exists())
            checked_links[target] = ok
            if not ok:
                problems.append(f"{rel}: broken internal link {link}")
    assert not problems, "\n".join(problems)
    for name in ("home", "reference_activations_gelu", "gradient-checking"):
        assert (SHOTS / f"{name}.png").stat().st_size > 10_000


def test_formula_count_on_an_activation_page(browser, site):
    _, url = site
    result = visit(browser, urljoin(url, "reference/activations/sigmoid/"))
    assert len(result["formulas"]) >= 6 and all(f["rendered"] for f in result["formulas"])


def test_the_rendering_check_catches_broken_formulas(browser, tmp_path):
    fixture = tmp_path / "fixture"
    (fixture / "docs").mkdir(parents=True)
    (fixture / "docs" / "index.md").write_text(
        "# Broken\n\nA good one: $a = f(z)$.\n\n$$\n\\frac{1}{\n$$\n\nAnd $\\notamacro{x}$.\n", encoding="utf-8"
    )
    shutil.copytree(ROOT / "docs" / "javascripts", fixture / "docs" / "javascripts")
    # The same theme, math extension, scripts and hook as the real site, on one page.
    (fixture / "mkdocs.yml").write_text(
        f"""site_name: fixture
theme:
  name: material
  font: false
hooks:
  - {ROOT / "scripts" / "mkdocs_hooks.py"}
markdown_extensions:
  - pymdownx.arithmatex:
      generic: true
extra_css:
  - assets/katex/katex.min.css
extra_javascript:
  - assets/katex/katex.min.js
  - assets/katex/contrib/auto-render.min.js
  - javascripts/katex.js
nav:
  - Broken: index.md
""",
        encoding="utf-8",
    )
    _build(fixture / "mkdocs.yml", fixture / "site")
    server, url = _serve(fixture / "site")
    try:
        result = visit(browser, url)
    finally:
        server.shutdown()
    server.server_close()
    states = [f["rendered"] for f in result["formulas"]]
    assert states.count(True) == 1 and states.count(False) == 2, result["formulas"]
