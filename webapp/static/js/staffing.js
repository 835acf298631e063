// Staffing pages: say that the optimiser is working while a plan is being solved.
"use strict";

document.querySelectorAll("form[data-solving-form]").forEach((form) => {
  form.addEventListener("submit", () => {
    const note = form.querySelector("[data-solving-note]");
    const button = form.querySelector("button[type=submit]");
    if (note) note.hidden = false;
    if (button) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    }
  });
});
