// kakari systems record: runs in every page the person opens and reports what they do to the recorder
// (window.__kakariRecord, a Playwright binding). Password values are never sent. Each element is
// described the way a mapping names it: its label, role and accessible name, the fieldset around it.
(() => {
  if (window.__kakariRecorderInstalled) return;
  window.__kakariRecorderInstalled = true;
  const visit = Math.random().toString(36).slice(2) + Date.now().toString(36);
  const KEY = window.__kakariRecordKey || "";
  const norm = s => (s || "").replace(/\s+/g, " ").trim();
  const send = data => { try { window.__kakariRecord(Object.assign({ visit, url: location.href }, data)); } catch (e) {} };
  const CONTROLS = "input:not([type=hidden]), select, textarea";

  function labelsOf(el) {
    const out = [];
    const by = el.getAttribute("aria-labelledby");
    if (by) out.push(by.split(/\s+/).map(id => norm((document.getElementById(id) || {}).textContent)).join(" "));
    if (el.getAttribute("aria-label")) out.push(el.getAttribute("aria-label"));
    for (const l of el.labels || []) out.push(l.textContent);
    return out.map(norm).filter(Boolean);
  }
  function groupOf(el) {
    const fs = el.closest("fieldset");
    if (fs) {
      const legend = fs.querySelector(":scope > legend");
      if (legend && norm(legend.textContent)) return { el: fs, name: norm(legend.textContent) };
    }
    const g = el.closest("[role=group][aria-label], [role=radiogroup][aria-label]");
    return g ? { el: g, name: norm(g.getAttribute("aria-label")) } : null;
  }
  function count(root, label, exact) {
    let n = 0;
    const want = label.toLowerCase();
    for (const c of root.querySelectorAll(CONTROLS)) {
      for (const l of labelsOf(c)) {
        if (exact ? l === label : l.toLowerCase().includes(want)) { n++; break; }
      }
    }
    return n;
  }
  function stableId(id) {
    return !!id && !/\d{4,}|[0-9a-f]{5,}|^(fld|ext|gen|ember|ctl|mui|react|:r)/i.test(id) && !/[A-Z].*\d|\d.*[A-Z]/.test(id);
  }
  function path(el) {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && e !== document.documentElement; e = e.parentElement) {
      let i = 1;
      for (let s = e.previousElementSibling; s; s = s.previousElementSibling) if (s.tagName === e.tagName) i++;
      parts.unshift(`${e.tagName.toLowerCase()}:nth-of-type(${i})`);
    }
    return parts.join(" > ");
  }
  function roleOf(el) {
    const r = el.getAttribute("role");
    if (r) return r;
    const t = el.tagName;
    if (t === "A" && el.hasAttribute("href")) return "link";
    if (t === "BUTTON" || (t === "INPUT" && ["submit", "button", "reset", "image"].includes(el.type))) return "button";
    if (t === "INPUT" && el.type === "radio") return "radio";
    if (t === "INPUT" && el.type === "checkbox") return "checkbox";
    if (t === "SELECT") return "combobox";
    return "";
  }
  function nameOf(el) {
    if (el.getAttribute("aria-label")) return norm(el.getAttribute("aria-label"));
    const labels = labelsOf(el);
    if (labels.length) return labels[0];
    if (el.tagName === "INPUT") return norm(el.value);
    return norm(el.innerText || el.textContent);
  }
  function describe(el) {
    const labels = labelsOf(el);
    const label = labels[0] || "";
    const group = groupOf(el);
    const role = roleOf(el);
    const name = nameOf(el);
    const d = { tag: el.tagName.toLowerCase(), type: (el.type || "").toLowerCase(), id: el.id || "",
                stableId: stableId(el.id), elName: el.getAttribute("name") || "", label, role, name,
                placeholder: el.getAttribute("placeholder") || "", path: path(el),
                group: group ? group.name : "" };
    if (label) {
      d.labelCount = count(document, label, false);
      d.labelExactCount = count(document, label, true);
      if (group) { d.groupLabelCount = count(group.el, label, false); d.groupLabelExactCount = count(group.el, label, true); }
    }
    if (role === "button" || role === "link" || role === "tab") {
      const same = [...document.querySelectorAll("a[href], button, input[type=submit], input[type=button], [role=button], [role=link], [role=tab]")]
        .filter(o => roleOf(o) === role && nameOf(o) === name);
      d.nameCount = same.length;
    }
    if (role === "radio" && group) {
      d.groupRoleCount = [...group.el.querySelectorAll("input[type=radio]")].filter(o => nameOf(o) === name).length;
    }
    return d;
  }
  function pageInfo() {
    const headings = [...document.querySelectorAll("h1, h2, h3, h4, [role=heading]")]
      .filter(h => h.offsetParent !== null || h.getClientRects().length)
      .map(h => ({ level: h.tagName, text: norm(h.textContent) })).filter(h => h.text);
    const current = [...document.querySelectorAll("[aria-current]")].map(e => norm(e.textContent)).filter(Boolean);
    const ids = [...document.querySelectorAll("form[id], section[id], main[id], [role=main][id], div[id]")]
      .map(e => e.id).filter(stableId).slice(0, 40);
    const receipts = [];
    const re = /(受付番号|受付No\.?|受付NO|申請番号|登録番号)/;
    for (const e of document.querySelectorAll("body *")) {
      if (receipts.length >= 5) break;
      const own = [...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join("");
      if (re.test(own)) {
        let text = norm(e.textContent);
        let holder = e;
        if (!/[0-9]/.test(text) && e.parentElement) { holder = e.parentElement; text = norm(holder.textContent); }
        receipts.push({ text, own: norm(own), tag: holder.tagName.toLowerCase(), id: stableId(holder.id) ? holder.id : "" });
      }
    }
    const keyRows = [];
    if (KEY) {
      for (const cell of document.querySelectorAll("td, [role=cell], [role=gridcell]")) {
        if (!norm(cell.textContent).includes(KEY)) continue;
        const row = cell.closest("tr, [role=row]");
        if (!row) continue;
        const cells = [...row.children];
        const table = row.closest("table, [role=table], [role=grid]");
        let region = table && table.parentElement;
        while (region && region !== document.body && !region.id && !region.getAttribute("aria-label")) region = region.parentElement;
        keyRows.push({ keyIndex: cells.indexOf(cell) + 1, exact: norm(cell.textContent) === KEY,
                       cells: cells.map(c => norm(c.textContent)), tableId: table && stableId(table.id) ? table.id : "",
                       inBody: !!row.closest("tbody"),
                       region: region && region !== document.body ? { id: stableId(region.id) ? region.id : "",
                         label: norm(region.getAttribute("aria-label")), role: region.getAttribute("role") ||
                         (region.tagName === "SECTION" && region.getAttribute("aria-label") ? "region" : "") } : null });
      }
    }
    const password = !!document.querySelector("input[type=password]");
    return { title: document.title, headings, current, ids, receipts, keyRows, password };
  }

  document.addEventListener("DOMContentLoaded", () => send({ kind: "page", info: pageInfo() }));
  const onValue = e => {
    const el = e.target;
    if (!(el instanceof Element) || !el.matches(CONTROLS)) return;
    const d = describe(el);
    if (el.type === "password") return send({ kind: "fill", target: d, value: "", password: true });
    if (el.type === "file") return send({ kind: "upload", target: d, files: el.files ? el.files.length : 0 });
    if (el.tagName === "SELECT") {
      const o = el.options[el.selectedIndex];
      return send({ kind: "select", target: d, value: o ? o.value : "", label: o ? norm(o.label || o.text) : "" });
    }
    if (el.type === "radio" || el.type === "checkbox") {
      return send({ kind: "check", target: d, value: el.value, checked: el.checked });
    }
    send({ kind: "fill", target: d, value: el.value });
  };
  document.addEventListener("input", onValue, true);
  document.addEventListener("change", onValue, true);
  document.addEventListener("click", e => {
    if (!(e.target instanceof Element)) return;
    const el = e.target.closest("button, a[href], [role=button], [role=link], [role=tab], [role=menuitem], " +
                                "input[type=submit], input[type=button], input[type=image], label, input, select, textarea");
    if (el && (el.tagName === "LABEL" || el.matches(CONTROLS) && !["submit", "button", "image"].includes(el.type))) return;
    if (el) return send({ kind: "click", target: describe(el) });
    send({ kind: "click-text", text: norm(e.target.textContent).slice(0, 200) });
  }, true);
})();
