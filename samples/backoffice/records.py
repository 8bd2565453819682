"""Synthetic records for the sample systems (tests, benchmark), and the row each system must hold for
each: what "entered with the right values" means, column by column.

    restaurant_permit → 総合衛生システム (eisei)      child_medical → 子育て支援総合システム (kosodate)
"""
from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

from kakari.model import Field, Record, Status
from samples.backoffice.kosodate.forms import INSURANCE, OTHER_AID, RELATIONSHIPS, SEXES
from samples.generate import make_sample, render
from samples.layout import layout

FORM_OF = {"eisei": "restaurant_permit", "kosodate": "child_medical"}
_INSURANCE_NAMES = {"社会保険": "社保", "国民健康保険": "国保", "共済組合": "共済"}  # the host's abbreviations


def _personal(form: str) -> set[str]:
    from bots import registry

    template = registry.get(form).template  # type: ignore[attr-defined]
    return {name for name, spec in template.fields.items() if spec.personal}


def sample_records(count: int, seed: int = 42, salt: str = "", start: int = 1, form: str = "restaurant_permit",
                   files: Path | None = None) -> list[Record]:
    """`count` defect-free records of `form` with the generator's ground truth as values. `salt` makes the
    doc_ids (and so the system keys) unique to one test or benchmark run. With `files`, each record's
    filled form is rendered there as a PDF and is the record's document (what an upload attaches)."""
    personal = _personal(form)
    out = []
    for i in range(start, start + count):
        sample = make_sample(form, i, seed, None)
        doc_id = hashlib.sha256(f"{salt}/{form}/{seed}/{i}".encode()).hexdigest()
        fields = {k: Field(k, k, v, raw=str(v) if v is not None else "", personal=k in personal)
                  for k, v in sample.truth.items()}
        meta: dict[str, Any] = {"status": Status.REGISTERED.value, "original_name": f"申請_{i:04d}.pdf"}
        if files is not None:
            files.mkdir(parents=True, exist_ok=True)
            pdf = files / f"{doc_id[:16]}.pdf"
            render(sample, layout(form), pdf, random.Random(f"{seed}/{form}/{i}/ink"))
            meta["archived_path"] = str(pdf)
        out.append(Record(doc_id, form, fields, meta=meta))
    return out


def child_records(count: int, files: Path, seed: int = 42, salt: str = "", start: int = 1) -> list[Record]:
    """child_medical records, each with its PDF (the 子育て支援総合システム requires the attachment)."""
    return sample_records(count, seed, salt, start, "child_medical", files)


def expected_row(rec: Record) -> dict[str, Any]:
    """The system's columns for a record entered correctly (the system is told by rec.bot)."""
    v = {k: f.value for k, f in rec.fields.items()}
    if rec.bot == "child_medical":
        return _expected_kosodate(rec, v)
    corporate = bool(v.get("corporate_number"))
    seated = bool(v.get("has_seating"))
    return {
        "applied_on": str(v["applied_on"])[:10],
        "applicant_type": "法人" if corporate else "個人",
        "applicant_name": v["applicant_name"],
        "applicant_kana": v["applicant_kana"],
        "representative": v.get("representative") if corporate else None,
        "corporate_number": v.get("corporate_number") if corporate else None,
        "postal_code": v["postal_code"],
        "address": v["address"],
        "tel": v["phone"],
        "shop_name": v["business_name"],
        "shop_address": v["business_address"],
        "shop_tel": v.get("business_phone") or None,
        "business_type": v["business_type"],
        "manager_name": v["manager_name"],
        "manager_qualification": v["manager_qualification"],
        "seating": 1 if seated else 0,
        "seat_count": v.get("seat_count") if seated else None,
        "seat_area": v.get("seat_area") if seated else None,
        "fee": v["fee"],
    }


def _code(table: dict[str, str], label: str | None) -> str | None:
    return next((code for code, shown in table.items() if shown == label), None)


def _expected_kosodate(rec: Record, v: dict[str, Any]) -> dict[str, Any]:
    attachment = rec.meta.get("archived_path")
    data = Path(attachment).read_bytes() if attachment else b""
    return {
        "applied_on": str(v["applied_on"])[:10],
        "guardian_name": v["guardian_name"],
        "guardian_kana": v["guardian_kana"],
        "guardian_birth": str(v["guardian_birth"])[:10],
        "postal_code": v["postal_code"],
        "address": v["address"],
        "tel": v["phone"],
        "child_name": v["child_name"],
        "child_kana": v["child_kana"],
        "child_birth": str(v["child_birth"])[:10],
        "child_sex": _code(SEXES, v["child_sex"]),
        "relationship": _code(RELATIONSHIPS, v["relationship"]),
        "insurance_type": _code(INSURANCE, _INSURANCE_NAMES.get(v["insurance_type"])),
        "insurance_symbol": v.get("insurance_symbol") or None,
        "insurance_number": v["insurance_number"],
        "insurer_number": v["insurer_number"],
        "insurer_name": v.get("insurer_name") or None,
        "other_aid": _code(OTHER_AID, v["other_aid"]),
        "attachment_sha256": hashlib.sha256(data).hexdigest() if data else None,
    }


def mismatches(rec: Record, row: dict[str, Any]) -> list[str]:
    """Column names whose stored value differs from the expected one (names only: values are personal)."""
    return [k for k, want in expected_row(rec).items() if row.get(k) != want]
