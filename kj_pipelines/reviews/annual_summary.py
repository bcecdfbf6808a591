"""年度工作总结: the year's summary in the shape of the bureau's template (seed 001; seed 004 is a
finished one) — an opening paragraph with the year's headline figures, 一、重点科技指标完成情况
(targets against actuals, growth on last year), 二、主要工作进展情况 (each action's lists:
tasks, milestones, projects, problems), 三、多年目标推进情况, 四、存在的问题, and 五、next
year's targets (the next year's target list when it has been issued).

The text is drafted from the warehouse, for the office to edit: every figure in it is also in the
tables beside it. Plain Python over frames; the same frames give the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kj_pipelines.catalog.model import DISTRICT, Catalog, Indicator
from kj_pipelines.core.periods import month_end
from kj_pipelines.excel.printing import (
    Column,
    display_width,
    mark_whole,
    print_setup,
    write_table,
)
from kj_pipelines.excel.writing import save_workbook, write_text
from kj_pipelines.indicators.goals import GOAL_NOTE, explained, still_to_go
from kj_pipelines.indicators.status import RULE_NOTE, status_label, status_rule
from kj_pipelines.worklists import ledger as lg
from kj_pipelines.worklists.tables import region

# openpyxl is imported where a workbook is written: the definitions load without it

NUMERALS = "一二三四五六七八九十"


@dataclass
class YearInputs:
    year: int
    month: str  # December, or the latest month reviewed while the year runs
    progress: pd.DataFrame  # mart.indicator_progress of December, the top's rows
    previous: pd.DataFrame  # the same for the year before (may be empty)
    goals: pd.DataFrame  # mart.goal_distance of December
    tasks: pd.DataFrame  # mart.tasks of December
    milestones: pd.DataFrame  # mart.milestones of December
    projects: pd.DataFrame  # mart.projects of December
    problems: pd.DataFrame  # mart.problems of December
    scores: pd.DataFrame  # mart.unit_scores of the year
    next_targets: pd.DataFrame  # core.annual_targets of the next year, the top's rows
    latest: pd.DataFrame  # indicator, period, value: the top's latest figure up to December


def fmt(value: float, indicator: Indicator | None = None, count: bool = False) -> str:
    """A figure as the text writes it: whole numbers for counts, else up to two decimals."""
    if value is None or pd.isna(value):
        return "—"
    if count:
        return f"{value:,.0f}"
    text = f"{round(float(value), 2):,.2f}".rstrip("0").rstrip(".")
    return text


def _figure(value: float, ind: Indicator, catalog: Catalog) -> str:
    return f"{fmt(value, ind, catalog.is_count(ind))}{ind.measure}"


def indicator_rows(inputs: YearInputs, catalog: Catalog) -> pd.DataFrame:
    """The top's figure of every indicator at the year's end, against its target and last year."""
    now = inputs.progress.set_index("indicator")
    before = inputs.previous.set_index("indicator") if not inputs.previous.empty else None
    rows = []
    for code, ind in catalog.indicators.items():
        if code not in now.index:
            continue
        r = now.loc[code].copy()
        as_of = r["as_of"] if isinstance(r.get("as_of"), str) else r["period"]
        if pd.isna(r["actual"]):  # not released yet (R&D comes next September): the latest one
            known = inputs.latest[inputs.latest["indicator"] == code]
            if not known.empty:
                r["actual"], as_of = known["value"].iloc[0], known["period"].iloc[0]
                r["completion"], r["status"] = float("nan"), "grey"
        prev = before["actual"].get(code) if before is not None and code in before.index \
            else None
        change, change_text = None, ""
        if prev is not None and pd.notna(prev) and pd.notna(r["actual"]) \
                and str(as_of)[:4] == str(inputs.year):
            if ind.kind in ("ratio", "growth") or ind.is_percentage:
                change = float(r["actual"]) - float(prev)
                change_text = f"较上年{'提高' if change >= 0 else '下降'}{fmt(abs(change))}个百分点"
            elif prev:
                change = (float(r["actual"]) - float(prev)) / abs(float(prev)) * 100
                change_text = f"同比{'增长' if change >= 0 else '下降'}{fmt(abs(change))}%"
        rows.append({
            "indicator": code, "指标": ind.name, "计量单位": ind.measure,
            "action": ind.action, "截至": as_of, "实际": r["actual"], "年度目标": r["target"],
            "完成率%": r["completion"], "上年": prev, "变化": change, "变化说明": change_text,
            "状态": status_label(r["status"], r.get("missing_units")), "status": r["status"],
            "判灯规则": status_rule(ind)})
    return mark_whole(pd.DataFrame(rows), catalog.counted())


def _indicator_sentence(row, catalog: Catalog, year: int) -> str:
    ind = catalog.indicators[row["indicator"]]
    as_of_year = str(row["截至"])[:4]
    when = f"{as_of_year}年度" if as_of_year and as_of_year != str(year) else ""
    text = f"{when}{ind.name}{'为' if ind.direction == 'lower' else '达'}" \
           f"{_figure(row['实际'], ind, catalog)}"
    if row["变化说明"]:
        text += f"，{row['变化说明']}"
    if as_of_year and as_of_year != str(year):
        text += f"（{year}年度数据尚未发布）"
    elif pd.notna(row["年度目标"]):
        verdict = "完成年度目标" if row["status"] == "done" or (
            pd.notna(row["完成率%"]) and row["完成率%"] >= 100) else \
            f"完成年度目标的{fmt(row['完成率%'])}%"
        text += f"（年度目标{_figure(row['年度目标'], ind, catalog)}，{verdict}）"
    return text


def action_rows(inputs: YearInputs, catalog: Catalog) -> pd.DataFrame:
    """Each action's lists at the year's end."""
    rows = []
    for code, action in catalog.actions.items():
        tasks = inputs.tasks[inputs.tasks["action"] == code]
        task_codes = set(tasks["task_code"])
        ms = inputs.milestones[inputs.milestones["task_code"].isin(task_codes)]
        rows.append({
            "action": code, "行动": action.name, "重点任务": len(tasks),
            "已完成任务": int((tasks["status"] == "done").sum()),
            "节点": len(ms), "按时完成节点": int((ms["done_on"].notna() & ~ms["late"].astype(
                "boolean").fillna(False).astype(bool)).sum()),
            "指标": sum(1 for i in catalog.indicators.values() if i.action == code)})
    return pd.DataFrame(rows)


def list_results(inputs: YearInputs) -> dict[str, object]:
    p, pr = inputs.problems, inputs.projects
    return {
        "重大项目": len(pr),
        "年度计划投资": float(pr["annual_investment"].sum()) if not pr.empty else 0.0,
        "完成投资": float(pr["completed_investment"].sum()) if not pr.empty else 0.0,
        "完成全年计划的项目": int((pr["status"] == "done").sum()) if not pr.empty else 0,
        "问题": len(p), "确认销号": int((p["state"] == lg.CONFIRMED).sum()) if not p.empty else 0,
        "超期未销号": int(((p["state"] != lg.CONFIRMED) & p["overdue"].astype(bool)).sum())
        if not p.empty else 0,
    }


def paragraphs(inputs: YearInputs, catalog: Catalog) -> list[tuple[str, str]]:
    """The summary's text as (style, text): ``title``, ``heading`` or ``body``."""
    year, name = inputs.year, region(catalog)
    ind = indicator_rows(inputs, catalog)
    draft = "" if inputs.month.endswith("-12") else f"（截至{int(inputs.month[5:])}月，初稿）"
    out: list[tuple[str, str]] = [
        ("title", f"{name}{year}年科技创新工作总结及{year + 1}年工作计划{draft}")]
    # the headline: indicators with a multi-year goal first (the plan's own yardsticks)
    goal_codes = [g.indicator for g in catalog.goals if g.unit == DISTRICT]
    own = ind[ind["截至"].astype(str).str[:4] == str(year)]
    key = own.assign(_k=[0 if c in goal_codes else 1 for c in own["indicator"]]) \
        .sort_values("_k", kind="stable").head(6)
    headline = "；".join(_indicator_sentence(r, catalog, year) for r in key.to_dict("records"))
    done = ind[ind["status"] == "done"]
    with_target = ind[ind["年度目标"].notna()]
    out.append(("body", f"{catalog.programme.opening_of(year, name)}全年{headline}。"
                        f"{len(with_target)}项有年度目标的指标中，{len(done)}项完成年度目标。"))
    out.append(("heading", "一、重点科技指标完成情况"))
    for action in catalog.actions.values():
        rows = ind[ind["action"] == action.code]
        if rows.empty:
            continue
        out.append(("body", f"{action.name}：" + "；".join(
            _indicator_sentence(r, catalog, year) for r in rows.to_dict("records")) + "。"))
    out.append(("heading", f"二、{year}年主要工作进展情况"))
    acts = action_rows(inputs, catalog)
    if inputs.tasks.empty:
        out.append(("body", f"{year}年未导入重点任务攻坚表，本节待补充。"))
    for i, r in enumerate(acts.to_dict("records") if not inputs.tasks.empty else []):
        tasks = inputs.tasks[inputs.tasks["action"] == r["action"]]
        finished = "；".join(str(c) for c in tasks[tasks["status"] == "done"]["content"].head(3))
        text = (f"（{NUMERALS[i % 10]}）{r['行动']}。全年{r['重点任务']}项重点任务完成"
                f"{r['已完成任务']}项，{r['节点']}个节点按时完成{r['按时完成节点']}个。")
        if finished:
            text += f"完成的重点任务有：{finished}。"
        out.append(("body", text))
    lists = list_results(inputs)
    # investment as the project list takes it (万元), never relabelled
    text = (f"重大项目{lists['重大项目']}个，年度计划投资{fmt(lists['年度计划投资'])}万元，"
            f"完成投资{fmt(lists['完成投资'])}万元，{lists['完成全年计划的项目']}个项目完成全年计划。"
            if lists["重大项目"] else f"{year}年未导入科技创新重大项目实施表。")
    text += (f"各{catalog.kinds_label()}提出问题{lists['问题']}件，经提出单位确认销号"
             f"{lists['确认销号']}件，超期未销号{lists['超期未销号']}件。"
             if lists["问题"] else "全年未收到各单位提出的问题。")
    out.append(("body", text))
    out.append(("heading", "三、多年目标推进情况"))
    for g in explained(inputs.goals[inputs.goals["unit"] == DISTRICT],
                       catalog.goals).to_dict("records"):
        if g["indicator"] not in catalog.indicators:
            continue
        i = catalog.indicators[g["indicator"]]
        left = still_to_go(g["goal"], g["baseline"], g["latest"]) \
            if pd.notna(g["baseline"]) else None
        if left is None:
            out.append(("body", f"到{g['goal_year']}年{i.name}达到"
                                 f"{_figure(g['goal'], i, catalog)}：暂无最新数据。"))
            continue
        gap = ("已达到目标" if abs(left) < 1e-9 else f"尚差{_figure(left, i, catalog)}"
               if left > 0 else f"已超出目标{_figure(-left, i, catalog)}")
        out.append(("body", f"到{g['goal_year']}年{i.name}达到{_figure(g['goal'], i, catalog)}："
                            f"目前为{_figure(g['latest'], i, catalog)}，按基期以来的进程计完成"
                            f"{fmt(g['progress'])}%，{gap}。"))
    out.append(("heading", "四、存在的问题"))
    behind = ind[ind["status"].isin(["red", "yellow"])]
    lagging = inputs.scores[inputs.scores["review"].fillna("") == catalog.scoring.talk_label]
    text = ("未完成年度目标的指标：" + "、".join(behind["指标"]) + "。") if not behind.empty \
        else "各项指标均完成年度目标或处于序时进度内。"
    if not lagging.empty:
        text += "年度考评列入约谈的单位：" + "、".join(
            catalog.unit_name(u) for u in lagging["unit"]) + "。"
    out.append(("body", text))
    out.append(("heading", f"五、{year + 1}年工作计划"))
    targets = inputs.next_targets
    if targets.empty:
        out.append(("body", f"{year + 1}年度目标清单尚未下达，下达后重新生成本总结即列出。"))
    else:
        given = dict(zip(targets["indicator"], targets["target"], strict=True))
        parts = [f"{i.name}{'控制在' if i.direction == 'lower' else '达到'}"
                 f"{_figure(given[code], i, catalog)}"
                 for code, i in catalog.indicators.items() if code in given]
        out.append(("body", f"{year + 1}年，力争全年" + "，".join(parts) + "。"))
    return out


TEXT_WIDTH = 70  # A4 portrait at 12 pt: about 32 Chinese characters a line


def _text_height(text: str) -> float:
    """The row height (points) a wrapped paragraph needs: 32 Chinese characters (64 width
    units) to a line."""
    return 16.0 * math.ceil(display_width(text) / 64 + 0.01) + 4


def write_annual_summary(path: Path, catalog: Catalog, inputs: YearInputs) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    year = inputs.year
    date = str(month_end(inputs.month))
    text = paragraphs(inputs, catalog)
    wb = Workbook()
    ws = wb.active
    ws.title = "总结"
    ws.column_dimensions["A"].width = TEXT_WIDTH
    for r, (style, line) in enumerate(text, start=1):
        cell = ws.cell(row=r, column=1)
        write_text(cell, line)
        cell.alignment = Alignment(wrap_text=True, vertical="top",
                                   horizontal="center" if style == "title" else "left")
        cell.font = Font(bold=style != "body", size=16 if style == "title" else 12)
        ws.row_dimensions[r].height = _text_height(line) if style == "body" else 24
    print_setup(ws, text[0][1], date)
    ws.page_setup.orientation = "portrait"
    ind = indicator_rows(inputs, catalog)
    write_table(wb.create_sheet(), f"{year}年主要指标完成情况", [
        Column("指标", "指标", 36), Column("计量单位", "计量单位", 8), Column("截至", "截至", 9),
        Column("年度目标", "年度目标", 12, "#,##0.00"), Column("实际", "实际", 12, "#,##0.00"),
        Column("完成率%", "完成率%", 9, "0.0"), Column("上年", "上年", 12, "#,##0.00"),
        Column("较上年", "变化说明", 22), Column("状态", "状态", 8),
        Column("判灯规则（差距，百分点）", "判灯规则", 23)],
        ind, data_date=date, source="年度主要指标进度表（12月）", status_key="状态",
        sheet_name="指标完成情况", note=RULE_NOTE)
    goals = mark_whole(explained(inputs.goals[inputs.goals["unit"] == DISTRICT], catalog.goals,
                                 catalog.counted()),
                       catalog.counted()).assign(
        指标=lambda f: [catalog.indicators[c].name if c in catalog.indicators else c
                      for c in f["indicator"]])
    write_table(wb.create_sheet(), "多年目标推进情况", [
        Column("指标", "指标", 36), Column("基期年份", "baseline_year", 9),
        Column("基期值", "baseline", 12, "#,##0.00"), Column("目标年份", "goal_year", 9),
        Column("目标值", "goal", 12, "#,##0.00"), Column("截至", "as_of", 9),
        Column("最新值", "latest", 12, "#,##0.00"), Column("距目标", "remaining_text", 16),
        Column("进度%", "progress", 9, "0.0")],
        goals, data_date=date, source="多年目标与年度主要指标进度表", sheet_name="多年目标",
        note=GOAL_NOTE)
    write_table(wb.create_sheet(), f"{year}年{catalog.actions_label()}清单完成情况", [
        Column("行动", "行动", 30), Column("指标", "指标", 6), Column("重点任务", "重点任务", 8),
        Column("已完成任务", "已完成任务", 10), Column("节点", "节点", 6),
        Column("按时完成节点", "按时完成节点", 12)],
        action_rows(inputs, catalog), data_date=date, source="重点任务攻坚表（12月）",
        sheet_name="清单完成情况",
        summary=[(k, fmt(v) if isinstance(v, float) else v)
                 for k, v in list_results(inputs).items()])
    targets = mark_whole(inputs.next_targets, catalog.counted()).assign(
        指标=lambda f: [catalog.indicators[c].name if c in catalog.indicators else c
                      for c in f["indicator"]],
        计量单位=lambda f: [catalog.indicators[c].measure if c in catalog.indicators else ""
                        for c in f["indicator"]])
    write_table(wb.create_sheet(), f"{year + 1}年主要目标", [
        Column("指标", "指标", 36), Column("计量单位", "计量单位", 8),
        Column("目标", "target", 12, "#,##0.00"), Column("目标原文", "target_text", 24)],
        targets, data_date=date, source=f"{year + 1}年度目标清单", sheet_name="下年目标")
    save_workbook(wb, path)
    return path
