"""Reading in a warm reader process: the time limit holds in any thread, the memory limit holds
against an inflate bomb, a killed reader is replaced, spawn works as well as forkserver."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from jobs.reading import readers
from jobs.runner import Outcome, process, run_job
from kakari.config import KakariConfig, RunContext, load_config
from kakari.model import Status
from samples.hostile import bomb_pdf


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from samples.generate import generate

    out = tmp_path_factory.mktemp("samples")
    generate(out, count=4, seed=21, forms=["child_medical"])
    return sorted((out / "child_medical").glob("child_medical_*.pdf"))


ROOT = Path(__file__).resolve().parents[1]
BOTS = Path(__file__).resolve().parent / "data" / "slow_bots"  # one folder: bot names are process-wide


NO_INFLATE_CHECK = f"max_inflated_bytes = {64 * 1024 ** 3}"  # the bombs here reach the reader's memory limit


def configure(tmp_path: Path, extra: str = "", limits: str = "", bots: str = "child_medical") -> KakariConfig:
    cfg = tmp_path / "kakari.toml"
    cfg.write_text(f'bots_dir = ["{BOTS.as_posix()}"]\n{extra}\n[limits]\n{limits}\n\n'
                   f'[jobs.t]\ndepartment = "子育て支援課"\nbots = ["{bots}"]\n', encoding="utf-8")
    return load_config(cfg, tmp_path / "home")


def one(config: KakariConfig, src: Path, name: str | None = None) -> Outcome:
    """Claim one file from the job's inbox and process it."""
    from connectors.folder import FolderSource

    job = config.job("t")
    source = FolderSource(job.folders(config.home), min_age=0)
    dest = source.inbox / (name or src.name)
    shutil.copy(src, dest)
    ref = source.claim(dest)
    assert ref is not None
    return process(job, ref, RunContext(config, "run-1"))


def error_reason(config: KakariConfig, name: str) -> str:
    errors = config.job("t").folders(config.home)["errors"]
    assert (errors / name).is_file(), list(errors.iterdir())
    return (errors / f"{name}.error.txt").read_text(encoding="utf-8")


def test_time_limit_holds_in_a_thread_and_the_next_document_is_read(tmp_path: Path, pdfs: list[Path]) -> None:
    config = configure(tmp_path, limits="timeout_seconds = 2", bots="slow_child")
    got: list[Outcome] = []
    worker = threading.Thread(target=lambda: got.append(one(config, pdfs[0], "slow_申請.pdf")))
    worker.start()  # the scheduler and the watcher process documents outside the main thread
    worker.join(60)
    assert not worker.is_alive() and got[0].status == Status.ERROR
    assert "制限時間 (2秒)" in got[0].reason and "制限時間" in error_reason(config, "slow_申請.pdf")
    config.limits.timeout_seconds = 120  # the next document's limit: a loaded machine is not a hung reader
    after = one(config, pdfs[1])  # a fresh reader takes the next document
    assert after.status != Status.ERROR, after.reason


def test_memory_limit_stops_an_inflate_bomb(tmp_path: Path, pdfs: list[Path]) -> None:
    """The reader's address space is capped: the bomb is refused with a reason, not read into 2 GB.
    The inflate check (max_inflated_bytes) would refuse it first; raised here, as a town may raise it
    for its own large PDFs, the memory limit is what stops it."""
    config = configure(tmp_path, extra='start_method = "spawn"', limits=f"memory_mb = 1024\n{NO_INFLATE_CHECK}")
    bomb = tmp_path / "bomb.pdf"
    bomb_pdf(bomb, 2 * 1024 ** 2)  # about 2 GiB inflated
    outcome = one(config, bomb, "爆弾.pdf")
    assert outcome.status == Status.ERROR
    assert "メモリ" in outcome.reason and "1,024 MB" in outcome.reason
    assert "上限 (1,024 MB)" in error_reason(config, "爆弾.pdf")  # the limit is named, masking or not
    assert one(config, pdfs[2]).status != Status.ERROR
    # the readers' peak, measured in a process of its own: this test process has had other children
    # (earlier tests' readers and commands), and RUSAGE_CHILDREN keeps the largest of them all
    measure = ("import resource, sys\nfrom pathlib import Path\nfrom jobs.reading import readers\n"
               "from kakari.config import load_config\nfrom tests.test_jobs_reading import one\n"
               "config = load_config(Path(sys.argv[1]), Path(sys.argv[2]))\n"
               "print(one(config, Path(sys.argv[3]), '爆弾2.pdf').status.value)\nreaders.close()\n"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    got = subprocess.run([sys.executable, "-c", measure, str(config.path), str(config.home), str(bomb)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert got.returncode == 0, got.stderr[-2000:]
    status, peak = got.stdout.split()[-2:]
    assert status == Status.ERROR.value
    assert int(peak) < 1024 * 1024, f"a reader peaked at {int(peak) // 1024} MB"


def test_memory_watch_where_the_os_has_no_limit(tmp_path: Path, pdfs: list[Path],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Without RLIMIT_AS or a job object (pywin32 missing on Windows) psutil watches the reader."""
    monkeypatch.setenv("KAKARI_MEMORY_GUARD", "watch")
    config = configure(tmp_path, limits=f"memory_mb = 1024\n{NO_INFLATE_CHECK}")
    bomb = tmp_path / "bomb.pdf"
    bomb_pdf(bomb, 4 * 1024 ** 2)  # about 4 GiB inflated
    outcome = one(config, bomb, "爆弾.pdf")
    assert outcome.status == Status.ERROR and "メモリ" in outcome.reason
    assert one(config, pdfs[3]).status != Status.ERROR


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_readers_stay_warm_and_pool_runs_with_each_start_method(tmp_path: Path, pdfs: list[Path],
                                                              method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if method == "forkserver" and sys.platform == "win32":
        pytest.skip("forkserver does not exist on Windows")
    monkeypatch.delenv("KAKARI_START_METHOD", raising=False)  # the config's method, whatever the suite's mode
    readers.close()
    config = configure(tmp_path, extra=f'start_method = "{method}"\nworkers = 2')
    job = config.job("t")
    inbox = job.folders(config.home)["inbox"]
    inbox.mkdir(parents=True, exist_ok=True)
    for pdf in pdfs:
        shutil.copy(pdf, inbox / pdf.name)
    summary = run_job(job, RunContext(config))
    assert summary.counts["read"] == len(pdfs) and summary.errors == 0
    assert {key[0] for key, _ in readers._idle} == {method}
    warm = {r.process.pid for _, r in readers._idle}
    assert 1 <= len(warm) <= 2  # one reader per worker, reused for every document
    for pdf in pdfs:
        shutil.copy(pdf, inbox / ("again_" + pdf.name))
    run_job(job, RunContext(config))
    assert {r.process.pid for _, r in readers._idle} <= warm | set()  # no new reader for the second run


def _in_a_prefork_worker(out: object, pdf: str, home: str) -> None:
    config = configure(Path(home))
    job = config.job("t")
    from connectors.folder import sha256_of
    from kakari.model import DocRef

    got = readers.read(job, DocRef(sha256_of(Path(pdf)), Path(pdf), "a.pdf", None), config)  # type: ignore[arg-type]
    out.put(got.bot)  # type: ignore[attr-defined]


def test_a_reader_starts_inside_a_celery_prefork_worker(tmp_path: Path, pdfs: list[Path]) -> None:
    """`kakari worker -c 2` runs tasks in billiard's daemonic pool processes; their readers start too,
    also where the forking process has warm readers of its own, and the worker exits cleanly."""
    import billiard

    (tmp_path / "parent").mkdir()
    config = configure(tmp_path / "parent")
    assert one(config, pdfs[1]).status != Status.ERROR  # leaves a warm reader in this process
    assert readers._idle
    out = billiard.Queue()
    worker = billiard.Process(target=_in_a_prefork_worker, args=(out, str(pdfs[0]), str(tmp_path)), daemon=True)
    worker.start()
    try:
        assert out.get(timeout=120) == "child_medical"
    finally:
        worker.join(30)
    assert worker.exitcode == 0  # its exit did not trip over this process's readers


@pytest.mark.skipif(sys.platform == "win32", reason="forkserver does not exist on Windows")
@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_kakari_run_starts_the_forkserver_before_the_first_document(tmp_path: Path, pdfs: list[Path],
                                                                    method: str) -> None:
    """The forkserver imports the readers' modules while `kakari run` still starts up; the first
    reader forks from that server. With spawn there is no server to start."""
    config = configure(tmp_path, extra=f'start_method = "{method}"')
    script = ("import sys, psutil\nfrom pathlib import Path\nfrom multiprocessing import forkserver\n"
              "from jobs.reading import readers, start_forkserver\nfrom kakari.config import load_config\n"
              "from tests.test_jobs_reading import one\n"
              "config = load_config(Path(sys.argv[1]), Path(sys.argv[2]))\nstart_forkserver(config)\n"
              "server = forkserver._forkserver._forkserver_pid\nprint(server)\n"
              "print(one(config, Path(sys.argv[3])).status.value)\n"
              "[(_, reader)] = readers._idle\nprint(psutil.Process(reader.process.pid).ppid() == server)\n"
              "readers.close()\n")
    env = {k: v for k, v in os.environ.items() if k != "KAKARI_START_METHOD"}
    got = subprocess.run([sys.executable, "-c", script, str(config.path), str(config.home), str(pdfs[0])],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert got.returncode == 0, got.stderr[-2000:]
    server, status, forked_from_it = got.stdout.split()[-3:]
    assert status != Status.ERROR.value
    if method == "forkserver":
        assert server != "None" and forked_from_it == "True"
    else:
        assert server == "None" and forked_from_it == "False"
