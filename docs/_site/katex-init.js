// Render every formula pymdownx.arithmatex marked (generic mode: \( \) inline, \[ \] display) with
// KaTeX, served from the site itself. A formula KaTeX cannot parse is shown in red with the error.
function renderMath(root) {
  root.querySelectorAll(".arithmatex").forEach(function (el) {
    renderMathInElement(el, {
      delimiters: [
        { left: "\\[", right: "\\]", display: true },
        { left: "\\(", right: "\\)", display: false },
      ],
      throwOnError: false,
    });
  });
}
if (typeof document$ !== "undefined") {
  document$.subscribe(function ({ body }) { renderMath(body); });  // Material's page events
} else {
  document.addEventListener("DOMContentLoaded", function () { renderMath(document.body); });
}
