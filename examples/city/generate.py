"""Writes the example city's target lists (plans/) and submissions (inbox/), deterministically.

    .venv/bin/python examples/city/generate.py            # the shipped files (seed 2024)
    .venv/bin/python examples/city/generate.py --seed 7 --out /tmp/city7   # another history

The city's own catalog (examples/city/catalog) is all the project needs; this script only
makes up its figures: two years of town submissions (2023 sent as one catch-up workbook per
town, 2024 month by month), the statistics bureau's yearly R&D intensity, and the 2023 and 2024
target lists written the way plans write them (≥, 以上, 力争, 清零, with 上年基数; in 2024 also
新增…家以上，力争新增…家 and 比上年增长…%以上 against 2023's catch-up figures). 北山市 reports
发明专利授权量 itself, the other counties through their towns (units.yaml ``reports_via``).
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

from openpyxl import load_workbook

from kj_pipelines.catalog.loader import load_catalog
from kj_pipelines.catalog.model import DISTRICT, Catalog
from kj_pipelines.core.periods import month_key
from kj_pipelines.excel.writing import save_workbook
from kj_pipelines.intake.targets import write_target_list
from kj_pipelines.intake.template import SubmissionRow, due_rows, write_submission

HERE = Path(__file__).resolve().parent
YEARS = (2023, 2024)
# city totals for 2023 and the growth each town draws around for 2024
FLOWS_2023 = {"TECH_CONTRACT": 40.0, "RD_EXP": 60.0, "TECH_SME": 300, "HT_OUTPUT": 1000.0,
              "IND_OUTPUT": 2500.0, "TALENT": 400, "PATENT": 1200}
HT_ENT_2022 = 680  # high-tech enterprises at the end of 2022 (the first year's 上年基数)
NO_RD_ORG_2023 = 44  # enterprises without an R&D institution at the end of 2023
RD_GDP = {2023: 2.45, 2024: 2.58}


def _towns(catalog: Catalog) -> list[str]:
    return [u.code for u in catalog.units.values() if u.kind == "town"]


def make_figures(catalog: Catalog, seed: int) -> dict[tuple[str, str, str], tuple]:
    """(unit, indicator, period) → (本期值, 累计值) for every town and month of both years."""
    rng = random.Random(seed)
    towns = _towns(catalog)
    size = {t: rng.uniform(0.5, 1.5) for t in towns}
    total_size = sum(size.values())
    # a county that lags this year, and each town's own pace against its plan
    pace = {t: rng.uniform(0.92, 1.22) for t in towns}
    for t in towns:
        if catalog.parent_of(t) == "LH":
            pace[t] *= 0.8
    out: dict[tuple[str, str, str], tuple] = {}
    for town in towns:
        share = size[town] / total_size
        for code, city_total in FLOWS_2023.items():
            counted = catalog.is_count(catalog.indicators[code])
            for year in YEARS:
                growth = 1.0 if year == 2023 else pace[town] * rng.uniform(0.97, 1.03)
                if code == "HT_OUTPUT":  # the high-tech share creeps up
                    growth *= 1.0 if year == 2023 else 1.04
                total = city_total * share * growth
                months = [3, 6, 9, 12] if code == "TALENT" else list(range(1, 13))
                weights = [rng.uniform(0.7, 1.3) for _ in months]
                running = 0.0
                for m, w in zip(months, weights, strict=True):
                    amount = total * w / sum(weights)
                    amount = float(round(amount)) if counted else round(amount, 2)
                    running = round(running + amount, 2)
                    out[(town, code, month_key(year, m))] = (amount, running)
        # high-tech enterprises: a stock stepping up when recognitions are announced
        level = round(HT_ENT_2022 * share)
        for year in YEARS:
            added = round(level * rng.uniform(0.08, 0.16) * (pace[town] if year == 2024 else 1))
            for m in range(1, 13):
                step = round(added * 0.6) if m >= 10 else 0
                step += added - round(added * 0.6) if m == 12 else 0
                out[(town, "HT_ENT", month_key(year, m))] = (float(level + step), None)
            level += added
        # enterprises without an R&D institution, reported from 2024 on, down towards zero
        start = max(1, round(NO_RD_ORG_2023 * share))
        left = 0 if pace[town] >= 1.0 else max(1, round(start * rng.uniform(0.1, 0.4)))
        for m in range(1, 13):
            now = round(start - (start - left) * m / 12)
            out[(town, "ZERO_RD_ORG", month_key(2024, m))] = (float(now), None)
    for year, value in RD_GDP.items():
        out[("TJJ", "RD_GDP", month_key(year, 12))] = (value, None)
    # a county reporting an indicator itself sends the sum of what its towns would have
    for ind in catalog.indicators.values():
        reporters = {u.code for u in catalog.reporting_units(ind)}
        for county in reporters - set(towns):
            for (unit, code, period), (amount, running) in list(out.items()):
                if code != ind.code or catalog.parent_of(unit) != county:
                    continue
                before = out.get((county, code, period), (0.0, 0.0))
                out[(county, code, period)] = (round(before[0] + amount, 2),
                                               round(before[1] + running, 2))
    return out


def _year_total(figures: dict, unit: str, code: str, year: int) -> float:
    last = max(m for (u, c, p) in figures if u == unit and c == code and p.startswith(str(year))
               for m in [int(p[5:])])
    value, running = figures[(unit, code, month_key(year, last))]
    return running if running is not None else value


def target_rows(catalog: Catalog, figures: dict, year: int, seed: int) -> list[dict]:
    """The year's target list: towns' targets near what they will do, the city's written with
    ≥ / 以上 / 力争, counties left to the sum of their towns where the figure adds up."""
    rng = random.Random(seed * 31 + year)
    towns = _towns(catalog)
    counties = [u.code for u in catalog.units.values() if u.kind == "county"]
    rows: list[dict] = []
    for code in FLOWS_2023:
        ind = catalog.indicators[code]
        reporters = {u.code for u in catalog.reporting_units(ind)}
        city, city_base, listed = 0.0, 0.0, {}
        for town in towns:
            # 2023 targets from the plan's estimate; 2024 ones from 2023's result plus growth
            base = _year_total(figures, town, code, 2023)
            target = base * (rng.uniform(0.95, 1.08) if year == 2023 else rng.uniform(1.06, 1.14))
            target = round(target) if catalog.is_count(ind) else round(target, 2)
            city, city_base = city + target, city_base + base
            # a county reporting the figure itself is given its towns' targets as its own
            unit = town if town in reporters else catalog.parent_of(town)
            listed[unit] = round(listed.get(unit, 0) + target, 2)
        rows += [{"indicator": code, "unit": u, "target": t} for u, t in listed.items()]
        city = round(city) if catalog.is_count(ind) else round(city, 1)
        text = {"TECH_CONTRACT": f"≥{city:g}，力争{round(city * 1.1, 1):g}",
                "PATENT": f"{city:g}件以上", "TECH_SME": f"不少于{city:g}家"}.get(code, city)
        if code == "TALENT" and year > YEARS[0]:  # against 2023's figure, caught up in 2024
            text = f"比上年增长{round((city / city_base - 1) * 100)}%以上"
        rows.append({"indicator": code, "unit": DISTRICT, "target": text})
    # high-tech enterprises: the first year's baseline comes from the list (no 2022 figures)
    city_base, city_target = 0, 0
    for town in towns:
        base = figures[(town, "HT_ENT", month_key(year - 1, 12))][0] if year > YEARS[0] \
            else round(figures[(town, "HT_ENT", month_key(year, 1))][0])
        target = round(base * rng.uniform(1.08, 1.14))
        city_base, city_target = city_base + base, city_target + target
        rows.append({"indicator": "HT_ENT", "unit": town, "target": f"≥{target}",
                     "baseline": base if year == YEARS[0] else None})
    gain = round(city_target - city_base)  # 2024's written as the gain on 2023's year-end count
    rows.append({"indicator": "HT_ENT", "unit": DISTRICT,
                 "target": f"{city_target}家以上" if year == YEARS[0]
                 else f"新增{gain}家以上，力争新增{round(gain * 1.2)}家",
                 "baseline": city_base if year == YEARS[0] else None})
    # rates: every level has its own target (a rate cannot be summed)
    share_targets = {}
    for unit in [*towns, *counties, DISTRICT]:
        below = [t for t in towns if t == unit or t in catalog.descendants(unit)]
        ht = sum(_year_total(figures, t, "HT_OUTPUT", 2023) for t in below)
        ind_out = sum(_year_total(figures, t, "IND_OUTPUT", 2023) for t in below)
        share = ht / ind_out * 100
        share_targets[unit] = round(share + (0.5 if year == 2023 else 1.5), 1)
        rows.append({"indicator": "HT_SHARE", "unit": unit,
                     "target": f"≥{share_targets[unit]:g}%",
                     "baseline": round(share - 0.5, 1) if year == YEARS[0] else None})
        if year > YEARS[0]:
            rows.append({"indicator": "RD_GROWTH", "unit": unit, "target": "≥10%"})
    if year > YEARS[0]:
        # 两清零: every level down to zero by December, from last year's count (first reported
        # this year, so the list's 上年基数 is the baseline)
        for unit in [*towns, *counties, DISTRICT]:
            below = [t for t in towns if t == unit or t in catalog.descendants(unit)]
            start = sum(figures[(t, "ZERO_RD_ORG", month_key(year, 1))][0] for t in below)
            rows.append({"indicator": "ZERO_RD_ORG", "unit": unit, "target": "清零",
                         "baseline": start + len(below) // 3})
    rows.append({"indicator": "RD_GDP", "unit": DISTRICT, "target": f"{RD_GDP[year] + 0.05:.2f}%"})
    return rows


def write_inbox(inbox: Path, catalog: Catalog, figures: dict) -> int:
    count = 0
    for unit in [u.code for u in catalog.submitting_units()]:
        # 2023: the region's first catch-up workbook per unit, all twelve months in one file
        rows = []
        for m in range(1, 13):
            for row in due_rows(catalog, unit, month_key(2023, m)):
                if (value := figures.get((unit, row.indicator.code, row.period))) is not None:
                    rows.append(SubmissionRow(row.indicator, row.period, *value,
                                              note="历史数据补录"))
        if rows:
            path = inbox / f"2023_{unit}_历史数据补录.xlsx"
            write_submission(path, catalog, unit, "2023-12", rows, protect=False)
            wb = load_workbook(path)
            wb["填报"]["A1"] = f"{catalog.unit_name(unit)} 2023年1—12月 科技创新主要指标（历史数据补录）"
            save_workbook(wb, path)
            count += 1
        for m in range(1, 13):
            period = month_key(2024, m)
            rows = [SubmissionRow(r.indicator, r.period, *figures[(unit, r.indicator.code, r.period)])
                    for r in due_rows(catalog, unit, period)
                    if (unit, r.indicator.code, r.period) in figures]
            if rows:
                write_submission(inbox / f"{period}_{unit}.xlsx", catalog, unit, period, rows)
                count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, default=HERE,
                        help="folder to write plans/ and inbox/ into (the catalog is copied)")
    args = parser.parse_args()
    catalog = load_catalog(HERE / "catalog")
    out = args.out.resolve()
    if out != HERE:
        shutil.copytree(HERE / "catalog", out / "catalog", dirs_exist_ok=True)
    for folder in ("plans", "inbox"):
        shutil.rmtree(out / folder, ignore_errors=True)
    figures = make_figures(catalog, args.seed)
    for year in YEARS:
        write_target_list(out / "plans" / str(year) / f"{year}年度目标清单.xlsx", catalog, year,
                          target_rows(catalog, figures, year, args.seed))
    count = write_inbox(out / "inbox", catalog, figures)
    print(f"{count} workbooks and {len(YEARS)} target lists in {out}")


if __name__ == "__main__":
    main()
