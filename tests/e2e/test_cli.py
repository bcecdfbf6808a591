"""The ``kj`` commands as outside tools use them (shared interface)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_rows
from openpyxl import load_workbook

from kj_pipelines.cli import main


def kj(*args, env_dir: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if env_dir:
        env["KJ_DATA_DIR"] = str(env_dir)
    return subprocess.run([sys.executable, "-m", "kj_pipelines.cli", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_validate_json_exit_codes_and_nothing_written(data_dir, tmp_path, capsys):
    good = write_rows(tmp_path / "good.xlsx", [["JC", "", "2026-10", "HT_VA", "", 1, 2, ""]])
    bad = write_rows(tmp_path / "bad.xlsx", [["JC", "", "2026-10", "HT_VA", "", 1, 2, ""],
                                              ["JC", "", "2026-10", "FAI", "", "待定", "", ""]])
    before = sorted(p.relative_to(data_dir.root) for p in data_dir.root.rglob("*"))
    assert main(["validate", "--json", str(good)]) == 0
    assert json.loads(capsys.readouterr().out)["files"][0]["status"] == "accepted"
    # a real process: the exit code, and stdout carries only the JSON (the log goes to stderr)
    partial = kj("validate", "--json", str(good), str(bad), env_dir=data_dir.root)
    assert partial.returncode == 1
    files = json.loads(partial.stdout)["files"]  # stdout carries only the JSON
    assert [f["status"] for f in files] == ["accepted", "partial"]
    rejection = files[1]["rejections"][0]
    assert set(rejection) == {"sheet", "row", "column", "value", "reason_code", "message"}
    assert (rejection["row"], rejection["column"], rejection["reason_code"]) == (4, "本期值",
                                                                                  "placeholder")
    assert set(files[0]) == {"file", "sha256", "status", "rows_read", "rows_accepted",
                             "rejections"}
    assert sorted(p.relative_to(data_dir.root) for p in data_dir.root.rglob("*")) == before
    assert main(["validate"]) == 2


def test_catalog_json(data_dir):
    out = kj("catalog", "--json", env_dir=data_dir.root)
    data = json.loads(out.stdout)
    assert {"code": "ALL", "name": "镇海区", "kind": "district", "parent": None,
            "level": 0} in data["units"]
    assert {"code": "JC", "name": "蛟川街道", "kind": "town", "parent": "ALL",
            "level": 1} in data["units"]
    assert data["top_label"] == "全区" and data["first_period"] == "2019-01"
    assert set(data["indicators"][0]) == {"code", "name", "kind", "measure", "direction"}


def test_template_is_prefilled_protected_and_round_trips(data_dir, catalog, tmp_path):
    path = tmp_path / "JC.xlsx"
    assert main(["template", "--unit", "JC", "--period", "2026-10", "-o", str(path)]) == 0
    wb = load_workbook(path)
    ws = wb["填报"]
    assert ws.protection.sheet
    header = [c.value for c in ws[3]]
    assert header[:4] == ["单位代码", "单位名称", "报告期", "指标代码"]
    codes = [ws.cell(row=r, column=4).value for r in range(4, ws.max_row + 1)]
    assert set(codes) == {i.code for i in catalog.indicators_for_unit("JC")}
    assert ws.cell(row=4, column=1).protection.locked
    assert not ws.cell(row=4, column=7).protection.locked
    assert ws.data_validations.dataValidation
    for r in range(4, ws.max_row + 1):
        ws.cell(row=r, column=7).value = 1
        ws.cell(row=r, column=8).value = 1
    # a note typed with a leading '=' as text stays text; a formula Excel never calculated
    # (no cached value) in a note is rejected, never taken as a blank note
    ws.cell(row=4, column=9).value = "=SUM(A1)"
    ws.cell(row=4, column=9).data_type = "s"
    ws.cell(row=5, column=9).value = "=SUM(A1)"
    wb.save(path)
    from conftest import TODAY

    from kj_pipelines.intake.submissions import read_submission

    result = read_submission(path, catalog, TODAY)
    assert [(r.row, r.column, r.reason_code) for r in result.rejections] == [
        (5, "备注", "formula_without_value")]
    assert result.accepted.set_index("row").at[4, "note"] == "=SUM(A1)"


@pytest.mark.parametrize("args", [["template", "--unit", "NOPE", "--period", "2026-10", "-o", "x"],
                                  ["template", "--unit", "JC", "--period", "十月", "-o", "x"],
                                  ["frobnicate"]])
def test_usage_errors_exit_2(data_dir, args):
    assert main(args) == 2


def _sample(*extra: str) -> int:
    return main(["sample", "--start", "2026-10", "--end", "2026-10", *extra])


@pytest.mark.slow  # writes the sample three times: in make test-slow
def test_kj_sample_never_overwrites_a_regions_data(tmp_path, monkeypatch, capsys):
    import duckdb

    root = tmp_path / "region"
    monkeypatch.setenv("KJ_DATA_DIR", str(root))
    assert _sample() == 0  # an empty directory
    assert (root / ".kj_sample.json").exists()
    assert _sample() == 0  # an earlier sample is recognised, inbox and archive included
    inbox = sorted(p.name for p in (root / "inbox").iterdir())

    # the bureau edits its catalog: the directory is now a region's own
    units = root / "catalog" / "units.yaml"
    units.write_text(units.read_text(encoding="utf-8") + "\n# 本区\n", encoding="utf-8")
    capsys.readouterr()
    assert _sample() == 1
    assert "catalog/units.yaml" in capsys.readouterr().err
    assert "# 本区" in units.read_text(encoding="utf-8")  # nothing changed
    assert sorted(p.name for p in (root / "inbox").iterdir()) == inbox
    assert _sample("--force") == 0

    # a warehouse holding a real submission: refused even with --force
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE raw.submission_files (sha256 VARCHAR, file VARCHAR)")
    con.execute("INSERT INTO raw.submission_files VALUES ('ab12', '2026-10_JC_本区.xlsx')")
    con.close()
    capsys.readouterr()
    assert _sample("--force") == 1
    assert "2026-10_JC_本区.xlsx" in capsys.readouterr().err


def test_kj_catalog_says_when_it_shows_the_packaged_catalog(tmp_path):
    result = kj("catalog", "--json", env_dir=tmp_path / "empty")
    assert result.returncode == 0
    assert json.loads(result.stdout)["units"]  # stdout stays pure JSON
    assert "packaged sample" in result.stderr


def test_keys_name_each_review_of_a_month(sample_dir, capsys, monkeypatch):
    monkeypatch.setenv("KJ_TODAY", "2026-11-24")
    assert main(["keys", "2026-10"]) == 0
    assert capsys.readouterr().out.split() == [
        "monthly_review=2026-10", "weekly_consultation=2026-11-16",
        "quarterly_analysis=2026-07", "annual_evaluation=2025", "history_from=2024-12",
        "history=2024-12...2026-09"]
    # the weekly key is never a week that has not ended yet
    monkeypatch.setenv("KJ_TODAY", "2026-11-20")
    assert main(["keys", "2026-10", "--job", "weekly_consultation"]) == 0
    assert capsys.readouterr().out.strip() == "2026-11-09"
    assert main(["keys", "2026年12月", "--job", "annual_evaluation"]) == 0
    assert capsys.readouterr().out.strip() == "2026"
    assert main(["keys", "2026-13"]) == 1
    assert "not a month" in capsys.readouterr().err


def test_keys_skip_what_a_first_year_cannot_review(data_dir, capsys, monkeypatch):
    """No target list yet and a month at the very start: only what can run is printed, and one
    line on standard error says why each other review is skipped."""
    monkeypatch.setenv("KJ_TODAY", "2026-11-24")
    assert main(["keys", "2026-10"]) == 0
    out, err = capsys.readouterr()
    assert out.split() == ["monthly_review=2026-10", "weekly_consultation=2026-11-16",
                           "history_from=2024-12", "history=2024-12...2026-09"]
    assert "quarterly_analysis 跳过：2026年没有年度目标清单" in err
    assert "annual_evaluation 跳过：2025年没有年度目标清单" in err
    assert main(["keys", "2019-01"]) == 0
    out, err = capsys.readouterr()
    assert "history=" not in out and "history 跳过" in err
    assert main(["keys", "2018-12"]) == 1
    assert "在监测起始月份 2019-01 之前" in capsys.readouterr().err


def test_a_blank_template_sent_back_is_rejected_saying_why(data_dir, tmp_path, capsys):
    """A department's template returned with nothing filled: rejected, and the clerk told why
    (not a bare "rejected" with no reason)."""
    blank = tmp_path / "2026-11_FGJ.xlsx"
    assert main(["template", "--unit", "FGJ", "--period", "2026-11", "-o", str(blank)]) == 0
    capsys.readouterr()
    assert main(["validate", "--json", str(blank)]) == 1
    (found,) = json.loads(capsys.readouterr().out)["files"]
    assert (found["status"], found["rows_read"]) == ("rejected", 0)
    assert [r["reason_code"] for r in found["rejections"]] == ["empty_workbook"]
    assert "没有任何填报数据" in found["rejections"][0]["message"]
