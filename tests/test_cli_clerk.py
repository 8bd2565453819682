"""The `kakari` command as a clerk meets it: --config/--home before the command too, argument errors
in Japanese, a misspelt bot name caught by `doctor` and `jobs list` (not first at `run`), a task bot's
title in `bots list`, help without "<bool>" after each flag."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KAKARI = [sys.executable, "-m", "kakari.cli"]
CONFIG = ROOT / "samples" / "kakari.toml"


def kakari(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KAKARI, *args], cwd=ROOT, capture_output=True, text=True, encoding="utf-8",
                          env=os.environ | {"COLUMNS": "200", "PYTHONIOENCODING": "utf-8"}, timeout=120)


def misspelt(tmp_path: Path) -> Path:
    """The sample configuration with one job's bot name misspelt."""
    text = CONFIG.read_text(encoding="utf-8")
    assert 'bots = ["child_medical"]' in text
    config = tmp_path / "kakari.toml"
    config.write_text(text.replace('bots = ["child_medical"]', 'bots = ["child_medcal"]'), encoding="utf-8")
    return config


def test_config_and_home_before_the_command(tmp_path: Path) -> None:
    before = kakari("--config", str(CONFIG), "--home", str(tmp_path), "jobs", "list")
    after = kakari("jobs", "list", "--config", str(CONFIG), "--home", str(tmp_path))
    assert before.returncode == 0, before.stderr
    assert before.stdout == after.stdout and "kodomo_iryo" in before.stdout and str(tmp_path) in before.stdout


def test_argument_errors_are_in_japanese(tmp_path: Path) -> None:
    cases = {("history",): "引数 DOC が指定されていません",
             ("nosuch",): "コマンド「nosuch」はありません",
             ("jobs", "list", "--nope"): "オプション --nope はありません",
             ("bots", "new", "x", "--form", "y", "--minutes", "abc"): "--minutes の値が正しくありません: 数値で指定してください",
             ("history", "a", "b"): "余分な引数があります: b"}
    for args, said in cases.items():
        run = kakari(*args)
        assert run.returncode == 1, (args, run.stderr)
        assert said in run.stderr and "使い方: kakari" in run.stderr, (args, run.stderr)
        for english in ("Missing argument", "No such", "Invalid value", "Input should", "Error:", "Try '"):
            assert english not in run.stderr, (args, run.stderr)


def test_a_misspelt_bot_is_caught_before_the_run(tmp_path: Path) -> None:
    config = misspelt(tmp_path)
    listed = kakari("jobs", "list", "--config", str(config), "--home", str(tmp_path))
    assert listed.returncode == 2
    assert "ジョブ kodomo_iryo: ボット「child_medcal」は登録されていません (「child_medical」のことですか?)" in listed.stderr
    doctor = kakari("doctor", "--config", str(config), "--home", str(tmp_path))
    assert doctor.returncode != 0
    line = next(ln for ln in doctor.stdout.splitlines() if "ジョブのボット名" in ln)
    assert line.lstrip().startswith("NG") and "child_medcal" in line
    good = kakari("doctor", "--config", str(CONFIG), "--home", str(tmp_path))
    assert any("ジョブのボット名" in ln and ln.lstrip().startswith("OK") for ln in good.stdout.splitlines())


def test_bots_list_shows_a_task_bots_title_and_help_has_no_bool_noise(tmp_path: Path) -> None:
    run = kakari("bots", "list", "--home", str(tmp_path))
    line = next(ln for ln in run.stdout.splitlines() if ln.startswith("overtime_summary"))
    assert "[]" not in line and "時間外勤務実績の集計" in line
    alone = kakari()  # no command: the help, not an error
    assert "申請書を読み取り" in alone.stdout + alone.stderr and "エラー" not in alone.stderr
    help_ = kakari("bots", "new", "--help")
    assert help_.returncode == 0 and "--force" in help_.stdout and "<bool>" not in help_.stdout
