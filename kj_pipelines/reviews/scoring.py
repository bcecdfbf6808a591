"""季晾晒、年考评: each unit's score by the rules in ``catalog/scoring.yaml``, with every rule's
points and the figures behind them (``mart.score_items``), its band, rank and review.

The window is the year to the scored month: a quarter's ranking reads the year to the quarter's
last month (季晾晒 shows where a unit stands in its year), the annual evaluation reads December.

- 指标完成: for each indicator a unit answers for, its completion of the annual target over the
  share the back-scheduled plan wanted by now, capped; grouped by action and weighted. A missing
  figure counts 0. Territorial units (towns, parks, counties) are judged on their own rows;
  departments on the top's figures of the indicators they are responsible for.
- 任务节点: milestones of the key tasks and major projects the unit leads, due by the window's end
  or already done: the share done on time.
- 重大项目: investment completed over planned, capped, averaged over the projects it leads.
- 问题销号: problems it handles, due or resolved: the share the raising town confirmed closed.
- 督办落实: supervision items on it, due or closed: the share closed (the cause removed or the
  feedback accepted).
- Bonuses: landmark results recognised in the window (capped). Deductions: months whose workbook
  never came, and months whose first workbook came after the deadline (each capped).

A part with nothing in it for a unit is not applicable: the other parts' weights are scaled up to
100. The item rows of a unit add up to its score. Plain Python over frames read by the caller.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd

from kj_pipelines.catalog.model import DEPARTMENT, DISTRICT, PART_NAMES, Catalog, ScoringRules
from kj_pipelines.core.periods import TIMEZONE, deadline, month_end, parse_month
from kj_pipelines.core.workdays import effective_due
from kj_pipelines.worklists.ledger import CONFIRMED

SCORE_COLUMNS = ["period", "unit", "score", "rank", "band", "indicators", "red", "yellow", "grey",
                 "peer_group", "month", "bonus", "deduction", "review"]
ITEM_COLUMNS = ["period", "unit", "seq", "part", "item", "item_name", "figure", "ratio",
                "points", "max_points"]  # seq: the item's place in the unit's breakdown
NO_DATA = "无数据"


@dataclass
class ScoreInputs:
    """What a ranking is computed from, as the warehouse holds it at the window's last month."""

    label: str  # the ranking's period: YYYY-Qn or YYYY
    month: str  # the window's last month, YYYY-MM
    progress: pd.DataFrame  # mart.indicator_progress of the month, its own figures only
    milestones: pd.DataFrame  # task milestones (due, done_on, late, lead_unit) as of the month
    project_milestones: pd.DataFrame  # same, with the project's lead_unit
    projects: pd.DataFrame  # mart.projects of the month
    problems: pd.DataFrame  # mart.problems of the month
    supervision: pd.DataFrame  # mart.supervision of the month
    # unit, period, first_submitted (when each month's first workbook reached the inbox) and
    # catch_up (loaded as 补录: never late)
    submissions: pd.DataFrame


def _pct(x: float) -> str:
    return f"{x:.1f}%"


def _ratio(row, rules: ScoringRules, cap: float) -> tuple[float, str]:
    if row.status == "grey" or pd.isna(row.actual):
        return 0.0, "缺报，按0计"
    if pd.notna(row.planned_share) and row.planned_share > 0 and pd.notna(row.completion):
        ratio = min(max(row.completion / row.planned_share, 0.0), cap)
        return ratio, f"完成{_pct(row.completion)}，序时{_pct(row.planned_share)}"
    points = rules.status_points.get(row.status, 0.0)
    return points / 100, f"序时进度为0，按状态计{points:g}分"


def _indicator_items(rows: pd.DataFrame, catalog: Catalog, part_max: float) -> list[dict]:
    rules = catalog.scoring
    cap = rules.parts["indicators"].cap
    rows = rows[rows["indicator"].isin(catalog.indicators)]
    groups = rows["indicator"].map(lambda c: catalog.indicators[c].action)
    weight = {g: rules.group_weights.get(g, 1.0) if rules.group_weights else 1.0
              for g in groups.unique()}
    total = sum(weight.values())
    if total <= 0:
        return []
    items = []
    order = {code: i for i, code in enumerate(catalog.indicators)}
    rows = rows.assign(_o=rows["indicator"].map(order)).sort_values("_o")
    for group in [a for a in catalog.actions if a in weight]:  # the catalog's order
        members = rows[groups.loc[rows.index] == group]
        share = part_max * weight[group] / total / len(members)
        for row in members.itertuples(index=False):
            ratio, figure = _ratio(row, rules, cap)
            items.append({"part": "indicators", "item": row.indicator,
                          "item_name": catalog.indicators[row.indicator].name, "figure": figure,
                          "ratio": ratio, "points": share * ratio, "max_points": share})
    excess = sum(i["points"] for i in items) - part_max
    if excess > 1e-9:
        items.append({"part": "indicators", "item": "CAP", "item_name": "本部分封顶",
                      "figure": f"超出满分{excess:.2f}分", "ratio": None, "points": -excess,
                      "max_points": 0.0})
    return items


def _flag(column: pd.Series) -> pd.Series:
    """A nullable yes/no column as booleans (unknown: no)."""
    return column.map(lambda v: bool(v) if pd.notna(v) else False).astype(bool)


def _rate_item(part: str, name: str, done: int, total: int, figure: str,
               part_max: float) -> dict:
    ratio = done / total
    return {"part": part, "item": part.upper(), "item_name": name, "figure": figure,
            "ratio": ratio, "points": part_max * ratio, "max_points": part_max}


def _counted(frame: pd.DataFrame, end: dt.date, done_column: str) -> pd.DataFrame:
    """Items due by ``end`` or already done: the ones a rate may fairly count."""
    if frame.empty:
        return frame
    due = pd.to_datetime(frame["due"]).dt.date
    return frame[(due <= end) | frame[done_column].notna()]


def _part_items(part: str, unit: str, inputs: ScoreInputs, end: dt.date,
                part_max: float, cap: float) -> list[dict]:
    if part == "milestones":
        both = pd.concat([inputs.milestones.assign(kind="任务"),
                          inputs.project_milestones.assign(kind="项目")], ignore_index=True)
        mine = _counted(both[both["lead_unit"] == unit], end, "done_on")
        if mine.empty:
            return []
        on_time = int((mine["done_on"].notna() & ~_flag(mine["late"])).sum())
        done = int(mine["done_on"].notna().sum())
        return [_rate_item(part, "节点按时完成率", on_time, len(mine),
                           f"到期或已完成{len(mine)}个，按时完成{on_time}个，"
                           f"逾期完成{done - on_time}个", part_max)]
    if part == "projects":
        mine = inputs.projects[(inputs.projects["lead_unit"] == unit)
                               & (inputs.projects["planned_share"] > 0)]
        if mine.empty:
            return []
        ratios = (mine["completion"] / mine["planned_share"]).clip(0, cap)
        ratio = float(ratios.mean())
        return [{"part": part, "item": "PROJECTS", "item_name": "投资完成率÷序时进度",
                 "figure": f"{len(mine)}个项目，平均{ratio * 100:.1f}%", "ratio": ratio,
                 "points": part_max * ratio, "max_points": part_max}]
    if part == "problems":
        mine = _counted(inputs.problems[inputs.problems["handler"] == unit], end, "resolved_on")
        if mine.empty:
            return []
        closed = mine["state"] == CONFIRMED
        on_time = int((closed & _flag(mine["on_time"])).sum())
        return [_rate_item(part, "问题销号率", int(closed.sum()), len(mine),
                           f"到期或已办结{len(mine)}件，确认销号{int(closed.sum())}件"
                           f"（按期{on_time}件）", part_max)]
    mine = _counted(inputs.supervision[inputs.supervision["unit"] == unit], end, "closed_on")
    if mine.empty:
        return []
    closed = int((mine["status"] == "closed").sum())
    return [_rate_item(part, "督办销号率", closed, len(mine),
                       f"到期或已销号{len(mine)}项，已销号{closed}项", part_max)]


def expected_months(catalog: Catalog, unit: str, month: str) -> list[str]:
    """The months of the window a unit owed a workbook for: those in which one of the
    indicators it fills in is due (annual figures follow the statistics office's release
    and are left out), from the catalog's first period on."""
    year, last = parse_month(month)
    due: set[int] = set()
    for ind in catalog.indicators_for_unit(unit):
        if ind.frequency != "annual":
            due.update(ind.due_months())
    return [p for m in sorted(due) if m <= last
            and (p := f"{year}-{m:02d}") >= catalog.first_period]


def _submission_items(unit: str, inputs: ScoreInputs, catalog: Catalog) -> list[dict]:
    rules = catalog.scoring
    owed = expected_months(catalog, unit, inputs.month)
    if not owed:
        return []
    mine = inputs.submissions[inputs.submissions["unit"] == unit]
    arrived = pd.to_datetime(mine["first_submitted"])
    if arrived.dt.tz is not None:  # the day it reached the inbox, in the bureau's time zone
        arrived = arrived.dt.tz_convert(TIMEZONE)
    first = dict(zip(mine["period"], arrived, strict=True))
    # history loaded on purpose (补录) is never late
    catch_up = set(mine["period"][mine["catch_up"].fillna(False).astype(bool)]) \
        if "catch_up" in mine.columns else set()
    missing = [p for p in owed if p not in first]
    late = []
    for p in owed:
        if p in first and p not in catch_up:
            due = effective_due(deadline(p, 0, catalog.submission_deadline_day),
                                catalog.holidays)
            if first[p].date() > due:
                late.append(p)
    items = []
    for kind, months, per, cap, name in (
            ("missing", missing, rules.missing_points, rules.missing_cap, "应报未报"),
            ("late", late, rules.late_points, rules.late_cap, "逾期报送")):
        if months and per > 0:
            points = min(per * len(months), cap)
            items.append({"part": "deduction", "item": kind.upper(), "item_name": name,
                          "figure": f"{len(months)}个月（{'、'.join(months)}），每月扣{per:g}分，"
                                    f"封顶{cap:g}分",
                          "ratio": None, "points": -points, "max_points": 0.0})
    return items


def _landmark_items(unit: str, catalog: Catalog, end: dt.date) -> list[dict]:
    rules = catalog.scoring
    mine = [lm for lm in rules.landmarks
            if lm.unit == unit and lm.date.year == end.year and lm.date <= end]
    items = [{"part": "bonus", "item": "LANDMARK", "item_name": "标志性成果",
              "figure": f"{lm.date:%Y-%m-%d} {lm.title}", "ratio": None,
              "points": lm.points, "max_points": lm.points}
             for lm in sorted(mine, key=lambda lm: (lm.date, lm.title))]
    excess = sum(lm.points for lm in mine) - rules.landmark_cap
    if excess > 1e-9:
        items.append({"part": "bonus", "item": "CAP", "item_name": "加分封顶",
                      "figure": f"加分合计封顶{rules.landmark_cap:g}分", "ratio": None,
                      "points": -excess, "max_points": 0.0})
    return items


def scored_units(catalog: Catalog) -> list[str]:
    """Every unit below the top that a peer group ranks: towns, parks, counties, departments."""
    return [code for code in catalog.units if code != DISTRICT]


def _own_rows(progress: pd.DataFrame, catalog: Catalog, unit: str) -> pd.DataFrame:
    """The unit's judged figures: a target not yet due (pending) and a figure without a target
    (no status) are not scored."""
    progress = progress[progress["status"].notna() & (progress["status"] != "pending")]
    if catalog.units[unit].kind == DEPARTMENT:
        mine = progress[(progress["unit"] == DISTRICT) & progress["indicator"].map(
            lambda c: c in catalog.indicators and catalog.indicators[c].department == unit)]
        return mine
    return progress[progress["unit"] == unit]


def score_units(inputs: ScoreInputs, catalog: Catalog) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores (SCORE_COLUMNS) and their items (ITEM_COLUMNS) for every scored unit."""
    rules = catalog.scoring
    end = month_end(inputs.month)
    scores, all_items = [], []
    for unit in scored_units(catalog):
        rows = _own_rows(inputs.progress, catalog, unit)
        applicable: dict[str, list[dict]] = {}
        for part, spec in rules.parts.items():
            if spec.weight <= 0:
                continue
            found = (_indicator_items(rows, catalog, spec.weight) if part == "indicators"
                     else _part_items(part, unit, inputs, end, spec.weight, spec.cap))
            if found:
                applicable[part] = found
        weights = sum(rules.parts[p].weight for p in applicable)
        items = []
        for found in applicable.values():
            scale = 100.0 / weights
            for item in found:  # scale the part to its share of the applicable weights
                item.update(points=item["points"] * scale,
                            max_points=item["max_points"] * scale)
            items.extend(found)
        extras = _landmark_items(unit, catalog, end) + \
            _submission_items(unit, inputs, catalog)
        items.extend(extras)
        for item, cents in zip(items, _cents(i["points"] for i in items), strict=True):
            item["points"] = cents / 100  # rounded so that the items add up to the score
            item["max_points"] = round(float(item["max_points"]), 2)
        status = rows["status"].value_counts()
        score = max(round(sum(i["points"] for i in items), 2), 0.0) if applicable else None
        scores.append({
            "unit": unit, "score": score,
            "indicators": len(rows), "red": int(status.get("red", 0)),
            "yellow": int(status.get("yellow", 0)), "grey": int(status.get("grey", 0)),
            "bonus": round(sum(i["points"] for i in extras if i["part"] == "bonus"), 2),
            "deduction": round(-sum(i["points"] for i in extras
                                    if i["part"] == "deduction"), 2)})
        all_items.extend({"unit": unit, "seq": n, **i} for n, i in enumerate(items, start=1))
    frame = pd.DataFrame(scores)
    frame["peer_group"] = [catalog.peer_group(u) for u in frame["unit"]]
    frame["rank"] = frame.groupby("peer_group")["score"].rank(
        ascending=False, method="min").astype("Int64")
    frame["band"] = [rules.band(s) if pd.notna(s) else NO_DATA for s in frame["score"]]
    frame["review"] = [_review(rules, r) for r in frame.itertuples(index=False)]
    frame["period"], frame["month"] = inputs.label, inputs.month
    frame = canonical_scores(frame, catalog)[SCORE_COLUMNS]
    items = pd.DataFrame(all_items, columns=[c for c in ITEM_COLUMNS if c != "period"])
    items.insert(0, "period", inputs.label)
    return frame.reset_index(drop=True), items


def canonical_scores(scores: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Peer groups in the catalog's order, then rank, then unit: whatever order rows came in."""
    groups = {g: i for i, g in enumerate(dict.fromkeys(catalog.peer_group(u)
                                                        for u in catalog.units))}
    return scores.assign(_g=scores["peer_group"].map(groups)).sort_values(
        ["_g", "rank", "unit"], na_position="last").drop(columns="_g")


def _cents(points) -> list[int]:
    """Points in hundredths, rounded so that they add up to the rounded total (largest
    remainder): a unit adding up its breakdown gets exactly its score."""
    exact = [float(p) * 100 for p in points]
    floors = [math.floor(e) for e in exact]
    short = round(sum(exact)) - sum(floors)
    by_remainder = sorted(range(len(exact)), key=lambda i: (floors[i] - exact[i], i))
    for i in by_remainder[:short]:
        floors[i] += 1
    return floors


def _review(rules: ScoringRules, row) -> str:
    if row.band in rules.talk_bands:
        return rules.talk_label
    if pd.notna(row.rank) and row.rank <= rules.share_top and row.band == rules.bands[0][0]:
        return rules.share_label
    return ""


def part_label(part: str) -> str:
    return PART_NAMES.get(part, {"bonus": "加分", "deduction": "扣分"}.get(part, part))
