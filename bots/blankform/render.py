"""The guessed fields as a form template (TOML text), each guess's reason and confidence in a
comment above it, so a person editing the file (or the zone editor) sees what to check."""
from __future__ import annotations

import json
from collections.abc import Iterable

from bots.blankform.find import PERSONAL, Found, guess_name

COMMON_LABELS = {"申請日", "請求日", "届出日", "記入日", "住所", "所在地", "氏名", "お名前", "フリガナ", "ふりがな",
                 "電話番号", "生年月日", "郵便番号", "性別"}


def q(text: str) -> str:
    """A TOML basic string."""
    return json.dumps(text, ensure_ascii=False)


def box(b: Iterable[float], page: int = 1) -> str:
    x, y, w, h = (round(float(v), 1) for v in b)
    return f"{{ page = {page}, x = {x:g}, y = {y:g}, w = {w:g}, h = {h:g} }}"


def keywords(title: str, fields: list[Found]) -> list[str]:
    """The title and the two rarest labels: words every form prints (申請日, 住所) match others too."""
    rare = [f.label for f in fields if f.label and f.label not in COMMON_LABELS and len(f.label) >= 2]
    out = [title] if title else []
    for word in sorted(set(rare), key=lambda w: (-len(w), rare.index(w))):
        if word not in out and len(out) < 3:
            out.append(word)
    return out or ["様式"]


def render_template(title: str, fields: list[Found], manual_minutes: float, scanned: bool = False) -> str:
    lines = [f"# {title} — `kakari bots new` が白紙の様式から作ったひな形です。",
             "# 枠はすべて推定です。`kakari web` の枠エディター (管理 → 様式の枠) で、記入済みの見本を重ねて確かめてください。",
             "# 各項目の上の「推定」は、見つけた理由と確からしさ (この種類の推定が正しかった割合) です。",
             f"title = {q(title)}", f"task = {q(title + 'の受付入力')}", f"manual_minutes = {manual_minutes:g}",
             "min_confidence = 0.80", "", "[match]",
             "# 様式名と、この様式にしかない見出し (申請日・住所などはどの様式にもあるので使いません)",
             f"keywords = [{', '.join(q(k) for k in keywords(title, fields))}]", "min_score = 0.6", ""]
    taken: set[str] = set()
    for i, f in enumerate(fields, start=1):
        name = guess_name(f.label, taken, i)
        if f.table is not None:
            lines += _table(name.replace("field_", "table_"), f)
            continue
        lines += [f"[fields.{name}]", f"# 推定: {f.why} (確からしさ {f.confidence:.2f})"]
        if f.label_confidence < 0.85:
            lines.append(f"# 見出しの文字は OCR で読みました (確信度 {f.label_confidence:.2f}): 正しいか確かめてください")
        lines.append(f"label = {q(f.label)}")
        lines.append(f"type = {q(f.type)}" + (f"  # {f.type_why}" if f.type_why else ""))
        if f.options:
            opts = ", ".join(f"{q(k)} = {box(v)}" for k, v in f.options.items())
            lines.append(f"options = {{ {opts} }}" if f.type == "choice" else f"box = {box(next(iter(f.options.values())))}")
        elif f.parts:
            lines.append("parts = [")
            lines += [f"    {box(p)}," for p in f.parts]
            lines.append("]")
            if f.format:
                lines.append(f"format = {q(f.format)}")
        else:
            lines.append(f"box = {box(f.box)}")
        if f.personal:
            lines.append("personal = true")
        if scanned and f.type not in ("choice", "checkbox"):
            lines.append("# 手書きで記入される欄なら handwritten = true (OCR せず、必ず人が確認します)")
        lines.append("")
    lines += ["[ledger]", 'sheet = "台帳"', "# columns = [...]  # 台帳の列の順 (省略すると上の項目の順)", ""]
    return "\n".join(lines)


def _table(name: str, f: Found) -> list[str]:
    t = f.table
    assert t is not None
    out = [f"[tables.{name}]", f"# 推定: {f.why} (確からしさ {f.confidence:.2f})",
           "# 行 i・列 c の項目名は <表>_<i>_<c> (例: " + f"{name}_1_...)。記入のある行は required の列が必須です。",
           f"label = {q(f.label)}", "page = 1", f"y = {t.y:g}", f"rows = {t.rows}", f"row_height = {t.pitch:g}",
           f"h = {t.h:g}", ""]
    cols: set[str] = set()
    for j, (label, ftype, x, w) in enumerate(t.columns, start=1):
        col = guess_name(label, cols, j).replace("field_", "col_")
        out += [f"[tables.{name}.columns.{col}]", f"label = {q(label)}", f"type = {q(ftype)}", f"x = {x:g}", f"w = {w:g}"]
        if PERSONAL.search(label):
            out.append("personal = true")
        out.append("")
    return out
