"""One Registry for every plugin family: built-ins by walking a package, other packages by entry
points, a town's own plugins from extra folders. Duplicate names are an error naming both files."""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Generic, TypeVar

from kakari.errors import ConfigError

T = TypeVar("T")

# Extra plugin folders per entry-point group, set from kakari.toml (bots_dir) before any registry of
# that group loads; the kernel keeps them so it never has to name a plugin package.
_FOLDERS: dict[str, list[Path]] = {}
_generation = 0


def add_folders(group: str, folders: Iterable[Path]) -> None:
    """Add folders of local plugins (`*.py`) for every registry of `group`."""
    global _generation
    known = _FOLDERS.setdefault(group, [])
    new = [Path(f) for f in folders if Path(f) not in known]
    if new:
        known.extend(new)
        _generation += 1


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    obj: type[T]
    origin: str  # "built-in", "entry point <dist>", "folder <path>"
    file: str


class Registry(Generic[T]):
    def __init__(self, group: str, base: type[T], package: str) -> None:
        self.group = group  # entry-point group, e.g. "kakari.bots"
        self.base = base
        self.package = package
        self._entries: dict[str, Entry[T]] | None = None
        self._generation = -1
        self._lock = threading.RLock()

    def add_folders(self, folders: Iterable[Path]) -> None:
        add_folders(self.group, folders)

    def reload(self) -> None:
        """Look everything up again on next use (a town's bot was changed on disk)."""
        with self._lock:
            self._entries = None

    # -- lookup -----------------------------------------------------------------------------
    def entries(self) -> dict[str, Entry[T]]:
        entries = self._entries
        if entries is not None and self._generation == _generation:
            return entries
        with self._lock:  # the web server's threads may all ask at once: load once, publish when complete
            if self._entries is None or self._generation != _generation:
                generation = _generation
                self._loading: dict[str, Entry[T]] = {}
                self._load_package()
                self._load_entry_points()
                for folder in _FOLDERS.get(self.group, []):
                    self._load_folder(folder)
                self._entries, self._generation = self._loading, generation
            assert self._entries is not None
            return self._entries

    def names(self) -> list[str]:
        return sorted(self.entries())

    def get(self, name: str) -> type[T]:
        try:
            return self.entries()[name].obj
        except KeyError:
            known = "、".join(self.names()) or "(なし)"
            raise ConfigError(f"「{name}」という {self.group} は登録されていません。登録済み: {known}") from None

    # -- discovery --------------------------------------------------------------------------
    def _add(self, obj: type[T], origin: str) -> None:
        name = getattr(obj, "name", None)
        if not name:
            return
        file = inspect.getsourcefile(obj) or "?"
        old = self._loading.get(name)
        if old is not None and old.obj is not obj:
            raise ConfigError(f"{self.group} の名前「{name}」が重複しています: {old.file} と {file}")
        self._loading[name] = Entry(name, obj, origin, file)

    def _collect(self, module: object, origin: str) -> None:
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(obj, self.base)
                and obj is not self.base
                and obj.__module__ == getattr(module, "__name__", None)
                and not inspect.isabstract(obj)
                and not getattr(obj, "abstract", False)
            ):
                self._add(obj, origin)

    def _load_package(self) -> None:
        pkg = importlib.import_module(self.package)
        for info in pkgutil.iter_modules(pkg.__path__, prefix=f"{self.package}."):
            self._collect(importlib.import_module(info.name), "built-in")

    def _load_entry_points(self) -> None:
        for ep in entry_points(group=self.group):
            try:
                obj = ep.load()
            except Exception as e:  # a broken plugin names itself, it does not take the others down
                raise ConfigError(f"プラグイン {ep.name} ({ep.value}) を読み込めません: {e}") from e
            dist = ep.dist.name if ep.dist else "?"
            if inspect.ismodule(obj):
                self._collect(obj, f"entry point {dist}")
            else:
                self._add(obj, f"entry point {dist}")

    def _load_folder(self, folder: Path) -> None:
        if not folder.is_dir():
            raise ConfigError(f"bots_dir {folder} がフォルダーではありません")
        for file in sorted(folder.glob("*.py")):
            if file.name.startswith("_"):
                continue
            mod_name = f"kakari_local_{self.package}_{file.stem}"
            spec = importlib.util.spec_from_file_location(mod_name, file)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            sys.modules[mod_name] = module
            spec.loader.exec_module(module)
            self._collect(module, f"folder {folder}")
