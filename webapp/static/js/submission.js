/* Live grading status: polls until the attempt is graded, then swaps in the results without
   reloading the page. */
(function () {
  "use strict";
  var box = document.getElementById("grading-status");
  if (!box) { return; }
  var state = box.getAttribute("data-status");
  if (state !== "queued" && state !== "running") { return; }
  var labels = { queued: "Queued: waiting for a grading worker…", running: "Running: your notebook is being graded…" };

  function showResults() {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        var main = document.getElementById("main");
        if (!fresh || !main) { window.location.reload(); return; }
        main.replaceChildren.apply(main, Array.prototype.slice.call(fresh.childNodes));
        if (typeof window.skillforgeTypeset === "function") { window.skillforgeTypeset(); }
      })
      .catch(function () { window.location.reload(); });
  }

  function poll() {
    fetch(box.getAttribute("data-status-url"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.status === "graded" || s.status === "error") { showResults(); return; }
        if (labels[s.status]) { box.textContent = labels[s.status]; box.setAttribute("data-status", s.status); }
        window.setTimeout(poll, 700);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
}());
