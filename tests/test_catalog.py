import shutil

import pytest

from kj_pipelines.domain.catalog import CatalogError, load_catalog
from kj_pipelines.domain.sample import CATALOG_SOURCE


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


def _broken(tmp_path, file, old, new):
    folder = tmp_path / "catalog"
    shutil.copytree(CATALOG_SOURCE, folder)
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

    from kj_pipelines.domain.catalog import load_catalog
    from kj_pipelines.domain.indicators import compute_values

    folder = _broken(tmp_path, "indicators.yaml",
                     "    aggregate: district_only\n    department: TJJ",
                     "    aggregate: units_only\n    reporters: [town]\n    department: TJJ")
    rates = load_catalog(folder)
    ind = rates.indicators["RD_GDP"]
    facts = pd.DataFrame({"unit": ["JC", "ZS"], "indicator": "RD_GDP", "period": "2025-12",
                          "value": [3.1, 2.9], "cumulative": None})
    values = compute_values(ind, rates, facts, ["2025-12"])
    assert sorted(values["unit"]) == ["JC", "ZS"]  # no district row made by adding 3.1 and 2.9
