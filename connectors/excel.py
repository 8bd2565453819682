"""The Excel ledger (台帳): one row per document, keyed by 文書ID, saved atomically under a lock.

A town's ledger is often a workbook the section already keeps: kakari appends below the existing
rows by header label, copies the previous row's style, grows tables and input rules with the data,
and never touches a workbook whose charts, images or pivot tables openpyxl would silently drop.
"""
from __future__ import annotations

import contextlib
import gc
import glob
import os
import secrets
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator
from copy import copy
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from filelock import FileLock, Timeout
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.worksheet import Worksheet

from connectors.base import Sink, WriteResult
from connectors.cells import set_cell
from kakari.errors import LedgerLocked, LedgerRefused
from kakari.files import PRIVATE_FILE, fsync_dir, is_busy, make_private, make_private_dir
from kakari.model import Record

DOC_ID = "文書ID"
HEAD = (DOC_ID, "受付日時", "元ファイル名")
TAIL = ("状態", "保存先", "備考")
CONFIRMATION = "システム受付番号"  # written back by web back-office sinks (rec.meta["confirmation"])
REVIEWED = ("確認者", "確認日時")  # who confirmed or sent back a 要確認 row on the review screen, and when
REPLACEABLE = ("要確認", "エラー")  # row states a later outcome of the same document overwrites
LOCK_WAIT_SECONDS = 20.0  # another kakari process saving the same ledger: wait, then park the rows

# Parts openpyxl does not round-trip: saving would silently delete them from the town's workbook.
_UNSAFE_PARTS = {"xl/charts/": "グラフ", "xl/drawings/": "図形・画像", "xl/media/": "画像",
                 "xl/pivotTables/": "ピボットテーブル", "xl/slicers/": "スライサー"}
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _plain_inline_strings() -> None:
    """Read a plain inline string (one <t>, no runs) without openpyxl's rich-text machinery.

    Every string kakari writes is an inline string, and with rich_text=True (so that a town's
    formatted cells survive) openpyxl builds a Text and a CellRichText for each: half the time of
    opening a 10,000-row ledger. The value is the one openpyxl gives (its x005F_ unescaping
    included); any other string, formatted runs or furigana, still goes through openpyxl."""
    from openpyxl.worksheet import _reader

    rich = getattr(_reader, "parse_richtext_string", None)
    if rich is None or getattr(rich, "plain_first", False):
        return
    plain_t = f"{{{_reader.SHEET_MAIN_NS}}}t"

    def parse(element: Any) -> Any:
        if len(element) == 1 and element[0].tag == plain_t and not element.text:
            text = element[0].text
            return text.replace("x005F_", "") if text else ""
        return rich(element)

    parse.plain_first = True  # type: ignore[attr-defined]
    _reader.parse_richtext_string = parse


_plain_inline_strings()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while openpyxl makes or writes a workbook's cells: for a
    large ledger that is a few hundred thousand objects, none of them garbage, and the collections
    their number set off took about 40% of the time of opening or saving it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def mask_my_number(value: Any) -> Any:
    """個人番号 is kept only where the job says so; elsewhere only the last 4 digits stay."""
    s = str(value or "")
    return s if len(s) <= 4 else "*" * (len(s) - 4) + s[-4:]


class ExcelLedger(Sink):
    """Append-only ledger sink; `update` replaces a row after review (要確認 → 確認済)."""

    name: ClassVar[str] = "excel"

    def __init__(self, path: Path, columns: list[tuple[str, str]], sheet: str = "台帳",
                 keep_my_number: bool = False, my_number_columns: Iterable[str] = ()) -> None:
        self.path = Path(path)
        self.columns = list(columns)  # (field name, header label)
        self.sheet = sheet
        self.keep_my_number = keep_my_number
        self.my_number_columns = set(my_number_columns)
        self.lock_wait = LOCK_WAIT_SECONDS

    # --- Sink ------------------------------------------------------------------------------
    def write_many(self, records: Iterable[Record]) -> WriteResult:
        records = list(records)
        result = WriteResult()
        if not records:
            return result
        with self._locked():
            wb, ws = self._open()
            header = self._header(ws, need_confirmation=any("confirmation" in r.meta for r in records),
                                  need_review=any("reviewed_by" in r.meta for r in records))
            rows = self._index(ws, header)
            last = _last_row(ws)
            first_new = last + 1
            status_col = header.get("状態")
            styles: _StyleMemo = {}
            for rec in records:
                if rec.doc_id in rows:
                    row = rows[rec.doc_id]
                    was = ws.cell(row=row, column=status_col).value if status_col else None
                    if was in REPLACEABLE and rec.meta.get("status") not in (None, was):
                        # a later outcome of the same document: a person confirmed or rejected a 要確認
                        # row, or a failed document was sent again (kakari jobs retry)
                        self._fill(ws, header, row, rec, style_from=None)
                        result.written.append(rec.doc_id)
                        continue
                    result.skipped.append(rec.doc_id)
                    continue
                last += 1
                self._fill(ws, header, last, rec, style_from=last - 1 if last > 2 else None, styles=styles)
                rows[rec.doc_id] = last
                result.written.append(rec.doc_id)
            if result.written:
                if last >= first_new:
                    _grow_ranges(ws, first_new - 1, last)
                self._save(wb)
                run = _RUNS.get(self.path)
                if run is not None:  # the run's next write starts from this workbook, not a re-read of it
                    _AHEAD[self.path] = _ReadAhead.saved(self.path, wb, run)
        result.detail = f"{self.path.name}: {len(result.written)}行追加, {len(result.skipped)}行は登録済"
        return result

    def update(self, rec: Record) -> WriteResult:
        with self._locked():
            wb, ws = self._open()
            header = self._header(ws, need_confirmation="confirmation" in rec.meta, need_review="reviewed_by" in rec.meta)
            row = self._index(ws, header).get(rec.doc_id)
            if row is None:
                row = _last_row(ws) + 1
                self._fill(ws, header, row, rec, style_from=row - 1 if row > 2 else None)
                _grow_ranges(ws, row - 1, row)
            else:
                self._fill(ws, header, row, rec, style_from=None)
            self._save(wb)
        return WriteResult(written=[rec.doc_id], detail=f"{self.path.name}: {row}行目を更新")

    @contextlib.contextmanager
    def read_ahead(self) -> Iterator[None]:
        """Parse the workbook in a background thread while the run reads documents; the next write
        uses it only if the file is still the one that was read (a large ledger takes seconds), and
        each later write of the run starts from the workbook the one before saved, on the same terms."""
        if not self.path.exists():
            yield
            return
        ahead = _ReadAhead(self.path, self._load)
        _AHEAD[self.path] = _RUNS[self.path] = ahead
        try:
            yield
        finally:
            if _RUNS.get(self.path) is ahead:
                del _RUNS[self.path]
            current = _AHEAD.get(self.path)
            if current is not None and current.run is ahead:
                del _AHEAD[self.path]
            if ahead.thread is not None:
                ahead.thread.join()

    # --- workbook ----------------------------------------------------------------------------
    def _open(self) -> tuple[Workbook, Worksheet]:
        if not self.path.exists():
            wb = Workbook()
            ws = wb.active
            ws.title = self.sheet
            return wb, ws
        ahead = _AHEAD.pop(self.path, None)
        wb = ahead.result() if ahead is not None else None
        if wb is None:
            wb = self._load()
        ws = wb[self.sheet] if self.sheet in wb.sheetnames else wb.create_sheet(self.sheet)
        return wb, ws

    def _load(self) -> Workbook:
        _refuse_unsafe(self.path)
        try:
            with _collector_paused():
                return load_workbook(self.path, keep_vba=self.path.suffix.lower() == ".xlsm", rich_text=True)
        except Exception as e:  # noqa: BLE001 - a damaged ledger must stop the writes, not be overwritten
            raise LedgerRefused(f"台帳 {self.path} を開けません ({type(e).__name__})。ファイルを確認してください") from None

    def _header(self, ws: Worksheet, need_confirmation: bool, need_review: bool = False) -> dict[str, int]:
        """label → column; labels the ledger lacks are added at the right end, styled like the header
        (確認者・確認日時 once a person has decided a row, so a ledger nobody reviews keeps its shape)."""
        wanted = [*HEAD, *(label for _, label in self.columns), *TAIL]
        if need_confirmation:
            wanted.append(CONFIRMATION)
        if need_review:
            wanted += REVIEWED
        existing = {str(c.value).strip(): c.column for c in ws[1] if c.value not in (None, "")}
        new_sheet = not existing
        col = max(existing.values(), default=0)
        for label in wanted:
            if label in existing:
                continue
            col += 1
            cell = ws.cell(row=1, column=col, value=label)
            if new_sheet or col == 1:
                cell.font = Font(bold=True)
                cell.fill = _HEADER_FILL
                cell.alignment = Alignment(horizontal="center", vertical="center")
            else:
                _copy_style(ws.cell(row=1, column=col - 1), cell)
            ws.column_dimensions[get_column_letter(col)].width = max(10, min(40, len(label) * 2 + 4))
            existing[label] = col
        if new_sheet:
            ws.freeze_panes = "A2"
        if ws.auto_filter.ref or new_sheet:
            ws.auto_filter.ref = f"A1:{get_column_letter(col)}{max(1, _last_row(ws))}"
        return existing

    def _index(self, ws: Worksheet, header: dict[str, int]) -> dict[str, int]:
        col = header[DOC_ID]
        return {str(r[0].value): r[0].row for r in ws.iter_rows(min_row=2, min_col=col, max_col=col)
                if r[0].value not in (None, "")}

    def _fill(self, ws: Worksheet, header: dict[str, int], row: int, rec: Record, style_from: int | None,
              styles: _StyleMemo | None = None) -> None:
        for label, value in self._values(rec).items():
            col = header.get(label)
            if col is None:
                continue
            cell = ws.cell(row=row, column=col)
            if style_from is not None and style_from >= 2:
                _copy_style(ws.cell(row=style_from, column=col), cell, styles)
            set_cell(cell, value)

    def _values(self, rec: Record) -> dict[str, Any]:
        meta = rec.meta
        out: dict[str, Any] = {DOC_ID: rec.doc_id, "受付日時": meta.get("received_at"),
                               "元ファイル名": meta.get("original_name", "")}
        for name, label in self.columns:
            f = rec.fields.get(name)
            value = None if f is None else f.value
            if name in self.my_number_columns and not self.keep_my_number and value:
                value = mask_my_number(value)
            out[label] = value
        out["状態"] = meta.get("status") or rec.status.value
        out["保存先"] = meta.get("archived_path", "")
        out["備考"] = meta.get("reason") or "、".join(rec.problems)
        if "confirmation" in meta:
            out[CONFIRMATION] = meta["confirmation"]
        if meta.get("reviewed_by"):
            at = meta.get("reviewed_at")
            out[REVIEWED[0]] = meta["reviewed_by"]
            out[REVIEWED[1]] = datetime.fromisoformat(at) if isinstance(at, str) else at
        return out

    def _save(self, wb: Workbook) -> None:
        """Write beside the ledger, fsync, rename over it: a crash leaves the old or the new file, never half."""
        make_private_dir(self.path.parent)
        tmp = self.path.with_name(f".{self.path.stem}.{secrets.token_hex(4)}.tmp{self.path.suffix}")
        try:
            with _collector_paused():
                wb.save(tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            if self.path.exists():
                os.chmod(tmp, self.path.stat().st_mode & 0o777)  # a town's ledger keeps its mode
            else:
                make_private(tmp)  # a new one holds applicants' data: the service account's alone
            self._check_foreign_lock()  # Excel may have opened it while we were saving
            try:
                os.replace(tmp, self.path)
            except OSError as e:
                if not is_busy(e):
                    raise
                # Windows: Excel (or any program) holding the workbook open refuses the replace
                raise LedgerLocked(f"台帳 {self.path.name} は他のプログラムが開いています。"
                                   "閉じると自動で書き込みます") from None
            fsync_dir(self.path.parent)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    # --- locks -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Our own writers queue on a side lock file; someone else's open workbook parks the rows."""
        make_private_dir(self.path.parent)
        lock = FileLock(writers_lock(self.path), mode=PRIVATE_FILE, thread_local=False)
        try:
            lock.acquire(timeout=self.lock_wait, poll_interval=0.05)
        except Timeout:
            raise LedgerLocked(f"台帳 {self.path.name} は別の kakari の処理が書き込み中です") from None
        try:
            # we hold the writers' lock, so a temp file still here was left by a writer that died
            for stale in self.path.parent.glob(f".{glob.escape(self.path.stem)}.*.tmp{self.path.suffix}"):
                stale.unlink(missing_ok=True)
            self._check_foreign_lock()
            yield
        finally:
            lock.release()

    def _check_foreign_lock(self) -> None:
        for owner in (self.path.with_name("~$" + self.path.name), self.path.with_name(f".~lock.{self.path.name}#")):
            if owner.exists():
                raise LedgerLocked(f"台帳 {self.path.name} は他の人が開いています ({owner.name} があります)。"
                                   "閉じると自動で書き込みます")
        if not self.path.exists():
            return
        try:
            # opened for writing, as the save needs it: on Windows a program that holds the workbook
            # (Excel, a viewer, the antivirus) refuses this with a sharing violation
            with open(self.path, "r+b"):
                pass
        except OSError as e:
            if is_busy(e):
                raise LedgerLocked(f"台帳 {self.path.name} は他のプログラムが使用中です。解放されると自動で書き込みます") from None
            raise


def writers_lock(ledger: Path) -> Path:
    """The side lock file kakari's writers of `ledger` queue on (every process, every OS)."""
    return ledger.with_name(f".{ledger.name}.lock")


class _ReadAhead:
    """One workbook being parsed in the background, and the identity of the file it is read from."""

    def __init__(self, path: Path, load: Callable[[], Workbook] | None) -> None:
        self.path, self.identity = path, _identity(path)
        self._workbook: Workbook | None = None
        self.run = self  # the run (read_ahead) this workbook belongs to
        self.thread: threading.Thread | None = None
        if load is not None:
            self._load = load
            self.thread = threading.Thread(target=self._run, name="kakari-ledger-read", daemon=True)
            self.thread.start()

    @classmethod
    def saved(cls, path: Path, workbook: Workbook, run: _ReadAhead) -> _ReadAhead:
        """The workbook just saved to `path`: what reading the file again would give."""
        kept = cls(path, None)
        kept._workbook, kept.run = workbook, run
        return kept

    def _run(self) -> None:
        with contextlib.suppress(Exception):  # the write opens it again and reports what is wrong
            self._workbook = self._load()

    def result(self) -> Workbook | None:
        """The parsed workbook if the file has not changed since (another writer, a clerk in Excel)."""
        if self.thread is not None:
            self.thread.join()
        return self._workbook if _identity(self.path) == self.identity else None


_AHEAD: dict[Path, _ReadAhead] = {}  # ledger → the workbook its next write may start from
_RUNS: dict[Path, _ReadAhead] = {}  # ledger → the read_ahead in progress


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def read_ledger(path: Path, sheet: str = "台帳") -> list[dict[str, Any]]:
    """The ledger's data rows as {header label: value}; what tests and the review screen read back."""
    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        ws = wb[sheet]
        rows = ws.iter_rows(values_only=True)
        header = [str(h) if h is not None else "" for h in next(rows, ())]
        return [dict(zip(header, r)) for r in rows if any(v not in (None, "") for v in r)]
    finally:
        wb.close()


_STYLE_IDS = ("fontId", "borderId", "fillId", "alignmentId", "protectionId", "numFmtId")
_StyleMemo = dict[tuple[int, ...], tuple[int, ...]]  # a source cell's style → the ids its copy got


def _copy_style(src: Any, dst: Any, memo: _StyleMemo | None = None) -> None:
    """The font, border, fill, alignment, protection and number format of `src` on `dst`. With a
    memo, a style copied once is copied again by its ids: appending a thousand rows copies the same
    few styles tens of thousands of times, and each copy searches the workbook's style lists."""
    if not src.has_style:
        return
    key = tuple(src._style)
    ids = memo.get(key) if memo is not None else None
    if ids is not None:
        if dst._style is None:  # a cell never styled has no style array yet
            dst._style = StyleArray()
        for name, value in zip(_STYLE_IDS, ids, strict=True):
            setattr(dst._style, name, value)
        return
    dst.font = copy(src.font)
    dst.border = copy(src.border)
    dst.fill = copy(src.fill)
    dst.alignment = copy(src.alignment)
    dst.protection = copy(src.protection)
    dst.number_format = src.number_format
    if memo is not None:
        memo[key] = tuple(getattr(dst._style, name) for name in _STYLE_IDS)


def _last_row(ws: Worksheet) -> int:
    """Last row holding a value: formatted but empty rows below a town's data do not count."""
    for row in range(ws.max_row, 1, -1):
        if any(c.value not in (None, "") for c in ws[row]):
            return row
    return 1


def _grow_ranges(ws: Worksheet, old_last: int, new_last: int) -> None:
    """Tables and input rules (data validation) that reached the old last row reach the new one."""
    for table in ws.tables.values():
        min_col, min_row, max_col, max_row = range_boundaries(table.ref)
        if max_row >= old_last:
            table.ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{max(max_row, new_last)}"
            if table.autoFilter is not None:
                table.autoFilter.ref = table.ref
    for dv in ws.data_validations.dataValidation:
        grown = []
        for rng in dv.sqref.ranges:
            min_col, min_row, max_col, max_row = rng.bounds
            if min_row >= 2 and max_row == old_last:
                max_row = new_last
            grown.append(f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{max_row}")
        dv.sqref = type(dv.sqref)(" ".join(grown))


def _refuse_unsafe(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except zipfile.BadZipFile:
        raise LedgerRefused(f"台帳 {path} は Excel ブック (.xlsx) として読めません。ファイルを確認してください") from None
    found = sorted({what for prefix, what in _UNSAFE_PARTS.items() if any(n.startswith(prefix) for n in names)})
    if found:
        raise LedgerRefused(
            f"台帳 {path.name} には {'・'.join(found)} が含まれています。kakari が保存すると失われるため書き込みません。"
            "データ用の台帳ブックを別に用意し、ジョブの ledger に指定してください")
