"""Reading a document (read_document → classify → bot.read) in a reader process that can be killed.

A hostile or broken file can make a parser loop or inflate without end. The per-document time limit
and the memory limit must hold on every OS and from any thread (the watcher's, the scheduler's, a
pool's), so reading happens in a separate process: the caller waits for the answer at most
`limits.timeout_seconds` and kills the reader when the time is up; the reader's memory is capped
(private memory, RLIMIT_DATA, on Linux; the address space, RLIMIT_AS, on other POSIX systems; a job
object's committed memory on Windows; else a watcher that kills it above the limit).

Readers are kept warm: one process per concurrent caller, started once (forkserver where the OS has
it, else spawn) and reused for every document, so the models stay loaded and a document costs one
round trip of a path and a Record. A killed or crashed reader is replaced on the next document.
"""
from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.process
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from bots import classify, registry as bot_registry
from bots.base import FormBot
from kakari.config import JobConfig, KakariConfig
from kakari.errors import DocumentError, KakariError, ReaderDied, ReadTimeout, TooLarge
from kakari.log import logger, redact, register_personal
from kakari.model import DocRef, Record, Status

PRELOAD = ["jobs.reading", "ocr.tesseract", "ocr.ppocr", "ocr.reader", "ocr.scan", "ocr.textlayer", "ocr.pdfium_layer",
           "pdfplumber", "bots"]  # imported once by the forkserver
T = TypeVar("T")
POLL_SECONDS = 0.05  # how often the memory watcher looks (only where no OS limit is available)


@dataclass
class Extraction:
    """What a reader sends back for one document."""

    record: Record
    bot: str
    status: Status
    reason: str
    read_detail: str  # for the "read" event: pages, engine, why pages were read as images
    classified_detail: str  # for the "classified" event: bot and score
    read_at: datetime
    classified_at: datetime


class ReaderBug(Exception):
    """A bug inside the reader (not the document's fault): the reader's own traceback, for the log."""

    def __init__(self, kind: str, trace: str) -> None:
        super().__init__(kind, trace)
        self.kind, self.trace = kind, trace


def extract(job: JobConfig, ref: DocRef, config: KakariConfig) -> Extraction:
    """read → classify → bot.read for one document, in this process (the reader's side)."""
    from ocr import read_document

    doc = read_document(ref.path, config, doc_id=ref.doc_id)
    read_at = datetime.now(timezone.utc)
    notes = "".join(f"、{n}" for n in doc.notes)  # why pages were read as images (a lying layer, 縦書き)
    read_detail = f"{len(doc.pages)}ページ ({doc.engine}){notes}"
    candidates = [bot_registry.get(name) for name in job.bots]
    try:
        bot_cls, score = classify(doc, [b for b in candidates if issubclass(b, FormBot)])
    except DocumentError as e:  # read, but no form of the job: the read step still goes to its history
        e.read = (read_detail, read_at)
        raise
    classified_at = datetime.now(timezone.utc)
    rec = bot_cls().read(doc)
    if job.min_confidence is not None:
        rec.min_confidence = job.min_confidence
    remember_personal(rec)
    return Extraction(rec, bot_cls.name, rec.status, "／".join(rec.problems),
                      read_detail, f"{bot_cls.name} ({score:.2f})",
                      read_at, classified_at)


def remember_personal(rec: Record) -> None:
    """Personal values of a record are masked in every log line of this process from now on."""
    register_personal(f.value for f in rec.fields.values() if f.personal)
    register_personal(f.raw for f in rec.fields.values() if f.personal)


# -- the reader process ---------------------------------------------------------------------------
def _serve(conn: Connection, memory_bytes: int, use_rlimit: bool) -> None:
    """The reader's loop: one (function, arguments, config) in (the config only when it changes),
    one ("ok"|"error"|"memory"|"bug", …) out, until None. The function is called as fn(*args, config)."""
    if use_rlimit and memory_bytes:
        import resource

        # Linux counts private writable memory in RLIMIT_DATA (what a decoded bitmap takes), which
        # keeps resident memory near the limit; the address space also holds every library mapped
        # and reserved arenas, so an address-space limit would allow far more resident memory
        kind = resource.RLIMIT_DATA if sys.platform.startswith("linux") else resource.RLIMIT_AS
        _, hard = resource.getrlimit(kind)
        limit = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
        resource.setrlimit(kind, (limit, hard))
    from kakari.config import apply
    from kakari.log import setup_logging

    config: KakariConfig | None = None
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return  # the caller went away
        if msg is None:
            return
        fn, args, new_config = msg
        if new_config is not None:
            config = new_config
            apply(config)
            setup_logging(config.home, "WARNING")  # the reader logs into the home it reads for
        assert config is not None
        try:
            answer: tuple[str, Any] = ("ok", fn(*args, config))
        except MemoryError:
            answer = ("memory", None)
        except KakariError as e:
            answer = ("error", e)
        except Exception as e:  # noqa: BLE001 - sent to the caller, who logs it with an incident number
            answer = ("bug", ReaderBug(type(e).__name__, redact(traceback.format_exc())))  # values this reader saw
        try:
            try:
                conn.send(answer)
            except MemoryError:
                answer = ("memory", None)
                conn.send(answer)
        except OSError:
            return  # the caller went away (killed) while we were reading
        if answer[0] == "memory":
            return  # the heap may be fragmented near the limit: a fresh reader takes the next document


def start_method(config: KakariConfig) -> str:
    """forkserver where the OS has it (fast, no inherited threads), else spawn; KAKARI_START_METHOD
    or `start_method` in kakari.toml choose one."""
    wanted = os.environ.get("KAKARI_START_METHOD") or config.start_method
    if wanted == "auto":
        return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return wanted


def start_forkserver(config: KakariConfig) -> None:
    """Start the forkserver now where readers fork from it: it imports PRELOAD while the caller goes
    on starting up (a command's own imports, the database, the inbox), so the first document does
    not wait for those imports. Starting it does not wait for it."""
    if start_method(config) != "forkserver":
        return
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()


def memory_guard() -> str:
    """How the reader's memory is capped here: "rlimit" (POSIX), "job" (Windows job object, pywin32),
    else "watch" (psutil looks at the reader while it works and kills it above the limit)."""
    if os.environ.get("KAKARI_MEMORY_GUARD"):
        return os.environ["KAKARI_MEMORY_GUARD"]
    if sys.platform != "win32":
        try:
            import resource  # noqa: F401
            return "rlimit"
        except ImportError:
            return "watch"
    try:
        import win32job  # noqa: F401
        return "job"
    except ImportError:
        return "watch"


class Reader:
    """One warm reader process and the pipe to it."""

    def __init__(self, method: str, memory_mb: int) -> None:
        self.memory_bytes = memory_mb * 1024 * 1024
        self.guard = memory_guard() if memory_mb else "none"
        ctx: Any = multiprocessing.get_context(method)
        if method == "forkserver":
            ctx.set_forkserver_preload(PRELOAD)
        self.conn, child = ctx.Pipe(duplex=True)
        with _plain_parent():
            self.process = ctx.Process(target=_serve, name="kakari-reader", daemon=True,
                                       args=(child, self.memory_bytes, self.guard == "rlimit"))
            self.process.start()
        child.close()
        self._job_handle: Any = None
        if self.guard == "job":
            self._job_handle = _windows_job(self.process.pid, self.memory_bytes)
        self._watched: Any = None
        if self.guard == "watch":
            import psutil

            self._watched = psutil.Process(self.process.pid)
        self.config: KakariConfig | None = None  # the config the reader holds (sent when it changes)
        self.busy = False

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    @property
    def reusable(self) -> bool:
        return not self.busy and self.alive

    def run(self, fn: Callable[..., T], args: tuple[Any, ...], config: KakariConfig, timeout: float) -> T:
        """fn(*args, config) in the reader; kill the reader at the deadline or the memory limit."""
        self.conn.send((fn, args, None if config is self.config else config))
        self.config = config
        self.busy = True  # until the answer is in: a reader interrupted mid-document is not reused
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise ReadTimeout(f"読み取りが制限時間 ({timeout:g}秒) を超えたため中止しました")
            if self.conn.poll(min(left, POLL_SECONDS) if self._watched is not None else left):
                break
            if self._watched is not None and self._rss() > self.memory_bytes:
                self.kill()
                raise TooLarge(self._too_much())
        try:
            kind, value = self.conn.recv()
        except (EOFError, OSError):
            code = self._reap()
            limit = f"メモリ上限 ({self.memory_bytes // (1024 * 1024):,} MB) を超えたか、" if self.memory_bytes else ""
            # a native library that cannot allocate aborts the process instead of raising MemoryError
            raise ReaderDied(f"読み取り中に処理が異常終了しました ({limit}ファイルが壊れている可能性があります。"
                             f"終了コード {code})") from None
        self.busy = False
        if kind == "ok":
            return value
        if kind == "memory":
            self._reap()
            raise TooLarge(self._too_much())
        raise value

    def _too_much(self) -> str:
        return f"読み取りに必要なメモリが上限 ({self.memory_bytes // (1024 * 1024):,} MB) を超えたため中止しました"

    def _rss(self) -> int:
        try:
            return int(self._watched.memory_info().rss)
        except Exception:  # noqa: BLE001 - gone already: the pipe says so next
            return 0

    def _reap(self) -> int | None:
        self.process.join(5)
        if self.process.is_alive():
            self.kill()
        return self.process.exitcode

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        if self.alive:
            try:
                self.conn.send(None)
                self.process.join(2)
            except (OSError, ValueError):
                pass
        if self.alive:
            self.kill()
        self.conn.close()


class _StandIn(multiprocessing.process.BaseProcess):
    """What multiprocessing's own main process object is (its class is not exported)."""

    def __init__(self) -> None:
        self._identity = ()
        self._name = "MainProcess"
        self._parent_pid = None
        self._popen = None
        self._closed = False
        self._config = {"authkey": os.urandom(32), "semprefix": "/mp"}  # billiard replaces the key class


@contextmanager
def _plain_parent() -> Iterator[None]:
    """Start a reader from a Celery prefork worker too. billiard makes its own (daemonic) process
    object the current process, and multiprocessing refuses children of a daemonic process and
    cannot pickle billiard's authkey; for the start, a plain main process stands in. The reader is
    daemonic and ends with its pipe, so it never outlives the worker."""
    import multiprocessing.process as mpp

    current = mpp._current_process  # type: ignore[attr-defined]
    if isinstance(current, mpp.BaseProcess) and not current._config.get("daemon"):  # type: ignore[attr-defined]
        yield
        return
    mpp._current_process = _StandIn()  # type: ignore[attr-defined]
    try:
        yield
    finally:
        mpp._current_process = current  # type: ignore[attr-defined]


def _windows_job(pid: int, memory_bytes: int) -> Any:
    """A Windows job object capping the reader's committed memory; closing it kills the reader."""
    import win32api
    import win32con
    import win32job

    job = win32job.CreateJobObject(None, "")
    info = win32job.QueryInformationJobObject(job, win32job.JobObjectExtendedLimitInformation)
    info["ProcessMemoryLimit"] = memory_bytes
    info["BasicLimitInformation"]["LimitFlags"] |= (win32job.JOB_OBJECT_LIMIT_PROCESS_MEMORY
                                                    | win32job.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE)
    win32job.SetInformationJobObject(job, win32job.JobObjectExtendedLimitInformation, info)
    handle = win32api.OpenProcess(win32con.PROCESS_SET_QUOTA | win32con.PROCESS_TERMINATE, False, pid)
    win32job.AssignProcessToJobObject(job, handle)
    return job


class ReaderPool:
    """Warm readers of this process, one per caller at a time (threads may read concurrently)."""

    def __init__(self) -> None:
        self._idle: list[tuple[tuple[str, int], Reader]] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def read(self, job: JobConfig, ref: DocRef, config: KakariConfig) -> Extraction:
        """One document's extraction in a warm reader, under the config's limits."""
        return self.run(extract, (job, ref), config)

    def run(self, fn: Callable[..., T], args: tuple[Any, ...], config: KakariConfig, at_least_mb: int = 0) -> T:
        """fn(*args, config) — a module-level function — in a warm reader, under the config's limits
        (its memory limit raised to `at_least_mb` for work known to need more; no limit stays none)."""
        limit = config.limits.memory_mb
        key = (start_method(config), max(limit, at_least_mb) if limit else 0)
        reader = self._take(key)
        try:
            return reader.run(fn, args, config, config.limits.timeout_seconds)
        finally:
            if reader.reusable:
                self._give_back(key, reader)
            elif reader.alive:
                reader.kill()

    def _take(self, key: tuple[str, int]) -> Reader:
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's readers are not ours
                self._idle, self._pid = [], os.getpid()
            for i, (k, reader) in enumerate(self._idle):
                if k == key:
                    del self._idle[i]
                    if reader.alive:
                        return reader
                    break
        method, memory_mb = key
        logger.debug(f"読み取りプロセスを起動します ({method})")
        return Reader(method, memory_mb)

    def _give_back(self, key: tuple[str, int], reader: Reader) -> None:
        with self._lock:
            self._idle.append((key, reader))

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        if self._pid == os.getpid():
            for _, reader in idle:
                reader.stop()


def _forget_the_parents_processes() -> None:
    """In a forked child (a Celery prefork worker), the parent's readers and forkserver are not ours
    to use or wait for: the next reader starts a new forkserver, and the child's exit does not try
    to join the parent's readers (multiprocessing clears this set only in processes it started)."""
    import multiprocessing.process as mpp
    from multiprocessing import forkserver

    mpp._children.clear()  # type: ignore[attr-defined]
    server = getattr(forkserver, "_forkserver", None)  # the stdlib's, per process, not reset on fork
    if server is None:
        return
    for name in ("_forkserver_pid", "_forkserver_address", "_forkserver_alive_fd"):
        setattr(server, name, None)
    server._lock = threading.Lock()  # another thread may have held it at the fork


readers = ReaderPool()
atexit.register(readers.close)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_the_parents_processes)
