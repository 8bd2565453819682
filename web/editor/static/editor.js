// kakari zone editor: the blank (or a filled sample) with every reading zone drawn over it.
// Zones are kept in millimetres from the page's top-left corner (the template's unit); the page
// image is scaled to the screen, so px = mm × scale(). Every change is read again from the sample
// at once (POST /read with the unsaved zones); 保存 writes them into the bot's TOML (POST /save).
(function () {
  "use strict";
  var boot = JSON.parse(document.getElementById("boot").textContent);
  var csrf = document.getElementById("editor").dataset.csrf;
  var model = boot.model;
  var SVG = "http://www.w3.org/2000/svg";
  var $ = function (id) { return document.getElementById(id); };
  var img = $("page"), svg = $("zones"), canvas = $("canvas");
  var state = { sel: null, mode: "select", drag: null, readings: {}, sample: boot.sample || "", dirty: false };
  var pendingAll = false, pendingNames = {}, readTimer = null;

  function scale() { return img.clientWidth / boot.page.w; }
  function r1(v) { return Math.round(v * 10) / 10; }
  function status(text, bad) { var s = $("status"); s.textContent = text; s.className = bad ? "error" : ""; }

  // -- the model ---------------------------------------------------------------------------
  function field(name) { return model.fields.find(function (f) { return f.name === name; }); }
  function table(name) { return model.tables.find(function (t) { return t.name === name; }); }
  function selected() {
    if (!state.sel) { return null; }
    if (state.sel.type === "field") { return field(state.sel.name); }
    var t = table(state.sel.table);
    return t ? t.columns.find(function (c) { return c.name === state.sel.col; }) : null;
  }
  function zonesOf(f) {  // [{rect, part, key}] of one field
    if (f.box) { return [{ rect: f.box, part: "box" }]; }
    if (f.parts) { return f.parts.map(function (r, i) { return { rect: r, part: "parts", key: i }; }); }
    if (f.options) { return Object.keys(f.options).map(function (k) { return { rect: f.options[k], part: "options", key: k }; }); }
    return [];
  }
  function columnRect(t, c) { return [c.x, t.y, c.w, t.h || t.row_height]; }
  function cellNames(t, c) {
    var out = [];
    for (var i = 1; i <= t.rows; i++) { out.push(t.name + "_" + i + "_" + c.name); }
    return out;
  }
  function freeName(base) {
    var taken = {}, n = 1;
    model.fields.forEach(function (f) { taken[f.name] = 1; });
    model.tables.forEach(function (t) { taken[t.name] = 1; });
    while (taken[base + "_" + String(n).padStart(2, "0")]) { n++; }
    return base + "_" + String(n).padStart(2, "0");
  }
  function touch(names) {
    state.dirty = true;
    status("未保存の変更があります");
    read(names);
  }

  // -- drawing -----------------------------------------------------------------------------
  function el(name, attrs, parent) {
    var e = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    (parent || svg).appendChild(e);
    return e;
  }
  function drawRect(rect, cls, data) {
    var s = scale();
    var e = el("rect", { x: rect[0] * s, y: rect[1] * s, width: Math.max(1, rect[2] * s), height: Math.max(1, rect[3] * s), "class": cls });
    Object.keys(data).forEach(function (k) { e.dataset[k] = data[k]; });
    return e;
  }
  function handle(rect, data) {
    var s = scale();
    var h = el("rect", { x: (rect[0] + rect[2]) * s - 5, y: (rect[1] + rect[3]) * s - 5, width: 9, height: 9, "class": "handle" });
    Object.keys(data).forEach(function (k) { h.dataset[k] = data[k]; });
    h.dataset.resize = "1";
  }
  function tag(rect, text, doubt) {
    var s = scale();
    var t = el("text", { x: rect[0] * s + 2, y: Math.max(10, rect[1] * s - 3), "class": "tag" + (doubt ? " doubt" : "") });
    t.textContent = text;
  }
  function reading(names) {
    var out = names.map(function (n) { return state.readings[n]; }).filter(Boolean);
    return out.length ? out : null;
  }
  function render() {
    svg.innerHTML = "";
    svg.setAttribute("width", img.clientWidth);
    svg.setAttribute("height", img.clientHeight);
    model.fields.forEach(function (f) {
      var sel = state.sel && state.sel.type === "field" && state.sel.name === f.name;
      var rd = state.readings[f.name];
      var doubt = rd && rd.doubt;
      zonesOf(f).forEach(function (z) {
        drawRect(z.rect, "zone" + (sel ? " selected" : "") + (doubt ? " doubt" : ""),
                 { field: f.name, part: z.part, key: z.key === undefined ? "" : String(z.key) });
        if (sel) { handle(z.rect, { field: f.name, part: z.part, key: z.key === undefined ? "" : String(z.key) }); }
        if (z.part === "options") { tag([z.rect[0], z.rect[1] + z.rect[3] + 11 / scale(), 0, 0], z.key, false); }
      });
      var zs = zonesOf(f);
      if (zs.length) { tag(zs[0].rect, f.label + (rd ? "：" + (rd.value || "（空）") : ""), doubt); }
    });
    model.tables.forEach(function (t) {
      t.columns.forEach(function (c) {
        var rect = columnRect(t, c);
        var sel = state.sel && state.sel.type === "column" && state.sel.table === t.name && state.sel.col === c.name;
        var rd = reading(cellNames(t, c));
        var doubt = rd && rd.some(function (x) { return x.doubt; });
        drawRect(rect, "zone" + (sel ? " selected" : "") + (doubt ? " doubt" : ""), { table: t.name, col: c.name });
        if (sel) { handle(rect, { table: t.name, col: c.name }); }
        for (var i = 1; i < t.rows; i++) { drawRect([rect[0], rect[1] + i * t.row_height, rect[2], rect[3]], "row", {}); }
        tag(rect, c.label + (rd && rd[0] ? "：" + (rd[0].value || "（空）") : ""), doubt);
      });
    });
    renderList();
  }
  function renderList() {
    var list = $("field-list");
    list.innerHTML = "";
    var n = 0;
    model.fields.forEach(function (f) {
      var rd = state.readings[f.name];
      var li = item(f.label + "（" + typeTitle(f.type) + "）", rd ? (rd.value || "（空）") + " " + rd.confidence.toFixed(2) : "",
                    rd && rd.doubt);
      li.dataset.field = f.name;
      if (state.sel && state.sel.type === "field" && state.sel.name === f.name) { li.className += " selected"; }
      li.addEventListener("click", function () { select({ type: "field", name: f.name }); });
      list.appendChild(li);
      n++;
    });
    model.tables.forEach(function (t) {
      t.columns.forEach(function (c) {
        var rd = reading(cellNames(t, c));
        var li = item((t.label || t.name) + "・" + c.label + "（" + t.rows + "行）",
                      rd ? rd.filter(function (x) { return x.value; }).length + "行に記入" : "", rd && rd.some(function (x) { return x.doubt; }));
        li.dataset.table = t.name;
        li.dataset.col = c.name;
        if (state.sel && state.sel.type === "column" && state.sel.table === t.name && state.sel.col === c.name) { li.className += " selected"; }
        li.addEventListener("click", function () { select({ type: "column", table: t.name, col: c.name }); });
        list.appendChild(li);
        n++;
      });
    });
    $("field-count").textContent = "(" + n + ")";
  }
  function item(text, value, doubt) {
    var li = document.createElement("li");
    if (doubt) { li.className = "doubt"; }
    li.appendChild(document.createTextNode(text));
    var v = document.createElement("span");
    v.className = "value";
    v.textContent = value;
    li.appendChild(v);
    return li;
  }
  function typeTitle(t) {
    var found = boot.types.find(function (x) { return x.name === t; });
    return found ? found.title : t;
  }

  // -- the selected item's properties -------------------------------------------------------
  function select(sel) {
    state.sel = sel;
    render();
    showProps();
  }
  function showProps() {
    var f = selected();
    var props = $("props");
    props.hidden = !f;
    if (!f) { return; }
    var column = state.sel.type === "column";
    $("props-title").textContent = column ? "表の列" : "項目";
    $("prop-name").value = f.name;
    $("prop-label").value = f.label;
    $("prop-type").value = f.type;
    $("prop-required").checked = !!f.required;
    $("prop-personal").checked = !!f.personal;
    $("prop-handwritten").checked = !!f.handwritten;
    $("prop-parts").hidden = column || !f.parts;
    $("prop-options").hidden = column || !f.options;
    $("prop-table").hidden = !column;
    if (!column && f.parts) { $("prop-format").value = f.format || ""; }
    if (!column && f.options) { renderOptions(f); }
    if (column) {
      var t = table(state.sel.table);
      $("table-rows").value = t.rows;
      $("table-pitch").value = t.row_height;
      $("table-minrows").value = t.min_rows || 0;
    }
    var where = column ? "表の列 (1行目の枠、点線は2行目以降)" : f.box ? "枠 1つ" : f.parts ? "文字ごとの枠 " + f.parts.length + "個" :
      f.options ? "選択肢の枠 " + Object.keys(f.options).length + "個" : "場所: " + f.locator + " (この画面では動かせません)";
    $("prop-locator").textContent = where;
    showReading();
  }
  function showReading() {
    var f = selected();
    var box = $("prop-reading");
    if (!f) { return; }
    var rd = state.sel.type === "column" ? reading(cellNames(table(state.sel.table), f)) : (state.readings[f.name] ? [state.readings[f.name]] : null);
    if (!state.sample) { box.textContent = "見本を選ぶと、ここに読み取り結果が出ます"; box.className = "reading"; return; }
    if (!rd) { box.textContent = "読み取り中…"; box.className = "reading"; return; }
    box.className = "reading" + (rd.some(function (x) { return x.doubt; }) ? " doubt" : "");
    box.textContent = "";
    rd.slice(0, 6).forEach(function (x, i) {
      var line = document.createElement("div");
      line.textContent = (rd.length > 1 ? (i + 1) + "行目: " : "読み取り: ") + (x.value || "（空）") + "  確信度 " + x.confidence.toFixed(2) +
        (x.problems.length ? "  " + x.problems.join("・") : "");
      box.appendChild(line);
    });
  }
  function renderOptions(f) {
    var ul = $("option-list");
    ul.innerHTML = "";
    Object.keys(f.options).forEach(function (k) {
      var li = document.createElement("li");
      var input = document.createElement("input");
      input.type = "text";
      input.value = k;
      input.dataset.option = k;
      input.addEventListener("change", function () {
        var name = input.value.trim();
        if (!name || name === k || f.options[name]) { input.value = k; return; }
        var next = {};
        Object.keys(f.options).forEach(function (o) { next[o === k ? name : o] = f.options[o]; });
        f.options = next;
        renderOptions(f);
        touch([f.name]);
        render();
      });
      var del = document.createElement("button");
      del.type = "button";
      del.className = "btn secondary";
      del.textContent = "×";
      del.title = "この選択肢を消す";
      del.addEventListener("click", function () {
        if (Object.keys(f.options).length <= 1) { return; }
        delete f.options[k];
        renderOptions(f);
        touch([f.name]);
        render();
      });
      li.appendChild(input);
      li.appendChild(del);
      ul.appendChild(li);
    });
  }
  function bindProps() {
    var types = $("prop-type");
    boot.types.forEach(function (t) {
      var o = document.createElement("option");
      o.value = t.name;
      o.textContent = t.title + " (" + t.name + ")";
      types.appendChild(o);
    });
    $("prop-name").addEventListener("change", function () {
      var f = selected(), name = this.value.trim();
      if (!f || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) { status("項目名は半角英数字と _ で書いてください (先頭は英字か _)", true); this.value = f ? f.name : ""; return; }
      if (state.sel.type === "field") {
        if (name !== f.name && field(name)) { status("同じ項目名があります", true); this.value = f.name; return; }
        state.readings[name] = state.readings[f.name];
        f.name = name;
        state.sel.name = name;
      } else {
        f.name = name;
        state.sel.col = name;
      }
      touch([]);
      render();
    });
    $("prop-label").addEventListener("input", function () {
      var f = selected();
      if (f) { f.label = this.value; state.dirty = true; status("未保存の変更があります"); render(); }
    });
    types.addEventListener("change", function () {
      var f = selected();
      if (!f) { return; }
      var was = f.type;
      f.type = this.value;
      if (state.sel.type === "field") { retype(f, was); }
      showProps();
      touch(names());
      render();
    });
    ["required", "personal", "handwritten"].forEach(function (k) {
      $("prop-" + k).addEventListener("change", function () {
        var f = selected();
        if (f) { f[k] = this.checked; touch(names()); }
      });
    });
    $("prop-format").addEventListener("change", function () {
      var f = selected();
      if (f) { f.format = this.value || null; touch([f.name]); }
    });
    $("btn-split").addEventListener("click", function () { split(parseInt($("split-count").value, 10)); });
    [["table-rows", "rows", 1], ["table-pitch", "row_height", 0], ["table-minrows", "min_rows", 1]].forEach(function (p) {
      $(p[0]).addEventListener("change", function () {
        var t = state.sel && state.sel.type === "column" ? table(state.sel.table) : null;
        var v = parseFloat(this.value);
        if (!t || isNaN(v) || v < 0) { return; }
        t[p[1]] = p[2] ? Math.round(v) : r1(v);
        touch(names());
        render();
      });
    });
  }
  function retype(f, was) {  // choices and check boxes read marks in zones; the others read text
    if (f.type === "choice" && !f.options) {
      var r = f.box || (f.parts && f.parts[0]);
      f.options = {};
      f.options["選択肢1"] = r;
      f.box = null; f.parts = null; f.format = null;
    } else if (f.type !== "choice" && f.options) {
      f.box = f.options[Object.keys(f.options)[0]];
      f.options = null;
    }
  }
  function names() {
    var f = selected();
    if (!f) { return []; }
    return state.sel.type === "column" ? cellNames(table(state.sel.table), f) : [f.name];
  }
  function split(n) {
    var f = selected();
    if (!f || state.sel.type !== "field" || !n || n < 2) { return; }
    var zs = zonesOf(f).map(function (z) { return z.rect; });
    var x0 = Math.min.apply(null, zs.map(function (r) { return r[0]; })), y0 = Math.min.apply(null, zs.map(function (r) { return r[1]; }));
    var x1 = Math.max.apply(null, zs.map(function (r) { return r[0] + r[2]; })), y1 = Math.max.apply(null, zs.map(function (r) { return r[1] + r[3]; }));
    var w = (x1 - x0) / n;
    f.parts = [];
    for (var i = 0; i < n; i++) { f.parts.push([r1(x0 + i * w + 0.3), r1(y0), r1(w - 0.6), r1(y1 - y0)]); }
    f.box = null; f.options = null;
    f.format = null;
    showProps();
    touch([f.name]);
    render();
  }

  // -- mouse: move, resize, draw ------------------------------------------------------------
  function mm(ev) {
    var b = svg.getBoundingClientRect(), s = scale();
    return [(ev.clientX - b.left) / s, (ev.clientY - b.top) / s];
  }
  function rectOf(data) {
    if (data.table) {
      var t = table(data.table), c = t.columns.find(function (x) { return x.name === data.col; });
      return { get: function () { return columnRect(t, c); },
               set: function (r) { c.x = r1(r[0]); t.y = r1(r[1]); c.w = r1(r[2]); if (t.h) { t.h = r1(r[3]); } else { t.row_height = r1(r[3]); } },
               names: cellNames(t, c) };
    }
    var f = field(data.field);
    return { get: function () {
               if (data.part === "box") { return f.box; }
               if (data.part === "parts") { return f.parts[parseInt(data.key, 10)]; }
               return f.options[data.key];
             },
             set: function (r) {
               r = r.map(r1);
               if (data.part === "box") { f.box = r; } else if (data.part === "parts") { f.parts[parseInt(data.key, 10)] = r; } else { f.options[data.key] = r; }
             },
             names: [f.name] };
  }
  svg.addEventListener("mousedown", function (ev) {
    ev.preventDefault();
    var t = ev.target;
    var p = mm(ev);
    if (state.mode !== "select") {
      state.drag = { draw: true, start: p, draft: el("rect", { "class": "draft", x: p[0] * scale(), y: p[1] * scale(), width: 1, height: 1 }) };
      return;
    }
    if (t.dataset && (t.dataset.field || t.dataset.table)) {
      var data = { field: t.dataset.field, part: t.dataset.part, key: t.dataset.key, table: t.dataset.table, col: t.dataset.col };
      select(data.table ? { type: "column", table: data.table, col: data.col } : { type: "field", name: data.field });
      var acc = rectOf(data);
      state.drag = { acc: acc, start: p, orig: acc.get().slice(), resize: t.dataset.resize === "1", moved: false, last: data };
      state.lastZone = data;
      return;
    }
    select(null);
  });
  window.addEventListener("mousemove", function (ev) {
    var d = state.drag;
    if (!d) { return; }
    var p = mm(ev), s = scale();
    if (d.draw) {
      var x = Math.min(p[0], d.start[0]), y = Math.min(p[1], d.start[1]);
      d.draft.setAttribute("x", x * s); d.draft.setAttribute("y", y * s);
      d.draft.setAttribute("width", Math.abs(p[0] - d.start[0]) * s); d.draft.setAttribute("height", Math.abs(p[1] - d.start[1]) * s);
      return;
    }
    var dx = p[0] - d.start[0], dy = p[1] - d.start[1];
    if (Math.abs(dx) + Math.abs(dy) < 0.2 && !d.moved) { return; }
    d.moved = true;
    var o = d.orig;
    d.acc.set(d.resize ? [o[0], o[1], Math.max(1, o[2] + dx), Math.max(1, o[3] + dy)] : [o[0] + dx, o[1] + dy, o[2], o[3]]);
    render();
  });
  window.addEventListener("mouseup", function (ev) {
    var d = state.drag;
    state.drag = null;
    if (!d) { return; }
    if (d.draw) {
      var p = mm(ev);
      var r = [r1(Math.min(p[0], d.start[0])), r1(Math.min(p[1], d.start[1])), r1(Math.abs(p[0] - d.start[0])), r1(Math.abs(p[1] - d.start[1]))];
      d.draft.remove();
      var mode = state.mode;
      setMode("select");
      if (r[2] < 1 || r[3] < 1) { return; }
      if (mode === "new") { addField(r); } else { addZone(r); }
      return;
    }
    if (d.moved) { touch(d.acc.names); }
  });
  function addField(r) {
    var f = { name: freeName("field"), orig: null, label: "新しい項目", type: "text", locator: "box", required: false,
              personal: false, handwritten: false, page: 1, box: r, parts: null, format: null, options: null };
    model.fields.push(f);
    select({ type: "field", name: f.name });
    touch([f.name]);
    $("prop-label").focus();
    $("prop-label").select();
  }
  function addZone(r) {
    var f = selected();
    if (!f || state.sel.type !== "field") { return; }
    if (f.options || f.type === "choice" || f.type === "checkbox") {
      if (!f.options) { f.options = {}; if (f.box) { f.options["選択肢1"] = f.box; } f.box = null; f.type = "choice"; }
      var name = $("new-option-name").value.trim() || "選択肢" + (Object.keys(f.options).length + 1);
      f.options[name] = r;
      $("new-option-name").value = "";
    } else {
      if (!f.parts) { f.parts = f.box ? [f.box] : []; f.box = null; f.format = null; }
      f.parts.push(r);
    }
    showProps();
    touch([f.name]);
    render();
  }
  function setMode(mode) {
    state.mode = mode;
    $("btn-new").setAttribute("aria-pressed", mode === "new" ? "true" : "false");
    $("btn-add-zone").setAttribute("aria-pressed", mode === "zone" ? "true" : "false");
    canvas.className = "canvas" + (mode === "select" ? "" : " drawing");
    if (mode !== "select") { status(mode === "new" ? "画像の上をドラッグして枠を描いてください" : "足す枠をドラッグして描いてください"); }
  }
  $("btn-new").addEventListener("click", function () { setMode(state.mode === "new" ? "select" : "new"); });
  $("btn-add-zone").addEventListener("click", function () {
    if (!selected() || state.sel.type !== "field") { status("先に枠を足す項目を選んでください", true); return; }
    setMode(state.mode === "zone" ? "select" : "zone");
  });
  $("btn-delete").addEventListener("click", remove);
  function remove() {
    if (!state.sel) { return; }
    if (state.sel.type === "field") {
      model.fields = model.fields.filter(function (f) { return f.name !== state.sel.name; });
    } else {
      var t = table(state.sel.table);
      t.columns = t.columns.filter(function (c) { return c.name !== state.sel.col; });
      if (!t.columns.length) { model.tables = model.tables.filter(function (x) { return x !== t; }); }
    }
    select(null);
    touch([]);
  }
  document.addEventListener("keydown", function (ev) {
    var typing = /INPUT|SELECT|TEXTAREA/.test(document.activeElement.tagName);
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "s") { ev.preventDefault(); save(); return; }
    if (typing || !state.sel) { return; }
    var step = { ArrowLeft: [-0.5, 0], ArrowRight: [0.5, 0], ArrowUp: [0, -0.5], ArrowDown: [0, 0.5] }[ev.key];
    if (step && state.lastZone) {
      ev.preventDefault();
      var acc = rectOf(state.lastZone), r = acc.get();
      acc.set([r[0] + step[0], r[1] + step[1], r[2], r[3]]);
      render();
      touch(acc.names);
    } else if (ev.key === "Delete") {
      remove();
    }
  });

  // -- readings from the sample, and saving --------------------------------------------------
  function post(url, body) {
    return fetch(url, { method: "POST", credentials: "same-origin",
                        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); });
  }
  function read(list) {
    if (!state.sample) { return; }
    if (list === null) { pendingAll = true; } else { list.forEach(function (n) { pendingNames[n] = 1; }); }
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      var want = pendingAll ? null : Object.keys(pendingNames);
      pendingAll = false;
      pendingNames = {};
      if (want && !want.length) { return; }
      var sample = state.sample;
      document.body.dataset.reading = "1";
      post("/editor/" + boot.bot + "/read", { sample: sample, model: model, names: want }).then(function (res) {
        document.body.dataset.reading = "";
        if (sample !== state.sample) { return; }
        if (!res.ok) { status(res.data.error || "読み取れませんでした", true); return; }
        Object.keys(res.data.fields).forEach(function (n) { state.readings[n] = res.data.fields[n]; });
        document.body.dataset.read = String(Date.now());
        render();
        showReading();
      });
    }, 250);
  }
  function save() {
    if ($("btn-save").disabled) { return; }
    status("保存しています…");
    post("/editor/" + boot.bot + "/save", { model: model }).then(function (res) {
      if (!res.ok) { status(res.data.error || "保存できませんでした", true); return; }
      model.fields.forEach(function (f) { f.orig = f.name; });
      model.tables.forEach(function (t) { t.orig = t.name; t.columns.forEach(function (c) { c.orig = c.name; }); });
      state.dirty = false;
      status(res.data.message);
    });
  }
  $("btn-save").addEventListener("click", save);
  window.addEventListener("beforeunload", function (ev) { if (state.dirty) { ev.preventDefault(); ev.returnValue = ""; } });

  // -- the page image ------------------------------------------------------------------------
  var sampleSelect = $("sample-select");
  boot.samples.forEach(function (s) {
    var o = document.createElement("option");
    o.value = s.id;
    o.textContent = s.title;
    sampleSelect.appendChild(o);
  });
  sampleSelect.value = state.sample;
  sampleSelect.addEventListener("change", function () { showPage(this.value); });
  function showPage(sample) {
    state.sample = sample;
    state.readings = {};
    if (sample) { img.src = "/editor/" + boot.bot + "/samples/" + encodeURIComponent(sample) + ".png"; read(null); }
    else if (boot.blank) { img.src = "/editor/" + boot.bot + "/blank.png"; }
    else { status("白紙 (blank.pdf) がありません: 見本を追加して、その上で枠を直してください", true); }
    showReading();
  }
  img.addEventListener("load", render);
  window.addEventListener("resize", render);
  bindProps();
  if (!state.sample && !boot.blank && boot.samples.length) { state.sample = boot.samples[0].id; sampleSelect.value = state.sample; }
  showPage(state.sample);
  if (boot.note) { status(boot.note); }
})();
