/* Answer cells as code editors (CodeMirror, served by this app), with autosave to the server and
   a copy in this browser, so a reload or a lost connection loses nothing typed. */
(function () {
  "use strict";
  var bar = document.querySelector("[data-testid=answer-bar]");
  var data = document.getElementById("answer-cells");
  if (!bar || !data || typeof window.CodeMirror !== "function") { return; }
  var cells = JSON.parse(data.textContent);
  var form = document.getElementById("answers-form");
  var status = document.getElementById("draft-status");
  var token = form.querySelector("input[name=csrf_token]").value;
  var storageKey = bar.getAttribute("data-storage-key");
  var editors = {};
  window.skillforgeEditors = editors;  // live.js runs and checks what they hold
  var timer = null;

  function stored() {
    try { return JSON.parse(window.localStorage.getItem(storageKey) || "null"); } catch (e) { return null; }
  }
  function remember(answers, synced) {
    try { window.localStorage.setItem(storageKey, JSON.stringify({ answers: answers, synced: synced })); } catch (e) { /* private mode */ }
  }
  function answers() {
    var out = {};
    Object.keys(editors).forEach(function (gid) { out[gid] = editors[gid].getValue(); });
    return out;
  }
  function say(text) { status.textContent = text; }

  function save() {
    var current = answers();
    remember(current, false);
    fetch(bar.getAttribute("data-draft-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(current)
    }).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      remember(current, true);
      say("saved at " + new Date().toLocaleTimeString());
    }).catch(function () {
      say("saved in this browser only — the server is unreachable; it will be sent when you type again");
    });
  }
  function changed() {
    say("saving…");
    remember(answers(), false);
    window.clearTimeout(timer);
    timer = window.setTimeout(save, 800);
  }

  var local = stored();
  cells.forEach(function (cell) {
    var host = document.getElementById("cell-id=" + cell.cell_id);
    if (!host) { return; }
    var target = host.querySelector(".input_area") || host.querySelector(".text_cell_render") || host;
    var value = cell.source;
    if (local && !local.synced && local.answers && typeof local.answers[cell.grade_id] === "string") {
      value = local.answers[cell.grade_id];
    }
    host.classList.add("answer-cell");
    var editor = window.CodeMirror(function (el) { target.replaceWith(el); }, {
      value: value,
      mode: cell.cell_type === "markdown" ? "markdown" : "python",
      lineNumbers: true,
      indentUnit: 4,
      matchBrackets: true,
      autoCloseBrackets: true,
      viewportMargin: Infinity,
      screenReaderLabel: "Answer " + cell.grade_id,
      extraKeys: {
        "Tab": function (cm) {
          if (cm.somethingSelected()) { cm.indentSelection("add"); } else { cm.replaceSelection("    ", "end"); }
        },
        "Shift-Tab": function (cm) { cm.indentSelection("subtract"); }
      }
    });
    editor.getWrapperElement().setAttribute("data-grade-id", cell.grade_id);
    editor.on("change", changed);
    editors[cell.grade_id] = editor;
  });
  if (local && !local.synced) { save(); }

  form.addEventListener("submit", function () {
    document.getElementById("answers-json").value = JSON.stringify(answers());
    remember(answers(), true);
  });
}());
