"""`kakari setup`: a working home on any OS without make: the folders, the database at the newest
schema, an example kakari.toml with one job per installed form, and the doctor's checks."""
from __future__ import annotations

from pathlib import Path

from bots import registry as bot_registry
from bots.base import FormBot
from kakari.config import KakariConfig

HEADER = """\
# kakari の設定 (kakari setup が作成した例)。相対パスは --home (この例では {home}) からの位置です。
# ジョブ名・原課・業務名を町の実際の名前に直してください。詳しくは README の「Configuration」。

[defaults]
review_minutes = 2.0            # 要確認 1 件あたりの確認時間 (確認画面で実測されるまでの見積り)
# department = "市民課"          # 原課 (ジョブごとに書けます)

[limits]
timeout_seconds = 120           # 1 文書の読み取りの制限時間 (秒)
memory_mb = 896                 # 読み取りプロセスのメモリ上限 (MB)

# [system]                      # 自動で見つからないときだけ指定します (Windows の例)
# tesseract = "C:/Program Files/Tesseract-OCR/tesseract.exe"
# fonts = ["C:/Windows/Fonts/ipag.ttf", "C:/Windows/Fonts/ipam.ttf"]
# browser = "msedge"
"""

JOB = """
[jobs.{name}]
title = "{title}"
# department = "子育て支援課"    # 原課
task = "{task}"   # 業務名
bots = ["{name}"]
ledger = "ledgers/{title}_台帳.xlsx"
manual_minutes = {minutes:g}            # 導入前: 手入力 1 件あたりの分数
"""


def example_config(home: Path) -> str:
    """An example kakari.toml: one job per form bot this installation knows."""
    parts = [HEADER.format(home=home)]
    for name in bot_registry.names():
        bot = bot_registry.get(name)
        if not issubclass(bot, FormBot):
            continue
        t = bot.template
        parts.append(JOB.format(name=name, title=t.title, task=bot.task or t.title,
                                minutes=float(bot.manual_minutes or 0.0)))
    return "".join(parts)


def write_example(path: Path, home: Path) -> bool:
    """Write the example config unless a file is already there; True if written."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(example_config(home), encoding="utf-8")
    return True


def make_home(cfg: KakariConfig) -> list[Path]:
    """The home, its logs and every job's folders and ledger folder; the folders created."""
    made = []
    folders = [cfg.home, cfg.home / "logs", cfg.home / "backups"]
    for job in cfg.jobs.values():
        folders += [*job.folders(cfg.home).values(), job.ledger_path(cfg.home).parent]
    for folder in folders:
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            made.append(folder)
    return made
