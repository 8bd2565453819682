"""The house rules a newcomer relies on, checked on the source: imports only point down the layers,
no two modules import each other (directly or round a loop), and each table has one writer."""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# lower layers never import higher ones; folders of one layer never import each other
LAYERS: dict[str, int] = {"kakari": 0, "ocr": 1, "connectors": 1, "bots": 2, "jobs": 3, "kpi": 4,
                          "schedule": 5, "web": 5}
OUTSIDE = ("samples", "benchmarks", "tests", "scripts")  # may import anything; never imported by the layers


def modules() -> dict[str, Path]:
    found = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = modules()


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def imports(path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, only for type hints) for every import in the file, at any depth."""
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)

    def walk(node: ast.AST, hints: bool) -> Iterator[tuple[str, int, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, child.lineno, hints
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative: resolve against this module's package
                    pkg = name.split(".")[: -child.level]
                    base = ".".join([*pkg, base] if base else pkg)
                for alias in child.names:
                    sub = f"{base}.{alias.name}"
                    yield (sub if sub in MODULES else base), child.lineno, hints
            yield from walk(child, hints or _type_checking_only(child))

    yield from walk(ast.parse(path.read_text(encoding="utf-8")), False)


def internal(target: str) -> str | None:
    """The project module an import names (a package's __init__ for `from pkg import name`)."""
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


def test_imports_point_down_the_layers() -> None:
    wrong = []
    for module, path in MODULES.items():
        top = module.split(".")[0]
        for target, line, _ in imports(path):
            other = target.split(".")[0]
            where = f"{path.relative_to(ROOT)}:{line} imports {target}"
            if other in OUTSIDE:
                wrong.append(f"{where} (outside the layers)")
            elif other in LAYERS and other != top and LAYERS[other] >= LAYERS[top]:
                wrong.append(f"{where} ({top} is layer {LAYERS[top]}, {other} is layer {LAYERS[other]})")
    assert not wrong, "imports that run up or across the layers:\n" + "\n".join(wrong)


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for target, _, hints in imports(path):
            dep = internal(target)
            if dep and dep != module and not hints:
                graph[module].add(dep)
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" → ".join([*c, c[0]]) for c in cycles)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _tables() -> dict[str, str]:
    """Table variable → the module that defines it (`name = Table("…", …)`)."""
    owners = {}
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                    and getattr(node.value.func, "id", None) == "Table"):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        owners[t.id] = module
    return owners


def _written(tree: ast.AST, tables: set[str]) -> Iterator[tuple[str, int]]:
    """Tables a module inserts into, updates or deletes from (SQLAlchemy Core calls)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        names = [a.id for a in node.args if isinstance(a, ast.Name)]
        if isinstance(func, ast.Name) and func.id in ("insert", "update", "delete") and names[:1]:
            yield names[0], node.lineno
        elif isinstance(func, ast.Name) and func.id == "insert_ignore" and len(names) >= 2:
            yield names[1], node.lineno
        elif (isinstance(func, ast.Attribute) and func.attr in ("insert", "update", "delete")
              and isinstance(func.value, ast.Name) and func.value.id in tables):
            yield func.value.id, node.lineno


def test_each_table_has_one_writer() -> None:
    owners = _tables()
    assert {"documents", "time_log", "pending_writes", "users"} <= set(owners)
    wrong = []
    for module, path in MODULES.items():
        for table, line in _written(ast.parse(path.read_text(encoding="utf-8")), set(owners)):
            if table in owners and owners[table] != module:
                wrong.append(f"{path.relative_to(ROOT)}:{line} writes {table} (owned by {owners[table]})")
    assert not wrong, "writes outside the table's owner:\n" + "\n".join(wrong)


@pytest.mark.parametrize("source", [
    "from jobs.store import Store\n",  # kernel → pipeline
    "def f():\n    from web.app import create_app\n",  # a lazy import counts too
])
def test_the_checks_see_an_upward_import(source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = ROOT / "kakari" / "_layout_probe.py"
    monkeypatch.setitem(MODULES, "kakari._layout_probe", fake)
    monkeypatch.setattr(Path, "read_text", _reader(fake, source))
    with pytest.raises(AssertionError, match="layer 0"):
        test_imports_point_down_the_layers()


def _reader(fake: Path, source: str):  # noqa: ANN202 - a read_text stand-in for one path
    real = Path.read_text

    def read_text(self: Path, *args: object, **kwargs: object) -> str:
        return source if self == fake else real(self, *args, **kwargs)  # type: ignore[arg-type]

    return read_text


def test_the_cycle_check_finds_a_loop() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
