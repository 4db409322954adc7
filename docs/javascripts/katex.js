// Typeset every formula that pymdownx.arithmatex (generic mode) left in the page, with the copy of
// KaTeX served from this site (no CDN). Only .arithmatex elements are touched, so a backslash or a
// dollar sign elsewhere (code, API docs) is never mistaken for math.
// throwOnError: a formula KaTeX cannot parse stays as raw TeX and is logged as a console error,
// instead of being shown as red text that looks rendered; the browser test (tests/test_site.py)
// fails on both.
function renderMath(root) {
  for (const element of root.querySelectorAll(".arithmatex")) {
    if (element.querySelector(".katex")) continue; // typeset already (both triggers below may run)
    renderMathInElement(element, {
      delimiters: [
        { left: "\\[", right: "\\]", display: true },
        { left: "\\(", right: "\\)", display: false },
      ],
      throwOnError: true,
    });
  }
  fitDisplays(root);
  // KaTeX's fonts change the widths once they arrive: measure again then.
  document.fonts.ready.then(() => fitDisplays(root));
  // Done, formulas KaTeX could not parse included: the browser test waits for this mark.
  root.dataset.math = "typeset";
}

// A display formula a little wider than the column is set a little smaller, down to MIN_SCALE, so
// that it fits; a wider one keeps that size and scrolls inside its own box (see extra.css).
const MIN_SCALE = 0.8;
function fitDisplays(root) {
  for (const box of root.querySelectorAll("div.arithmatex")) {
    box.style.fontSize = "";
    if (box.clientWidth === 0 || box.scrollWidth <= box.clientWidth) continue;
    const scale = Math.max(MIN_SCALE, Math.floor((100 * box.clientWidth) / box.scrollWidth) / 100);
    box.style.fontSize = `${scale}em`;
  }
}
let resizing;
window.addEventListener("resize", () => {
  clearTimeout(resizing);
  resizing = setTimeout(() => fitDisplays(document.body), 100);
});

if (typeof document$ !== "undefined") {
  // Material's instant navigation swaps the page content without a reload and emits on document$
  // each time, the first load included.
  document$.subscribe(({ body }) => renderMath(body));
}
// A page opened from disk (file://, as in "open site/index.html") gets no document$ emission:
// typeset on load as well. renderMath skips what is typeset already.
document.addEventListener("DOMContentLoaded", () => renderMath(document.body));
