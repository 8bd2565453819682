"""Error families. Each class says whose fault it is and carries its exit code (OCRmyPDF model)."""
from __future__ import annotations

from datetime import datetime
from enum import IntEnum


class ExitCode(IntEnum):
    ok = 0
    bad_args = 1
    config = 2
    missing_dependency = 3
    documents_failed = 4
    internal = 15
    ctrl_c = 130


class KakariError(Exception):
    """Base of every error kakari raises on purpose. `message` is Japanese, shown to users."""

    exit_code: ExitCode = ExitCode.internal

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def kind(self) -> str:
        return type(self).__name__


# --- the document's fault: エラー, never retried -------------------------------------------
class DocumentError(KakariError):
    """The document cannot be processed. `read` is the read step's (detail, time) when the document
    was read before the error (no form matched), so its history still says how it was read."""

    exit_code = ExitCode.documents_failed
    read: tuple[str, datetime] | None = None


class EmptyFile(DocumentError):
    pass


class NotADocument(DocumentError):
    pass


class CorruptDocument(DocumentError):
    pass


class EncryptedDocument(DocumentError):
    pass


class TooLarge(DocumentError):
    pass


class Unrecognised(DocumentError):
    pass


class ReadTimeout(DocumentError):
    """Reading took longer than limits.timeout_seconds (a pathological or hostile file)."""


class ReaderDied(DocumentError):
    """The reader process ended while reading (a native library out of memory, a corrupt file)."""


# --- the environment's fault: parked and retried ---------------------------------------------
class TransientError(KakariError):
    exit_code = ExitCode.ok


class LedgerLocked(TransientError):
    pass


class SystemUnavailable(TransientError):
    pass


class PageTimeout(TransientError):
    pass


# --- the author's fault: refuse to start -----------------------------------------------------
class ConfigError(KakariError):
    exit_code = ExitCode.config


class TemplateError(ConfigError):
    pass


class LedgerRefused(ConfigError):
    """An existing workbook holds parts openpyxl would drop on save (charts, images, pivots)."""


# --- the machine's fault ---------------------------------------------------------------------
class MissingDependency(KakariError):
    exit_code = ExitCode.missing_dependency

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix

    def __reduce__(self) -> tuple[type, tuple[str, str]]:  # survives the trip back from a reader process
        return type(self), (self.message, self.fix)


ROOTS: tuple[type[KakariError], ...] = (DocumentError, TransientError, ConfigError, MissingDependency)
