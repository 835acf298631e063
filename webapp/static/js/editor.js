/* Answer cells as code editors (CodeMirror, served by this app), with autosave to the server and
   a copy in this browser, so a reload or a lost connection loses nothing typed.

   The copy in this browser records which server draft it was typed over (``base``, the draft's
   saved-at time). An unsent copy wins over the server's draft only while that draft is the one it
   was typed over: a newer server draft (answers loaded from an upload, or typed in another
   browser) wins. Comparing server times with server times keeps a wrong clock out of it.

   Keyboard: Tab indents; Esc then Tab (or Shift-Tab) leaves the editor, so it is no trap. */
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
  var serverSavedAt = bar.getAttribute("data-draft-saved-at") || "";
  var base = serverSavedAt;  // the server draft the editors hold, updated by each save
  var editors = {};
  window.skillforgeEditors = editors;  // live.js runs and checks what they hold
  var timer = null;

  function stored() {
    try { return JSON.parse(window.localStorage.getItem(storageKey) || "null"); } catch (e) { return null; }
  }
  function remember(answers, synced) {
    var copy = { answers: answers, synced: synced, base: base, at: Date.now() };
    try { window.localStorage.setItem(storageKey, JSON.stringify(copy)); } catch (e) { /* private mode */ }
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
      return response.json();
    }).then(function (saved) {
      base = saved.saved_at || base;
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

  function newerThanServer(copy) {
    if (!copy || copy.synced || !copy.answers) { return false; }
    if (!serverSavedAt) { return true; }
    if (typeof copy.base === "string") {  // typed over the server draft that is still current
      return copy.base !== "" && Date.parse(copy.base) >= Date.parse(serverSavedAt);
    }
    return typeof copy.at === "number" && copy.at > Date.parse(serverSavedAt);  // an older copy
  }
  var local = stored();
  if (!newerThanServer(local)) { local = null; }

  // Esc arms "leave": a key map that gives the next Tab or Shift-Tab to the browser (false:
  // CodeMirror leaves the key alone), which moves the focus; any other key or a blur disarms it.
  var LEAVE = { "Tab": false, "Shift-Tab": false };
  function arm(cm) { if (!cm.state.leaving) { cm.state.leaving = true; cm.addKeyMap(LEAVE); } }
  function disarm(cm) { if (cm.state.leaving) { cm.state.leaving = false; cm.removeKeyMap(LEAVE); } }
  cells.forEach(function (cell) {
    var host = document.getElementById("user-content-cell-id=" + cell.cell_id);
    if (!host) { return; }
    var target = host.querySelector(".input_area") || host.querySelector(".text_cell_render") || host;
    var value = cell.source;
    if (local && typeof local.answers[cell.grade_id] === "string") {
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
        "Esc": arm,
        "Tab": function (cm) {
          if (cm.somethingSelected()) { cm.indentSelection("add"); } else { cm.replaceSelection("    ", "end"); }
        },
        "Shift-Tab": function (cm) { cm.indentSelection("subtract"); }
      }
    });
    editor.on("keydown", function (cm, event) {
      if (["Escape", "Tab", "Shift"].indexOf(event.key) < 0) { disarm(cm); }
    });
    editor.on("blur", disarm);
    editor.getInputField().setAttribute("aria-describedby", "editor-keys");
    editor.getWrapperElement().setAttribute("data-grade-id", cell.grade_id);
    editor.on("change", changed);
    editors[cell.grade_id] = editor;
  });
  if (local) { save(); } else { remember(answers(), true); }  // a stale copy gives way

  form.addEventListener("submit", function () {
    document.getElementById("answers-json").value = JSON.stringify(answers());
    remember(answers(), true);
  });
}());
