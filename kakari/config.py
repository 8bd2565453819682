"""kakari.toml → pydantic models. Parsed once, handed down in RunContext.

Relative folder and ledger paths resolve against the home (``--home`` / ``KAKARI_HOME`` / ``./var``),
so two homes never share state; ``bots_dir`` resolves against the config file's folder (code lives
beside the config).
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field as PField, ValidationError, field_validator, model_validator

from kakari.errors import ConfigError

DEFAULT_HOME = Path("var")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OcrConfig(_Strict):
    dpi: int = PField(300, ge=72, le=600)
    lang: str = "jpn"
    min_chars_per_page: int = PField(20, ge=0)  # fewer real characters than this → treat the page as a scan
    tessdata: str | None = None  # folder holding jpn.traineddata; found automatically when unset
    models_dir: str | None = None  # folder holding the pinned PP-OCR model files; unset: those in the rapidocr wheel
    drawing_fonts: list[str] | None = None  # fonts variant kanji are drawn in to be judged; unset: IPA Gothic/Mincho


class LimitsConfig(_Strict):
    max_bytes: int = PField(50 * 1024 * 1024, gt=0)
    max_pages: int = PField(50, gt=0)
    max_pixels: int = PField(120_000_000, gt=0)  # per page, after rasterising
    # a PDF's streams other than images, inflated, per document: forms need kilobytes, a few embedded
    # CJK fonts tens of megabytes; an inflate bomb is refused here before a parser holds it in memory
    max_inflated_bytes: int = PField(128 * 1024 * 1024, gt=0)
    timeout_seconds: float = PField(120.0, gt=0)  # per document; the reader process is killed after it
    # the reader process's private memory (RLIMIT_DATA on Linux, address space on other POSIX systems,
    # committed memory on Windows); 0 = no limit. With the ~75 MiB of libraries a reader maps, 896
    # keeps a reader's resident memory under 1 GiB, whatever it is given (benchmarks/run_bomb.py)
    memory_mb: int = PField(896, ge=0)


class SystemConfig(_Strict):
    """Where this machine keeps what kakari uses but does not ship (found automatically when unset)."""

    fonts: list[Path] = PField(default_factory=list)  # Japanese font files (.ttf/.ttc/.otf), gothic first
    browser: str | None = None  # a Chromium-family executable, or a Playwright channel ("msedge", "chrome")
    tesseract: Path | None = None  # tesseract(.exe); its tessdata is found beside it
    pg_bin: Path | None = None  # folder of pg_dump / pg_restore (kakari backup with PostgreSQL)


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cron_trigger(expr: str) -> Any:
    """APScheduler CronTrigger (Asia/Tokyo) for a five-field crontab line, with crontab's weekdays.

    APScheduler 3 counts weekdays from Monday = 0, crontab from Sunday = 0: "1-5" would mean Tuesday
    to Saturday. Numbers in the weekday field are turned into names (mon-fri) first."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"5つの欄 (分 時 日 月 曜日) が必要です ({len(fields)}個あります)")
    parts = []
    for part in fields[4].split(","):
        values, _, step = part.partition("/")
        named = "-".join(_WEEKDAYS[int(v)] if v.isdigit() and int(v) <= 7 else v for v in values.split("-"))
        parts.append(named + (f"/{step}" if step else ""))
    minute, hour, day, month, _ = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=",".join(parts),
                       timezone="Asia/Tokyo")


def check_cron(expr: str | None) -> str | None:
    """A five-field cron expression (minute hour day month weekday), checked by APScheduler's parser."""
    if expr is None:
        return None
    try:
        cron_trigger(expr)
    except (ValueError, IndexError) as e:
        raise ValueError(f"cron の書式が正しくありません「{expr}」(例: \"0 2 * * 1-5\" = 平日 2:00): {e}") from None
    return expr


class KpiConfig(_Strict):
    """Targets and conversions for the 削減効果 report (DX plan KPIs)."""

    target_rate: float | None = PField(None, ge=0, le=1)  # 目標削減率 overall, e.g. 0.5
    targets: dict[str, float] = PField(default_factory=dict)  # 業務名 → 目標削減率
    target_hours: float | None = PField(None, gt=0)  # 年度の目標削減時間 (hours saved in a 年度, overall)
    order: list[str] = PField(default_factory=list)  # 業務名 in the order reports list them (then [jobs.*] order)
    annual_hours: float = PField(1860.0, gt=0)  # 年間勤務時間 of one FTE (人工 換算)
    hourly_cost: float = PField(0.0, ge=0)  # 時間単価 (円) for 削減額; 0 hides the column
    report_dir: Path | None = None  # where the monthly report is filed; default <home>/reports
    report_schedule: str | None = None  # cron for filing last month's report, e.g. "0 6 1 * *" (the 1st, 6:00)

    @field_validator("report_schedule")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        return check_cron(v)

    def target_for(self, task: str) -> float | None:
        return self.targets.get(task, self.target_rate)


class WebConfig(_Strict):
    """`kakari web`: how long a login lasts and how many wrong passwords it takes to lock one."""

    session_hours: float = PField(8.0, gt=0)  # a login ends this long after it began, at the latest
    idle_minutes: float = PField(60.0, gt=0)  # … or after this long without a request
    login_attempts: int = PField(5, ge=1, le=10)  # wrong passwords in a row before the account waits
    address_attempts: int = PField(20, ge=1)  # wrong passwords from one address before it waits
    lockout_minutes: float = PField(15.0, gt=0)  # how long the account or the address waits


class JobDefaults(_Strict):
    department: str | None = None
    manual_minutes: float | None = PField(None, ge=0)
    review_minutes: float | None = PField(None, ge=0)
    min_confidence: float | None = PField(None, ge=0, le=1)


class JobConfig(_Strict):
    name: str = ""
    title: str | None = None
    department: str | None = None  # 原課
    task: str | None = None  # 業務名; defaults to the bot's
    bots: list[str] = PField(min_length=1)
    # "export": the inbox takes online applications' exports (CSV/xlsx/JSON, one application per row,
    # attachments in a folder or ZIP of the same name), read through the bots' <bot>.export.toml
    source: Literal["folder", "export"] = "folder"
    exports: list[str] = PField(default_factory=list)  # export jobs: services it takes (default: all its bots')
    folder: Path | None = None  # base of inbox/processing/archive/review/errors; default <home>/jobs/<name>
    inbox: Path | None = None
    processing: Path | None = None
    archive: Path | None = None
    review: Path | None = None
    errors: Path | None = None
    ledger: Path | None = None  # default <folder>/台帳.xlsx
    output: Path | None = None  # files a bot makes of the documents (masked copies); default <folder>/output
    keep_originals_days: int | None = PField(None, ge=0)  # originals in archive/ deleted after this many days
    ledger_sheet: str | None = None
    sinks: list[str] = PField(default_factory=lambda: ["excel"])
    manual_minutes: float | None = PField(None, ge=0)  # 導入前 per item; overrides the bot's estimate
    manual_minutes_by_bot: dict[str, float] = PField(default_factory=dict)
    review_minutes: float | None = PField(None, ge=0)  # 導入後 estimate per 要確認 item
    min_confidence: float | None = PField(None, ge=0, le=1)
    keep_my_number: bool = False
    schedule: str | None = None  # cron, Asia/Tokyo: "0 2 * * 1-5" = weekdays at 2:00 (kakari scheduler)
    misfire: Literal["run_once", "skip"] = "run_once"  # runs missed while the machine was off

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        return check_cron(v)

    @model_validator(mode="after")
    def _exports_need_export_source(self) -> JobConfig:
        if self.exports and self.source != "export":
            raise ValueError('exports は source = "export" のジョブだけで指定できます')
        return self

    def folders(self, home: Path) -> dict[str, Path]:
        base = _resolve(home, self.folder) if self.folder else home / "jobs" / self.name
        out = {}
        for key in ("inbox", "processing", "archive", "review", "errors"):
            value = getattr(self, key)
            out[key] = _resolve(home, value) if value else base / key
        return out

    def output_folder(self, home: Path) -> Path:
        if self.output:
            return _resolve(home, self.output)
        base = _resolve(home, self.folder) if self.folder else home / "jobs" / self.name
        return base / "output"

    def ledger_path(self, home: Path) -> Path:
        if self.ledger:
            return _resolve(home, self.ledger)
        base = _resolve(home, self.folder) if self.folder else home / "jobs" / self.name
        return base / "台帳.xlsx"


class KakariConfig(_Strict):
    path: Path | None = None  # the file it came from, if any
    home: Path = DEFAULT_HOME
    db_url: str | None = None  # default sqlite:///<home>/kakari.db; KAKARI_DB_URL wins
    bots_dir: list[Path] = PField(default_factory=list)
    ocr: OcrConfig = PField(default_factory=OcrConfig)
    limits: LimitsConfig = PField(default_factory=LimitsConfig)
    defaults: JobDefaults = PField(default_factory=JobDefaults)
    kpi: KpiConfig = PField(default_factory=KpiConfig)
    system: SystemConfig = PField(default_factory=SystemConfig)
    web: WebConfig = PField(default_factory=WebConfig)
    jobs: dict[str, JobConfig] = PField(default_factory=dict)
    # where documents are processed: in this process (a pool of `workers`, 0 = one per core), or
    # enqueued for `kakari worker` processes on Celery (broker: Redis; share the database: PostgreSQL)
    executor: Literal["inline", "celery"] = "inline"
    workers: int = PField(1, ge=0)
    broker_url: str | None = None  # KAKARI_BROKER_URL wins; default redis://127.0.0.1:6379/0
    # how reader processes start: forkserver where the OS has it ("auto"), or spawn (Windows, macOS);
    # KAKARI_START_METHOD wins
    start_method: Literal["auto", "spawn", "forkserver"] = "auto"
    # the browser web back-office entry drives: a path, or an installed channel ("msedge", "chrome");
    # default: [system] browser, KAKARI_CHROMIUM, else Edge on Windows, Chromium on Linux (connectors/browser.py)
    browser: str | None = None

    @property
    def broker(self) -> str:
        return os.environ.get("KAKARI_BROKER_URL") or self.broker_url or "redis://127.0.0.1:6379/0"

    @property
    def pool_size(self) -> int:
        return self.workers or os.cpu_count() or 1

    @model_validator(mode="after")
    def _fill_jobs(self) -> KakariConfig:
        for name, job in self.jobs.items():
            job.name = name
            for key in ("department", "manual_minutes", "review_minutes", "min_confidence"):
                if getattr(job, key) is None:
                    setattr(job, key, getattr(self.defaults, key))
        return self

    @property
    def database_url(self) -> str:
        return os.environ.get("KAKARI_DB_URL") or self.db_url or f"sqlite:///{self.home / 'kakari.db'}"

    def job(self, name: str) -> JobConfig:
        try:
            return self.jobs[name]
        except KeyError:
            known = "、".join(self.jobs) or "(なし)"
            where = self.path or "設定ファイルなし"
            raise ConfigError(f"ジョブ「{name}」は {where} に定義されていません。定義済み: {known}") from None


@dataclass
class RunContext:
    """What every step gets: the parsed config and the run it belongs to. Picklable."""

    config: KakariConfig
    run_id: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.config.home


def _resolve(base: Path, p: Path) -> Path:
    p = Path(os.path.expanduser(p))
    return p if p.is_absolute() else base / p


_MESSAGES = {
    "missing": "必須の項目がありません",
    "extra_forbidden": "不明な項目です (綴りを確認してください)",
    "greater_than_equal": "値が小さすぎます",
    "less_than_equal": "値が大きすぎます",
    "greater_than": "値が小さすぎます",
    "too_short": "少なくとも1つ指定してください",
}


def format_validation_error(source: Path | str, err: ValidationError) -> str:
    lines = [f"設定ファイル {source} に誤りがあります:"]
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(全体)"
        msg = _MESSAGES.get(e["type"], e["msg"])
        lines.append(f"  - {loc}: {msg} (入力値: {e.get('input')!r})" if e["type"] != "missing" else f"  - {loc}: {msg}")
    return "\n".join(lines)


def find_config_path(explicit: Path | None) -> Path | None:
    if explicit:
        return explicit
    env = os.environ.get("KAKARI_CONFIG")
    if env:
        return Path(env)
    local = Path("kakari.toml")
    return local if local.exists() else None


def find_home(explicit: Path | None) -> Path:
    return (explicit or Path(os.environ.get("KAKARI_HOME") or DEFAULT_HOME)).absolute()


def load_config(config: Path | None = None, home: Path | None = None) -> KakariConfig:
    """Load kakari.toml (or nothing) and resolve the home. Errors name the file and the key."""
    path = find_config_path(config)
    home_dir = find_home(home)
    data: dict[str, Any] = {}
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"設定ファイル {path} が見つかりません")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"設定ファイル {path} の書式が正しくありません: {e}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"設定ファイル {path} が UTF-8 ではありません") from None
    try:
        cfg = KakariConfig(**data, path=path.absolute() if path else None, home=home_dir)
    except ValidationError as e:
        raise ConfigError(format_validation_error(path or "(既定値)", e)) from None
    except TypeError as e:  # e.g. a key given twice by the caller
        raise ConfigError(f"設定ファイル {path}: {e}") from None
    if path is not None:
        cfg.bots_dir = [_resolve(path.absolute().parent, p) for p in cfg.bots_dir]
    if path is not None:
        base = path.absolute().parent
        s = cfg.system
        s.fonts = [_resolve(base, f) for f in s.fonts]
        s.tesseract = _resolve(base, s.tesseract) if s.tesseract else None
        s.pg_bin = _resolve(base, s.pg_bin) if s.pg_bin else None
    apply(cfg)
    return cfg


def apply(cfg: KakariConfig) -> None:
    """Make the config's plugin folders and [system] places known to this process (the CLI, the web
    server, a Celery worker, a reader process)."""
    from kakari import locate

    s = cfg.system
    locate.configure(s.fonts, s.browser, s.tesseract, s.pg_bin)
    if cfg.bots_dir:  # every process that reads this config sees the town's bots
        from kakari.registry import add_folders

        add_folders("kakari.bots", cfg.bots_dir)
