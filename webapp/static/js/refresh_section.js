/* A section of a page that shows work in progress (data-refresh-while="pending") reloads itself
   every few seconds (data-refresh-ms, default 4000) from the same URL until nothing is pending,
   without reloading the page. */
(function () {
  "use strict";
  var DELAY_MS = 4000;

  function refresh(id) {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(id);
        var section = document.getElementById(id);
        if (!fresh || !section) { return; }
        section.replaceWith(fresh);
        watch(fresh);
      })
      .catch(function () { window.setTimeout(function () { refresh(id); }, DELAY_MS * 2); });
  }

  function watch(section) {
    if (section.getAttribute("data-refresh-while") === "pending" && section.id) {
      var delay = parseInt(section.getAttribute("data-refresh-ms") || "", 10) || DELAY_MS;
      window.setTimeout(function () { refresh(section.id); }, delay);
    }
  }

  document.querySelectorAll("[data-refresh-while]").forEach(watch);
})();
