// The review screen: zones on the page image follow the focused field, zoom and pan, keyboard for
// everything (Enter next field, Ctrl+Enter confirm, Alt+R reason for 差し戻し, Esc back to the
// queue), and the clerk's active time on the page (what the KPI counts as minutes a person spends).
// In the reason box Enter never confirms: it moves to the 差し戻す button, so sending a document
// back is a deliberate second press. Enter that ends an IME conversion is not a command.
(function () {
  "use strict";
  var form = document.getElementById("review");
  var viewer = document.querySelector(".viewer .scroller");
  var pageboxes = Array.prototype.slice.call(document.querySelectorAll(".pagebox"));
  var toast = document.getElementById("toast");
  if (toast && !toast.classList.contains("hidden")) {
    setTimeout(function () { toast.classList.add("hidden"); }, 4000);
  }

  // --- zones: every field's box drawn on its page, in the form's millimetres (the page images are
  // the pages as registered, so the form's coordinates are the image's) ---
  function placeZones(box) {
    var img = box.querySelector("img");
    if (!img || !img.naturalWidth) { return; }
    var dpi = parseFloat(img.dataset.dpi);
    var wmm = img.naturalWidth / dpi * 25.4, hmm = img.naturalHeight / dpi * 25.4;
    box.querySelectorAll(".zone").forEach(function (z) {
      var b = z.dataset.box.split(",").map(parseFloat);
      z.style.left = (b[0] / wmm * 100) + "%";
      z.style.top = (b[1] / hmm * 100) + "%";
      z.style.width = (b[2] / wmm * 100) + "%";
      z.style.height = (b[3] / hmm * 100) + "%";
    });
  }
  pageboxes.forEach(function (box) {
    var img = box.querySelector("img");
    if (!img) { return; }
    function loaded() {
      placeZones(box);
      var current = document.querySelector(".zone.current");  // a page above may have just grown
      if (current) { showZone(current.dataset.field); }
    }
    if (img.complete) { placeZones(box); }
    img.addEventListener("load", loaded);
  });

  function zoneOf(name) { return viewer ? viewer.querySelector('.zone[data-field="' + name + '"]') : null; }

  var pageNow = document.getElementById("page-now");
  function markPage(box) {
    if (!pageNow || !box) { return; }
    pageNow.textContent = box.dataset.page + " / " + pageboxes.length + " ページ";
    document.querySelectorAll("[data-goto-page]").forEach(function (b) {
      b.setAttribute("aria-current", b.dataset.gotoPage === box.dataset.page ? "page" : "false");
    });
  }

  function showZone(name) {
    document.querySelectorAll(".zone.current, .field.current").forEach(function (e) { e.classList.remove("current"); });
    var field = document.querySelector('.field[data-field="' + name + '"]');
    if (field) { field.classList.add("current"); }
    var z = zoneOf(name);
    if (!z || !viewer) { return; }
    z.classList.add("current");
    markPage(z.closest(".pagebox"));
    var zr = z.getBoundingClientRect(), vr = viewer.getBoundingClientRect();
    viewer.scrollLeft += (zr.left + zr.width / 2) - (vr.left + vr.width / 2);
    viewer.scrollTop += (zr.top + zr.height / 2) - (vr.top + vr.height / 2);
  }

  document.querySelectorAll("[data-goto-page]").forEach(function (b) {
    b.addEventListener("click", function () {
      var box = document.querySelector('.pagebox[data-page="' + b.dataset.gotoPage + '"]');
      if (!box || !viewer) { return; }
      viewer.scrollTop += box.getBoundingClientRect().top - viewer.getBoundingClientRect().top;
      markPage(box);
    });
  });

  // --- zoom (+/−, Ctrl+wheel) and pan (drag) ---
  var zoom = 1;
  function setZoom(z) {
    zoom = Math.min(4, Math.max(0.5, z));
    pageboxes.forEach(function (box) { box.style.width = (zoom * 100) + "%"; });
    var label = document.getElementById("zoom-level");
    if (label) { label.textContent = Math.round(zoom * 100) + "%"; }
    var current = document.querySelector(".zone.current");
    if (current) { showZone(current.dataset.field); }
  }
  document.querySelectorAll("[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () { setZoom(b.dataset.zoom === "in" ? zoom * 1.25 : b.dataset.zoom === "out" ? zoom / 1.25 : 1); });
  });
  if (viewer) {
    viewer.addEventListener("wheel", function (e) {
      if (!e.ctrlKey) { return; }
      e.preventDefault();
      setZoom(e.deltaY < 0 ? zoom * 1.1 : zoom / 1.1);
    }, { passive: false });
    var drag = null;
    viewer.addEventListener("mousedown", function (e) {
      drag = { x: e.clientX, y: e.clientY, left: viewer.scrollLeft, top: viewer.scrollTop };
      viewer.classList.add("dragging");
      e.preventDefault();
    });
    document.addEventListener("mousemove", function (e) {
      if (!drag) { return; }
      viewer.scrollLeft = drag.left - (e.clientX - drag.x);
      viewer.scrollTop = drag.top - (e.clientY - drag.y);
    });
    document.addEventListener("mouseup", function () { drag = null; viewer.classList.remove("dragging"); });
  }

  if (!form) { return; }  // a decided document: read only

  // --- active time ---
  var active = 0, last = Date.now(), idle = parseFloat(form.dataset.idle || "120") * 1000;
  var activeInput = document.getElementById("active_seconds");
  ["keydown", "mousedown", "mousemove", "wheel", "focusin"].forEach(function (e) {
    document.addEventListener(e, function () { last = Date.now(); }, true);
  });
  setInterval(function () {
    if (document.visibilityState === "visible" && Date.now() - last < idle) { active += 1; }
    activeInput.value = active;
  }, 1000);

  // --- keyboard ---
  var values = Array.prototype.slice.call(form.querySelectorAll(".value"));
  var reason = document.getElementById("reason");
  form.addEventListener("focusin", function (e) {
    var field = e.target.closest(".field");
    if (!field) { return; }
    showZone(field.dataset.field);
    if (e.target.select) { e.target.select(); }  // typing replaces what the bot read
  });
  function submit(action) {
    activeInput.value = active;
    document.getElementById(action).click();
  }
  form.addEventListener("keydown", function (e) {
    if (e.isComposing) { return; }
    if (e.target === reason) {
      if (e.key === "Enter") {
        e.preventDefault();
        if (reason.value.trim()) { document.getElementById("reject").focus(); }
      } else if (e.key === "Escape") { e.preventDefault(); (values[0] || reason).focus(); }
      return;
    }
    if (e.target.id === "reject" || e.target.id === "confirm") { return; }  // a focused button's own Enter
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); submit("confirm"); return; }
    if (e.key === "Enter" && e.target.classList.contains("value")) {
      e.preventDefault();  // Enter moves to the next field; on the last one it confirms
      var i = values.indexOf(e.target);
      if (i >= 0 && i < values.length - 1) { values[i + 1].focus(); } else { submit("confirm"); }
    }
  });
  document.addEventListener("keydown", function (e) {
    if (e.isComposing) { return; }
    if (e.altKey && (e.key === "r" || e.key === "R" || e.code === "KeyR")) { e.preventDefault(); reason.focus(); return; }
    if (e.key === "Escape" && e.target !== reason) { e.preventDefault(); window.location.href = form.dataset.back || "/review"; }
  });
  form.addEventListener("submit", function () { activeInput.value = active; });
  var first = form.querySelector('.value[aria-invalid="true"]') || values[0];
  if (reason && reason.value) { reason.focus(); } else if (first) { first.focus(); }
})();
