"""A bot's template against a generated blank's ground truth (samples.blanks): which truth field
each template field reads, whether its zone covers the value area, whether its label and type are
right, what a person must still edit, and the filled copy's values keyed by the template's names.

A zone covers a value area when it holds at least COVER of it and the value area is at least
TIGHT of the zone (a zone spanning two fields covers neither). Character boxes and 年　月　日
gaps must each be covered by a part of the same field; choices by options of the same names whose
zones hold the place a person's mark goes; a table column by a column of a table with the same rows.
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bots.template import FormTemplate

COVER = 0.9
TIGHT = 0.45
SECONDS_PER_EDIT = 5.0  # one drag, one typed label, one chosen type in the zone editor
Rect4 = tuple[float, float, float, float]


@dataclass
class Match:
    truth: str  # truth field name (a table column: "<table>.<column>")
    label: str
    type: str
    kind: str
    name: str | None = None  # the template field (or table.column) that reads it
    label_ok: bool = False
    type_ok: bool = False
    note: str = ""

    @property
    def found(self) -> bool:
        return self.name is not None

    @property
    def edits(self) -> int:
        """Edits in the zone editor to make this field read: draw + label + type if missed; else
        one per wrong label or type."""
        if not self.found:
            return 3
        return (not self.label_ok) + (not self.type_ok)


@dataclass
class Report:
    matches: list[Match]
    extra: list[str] = field(default_factory=list)  # template fields no truth field explains
    names: dict[str, str] = field(default_factory=dict)  # truth value key → template field name

    @property
    def recall(self) -> float:
        return sum(m.found for m in self.matches) / max(1, len(self.matches))

    @property
    def precision(self) -> float:
        found = sum(m.found for m in self.matches)
        return found / max(1, found + len(self.extra))

    @property
    def edits(self) -> int:
        return sum(m.edits for m in self.matches) + len(self.extra)

    def expected(self, truth_values: dict[str, Any]) -> dict[str, Any]:
        """A filled copy's truth, keyed by the template's field names (for `bots test`)."""
        return {self.names[k]: v for k, v in truth_values.items() if k in self.names}


def _area(r: Rect4) -> float:
    return max(0.0, r[2]) * max(0.0, r[3])


def _inter(a: Rect4, b: Rect4) -> float:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


def covers(zone: Rect4, truth: Rect4) -> bool:
    i = _inter(zone, truth)
    return i >= COVER * _area(truth) and i >= TIGHT * _area(zone)


def inside(mark: Rect4, zone: Rect4, grow: float = 1.0) -> bool:
    x, y, w, h = zone
    return x - grow <= mark[0] and y - grow <= mark[1] and mark[0] + mark[2] <= x + w + grow \
        and mark[1] + mark[3] <= y + h + grow


def _norm(s: str) -> str:
    return "".join(unicodedata.normalize("NFKC", s).split()).strip("。、.,:：")


def _zone(b: Any) -> Rect4:
    return (float(b.x), float(b.y), float(b.w), float(b.h))


def to_frame(truth: dict[str, Any], deskew: float) -> dict[str, Any]:
    """Truth of a scanned blank moved into the frame of the blank the bot was made from: the scan's
    rotation, scale and shift, then the straightening (`deskew` degrees) `bots new` applied."""
    import math

    scan = truth.get("scan")
    if not scan:
        return truth
    w_mm, h_mm = scan["width_px"] / scan["dpi"] * 25.4, scan["height_px"] / scan["dpi"] * 25.4
    cx, cy = 210.0 / 2, 297.0 / 2  # the page is rendered at its own size, rotated about its centre
    ox, oy = w_mm / 2, h_mm / 2

    def point(x: float, y: float) -> tuple[float, float]:
        a = math.radians(scan["rotation"])
        s = scan["scale"]
        dx, dy = (x - cx) * s, (y - cy) * s
        # cv2's positive angle turns the image counter-clockwise (y grows downwards)
        x1 = cx + dx * math.cos(a) + dy * math.sin(a) + scan["dx_mm"]
        y1 = cy - dx * math.sin(a) + dy * math.cos(a) + scan["dy_mm"]
        b = math.radians(-deskew)
        ex, ey = x1 - ox, y1 - oy
        return ox + ex * math.cos(b) + ey * math.sin(b), oy - ex * math.sin(b) + ey * math.cos(b)

    def rect(r: list[float]) -> list[float]:
        pts = [point(r[0], r[1]), point(r[0] + r[2], r[1]), point(r[0], r[1] + r[3]), point(r[0] + r[2], r[1] + r[3])]
        x0, y0 = min(p[0] for p in pts), min(p[1] for p in pts)
        return [x0, y0, max(p[0] for p in pts) - x0, max(p[1] for p in pts) - y0]

    out = json.loads(json.dumps(truth))
    for f in out["fields"]:
        f["box"] = rect(f["box"])
        f["parts"] = [rect(p) for p in f["parts"]]
        f["options"] = {k: rect(v) for k, v in f["options"].items()}
        f["marks"] = {k: rect(v) for k, v in f["marks"].items()}
        if f["kind"] == "table":
            for c in f["columns"]:
                x0, _, w, _ = rect([c["x"], f["row_y"], c["w"], f["row_h"]])
                c["x"], c["w"] = x0, w
            f["row_y"] = rect([f["columns"][0]["x"], f["row_y"], 1.0, f["row_h"]])[1] if f["columns"] else f["row_y"]
    return out


def overlaps(zone: Rect4, truth: Rect4) -> bool:
    """The looser test for zones a person drew (a hand-written template): the zone's centre is in
    the truth zone and they share half of the smaller one (a printed unit in or out does not count)."""
    cx, cy = zone[0] + zone[2] / 2, zone[1] + zone[3] / 2
    inside_ = truth[0] <= cx <= truth[0] + truth[2] and truth[1] <= cy <= truth[1] + truth[3]
    return inside_ and _inter(zone, truth) >= 0.5 * min(_area(zone), _area(truth))


def compare(template: FormTemplate, truth: dict[str, Any], loose: bool = False) -> Report:
    """Match every truth field of a blank to the template's fields (`loose`: by ``overlaps``)."""
    matches: list[Match] = []
    used: set[str] = set()
    names: dict[str, str] = {}
    plain = {n: s for n, s in template.fields.items() if s.row is None}
    for t in truth["fields"]:
        if t["kind"] == "table":
            matches += _table(template, t, used, names)
            continue
        m = Match(t["name"], t["label"], t["type"], t["kind"])
        for name, spec in plain.items():
            if name in used or not _fits(spec, t, loose):
                continue
            m.name = name
            m.label_ok = _norm(spec.label) == _norm(t["label"])
            m.type_ok = spec.type == t["type"]
            used.add(name)
            names[t["name"]] = name
            break
        matches.append(m)
    extra = [n for n in plain if n not in used]
    extra += [t for t in template.tables if not any(u.startswith(t + ".") for u in used)]
    return Report(matches, extra, names)


def _fits(spec: Any, t: dict[str, Any], loose: bool = False) -> bool:
    kind = t["kind"]
    if kind == "box":
        test = overlaps if loose else covers
        return spec.box is not None and test(_zone(spec.box), tuple(t["box"]))
    if kind == "parts":
        if spec.parts is None or len(spec.parts) != len(t["parts"]):
            return False
        return all(covers(_zone(p), tuple(tp)) for p, tp in zip(sorted(spec.parts, key=lambda b: b.x),
                                                                 sorted(t["parts"], key=lambda b: b[0])))
    if t["type"] == "checkbox":
        mark = next(iter(t["marks"].values()))
        return (spec.type == "checkbox" and spec.box is not None and inside(mark, _zone(spec.box))) \
            or (spec.options is not None and len(spec.options) == 1 and inside(mark, _zone(next(iter(spec.options.values())))))
    if spec.options is None:
        return False
    have = {_norm(k): v for k, v in spec.options.items()}
    return set(have) == {_norm(k) for k in t["options"]} and all(
        inside(t["marks"][k], _zone(have[_norm(k)])) for k in t["options"])


def _table(template: FormTemplate, t: dict[str, Any], used: set[str], names: dict[str, str]) -> list[Match]:
    out: list[Match] = []
    for c in t["columns"]:
        m = Match(f"{t['name']}.{c['name']}", c["label"], c["type"], "table")
        truth_zone = (c["x"], t["row_y"], c["w"], t["row_h"])
        for tname, spec in template.tables.items():
            if spec.rows != t["rows"] or abs(spec.row_height - t["row_pitch"]) > 0.6:
                continue
            h = spec.h or spec.row_height
            for col, cs in spec.columns.items():
                key = f"{tname}.{col}"
                if key in used or not covers((cs.x, spec.y, cs.w, h), truth_zone):
                    continue
                m.name, m.label_ok, m.type_ok = key, _norm(cs.label) == _norm(c["label"]), cs.type == c["type"]
                used.add(key)
                for r in range(1, t["rows"] + 1):
                    names[f"{t['name']}_{r}_{c['name']}"] = spec.cell_name(tname, r, col)
                break
            if m.found:
                break
        out.append(m)
    return out


def load_truth(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "blank.json").read_text(encoding="utf-8"))


def fixed_model(model: dict[str, Any], report: Report, truth: dict[str, Any]) -> dict[str, Any]:
    """The zone editor's model after a person's edits (Report.edits of them): missed fields drawn
    at their value areas, wrong labels and types corrected, fields that are not fields deleted."""
    out = json.loads(json.dumps(model))
    by_name = {f["name"]: f for f in out["fields"]}
    tables = {t["name"]: t for t in out["tables"]}
    truth_fields = {t["name"]: t for t in truth["fields"]}
    for m in report.matches:
        if m.found and "." in (m.name or "") and m.kind == "table":
            table, col = m.name.split(".", 1)  # type: ignore[union-attr]
            c = next(c for c in tables[table]["columns"] if c["name"] == col)
            c["label"], c["type"] = m.label, m.type
        elif m.found:
            f = by_name[m.name]  # type: ignore[index]
            f["label"], f["type"] = m.label, m.type
        elif m.kind == "table":
            tname, col = m.truth.split(".", 1)
            t = truth_fields[tname]
            c = next(c for c in t["columns"] if c["name"] == col)
            target = next((tb for tb in out["tables"] if tb["rows"] == t["rows"]), None)
            if target is None:
                target = {"name": _free(tname, tables), "label": t["label"], "page": 1, "y": t["row_y"],
                          "rows": t["rows"], "row_height": t["row_pitch"], "h": t["row_h"], "columns": []}
                out["tables"].append(target)
                tables[target["name"]] = target
            target["columns"].append({"name": col, "label": c["label"], "type": c["type"], "x": c["x"], "w": c["w"]})
        else:
            t = truth_fields[m.truth]
            f = {"name": _free(m.truth, by_name), "label": t["label"], "type": t["type"], "page": 1}
            if t["kind"] == "parts":
                f["parts"], f["format"] = t["parts"], t["format"] or None
            elif t["type"] == "checkbox":
                f["box"] = next(iter(t["options"].values()))
            elif t["kind"] == "options":
                f["options"] = t["options"]
            else:
                f["box"] = t["box"]
            out["fields"].append(f)
            by_name[f["name"]] = f
    gone = set(report.extra)
    out["fields"] = [f for f in out["fields"] if f["name"] not in gone]
    out["tables"] = [t for t in out["tables"] if t["name"] not in gone]
    return out


def _free(name: str, taken: dict[str, Any]) -> str:
    out, n = name, 2
    while out in taken:
        out, n = f"{name}_{n}", n + 1
    return out


def truth_from_template(template: FormTemplate) -> dict[str, Any]:
    """A hand-written bot's template as ground truth for `bots new` on its blank: its box zones are
    the value areas (anchors placed on the blank's printed label), its option zones the choices
    (a mark goes in the middle of each)."""
    from kakari.config import KakariConfig
    from ocr import read_document

    ref = template.reference_path()
    doc = read_document(ref, KakariConfig()) if ref is not None else None
    fields = []
    for name, spec in template.fields.items():
        t: dict[str, Any] = {"name": name, "label": spec.label, "type": spec.type, "parts": [], "format": "",
                             "options": {}, "marks": {}}
        if spec.options:
            t["kind"] = "options"
            t["options"] = {k: _zone(b) for k, b in spec.options.items()}
            t["marks"] = {k: (b.x + b.w / 2 - 1.0, b.y + b.h / 2 - 1.0, 2.0, 2.0) for k, b in spec.options.items()}
            if spec.type == "checkbox":
                t["options"] = {spec.label: _zone(spec.box)}
        elif spec.type == "checkbox" and spec.box is not None:
            b = spec.box
            t["kind"], t["options"] = "options", {spec.label: _zone(b)}
            t["marks"] = {spec.label: (b.x + b.w / 2 - 1.0, b.y + b.h / 2 - 1.0, 2.0, 2.0)}
        elif spec.box is not None:
            t["kind"] = "box"
        elif spec.anchor is not None and doc is not None:
            label = doc.find(spec.anchor.text, page=spec.anchor.page)
            if label is None:
                continue
            z = spec.anchor.zone(label)
            t["kind"], t["box"] = "box", (z.x, z.y, z.w, z.h)
        else:
            continue
        if "box" not in t:
            t["box"] = _zone(spec.box) if spec.box is not None else _union(t["options"].values())
        fields.append(t)
    return {"fields": fields, "fonts": ["IPAGothic", "IPAMincho"], "scan": None}


def _union(boxes: Any) -> Rect4:
    items = list(boxes)
    x0, y0 = min(b[0] for b in items), min(b[1] for b in items)
    return (x0, y0, max(b[0] + b[2] for b in items) - x0, max(b[1] + b[3] for b in items) - y0)
