"""The built site in a real browser: Debian's Chromium driven by Playwright, served on 127.0.0.1.

For every page of the site: it loads, logs no console error, requests nothing outside 127.0.0.1
and nothing that fails, every formula is typeset by KaTeX (not left as raw TeX, no .katex-error),
every internal link (with its #anchor) and every image resolves. The fixture
tests/fixtures/broken_formula/ holds formulas KaTeX cannot parse, and proves that the rendering
check reports them. Screenshots go to test-artifacts/screenshots/ (gitignored).

Needs Debian's chromium (`bash scripts/test.sh` installs it) and KaTeX from `npm install`.
Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest
from mkdocs.utils import yaml_load

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "broken_formula"
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BUILD_SECONDS = 30
# One worker builds the site, starts Chromium and visits every page once for all the tests here.
pytestmark = pytest.mark.xdist_group("site")

# For each .arithmatex element: typeset means a .katex child, no .katex-error, and no TeX
# delimiter left in the text outside the typeset part.
FORMULAS_JS = r"""() => [...document.querySelectorAll('.arithmatex')].map(e => {
  const rest = e.cloneNode(true);
  rest.querySelectorAll('.katex').forEach(k => k.remove());
  const raw = /\\\(|\\\[|\$\$/.test(rest.textContent);
  return {
    rendered: !!e.querySelector('.katex') && !e.querySelector('.katex-error') && !raw,
    tex: e.textContent.trim().slice(0, 100),
  };
})"""
# katex.js marks the body once it has been through every formula (a malformed one stays raw).
TYPESET_JS = "() => document.body.dataset.math === 'typeset'"
# Text a reader sees that is markup nobody rendered: TeX outside a typeset formula (a `|` in a
# formula splits a Markdown table cell and leaves both halves as text) or reST roles and
# directives in a docstring that mkdocstrings prints as they are. Code and typeset math are skipped.
RAW_MARKUP_JS = r"""() => {
  const skip = "pre, code, script, style, .arithmatex, .katex";
  const markup = /\\[A-Za-z]{2,}|\\[()[\]{}]|\$\$|\$[^$\s][^$]*\$|\.\. math::|:(?:math|func|class|meth|mod|attr|ref|exc|obj|data):(?=`|$)/m;
  const root = document.querySelector("article") || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: n => n.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
  });
  const found = [];
  for (let n; (n = walker.nextNode());) {
    if (markup.test(n.textContent)) found.push(n.textContent.trim().slice(0, 80));
  }
  return found;
}"""
# The layout at the current viewport: the page's own width, and every display formula that is
# wider than its box without a scrolling box that fits the column around it.
LAYOUT_JS = r"""() => {
  const article = document.querySelector("article") || document.body;
  // The content column: on a phone Material lets formulas and code run into the article's margins.
  const column = (article.closest(".md-content") || article).getBoundingClientRect();
  const wide = [];
  for (const d of article.querySelectorAll(".katex-display")) {
    let box = d.parentElement;
    while (box !== article && !/auto|scroll/.test(getComputedStyle(box).overflowX)) box = box.parentElement;
    const fits = d.scrollWidth <= box.clientWidth + 1;
    const edge = box.getBoundingClientRect();
    const scrolls = box !== article && edge.left >= column.left - 1 && edge.right <= column.right + 1;
    if (!fits && !scrolls) wide.push(`${Math.round(d.scrollWidth)} px in ${box.clientWidth}: ${d.textContent.slice(0, 40)}`);
  }
  return {width: document.documentElement.scrollWidth, viewport: window.innerWidth, wide};
}"""
IMAGES_JS = """() => [
  ...[...document.querySelectorAll('img')].map(e => ({src: e.currentSrc || e.src, width: e.complete ? e.naturalWidth : 0})),
  ...[...document.querySelectorAll('object[data]')].map(e => ({src: e.data, width: null})),
]"""


def _build(config: Path, out: Path, site_url: str | None = None) -> float:
    """`mkdocs build --strict` into `out` (for the address `site_url`); returns the seconds it took."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(out)],
        cwd=config.parent,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1", **({"NNREF_SITE_URL": site_url} if site_url else {})),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"mkdocs build --strict -f {config} failed:\n{done.stdout}{done.stderr}"
    return time.perf_counter() - start


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@dataclass
class Served:
    root: Path
    url: str
    build_seconds: float = 0.0
    server: http.server.ThreadingHTTPServer | None = field(default=None, repr=False)


def _serve(folder: Path) -> Served:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return Served(folder, f"http://127.0.0.1:{server.server_address[1]}/", server=server)


def _stop(served: Served) -> None:
    served.server.shutdown()
    served.server.server_close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's chromium is not installed at {CHROMIUM}: run `bash scripts/test.sh`, which installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    served = _serve(out)
    served.build_seconds = _build(ROOT / "mkdocs.yml", out, site_url=served.url)
    yield served
    _stop(served)


@dataclass
class Visit:
    url: str
    status: int | None
    console_errors: list[str]
    outside: list[str]
    failed: list[str]
    formulas: list[dict]
    katex_errors: int
    links: list[str]
    images: list[dict]
    raw_markup: list[str]
    layout: dict
    #: The layout once the same page is narrowed to a phone's width (None when not asked for).
    phone_layout: dict | None = None


PHONE = 390
# Wait until the page has seen its resize and katex.js's 100 ms debounced re-fit has run: the
# resize event is dispatched before the next animation frame, so a timer set from that frame with
# a longer delay fires after katex.js's.
AFTER_RESIZE_JS = "() => new Promise(done => requestAnimationFrame(() => setTimeout(done, 250)))"


class Tab:
    """One browser page, reused from URL to URL, with every request outside 127.0.0.1 blocked and
    recorded, and console errors and failed responses recorded per visit."""

    def __init__(self, browser, *, width=1280, dark=False):
        self.width = width
        self.page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme="dark" if dark else "light")
        self.console_errors: list[str] = []
        self.outside: list[str] = []
        self.failed: list[str] = []
        page = self.page
        page.on("console", lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.console_errors.append(f"uncaught: {exc}"))
        page.on("response", lambda r: self.failed.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
        page.route("**/*", self._route)

    def _route(self, r):
        url = r.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname == "127.0.0.1":
            r.continue_()
        else:
            self.outside.append(url)
            r.abort()

    def visit(self, url: str, screenshot: Path | None = None, *, full_page=False, phone=False) -> Visit:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        page = self.page
        self.console_errors, self.outside, self.failed = [], [], []
        response = page.goto(url, wait_until="load")
        # Typesetting runs when Material emits document$, which may come after the load event on
        # a loaded machine: give a long page (the API reference) time to finish before looking.
        try:
            page.wait_for_function(TYPESET_JS, timeout=15_000)
        except PlaywrightTimeout:
            pass  # what is still raw is reported below
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=full_page)
        v = Visit(
            url=url,
            status=response.status if response else None,
            console_errors=[],
            outside=[],
            failed=[],
            formulas=page.evaluate(FORMULAS_JS),
            katex_errors=page.locator(".katex-error").count(),
            links=page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"),
            images=page.evaluate(IMAGES_JS),
            raw_markup=page.evaluate(RAW_MARKUP_JS),
            layout=page.evaluate(LAYOUT_JS),
        )
        if phone:
            page.set_viewport_size({"width": PHONE, "height": 900})
            page.evaluate(AFTER_RESIZE_JS)
            v.phone_layout = page.evaluate(LAYOUT_JS)
            page.set_viewport_size({"width": self.width, "height": 900})
        v.console_errors, v.outside, v.failed = self.console_errors, self.outside, self.failed
        return v

    def close(self):
        self.page.close()


def visit(browser, url: str, screenshot: Path | None = None, *, full_page=False, dark=False, width=1280) -> Visit:
    """Load one page in a tab of its own (see Tab)."""
    tab = Tab(browser, width=width, dark=dark)
    try:
        return tab.visit(url, screenshot, full_page=full_page)
    finally:
        tab.close()


@pytest.fixture(scope="session")
def visits(browser, site) -> dict[str, Visit]:
    """Every page of the site, visited once in one tab: at 1280 px, then narrowed to a phone."""
    tab = Tab(browser)
    try:
        return {rel: tab.visit(site.url + rel, phone=True) for rel in site_pages(site.root)}
    finally:
        tab.close()


def site_pages(site_dir: Path) -> list[str]:
    """Every page of the built site, as a path relative to the site root ('' is the home page)."""
    pages = []
    for html in sorted(site_dir.rglob("*.html")):
        rel = html.relative_to(site_dir).as_posix()
        if rel.startswith("assets/"):
            continue
        pages.append(rel[: -len("index.html")] if rel.endswith("index.html") else rel)
    return pages


def _fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            body = r.read()
            kind = r.headers.get_content_type()
            return r.status, body.decode("utf-8", "replace") if kind == "text/html" else ""
    except urllib.error.HTTPError as e:
        return e.code, ""


def test_site_builds_quickly(site):
    assert site.build_seconds < BUILD_SECONDS, f"mkdocs build took {site.build_seconds:.1f} s"


def test_sitemap_lists_every_page(site):
    sitemap = (site.root / "sitemap.xml").read_text(encoding="utf-8")
    listed = {urlparse(u).path.lstrip("/") for u in re.findall(r"<loc>([^<]+)</loc>", sitemap)}
    pages = set(site_pages(site.root)) - {"404.html"}
    assert listed == pages, f"only in sitemap: {sorted(listed - pages)}; only on disk: {sorted(pages - listed)}"


def test_every_page_renders_offline(site, visits):
    pages = list(visits)
    assert "" in pages and len(pages) > 5, pages
    problems: list[str] = []
    targets: dict[str, set[str]] = {}  # internal link target (no fragment) -> fragments asked for
    images: set[str] = set()
    for rel, v in visits.items():
        where = rel or "(home)"
        if v.status != 200 and rel != "404.html":
            problems.append(f"{where}: HTTP {v.status}")
        if v.console_errors:
            problems.append(f"{where}: console errors {v.console_errors[:3]}")
        if v.outside:
            problems.append(f"{where}: requests leaving 127.0.0.1 {v.outside[:3]}")
        if v.failed:
            problems.append(f"{where}: failed requests {v.failed[:3]}")
        raw = [f["tex"] for f in v.formulas if not f["rendered"]]
        if raw or v.katex_errors:
            problems.append(f"{where}: {len(raw)} formulas not typeset, {v.katex_errors} .katex-error, e.g. {raw[:2]}")
        if v.raw_markup:
            problems.append(f"{where}: raw TeX or reST shown as text {v.raw_markup[:3]}")
        problems += layout_problems(where, v.layout)
        for image in v.images:
            images.add(image["src"])
            if image["width"] is not None and image["width"] <= 0:
                problems.append(f"{where}: image not displayed (naturalWidth 0) {image['src']}")
        for link in v.links:
            target, fragment = urldefrag(link)
            if target.startswith(site.url):
                targets.setdefault(target, set()).add(f"{fragment}@{where}" if fragment else "")
    for target, fragments in sorted(targets.items()):
        status, html = _fetch(target)
        if status != 200:
            problems.append(f"broken internal link {target} (HTTP {status}) from {sorted(fragments)[:3]}")
            continue
        for asked in sorted(f for f in fragments if f):
            fragment, source = asked.split("@", 1)
            if html and not re.search(rf"""id=["']?{re.escape(fragment)}["'\s>]""", html):
                problems.append(f"{source}: link to missing anchor {target}#{fragment}")
    for src in sorted(images):
        if src.startswith(site.url) and _fetch(src)[0] != 200:
            problems.append(f"broken image {src}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def layout_problems(where: str, layout: dict) -> list[str]:
    out = []
    if layout["width"] > layout["viewport"]:
        out.append(f"{where}: the page is {layout['width']} px wide in a {layout['viewport']} px viewport")
    if layout["wide"]:
        out.append(f"{where}: display formulas wider than their box, with no scrolling box {layout['wide'][:2]}")
    return out


def test_every_page_fits_a_phone(visits):
    """At 390 px (a phone) no page scrolls sideways: wide tables, formulas and figures scroll in
    their own boxes. (The 1280 px check runs with test_every_page_renders_offline.)"""
    problems = []
    for rel, v in visits.items():
        problems += layout_problems(rel or "(home)", v.phone_layout)
    assert not problems, f"{len(problems)} problems at {PHONE} px:\n" + "\n".join(problems)


#: Learn pages with no notebook of their own: the section's start and its glossary are not steps.
WITHOUT_NOTEBOOK = {"learn/index.md", "learn/notation.md"}


def _learn_pages() -> list[str]:
    nav = yaml_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]
    section = next(item["Learn"] for item in nav if isinstance(item, dict) and "Learn" in item)
    pages = []

    def walk(items):
        for item in items:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            if isinstance(value, list):
                walk(value)
            elif isinstance(value, str) and value.endswith(".md"):
                pages.append(value)

    walk(section)
    return pages


def notebook_problems(url: str) -> list[str]:
    """What is wrong with the notebook a link downloads (nothing: a valid nbformat 4 notebook)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            body = r.read()
    except urllib.error.HTTPError as e:
        return [f"HTTP {e.code}"]
    try:
        nb = json.loads(body)
    except ValueError as e:
        return [f"not JSON: {e}"]
    problems = []
    if not isinstance(nb, dict) or nb.get("nbformat") != 4 or not isinstance(nb.get("metadata"), dict):
        return ["not an nbformat 4 notebook (nbformat, metadata)"]
    cells = nb.get("cells")
    if not isinstance(cells, list) or not cells:
        problems.append("no cells")
    for i, cell in enumerate(cells or []):
        if cell.get("cell_type") not in ("code", "markdown", "raw") or not isinstance(cell.get("source"), (str, list)):
            problems.append(f"cell {i} is malformed")
    try:
        import nbformat
    except ImportError:
        return problems
    try:
        nbformat.validate(nbformat.reads(body.decode("utf-8"), as_version=4))
    except Exception as e:  # nbformat's ValidationError and its parse errors
        problems.append(f"nbformat: {str(e)[:200]}")
    return problems


def test_every_learn_page_links_a_notebook_that_opens(visits):
    """Each page of the Learn section offers its notebook, and the link downloads a valid .ipynb."""
    problems = []
    for md in _learn_pages():
        rel = md[: -len("index.md")] if md.endswith("index.md") else md[: -len(".md")] + "/"
        links = [u for u in visits[rel].links if urldefrag(u)[0].endswith(".ipynb")]
        if not links and md not in WITHOUT_NOTEBOOK:
            problems.append(f"{md}: no link to its notebook (.ipynb)")
        for link in sorted(set(links)):
            problems += [f"{md}: {link}: {p}" for p in notebook_problems(link)]
    assert not problems, "\n".join(problems)


def test_notebook_check_can_fail(tmp_path):
    served = _serve(tmp_path)
    try:
        (tmp_path / "good.ipynb").write_text(
            json.dumps(
                {
                    "nbformat": 4,
                    "nbformat_minor": 5,
                    "metadata": {},
                    "cells": [{"cell_type": "markdown", "id": "x", "metadata": {}, "source": "# x"}],
                }
            ),
            encoding="utf-8",
        )
        (tmp_path / "bad.ipynb").write_text("<html>not a notebook</html>", encoding="utf-8")
        assert notebook_problems(served.url + "good.ipynb") == []
        assert notebook_problems(served.url + "bad.ipynb")
        assert notebook_problems(served.url + "missing.ipynb") == ["HTTP 404"]
    finally:
        _stop(served)


def test_instant_navigation_typesets_the_new_page(browser, site):
    """Material swaps pages in place (navigation.instant); document$ must re-run KaTeX."""
    pages = site_pages(site.root)
    target = next((p for p in pages if p.startswith("reference/activations/") and p.count("/") == 3), None)
    if target is None:
        target = next(p for p in pages if p not in ("", "404.html"))
    page = browser.new_page()
    page.route("**/*", lambda r: r.continue_() if urlparse(r.request.url).hostname == "127.0.0.1" else r.abort())
    try:
        page.goto(site.url, wait_until="networkidle")
        page.evaluate("window.__sameDocument = true")
        # Click a link the way a reader would, so Material's router handles it.
        page.evaluate(
            "t => { const a = document.createElement('a'); a.href = t; document.body.append(a); a.click(); }", target
        )
        page.wait_for_url(site.url + target)
        page.wait_for_load_state("networkidle")
        formulas = page.evaluate(FORMULAS_JS)
        same_document = page.evaluate("window.__sameDocument === true")
    finally:
        page.close()
    assert same_document, "navigation.instant did not keep the page: a full reload happened"
    assert all(f["rendered"] for f in formulas), [f["tex"] for f in formulas if not f["rendered"]]


def test_a_page_opened_from_disk_typesets_its_math(browser, site):
    """The README says to open site/index.html: from file:// Material emits no document$, so katex.js
    typesets on DOMContentLoaded too (every formula stayed raw TeX there before)."""
    page = browser.new_page()
    try:
        page.goto((site.root / "reference" / "activations" / "silu" / "index.html").as_uri(), wait_until="load")
        page.wait_for_function(TYPESET_JS, timeout=15_000)
        formulas = page.evaluate(FORMULAS_JS)
    finally:
        page.close()
    assert formulas and all(f["rendered"] for f in formulas), [f["tex"] for f in formulas if not f["rendered"]][:3]


SCREENSHOTS = {
    "home": ("", "full"),
    "home-dark": ("", "dark"),
    "activation-sigmoid": ("reference/activations/sigmoid/", "viewport"),
    "gradient-checking": ("gradient-checking/", "viewport"),
}


@pytest.mark.parametrize("name", SCREENSHOTS)
def test_screenshot(browser, site, name):
    rel, mode = SCREENSHOTS[name]
    if not (site.root / rel / "index.html").exists():
        pytest.skip(f"no screenshot {name}.png: the page {rel} is not in the built site (yet)")
    shot = SHOTS / f"{name}.png"
    shot.unlink(missing_ok=True)
    v = visit(browser, site.url + rel, shot, full_page=mode == "full", dark=mode == "dark")
    assert v.status == 200 and all(f["rendered"] for f in v.formulas)
    assert shot.stat().st_size > 10_000, f"{shot} looks empty"


# Undo what the site's katex.js does for a display too wide for its column: no scrolling box, no shrinking.
UNBOX_JS = r"""() => document.querySelectorAll(".katex-display").forEach(d => {
  for (let e = d; e && e.tagName !== "ARTICLE"; e = e.parentElement) {
    e.style.overflow = "visible";  // both axes: beside a hidden one, a visible one computes to auto
    e.style.fontSize = "";
  }
})"""


def test_broken_formulas_are_reported(browser, tmp_path):
    """The rendering check can fail: the fixture's two malformed formulas are caught, the good one is not."""
    _build(FIXTURE / "mkdocs.yml", tmp_path / "site")
    served = _serve(tmp_path / "site")
    tab = Tab(browser)
    try:
        v = tab.visit(served.url, phone=True)
        # The same page on a phone with katex.js's scrolling box and shrinking taken away from the
        # displays: the layout check reports the 120-term sum as wider than its box.
        tab.page.set_viewport_size({"width": PHONE, "height": 900})
        tab.page.evaluate(AFTER_RESIZE_JS)
        tab.page.evaluate(UNBOX_JS)
        unboxed = tab.page.evaluate(LAYOUT_JS)
    finally:
        tab.close()
        _stop(served)
    assert not v.outside and not v.failed, (v.outside, v.failed)
    good = [f["tex"] for f in v.formulas if f["rendered"]]
    bad = [f["tex"] for f in v.formulas if not f["rendered"]]
    # A rendered formula's text is its TeX annotation, or KaTeX's HTML text where no MathML is kept.
    assert len(good) == 2 and "a = f(z)" in good[0], v.formulas
    assert "x_{120}" in good[1] or good[1].startswith("s=x1+x2+x3"), v.formulas
    assert len(bad) == 2, v.formulas
    assert any("\\frac{1}{" in t for t in bad) and any("\\notamacro" in t for t in bad), bad
    # auto-render logs the formula KaTeX cannot parse (throwOnError: true), but with an unbalanced
    # brace it never finds the closing \] and leaves the text alone without a word: only the DOM
    # check above sees that one.
    assert [e for e in v.console_errors if "KaTeX" in e and "notamacro" in e], v.console_errors
    # A `|` in a formula in a table cell and a reST role are seen as raw markup; the good formula is not.
    assert any("\\left" in t for t in v.raw_markup) and any(":math:" in t for t in v.raw_markup), v.raw_markup
    assert not any("a = f(z)" in t for t in v.raw_markup), v.raw_markup
    # A block wider than the page is reported; the 120-term sum is not, because the site's katex.js
    # shrinks a display that is slightly too wide and puts a wider one in a scrolling box of its own.
    problems = layout_problems("fixture", v.layout)
    assert any("px wide in a 1280 px viewport" in p for p in problems), problems
    assert not any("wider than their box" in p for p in problems), problems
    assert not any("wider than their box" in p for p in layout_problems("fixture", v.phone_layout))
    assert any("wider than their box" in p for p in layout_problems("fixture", unboxed)), unboxed


def test_fixture_uses_the_sites_math_setup():
    """The fixture proves something about the real site only if it typesets math the same way."""
    site = yaml_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    fixture = yaml_load((FIXTURE / "mkdocs.yml").read_text(encoding="utf-8"))
    for key in ("extra_javascript",):
        assert fixture[key] == site[key], key
    assert [c for c in site["extra_css"] if "katex" in c] == fixture["extra_css"]
    assert fixture["theme"]["font"] is False and site["theme"]["font"] is False
    hooks = {(FIXTURE / h).resolve() for h in fixture["hooks"]}
    assert hooks == {(ROOT / h).resolve() for h in site["hooks"]}

    def arithmatex(cfg):
        return next(e for e in cfg["markdown_extensions"] if isinstance(e, dict) and "pymdownx.arithmatex" in e)

    assert arithmatex(fixture) == arithmatex(site) == {"pymdownx.arithmatex": {"generic": True}}
    assert (FIXTURE / "docs" / "javascripts" / "katex.js").resolve() == (ROOT / "docs/javascripts/katex.js").resolve()


def test_build_without_katex_fails_with_a_clear_message(tmp_path):
    """No node_modules/katex: the build stops and says to run `npm install`, instead of shipping raw TeX."""
    (tmp_path / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts" / "mkdocs_hooks.py", tmp_path / "scripts")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\nhooks:\n  - scripts/mkdocs_hooks.py\nnav:\n  - index.md\n", encoding="utf-8"
    )
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=tmp_path,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "npm install" in done.stdout + done.stderr, done.stdout + done.stderr


def test_no_developer_address_leaks_into_the_site(monkeypatch):
    """Built without NNREF_SITE_URL (as a plain `mkdocs build`), no canonical link or sitemap entry
    names a developer's localhost."""
    from mkdocs.config import load_config

    monkeypatch.delenv("NNREF_SITE_URL", raising=False)
    site_url = load_config(str(ROOT / "mkdocs.yml")).site_url
    assert not site_url or urlparse(site_url).hostname not in ("127.0.0.1", "localhost"), site_url


def _search(browser, site, query: str) -> list[dict]:
    """The results Material's search box shows for ``query``: each result's link and text."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.route("**/*", lambda r: r.continue_() if urlparse(r.request.url).hostname == "127.0.0.1" else r.abort())
    try:
        page.goto(site.url, wait_until="networkidle")
        page.click(".md-search__input", timeout=5000)
        page.keyboard.type(query, delay=20)
        page.wait_for_selector(".md-search-result__item", timeout=20000)
        return page.eval_on_selector_all(
            ".md-search-result__item > a",
            "els => els.map(a => ({href: a.href, text: a.innerText}))",
        )
    finally:
        page.close()


def test_search_finds_pages_by_their_names_and_us_spelling(browser, site):
    """ "tanh" finds the Hyperbolic tangent page first; "initialization" finds the British pages;
    result snippets show no TeX source."""
    names = {
        "tanh": "reference/activations/tanh/",
        "relu": "reference/activations/relu/",
        "mse": "reference/losses/mse/",
    }
    for name, page in names.items():
        found = [urldefrag(r["href"])[0].split("?")[0] for r in _search(browser, site, name)]  # ?h= highlights
        assert found and found[0] == site.url + page, f"searching {name!r} lists {found[:4]} first, not {page}"
    us = _search(browser, site, "initialization")
    assert any("initialisation" in r["href"] or "backprop" in r["href"] for r in us), [r["href"] for r in us]
    raw = [r["text"][:80] for q in ("sigmoid", "softplus") for r in _search(browser, site, q) if "\\" in r["text"]]
    assert not raw, f"search results show TeX source: {raw[:3]}"
