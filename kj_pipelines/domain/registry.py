"""Indicators computed from the enterprise/institution registry (登记库), never typed in.

Each rule turns the registry tables into a monthly count per town: a stock at month end
(effective high-tech enterprises) or a flow since January (new recognitions).
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from kj_pipelines.domain.periods import month_end

REGISTRY_TABLES = ("enterprises", "high_tech_recognitions", "tech_sme_listings", "rd_institutions",
                   "workstations")
FACT_COLUMNS = ["unit", "indicator", "period", "value", "cumulative"]


def read_registry(url: str) -> dict[str, pd.DataFrame]:
    """Read the registry tables through SQLAlchemy; the engine is always disposed."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = {name: pd.read_sql_table(name, conn) for name in REGISTRY_TABLES}
    finally:
        engine.dispose()
    for frame in tables.values():
        for col in frame.columns:
            if col.endswith("_on"):
                frame[col] = pd.to_datetime(frame[col])
    return tables


def _events(tables: dict[str, pd.DataFrame], rule: str) -> tuple[pd.DataFrame, str]:
    """(frame with town, start, end[, first_time]) and whether the rule counts a stock or a flow."""
    ent = tables["enterprises"][["enterprise_id", "town"]]
    if rule in ("effective_high_tech", "new_high_tech"):
        rec = tables["high_tech_recognitions"].merge(ent, on="enterprise_id")
        if rule == "new_high_tech":
            rec = rec[rec["first_time"].astype(bool)]
        frame = rec.rename(columns={"recognized_on": "start", "expires_on": "end"})
        return frame, "stock" if rule == "effective_high_tech" else "flow"
    if rule == "tech_sme_listed":
        rec = tables["tech_sme_listings"].merge(ent, on="enterprise_id")
        return rec.rename(columns={"listed_on": "start", "expires_on": "end"}), "stock"
    if rule in ("rd_institutions_total", "rd_institutions_new"):
        inst = tables["rd_institutions"].rename(columns={"established_on": "start",
                                                         "revoked_on": "end"})
        return inst, "stock" if rule.endswith("total") else "flow"
    kind = "academician" if rule == "academician_workstations" else "doctoral"
    ws = tables["workstations"]
    ws = ws[ws["kind"] == kind].rename(columns={"established_on": "start", "revoked_on": "end"})
    return ws, "stock" if rule == "academician_workstations" else "flow"


def registry_values(tables: dict[str, pd.DataFrame], rules: dict[str, str], towns: list[str],
                    periods: list[str]) -> pd.DataFrame:
    """Monthly values per town for every registry indicator (``rules``: indicator → rule)."""
    rows = []
    for code, rule in rules.items():
        events, kind = _events(tables, rule)
        start = events["start"]
        end = events["end"]
        id_col = "enterprise_id" if "enterprise_id" in events.columns else "id"
        for period in periods:
            last = pd.Timestamp(month_end(period))
            if kind == "stock":
                active = (start <= last) & (end.isna() | (end > last))
                counts = events[active].groupby("town")[id_col].nunique()
                monthly = None
            else:
                first, month_first = last.replace(month=1, day=1), last.replace(day=1)
                in_year = (start >= first) & (start <= last)
                counts = events[in_year].groupby("town")[id_col].count()
                monthly = events[(start >= month_first) & (start <= last)].groupby("town")[
                    id_col].count()
            for town in towns:
                value = float(counts.get(town, 0))
                if monthly is None:
                    rows.append((town, code, period, value, None))
                else:
                    rows.append((town, code, period, float(monthly.get(town, 0)), value))
    return pd.DataFrame(rows, columns=FACT_COLUMNS)
