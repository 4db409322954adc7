// Render every arithmatex span/div with the KaTeX copy served from this site (no CDN).
// throwOnError: a malformed formula raises, so the browser test sees it instead of red text.
function renderMath() {
  renderMathInElement(document.body, {
    delimiters: [
      { left: "\\[", right: "\\]", display: true },
      { left: "\\(", right: "\\)", display: false },
    ],
    throwOnError: true,
  });
}
if (typeof document$ !== "undefined") {
  document$.subscribe(renderMath); // Material's instant navigation re-renders on every page
} else {
  document.addEventListener("DOMContentLoaded", renderMath);
}
