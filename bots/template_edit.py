"""A form template as zones to edit, and the edited zones written back into its TOML.

``zones(path)`` gives a plain dict (JSON for the zone editor): every field with its label, type,
modifiers and geometry (box, parts, options; anchor/regex/static fields are listed but keep their
own locator), and every table with its columns. ``save(path, model)`` writes a model back with
tomlkit, so comments, key order and untouched fields stay as they were; renamed fields keep their
comments and their place in ``[ledger] columns``; the result is checked as a template before it
replaces the file, and the previous version is kept as ``<name>.toml.<time>.bak``.
"""
from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from kakari.errors import TemplateError

GEOMETRY = ("box", "parts", "format", "options")
FLAGS = ("required", "personal", "handwritten")
TABLE_KEYS = ("label", "page", "y", "rows", "row_height", "h", "min_rows")
KEEP_BACKUPS = 20


def zones(path: Path) -> dict[str, Any]:
    """The template at `path` as the editor's model (checked: a broken template raises TemplateError)."""
    import tomllib

    from bots.template import load_template

    template = load_template(path)
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    fields = []
    for name in raw.get("fields", {}):
        checked = template.fields[name]
        f: dict[str, Any] = {"name": name, "orig": name, "label": checked.label, "type": checked.type,
                             "locator": checked.locator, **{k: bool(getattr(checked, k)) for k in FLAGS}}
        page = checked.zones[0].page if checked.zones else 1
        f["page"] = page
        f["box"] = _rect(checked.box) if checked.box is not None else None
        f["parts"] = [_rect(p) for p in checked.parts] if checked.parts is not None else None
        f["format"] = checked.format
        f["options"] = {k: _rect(v) for k, v in checked.options.items()} if checked.options is not None else None
        fields.append(f)
    tables = []
    for name, spec in template.tables.items():
        tables.append({"name": name, "orig": name, "label": spec.label, "page": spec.page, "y": spec.y,
                       "rows": spec.rows, "row_height": spec.row_height, "h": spec.h, "min_rows": spec.min_rows,
                       "columns": [{"name": c, "orig": c, "label": cs.label, "type": cs.type, "x": cs.x, "w": cs.w,
                                    **{k: bool(getattr(cs, k)) for k in FLAGS}} for c, cs in spec.columns.items()]})
    return {"title": template.title, "fields": fields, "tables": tables}


def _rect(b: Any) -> list[float]:
    return [round(float(b.x), 1), round(float(b.y), 1), round(float(b.w), 1), round(float(b.h), 1)]


def render(path: Path, model: dict[str, Any]) -> str:
    """The template's TOML text with the model's fields and tables (the file is not touched)."""
    import tomlkit

    doc = tomlkit.parse(Path(path).read_text(encoding="utf-8"))
    old_fields = doc.get("fields")
    if old_fields is None:
        old_fields = doc["fields"] = tomlkit.table(is_super_table=True)
    renamed: dict[str, str | None] = {name: None for name in old_fields}
    wanted: list[tuple[str, Any]] = []
    for f in model.get("fields", []):
        name, orig = _name(f["name"]), f.get("orig") or None
        t = old_fields.get(orig) if orig else None
        new = t is None
        if t is None:
            t = tomlkit.table()
        else:
            renamed[orig] = name
        _set(t, "label", f["label"])
        _set(t, "type", f.get("type") or "text")
        _geometry(t, f)  # a field without zones in the model (anchor, regex, static) keeps its locator
        for flag in FLAGS:
            _flag(t, flag, bool(f.get(flag)))
        if new:
            t.add(tomlkit.nl())
        if any(name == n for n, _ in wanted):
            raise TemplateError(f"項目名「{name}」が重複しています")
        wanted.append((name, t))
    kept = [o for o, n in renamed.items() if n is not None]
    same_order = [n for n, _ in wanted if n in renamed and renamed[n] == n] == kept and all(
        renamed[o] == o for o in kept) and [n for n, _ in wanted][:len(kept)] == kept
    if same_order:  # only edits, deletions and fields added at the end: change the file in place
        for o, n in renamed.items():
            if n is None:
                del old_fields[o]
        for name, t in wanted[len(kept):]:
            old_fields[name] = t
    else:  # renamed or reordered: the fields rebuilt in the model's order (comments travel with them)
        fields = tomlkit.table(is_super_table=True)
        for name, t in wanted:
            fields[name] = t
        doc["fields"] = fields
    tables = tomlkit.table(is_super_table=True)
    old_tables = doc.get("tables", {})
    for tb in model.get("tables", []):
        name, orig = _name(tb["name"]), tb.get("orig") or None
        t = old_tables.get(orig) if orig else None
        t = t if t is not None else tomlkit.table()
        for key in TABLE_KEYS:
            value = tb.get(key)
            if value in (None, "") or (key == "min_rows" and not value):
                if key in t:
                    del t[key]
            else:
                _set(t, key, _number(value) if key != "label" else value)
        old_cols = t.get("columns", {})
        cols = tomlkit.table(is_super_table=True)
        for c in tb.get("columns", []):
            cname, corig = _name(c["name"]), c.get("orig") or None
            ct = old_cols.get(corig) if corig else None
            ct = ct if ct is not None else tomlkit.table()
            _set(ct, "label", c["label"])
            _set(ct, "type", c.get("type") or "text")
            _set(ct, "x", _number(c["x"]))
            _set(ct, "w", _number(c["w"]))
            for flag in FLAGS:
                _flag(ct, flag, bool(c.get(flag)))
            cols[cname] = ct
        t["columns"] = cols
        tables[name] = t
    if tables or "tables" in doc:
        if tables:
            doc["tables"] = tables
        else:
            del doc["tables"]
    _ledger(doc, renamed, [_name(f["name"]) for f in model.get("fields", [])])
    return tomlkit.dumps(doc)


def save(path: Path, model: dict[str, Any]) -> Path:
    """Write the model into the template at `path`; returns the backup of the previous version.
    TemplateError (nothing written) if the result is not a valid template."""
    import tomllib

    from pydantic import ValidationError

    from bots.template import FormTemplate, format_template_error

    path = Path(path)
    text = render(path, model)
    try:
        FormTemplate.model_validate(tomllib.loads(text))
    except ValidationError as e:
        raise TemplateError(format_template_error(path.name, e)) from None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    backup = path.with_name(f"{path.name}.{stamp}.bak")
    backup.write_bytes(path.read_bytes())
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp, path)
    for old in sorted(path.parent.glob(f"{path.name}.*.bak"))[:-KEEP_BACKUPS]:
        old.unlink()
    return backup


def _name(name: str) -> str:
    import re

    name = (name or "").strip()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise TemplateError(f"項目名「{name}」は半角英数字と _ で書いてください (先頭は英字か _)")
    return name


def _number(v: Any) -> float | int:
    f = round(float(v), 2)
    return int(f) if f.is_integer() else f


def _set(t: Any, key: str, value: Any) -> None:
    """Set a key, leaving it (and its comment) alone when the value is the same."""
    if key in t and _plain(t[key]) == value:
        return
    t[key] = value


def _flag(t: Any, key: str, on: bool) -> None:
    if on:
        _set(t, key, True)
    elif key in t:
        del t[key]


def _box_text(r: list[float], page: int) -> str:
    x, y, w, h = (_number(v) for v in r)
    return f"{{ page = {page}, x = {x}, y = {y}, w = {w}, h = {h} }}"


def _geometry(t: Any, f: dict[str, Any]) -> None:
    """The field's one zone locator from the model: box, parts (+ format) or options."""
    import tomlkit

    page = int(f.get("page") or 1)
    want: dict[str, Any] = {}
    if f.get("options"):
        opts = ", ".join(f"{_quote(k)} = {_box_text(v, page)}" for k, v in f["options"].items())
        want["options"] = f"{{ {opts} }}"
    elif f.get("parts"):
        want["parts"] = "[\n" + "".join(f"    {_box_text(p, page)},\n" for p in f["parts"]) + "]"
        if f.get("format"):
            want["format"] = _quote(f["format"])
    elif f.get("box"):
        want["box"] = _box_text(f["box"], page)
    for key in GEOMETRY:
        if key not in want and key in t:
            del t[key]
    for key in ("anchor", "regex", "static"):
        if want and key in t:
            del t[key]
    for key, text in want.items():
        value = tomlkit.parse(f"v = {text}")["v"]
        if key in t and _plain(t[key]) == _plain(value):
            continue  # the same zone (88.0 is 88): the line stays as written
        t[key] = value


def _plain(v: Any) -> Any:
    return v.unwrap() if hasattr(v, "unwrap") else v


def _quote(s: str) -> str:
    import json

    return json.dumps(s, ensure_ascii=False)


def _ledger(doc: Any, renamed: dict[str, str | None], names: list[str]) -> None:
    """[ledger] columns follow renames and deletions; new fields are appended."""
    ledger = doc.get("ledger")
    if ledger is None or "columns" not in ledger:
        return
    cols = [renamed.get(c, c) for c in ledger["columns"]]
    kept = [c for c in cols if c in names]
    kept += [n for n in names if n not in kept and n not in renamed.values()]
    if list(ledger["columns"]) != kept:
        import tomlkit

        rows = [", ".join(_quote(c) for c in kept[i:i + 6]) for i in range(0, len(kept), 6)]
        text = "[\n" + "".join(f"    {r},\n" for r in rows) + "]" if len(rows) > 1 else f"[{rows[0] if rows else ''}]"
        ledger["columns"] = tomlkit.parse(f"v = {text}")["v"]
