// Typeset every formula that pymdownx.arithmatex (generic mode) left in the page, with the copy of
// KaTeX served from this site (no CDN). Only .arithmatex elements are touched, so a backslash or a
// dollar sign elsewhere (code, API docs) is never mistaken for math.
// throwOnError: a formula KaTeX cannot parse stays as raw TeX and is logged as a console error,
// instead of being shown as red text that looks rendered; the browser test (tests/test_site.py)
// fails on both.
function renderMath(root) {
  for (const element of root.querySelectorAll(".arithmatex")) {
    renderMathInElement(element, {
      delimiters: [
        { left: "\\[", right: "\\]", display: true },
        { left: "\\(", right: "\\)", display: false },
      ],
      throwOnError: true,
    });
  }
}

if (typeof document$ !== "undefined") {
  // Material's instant navigation swaps the page content without a reload and emits on document$
  // each time, the first load included.
  document$.subscribe(({ body }) => renderMath(body));
} else {
  document.addEventListener("DOMContentLoaded", () => renderMath(document.body));
}
