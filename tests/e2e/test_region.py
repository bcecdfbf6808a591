"""A second region by configuration alone: the example city (examples/city), five counties
with their towns and six departments, run from an empty data directory with no code change."""

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from kj_pipelines.catalog.loader import load_catalog
from kj_pipelines.catalog.model import DISTRICT
from kj_pipelines.cli import main
from kj_pipelines.definitions import build_defs
from kj_pipelines.defs.partitions import cadence_partitions
from kj_pipelines.indicators.service import run_plan

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "city"
MONTH = "2024-12"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """The example copied to an empty directory, after ``monthly_review`` 2024-12 and
    ``quarterly_analysis`` 2024-10. One town's December workbook is held back; so are the
    workbooks of January to September 2024, to keep the suite fast: December's figures are read
    year to date (累计值), and the full example is run by hand as docs/region.md says."""
    root = tmp_path_factory.mktemp("city") / "data"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(
        "*.py", *(f"2024-{m:02d}_*.xlsx" for m in range(1, 10))))
    (root / "inbox" / f"{MONTH}_QS_SM.xlsx").unlink()  # 石门乡 has not sent December yet
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KJ_DATA_DIR", str(root))
        mp.setenv("KJ_TODAY", "2025-01-20")
        defs = build_defs(load_catalog(root / "catalog"))
        with dg.DagsterInstance.ephemeral() as instance:
            for job, key in (("monthly_review", MONTH), ("quarterly_analysis", "2024-10")):
                assert defs.resolve_job_def(job).execute_in_process(
                    partition_key=key, instance=instance).success
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        progress = con.execute("SELECT * FROM mart.indicator_progress WHERE period = ?",
                               [MONTH]).df()
        scores = con.execute("SELECT * FROM mart.unit_scores WHERE period = '2024-Q4'").df()
        rejected = con.execute("SELECT count(*) FROM quarantine.rejections").fetchone()[0]
    finally:
        con.close()
    assert rejected == 0
    return root, progress, scores


def test_every_unit_and_indicator_has_progress_at_all_three_levels(city):
    root, progress, _ = city
    catalog = load_catalog(root / "catalog")
    towns = [u for u, unit in catalog.units.items() if unit.kind == "town"]
    counties = [u for u, unit in catalog.units.items() if unit.kind == "county"]
    assert len(catalog.indicators) >= 12 and len(counties) >= 5 and len(towns) >= 10
    have = set(zip(progress["indicator"], progress["unit"], strict=True))
    # 北山市 reports 发明专利授权量 itself: its towns have no figure of it
    by_itself = set(catalog.descendants("BS"))
    for code in catalog.indicators:
        units = [DISTRICT] if code == "RD_GDP" else [*towns, *counties, DISTRICT]
        if code == "PATENT":
            units = [u for u in units if u not in by_itself]
        assert {(code, u) for u in units} <= have, code
    assert not {("PATENT", u) for u in by_itself} & have
    assert len(progress) == 11 * (len(towns) + len(counties) + 1) + 1 - len(by_itself)


def test_a_county_reporting_itself_beside_counties_reporting_through_their_towns(city):
    """PATENT: reporters [town, county]; four counties report through their towns
    (reports_via), 北山市 itself. Its figure is its own, the others' the sum of their towns',
    and the city's the sum of the five: nothing counted twice."""
    root, progress, _ = city
    catalog = load_catalog(root / "catalog")
    assert "BS" in {u.code for u in catalog.reporting_units(catalog.indicators["PATENT"])}
    rows = progress[progress["indicator"] == "PATENT"].set_index("unit")
    assert pd.notna(rows.loc["BS", "actual"]) and pd.notna(rows.loc["BS", "target"])
    for county in ("JD", "JX", "LH"):
        assert rows.loc[county, "actual"] == pytest.approx(
            rows.loc[catalog.descendants(county), "actual"].sum())
    complete = ["JD", "JX", "LH", "BS"]  # (QS lacks 石门乡's December)
    assert rows.loc[DISTRICT, "actual"] == pytest.approx(
        rows.loc[[*complete, "QS"], "actual"].sum())
    assert rows.loc["BS", "missing_units"] == 0


def test_targets_written_against_last_year_use_the_catch_up_figures(city):
    """2024's list: 新引进高层次人才 比上年增长N%以上 and 高新技术企业 新增N家以上，力争新增M家
    for the city, with no 上年基数: resolved on 2023's December figure, sent as catch-up."""
    import re

    from kj_pipelines.intake.targets import read_target_lists

    root, progress, _ = city
    catalog = load_catalog(root / "catalog")
    listed = read_target_lists(root / "plans", catalog, {2024}).targets.set_index(
        ["indicator", "unit"])
    from kj_pipelines.indicators.service import indicator_values_for

    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        last = {code: indicator_values_for(con, catalog.indicators[code], catalog, ["2023-12"])
                .set_index("unit").loc[DISTRICT, "value"] for code in ("TALENT", "HT_ENT")}
    finally:
        con.close()
    rows = progress[progress["unit"] == DISTRICT].set_index("indicator")
    talent = listed.loc[("TALENT", DISTRICT), "target_text"]
    growth = float(re.search(r"增长(\d+)%", talent).group(1))
    assert rows.loc["TALENT", "target"] == pytest.approx(last["TALENT"] * (1 + growth / 100))
    ht_ent = listed.loc[("HT_ENT", DISTRICT), "target_text"]
    gain = float(re.search(r"新增(\d+)家以上", ht_ent).group(1))
    assert rows.loc["HT_ENT", "target"] == pytest.approx(last["HT_ENT"] + gain)


def test_counties_add_up_their_towns_and_the_city_its_counties(city):
    root, progress, _ = city
    catalog = load_catalog(root / "catalog")
    rows = progress[progress["indicator"] == "TECH_CONTRACT"].set_index("unit")
    for county in ("JD", "JX", "LH", "BS"):
        towns = catalog.descendants(county)
        assert rows.loc[county, "actual"] == pytest.approx(rows.loc[towns, "actual"].sum())
        assert rows.loc[county, "target"] == pytest.approx(rows.loc[towns, "target"].sum())
    counties = ["JD", "JX", "QS", "LH", "BS"]
    # the city's own listed target ("≥…，力争…"), its figure the sum of every town
    assert rows.loc[DISTRICT, "actual"] == pytest.approx(rows.loc[counties, "actual"].sum())
    # a share is the ratio of the summed flows, never a sum or mean of the towns' shares
    share = progress[progress["indicator"] == "HT_SHARE"].set_index("unit")
    flows = progress[progress["indicator"].isin(["HT_OUTPUT", "IND_OUTPUT"])].pivot(
        index="unit", columns="indicator", values="actual")
    for unit in ("JD", DISTRICT):
        assert share.loc[unit, "actual"] == pytest.approx(
            flows.loc[unit, "HT_OUTPUT"] / flows.loc[unit, "IND_OUTPUT"] * 100)


def test_a_missing_town_greys_its_county_and_the_city_only(city):
    _, progress, _ = city
    rows = progress[progress["indicator"] == "PATENT"].set_index("unit")
    assert rows.loc["QS_SM", "status"] == "grey"
    assert rows.loc["QS", "missing_units"] == 1 and rows.loc["QS", "status"] in ("grey", "red",
                                                                                "yellow")
    assert rows.loc[DISTRICT, "missing_units"] == 1
    assert rows.loc[["JD", "JX", "LH", "BS"], "missing_units"].eq(0).all()


def test_lower_is_better_to_zero_uses_the_lists_baseline(city):
    root, progress, _ = city
    catalog = load_catalog(root / "catalog")
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        plan = run_plan(con, catalog, [2024], write=False)
    finally:
        con.close()
    plan = plan[(plan["indicator"] == "ZERO_RD_ORG") & plan["unit"].isin([DISTRICT, "LH"])]
    assert set(plan["baseline_source"]) == {"目标清单基数"}  # no 2023 figure: the list's 上年基数
    june = plan[plan["month"] == 6].set_index("unit")
    assert june.loc["ALL", "planned"] == pytest.approx(june.loc["ALL", "baseline"] / 2)
    zero = progress[progress["indicator"] == "ZERO_RD_ORG"].set_index("unit")
    assert zero.loc["JD", "status"] == "done" and zero.loc["LH", "status"] == "red"


def test_ranked_within_peer_groups(city):
    _, _, scores = city
    assert set(scores["peer_group"]) == {"town", "county", "department"}
    for group, size in (("town", 11), ("county", 5)):
        ranks = scores[scores["peer_group"] == group]
        assert len(ranks) == size and ranks["rank"].min() == 1
    counties = scores[scores["peer_group"] == "county"].set_index("unit")
    # the lagging county, and the county whose town has not sent December, come last
    assert set(counties.sort_values("rank").index[-2:]) == {"LH", "QS"}


def test_partitions_start_at_the_catalogs_first_period():
    cadence = cadence_partitions(load_catalog(EXAMPLE / "catalog").first_period)
    assert cadence.monthly.get_first_partition_key() == "2023-01"
    assert cadence.quarterly.get_first_partition_key() == "2023-01"
    assert cadence.yearly.get_first_partition_key() == "2023"
    assert cadence.weekly.get_first_partition_key() == "2023-01-02"


def test_kj_sample_refuses_the_regions_directory(tmp_path, monkeypatch, capsys):
    root = tmp_path / "city"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("*.py"))
    monkeypatch.setenv("KJ_DATA_DIR", str(root))
    before = sorted(p.name for p in (root / "inbox").iterdir())
    assert main(["sample"]) == 1
    assert "catalog" in capsys.readouterr().err
    assert sorted(p.name for p in (root / "inbox").iterdir()) == before
    assert load_catalog(root / "catalog").top_label == "全市"


def test_targets_add_up_bottom_up_hand_worked():
    from kj_pipelines.indicators.backschedule import resolve_targets

    catalog = load_catalog(EXAMPLE / "catalog")
    listed = pd.DataFrame([
        {"year": 2024, "indicator": "PATENT", "unit": u, "target": t, "deadline_month": d}
        for u, t, d in (("JD_DH", 10, 12), ("JD_WJ", 20, 9), ("JX", 50, 12), ("JX_XY", 5, 12))])
    got = resolve_targets(catalog.indicators["PATENT"], catalog, 2024, listed).set_index("unit")
    assert got.loc["JD", "target"] == 30 and got.loc["JD", "target_source"] == "units_sum"
    assert got.loc["JD", "deadline_month"] == 12
    assert got.loc["JX", "target"] == 50 and got.loc["JX", "target_source"] == "list"
    assert got.loc[DISTRICT, "target"] == 80  # JD's 30 and JX's listed 50, not its town's 5
    assert "QS" not in got.index  # nothing listed below it


def test_values_roll_up_hand_worked():
    from kj_pipelines.indicators.values import compute_values

    catalog = load_catalog(EXAMPLE / "catalog")
    facts = pd.DataFrame([
        ("JD_DH", "PATENT", "2024-01", 3.0, 3.0), ("JD_WJ", "PATENT", "2024-01", 4.0, 4.0),
        ("QS_SM", "PATENT", "2024-01", 1.0, 1.0), ("JD_DH", "PATENT", "2024-02", 2.0, None)],
        columns=["unit", "indicator", "period", "value", "cumulative"])
    values = compute_values(catalog.indicators["PATENT"], catalog, facts, ["2024-01", "2024-02"])
    got = {(r.period, r.unit): r.value for r in values.itertuples()}
    assert got[("2024-01", "JD")] == 7 and got[("2024-01", "QS")] == 1
    assert got[("2024-01", DISTRICT)] == 8
    assert got[("2024-02", "JD_DH")] == 5 and got[("2024-02", "JD")] == 5  # year to date
    assert ("2024-01", "JX") not in got  # no town of JX reported: no total made of nothing
