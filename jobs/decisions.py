"""A person's decision on a 要確認 document (確認済 or エラー), as the pipeline records it.

One transaction holds the decision: the documents row (only if it is still 要確認, so two clerks
cannot both decide), the outbox rows queued again with the decided record, the measured minutes in
the time log and an event. The file then moves to exactly the path recorded. The sinks' work
(ledger row rewritten in place, web entry) is left to the outbox, which the runner, the watcher,
a worker or the web server's flusher writes: a decision never waits on a ledger or a browser robot.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from connectors.folder import free_name
from jobs import timelog
from jobs.store import Store, decide_document, record_to_dict
from kakari.config import KakariConfig
from kakari.files import make_private_dir, private_opener
from kakari.log import mask_name, mask_value, redact, register_personal
from kakari.model import Record, Status


class AlreadyDecided(Exception):
    """Someone else decided this document first."""


@dataclass(frozen=True)
class Correction:
    """One field a clerk changed on the review screen."""

    name: str
    label: str
    before: str
    after: str
    personal: bool = False

    def detail(self, who: str) -> str:
        """「tanaka: 電話番号 「＊＊」→「0＊＊＊」」: personal values masked (the documents row keeps
        the full value), anything personal-looking in the rest masked as every log line is."""
        def shown(v: str) -> str:
            return "（空）" if not v else mask_value(v) if self.personal else v

        return redact(f"{who}: {self.label} 「{shown(self.before)}」→「{shown(self.after)}」")


def corrections(before: Record, after: Record) -> list[Correction]:
    """The fields whose shown value differs between the bot's record and the clerk's."""
    out = []
    for name, f in after.fields.items():
        old = before.fields.get(name)
        was = (old.display() if old.value is not None else old.raw) if old is not None else ""
        now_ = f.display() if f.value is not None else f.raw
        if (was or "") != (now_ or ""):
            out.append(Correction(name, f.label, was or "", now_ or "", f.personal or bool(old and old.personal)))
    return out


def record_decision(config: KakariConfig, job: str, doc_id: str, rec: Record, status: Status, who: str,
                    minutes: float, reason: str = "", note: str = "",
                    changes: list[Correction] | None = None) -> Path:
    """Commit the decision, then move the file; returns where the file went. `note` says what the
    decision consisted of (a masking's boxes), in the same event; each of `changes` (the fields the
    clerk corrected) is a "corrected" event of its own, before the decision's."""
    store = Store(config.database_url)
    row = store.document(doc_id, job)
    if row is None or row["status"] != Status.REVIEW.value:
        raise AlreadyDecided(f"この文書は既に「{row['status'] if row else '削除済み'}」です")
    folders = config.job(job).folders(config.home)
    source = Path(row["stored_path"] or "")
    target_folder = folders["archive"] if status == Status.CONFIRMED else folders["errors"]
    # recorded, then the file goes exactly there; a row of an online export stays (its file holds other rows)
    planned = source if rec.meta.get("export") else free_name(target_folder, source.name, doc_id)
    # what a clerk saw and typed is masked in the event, the error note and the log, as the runner does
    register_personal(f.value for f in rec.fields.values() if f.personal)
    register_personal(f.raw for f in rec.fields.values() if f.personal)
    # the ledger's 備考 says what happened last, not the validator's message from before the review
    remark = f"確認者: {who}" if status == Status.CONFIRMED else f"差し戻し: {reason} (確認者: {who})"
    rec.meta.update(status=status.value, reason=remark, archived_path=str(planned), reviewed_by=who,
                    reviewed_at=datetime.now(timelog.TOKYO).isoformat(timespec="seconds"))
    with store.begin() as conn:
        if not decide_document(conn, doc_id, job, status.value, record_to_dict(rec), str(planned), redact(reason)):
            raise AlreadyDecided("この文書は他の人が処理しました")
        timelog.set_human_minutes(conn, doc_id, job, minutes, status=status.value)
        for change in changes or ():
            store.add_event("corrected", doc_id, job, change.detail(who), conn=conn)
        store.add_event("confirmed" if status == Status.CONFIRMED else "rejected", doc_id, job,
                        redact(f"{who}: {minutes}分" + (f" 理由: {reason}" if reason else "") + (f" {note}" if note else "")),
                        conn=conn)
    if planned == source:
        return planned
    make_private_dir(target_folder)
    if source.is_file():
        os.replace(source, planned)
    if status == Status.ERROR:
        error_note = planned.with_name(planned.name + ".error.txt")
        with open(error_note, "w", encoding="utf-8", opener=private_opener) as f:
            f.write(f"ファイル名: {mask_name(row['original_name'] or '')}\n文書ID: {doc_id}\n"
                    f"理由: {redact(reason)}\n差し戻し: {who}\n")
    return planned
