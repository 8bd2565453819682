"""The store on SQLite and on a real PostgreSQL: a document is committed once, its outbox rows are
queued once and written once, a decision lands once, and two processes racing on the same
documents never double one."""
from __future__ import annotations

import multiprocessing as mp
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from jobs.store import (
    Store,
    aware_utc,
    decide_document,
    documents,
    forget_document,
    insert_document,
    now,
    pending_writes,
    queue_writes,
)
from kakari.model import Status

T = datetime(2026, 10, 5, 1, 30, tzinfo=timezone.utc)


def row(doc_id: str, status: str = Status.REVIEW.value) -> dict:
    return {"doc_id": doc_id, "job": "kodomo", "status": status, "bot": "child_medical", "original_name": f"{doc_id}.pdf",
            "stored_path": f"/review/{doc_id}.pdf", "received_at": T, "finished_at": T, "reason": "", "run_id": "r1",
            "record": {"doc_id": doc_id, "fields": []}}


def commit(store: Store, doc_id: str) -> bool:
    with store.begin() as conn:
        fresh = insert_document(conn, row(doc_id))
        if fresh:
            queue_writes(conn, doc_id, "kodomo", ["excel", "web:eisei"], {"doc_id": doc_id}, T)
    return fresh


def test_a_document_and_its_outbox_rows_are_committed_once(db_url: str) -> None:
    store = Store(db_url)
    assert commit(store, "a") is True
    assert commit(store, "a") is False  # a replay after a crash, or a second worker
    doc = store.document("a", "kodomo")
    assert doc is not None and doc["record"] == {"doc_id": "a", "fields": []}
    assert aware_utc(doc["received_at"]) == T  # the time comes back the same from both databases
    assert len(store.pending("kodomo", "excel")) == 1 and store.pending_count() == 2


def test_outbox_rows_wait_for_their_time_and_are_written_once(db_url: str) -> None:
    store = Store(db_url)
    commit(store, "a")
    [excel] = store.pending("kodomo", "excel")
    store.mark_failed([excel["id"]], "台帳が開かれています", now() + timedelta(hours=1))
    assert store.pending("kodomo", "excel", due=now()) == []  # parked until its next try
    [again] = store.pending("kodomo", "excel", due=now() + timedelta(hours=2))
    assert again["attempts"] == 1 and again["last_error"] == "台帳が開かれています"
    store.mark_written([excel["id"]])
    assert store.pending("kodomo", "excel") == [] and store.pending_count("kodomo") == 1


def test_a_decision_lands_once_and_requeues_the_writes(db_url: str) -> None:
    store = Store(db_url)
    commit(store, "a")
    store.mark_written(r["id"] for r in store.pending("kodomo", "excel"))
    decided = {"doc_id": "a", "fields": [], "meta": {"status": "確認済"}}
    with store.begin() as conn:
        assert decide_document(conn, "a", "kodomo", Status.CONFIRMED.value, decided, "/archive/a.pdf", "") is True
    with store.begin() as conn:  # the second clerk's click finds it decided
        assert decide_document(conn, "a", "kodomo", Status.ERROR.value, decided, "/errors/a.pdf", "差し戻し") is False
    assert store.document("a", "kodomo")["status"] == Status.CONFIRMED.value
    [excel] = store.pending("kodomo", "excel")
    assert excel["payload"] == decided and excel["attempts"] == 0


def test_history_runs_and_forgetting_a_failed_document(db_url: str) -> None:
    store = Store(db_url)
    store.start_run("r1", "kodomo", "manual")
    commit(store, "abcdef123456")
    store.add_event("claimed", "abcdef123456", "kodomo", "abcdef123456.pdf", "r1")
    store.finish_run("r1", "ok", {"read": 1}, 0.5, {"docs/read": 1})
    assert [e["event"] for e in store.history(doc_id_prefix="abcdef")] == ["claimed"]
    assert [e["event"] for e in store.history(original_name="abcdef123456.pdf")] == ["claimed"]
    [run] = store.runs_for("kodomo")
    assert run["status"] == "ok" and run["counts"] == {"read": 1} and run["stats"] == {"docs/read": 1}
    doc = store.document("abcdef123456", "kodomo")
    with store.begin() as conn:
        forget_document(conn, doc["id"], "abcdef123456", "kodomo")
    assert store.document("abcdef123456", "kodomo") is None and store.pending_count() == 0


def _racer(url: str, start: mp.Event, names: list[str], out: mp.Queue) -> None:
    store = Store(url)
    start.wait(30)
    out.put(sum(commit(store, n) for n in names))


def test_two_processes_committing_the_same_documents_never_double_one(db_url: str) -> None:
    """Two workers that were handed the same 100 documents (a redelivery) commit each exactly once."""
    Store(db_url)  # the schema first, as `kakari` does on start
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    names = [f"doc{i:03d}" for i in range(100)]
    racers = [ctx.Process(target=_racer, args=(db_url, start, order, out)) for order in (names, names[::-1])]
    for p in racers:
        p.start()
    start.set()
    won = [out.get(timeout=120) for _ in racers]
    for p in racers:
        p.join(30)
    assert sum(won) == 100
    store = Store(db_url)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(documents)).scalar_one() == 100
        assert conn.execute(select(func.count()).select_from(pending_writes)).scalar_one() == 200
