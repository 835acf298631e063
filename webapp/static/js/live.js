/* Live kernel on the notebook page: run cells (outputs stream in as they come), run all, interrupt,
   restart, scratch cells, and Check for each exercise. The server sanitises every output exactly
   like a rendered notebook; this script only places the HTML it is given. */
(function () {
  "use strict";
  var bar = document.querySelector("[data-testid=kernel-bar]");
  var data = document.getElementById("live-cells");
  if (!bar || !data) { return; }
  var cells = JSON.parse(data.textContent);
  var base = bar.getAttribute("data-kernel-url");
  var checkUrl = bar.getAttribute("data-check-url");
  var storageKey = bar.getAttribute("data-storage-key");
  var tokenInput = document.querySelector("input[name=csrf_token]");
  var token = tokenInput ? tokenInput.value : "";
  var stateEl = document.getElementById("kernel-state");
  var messageEl = document.getElementById("kernel-message");
  var running = false;
  var pending = 0;
  var queue = Promise.resolve();
  var generation = 0;  // bumped by Interrupt/Restart/Stop: queued runs of an older generation are dropped
  var views = [];

  function setState(text, kind) {
    stateEl.textContent = text;
    stateEl.className = "kernel-state badge text-bg-" + (kind || "secondary");
  }
  function say(text) { messageEl.textContent = text || ""; }
  function showIdle() {
    var startButton = bar.querySelector("[data-kernel=start]");
    if (startButton) { startButton.hidden = running; }
    if (!running) { setState("No kernel", "secondary"); return; }
    setState(pending ? "Busy" : "Idle", pending ? "warning" : "success");
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body || {})
    });
  }
  function failed(response) {
    return response.json().then(function (body) { return body.message || body.error; },
      function () { return "The server answered " + response.status + "; reload the page and try again."; });
  }

  function start() {
    if (running) { return Promise.resolve(true); }
    setState("Starting…", "info");
    return post(base).then(function (response) {
      if (!response.ok) {
        return failed(response).then(function (message) { say(message); running = false; showIdle(); return false; });
      }
      running = true;
      say("");
      showIdle();
      return true;
    }, function () { say("The server is unreachable; check your connection."); showIdle(); return false; });
  }

  /* Read newline-delimited JSON events from a streamed response, calling onEvent for each. */
  function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        buffer += decoder.decode(chunk.value || new Uint8Array(), { stream: !chunk.done });
        var lines = buffer.split("\n");
        buffer = lines.pop();
        lines.forEach(function (line) { if (line.trim()) { onEvent(JSON.parse(line)); } });
        if (!chunk.done) { return pump(); }
        if (buffer.trim()) { onEvent(JSON.parse(buffer)); }
      });
    }
    return pump();
  }

  function streamed(url, body, view, onEvent) {
    return start().then(function (ok) {
      if (!ok) { view.setPrompt(" "); return null; }
      return post(url, body).then(function (response) {
        if (!response.ok) {
          return failed(response).then(function (message) {
            if (response.status === 409) { running = false; }
            say(message);
            view.setPrompt(" ");
            return null;
          });
        }
        var last = null;
        return readEvents(response, function (event) {
          if (event.event === "error") { say(event.message); running = event.running; }
          onEvent(event);
          last = event;
        }).then(function () { return last; });
      });
    });
  }

  function enqueue(task) {
    var mine = generation;
    pending += 1;
    showIdle();
    var next = queue.then(function () { return mine === generation ? task() : null; });
    queue = next.catch(function () { say("The connection to the kernel was lost; run the cell again."); })
      .then(function () { pending -= 1; showIdle(); });
    return next;
  }

  function CellView(host, cell) {
    this.host = host;
    this.cell = cell;
    this.prompt = host.querySelector(".input_prompt");
    this.output = document.createElement("div");
    this.output.className = "live-output";
    this.output.setAttribute("aria-live", "polite");
    this.output.setAttribute("data-testid", "live-output");
    var input = host.querySelector(".input") || host;
    input.after(this.output);
  }
  CellView.prototype.setPrompt = function (n) {
    if (this.prompt) { this.prompt.textContent = "In [" + (n === null || n === undefined ? " " : n) + "]:"; }
  };
  CellView.prototype.code = function () {
    if (this.cell.kind === "answer") {
      var editor = (window.skillforgeEditors || {})[this.cell.grade_id];
      return editor ? editor.getValue() : "";
    }
    return this.cell.source;
  };
  CellView.prototype.clear = function () {
    this.output.innerHTML = "";
    var old = this.host.querySelector(".output_wrapper");
    if (old) { old.hidden = true; }  // the instructor's output, replaced by this run's
  };
  CellView.prototype.show = function (event) {
    if (event.event === "output") { this.output.insertAdjacentHTML("beforeend", event.html); typeset(this.output); }
    else if (event.event === "clear") { this.output.innerHTML = ""; }
    else if (event.event === "count") { this.setPrompt(event.n); }
  };
  CellView.prototype.run = function () {
    var view = this;
    view.setPrompt("*");
    return enqueue(function () {
      view.clear();
      return streamed(base + "/run", { code: view.code() }, view, function (event) {
        view.show(event);
        if (event.event === "done" && event.status === "restarted") {
          say("The kernel stopped (out of memory or time) and restarted; run the cells above again.");
        }
      });
    });
  };

  function typeset(el) {
    if (typeof window.renderMathInElement === "function") {
      window.renderMathInElement(el, { delimiters: [{ left: "$$", right: "$$", display: true }, { left: "$", right: "$", display: false }], throwOnError: false });
    }
  }

  function allEditorAnswers() {
    var out = {};
    var editors = window.skillforgeEditors || {};
    Object.keys(editors).forEach(function (gid) { out[gid] = editors[gid].getValue(); });
    return out;
  }

  function check(view, resultEl) {
    resultEl.className = "live-check alert alert-secondary py-2 mt-2";
    resultEl.textContent = "Checking…";
    view.setPrompt("*");
    return enqueue(function () {
      view.clear();
      var url = checkUrl.replace("GRADE_ID", encodeURIComponent(view.cell.grade_id));
      return streamed(url, { answers: allEditorAnswers() }, view, function (event) {
        if (event.event === "output") { view.show(event); }
        if (event.event === "checked") { showCheck(resultEl, event); }
      }).then(function (last) {
        if (!last || last.event !== "checked") { resultEl.textContent = "Not checked: " + (messageEl.textContent || "the kernel did not answer."); }
        view.setPrompt(" ");
      });
    });
  }

  function showCheck(el, event) {
    el.innerHTML = "";
    el.className = "live-check alert py-2 mt-2 " + (event.passed ? "alert-success" : "alert-danger");
    var title = document.createElement("strong");
    title.textContent = event.passed ? "Passed the visible tests. " : "Not yet. ";
    el.appendChild(title);
    el.appendChild(document.createTextNode(event.passed ? "Submit to have the hidden tests verify it." : event.message));
    if (event.line) {
      var line = document.createElement("div");
      line.className = "small mt-1";
      line.appendChild(document.createTextNode("Failing line: "));
      var code = document.createElement("code");
      code.textContent = event.line;
      line.appendChild(code);
      el.appendChild(line);
    }
  }

  function button(label, aria, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-sm btn-outline-secondary";
    b.textContent = label;
    if (aria) { b.setAttribute("aria-label", aria); }
    b.addEventListener("click", onClick);
    return b;
  }

  function runAllUpTo(index) {
    for (var i = 0; i < index; i += 1) { views[i].run(); }
  }

  /* --- scratch cells: the engineer's own, never graded, kept in this browser ------------------ */
  function savedScratch() {
    try { return JSON.parse(window.localStorage.getItem(storageKey) || "[]"); } catch (e) { return []; }
  }
  var scratch = [];
  function storeScratch() {
    try {
      window.localStorage.setItem(storageKey, JSON.stringify(scratch.map(function (s) { return { after: s.after, source: s.editor.getValue() }; })));
    } catch (e) { /* private mode: scratch cells last until reload */ }
  }
  function addScratch(afterHost, afterId, source, focus) {
    if (typeof window.CodeMirror !== "function") { return; }
    var box = document.createElement("div");
    box.className = "scratch-cell card my-2";
    box.setAttribute("data-testid", "scratch-cell");
    var head = document.createElement("div");
    head.className = "card-header py-1 small d-flex gap-2 align-items-center";
    head.appendChild(document.createTextNode("Scratch cell (never graded)"));
    var body = document.createElement("div");
    body.className = "card-body p-1";
    box.appendChild(head);
    box.appendChild(body);
    afterHost.after(box);
    var entry = { after: afterId };
    var fake = { querySelector: function () { return null; }, after: function () {} };
    var view = new CellView(fake, { kind: "scratch", source: "" });
    var runButton = button("Run", "Run scratch cell", function () { view.run(); });
    head.appendChild(runButton);
    head.appendChild(button("Remove", "Remove scratch cell", function () {
      scratch = scratch.filter(function (s) { return s !== entry; });
      box.remove();
      storeScratch();
    }));
    entry.editor = window.CodeMirror(body, {
      value: source || "", mode: "python", lineNumbers: true, indentUnit: 4, viewportMargin: Infinity,
      screenReaderLabel: "Scratch cell code",
      extraKeys: {
        "Shift-Enter": function () { view.run(); },
        "Esc": function () { runButton.focus(); },
        "Tab": function (cm) { cm.replaceSelection("    ", "end"); }
      }
    });
    view.code = function () { return entry.editor.getValue(); };
    body.after(view.output);
    entry.editor.on("change", storeScratch);
    scratch.push(entry);
    storeScratch();
    if (focus) { entry.editor.focus(); }
  }

  /* --- wiring ----------------------------------------------------------------------------------- */
  cells.forEach(function (cell, index) {
    var host = document.getElementById("user-content-cell-id=" + cell.cell_id);
    if (!host) { return; }
    var view = new CellView(host, cell);
    views.push(view);
    var tools = document.createElement("div");
    tools.className = "live-tools d-flex flex-wrap gap-1 my-1";
    var position = views.length;
    tools.appendChild(button("Run", "Run cell " + position, function () { view.run(); }));
    tools.appendChild(button("Run all above", "Run all above cell " + position, function () { runAllUpTo(position - 1); }));
    var resultEl = null;
    if (cell.kind === "test" && cell.points > 0) {
      resultEl = document.createElement("div");
      resultEl.setAttribute("data-testid", "check-result");
      resultEl.setAttribute("aria-live", "polite");
      var checkButton = button("Check", "Check exercise " + cell.grade_id, function () { check(view, resultEl); });
      checkButton.className = "btn btn-sm btn-outline-primary";
      checkButton.setAttribute("data-testid", "check");
      tools.appendChild(checkButton);
    }
    tools.appendChild(button("Add a scratch cell", "Add a scratch cell below cell " + position, function () { addScratch(host, cell.cell_id, "", true); }));
    (host.querySelector(".input") || host).before(tools);
    if (resultEl) { view.output.after(resultEl); }
    var editor = cell.kind === "answer" ? (window.skillforgeEditors || {})[cell.grade_id] : null;
    if (editor) { editor.addKeyMap({ "Shift-Enter": function () { view.run(); } }); }
  });
  savedScratch().forEach(function (s) {
    var host = document.getElementById("user-content-cell-id=" + s.after);
    if (host) { addScratch(host, s.after, s.source, false); }
  });

  function control(action) {
    generation += 1;
    if (!running && action !== "start") { say("No kernel is running."); return; }
    if (action === "start") { start(); return; }
    setState(action === "restart" ? "Restarting…" : action === "stop" ? "Stopping…" : "Interrupting…", "info");
    post(base + "/" + action).then(function (response) {
      if (!response.ok) { return failed(response).then(function (m) { say(m); if (response.status === 409) { running = false; } showIdle(); }); }
      if (action === "stop") { running = false; say("Kernel stopped."); }
      if (action === "restart") { say("Kernel restarted: its variables are gone; run the cells above again."); views.forEach(function (v) { v.setPrompt(" "); }); }
      if (action === "interrupt") { say("Interrupted."); }
      showIdle();
    }, function () { say("The server is unreachable; check your connection."); showIdle(); });
  }
  bar.querySelectorAll("[data-kernel]").forEach(function (b) {
    b.addEventListener("click", function () {
      var action = b.getAttribute("data-kernel");
      if (action === "run-all") { runAllUpTo(views.length); } else { control(action); }
    });
  });

  fetch(base, { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (r) { return r.ok ? r.json() : { running: false }; })
    .then(function (body) {
      running = !!body.running;
      if (!running) { say("A kernel starts when you run a cell."); }
      showIdle();
    }, function () { showIdle(); });
}());
