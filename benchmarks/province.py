"""A synthetic province for ``make bench``: 90 counties of 20 reporting units each (1,800 towns and
parks, ~2,000 units with the counties and departments), the sample's 29 indicators, all months
2019-01…2026-10. Made deterministically from the district sample's ingested warehouse: each
county holds two copies of the district's ten towns and parks, every figure and target scaled by
a factor of its own (seeded), registry counts copied as they are. Written straight into the
warehouse tables the indicator graph reads (the ingestion is measured on its own).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from kj_pipelines.catalog.loader import load_catalog

COUNTIES = 90
COPIES = 2  # copies of the district's reporting units per county: 2 × 10 = 20
SEED = 2026


def build_province(district: Path, root: Path) -> dict[str, int]:
    """``district``: an ingested sample data directory; ``root``: the province's, written anew."""
    catalog = load_catalog(district / "catalog")
    reporters = [u for u in catalog.units.values() if u.kind in ("town", "park")]
    departments = [u for u in catalog.units.values() if u.kind == "department"]
    rng = random.Random(SEED)
    copies = [(f"C{c:02d}_{u.code}_{k}", u.code, f"{c + 1}县{u.name}{k + 1}", u.kind, f"C{c:02d}",
               round(rng.uniform(0.6, 1.4), 3))
              for c in range(COUNTIES) for k in range(COPIES) for u in reporters]
    mapping = pd.DataFrame(copies, columns=["unit_new", "unit", "name", "kind", "parent", "factor"])

    shutil.rmtree(root, ignore_errors=True)
    (root / "catalog").mkdir(parents=True)
    for path in (district / "catalog").glob("*.yaml"):
        shutil.copyfile(path, root / "catalog" / path.name)
    units = [{"code": "ALL", "name": "某省", "kind": "province"}]
    for c in range(COUNTIES):
        units.append({"code": f"C{c:02d}", "name": f"{c + 1}县", "kind": "county"})
    units += [{"code": r.unit_new, "name": r.name, "kind": r.kind, "parent": r.parent}
              for r in mapping.itertuples(index=False)]
    units += [{"code": d.code, "name": d.name, "kind": "department"} for d in departments]
    doc = {"top_label": "全省",
           "kinds": [{"code": "province", "name": "省"}, {"code": "county", "name": "县（市、区）"},
                     {"code": "town", "name": "乡镇（街道）"}, {"code": "park", "name": "园区"},
                     {"code": "department", "name": "省级部门"}],
           "units": units}
    (root / "catalog" / "units.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True),
                                                 encoding="utf-8")
    scoring = yaml.safe_load((root / "catalog" / "scoring.yaml").read_text(encoding="utf-8"))
    scoring.pop("landmarks", None)  # the district's named achievements
    (root / "catalog" / "scoring.yaml").write_text(yaml.safe_dump(scoring, allow_unicode=True),
                                                   encoding="utf-8")
    indicators = yaml.safe_load((root / "catalog" / "indicators.yaml").read_text(encoding="utf-8"))
    copies_of = mapping.groupby("unit")["unit_new"].apply(list).to_dict()
    for entry in indicators["indicators"]:  # a town's own plan profile goes to its copies
        if entry.get("unit_profiles"):
            entry["unit_profiles"] = {new: profile for unit, profile in
                                      entry["unit_profiles"].items()
                                      for new in copies_of.get(unit, [unit])}
    (root / "catalog" / "indicators.yaml").write_text(
        yaml.safe_dump(indicators, allow_unicode=True, sort_keys=False), encoding="utf-8")
    load_catalog(root / "catalog")  # the province's catalog is valid

    source = duckdb.connect(str(district / "warehouse.duckdb"), read_only=True)
    target = duckdb.connect(str(root / "warehouse.duckdb"))
    try:
        from kj_pipelines.storage.warehouse import ensure_schema, insert_frame

        ensure_schema(target)
        target.register("mapping", mapping)
        counts = {}
        for table, scaled in (("raw.submission_values", ("value", "cumulative")),
                              ("core.registry_values", ()),
                              ("core.annual_targets", ("target", "baseline"))):
            rows = source.execute(f"SELECT * FROM {table}").df()
            target.register("rows", rows)
            columns = list(rows.columns)
            select = ", ".join(
                "m.unit_new AS unit" if c == "unit" else
                (f"r.{c} * m.factor AS {c}" if c in scaled else f'r."{c}"') for c in columns)
            copied = target.execute(
                f"SELECT {select} FROM rows r JOIN mapping m USING (unit)").df()
            others = rows[~rows["unit"].isin(mapping["unit"])]  # departments, the top
            if table == "core.annual_targets":  # the top's target: the sum of its copies
                top = others["unit"] == "ALL"
                others.loc[top, "target"] = others.loc[top, "target"] * COUNTIES * COPIES
            insert_frame(target, table, pd.concat([copied[columns], others], ignore_index=True))
            target.unregister("rows")
            counts[table] = target.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        target.execute("CHECKPOINT")
    finally:
        source.close()
        target.close()
    counts["units"] = len(units)
    return counts


if __name__ == "__main__":
    import sys

    print(build_province(Path(sys.argv[1]), Path(sys.argv[2])))
