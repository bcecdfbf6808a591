"""预判预警: which behind-schedule warnings a month's progress raises.

A unit raises a warning when it turns yellow or red, when it worsens from yellow to red, and
``escalated`` (a candidate for talks, 约谈) when it has stayed red for the configured number of
months. A missing submission after the deadline raises a reminder to the unit. Each warning has
an id made of (kind, period, indicator, unit, level), so it is raised once, whatever reruns.

``projected_miss`` warns before the plan line does: the unit's projected year end
(:mod:`projection`), confirmed by its fast and slow windows, falls short of the target, whatever
today's status (green included). Its id names the year and the band of the shortfall (0-10
points, 10-20…): a projected miss that clears and comes back is not sent again unless it falls
into a worse band. Every message ends with what the unit is to do next.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kj_pipelines.catalog.model import Catalog
from kj_pipelines.core.periods import deadline, parse_month
from kj_pipelines.indicators.progress import red_streak
from kj_pipelines.indicators.projection import severity_step

LEVEL_LABEL = {"yellow": "黄色预警", "red": "红色预警", "escalated": "升级预警（建议约谈）",
               "projected_miss": "预判预警（预计年末完不成）", "held": "数据暂扣（请核实）"}


@dataclass(frozen=True)
class Alert:
    warning_id: str
    kind: str  # behind | missing | projected | held
    period: str
    indicator: str
    unit: str
    level: str
    title: str
    message: str


def previous_status(history: pd.DataFrame, indicator: str, unit: str, period: str) -> str | None:
    """Status at the indicator's previous evaluated period (skipping months it is not due)."""
    rows = history[(history["indicator"] == indicator) & (history["unit"] == unit)
                   & (history["period"] < period)]
    if rows.empty:
        return None
    return str(rows.sort_values("period")["status"].iloc[-1])


def decide(progress: pd.DataFrame, history: pd.DataFrame, catalog: Catalog, period: str,
           escalate_after: int, projections: pd.DataFrame | None = None,
           sent_bands: dict[tuple[int, str, str], int] | None = None,
           held: pd.DataFrame | None = None) -> list[Alert]:
    """Warnings raised by ``period``'s progress; ``history`` holds progress of earlier months
    (and may include ``period`` itself). ``projections``: the period's rows of
    mart.indicator_projection; ``sent_bands``: the worst band of each (year, indicator, unit)
    whose projected miss was raised before; ``held``: the figures held back (core.held_figures)
    of the period: the unit is told what looks wrong and what to do, not reminded to report."""
    history = pd.concat([history[history["period"] != period], progress], ignore_index=True)
    out: list[Alert] = []
    held = held if held is not None else pd.DataFrame(columns=["period", "indicator", "unit"])
    held = held[held["period"] == period]
    withheld = set(zip(held["indicator"], held["unit"], strict=True))
    out += [_held(row, catalog) for row in held.itertuples(index=False)]
    statuses = {(r.indicator, r.unit): r.status
                for r in progress[progress["period"] == period].itertuples(index=False)}
    for row in progress[progress["period"] == period].itertuples(index=False):
        ind = catalog.indicators.get(row.indicator)
        if ind is not None and ind.warn_by == "projection" and row.status != "grey":
            continue  # a lumpy small count: judged by its projection, not month by month
        if row.status == "grey":
            # a total (county, top) shown grey for being incomplete is not a missing figure
            missing = getattr(row, "missing_units", 0)
            derived = catalog.indicators[row.indicator].source == "derived" \
                if row.indicator in catalog.indicators else False
            # a derived rate lacks a figure because an input does: that input's reminder goes out
            if not (missing and not pd.isna(missing)) and not derived \
                    and (row.indicator, row.unit) not in withheld:
                out.append(_reminder(row, catalog))
            continue
        if row.status not in ("yellow", "red"):
            continue
        before = previous_status(history, row.indicator, row.unit, period)
        level = None
        if row.status == "red":
            streak = red_streak(history, row.indicator, row.unit, period)
            if streak >= escalate_after and (streak == escalate_after or before != "red"):
                level = "escalated"
            elif before != "red":
                level = "red"
        elif before not in ("yellow", "red"):
            level = "yellow"
        if level:
            streak = red_streak(history, row.indicator, row.unit, period)
            out.append(_behind(row, catalog, level, streak))
    if projections is not None and not projections.empty:
        out += projected_misses(projections[projections["period"] == period], statuses,
                                catalog, sent_bands or {})
    return out


def projected_misses(projections: pd.DataFrame, statuses: dict[tuple[str, str], str],
                     catalog: Catalog, sent_bands: dict[tuple[int, str, str], int]
                     ) -> list[Alert]:
    """预判预警 for the confirmed projections of one month: a unit whose year is heading for a
    miss while it is not done (nor grey: its figure is missing), once per band of shortfall."""
    out = []
    for row in projections[projections["confirmed"].astype(bool)].itertuples(index=False):
        if int(row.month) >= 12 or statuses.get((row.indicator, row.unit)) in ("done", "grey"):
            continue
        band = severity_step(float(row.shortfall))
        key = (int(row.year), row.indicator, row.unit)
        if key in sent_bands and band <= sent_bands[key]:
            continue  # raised before at this band or a worse one: not sent again
        out.append(_projected(row, catalog, statuses.get((row.indicator, row.unit)), band))
    return out


def _names(row, catalog: Catalog) -> tuple[str, str, str, str]:
    ind = catalog.indicators.get(row.indicator)
    unit = catalog.units.get(row.unit)
    dept = catalog.units.get(ind.department) if ind else None
    year, month = parse_month(row.period)
    return (ind.name if ind else row.indicator, unit.name if unit else row.unit,
            dept.name if dept else "", f"{year}年{month}月")


def _behind(row, catalog: Catalog, level: str, streak: int) -> Alert:
    ind_name, unit_name, dept, when = _names(row, catalog)
    measure = catalog.indicators[row.indicator].measure if row.indicator in catalog.indicators else ""
    title = f"【{LEVEL_LABEL[level]}】{when} {ind_name}：{unit_name}落后于倒排计划"
    lines = [
        f"**{unit_name}** 的 **{ind_name}** {when}进度落后于倒排工期计划：",
        "",
        f"- 实际：{row.actual:,.2f} {measure}；按计划应达：{row.planned:,.2f} {measure}"
        f"（年度目标 {row.target:,.2f} {measure}）",
        f"- 完成率 {row.completion:.1f}%，计划进度 {row.planned_share:.1f}%，"
        f"落后 {abs(row.gap):.1f} 个百分点",
        f"- 责任部门：{dept}",
    ]
    if level == "escalated":
        lines.append(f"- 已连续 {streak} 个月红灯，建议列入季度分析会约谈名单")
    lines += ["", "请责任单位于下次周会商前说明原因并提出赶超措施。"]
    return Alert(f"behind:{row.period}:{row.indicator}:{row.unit}:{level}", "behind",
                   row.period, row.indicator, row.unit, level, title, "\n".join(lines))


def _reminder(row, catalog: Catalog) -> Alert:
    ind_name, unit_name, dept, when = _names(row, catalog)
    ind = catalog.indicators[row.indicator]
    due = deadline(row.period, ind.release_lag, catalog.submission_deadline_day)
    title = f"【催报】{unit_name} {when} {ind_name} 未按期报送"
    body = (f"**{unit_name}**：{when} **{ind_name}** 应于 {due:%Y年%m月%d日} 前报送，至今未收到。\n\n"
            f"请尽快按月度填报表补报（可用 `kj template` 生成空白表）。责任部门：{dept}。")
    return Alert(f"missing:{row.period}:{row.indicator}:{row.unit}:yellow", "missing",
                   row.period, row.indicator, row.unit, "yellow", title, body)


def _held(row, catalog: Catalog) -> Alert:
    """A figure held back: what looks wrong, and what the unit is to do. Its id names the value,
    so a new figure that is held again is told again."""
    ind_name, unit_name, dept, when = _names(row, catalog)
    measure = catalog.indicators[row.indicator].measure \
        if row.indicator in catalog.indicators else ""
    title = f"【{LEVEL_LABEL['held']}】{unit_name} {when} {ind_name}"
    body = (f"**{unit_name}** 报送的 {when} **{ind_name}** 为 {row.value:,.2f} {measure}，"
            f"经校验暂不纳入统计：{row.reason}。\n\n{row.advice}。责任部门：{dept}。")
    return Alert(f"held:{row.period}:{row.indicator}:{row.unit}:{row.value:.6g}", "held",
                   row.period, row.indicator, row.unit, "held", title, body)


def _projected(row, catalog: Catalog, status: str | None, band: int) -> Alert:
    ind_name, unit_name, dept, when = _names(row, catalog)
    ind = catalog.indicators.get(row.indicator)
    measure = ind.measure if ind else ""
    rate = ind is not None and ind.kind in ("ratio", "growth")
    months_left = 12 - int(row.month)
    completion = float(row.projected_completion)
    title = (f"【{LEVEL_LABEL['projected_miss']}】{when} {ind_name}：{unit_name}"
             f"预计年末完成{completion:.1f}%")
    lines = [
        f"**{unit_name}** 的 **{ind_name}** 按目前走势预计年末完不成目标：",
        "",
        f"- 截至{when}实际 {row.actual:,.2f} {measure}，年度目标 {row.target:,.2f} {measure}",
        f"- 按{row.basis}预计年末 {row.projected_seasonal:,.2f} {measure}"
        f"（往年规律区间 {row.band_low:,.2f}–{row.band_high:,.2f}）；"
        f"按近三个月进度预计年末 {row.projected_pace:,.2f} {measure}",
        f"- 取较不利的预计 {row.projected:,.2f} {measure}，相当于目标的 {completion:.1f}%，"
        f"差 {max(float(row.shortfall), 0):.1f} 个百分点",
    ]
    if rate:
        lines.append(f"- 还需在剩余{months_left}个月内将{ind_name}提高到 {row.target:,.2f} {measure}")
    else:
        lines.append(f"- 还需月均完成 {max(float(row.needed_monthly), 0):,.2f} {measure}"
                     f"（剩余{months_left}个月）")
    if status in ("green", "yellow", "red"):
        label = {"green": "🟢 绿（尚在倒排计划范围内）", "yellow": "🟡 黄", "red": "🔴 红"}[status]
        lines.append(f"- 当前进度状态：{label}")
    lines += [f"- 责任部门：{dept}", "",
              f"请责任单位于下次周会商前提出赶超措施，明确剩余{months_left}个月的月度进度安排；"
              "责任部门跟踪督办。"]
    return Alert(f"projected:{int(row.year)}:{row.indicator}:{row.unit}:{band}", "projected",
                   row.period, row.indicator, row.unit, "projected_miss", title, "\n".join(lines))
