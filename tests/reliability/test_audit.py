"""kj audit: every stored figure back to its source cells or registry records, with the
submissions each cell replaced; a stored figure that no longer matches its sources is named."""

import datetime as dt
import json

import duckdb
import pandas as pd
import pytest
from conftest import write_rows
from openpyxl import load_workbook

from kj_pipelines.cli import main
from kj_pipelines.indicators.service import run_indicator
from kj_pipelines.intake.audit import Sources, trace
from kj_pipelines.intake.inbox import ingest_pending


def _audit(capsys, *args: str) -> tuple[int, str]:
    code = main(["audit", *args])
    return code, capsys.readouterr().out


def _json(capsys, indicator: str, unit: str, period: str) -> dict:
    code, out = _audit(capsys, "--indicator", indicator, "--unit", unit, "--period", period,
                       "--json")
    assert code == 0, out
    return json.loads(out)


def _stored(paths, indicator: str, unit: str, period: str) -> float:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return con.execute("SELECT value FROM mart.indicator_values WHERE indicator = ? AND "
                           "unit = ? AND period = ?", [indicator, unit, period]).fetchone()[0]
    finally:
        con.close()


def _cells(node: dict) -> list[dict]:
    return node["cells"] + [c for part in node["parts"] for c in _cells(part)]


def test_a_towns_figure_goes_back_to_its_cell(reviewed_copy, capsys):
    got = _json(capsys, "HT_VA", "ZS", "2026-10")
    assert got["stored"] == _stored(reviewed_copy, "HT_VA", "ZS", "2026-10")
    assert not got["mismatch"] and got["trace"]["value"] == got["stored"]
    (cell,) = got["trace"]["cells"]
    assert cell["file"] == "2026-10_ZS.xlsx" and cell["sheet"] == "填报"
    assert cell["column"] == "累计值" and cell["cell"].endswith(str(cell["row"]))
    assert len(cell["sha256"]) == 64
    # the cell named holds the figure, in the archived file
    sheet = load_workbook(reviewed_copy.archive / cell["archived_as"], read_only=True)["填报"]
    assert sheet[cell["cell"]].value == cell["value"] == got["stored"]
    assert got["target_source"].endswith("行")


def test_the_district_total_and_a_ratio_go_back_to_every_towns_cell(reviewed_copy, capsys):
    total = _json(capsys, "HT_VA", "ALL", "2026-10")
    towns = total["trace"]["parts"]
    assert len(towns) == 10 and all(len(t["cells"]) == 1 for t in towns)
    assert total["trace"]["value"] == pytest.approx(sum(t["value"] for t in towns))
    assert total["stored"] == pytest.approx(total["trace"]["value"])

    share = _json(capsys, "HT_VA_SHARE", "ALL", "2026-10")
    num, den = share["trace"]["parts"]
    assert (num["indicator"], den["indicator"]) == ("HT_VA", "IND_VA")
    assert share["trace"]["value"] == pytest.approx(num["value"] / den["value"] * 100)
    assert not share["mismatch"] and len(_cells(share["trace"])) == 20


def test_a_registry_figure_lists_the_records_counted(reviewed_copy, capsys):
    got = _json(capsys, "HT_EFFECTIVE", "ZS", "2026-10")
    records = got["trace"]["records"]
    assert len(records) == got["stored"] > 0 and all(r["start"] <= "2026-10-31" for r in records)


def test_a_resubmission_keeps_history_and_a_stale_figure_is_named(reviewed_copy, catalog,
                                                                   capsys):
    before = _stored(reviewed_copy, "HT_VA", "ZS", "2026-10")
    write_rows(reviewed_copy.inbox / "2026-10_ZS_更正.xlsx",
               [["ZS", "庄市街道", "2026-10", "HT_VA", "", None, before + 1, "更正"]])
    con = duckdb.connect(str(reviewed_copy.warehouse))
    ingest_pending(reviewed_copy, catalog, con, dt.datetime(2026, 11, 24, 10, 0))
    con.close()

    code, out = _audit(capsys, "--indicator", "HT_VA", "--unit", "ZS", "--period", "2026-10")
    assert code == 1  # stored before the correction was ingested: the month needs a rerun
    assert "与库中数值不符" in out and "请重跑 2026-10" in out
    assert "2026-10_ZS_更正.xlsx" in out
    assert f"曾报 {before:,.6g}：2026-10_ZS.xlsx" in out and "被 2026-10_ZS_更正.xlsx 取代" in out

    con = duckdb.connect(str(reviewed_copy.warehouse))
    run_indicator(con, catalog, "HT_VA", ["2026-10"], dt.date(2026, 11, 24))
    con.close()
    got = _json(capsys, "HT_VA", "ZS", "2026-10")
    assert got["stored"] == before + 1 and not got["mismatch"]
    (old,) = got["trace"]["replaced"]
    assert old["value"] == before and old["replaced_by"] == "2026-10_ZS_更正.xlsx"


def test_bad_arguments_are_named(reviewed_copy, capsys):
    assert main(["audit", "--indicator", "NOPE", "--unit", "ZZ", "--period", "2026-13"]) == 2
    err = capsys.readouterr().err
    assert "'NOPE'" in err and "'ZZ'" in err and "'2026-13'" in err


def _version(unit, period, value, cumulative, sha, row, submitted):
    return {"unit": unit, "indicator": "HT_INV", "period": period, "value": value,
            "cumulative": cumulative, "sha256": sha, "source_file": f"{sha}.xlsx",
            "sheet": "填报", "row": row, "value_column": "F", "cumulative_column": "G",
            "submitted_at": pd.Timestamp(submitted), "received_at": pd.Timestamp(submitted),
            "archived_as": None}


def test_a_flow_without_cumulative_is_the_sum_of_the_years_monthly_cells(catalog):
    # JC reports 本期值 only: 2 in January, 3 in February (first 4, corrected to 3), 1 in
    # March: its year to date in March is 2 + 3 + 1 = 6, from three cells, one replaced version
    versions = pd.DataFrame([
        _version("JC", "2026-01", 2.0, None, "a", 5, "2026-02-03"),
        _version("JC", "2026-02", 4.0, None, "b", 5, "2026-03-03"),
        _version("JC", "2026-02", 3.0, None, "c", 6, "2026-03-09"),
        _version("JC", "2026-03", 1.0, None, "e", 5, "2026-04-03"),
        _version("JC", "2025-03", 9.0, None, "d", 5, "2025-04-03"),
    ])
    sources = Sources(versions, pd.DataFrame(columns=["unit", "indicator", "period", "value",
                                                      "cumulative"]))
    got = trace(catalog, sources, "HT_INV", "JC", "2026-03")
    assert got.value == 6.0 and [c.cell for c in got.cells] == ["F5", "F6", "F5"]
    assert [(c.value, c.replaced_by) for c in got.replaced] == [(4.0, "c.xlsx")]
    assert trace(catalog, sources, "HT_INV", "ZS", "2026-03").value is None
    # April not reported: JC's figure is unknown, not its March year to date carried on (the
    # computation sums a total without it, and so must the audit)
    assert trace(catalog, sources, "HT_INV", "JC", "2026-04").value is None
