/* Rendered notebooks: typeset TeX in Markdown cells with KaTeX (served by this app, no other origin). */
(function () {
  "use strict";
  function typeset() {
    if (typeof window.renderMathInElement !== "function") { return; }
    document.querySelectorAll(".nb-rendered .text_cell_render").forEach(function (el) {
      window.renderMathInElement(el, {
        delimiters: [
          { left: "$$", right: "$$", display: true },
          { left: "\\[", right: "\\]", display: true },
          { left: "$", right: "$", display: false },
          { left: "\\(", right: "\\)", display: false }
        ],
        throwOnError: false,
        ignoredTags: ["script", "noscript", "style", "textarea", "pre", "code", "option"]
      });
    });
  }
  window.skillforgeTypeset = typeset;  // for content that arrives later (live grading results)
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", typeset);
  } else {
    typeset();
  }
}());
