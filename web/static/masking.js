// The masking review's boxes (web/templates/masking.html): drag on a page to add one, × to remove
// one; the form posts them with the clerk's active seconds. Enter in the 差し戻し reason box only
// moves to the 差し戻す button, so it never accepts the masking by accident; Ctrl+Enter accepts.
// Boxes are millimetres of the page (origin top-left); the sheet shows them as percentages.
(function () {
  var form = document.getElementById("decide");
  if (!form) { return; }
  var boxes = JSON.parse(document.getElementById("proposals").textContent), removed = [], next = 1;
  boxes.forEach(function (b) { b.kept = true; });
  function sheet(n) { return document.querySelector('.sheet[data-page="' + n + '"]'); }
  function mm(el, e) {
    var r = el.getBoundingClientRect();
    return [(e.clientX - r.left) / r.width * parseFloat(el.dataset.w), (e.clientY - r.top) / r.height * parseFloat(el.dataset.h)];
  }
  function draw() {
    document.querySelectorAll(".mask").forEach(function (m) { m.remove(); });
    var list = document.getElementById("list");
    list.innerHTML = "";
    boxes.forEach(function (b, i) {
      var s = sheet(b.page);
      if (!s) { return; }
      var w = parseFloat(s.dataset.w), h = parseFloat(s.dataset.h);
      var m = document.createElement("div");
      m.className = "mask" + (b.how === "clerk" ? " clerk" : "") + (b.problems && b.problems.length ? " doubt" : "");
      m.style.left = (b.x / w * 100) + "%"; m.style.top = (b.y / h * 100) + "%";
      m.style.width = (b.w / w * 100) + "%"; m.style.height = (b.h / h * 100) + "%";
      m.dataset.id = b.id;
      m.title = b.label + (b.problems && b.problems.length ? "：" + b.problems.join("、") : "");
      var x = document.createElement("button");
      x.type = "button"; x.textContent = "×"; x.title = "この枠を取り除く"; x.className = "remove";
      x.addEventListener("mousedown", function (e) { e.stopPropagation(); });
      x.addEventListener("click", function (e) {
        e.stopPropagation();
        if (b.how !== "clerk") { removed.push(b); }
        boxes.splice(boxes.indexOf(b), 1);
        draw();
      });
      m.appendChild(x);
      s.appendChild(m);
      var li = document.createElement("li");
      li.textContent = b.page + "ページ目：" + b.label + (b.how === "clerk" ? "（追加）" : "") +
        (b.problems && b.problems.length ? "　" + b.problems.join("、") : "");
      if (b.problems && b.problems.length) { li.className = "problem"; }
      list.appendChild(li);
    });
    document.getElementById("count").textContent = "（" + boxes.length + "箇所）";
  }
  document.querySelectorAll(".sheet").forEach(function (s) {
    s.style.aspectRatio = s.dataset.w + " / " + s.dataset.h;  // set here: the CSP allows no style attributes
    var start = null, band = null;
    s.addEventListener("mousedown", function (e) {
      if (e.button !== 0) { return; }
      start = mm(s, e);
      band = document.createElement("div"); band.className = "band"; s.appendChild(band);
      e.preventDefault();
    });
    window.addEventListener("mousemove", function (e) {
      if (!start) { return; }
      var p = mm(s, e), w = parseFloat(s.dataset.w), h = parseFloat(s.dataset.h);
      band.style.left = (Math.min(start[0], p[0]) / w * 100) + "%"; band.style.top = (Math.min(start[1], p[1]) / h * 100) + "%";
      band.style.width = (Math.abs(p[0] - start[0]) / w * 100) + "%"; band.style.height = (Math.abs(p[1] - start[1]) / h * 100) + "%";
    });
    window.addEventListener("mouseup", function (e) {
      if (!start) { return; }
      var p = mm(s, e), x0 = Math.min(start[0], p[0]), y0 = Math.min(start[1], p[1]);
      var bw = Math.abs(p[0] - start[0]), bh = Math.abs(p[1] - start[1]);
      start = null; band.remove(); band = null;
      if (bw < 1 || bh < 1) { return; }  // a click, not a drag
      boxes.push({id: "clerk_" + (next++), page: parseInt(s.dataset.page, 10), x: x0, y: y0, w: bw, h: bh,
                  label: "手動で追加", how: "clerk", problems: []});
      draw();
    });
  });
  var active = 0, last = Date.now(), idle = (parseInt(form.dataset.idle, 10) || 120) * 1000;
  ["keydown", "mousedown", "mousemove", "wheel"].forEach(function (e) {
    document.addEventListener(e, function () { last = Date.now(); }, true);
  });
  setInterval(function () {
    if (document.visibilityState === "visible" && Date.now() - last < idle) { active += 1; }
  }, 1000);
  function pack(list) { return JSON.stringify(list.map(function (b) { return {page: b.page, x: b.x, y: b.y, w: b.w, h: b.h}; })); }
  form.addEventListener("submit", function () {
    document.getElementById("boxes").value = pack(boxes);
    document.getElementById("removed").value = pack(removed);
    document.getElementById("active_seconds").value = active;
  });
  var reason = document.getElementById("reason");
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || e.isComposing) { return; }  // Enter that ends IME conversion is not a command
    if (e.target === reason) {  // never the page's first button (確定): only on to 差し戻す
      e.preventDefault();
      if (reason.value.trim()) { document.getElementById("reject").focus(); }
      return;
    }
    if (e.ctrlKey || e.metaKey) { e.preventDefault(); document.getElementById("accept").click(); }
  });
  draw();
})();
