"""pyproject.toml declares exactly what the code imports: every third-party module the shipped
packages import is declared (core, or the extra of the only folders that use it), and nothing is
declared that nothing imports, except the few packages loaded for us by another, named here."""
from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("kakari", "ocr", "connectors", "bots", "jobs", "kpi", "schedule", "web")
OWN = {*SHIPPED, "samples", "benchmarks", "tests", "scripts"}
EXTRA_FOLDERS = {"web": {"web"}, "celery": {"jobs"}}  # an extra's packages are imported only there
# declared, never imported by our code: loaded by another package on our behalf, or a tool
NOT_IMPORTED = {
    "psycopg": "SQLAlchemy's PostgreSQL driver, chosen by the database URL",
    "jinja2": "starlette's templates (fastapi.templating)",
    "python-multipart": "starlette's form parsing (fastapi.Form)",
    "itsdangerous": "starlette's SessionMiddleware",
    "pytest-xdist": "a pytest plugin (-n)",
    "ruff": "make lint",
    "mypy": "make typecheck",
}


# modules of a package that installs only on another OS (its marker keeps it off this machine)
OTHER_OS = {"win32api": "pywin32", "win32con": "pywin32", "win32job": "pywin32"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> dict[str, str]:
    """Distribution → "core" or the extra that declares it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    groups = {"core": project["dependencies"], **project["optional-dependencies"]}
    out: dict[str, str] = {}
    for group, requirements in groups.items():
        for req in requirements:
            name = _norm(re.match(r"[A-Za-z0-9_.-]+", req).group(0))  # type: ignore[union-attr]
            out.setdefault(name, group)
    return out


def imported(folders: tuple[str, ...]) -> dict[str, set[str]]:
    """Distribution → the folders whose modules import it (lazy imports included)."""
    dists = importlib.metadata.packages_distributions()
    out: dict[str, set[str]] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in OWN:
                        continue
                    if top in OTHER_OS and top not in dists:
                        out.setdefault(_norm(OTHER_OS[top]), set()).add(folder)
                        continue
                    assert top in dists, f"{path.relative_to(ROOT)} imports {top}, which no installed package provides"
                    for dist in dists[top]:
                        out.setdefault(_norm(dist), set()).add(folder)
    return out


def test_every_import_of_the_shipped_packages_is_declared_where_it_is_used() -> None:
    have = declared()
    wrong = []
    for dist, folders in sorted(imported(SHIPPED).items()):
        group = have.get(dist)
        if group is None:
            wrong.append(f"{dist} (imported by {', '.join(sorted(folders))}) is not declared")
        elif group == "test":
            wrong.append(f"{dist} is imported by {', '.join(sorted(folders))} but declared only for tests")
        elif group in EXTRA_FOLDERS and not folders <= EXTRA_FOLDERS[group]:
            wrong.append(f"{dist} is in the {group} extra but imported by {', '.join(sorted(folders))}")
    assert not wrong, "\n".join(wrong)


def test_what_tests_samples_and_benchmarks_import_is_declared() -> None:
    have = declared()
    missing = sorted(d for d in imported(("tests", "samples", "benchmarks", "scripts")) if d not in have)
    assert not missing, f"imported but not declared (add them to the test extra): {missing}"


def test_nothing_is_declared_that_nothing_imports() -> None:
    shipped = imported(SHIPPED)
    rest = imported(("tests", "samples", "benchmarks", "scripts"))
    unused = []
    for dist, group in sorted(declared().items()):
        used = dist in shipped if group != "test" else dist in shipped or dist in rest
        if not used and dist not in NOT_IMPORTED:
            unused.append(f"{dist} ({group})")
    assert not unused, f"declared but imported nowhere: {unused}"
    stale = sorted(d for d in NOT_IMPORTED if d in shipped or d not in declared())
    assert not stale, f"NOT_IMPORTED names packages that are imported now, or no longer declared: {stale}"
