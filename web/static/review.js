// The review page's keys and the time a clerk spends on it (web/templates/review.html).
//
// Active time: seconds while the tab is visible and the clerk has touched a key or the mouse in the
// last data-idle seconds — what the KPI counts as minutes a person still spends.
// Keys: Enter moves to the next field and confirms on the last one; Ctrl+Enter confirms. In the
// 差し戻し reason box Enter never confirms: it only moves to the 差し戻す button, so sending a
// document back is always a deliberate second press.
(function () {
  "use strict";
  var form = document.getElementById("review");
  if (!form) { return; }
  var idle = (parseInt(form.dataset.idle, 10) || 120) * 1000;
  var active = 0, last = Date.now();
  var seconds = document.getElementById("active_seconds");
  var confirmButton = document.getElementById("confirm");
  var rejectButton = document.getElementById("reject");
  var reason = document.getElementById("reason");

  ["keydown", "mousedown", "mousemove", "wheel", "focusin"].forEach(function (e) {
    document.addEventListener(e, function () { last = Date.now(); }, true);
  });
  setInterval(function () {
    if (document.visibilityState === "visible" && Date.now() - last < idle) { active += 1; }
    seconds.value = active;
  }, 1000);

  var values = Array.prototype.slice.call(form.querySelectorAll(".value"));
  if (values.length && !(reason && reason.value)) { values[0].focus(); }

  form.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || e.isComposing) { return; }  // Enter that ends IME conversion is not a command
    if (e.target === reason) {
      e.preventDefault();
      if (reason.value.trim()) { rejectButton.focus(); }
      return;
    }
    if (e.ctrlKey || e.metaKey) { e.preventDefault(); confirmButton.click(); return; }
    if (e.target.classList.contains("value")) {
      e.preventDefault();
      var i = values.indexOf(e.target);
      if (i >= 0 && i < values.length - 1) {
        values[i + 1].focus();
        if (values[i + 1].select) { values[i + 1].select(); }
      } else {
        confirmButton.click();
      }
    }
  });
  form.addEventListener("submit", function () { seconds.value = active; });
})();
