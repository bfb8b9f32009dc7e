// Render every formula pymdownx.arithmatex marked (generic mode: \( \) inline, \[ \] display) with
// KaTeX, served from the site itself. A "\(\displaystyle ...\)" formula is a display formula that
// stood inside a paragraph or a list item in the Markdown (docs/_site/hooks.py); it is shown as one.
// A formula KaTeX cannot parse is shown in red with the error (class katex-error).
function renderMath(root) {
  root.querySelectorAll(".arithmatex").forEach(function (el) {
    var tex = el.textContent.trim();
    var display = tex.startsWith("\\[");
    tex = tex.slice(2, -2);
    if (tex.trim().startsWith("\\displaystyle")) {
      display = true;
      tex = tex.trim().slice("\\displaystyle".length);
    }
    katex.render(tex, el, { displayMode: display, throwOnError: false });
  });
  // a heading's formula also stands as text in the tables of contents and the page title
  root.querySelectorAll(".md-nav__link, .md-ellipsis").forEach(function (el) {
    if (!el.children.length && el.textContent.includes("\\(")) {
      el.innerHTML = el.textContent.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(
        /\\\((.+?)\\\)/g, function (_, tex) { return katex.renderToString(tex, { throwOnError: false }); });
    }
  });
}
if (typeof document$ !== "undefined") {
  document$.subscribe(function ({ body }) { renderMath(body); });  // Material's page events
} else {
  document.addEventListener("DOMContentLoaded", function () { renderMath(document.body); });
}
