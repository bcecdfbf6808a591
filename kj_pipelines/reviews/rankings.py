"""季晾晒 and 年考评 workbooks, and the ranking notice pushed through the Notifier.

Sheets: one ranking per peer group (镇街园区, 部门…; score, rank, band coloured, bonus,
deduction, the review), 得分明细 (every rule's points and the figures behind them, so a unit can
check its score), 约谈与经验交流 (the units named by the review), 指标进度 (the indicators at
the window's last month) and, for the annual evaluation, 历年排名 (score and rank per year).
Plain Python over frames; the same frames give the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from kj_pipelines.catalog.model import Catalog, ScoringRules
from kj_pipelines.core.periods import month_end
from kj_pipelines.excel.printing import Column, write_table
from kj_pipelines.excel.writing import save_workbook
from kj_pipelines.indicators.status import RULE_NOTE
from kj_pipelines.reviews.monthly_report import overview_frame
from kj_pipelines.reviews.scoring import canonical_scores, part_label
from kj_pipelines.worklists.tables import region

if TYPE_CHECKING:
    from openpyxl import Workbook

# openpyxl is imported where a workbook is written: the definitions load without it

SOURCE = "月度填报、年度目标清单、重点任务攻坚表、重大项目实施表、问题销号进度表、督办清单；局考评规则"
RANK_COLUMNS = [
    Column("名次", "rank", 6), Column("单位", "单位", 24), Column("得分", "score", 8, "0.00"),
    Column("档次", "band", 8), Column("加分", "bonus", 7, "0.00"),
    Column("扣分", "deduction", 7, "0.00"), Column("红灯指标", "red", 8),
    Column("黄灯指标", "yellow", 8), Column("缺报指标", "grey", 8), Column("结果运用", "review", 10)]


def period_title(label: str) -> str:
    """2026-Q3 → 2026年第三季度; 2025 → 2025年度."""
    if "-Q" in label:
        year, quarter = label.split("-Q")
        return f"{year}年第{'一二三四'[int(quarter) - 1]}季度"
    return f"{label}年度"


def _band_colours(ws, rules: ScoringRules, cells: str) -> None:
    """The top band green, the bottom band red, the bands between amber (names from YAML)."""
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import PatternFill
    names = [name for name, _ in rules.bands]
    for i, name in enumerate(names):
        colour = "C6EFCE" if i == 0 else "F8CBAD" if i == len(names) - 1 else "FFE699"
        ws.conditional_formatting.add(cells, CellIsRule(
            operator="equal", formula=[f'"{name}"'], fill=PatternFill("solid", bgColor=colour)))


def with_unit_names(frame: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """The frame with a 单位 column: each unit code's Chinese name."""
    return frame.assign(单位=[catalog.unit_name(u) for u in frame["unit"]])


def ranking_sheets(wb: Workbook, catalog: Catalog, scores: pd.DataFrame, title: str,
                   date: str) -> None:
    """One ranking sheet per peer group, in the catalog's order of kinds."""
    from openpyxl.utils import get_column_letter
    groups = list(dict.fromkeys(catalog.peer_group(u) for u in catalog.units if u in
                                set(scores["unit"])))
    for group in groups:
        rows = with_unit_names(scores[scores["peer_group"] == group], catalog)
        name = catalog.peer_group_name(group)
        ws = wb.create_sheet() if wb.worksheets[0].max_row > 1 else wb.worksheets[0]
        bands = rows["band"].value_counts()
        last = write_table(ws, f"{title}·{name}", RANK_COLUMNS, rows, data_date=date,
                           source=SOURCE, sheet_name=f"排名-{name}"[:31],
                           summary=[("参评单位", len(rows))] + [
                               (b, int(bands.get(b, 0))) for b, _ in catalog.scoring.bands])
        col = get_column_letter([c.key for c in RANK_COLUMNS].index("band") + 1)
        _band_colours(ws, catalog.scoring, f"{col}5:{col}{last}")


def items_frame(items: pd.DataFrame, scores: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """The breakdown in the ranking's order of units, each unit's items in their own order."""
    order = {u: i for i, u in enumerate(scores["unit"])}
    rows = items.assign(_o=items["unit"].map(order)).sort_values(["_o", "seq"])
    return with_unit_names(rows, catalog).assign(
        部分=[part_label(p) for p in rows["part"]],
        比率=[None if pd.isna(r) else round(r * 100, 1) for r in rows["ratio"]])


def review_frame(scores: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    named = with_unit_names(scores[scores["review"].fillna("") != ""], catalog)
    return named.assign(组别=[catalog.peer_group_name(g) for g in named["peer_group"]],
                        负责人=[catalog.units[u].official for u in named["unit"]])


def write_ranking_workbook(path: Path, catalog: Catalog, label: str, month: str,
                           scores: pd.DataFrame, items: pd.DataFrame, progress: pd.DataFrame,
                           history: pd.DataFrame | None = None) -> Path:
    """The quarter's 季晾晒 (``history`` None) or the year's 年考评 workbook."""
    from openpyxl import Workbook
    kind = "综合考评" if history is not None else "晾晒"
    title = f"{region(catalog)}{period_title(label)}科技创新工作{kind}"
    date = str(month_end(month))
    scores = canonical_scores(scores, catalog)
    progress = progress.sort_values(["indicator", "unit"])
    wb = Workbook()
    ranking_sheets(wb, catalog, scores, title, date)
    write_table(wb.create_sheet(), f"{title}·得分明细", [
        Column("单位", "单位", 20), Column("部分", "部分", 10), Column("事项", "item_name", 30),
        Column("依据", "figure", 46), Column("比率%", "比率", 8, "0.0"),
        Column("得分", "points", 8, "0.00"), Column("满分", "max_points", 8, "0.00")],
        items_frame(items, scores, catalog), data_date=date, source=SOURCE,
        sheet_name="得分明细")
    rules = catalog.scoring
    write_table(wb.create_sheet(), f"{title}·{rules.talk_label}与{rules.share_label}名单", [
        Column("结果运用", "review", 10), Column("组别", "组别", 20), Column("单位", "单位", 24),
        Column("名次", "rank", 6), Column("得分", "score", 8, "0.00"), Column("档次", "band", 8),
        Column("负责人", "负责人", 28)],
        review_frame(scores, catalog), data_date=date, source=SOURCE,
        sheet_name=f"{rules.talk_label}与{rules.share_label}")
    overview = overview_frame(progress, catalog)
    write_table(wb.create_sheet(), f"{title}·主要指标进度（截至{month}）", [
        Column("指标", "指标", 36), Column("计量单位", "计量单位", 8),
        Column("实际", "实际", 12, "#,##0.00"), Column("年度目标", "年度目标", 12, "#,##0.00"),
        Column("完成率%", "完成率%", 9, "0.0"), Column("计划进度%", "计划进度%", 9, "0.0"),
        Column("状态", "状态", 8), Column("判灯规则（差距，百分点）", "判灯规则", 23),
        Column(f"红灯单位（不含{catalog.top_label}）", "红灯单位", 8),
        Column("责任部门", "责任部门", 20)],
        overview, data_date=date, source=catalog.sources("年度目标清单"), status_key="状态",
        sheet_name="指标进度", note=RULE_NOTE)
    if history is not None:
        _history_sheet(wb, catalog, history, title, date)
    save_workbook(wb, path)
    return path


def history_frame(history: pd.DataFrame, catalog: Catalog) -> tuple[pd.DataFrame, list[Column]]:
    """Rows: units; columns: each year's score and rank (mart.unit_scores of the years)."""
    years = sorted(history["period"].unique())
    rows = []
    for unit in [u for u in catalog.units if u in set(history["unit"])]:
        mine = history[history["unit"] == unit].set_index("period")
        row = {"单位": catalog.unit_name(unit),
               "组别": catalog.peer_group_name(catalog.peer_group(unit))}
        for y in years:
            row[f"{y}得分"] = mine["score"].get(y)
            row[f"{y}名次"] = mine["rank"].get(y)
            row[f"{y}档次"] = mine["band"].get(y)
        rows.append(row)
    columns = [Column("组别", "组别", 14), Column("单位", "单位", 22)] + [
        c for y in years for c in (Column(f"{y}得分", f"{y}得分", 8, "0.00"),
                                   Column(f"{y}名次", f"{y}名次", 9),
                                   Column(f"{y}档次", f"{y}档次", 9))]
    return pd.DataFrame(rows), columns


def _history_sheet(wb: Workbook, catalog: Catalog, history: pd.DataFrame, title: str,
                   date: str) -> None:
    from openpyxl.utils import get_column_letter
    frame, columns = history_frame(history, catalog)
    ws = wb.create_sheet()
    last = write_table(ws, f"{title}·历年排名", columns, frame, data_date=date, source=SOURCE,
                       sheet_name="历年排名")
    for i, c in enumerate(columns, start=1):
        if c.header.endswith("档次"):
            col = get_column_letter(i)
            _band_colours(ws, catalog.scoring, f"{col}4:{col}{last}")


def ranking_notice(catalog: Catalog, label: str, scores: pd.DataFrame) -> tuple[str, str]:
    """The ranking as one message (Markdown) for the units and the leaders: each peer group in
    rank order with score and band, then who shares practice and who is called for a talk."""
    rules = catalog.scoring
    kind = "综合考评结果" if "-Q" not in label else "晾晒"
    title = f"{region(catalog)}{period_title(label)}科技创新工作{kind}"
    lines = []
    for group in dict.fromkeys(scores["peer_group"]):
        rows = scores[scores["peer_group"] == group]
        lines.append(f"**{catalog.peer_group_name(group)}**")
        lines.append("")
        lines.append("| 名次 | 单位 | 得分 | 档次 |")
        lines.append("|---:|---|---:|---|")
        for r in rows.itertuples(index=False):
            rank = "—" if pd.isna(r.rank) else int(r.rank)
            score = "—" if pd.isna(r.score) else f"{r.score:.2f}"
            lines.append(f"| {rank} | {catalog.unit_name(r.unit)} | {score} | {r.band} |")
        lines.append("")
    for label_, who in ((rules.share_label, scores[scores["review"] == rules.share_label]),
                        (rules.talk_label, scores[scores["review"] == rules.talk_label])):
        names = "、".join(catalog.unit_name(u) for u in who["unit"]) or "无"
        lines.append(f"- {label_}：{names}")
    lines.append("")
    lines.append("得分明细见考评工作簿“得分明细”表。")
    return title, "\n".join(lines)

