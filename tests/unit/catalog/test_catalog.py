import shutil

import pytest

from kj_pipelines.catalog.loader import load_catalog
from kj_pipelines.catalog.model import CatalogError
from kj_pipelines.sample.generator import CATALOG_SOURCE


def test_district_catalog_covers_the_seeds(catalog):
    kinds = [u.kind for u in catalog.units.values()]
    assert kinds.count("town") + kinds.count("park") >= 9
    assert kinds.count("department") >= 10
    assert len(catalog.indicators) >= 20
    for code in ("RD_GDP", "HT_NEW", "HT_EFFECTIVE", "TECH_SME", "HT_VA_SHARE", "HT_INV_GROWTH",
                 "TECH_CONTRACT", "RD_INST_NEW", "ACAD_WS", "DOC_WS", "LITTLE_GIANT", "TECH_LOAN",
                 "ZERO_RD_ORG", "ZERO_RD_EXP"):
        assert code in catalog.indicators
    assert catalog.indicators["ZERO_RD_ORG"].direction == "lower"
    goals = {(g.indicator, g.value) for g in catalog.goals}
    assert {("HL_PLATFORM", 12), ("NEW_RD_ORG", 7), ("ACAD_WS", 20), ("RD_GDP", 3.51),
            ("HT_VA", 500), ("HT_EFFECTIVE", 600), ("LEAD_TALENT", 30),
            ("YOUNG_TALENT", 30)} <= goals


def _broken(tmp_path, file, old, new, source=CATALOG_SOURCE):
    folder = tmp_path / "catalog"
    shutil.copytree(source, folder)
    text = (folder / file).read_text(encoding="utf-8")
    assert old in text
    (folder / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize(("file", "old", "new", "message"), [
    ("indicators.yaml", "    kind: flow\n", "    kind: flowing\n",
     "indicators.yaml: entry #2 (IND_RD_EXP): field 'kind': 'flowing' is not one of"),
    ("indicators.yaml", "department: TJJ", "department: ZBS",
     "indicators.yaml: entry #1 (RD_GDP): field 'department': 'ZBS' is not a department"),
    ("indicators.yaml", "thresholds: {yellow: 1, red: 3}", "thresholds: {yellow: 5, red: 3}",
     "indicators.yaml: entry #1 (RD_GDP): field 'thresholds': need 0 <= yellow <= red"),
    ("indicators.yaml", "    base: IND_RD_EXP\n", "",
     "indicators.yaml: entry #3 (IND_RD_GROWTH): field 'base': a growth rate needs"),
    ("units.yaml", "{code: JC, name: 蛟川街道, kind: town,", "{code: JC, kind: town,",
     "units.yaml: entry #3 (JC): field 'name': is required"),
    ("goals.yaml", "indicator: HL_PLATFORM", "indicator: HL_PLATFORMS",
     "goals.yaml: entry #1 (HL_PLATFORMS): field 'indicator': 'HL_PLATFORMS' is not in"),
    ("indicators.yaml", "indicators:", "indicators: [",
     "indicators.yaml: not valid YAML"),
    ("indicators.yaml", "    aggregate: district_only\n    department: TJJ",
     "    aggregate: sum\n    reporters: [town]\n    department: TJJ",
     "indicators.yaml: entry #1 (RD_GDP): field 'aggregate': a ratio (%) cannot be summed"),
])
def test_broken_catalog_names_file_entry_and_field(tmp_path, file, old, new, message):
    folder = _broken(tmp_path, file, old, new)
    with pytest.raises(CatalogError) as err:
        load_catalog(folder)
    assert message in str(err.value)


def test_missing_file(tmp_path):
    folder = tmp_path / "catalog"
    shutil.copytree(CATALOG_SOURCE, folder)
    (folder / "units.yaml").unlink()
    with pytest.raises(CatalogError, match="units.yaml: file is missing"):
        load_catalog(folder)


def test_a_rate_each_unit_reports_is_never_summed(tmp_path, catalog):
    import pandas as pd

    from kj_pipelines.catalog.loader import load_catalog
    from kj_pipelines.indicators.values import compute_values

    folder = _broken(tmp_path, "indicators.yaml",
                     "    aggregate: district_only\n    department: TJJ",
                     "    aggregate: units_only\n    reporters: [town]\n    department: TJJ")
    rates = load_catalog(folder)
    ind = rates.indicators["RD_GDP"]
    facts = pd.DataFrame({"unit": ["JC", "ZS"], "indicator": "RD_GDP", "period": "2025-12",
                          "value": [3.1, 2.9], "cumulative": None})
    values = compute_values(ind, rates, facts, ["2025-12"])
    assert sorted(values["unit"]) == ["JC", "ZS"]  # no district row made by adding 3.1 and 2.9


CITY = CATALOG_SOURCE.parents[2] / "examples" / "city" / "catalog"


def test_a_city_catalog_has_levels_parents_and_peer_groups():
    city = load_catalog(CITY)
    assert city.top_label == "全市" and city.first_period == "2023-01"
    assert city.ancestors("QS_SM") == ["QS", "ALL"] and city.level("QS_SM") == 2
    assert city.descendants("QS") == ["QS_QS", "QS_SM", "QS_YX"]
    assert city.peer_group("QS") == "county" and city.peer_group("QS_SM") == "town"
    assert city.kind_name("QS") == "县（市、区）" and city.level_label("ALL") == "全市"
    rollups = city.rollup_units(city.indicators["PATENT"])
    # PATENT: four counties through their towns, 北山市 itself (units.yaml reports_via)
    assert rollups["QS"] == ["QS_QS", "QS_SM", "QS_YX"] and "BS" not in rollups
    assert len(rollups["ALL"]) == 10 and "BS" in rollups["ALL"]
    assert city.rollup_units(city.indicators["RD_GDP"]) == {}


def test_a_catalog_written_before_levels_loads_unchanged(catalog):
    assert catalog.top_label == "全区" and catalog.first_period == "2019-01"
    assert {u.parent for u in catalog.units.values()} == {None, "ALL"}
    assert catalog.peer_group("HGQ") == catalog.peer_group("JC") == "town"  # parks with towns


def _city_broken(tmp_path, file, old, new):
    return _broken(tmp_path, file, old, new, source=CITY)


@pytest.mark.parametrize(("file", "old", "new", "message"), [
    ("units.yaml", "parent: QS}", "parent: QX}",
     "units.yaml: entry #9 (QS_QS): field 'parent': 'QX' is not in units.yaml"),
    ("units.yaml", "kind: county, official: 钱伟", "kind: prefecture, official: 钱伟",
     "units.yaml: entry #2 (JD): field 'kind': 'prefecture' is not one of city, county, town"),
    ("units.yaml", "{code: JD, name: 江东区, kind: county,",
     "{code: JD, name: 江东区, kind: county, parent: JD_DH,",
     "units.yaml: entry #2 (JD): field 'parent': the parents run in a circle"),
    ("units.yaml", "kind: department, official: 王芳", "kind: department, parent: JD, official: 王芳",
     "units.yaml: entry #18 (KJJ): field 'parent': a department belongs to ALL"),
    ("units.yaml", "  - {code: department, name: 市级部门}\n", "",
     "units.yaml: 'kinds:' must include 'department'"),
    ("indicators.yaml", "    reporters: [town]\n    department: KJJ\n    action: capacity",
     "    reporters: [town, county]\n    department: KJJ\n    action: capacity",
     "indicators.yaml: entry #1 (TECH_CONTRACT): field 'reporters': 'town' units such as "
     "BS_BS roll up to BS ('county'), which reports too"),
    ("settings.yaml", "first_period: 2023-01", "first_period: 2023-13",
     "settings.yaml: entry settings: field 'first_period': '2023-13' is not a month"),
    ("settings.yaml", "warning_lookback_months: 2",
     "warning_lookback_months: 2\nprojection_confirm_from_month: 13",
     "settings.yaml: entry settings: field 'projection_confirm_from_month': must be a month"),
    ("settings.yaml", "warning_lookback_months: 2",
     "warning_lookback_months: 2\nregistry:\n  enterprises: {table: qy, columns: {city: ss}}",
     "settings.yaml: entry registry.enterprises: field 'columns.city': not a column of "
     "enterprises"),
])
def test_broken_city_catalog_names_file_entry_and_field(tmp_path, file, old, new, message):
    with pytest.raises(CatalogError) as err:
        load_catalog(_city_broken(tmp_path, file, old, new))
    assert message in str(err.value)


def test_counties_report_themselves_or_through_their_towns(tmp_path):
    """JD, JX, QS and LH leave technology contracts to their towns; BS reports its own total."""
    folder = _city_broken(tmp_path, "indicators.yaml",
                          "    reporters: [town]\n    department: KJJ\n    action: capacity",
                          "    reporters: [town, county]\n    department: KJJ\n    action: capacity")
    units = (folder / "units.yaml").read_text(encoding="utf-8")
    # (the example already leaves PATENT to the same four counties' towns)
    assert units.count("reports_via: {PATENT: children}") == 4
    units = units.replace("reports_via: {PATENT: children}",
                          "reports_via: {TECH_CONTRACT: children, PATENT: children}")
    (folder / "units.yaml").write_text(units, encoding="utf-8")
    city = load_catalog(folder)
    contract, patent = city.indicators["TECH_CONTRACT"], city.indicators["PATENT"]
    reporting = [u.code for u in city.reporting_units(contract)]
    assert "BS" in reporting and "BS_BS" not in reporting and "BS_ML" not in reporting
    assert {"JD", "JX", "QS", "LH"}.isdisjoint(reporting) and "QS_SM" in reporting
    assert len(reporting) == 1 + 9  # BS itself and the nine towns of the other four
    rollups = city.rollup_units(contract)
    assert rollups["ALL"].count("BS") == 1 and "BS" not in rollups
    assert rollups["QS"] == ["QS_QS", "QS_SM", "QS_YX"]
    assert "TECH_CONTRACT" in [i.code for i in city.indicators_for_unit("BS")]
    assert "TECH_CONTRACT" not in [i.code for i in city.indicators_for_unit("BS_ML")]
    assert "BS" in [u.code for u in city.reporting_units(patent)]  # as the example has it
    assert "BS_BS" not in [u.code for u in city.reporting_units(patent)]

    # every county leaving it to its towns is the old catalog; none (or a misspelt code) fails
    broken = units.replace("reports_via: {TECH_CONTRACT: children", "reports_via: {TECH_CONTRAC: children", 1)
    (folder / "units.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(CatalogError, match=r"entry #2 \(JD\): field 'reports_via': "
                                           "'TECH_CONTRAC' is not in indicators.yaml"):
        load_catalog(folder)
    leaves = units.replace("{code: QS_QS, name:", "{code: QS_QS, reports_via: children, name:")
    (folder / "units.yaml").write_text(leaves, encoding="utf-8")
    with pytest.raises(CatalogError, match="QS_QS leaves TECH_CONTRACT to its children"):
        load_catalog(folder)


def test_kinds_sharing_a_name_are_named_once_in_a_ranking():
    import dataclasses

    from kj_pipelines.catalog.model import UnitKind
    city = load_catalog(CITY)
    kinds = {**city.kinds, "county2": UnitKind("county2", "县（市、区）", "county"),
             "zone": UnitKind("zone", "功能区", "county")}
    city = dataclasses.replace(city, kinds=kinds)
    assert city.peer_group_name("county") == "县（市、区）、功能区"


def test_registry_tables_under_a_regions_own_names(tmp_path):
    import datetime as dt

    import sqlalchemy as sa

    from kj_pipelines.intake.registry import read_registry, registry_values

    folder = _city_broken(tmp_path, "settings.yaml", "warning_lookback_months: 2",
                          "warning_lookback_months: 2\nregistry:\n"
                          "  rd_institutions: {table: yfjg, columns: {id: jgid, town: ssxz, "
                          "established_on: clrq, revoked_on: cxrq}}")
    city = load_catalog(folder)
    url = f"sqlite:///{tmp_path / 'reg.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as con:
        con.execute(sa.text("CREATE TABLE yfjg (jgid INTEGER, ssxz TEXT, clrq DATE, cxrq DATE)"))
        con.execute(sa.text("INSERT INTO yfjg VALUES (1, 'QS_SM', :a, NULL), (2, 'QS_SM', :b, NULL)"
                            ", (3, 'JD_DH', :a, :c)"), {"a": dt.date(2024, 2, 1),
                                                        "b": dt.date(2024, 5, 3),
                                                        "c": dt.date(2024, 4, 1)})
    engine.dispose()
    tables = read_registry(url, city.registry)
    assert list(tables) == ["rd_institutions"]
    values = registry_values(tables, {"RD_ORG": "rd_institutions_total"},
                             {"RD_ORG": ["QS_SM", "JD_DH"]}, ["2024-03", "2024-05"])
    got = {(r.unit, r.period): r.value for r in values.itertuples()}
    assert got == {("QS_SM", "2024-03"): 1, ("JD_DH", "2024-03"): 1,
                   ("QS_SM", "2024-05"): 2, ("JD_DH", "2024-05"): 0}
