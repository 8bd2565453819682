"""Text-layer PDFs end to end: one `kakari run` (one process start, 2 workers) over 1,000 single-page
samples of the three forms, into a ledger that already holds 10,000 rows, against invoice2data
(the peer: text extraction + regex templates) on the same PDFs in the same run, and against
pdfplumber's extraction alone (what the text layer cost before).

    python benchmarks/run_textlayer.py [--count 1000] [--ledger-rows 10000] [--peer-venv var/invoice2data-venv]

invoice2data is installed into its own scratch venv (never into kakari's), with one template, for
the 子ども医療費 form; it reads with pdftotext (poppler), its reader when pypdfium2 is not installed.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.measure import measured  # noqa: E402
from benchmarks.results import write_section  # noqa: E402

FORMS = ("child_medical", "restaurant_permit", "juminhyo_request")
PEER_TEMPLATE = """\
issuer: みどり町
keywords:
  - 子ども医療費受給資格証交付申請書
fields:
  applied: 申請日\\s+(\\S+)
  postal_code: 〒\\s*([0-9０-９]{3}[-－ー]?[0-9０-９]{4})
  phone: 電話番号\\s+([0-9０-９()（）\\-－ー]+)
  insurer: 保険者名\\s+(\\S+)
  insurer_number: 保険者番号\\s+([0-9０-９]+)
required_fields: [applied, postal_code, phone]
options:
  currency: JPY
  languages: [ja]
"""
PEER_SCRIPT = """\
import logging, sys
from multiprocessing import Pool
logging.disable(logging.CRITICAL)
from invoice2data import extract_data
from invoice2data.extract.loader import read_templates
from invoice2data.input import pdftotext
TEMPLATES = read_templates(sys.argv[1])
def one(path):
    return bool(extract_data(path, TEMPLATES, pdftotext))
if __name__ == "__main__":
    files = open(sys.argv[2], encoding="utf-8").read().split("\\n")
    with Pool(2) as pool:
        print(sum(pool.map(one, files, chunksize=8)))
"""


def make_samples(out: Path, count: int) -> list[Path]:
    from samples.generate import generate

    pdfs: list[Path] = []
    for i, form in enumerate(FORMS):
        n = count // len(FORMS) + (1 if i < count % len(FORMS) else 0)
        pdfs += generate(out, n, seed=7, forms=[form])
    return pdfs


def make_home(home: Path, pdfs: list[Path], ledger_rows: int) -> None:
    """A home with one job for the three forms, workers = 2, its ledger holding `ledger_rows` rows
    as kakari writes them (each row has its own form's columns), and the PDFs in the inbox."""
    from bots import registry
    from jobs.ledger import build_ledger
    from kakari.config import RunContext, load_config
    from kakari.model import Field, Record

    home.mkdir(parents=True)
    (home / "kakari.toml").write_text(textwrap.dedent(f"""\
        workers = 2
        [jobs.bench]
        department = "市民課"
        bots = {list(FORMS)!r}
        ledger = "ledgers/申請_台帳.xlsx"
        """).replace("'", '"'), encoding="utf-8")
    config = load_config(home / "kakari.toml", home)
    job = config.jobs["bench"]
    rng = random.Random(1)
    bots = [registry.get(name) for name in FORMS]
    records = []
    for i in range(ledger_rows):
        bot = bots[i % len(bots)]
        spec = bot.template.fields
        fields = {n: Field(n, spec[n].label, value=f"値{rng.randrange(10**6)}") for n in bot.template.ledger_columns()}
        records.append(Record(doc_id=f"{i:064x}", bot=bot.name, fields=fields, meta={
            "received_at": datetime(2026, 4, 1, tzinfo=timezone.utc), "original_name": f"既存_{i:05d}.pdf",
            "status": "自動登録", "archived_path": f"archive/既存_{i:05d}.pdf"}))
    ledger = build_ledger(job, RunContext(config))
    ledger.write_many(records)
    inbox = job.folders(home)["inbox"]
    inbox.mkdir(parents=True, exist_ok=True)
    for pdf in pdfs:
        shutil.copy2(pdf, inbox / pdf.name)


def peer_python(venv: Path) -> Path | None:
    """The scratch venv's python with invoice2data, installed on first use; None if it cannot be."""
    python = venv / "bin" / "python"
    if not python.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", "invoice2data"], check=True,
                           capture_output=True, timeout=900)
        except (subprocess.SubprocessError, OSError) as e:
            print(f"invoice2data could not be installed ({e}); comparing with pdfplumber only", file=sys.stderr)
            shutil.rmtree(venv, ignore_errors=True)
            return None
    return python


def pdfplumber_alone(pdfs: list[Path]) -> float:
    """Seconds per document to extract the characters and drawn marks with pdfplumber (one process)."""
    import pdfplumber

    t0 = time.perf_counter()
    for pdf in pdfs:
        with pdfplumber.open(pdf) as doc:
            for page in doc.pages:
                _ = page.chars, page.lines, page.curves
    return (time.perf_counter() - t0) / len(pdfs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000, help="documents, spread over the three forms")
    ap.add_argument("--ledger-rows", type=int, default=10_000, help="rows already in the ledger")
    ap.add_argument("--peer-venv", type=Path, default=ROOT / "var" / "invoice2data-venv")
    args = ap.parse_args()
    from kakari.log import logger

    logger.remove()
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        t0 = time.perf_counter()
        pdfs = make_samples(tmpdir / "samples", args.count)
        home = tmpdir / "home"
        make_home(home, pdfs, args.ledger_rows)
        print(f"{len(pdfs)} PDFs and a {args.ledger_rows}-row ledger made in {time.perf_counter() - t0:.0f} s")

        load_before = os.getloadavg()[0]
        kakari = measured([str(ROOT / ".venv/bin/kakari"), "run", "bench", "--config", str(home / "kakari.toml"),
                           "--home", str(home)], ROOT)
        from connectors.excel import read_ledger

        ledger = home / "ledgers" / "申請_台帳.xlsx"
        rows = len(read_ledger(ledger))
        assert rows == args.ledger_rows + len(pdfs), f"ledger holds {rows} rows"

        python = peer_python(args.peer_venv)
        peer = None
        if python is not None:
            (tmpdir / "templates").mkdir()
            (tmpdir / "templates" / "child_medical.yml").write_text(PEER_TEMPLATE, encoding="utf-8")
            (tmpdir / "peer.py").write_text(PEER_SCRIPT, encoding="utf-8")
            (tmpdir / "files.txt").write_text("\n".join(map(str, pdfs)), encoding="utf-8")
            peer = measured([str(python), str(tmpdir / "peer.py"), str(tmpdir / "templates"),
                             str(tmpdir / "files.txt")], tmpdir)
            peer_version = subprocess.run([str(python), "-m", "pip", "show", "invoice2data"], capture_output=True,
                                          text=True).stdout.split("Version: ")[1].split()[0]
        plumber = pdfplumber_alone(pdfs[:: max(1, len(pdfs) // 200)])
        load_after = os.getloadavg()[0]

    n = len(pdfs)
    rate = n / kakari.wall
    lines = ["| run | documents | wall s | documents/s | CPU s/document | peak RSS (MiB) |",
             "|---|---:|---:|---:|---:|---:|",
             f"| `kakari run`, 2 workers, into a {args.ledger_rows:,}-row ledger (read, classify, every field, "
             f"validate, commit, move, ledger save) | {n} | {kakari.wall:.1f} | **{rate:.1f}** | "
             f"{kakari.cpu / n * 1000:.1f} ms | {kakari.peak_mib:.0f} |"]
    if peer is not None:
        matched = int(peer.out.strip().splitlines()[-1])
        lines.append(f"| invoice2data {peer_version} (pdftotext + one regex template, 2 processes; "
                     f"{matched} of {n} matched: the 子ども医療費 third) | {n} | {peer.wall:.1f} | "
                     f"{n / peer.wall:.1f} | {peer.cpu / n * 1000:.1f} ms | {peer.peak_mib:.0f} |")
    lines.append(f"| pdfplumber extraction alone (characters and paths, 1 process) | — | — | {1 / plumber:.1f} | "
                 f"— | — |")
    body = "\n".join(lines) + "\n\n"
    if peer is not None:
        body += (f"kakari / invoice2data, documents per second in this run: **{rate / (n / peer.wall):.2f}×** "
                 f"(invoice2data extracts 5 regex fields of one form and writes nothing; kakari reads every "
                 f"field and mark of all three forms, commits them and saves the ledger).\n")
    body += (f"Ledger after the run: {rows:,} rows. On 2 otherwise idle cores the CPU time alone allows "
             f"≈ {2 / (kakari.cpu / n):.0f} documents/s; load average {load_before:.1f} before the run, "
             f"{load_after:.1f} after (other work on the machine slows every figure above alike).\n\n"
             f"Command: `python benchmarks/run_textlayer.py --count {args.count} --ledger-rows {args.ledger_rows}`")
    print(body)
    write_section("Text-layer run (kakari run)", body)


if __name__ == "__main__":
    main()
