/* Next to each exercise's answer cell: its title, state and points, and "Show a hint", which
   reveals the exercise's hints one at a time (a POST with the CSRF token; the server records it
   and answers with the hint as sanitised HTML). Hints already shown stay shown. */
(function () {
  "use strict";
  var data = document.getElementById("exercise-panel");
  var tokenInput = document.querySelector("input[name=csrf_token]");
  if (!data || !tokenInput) { return; }
  var exercises = JSON.parse(data.textContent);

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function hintLabel(n, total) { return "Hint " + n + " of " + total; }
  function addHint(list, html, n, total) {
    var item = el("li", "exercise-hint");
    item.setAttribute("aria-label", hintLabel(n, total));
    item.innerHTML = html;  /* rendered from Markdown and sanitised by the server (nh3) */
    list.appendChild(item);
  }
  function updateButton(button, shown, total) {
    if (shown >= total) {
      button.disabled = true;
      button.textContent = total === 1 ? "The only hint is shown" : "All " + total + " hints are shown";
    } else {
      button.textContent = shown === 0 ? "Show a hint" : "Show another hint (" + (shown + 1) + " of " + total + ")";
    }
  }

  exercises.forEach(function (ex) {
    var host = document.getElementById("user-content-cell-id=" + ex.cell_id);
    if (!host) { return; }
    var box = el("div", "exercise-panel small mt-2");
    box.setAttribute("data-testid", "exercise-panel");
    box.setAttribute("data-grade-id", ex.grade_id);
    var status = el("p", "mb-1");
    status.appendChild(el("strong", "", ex.title));
    status.appendChild(document.createTextNode(" · " + ex.points + (ex.points === 1 ? " point" : " points") + " · "));
    var state = el("span", "exercise-state", ex.state);
    state.setAttribute("data-testid", "exercise-state");
    status.appendChild(state);
    box.appendChild(status);
    if (ex.hints_total > 0) {
      var list = el("ol", "exercise-hints mb-1");
      list.setAttribute("aria-live", "polite");
      ex.hints.forEach(function (html, i) { addHint(list, html, i + 1, ex.hints_total); });
      var button = el("button", "btn btn-outline-secondary btn-sm");
      button.type = "button";
      button.setAttribute("data-testid", "show-hint");
      var shown = ex.hints.length;
      updateButton(button, shown, ex.hints_total);
      var problem = el("span", "text-danger ms-2");
      problem.setAttribute("role", "status");
      button.addEventListener("click", function () {
        button.disabled = true;
        fetch(ex.hint_url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Accept": "application/json", "X-CSRFToken": tokenInput.value }
        }).then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        }).then(function (answer) {
          if (!answer.ok) { throw new Error(answer.body.message || "The hint could not be shown."); }
          shown = answer.body.number;
          addHint(list, answer.body.html, shown, answer.body.total);
          problem.textContent = "";
          button.disabled = false;
          updateButton(button, shown, answer.body.total);
        }).catch(function (error) {
          button.disabled = false;
          problem.textContent = error.message || "The hint could not be shown; try again.";
        });
      });
      box.appendChild(list);
      box.appendChild(button);
      box.appendChild(problem);
    }
    host.appendChild(box);
  });
}());
