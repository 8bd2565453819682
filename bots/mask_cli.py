"""`kakari mask FILE... --out DIR`: a clerk's one-off masking with the engine and verification of
the masking bot. A file that cannot be released (a number in doubt, something still legible after
masking, a broken file) is not written; its reason is printed and the command exits with 4."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from kakari.cli import ConfigOpt, HomeOpt, context
from kakari.errors import ConfigError, DocumentError, ExitCode

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def mask(
    files: Annotated[list[Path], typer.Argument(help="墨塗りする PDF・画像 (PNG・JPEG・TIFF)", exists=False)],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="墨塗りした PDF の保存先フォルダー")],
    bot: Annotated[str, typer.Option("--bot", help="使う墨塗りボット (町の番号を足したもの)")] = "mask_numbers",
    config: ConfigOpt = None, home: HomeOpt = None,
) -> int:
    """個人番号などを墨塗りした PDF を作り、読み取れないことを確かめてから保存します。"""
    from bots import registry
    from bots.mask_numbers import MaskNumbers
    from bots.masking.engine import mask_file
    from connectors.folder import display_name, free_name, safe_name, sha256_of
    from kakari.log import register_personal

    cfg = context(config, home)
    bot_cls = registry.get(bot)
    if not (isinstance(bot_cls, type) and issubclass(bot_cls, MaskNumbers)):
        raise ConfigError(f"ボット「{bot}」は墨塗りボットではありません")
    out_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    for f in files:
        shown = escape(display_name(f.name))  # as a clerk's file manager shows it; never markup
        if not f.is_file():
            err.print(f"[red]出力できません[/red] {escape(display_name(str(f)))}: ファイルが見つかりません")
            failed += 1
            continue
        staged = out_dir / f".{f.name}.masking.pdf"
        try:
            result = mask_file(f, bot_cls.spec, cfg, staged)
        except DocumentError as e:
            err.print(f"[red]出力できません[/red] {shown}: {escape(e.message)}")
            failed += 1
            continue
        register_personal(x.value for x in result.findings if x.value)
        counts = "・".join(f"{k} {n}箇所" for k, n in result.counts().items()) or "番号なし"
        if not result.releasable:
            with contextlib.suppress(FileNotFoundError):
                staged.unlink()
            err.print(f"[red]出力できません[/red] {shown} ({escape(counts)}):")
            for reason in result.problems:
                err.print(f"    {reason}", markup=False)
            failed += 1
            continue
        target = free_name(out_dir, safe_name(f.stem + ".pdf"), sha256_of(f))
        os.replace(staged, target)
        out.print(f"墨塗りしました: {display_name(str(target))} ({len(result.pages)}ページ、{counts})", markup=False)
    if failed:
        err.print(f"{failed}件は出力していません (理由は上のとおり)。確認画面で確認するか、元の文書を直してください")
    return ExitCode.documents_failed if failed else ExitCode.ok
