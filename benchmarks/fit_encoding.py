"""Fit connectors/encodings.MESS_LIMIT: how messy an honest table may read before it counts as mojibake.

Honest texts: synthetic exports of both sample forms (samples.exports, as UTF-8 CSV text) and real
Japanese prose not written for kakari: Vim's Japanese tutor (Debian's vim-runtime ships it in UTF-8,
EUC-JP and Shift_JIS; left out when it is not installed). Mojibake: each
honest text put through the mistakes that happen to tables — UTF-8 read as Shift_JIS, Shift_JIS read
as UTF-8, EUC-JP read as Shift_JIS and back, UTF-8 or Shift_JIS read as Windows-1252 — with the lossy
replacement a re-save makes. The limit is the midpoint, on the log scale, between the messiest honest
text and the cleanest mojibake of the fitting half; the other half (other seeds, other files) is held
out and checked through `decode` itself, as bytes: honest files in UTF-8, UTF-8 with BOM and Shift_JIS
must be read back unchanged, their mis-decoded copies saved as UTF-8, and EUC-JP files, refused —
the tutor's own Shift_JIS and EUC-JP files too, as their authors encoded them.

    python benchmarks/fit_encoding.py [--rows 200]
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results import write_section  # noqa: E402
from connectors import encodings  # noqa: E402
from connectors.encodings import EncodingRefused, decode, mess  # noqa: E402

MISTAKES = {  # name → (how the text was written, how it was read)
    "UTF-8 → Shift_JIS": ("utf-8", "cp932"),
    "Shift_JIS → UTF-8": ("cp932", "utf-8"),
    "EUC-JP → Shift_JIS": ("euc_jp", "cp932"),
    "Shift_JIS → EUC-JP": ("cp932", "euc_jp"),
    "UTF-8 → Windows-1252": ("utf-8", "cp1252"),
    "Shift_JIS → Windows-1252": ("cp932", "cp1252"),
}
CHUNK = 4000


def find_tutor() -> Path | None:
    """Vim's Japanese tutor (tutor.ja + .utf-8/.sjis/.euc): under $VIMRUNTIME, else beside the vim on PATH."""
    roots = [Path(os.environ["VIMRUNTIME"])] if os.environ.get("VIMRUNTIME") else []
    if vim := shutil.which("vim"):
        share = Path(vim).resolve().parents[1] / "share" / "vim"
        roots += sorted(share.glob("vim*"), reverse=True)
    for root in roots:
        if (root / "tutor" / "tutor.ja.utf-8").is_file():
            return root / "tutor" / "tutor.ja"
    return None


def exports(seeds: range, rows: int, out: Path) -> list[tuple[str, str]]:
    from samples.exports import FORMS, generate

    texts = []
    for seed in seeds:
        for form in FORMS:
            e = generate(out / str(seed), form, rows, seed, fmt="csv-utf8", attachments="none", attachment_rate=0)
            texts.append((f"{form} seed {seed}", e.path.read_text(encoding="utf-8")))
    return texts


def tutor(stem: Path | None) -> list[tuple[str, str]]:
    if stem is None:
        return []
    path = stem.with_name(stem.name + ".utf-8")
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    return [(f"vim tutor @{i}", text[i:i + CHUNK]) for i in range(0, len(text), CHUNK)]


def garbled(text: str, written: str, read: str) -> str:
    return text.encode(written, errors="replace").decode(read, errors="replace")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--tutor", type=Path, default=None,
                    help="Vim's tutor.ja (its .utf-8/.sjis/.euc beside it); found under $VIMRUNTIME or vim's own folder")
    args = ap.parse_args(argv)
    stem = args.tutor or find_tutor()
    prose = tutor(stem)
    with tempfile.TemporaryDirectory() as tmp:
        fit = exports(range(1, 4), args.rows, Path(tmp)) + prose[0::2]
        held = exports(range(101, 104), args.rows, Path(tmp)) + prose[1::2]

    honest = [(name, mess(t)) for name, t in fit]
    bad = [(f"{name} ({m})", mess(garbled(t, *MISTAKES[m]))) for name, t in fit for m in MISTAKES
           if garbled(t, *MISTAKES[m]) != t]
    worst_honest = max(honest, key=lambda x: x[1])
    cleanest_bad = min(bad, key=lambda x: x[1])
    separated = worst_honest[1] < cleanest_bad[1]
    limit = math.sqrt(max(worst_honest[1], 1e-3) * cleanest_bad[1])
    print(f"honest: {len(honest)} texts, messiest {worst_honest[1]:.3f} ({worst_honest[0]})")
    print(f"mojibake: {len(bad)} texts, cleanest {cleanest_bad[1]:.3f} ({cleanest_bad[0]})")
    print(f"fitted MESS_LIMIT = {limit:.3f} (separated: {separated}); in use: {encodings.MESS_LIMIT}")

    # held out, through decode() on bytes
    accepted = refused_honest = 0
    wrong: list[str] = []
    for name, t in held:
        for enc in ("utf-8", "utf-8-sig", "cp932"):
            try:
                raw = t.encode(enc)
            except UnicodeEncodeError:
                continue
            try:
                ok = decode(raw).text == t
            except EncodingRefused as e:
                refused_honest += 1
                wrong.append(f"honest {name} ({enc}) refused: {e}")
                continue
            accepted += ok
            if not ok:
                wrong.append(f"honest {name} ({enc}) read differently")
    caught = missed = 0
    for name, t in held:
        for m, (written, read) in MISTAKES.items():
            g = garbled(t, written, read)
            if g == t:
                continue
            try:
                decode(g.encode("utf-8"))  # the mojibake, saved again as UTF-8
                missed += 1
                wrong.append(f"mojibake {name} ({m}) accepted")
            except EncodingRefused:
                caught += 1
        try:
            decode(t.encode("euc_jp"))
            missed += 1
            wrong.append(f"EUC-JP {name} accepted")
        except UnicodeEncodeError:
            pass
        except EncodingRefused:
            caught += 1
    originals = []
    for suffix, expect in ((".sjis", "read"), (".euc", "refused")):
        f = stem.with_name(stem.name + suffix) if stem else None
        if f is not None and f.is_file():
            try:
                decode(f.read_bytes())
                got = "read"
            except EncodingRefused:
                got = "refused"
            originals.append(f"{f.name}: {got}")
            if got != expect:
                missed += 1
                wrong.append(f"{f.name} {got}, expected {expect}")
    print(f"held out: honest read back {accepted}, honest refused {refused_honest}; mojibake/EUC-JP refused {caught}, "
          f"accepted {missed}")
    for w in wrong[:20]:
        print("  ", w)
    body = f"""| set | texts | mess ratio |
|---|---:|---|
| honest (fitting half) | {len(honest)} | messiest {worst_honest[1]:.3f} |
| mojibake of them | {len(bad)} | cleanest {cleanest_bad[1]:.3f} |

Fitted `MESS_LIMIT` = **{limit:.3f}** (midpoint on the log scale; the classes are {'separated' if separated else 'NOT separated'}).
In use: {encodings.MESS_LIMIT}.

Held out (other seeds and files), through `decode` on bytes: honest files read back unchanged
{accepted}, honest files refused {refused_honest}; mojibake saved as UTF-8 and EUC-JP files refused {caught},
accepted {missed}. Vim's tutor as its authors encoded it: {"; ".join(originals) or "not installed"}.

Corpus: samples.exports CSV text of both forms ({args.rows} rows each, seeds 1–3 fitting, 101–103 held out)
and Vim's Japanese tutor (`{stem}.utf-8`, {len(prose)} chunks of {CHUNK} characters, alternate chunks
fitting / held out). Mistakes: {", ".join(MISTAKES)}.

Command: `python benchmarks/fit_encoding.py --rows {args.rows}`."""
    write_section("Encoding plausibility (connectors/encodings.py)", body)
    return 0 if separated and not refused_honest and not missed else 1


if __name__ == "__main__":
    sys.exit(main())
