"""季晾晒、年考评: a unit's score from the status of its indicators, its rank and band.

Territorial units (towns and parks, counties above them) are scored on their own rows;
departments on the top's figures of the indicators they are responsible for. Units are ranked
within their peer group (the kinds sharing ``peers`` in units.yaml: towns with parks, counties
with counties, departments with departments). Weights and bands come from
``catalog/scoring.yaml``.
"""

from __future__ import annotations

import pandas as pd

from kj_pipelines.domain.catalog import DISTRICT, Catalog

SCORE_COLUMNS = ["period", "unit", "score", "rank", "band", "indicators", "red", "yellow", "grey",
                 "peer_group"]


def score_units(progress: pd.DataFrame, catalog: Catalog, period_label: str) -> pd.DataFrame:
    weights = catalog.scoring.get("weights", {})
    bands = sorted(catalog.scoring.get("bands", []), key=lambda b: -float(b["min"]))
    towns = progress[progress["unit"] != DISTRICT]
    departments = progress[progress["unit"] == DISTRICT].assign(
        unit=lambda f: f["indicator"].map(lambda c: catalog.indicators[c].department
                                          if c in catalog.indicators else None))
    rows = []
    for unit, group in pd.concat([towns, departments]).groupby("unit"):
        if unit not in catalog.units:
            continue
        points = group["status"].map(lambda s: float(weights.get(s, 0)))
        counts = group["status"].value_counts()
        rows.append({"unit": unit, "score": round(float(points.mean()), 2),
                     "indicators": len(group), "red": int(counts.get("red", 0)),
                     "yellow": int(counts.get("yellow", 0)), "grey": int(counts.get("grey", 0))})
    frame = pd.DataFrame(rows, columns=["unit", "score", "indicators", "red", "yellow", "grey"])
    frame["peer_group"] = [catalog.peer_group(u) for u in frame["unit"]]
    frame["rank"] = frame.groupby("peer_group")["score"].rank(
        ascending=False, method="min").astype("Int64")
    frame["band"] = frame["score"].map(
        lambda s: next((b["name"] for b in bands if s >= float(b["min"])), ""))
    frame["period"] = period_label
    return frame[SCORE_COLUMNS].sort_values(["peer_group", "rank", "unit"]).reset_index(drop=True)
