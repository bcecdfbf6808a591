"""Which reviews a month can run: the partition key of each review job that reads a month's
figures, and why a review is skipped in a region's first year (a period before the catalog's
``first_period``, a year without a target list)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kj_pipelines.catalog.model import Catalog
from kj_pipelines.core.periods import (
    add_months,
    first_monday,
    last_complete_quarter,
    parse_month,
    review_monday,
)
from kj_pipelines.intake.targets import read_target_lists

JOBS = ("monthly_review", "weekly_consultation", "quarterly_analysis", "annual_evaluation")


@dataclass
class ReviewKeys:
    """The keys that can run (job → key; ``history_from``: the first month to backfill for the
    charts and the last complete year's comparison; ``history``: that backfill's range up to the
    month before), and the reviews skipped, with why."""

    keys: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def target_years(plans_dir: Path, catalog: Catalog, years: set[int]) -> set[int]:
    """Those of ``years`` whose target list gives at least one target."""
    targets = read_target_lists(plans_dir, catalog, years).targets
    return {int(y) for y in targets["year"].unique()} if not targets.empty else set()


def quarter_skip(key: str, first_period: str, has_targets: Callable[[int], bool]) -> str | None:
    """Why the quarter starting at ``key`` cannot be analysed (None: it can)."""
    if add_months(key, 2) < first_period:
        return f"{_quarter_label(key)}在监测起始月份 {first_period} 之前，不做季分析"
    if not has_targets(parse_month(key)[0]):
        return f"{parse_month(key)[0]}年没有年度目标清单，{_quarter_label(key)}无从分析排名"
    return None


def year_skip(year: int, first_period: str, has_targets: Callable[[int], bool]) -> str | None:
    """Why ``year`` cannot be evaluated (None: it can)."""
    if f"{year:04d}-12" < first_period:
        return f"{year}年在监测起始月份 {first_period} 之前，不做年考评"
    if not has_targets(year):
        return f"{year}年没有年度目标清单（plans/{year}/），无从考评"
    return None


def week_skip(monday: dt.date, first_period: str) -> str | None:
    if monday < first_monday(first_period):
        return f"{monday.isoformat()} 这一周在监测起始月份 {first_period} 之前，不做周会商"
    return None


def review_keys(month: str, catalog: Catalog, today: dt.date,
                has_targets: Callable[[int], bool]) -> ReviewKeys:
    """The review keys that read ``month``'s figures (the weekly one no later than the last
    complete week) and can run; the others skipped with their reason."""
    first = catalog.first_period
    out = ReviewKeys()
    if month < first:
        out.skipped.update({job: f"{month} 在监测起始月份 {first} 之前" for job in JOBS})
        return out
    year = parse_month(month)[0]
    evaluated = year if month.endswith("-12") else year - 1
    last_week = today - dt.timedelta(days=today.weekday() + 7)
    out.keys["monthly_review"] = month
    monday = min(review_monday(month, catalog.submission_deadline_day), last_week)
    why = week_skip(monday, first)
    _keep(out, "weekly_consultation", monday.isoformat(), why)
    quarter = last_complete_quarter(month)
    _keep(out, "quarterly_analysis", quarter, quarter_skip(quarter, first, has_targets))
    _keep(out, "annual_evaluation", str(evaluated), year_skip(evaluated, first, has_targets))
    out.keys["history_from"] = max(f"{evaluated - 1}-12", first)
    before = add_months(month, -1)
    _keep(out, "history", f"{out.keys['history_from']}...{before}",
          None if out.keys["history_from"] <= before else
          f"{month} 是监测的第一个月，没有更早的月份可回填")
    return out


def _keep(out: ReviewKeys, job: str, key: str, why: str | None) -> None:
    if why is None:
        out.keys[job] = key
    else:
        out.skipped[job] = why


def _quarter_label(key: str) -> str:
    year, month = parse_month(key)
    return f"{year}年第{(month - 1) // 3 + 1}季度"

