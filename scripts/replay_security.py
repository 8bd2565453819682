"""Replay tests/security against the kakari from before the hardening work, then against this tree,
and write the table of results (docs/security-replay.md): each of issue 18's items has a test that
failed before its fix and passes after it.

The old code is checked out in a throwaway git worktree (the parent of the commit that added
tests/security); today's tests/security, the sample generators it builds its inputs with
(samples/hostile.py, samples/masking.py) and its peak-memory helper are copied over it, and pytest
runs there with PYTHONPATH at the old tree, so both the tests and every `kakari` subprocess they
start use the old code. The old bomb tests run under an address-space cap (--old-memory-cap): the
old reader inflated a bomb in full and would otherwise exhaust a shared machine.

    .venv/bin/python scripts/replay_security.py            # both sides (about 40 minutes here, loaded)
    .venv/bin/python scripts/replay_security.py --only after   # re-run this tree, reuse the old side
    .venv/bin/python scripts/replay_security.py --files test_bomb   # re-run one file on both sides
"""
from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = "tests/security"
COPIED = (SUITE, "samples/hostile.py", "samples/masking.py", "benchmarks/peak_memory.py")  # tests, inputs, measuring
DOC = ROOT / "docs" / "security-replay.md"
# which of issue 18's items each test file replays
ITEMS = {
    "test_filenames": (1, "file names that are not valid UTF-8"),
    "test_formula_injection": (2, "formula injection in the KPI report"),
    "test_sessions": (3, "logout and disable end sessions"),
    "test_login_throttle": (4, "brute-force protection"),
    "test_accounts": (5, "account rules and users commands"),
    "test_log_injection": (6, "log injection"),
    "test_bomb": (7, "inflate and image bombs"),
    "test_error_pages": (8, "no unhandled 500s"),
    "test_personal_data": (9, "personal data in stored text"),
    "test_review_reason": (10, "the 差し戻し reason box"),
    "test_smaller": (11, "modes, headers, skipped entries, ledger note, log masking"),
}
MEMORY_HEAVY = ("test_bomb",)


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def before_commit() -> str:
    """The parent of the first commit that added the suite: the code the suite was written against."""
    first = git("log", "--diff-filter=A", "--format=%H", "--reverse", "--", f"{SUITE}/conftest.py").split()[0]
    return git("rev-parse", f"{first}^")


def run_pytest(tree: Path, files: list[str], junit: Path, cap: int | None) -> None:
    env = os.environ | {"PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}

    def limit() -> None:
        os.nice(10)
        if cap:
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
           "--rootdir", str(tree), *files]
    capped = f", address space ≤ {cap >> 30} GiB" if cap else ""
    print("$", " ".join(cmd), f"(in {tree}{capped})", flush=True)
    # a session of its own: what an old test leaves running (a `kakari web` past its timeout) ends with it
    proc = subprocess.Popen(cmd, cwd=tree, env=env, preexec_fn=limit, start_new_session=True)
    proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def side(tree: Path, junit_dir: Path, name: str, cap: int | None, only: list[str] | None) -> None:
    """Run the suite (or the test files named in `only`) in `tree`; results in junit_dir/NAME-*.xml,
    a re-run of some files overriding their earlier results."""
    files = sorted(str(p.relative_to(tree)) for p in (tree / SUITE).glob("test_*.py")
                   if only is None or p.stem in only)
    if only is None:
        for old in junit_dir.glob(f"{name}-*.xml"):
            old.unlink()
    label = "+".join(sorted(only)) if only else "all"
    heavy = [f for f in files if Path(f).stem in MEMORY_HEAVY]
    rest = [f for f in files if f not in heavy]
    if rest:
        run_pytest(tree, rest, junit_dir / f"{name}-{label}-rest.xml", None)
    if heavy:
        run_pytest(tree, heavy, junit_dir / f"{name}-{label}-heavy.xml", cap)


def outcomes(junit_dir: Path, name: str) -> dict[str, tuple[str, str]]:
    """test id → (passed | failed | error | skipped, first line of the failure); later runs win."""
    found: dict[str, tuple[str, str]] = {}
    for xml in sorted(junit_dir.glob(f"{name}-*.xml"), key=lambda p: p.stat().st_mtime):
        for case in ET.parse(xml).getroot().iter("testcase"):
            test = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
            result, why = "passed", ""
            for kind in ("failure", "error", "skipped"):
                el = case.find(kind)
                if el is not None:
                    result = {"failure": "failed"}.get(kind, kind)
                    why = (el.get("message") or "").strip().splitlines()[0][:110] if el.get("message") else ""
                    break
            found[test] = (result, why)
    return found


def table(before: dict[str, tuple[str, str]], after: dict[str, tuple[str, str]], commit: str) -> str:
    rows = []
    for test in sorted(after, key=lambda t: (ITEMS.get(t.split("::")[0], (99,))[0], t)):
        item = ITEMS.get(test.split("::")[0], (0, "?"))[0]
        old, why = before.get(test, ("not run", ""))
        if old in ("failed", "error") and ("ImportError" in why or "ModuleNotFoundError" in why):
            old = "failed (cannot import)"
        new = after[test][0]
        rows.append(f"| {item} | `{test}` | {old} | {new} | {why.replace('|', '/')} |")
    failed_items = {ITEMS[t.split('::')[0]][0] for t, (r, _) in before.items()
                    if r in ("failed", "error") and t.split("::")[0] in ITEMS}
    lines = [
        "# tests/security replayed before and after the hardening (issue 18)",
        "",
        f"Written by `scripts/replay_security.py`. *Before* is commit `{commit[:10]}`, the parent of the commit",
        "that added tests/security, with today's tests/security, samples/hostile.py, samples/masking.py",
        "and benchmarks/peak_memory.py copied over it (PYTHONPATH at the old tree, so the tests and every",
        "`kakari` they start run the old code). A test that cannot even import on the old code (it",
        "uses a function the fix added) shows *failed (cannot import)* and counts as failing. An",
        "*error* before means the test's setup failed on the old code (e.g. a command or option it did not",
        "have) and counts as failing. The old bomb tests ran under an address-space cap so that the",
        "old reader, which inflated a bomb in full, could not exhaust the shared machine; they fail",
        "there for want of memory or for taking all of it, never by the cap alone passing them.",
        "",
        "| item | item name |",
        "|---|---|",
        *[f"| {n} | {title} |" for n, title in sorted(ITEMS.values())],
        "",
        f"Items with at least one test failing before: {len(failed_items)} of {len(ITEMS)}"
        f" ({', '.join(map(str, sorted(failed_items)))}).",
        "",
        "| item | test | before | after | before: first line of the failure |",
        "|---|---|---|---|---|",
        *rows,
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=("before", "after"))
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/kakari-security-replay"))
    ap.add_argument("--old-memory-cap", type=int, default=4, help="GiB of address space for the old bomb tests")
    ap.add_argument("--files", help="only these test files (e.g. test_bomb,test_personal_data); the rest keep "
                                    "their earlier results in --workdir")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    commit = before_commit()
    only = [f.strip().removesuffix(".py") for f in args.files.split(",")] if args.files else None
    if args.only != "after":
        tree = args.workdir / "before"
        if tree.exists():
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
        git("worktree", "add", "--detach", str(tree), commit)
        try:
            for rel in COPIED:
                src, dst = ROOT / rel, tree / rel
                if src.is_dir():
                    shutil.rmtree(dst, ignore_errors=True)
                    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(src, dst)
            side(tree, args.workdir, "before", args.old_memory_cap << 30, only)
        finally:
            git("worktree", "remove", "--force", str(tree))
    if args.only != "before":
        side(ROOT, args.workdir, "after", None, only)
    before, after = outcomes(args.workdir, "before"), outcomes(args.workdir, "after")
    DOC.write_text(table(before, after, commit), encoding="utf-8")
    print(f"written {DOC.relative_to(ROOT)}: {sum(r in ('failed', 'error') for r, _ in before.values())} failing "
          f"before, {sum(r == 'passed' for r, _ in after.values())} of {len(after)} passing after")


if __name__ == "__main__":
    main()
