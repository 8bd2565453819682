"""kakari.toml parsing: defaults, path resolution against the home, errors naming file and key."""
from __future__ import annotations

from pathlib import Path

import pytest

from kakari.config import load_config
from kakari.errors import ConfigError

GOOD = """
[defaults]
department = "子育て支援課"
review_minutes = 1.5

[jobs.kodomo]
bots = ["child_medical"]
ledger = "ledgers/台帳.xlsx"
manual_minutes = 7

[jobs.other]
bots = ["restaurant_permit"]
department = "生活環境課"
inbox = "/srv/scan/other"
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "kakari.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_fill_jobs_and_paths_resolve_against_home(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD), tmp_path / "home")
    job = cfg.job("kodomo")
    assert job.name == "kodomo"
    assert job.department == "子育て支援課"
    assert job.review_minutes == 1.5 and job.manual_minutes == 7
    assert job.ledger_path(cfg.home) == tmp_path / "home" / "ledgers" / "台帳.xlsx"
    folders = job.folders(cfg.home)
    assert folders["inbox"] == tmp_path / "home" / "jobs" / "kodomo" / "inbox"
    assert folders["errors"] == tmp_path / "home" / "jobs" / "kodomo" / "errors"
    other = cfg.job("other")
    assert other.department == "生活環境課"
    assert other.folders(cfg.home)["inbox"] == Path("/srv/scan/other")
    assert cfg.database_url == f"sqlite:///{tmp_path / 'home' / 'kakari.db'}"


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("manual_minutes = 7", "manual_minuts = 7"))
    with pytest.raises(ConfigError) as e:
        load_config(path, tmp_path)
    assert str(path) in e.value.message
    assert "jobs.kodomo.manual_minuts" in e.value.message
    assert "不明な項目" in e.value.message


def test_missing_and_wrong_values_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, '[jobs.a]\nledger = "x.xlsx"\n[jobs.b]\nbots = ["x"]\nmanual_minutes = -1\n')
    with pytest.raises(ConfigError) as e:
        load_config(path, tmp_path)
    assert "jobs.a.bots" in e.value.message and "必須" in e.value.message
    assert "jobs.b.manual_minutes" in e.value.message


def test_toml_syntax_error_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="書式"):
        load_config(write(tmp_path, "[jobs.a\nbots = 1"), tmp_path)
    with pytest.raises(ConfigError, match="見つかりません"):
        load_config(tmp_path / "nope.toml", tmp_path)


def test_unknown_job_lists_known_ones(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD), tmp_path)
    with pytest.raises(ConfigError, match="kodomo"):
        cfg.job("nothing")


def test_env_vars_and_no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KAKARI_HOME", str(tmp_path / "h2"))
    cfg = load_config()
    assert cfg.path is None and cfg.jobs == {} and cfg.home == tmp_path / "h2"
    monkeypatch.setenv("KAKARI_CONFIG", str(write(tmp_path, GOOD)))
    assert "kodomo" in load_config().jobs
    monkeypatch.setenv("KAKARI_DB_URL", "sqlite:////tmp/x.db")
    assert load_config().database_url == "sqlite:////tmp/x.db"


def test_sample_config_is_valid() -> None:
    cfg = load_config(Path(__file__).parents[1] / "samples" / "kakari.toml", Path("/tmp/kakari-home"))
    assert set(cfg.jobs) == {"kodomo_iryo", "inshoku_kyoka", "kodomo_iryo_online", "inshoku_kyoka_online"}
    assert {n for n, j in cfg.jobs.items() if j.source == "export"} == {"kodomo_iryo_online", "inshoku_kyoka_online"}
    assert all(job.department for job in cfg.jobs.values())
