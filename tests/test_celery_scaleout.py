"""Scale-out on a real Redis with two real `kakari worker` (Celery) processes: 500 generated
documents, one worker killed with SIGKILL mid-run, and still every document registered once."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.excel import read_ledger
from jobs.store import Store, documents
from jobs.timelog import time_log
from kakari.config import load_config
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
KAKARI = str(Path(sys.executable).with_name("kakari"))
COUNT = int(os.environ.get("KAKARI_CELERY_DOCS", "500"))
PG_COUNT = int(os.environ.get("KAKARI_CELERY_PG_DOCS", "120"))  # the same race on PostgreSQL, smaller


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server がありません: make setup (Debian パッケージ redis-server) を実行してください")
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path_factory.mktemp("redis"))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


def counts(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(documents)).scalar_one()


@pytest.mark.slow
def test_two_celery_workers_one_killed_every_document_once(redis_url: str, tmp_path: Path, db_url: str) -> None:
    """Both workers claim from one database (SQLite here, then the private PostgreSQL)."""
    from samples.generate import generate

    count = PG_COUNT if db_url.startswith("postgresql") else COUNT
    import redis

    redis.Redis.from_url(redis_url).flushall()  # nothing left queued by an earlier run of this test
    generate(tmp_path / "s", count=count, seed=77, forms=["child_medical"])
    pdfs = sorted((tmp_path / "s" / "child_medical").glob("child_medical_*.pdf"))
    cfg = tmp_path / "kakari.toml"
    cfg.write_text('executor = "celery"\n' + (ROOT / "samples" / "kakari.toml").read_text(encoding="utf-8"),
                   encoding="utf-8")
    home = tmp_path / "home"
    env = os.environ | {"KAKARI_BROKER_URL": redis_url, "KAKARI_CELERY_VISIBILITY": "10", "COLUMNS": "200"}
    config = load_config(cfg, home)
    job = config.job("kodomo_iryo")
    inbox = job.folders(home)["inbox"]
    inbox.mkdir(parents=True)
    for pdf in pdfs:
        shutil.copy2(pdf, inbox / pdf.name)

    def worker() -> subprocess.Popen:
        return subprocess.Popen([KAKARI, "worker", "-c", "1", "--config", str(cfg), "--home", str(home)],
                                env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)

    a, b = worker(), worker()
    try:
        run = subprocess.run([KAKARI, "run", "kodomo_iryo", "--config", str(cfg), "--home", str(home)], env=env,
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        assert f"{count}件をワーカー" in run.stdout
        store = Store(config.database_url)
        deadline = time.monotonic() + 900  # a guard against a hang, generous for a loaded machine
        while counts(store) < count // 5 and time.monotonic() < deadline:
            time.sleep(0.2)
        os.killpg(a.pid, signal.SIGKILL)  # mid-run, holding a document
        a.wait(10)
        while counts(store) < count and time.monotonic() < deadline:
            assert b.poll() is None, b.stderr.read().decode()[-2000:]
            time.sleep(0.5)
        assert counts(store) == count
        # the ledger rows still parked (the workers took turns on the lock) are written by the next run
        subprocess.run([KAKARI, "run", "kodomo_iryo", "--config", str(cfg), "--home", str(home)], env=env,
                       cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    finally:
        for p in (a, b):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)

    with store.engine.connect() as conn:
        per_doc = dict(conn.execute(select(time_log.c.doc_id, func.count()).group_by(time_log.c.doc_id)).all())
    assert len(per_doc) == count and set(per_doc.values()) == {1}
    ledger = Counter(r["文書ID"] for r in read_ledger(job.ledger_path(home)))
    assert len(ledger) == count and set(ledger.values()) == {1}
    folders = job.folders(home)
    placed = Counter(p.name for f in ("archive", "review", "errors") for p in folders[f].iterdir()
                     if not p.name.endswith(".error.txt"))
    assert placed == Counter(p.name for p in pdfs)
    assert list(folders["processing"].iterdir()) == [] and list(inbox.iterdir()) == []


def test_inprocess_pool_of_workers(tmp_path: Path) -> None:
    """workers = 2: documents go to two spawned processes; same ledger, same exactly-once."""
    from jobs.runner import run_job
    from kakari.config import RunContext
    from samples.generate import generate

    generate(tmp_path / "s", count=8, seed=78, forms=["child_medical"])
    pdfs = sorted((tmp_path / "s" / "child_medical").glob("child_medical_*.pdf"))
    cfg = tmp_path / "kakari.toml"
    cfg.write_text("workers = 2\n" + (ROOT / "samples" / "kakari.toml").read_text(encoding="utf-8"), encoding="utf-8")
    config = load_config(cfg, tmp_path / "home")
    assert config.pool_size == 2
    job = config.job("kodomo_iryo")
    inbox = job.folders(config.home)["inbox"]
    inbox.mkdir(parents=True)
    for pdf in pdfs:
        shutil.copy2(pdf, inbox / pdf.name)
    summary = run_job(job, RunContext(config))
    assert summary.counts["read"] == len(pdfs) and summary.counts["エラー"] == 0
    assert len({o.doc_id for o in summary.outcomes}) == len(pdfs)
    rows = read_ledger(job.ledger_path(config.home))
    assert sorted(r["元ファイル名"] for r in rows) == [p.name for p in pdfs]
