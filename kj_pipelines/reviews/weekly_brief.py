"""周会商 brief: what changed in the week before the Monday, and what falls due in the two weeks
after it. One Excel workbook the meeting reads.

Sheets: 本周要点 (the counts and the items that need a decision), 新发预警 (warnings raised last
week), 节点 (milestones done last week, due in the next two weeks, overdue), 问题 (opened, closed,
overdue), 督办 (items due in the next two weeks or overdue), 缺报 (units whose workbook for the
last month due is missing), 红黄灯 (the watch list of the month reviewed).

Everything is judged by dates in the data (done_on, raised_on, closed_on, due, the workbook's
submitted time), so a past week regenerates the same brief.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kj_pipelines.catalog.model import Catalog
from kj_pipelines.core.periods import add_months, deadline, month_key
from kj_pipelines.core.workdays import effective_due
from kj_pipelines.excel.printing import Column, write_table
from kj_pipelines.excel.writing import save_workbook
from kj_pipelines.indicators.status import RULE_NOTE, status_label, status_rules
from kj_pipelines.worklists import ledger as lg
from kj_pipelines.worklists.status import LIST_STATUS_LABEL
from kj_pipelines.worklists.tables import problems_table, region, supervision_table, unit_label

# openpyxl is imported where a workbook is written: the definitions load without it

AHEAD_DAYS = 14  # "due in the next two weeks"


def brief_title(catalog: Catalog, monday: dt.date, start: dt.date, end: dt.date) -> str:
    """The consultation's week (its Monday's, the report's folder) and the week it reviews,
    each ISO week named beside its own dates: 会商 2026-W47（11月16日），回顾 2026-W46（11月09日—11月15日）."""
    return (f"{region(catalog)}科技创新工作周会商简报（{week_label(monday)}会商，{monday:%m月%d日}；"
            f"回顾{week_label(start)}，{start:%m月%d日}—{end:%m月%d日}）")


def week_label(monday: dt.date) -> str:
    """The ISO week of the Monday: 2026-10-12 → 2026-W42."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class WeekInputs:
    monday: dt.date
    warnings: pd.DataFrame  # mart.warnings raised in the week before the Monday
    milestones: pd.DataFrame  # task and project milestones of the latest list month, with kind
    problems: pd.DataFrame  # mart.problems of the latest list month
    supervision: pd.DataFrame  # mart.supervision of the latest list month
    submissions: pd.DataFrame  # unit, period of workbooks submitted before the Monday
    watchlist: pd.DataFrame  # mart.weekly_watchlist of the week
    lists_month: str  # the month the lists are as of

    @property
    def start(self) -> dt.date:
        return self.monday - dt.timedelta(days=7)

    @property
    def horizon(self) -> dt.date:
        return self.monday + dt.timedelta(days=AHEAD_DAYS)


def _before(column: pd.Series, end: dt.date) -> pd.Series:
    """True where the column holds a date before ``end`` (missing or unreadable: False)."""
    days = pd.to_datetime(column, errors="coerce").dt.normalize()
    return days.notna() & (days < pd.Timestamp(end))


def _between(column: pd.Series, start: dt.date, end: dt.date) -> pd.Series:
    return _before(column, end) & ~_before(column, start)


def milestone_rows(inputs: WeekInputs, catalog: Catalog) -> pd.DataFrame:
    """Milestones done last week, due in the next two weeks, or overdue and not done."""
    m = inputs.milestones
    done = _between(m["done_on"], inputs.start, inputs.monday)
    open_ = m["done_on"].isna()
    due_soon = open_ & _between(m["due"], inputs.monday, inputs.horizon)
    overdue = open_ & _before(m["due"], inputs.monday)
    rows = m[done | due_soon | overdue].assign(
        本周情况=["上周完成" if d else "两周内到期" if s else "逾期未完成"
              for d, s in zip(done[done | due_soon | overdue],
                              due_soon[done | due_soon | overdue], strict=True)],
        牵头单位=lambda f: [unit_label(catalog, u) for u in f["lead_unit"]],
        状态=lambda f: f["status"].map(LIST_STATUS_LABEL))
    order = {"逾期未完成": 0, "两周内到期": 1, "上周完成": 2}
    return rows.assign(_o=rows["本周情况"].map(order)).sort_values(["_o", "due", "code"]) \
        .drop(columns="_o")


def problem_rows(inputs: WeekInputs) -> pd.DataFrame:
    p = inputs.problems
    opened = _between(p["raised_on"], inputs.start, inputs.monday)
    closed = _between(p["closed_on"], inputs.start, inputs.monday)
    overdue = (p["state"] != lg.CONFIRMED) & _before(p["due"], inputs.monday)
    keep = opened | closed | overdue
    return p[keep].assign(本周情况=[
        "上周销号" if c else "上周新提出" if o else "超期未销号"
        for o, c in zip(opened[keep], closed[keep], strict=True)])


def supervision_rows(inputs: WeekInputs) -> pd.DataFrame:
    s = inputs.supervision
    open_ = s["status"] != "closed"
    keep = open_ & _before(s["due"], inputs.horizon)
    return s[keep].sort_values(["due", "item_id"])


def missing_rows(inputs: WeekInputs, catalog: Catalog) -> pd.DataFrame:
    """Units without a workbook for the latest month whose deadline passed before the Monday."""
    period = add_months(month_key(inputs.monday.year, inputs.monday.month), -1)
    if effective_due(deadline(period, 0, catalog.submission_deadline_day),
                     catalog.holidays) >= inputs.monday:
        period = add_months(period, -1)
    due = effective_due(deadline(period, 0, catalog.submission_deadline_day), catalog.holidays)
    have = set(inputs.submissions[inputs.submissions["period"] == period]["unit"])
    rows = [{"period": period, "单位": u.name, "负责人": u.official, "截止日期": due,
             "逾期天数": (inputs.monday - due).days}
            for u in catalog.submitting_units() if u.code not in have
            and period >= catalog.first_period]
    return pd.DataFrame(rows, columns=["period", "单位", "负责人", "截止日期", "逾期天数"])


def warning_rows(inputs: WeekInputs, catalog: Catalog) -> pd.DataFrame:
    w = inputs.warnings
    return w.assign(
        单位=[unit_label(catalog, u) for u in w["unit"]],
        指标=[catalog.indicators[c].name if c in catalog.indicators else "" for c in w["indicator"]],
        标题=[str(m).partition("\n\n")[0] for m in w["message"]],
        级别=w["level"].map(lambda v: {"red": "红", "yellow": "黄"}.get(v, v)))


def summary(inputs: WeekInputs, catalog: Catalog) -> list[tuple[str, object]]:
    ms, ps = milestone_rows(inputs, catalog), problem_rows(inputs)
    return [
        ("上周新发预警", len(inputs.warnings)),
        ("上周完成节点", int((ms["本周情况"] == "上周完成").sum())),
        ("两周内到期节点", int((ms["本周情况"] == "两周内到期").sum())),
        ("逾期未完成节点", int((ms["本周情况"] == "逾期未完成").sum())),
        ("上周新提出问题", int((ps["本周情况"] == "上周新提出").sum())),
        ("上周销号问题", int((ps["本周情况"] == "上周销号").sum())),
        ("超期未销号问题", int((ps["本周情况"] == "超期未销号").sum())),
        ("两周内到期或超期督办", len(supervision_rows(inputs))),
        ("缺报单位", len(missing_rows(inputs, catalog))),
        ("红黄灯及缺报事项", len(inputs.watchlist)),
    ]


def write_weekly_brief(path: Path, catalog: Catalog, inputs: WeekInputs) -> Path:
    from openpyxl import Workbook
    end = inputs.monday - dt.timedelta(days=1)
    title = brief_title(catalog, inputs.monday, inputs.start, end)
    date = str(end)
    wb = Workbook()
    points = pd.DataFrame(summary(inputs, catalog), columns=["事项", "数量"])
    write_table(wb.active, title, [Column("事项", "事项", 44), Column("数量", "数量", 12)], points,
                data_date=date, source=f"预警记录、{inputs.lists_month}清单、填报记录",
                sheet_name="本周要点")
    write_table(wb.create_sheet(), f"{title}·新发预警", [
        Column("级别", "级别", 8), Column("单位", "单位", 18), Column("指标", "指标", 32),
        Column("预警", "标题", 60), Column("所属月份", "period", 10)],
        warning_rows(inputs, catalog), data_date=date, source="预警记录",
        status_key="级别", sheet_name="新发预警")
    write_table(wb.create_sheet(), f"{title}·任务和项目节点", [
        Column("本周情况", "本周情况", 12), Column("类别", "kind", 6), Column("编号", "code", 10),
        Column("节点", "milestone", 40), Column("时限", "due", 11),
        Column("完成日期", "done_on", 11), Column("状态", "状态", 10),
        Column("牵头单位", "牵头单位", 18)],
        milestone_rows(inputs, catalog), data_date=date,
        source=f"重点任务攻坚表、重大项目实施表（{inputs.lists_month}）", status_key="状态",
        sheet_name="节点")
    problems = problems_table(problem_rows(inputs), catalog)
    write_table(wb.create_sheet(), f"{title}·问题销号", [Column("本周情况", "本周情况", 12),
                                                     *problems.columns],
                problems.frame, data_date=date, source=problems.source, status_key="state",
                sheet_name="问题")
    supervision = supervision_table(supervision_rows(inputs), catalog)
    write_table(wb.create_sheet(), f"{title}·督办到期", supervision.columns, supervision.frame,
                data_date=date, source=supervision.source, status_key="状态", sheet_name="督办")
    write_table(wb.create_sheet(), f"{title}·缺报单位", [
        Column("所属月份", "period", 10), Column("单位", "单位", 24), Column("负责人", "负责人", 28),
        Column("截止日期", "截止日期", 11), Column("逾期天数", "逾期天数", 8)],
        missing_rows(inputs, catalog), data_date=date, source="填报记录", sheet_name="缺报")
    watch = inputs.watchlist.assign(
        状态=[status_label(s, m) for s, m in zip(
            inputs.watchlist["status"], inputs.watchlist["missing_units"]
            if "missing_units" in inputs.watchlist.columns else [0] * len(inputs.watchlist),
            strict=True)],
        指标=[catalog.indicators[c].name if c in catalog.indicators else c
            for c in inputs.watchlist["indicator"]],
        单位=[catalog.level_label(u) for u in inputs.watchlist["unit"]],
        判灯规则=status_rules(catalog, inputs.watchlist["indicator"]))
    write_table(wb.create_sheet(), f"{title}·红黄灯", [
        Column("状态", "状态", 8), Column("指标", "指标", 34), Column("单位", "单位", 18),
        Column("差距(百分点)", "gap", 10, "0.0"), Column("判灯规则（差距）", "判灯规则", 23),
        Column("月份", "period", 10)],
        watch, data_date=date, source="年度主要指标进度表", status_key="状态",
        sheet_name="红黄灯", note=RULE_NOTE)
    save_workbook(wb, path)
    return path
