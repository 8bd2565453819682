"""Synthetic 飲食店営業許可 records for the sample system (tests, benchmark), and the row the system must
hold for each: what "entered with the right values" means, column by column."""
from __future__ import annotations

import hashlib
from typing import Any

from kakari.model import Field, Record, Status
from samples.generate import make_sample

PERSONAL = {"postal_code", "address", "applicant_kana", "applicant_name", "representative", "phone", "manager_name"}


def sample_records(count: int, seed: int = 42, salt: str = "", start: int = 1) -> list[Record]:
    """`count` defect-free restaurant_permit records with the generator's ground truth as values.
    `salt` makes the doc_ids (and so the system keys) unique to one test or benchmark run."""
    out = []
    for i in range(start, start + count):
        truth = make_sample("restaurant_permit", i, seed, None).truth
        doc_id = hashlib.sha256(f"{salt}/{seed}/{i}".encode()).hexdigest()
        fields = {k: Field(k, k, v, raw=str(v) if v is not None else "", personal=k in PERSONAL)
                  for k, v in truth.items()}
        out.append(Record(doc_id, "restaurant_permit", fields,
                          meta={"status": Status.REGISTERED.value, "original_name": f"申請_{i:04d}.pdf"}))
    return out


def expected_row(rec: Record) -> dict[str, Any]:
    """The sample system's columns for a record entered correctly."""
    v = {k: f.value for k, f in rec.fields.items()}
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


def mismatches(rec: Record, row: dict[str, Any]) -> list[str]:
    """Column names whose stored value differs from the expected one (names only: values are personal)."""
    return [k for k, want in expected_row(rec).items() if row.get(k) != want]
