"""The deterministic sample: eight years of a district's submissions, registry and target lists.

Calibrated so that the 2023 district figures equal seed 004's (R&D, high-tech enterprises,
technology contracts, loans, investment and value-added shares); a few units fall behind plan in
2026, and a few workbooks carry the messy-but-valid cells real submissions have.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from kj_pipelines.catalog.loader import load_catalog
from kj_pipelines.catalog.model import DISTRICT, FIRST_PERIOD, Catalog
from kj_pipelines.core.files import ARRIVALS, sha256_of
from kj_pipelines.core.periods import (
    TIMEZONE,
    add_months,
    month_end,
    month_key,
    months_between,
)
from kj_pipelines.core.settings import PACKAGED_CATALOG
from kj_pipelines.intake.targets import write_target_list
from kj_pipelines.intake.template import (
    SubmissionRow,
    due_rows,
    save_workbook,
    write_list_sheets,
    write_submission,
    write_text,
)
from kj_pipelines.sample.lists import SampleLists, write_sample_lists

# openpyxl is imported where a workbook is written: the definitions load without it

CATALOG_SOURCE = PACKAGED_CATALOG
SEED = 315
YEARS = range(2019, 2027)
LAST_SAMPLE_PERIOD = "2026-10"
TOWN_WEIGHTS = {"ZBS": 0.08, "JC": 0.16, "LT": 0.12, "ZS": 0.11, "GS": 0.07, "XP": 0.09,
                "JLH": 0.06, "HGQ": 0.17, "JKQ": 0.09, "YJKC": 0.05}
# year-end push, small January-February (月度进度分布)
SEASON = (0.05, 0.04, 0.08, 0.08, 0.08, 0.10, 0.07, 0.07, 0.09, 0.08, 0.10, 0.16)

# District annual totals of the submitted flows; 2023 equals seed 004.
FLOWS: dict[str, dict[int, float]] = {
    "IND_VA": {2019: 820, 2020: 845, 2021: 905, 2022: 955, 2023: 1000, 2024: 1050, 2025: 1100,
               2026: 1150},
    "HT_VA": {2019: 295.2, 2020: 312.65, 2021: 352.95, 2022: 380.09, 2023: 419, 2024: 451.5,
              2025: 484, 2026: 517.5},
    "FAI": {2019: 220, 2020: 230, 2021: 255, 2022: 275, 2023: 300, 2024: 315, 2025: 330, 2026: 345},
    "HT_INV": {2019: 70, 2020: 80, 2021: 95, 2022: 115.8, 2023: 143.82, 2024: 160, 2025: 175,
               2026: 190},
    "MAJOR_PROJ_INV": {2019: 15, 2020: 17, 2021: 19.5, 2022: 22, 2023: 25.23, 2024: 27, 2025: 29,
                       2026: 31},
    "TECH_CONTRACT": {2019: 30, 2020: 38, 2021: 45, 2022: 55, 2023: 67.08, 2024: 75, 2025: 82,
                      2026: 90},
    "IND_RD_EXP": {2019: 28, 2020: 30, 2021: 33, 2022: 36, 2023: 38.5, 2024: 40.6, 2025: 43,
                   2026: 45.5},
}
DISTRICT_FLOWS = {  # reported by the department for the district only
    "TECH_LOAN": {2019: 1.5, 2020: 2.1, 2021: 2.8, 2022: 3.5, 2023: 4.02, 2024: 4.5, 2025: 5.0,
                  2026: 5.5},
    "TECH_LOAN_FIRMS": {2019: 50, 2020: 66, 2021: 85, 2022: 105, 2023: 127, 2024: 140, 2025: 150,
                        2026: 160},
}
LITTLE_GIANTS = {2019: 1, 2020: 1, 2021: 2, 2022: 1, 2023: 2, 2024: 2, 2025: 3, 2026: 2}
# Year-end district stocks ("两清零": lower is better) and quarterly district-only stocks.
ZERO_STOCKS = {
    "ZERO_RD_ORG": {2018: 46, 2019: 40, 2020: 34, 2021: 26, 2022: 18, 2023: 8, 2024: 3, 2025: 1,
                    2026: 0},
    "ZERO_RD_EXP": {2018: 135, 2019: 120, 2020: 100, 2021: 80, 2022: 55, 2023: 30, 2024: 12,
                    2025: 5, 2026: 0},
}
QUARTERLY_STOCKS = {
    "HL_PLATFORM": {2018: 3, 2019: 4, 2020: 5, 2021: 6, 2022: 7, 2023: 8, 2024: 9, 2025: 10,
                    2026: 11},
    "NEW_RD_ORG": {2018: 1, 2019: 1, 2020: 2, 2021: 2, 2022: 3, 2023: 4, 2024: 5, 2025: 5, 2026: 6},
    "TOP_TALENT": {2018: 0, 2019: 0, 2020: 1, 2021: 1, 2022: 2, 2023: 3, 2024: 4, 2025: 5, 2026: 5},
    "LEAD_TALENT": {2018: 5, 2019: 7, 2020: 9, 2021: 10, 2022: 12, 2023: 16, 2024: 20, 2025: 23,
                    2026: 24},
    "YOUNG_TALENT": {2018: 3, 2019: 5, 2020: 7, 2021: 8, 2022: 10, 2023: 14, 2024: 18, 2025: 22,
                     2026: 23},
}
RD_GDP = {2019: 3.05, 2020: 3.15, 2021: 3.28, 2022: 3.40, 2023: 3.41, 2024: 3.44, 2025: 3.47}
# 2026: units deliberately behind plan (factor on their year's values).
BEHIND_2026 = {("JLH", "HT_VA"): 0.7, ("JLH", "TECH_CONTRACT"): 0.55, ("LT", "TECH_CONTRACT"): 0.8,
               ("XP", "HT_INV"): 0.85, ("XP", "MAJOR_PROJ_INV"): 0.75, ("GS", "IND_RD_EXP"): 0.8}
MISSING_2026_10 = {("GS", "TECH_CONTRACT"), ("GS", "MAJOR_PROJ_INV")}
# High-tech enterprises: first recognitions and renewals per year (Q4), so that the district has
# 123 new and 474 effective at the end of 2023 (seed 004: "120家以上", "突破470家").
HT_NEW = {2016: 50, 2017: 60, 2018: 70, 2019: 70, 2020: 85, 2021: 100, 2022: 110, 2023: 123,
          2024: 118, 2025: 125, 2026: 128}
HT_RENEW = {2019: 25, 2020: 30, 2021: 40, 2022: 50, 2023: 51, 2024: 84, 2025: 96, 2026: 110}
HT_MONTHS = ((10, 0.2), (11, 0.5), (12, 0.3))
RD_INST_NEW = {2019: 50, 2020: 58, 2021: 66, 2022: 75, 2023: 84, 2024: 88, 2025: 92, 2026: 95}
RD_INST_BEFORE_2019 = 30  # 30 + 333 new in 2019-2023 = 363 at the end of 2023 (seed 004)
ACAD_WS_NEW = {2016: 4, 2017: 3, 2018: 2, 2019: 1, 2020: 1, 2021: 0, 2022: 1, 2023: 2, 2024: 1,
               2025: 2, 2026: 1}
DOC_WS_NEW = {2019: 5, 2020: 6, 2021: 8, 2022: 9, 2023: 11, 2024: 10, 2025: 12, 2026: 9}
TECH_SME_NEW = {2018: 420, 2019: 160, 2020: 190, 2021: 210, 2022: 240, 2023: 260, 2024: 270,
                2025: 280, 2026: 290}


def generate_sample(root: Path, *, start: str = FIRST_PERIOD, end: str = LAST_SAMPLE_PERIOD,
                    source_db_url: str | None = None, seed: int = SEED) -> dict[str, int]:
    """Write catalog, target lists 2019-2027, registry and the monthly workbooks into ``root``.
    ``seed`` draws another history with the same design (the backtest is judged on two)."""
    catalog_dir = root / "catalog"
    catalog_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(CATALOG_SOURCE.glob("*.yaml")):
        shutil.copyfile(path, catalog_dir / path.name)
    catalog = load_catalog(catalog_dir)
    db_url = source_db_url or f"sqlite:///{root / 'source' / 'registry.sqlite'}"
    if db_url.startswith("sqlite:///"):
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    registry_counts = write_registry(db_url, seed)
    target_files = write_targets(root / "plans", catalog)
    lists = write_sample_lists(root / "plans", catalog)
    workbooks = write_submissions(root / "inbox", catalog, start, end, lists, seed)
    return {"workbooks": workbooks, "target_lists": target_files, **registry_counts}


# ── monthly values ─────────────────────────────────────────────────────────────

def _split_cents(total_cents: int, weights: Sequence[float]) -> list[int]:
    """Split an integer amount by weights, largest remainder, so the parts add up exactly."""
    s = sum(weights)
    raw = [total_cents * w / s for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: total_cents - sum(parts)]:
        parts[i] += 1
    return parts


def _town_year_split(rng: random.Random, code: str, year: int, total: float,
                     scale: int = 100) -> dict[str, list[int]]:
    """Monthly amounts (in 1/scale units) per town for one year."""
    towns = list(TOWN_WEIGHTS)
    weights = [TOWN_WEIGHTS[t] * rng.uniform(0.9, 1.1) for t in towns]
    per_town = _split_cents(round(total * scale), weights)
    out = {}
    for town, amount in zip(towns, per_town, strict=True):
        factor = BEHIND_2026.get((town, code), 1.0) if year == 2026 else 1.0
        amount = round(amount * factor)
        season = [s * rng.uniform(0.85, 1.15) for s in SEASON]
        out[town] = _split_cents(amount, season)
    return out


def monthly_values(catalog: Catalog, seed: int = SEED
                   ) -> dict[tuple[str, str, str], tuple[float, float | None]]:
    """(unit, indicator, period) → (本期值, 累计值) for every submitted figure of every year."""
    rng = random.Random(seed)
    out: dict[tuple[str, str, str], tuple[float, float | None]] = {}
    for code, years in FLOWS.items():
        for year in YEARS:
            for town, months in _town_year_split(rng, code, year, years[year]).items():
                running = 0
                for m, cents in enumerate(months, start=1):
                    running += cents
                    out[(town, code, month_key(year, m))] = (cents / 100, running / 100)
    for code, years in DISTRICT_FLOWS.items():
        unit = catalog.indicators[code].department
        scale = 1 if catalog.indicators[code].measure == "家" else 100
        for year in YEARS:
            months = _split_cents(round(years[year] * scale), [s * rng.uniform(0.9, 1.1)
                                                               for s in SEASON])
            running = 0
            for m, amount in enumerate(months, start=1):
                running += amount
                out[(unit, code, month_key(year, m))] = (amount / scale, running / scale)
    for year in YEARS:
        winners = rng.sample(list(TOWN_WEIGHTS), LITTLE_GIANTS[year])
        for town in TOWN_WEIGHTS:
            running = 0
            for m in range(1, 13):
                value = float(winners.count(town)) if m == 12 else 0.0
                running += value
                out[(town, "LITTLE_GIANT", month_key(year, m))] = (value, running)
    for code, ends in ZERO_STOCKS.items():
        for year in YEARS:
            start_parts = _split_cents(ends[year - 1], list(TOWN_WEIGHTS.values()))
            end_parts = _split_cents(ends[year], list(TOWN_WEIGHTS.values()))
            for town, a, b in zip(TOWN_WEIGHTS, start_parts, end_parts, strict=True):
                for m in range(1, 13):
                    lag = 2 if town in ("XP", "JLH") and year == 2026 else 0
                    value = a + (b - a) * max(m - lag, 0) / 12
                    out[(town, code, month_key(year, m))] = (float(round(value)), None)
    for code, ends in QUARTERLY_STOCKS.items():
        unit = catalog.indicators[code].department
        for year in YEARS:
            for q, m in enumerate((3, 6, 9, 12), start=1):
                a, b = ends[year - 1], ends[year]
                out[(unit, code, month_key(year, m))] = (float(a + (b - a) * q // 4), None)
    for year, value in RD_GDP.items():
        out[("TJJ", "RD_GDP", month_key(year, 12))] = (value, None)
    return out


def write_submissions(inbox: Path, catalog: Catalog, start: str, end: str,
                      lists: SampleLists | None = None, seed: int = SEED) -> int:
    from openpyxl import Workbook
    values = monthly_values(catalog, seed)
    lists = lists or SampleLists()
    count = 0
    history = lists.history_before(start)
    if history is not None:  # a sample starting after the lists' first year keeps their past
        before = add_months(start, -1)
        path = inbox / f"{before}_清单历史.xlsx"
        wb = Workbook()
        wb.remove(wb.active)
        write_list_sheets(wb, catalog, DISTRICT, before, history, protect=False)
        save_workbook(wb, path)
        _stamp(path, before, days=5)
        count += 1
    for period in months_between(start, end):
        for unit in catalog.units.values():
            rows = []
            for row in due_rows(catalog, unit.code, period):
                if row.period < FIRST_PERIOD:
                    continue
                if period == "2026-10" and (unit.code, row.indicator.code) in MISSING_2026_10:
                    continue  # 未按时报送: shows as grey in progress
                value = values.get((unit.code, row.indicator.code, row.period))
                if value is None:
                    continue
                row.value, row.cumulative = value
                rows.append(row)
            sheets = lists.sheets.get((unit.code, period))
            if not rows and sheets is None:
                continue
            path = inbox / f"{period}_{unit.code}.xlsx"
            write_submission(path, catalog, unit.code, period, rows, lists=sheets)
            _stamp(path, period, days=5)
            count += 1
    count += _mess_up(inbox, catalog, values, start, end)
    return count


def _stamp(path: Path, period: str, days: int) -> None:
    """Record when the workbook reached the inbox, as the inbox sensor would have (the sample's
    history arrived month by month, ``days`` after each month's end), and give the file that
    modification time."""
    when = dt.datetime.combine(month_end(period), dt.time(9, 0),
                               ZoneInfo(TIMEZONE)) + dt.timedelta(days=days)
    os.utime(path, (when.timestamp(), when.timestamp()))
    marker = path.parent / ARRIVALS / sha256_of(path)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(when.isoformat(), encoding="utf-8")


def _edit(path: Path, period: str, edits) -> None:
    """Apply ``edits`` to the 填报 sheet, keeping the file's received time."""
    from openpyxl import load_workbook
    (path.parent / ARRIVALS / sha256_of(path)).unlink(missing_ok=True)  # the edit replaces it
    wb = load_workbook(path)
    edits(wb["填报"])
    save_workbook(wb, path)
    _stamp(path, period, days=5)


def _find_row(ws, indicator: str) -> int:
    for r in range(4, ws.max_row + 1):
        if ws.cell(row=r, column=4).value == indicator:
            return r
    raise KeyError(indicator)


def _mess_up(inbox: Path, catalog: Catalog, values, start: str, end: str) -> int:
    """Messy-but-valid cells, a correction and a note that looks like a formula."""
    def present(period: str, unit: str) -> Path | None:
        path = inbox / f"{period}_{unit}.xlsx"
        return path if start <= period <= end and path.exists() else None

    if path := present("2025-03", "ZBS"):
        def full_width(ws):
            r = _find_row(ws, "IND_VA")
            ws.cell(row=r, column=7).value = str(ws.cell(row=r, column=7).value).translate(
                str.maketrans("0123456789.", "０１２３４５６７８９．"))
            r = _find_row(ws, "HT_VA")
            ws.cell(row=r, column=8).value = f" {ws.cell(row=r, column=8).value:,.2f} 亿元"
            ws.cell(row=3, column=7).value = "本期值（当月）"
        _edit(path, "2025-03", full_width)
    if path := present("2024-09", "TJJ"):
        def percent(ws):
            r = _find_row(ws, "RD_GDP")
            ws.cell(row=r, column=7).value = f"{ws.cell(row=r, column=7).value}%"
        _edit(path, "2024-09", percent)
    if path := present("2022-05", "JC"):
        def spaced(ws):
            for r in range(4, ws.max_row + 1):
                ws.cell(row=r, column=1).value = " jc "
                ws.cell(row=r, column=3).value = dt.datetime(2022, 5, 1)
            ws.cell(row=3, column=10).value = "填报人"
            ws.cell(row=4, column=10).value = "王晓"
        _edit(path, "2022-05", spaced)
    if path := present("2021-07", "HGQ"):
        def chinese_period(ws):
            for r in range(4, ws.max_row + 1):
                ws.cell(row=r, column=3).value = "2021年7月"
            write_text(ws.cell(row=4, column=9), "=按统计快报口径，待年报修正")
        _edit(path, "2021-07", chinese_period)
    extra = 0
    if path := present("2026-09", "ZBS"):
        # the first file has a typo (a value ten times too large); the correction replaces it
        correct = values[("ZBS", "HT_VA", "2026-09")]
        def typo(ws):
            r = _find_row(ws, "HT_VA")
            ws.cell(row=r, column=7).value = correct[0] * 10
            ws.cell(row=r, column=8).value = round(correct[1] + correct[0] * 9, 2)
        _edit(path, "2026-09", typo)
        fixed = inbox / "2026-09_ZBS_更正.xlsx"
        rows = [SubmissionRow(catalog.indicators["HT_VA"], "2026-09", correct[0], correct[1],
                              "更正：9月本期值误录，以本表为准")]
        write_submission(fixed, catalog, "ZBS", "2026-09", rows)
        _stamp(fixed, "2026-09", 9)
        extra += 1
    return extra


# ── target lists ───────────────────────────────────────────────────────────────

# the registry's targets, district-wide; each town's is its weight's part (whole units)
REGISTRY_TARGETS = {
    "HT_NEW": {2019: 65, 2020: 80, 2021: 95, 2022: 105, 2023: 120, 2024: 110, 2025: 120,
               2026: 130, 2027: 135},
    "HT_EFFECTIVE": {2019: 260, 2020: 300, 2021: 330, 2022: 390, 2023: 470, 2024: 520,
                     2025: 580, 2026: 620},
    "TECH_SME": {y: 400 + 120 * (y - 2019) for y in range(2019, 2028)},
    "RD_INST_NEW": {2019: 45, 2020: 55, 2021: 62, 2022: 70, 2023: 80, 2024: 85, 2025: 90,
                    2026: 95, 2027: 100},
    "RD_INST_TOTAL": {2019: 75, 2020: 135, 2021: 200, 2022: 275, 2023: 360, 2024: 450,
                      2025: 540, 2026: 640, 2027: 740},
    "ACAD_WS": {2019: 10, 2020: 11, 2021: 11, 2022: 12, 2023: 14, 2024: 15, 2025: 17, 2026: 19},
    "DOC_WS": {2019: 5, 2020: 6, 2021: 7, 2022: 8, 2023: 10, 2024: 10, 2025: 10, 2026: 10,
               2027: 10},
}


def write_targets(plans: Path, catalog: Catalog) -> int:
    ratio_targets = {
        "HT_VA_SHARE": {2019: 35.5, 2020: 36.5, 2021: 38.5, 2022: 39.5, 2023: 41.5, 2024: 42.5,
                        2025: 43.5, 2026: 45.5, 2027: 46.5},
        "HT_INV_SHARE": {2019: 30, 2020: 33, 2021: 36, 2022: 40, 2023: 45, 2024: 48, 2025: 50,
                         2026: 53, 2027: 55},
        "HT_INV_GROWTH": {2020: 12, 2021: 15, 2022: 18, 2023: 15, 2024: 10, 2025: 8, 2026: 8,
                          2027: 8},
        "IND_RD_GROWTH": {2020: 6, 2021: 8, 2022: 8, 2023: 6, 2024: 5, 2025: 5, 2026: 5, 2027: 5},
        "RD_GDP": {2019: 3.0, 2020: 3.1, 2021: 3.25, 2022: 3.35, 2023: 3.40, 2024: 3.42, 2025: 3.45,
                   2026: 3.48},
    }
    district_stock_targets = {"HL_PLATFORM": {2026: 11}, "NEW_RD_ORG": {2026: 6},
                              "TOP_TALENT": {2026: 6}, "LEAD_TALENT": {2026: 27},
                              "YOUNG_TALENT": {2026: 26}}
    count = 0
    for year in range(2019, 2028):
        rows: list[dict] = []

        def add(code: str, unit: str, target: float, _rows=rows, **extra) -> None:
            _rows.append({"indicator": code, "unit": unit, "target": target, **extra})

        for code, years in FLOWS.items():
            total = years.get(year, years[2026] * 1.06)
            factor = 1.0 if year >= 2026 else 0.97
            district = round(total * factor, 2)
            add(code, DISTRICT, district)
            for town, w in TOWN_WEIGHTS.items():
                add(code, town, round(district * w, 2))
        for code, years in DISTRICT_FLOWS.items():
            total = years.get(year, years[2026] * 1.06)
            add(code, DISTRICT, round(total * (1.0 if year >= 2026 else 0.97),
                                      0 if code.endswith("FIRMS") else 2))
        add("LITTLE_GIANT", DISTRICT, 2)
        for code, ends in ZERO_STOCKS.items():
            target = ends.get(year, 0)
            add(code, DISTRICT, "清零" if target == 0 else target)
            for town, part in zip(TOWN_WEIGHTS, _split_cents(target, list(TOWN_WEIGHTS.values())),
                                  strict=True):
                add(code, town, part)
        for code, years in REGISTRY_TARGETS.items():
            if year not in years:
                continue
            # as plans write them: "≥620，力争650" (seed 004: 突破470家、120家以上)
            add(code, DISTRICT, f"≥{years[year]}，力争{round(years[year] * 1.05)}"
                if code == "HT_EFFECTIVE" and year >= 2026 else years[year])
            for town, part in zip(TOWN_WEIGHTS, _split_cents(years[year],
                                                             list(TOWN_WEIGHTS.values())),
                                  strict=True):
                add(code, town, part)
        for code, years in ratio_targets.items():
            if year in years:
                add(code, DISTRICT, years[year])
        for code, years in district_stock_targets.items():
            if year in years:
                add(code, DISTRICT, years[year], deadline_month=12)
        write_target_list(plans / str(year) / f"{year}年度目标清单.xlsx", catalog, year, rows)
        count += 1
    return count


# ── registry ───────────────────────────────────────────────────────────────────

def registry_metadata() -> sa.MetaData:
    md = sa.MetaData()
    sa.Table("enterprises", md, sa.Column("enterprise_id", sa.Integer, primary_key=True),
             sa.Column("name", sa.String), sa.Column("credit_code", sa.String),
             sa.Column("town", sa.String))
    sa.Table("high_tech_recognitions", md, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("enterprise_id", sa.Integer), sa.Column("certificate_no", sa.String),
             sa.Column("recognized_on", sa.Date), sa.Column("expires_on", sa.Date),
             sa.Column("first_time", sa.Boolean))
    sa.Table("tech_sme_listings", md, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("enterprise_id", sa.Integer), sa.Column("listed_on", sa.Date),
             sa.Column("expires_on", sa.Date))
    sa.Table("rd_institutions", md, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("name", sa.String), sa.Column("town", sa.String),
             sa.Column("level", sa.String), sa.Column("established_on", sa.Date),
             sa.Column("revoked_on", sa.Date, nullable=True))
    sa.Table("workstations", md, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("name", sa.String), sa.Column("town", sa.String),
             sa.Column("kind", sa.String), sa.Column("established_on", sa.Date),
             sa.Column("revoked_on", sa.Date, nullable=True))
    return md


def _pick_town(rng: random.Random, year: int | None = None) -> str:
    towns, weights = list(TOWN_WEIGHTS), list(TOWN_WEIGHTS.values())
    if year == 2026:  # 九龙湖镇 and 澥浦镇 lag on high-tech recognitions this year
        weights = [w * (0.3 if t in ("JLH", "XP") else 1.0) for t, w in zip(towns, weights,
                                                                              strict=True)]
    return rng.choices(towns, weights)[0]


def _day(rng: random.Random, year: int, month: int) -> dt.date:
    return dt.date(year, month, rng.randint(1, 28))


def _add_years(day: dt.date, years: int) -> dt.date:
    return day.replace(year=day.year + years)


def write_registry(url: str, seed: int = SEED) -> dict[str, int]:
    rng = random.Random(seed + 1)
    enterprises: list[dict] = []
    recognitions: list[dict] = []
    by_year: dict[int, list[int]] = {}

    def new_enterprise(town: str) -> int:
        eid = len(enterprises) + 1
        enterprises.append({"enterprise_id": eid, "name": f"宁波镇海样例科技{eid:04d}有限公司",
                            "credit_code": f"91330211MA{eid:08d}", "town": town})
        return eid

    def recognize(eid: int, year: int, month: int, first: bool) -> None:
        day = _day(rng, year, month)
        recognitions.append({"id": len(recognitions) + 1, "enterprise_id": eid,
                             "certificate_no": f"GR{year}3302{len(recognitions) + 1:05d}",
                             "recognized_on": day, "expires_on": _add_years(day, 3),
                             "first_time": first})
        by_year.setdefault(year, []).append(eid)

    last_month: dict[int, int] = {}
    for year in sorted(HT_NEW):
        renewing = sorted(rng.sample(by_year.get(year - 3, []), HT_RENEW.get(year, 0)))
        for eid in renewing:
            # a renewal lands in the month the old certificate expires
            if year < 2026 or last_month[eid] <= 10:
                recognize(eid, year, last_month[eid], False)
        n_new = HT_NEW[year] if year < 2026 else round(HT_NEW[year] * HT_MONTHS[0][1])
        months = HT_MONTHS if year < 2026 else HT_MONTHS[:1]  # only October has landed in 2026
        split = _split_cents(n_new, [share for _, share in months])
        for (month, _), count in zip(months, split, strict=True):
            for _ in range(count):
                eid = new_enterprise(_pick_town(rng, year))
                recognize(eid, year, month, True)
                last_month[eid] = month

    listings: list[dict] = []
    sme_pool: list[int] = []
    for year in sorted(TECH_SME_NEW):
        keep = [e for e in sme_pool if rng.random() < 0.85]
        fresh = [new_enterprise(_pick_town(rng)) for _ in range(TECH_SME_NEW[year])]
        sme_pool = keep + fresh
        for eid in sme_pool:
            month = rng.choices(range(3, 11), (2, 4, 5, 4, 3, 2, 2, 1))[0]
            day = _day(rng, year, month)
            if day > month_end(LAST_SAMPLE_PERIOD):
                continue
            listings.append({"id": len(listings) + 1, "enterprise_id": eid, "listed_on": day,
                             "expires_on": _add_years(day, 1)})

    institutions: list[dict] = []
    for k in range(RD_INST_BEFORE_2019):
        institutions.append({"id": k + 1, "name": f"样例企业研究开发中心{k + 1:03d}",
                             "town": _pick_town(rng), "level": "区级",
                             "established_on": _day(rng, rng.randint(2015, 2018), rng.randint(1, 12)),
                             "revoked_on": None})
    for year, n in RD_INST_NEW.items():
        months = rng.choices((3, 6, 9, 12), (10, 35, 20, 35), k=n)
        for m in months:
            if year == 2026 and m > 9:
                m = 9 if rng.random() < 0.5 else 6
            institutions.append({"id": len(institutions) + 1,
                                 "name": f"样例企业研究开发中心{len(institutions) + 1:03d}",
                                 "town": _pick_town(rng),
                                 "level": rng.choices(("区级", "市级", "省级"), (6, 3, 1))[0],
                                 "established_on": _day(rng, year, m), "revoked_on": None})
    stations: list[dict] = []
    for kind, plan in (("academician", ACAD_WS_NEW), ("doctoral", DOC_WS_NEW)):
        for year, n in plan.items():
            for _ in range(n):
                month = rng.randint(3, 12) if year < 2026 else rng.randint(3, 9)
                label = "院士工作站" if kind == "academician" else "博士创新站"
                stations.append({"id": len(stations) + 1,
                                 "name": f"样例{label}{len(stations) + 1:03d}",
                                 "town": _pick_town(rng), "kind": kind,
                                 "established_on": _day(rng, year, month), "revoked_on": None})

    engine = sa.create_engine(url)
    md = registry_metadata()
    try:
        with engine.begin() as conn:
            md.drop_all(conn)
            md.create_all(conn)
            for name, rows in (("enterprises", enterprises),
                               ("high_tech_recognitions", recognitions),
                               ("tech_sme_listings", listings), ("rd_institutions", institutions),
                               ("workstations", stations)):
                if rows:
                    conn.execute(md.tables[name].insert(), rows)
    finally:
        engine.dispose()
    return {"enterprises": len(enterprises), "recognitions": len(recognitions)}
