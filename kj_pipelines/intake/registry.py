"""Indicators computed from the enterprise/institution registry (登记库), never typed in.

Each rule turns the registry tables into a monthly count per town: a stock at month end
(effective high-tech enterprises) or a flow since January (new recognitions).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from kj_pipelines.catalog.model import REGISTRY_SCHEMA, RegistryTable
from kj_pipelines.core.periods import month_end

REGISTRY_TABLES = tuple(REGISTRY_SCHEMA)
FACT_COLUMNS = ["unit", "indicator", "period", "value", "cumulative"]
RULE_TABLES = {  # the registry tables each rule needs
    "effective_high_tech": ("enterprises", "high_tech_recognitions"),
    "new_high_tech": ("enterprises", "high_tech_recognitions"),
    "tech_sme_listed": ("enterprises", "tech_sme_listings"),
    "rd_institutions_total": ("rd_institutions",),
    "rd_institutions_new": ("rd_institutions",),
    "academician_workstations": ("workstations",),
    "doctoral_workstations_new": ("workstations",),
}


class RegistryUnavailable(RuntimeError):
    """No registry is configured or reachable; registry-fed indicators have no figures."""


def sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL (``None`` for other databases or an in-memory one)."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return url.removeprefix("sqlite:///")
    return None


def read_registry(url: str, mapping: Mapping[str, RegistryTable] | None = None
                  ) -> dict[str, pd.DataFrame]:
    """Read the registry tables it has through SQLAlchemy (the engine is always disposed); a
    region may keep only some of them, under its own table and column names (``mapping``, from
    settings.yaml). Tables come back under their canonical names and columns. Raises
    :class:`RegistryUnavailable` when there is none, or a mapped column is missing."""
    from pathlib import Path

    # here, not at the top: SQLAlchemy takes 0.5 s to import and only this reads through it
    import sqlalchemy as sa

    file = sqlite_file(url)
    if file is not None and not Path(file).exists():  # SQLite would create an empty file
        raise RegistryUnavailable(f"登记库文件不存在：{Path(file).name}")
    try:
        engine = sa.create_engine(url)
    except (sa.exc.SQLAlchemyError, ValueError, ImportError) as exc:
        raise RegistryUnavailable(f"登记库地址无法使用：{type(exc).__name__}") from exc
    try:
        with engine.connect() as conn:
            present = set(sa.inspect(conn).get_table_names())
            where = {name: (mapping or {}).get(name, RegistryTable(name)) for name in REGISTRY_TABLES}
            tables = {name: _canonical(name, pd.read_sql_table(spec.table, conn), spec)
                      for name, spec in where.items() if spec.table in present}
    except sa.exc.SQLAlchemyError as exc:
        raise RegistryUnavailable(f"登记库无法读取：{type(exc).__name__}") from exc
    finally:
        engine.dispose()
    if not tables:
        raise RegistryUnavailable("登记库中没有任何登记表")
    for frame in tables.values():
        for col in frame.columns:
            if col.endswith("_on"):
                frame[col] = pd.to_datetime(frame[col])
    return tables


def _canonical(name: str, frame: pd.DataFrame, spec: RegistryTable) -> pd.DataFrame:
    """A region's table under the canonical column names the rules read."""
    renamed = frame.rename(columns={actual: canonical for canonical, actual in spec.columns.items()})
    lacking = [c for c in REGISTRY_SCHEMA[name] if c not in renamed.columns]
    if lacking:
        raise RegistryUnavailable(
            f"登记表{spec.table}缺少字段：{', '.join(lacking)}（可在settings.yaml的registry中映射列名）")
    return renamed


def _events(tables: dict[str, pd.DataFrame], rule: str) -> tuple[pd.DataFrame, str]:
    """(frame with town, start, end[, first_time]) and whether the rule counts a stock or a flow."""
    if rule in ("effective_high_tech", "new_high_tech"):
        ent = tables["enterprises"][["enterprise_id", "town"]]
        rec = tables["high_tech_recognitions"].merge(ent, on="enterprise_id")
        if rule == "new_high_tech":
            rec = rec[rec["first_time"].astype(bool)]
        frame = rec.rename(columns={"recognized_on": "start", "expires_on": "end"})
        return frame, "stock" if rule == "effective_high_tech" else "flow"
    if rule == "tech_sme_listed":
        ent = tables["enterprises"][["enterprise_id", "town"]]
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


def _id_column(events: pd.DataFrame) -> str:
    return "enterprise_id" if "enterprise_id" in events.columns else "id"


def _counted(events: pd.DataFrame, kind: str, period: str) -> pd.Series:
    """The records a rule counts for a month: a stock's records in force at month end, a flow's
    started since January."""
    last = pd.Timestamp(month_end(period))
    start, end = events["start"], events["end"]
    if kind == "stock":
        return (start <= last) & (end.isna() | (end > last))
    return (start >= last.replace(month=1, day=1)) & (start <= last)


def counted_records(tables: dict[str, pd.DataFrame], rule: str, town: str,
                    period: str) -> tuple[pd.DataFrame, str]:
    """The registry records behind one town's figure for a month (``kj audit``): id, start and
    end, one row per record counted; and whether the rule counts a stock or a flow."""
    if not all(t in tables for t in RULE_TABLES[rule]):
        return pd.DataFrame(columns=["id", "start", "end"]), "stock"
    events, kind = _events(tables, rule)
    rows = events[_counted(events, kind, period) & (events["town"] == town)]
    out = pd.DataFrame({"id": rows[_id_column(rows)].astype(str), "start": rows["start"],
                        "end": rows["end"]})
    if kind == "stock":  # a stock counts each record once, a flow each event
        out = out.drop_duplicates("id")
    return out.sort_values(["start", "id"]).reset_index(drop=True), kind


def registry_values(tables: dict[str, pd.DataFrame], rules: dict[str, str],
                    units: Mapping[str, list[str]], periods: list[str]) -> pd.DataFrame:
    """Monthly values per unit for every registry indicator (``rules``: indicator → rule;
    ``units``: indicator → the units it is computed for, its reporters)."""
    rows = []
    for code, rule in rules.items():
        if not all(t in tables for t in RULE_TABLES[rule]):
            continue  # this region's registry lacks the tables of this rule
        events, kind = _events(tables, rule)
        id_col = _id_column(events)
        for period in periods:
            counted = events[_counted(events, kind, period)]
            if kind == "stock":
                counts = counted.groupby("town")[id_col].nunique()
                monthly = None
            else:
                counts = counted.groupby("town")[id_col].count()
                this_month = counted["start"] >= pd.Timestamp(month_end(period)).replace(day=1)
                monthly = counted[this_month].groupby("town")[id_col].count()
            for town in units.get(code, []):
                value = float(counts.get(town, 0))
                if monthly is None:
                    rows.append((town, code, period, value, None))
                else:
                    rows.append((town, code, period, float(monthly.get(town, 0)), value))
    return pd.DataFrame(rows, columns=FACT_COLUMNS)
