"""`kakari bots …`: list, scaffold (new), test against expected JSON, and preview the registered bots."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kakari.cli import ConfigOpt, HomeOpt, context, err, out
from kakari.errors import ExitCode

app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_bots(config: ConfigOpt = None, home: HomeOpt = None,
              verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> int:
    """登録されているボット (様式) の一覧: 名前・様式名・業務名・導入前の分数・所在。"""
    from bots import registry

    context(config, home, verbose)
    for name, entry in sorted(registry.entries().items()):
        bot = entry.obj
        template = getattr(bot, "template", None)
        doc = (bot.__doc__ or "").strip().splitlines()
        title = template.title if template is not None else getattr(bot, "title", None) or (doc[0] if doc else bot.task or name)
        out.print(f"{name:<22} {title}  業務名={bot.task}  導入前={bot.manual_minutes}分  ({entry.origin}: {entry.file})")
    return ExitCode.ok


@app.command("new")
def new_bot(
    name: Annotated[str, typer.Argument(help="ボット名 (英小文字・数字・下線, 例: juminhyo_request)")],
    form: Annotated[Path, typer.Option("--form", help="白紙の様式: 文字の入った PDF、または紙をスキャンした画像 (PNG・JPEG・TIFF)")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="書き出すフォルダー (既定: 設定の bots_dir の先頭、なければ ./bots_local)")] = None,
    minutes: Annotated[float, typer.Option("--minutes", help="導入前: 手入力 1件あたりの分数 (見積り)")] = 5.0,
    force: Annotated[bool, typer.Option("--force", help="既にあるファイルを上書き")] = False,
    config: ConfigOpt = None, home: HomeOpt = None,
) -> int:
    """白紙の様式から、ボット (.py) と様式定義 (.toml) のひな形を作ります。"""
    from bots.scaffold import scaffold

    cfg = context(config, home)
    target = out_dir or (cfg.bots_dir[0] if cfg.bots_dir else Path("bots_local"))
    made = scaffold(name, form, target, minutes, force, config=cfg)
    d = made.detection
    source = "スキャン画像 (OCR)" if d.scanned is not None else "PDF の文字と罫線"
    out.print(f"{len(d.fields)}項目の記入欄を見つけました ({source}): {made.template}")
    for f in d.fields:
        out.print(f"  {f.label or '(見出しなし)'}: {f.type}  — {f.why}", markup=False)
    if d.uncertain:
        out.print("[yellow]確かめてください (推定に自信がない項目):[/yellow]")
        for f in d.uncertain:
            why = [f"確からしさ {f.confidence:.2f}"] if f.uncertain else []
            if f.label_confidence < 0.85:
                why.append(f"見出しを OCR で読んだ確信度 {f.label_confidence:.2f}")
            out.print(f"  - {f.label or '(見出しなし)'} ({f.type}): {'、'.join(why)}", markup=False)
    out.print(f"次の手順: kakari web の「様式の枠」で {name} を開き、記入例を重ねて枠を確かめる "
              f"→ kakari bots preview {name} 記入例.pdf → kakari bots test {name} 試験フォルダー")
    if not cfg.bots_dir or target.resolve() not in [p.resolve() for p in cfg.bots_dir]:
        out.print(f"[yellow]kakari.toml の bots_dir に {target} を加えると、ジョブで使えます[/yellow]")
    return ExitCode.ok


@app.command("test")
def test_bot(
    name: Annotated[str, typer.Argument(help="ボット名")],
    folder: Annotated[Path, typer.Argument(help="試験用の文書と期待値 (.json) のフォルダー")],
    as_json: Annotated[bool, typer.Option("--json", help="結果を JSON で出力 (文書ごとの違い・判定と集計)")] = False,
    accept: Annotated[bool, typer.Option("--accept", help="確認画面で確認済の記録から期待値 (.json) を作ってから試す")] = False,
    job: Annotated[str | None, typer.Option("--job", help="--accept と一緒に: このジョブの確認済の文書をフォルダーに集める")] = None,
    config: ConfigOpt = None, home: HomeOpt = None,
) -> int:
    """期待値付きの文書でボットを試し、項目ごとの違い・文書の判定 (自動登録/要確認) と集計を表示します
    (違いがあれば終了コード 4)。スキャン画像にも使えます。"""
    import json

    from bots import registry
    from bots.harness import accept as accept_confirmed, check_folder, report_json, summarize

    cfg = context(config, home)
    say = err if as_json else out  # --json: stdout is the report alone
    if accept:
        done = accept_confirmed(name, folder, cfg, job)
        if done.copied:
            say.print(f"確認済の文書を {len(done.copied)}件 {folder} に集めました")
        say.print(f"確認済の記録から期待値を {len(done.written)}件 書きました")
        for p in done.unconfirmed:
            say.print(f"  (確認済の記録がありません: {p.name} — 確認画面で確認してから --accept してください)", markup=False)
    elif job is not None:
        say.print("[yellow]--job は --accept と一緒に使います[/yellow]")
    checks = check_folder(registry.get(name), folder, cfg)
    failed = any(c.diffs or c.error for c in checks)
    code = ExitCode.documents_failed if failed else ExitCode.ok
    if as_json:
        typer.echo(json.dumps(report_json(name, folder, checks), ensure_ascii=False, indent=2, default=str))
        return code
    for c in checks:
        mark = "OK " if not c.diffs and not c.error else "NG "
        expected = f" (期待 {c.expected_status})" if c.expected_status and c.expected_status != c.status else ""
        out.print(f"{mark} {c.path.name}: {c.right}/{c.total} {c.status}{expected}"
                  + (f" エラー: {c.error}" if c.error else ""), markup=False, soft_wrap=True)
        for f in c.fields:
            if not f.right:
                mark = "要確認の印あり" if f.doubted else ("確認なしで登録" if c.status == "自動登録" else "印なし")
                out.print(f"      {f.name}: 読取 {f.got!r} / 期待 {f.expected!r} ({mark})", markup=False, soft_wrap=True)
        if c.unknown:
            out.print(f"      (ボットにない項目: {', '.join(c.unknown)})")
    s = summarize(checks)
    out.print(f"項目の正解率: {s['exact_rate']:.1%} ({s['exact']}/{s['fields']}、{s['documents']}文書)")
    out.print(f"判定: 自動登録 {s['registered']}・要確認 {s['review']}・エラー {s['errors']}", soft_wrap=True)
    out.print(f"誤り: 確認なしで登録される誤り {s['registered_wrong']}・要確認の文書で印のない誤り "
              f"{s['unflagged_wrong']}", soft_wrap=True)
    return code


@app.command("preview")
def preview_bot(
    name: Annotated[str, typer.Argument(help="ボット名")],
    file: Annotated[Path, typer.Argument(help="記入済みの文書 (PDF・画像)")],
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="PNG の保存先 (既定: 文書名.preview.png)")] = None,
    config: ConfigOpt = None, home: HomeOpt = None,
) -> int:
    """1ページ目に読み取り枠と読み取った値を描いた PNG を作り、項目ごとの読み取りを表示します (赤: 要確認)。
    期待値 (.json) は要りません: 町の記入済みの文書そのままで確かめられます。"""
    from bots import registry
    from bots.harness import preview_record

    cfg = context(config, home)
    target = out_file or file.with_suffix(".preview.png")
    _, rec = preview_record(registry.get(name), file, cfg, target)
    for f in rec.fields.values():
        mark = "要確認" if f.problems or f.confidence < rec.min_confidence else "  OK  "
        note = f"  {'・'.join(f.problems)}" if f.problems else ""
        out.print(f"{mark} {f.label}: {f.display() or '(空)'}  (確信度 {f.confidence:.2f}){note}", markup=False)
    out.print(f"プレビューを書き出しました: {target}")
    return ExitCode.ok


def register(root: typer.Typer) -> None:
    from bots.mask_cli import mask

    root.add_typer(app, name="bots", help="ボット (様式) の一覧・作成・試験")
    root.command("mask")(mask)
