"""挂图作战 board: one self-contained HTML page per month, for the wall and for A3 landscape print.

Per indicator: the top's planned against actual by month with the year's target, and every
unit's completion against the plan for the month, red and yellow units in their colours; then
the distance to the multi-year goals and the lists' overdue items.

Charts are drawn by plotly.js, which is embedded in the page (no CDN, no server): it opens
offline. Every text is escaped; the charts' data is JSON with ``</`` escaped, so no name or
submitted text can close the script it sits in.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

import pandas as pd
from plotly import __version__ as plotly_version
from plotly.offline import get_plotlyjs

from kj_pipelines.catalog.model import DISTRICT, Catalog
from kj_pipelines.core.files import write_atomic
from kj_pipelines.core.numbers import as_number
from kj_pipelines.core.periods import month_end, parse_month
from kj_pipelines.indicators.goals import GOAL_NOTE, explained
from kj_pipelines.indicators.status import (
    RULE_NOTE,
    STATUS_COLOUR,
    STATUS_LABEL,
    month_counts,
    status_rule,
    status_with_estimate,
)
from kj_pipelines.reviews.monthly_report import MonthInputs
from kj_pipelines.worklists import ledger as lg
from kj_pipelines.worklists.state import item_number
from kj_pipelines.worklists.tables import region, unit_label

FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, SimHei, sans-serif"
CSS = """
@page { size: A3 landscape; margin: 10mm; }
body { font-family: FONT; margin: 16px; color: #222; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 20px 0 6px; }
.meta { color: #555; font-size: 13px; margin-bottom: 12px; }
.rule { display: block; color: #666; font-size: 12px; font-weight: normal; }
.chart { width: 100%; height: 280px; break-inside: avoid; page-break-inside: avoid; }
table { border-collapse: collapse; font-size: 13px; margin-bottom: 8px; break-inside: auto; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; }
th { background: #DDEBF7; } .red { background: #F8CBAD; } .yellow { background: #FFE699; }
.summary span { display: inline-block; margin-right: 18px; font-size: 15px; }
section { break-inside: avoid; page-break-inside: avoid; min-width: 0; }
.lists section { break-inside: auto; page-break-inside: auto; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr));
          column-gap: 16px; }
h2 { break-after: avoid; page-break-after: avoid; }
.wide { overflow-x: auto; max-width: 100%; }
table.matrix td, table.matrix th { text-align: center; white-space: nowrap; font-size: 12px; }
table.matrix td.name, table.matrix th.name { text-align: left; }
.green { background: #C6EFCE; } .grey { background: #EDEDED; } .done { background: #BDD7EE; }
.pick { margin: 6px 0; font-size: 14px; }
@media (max-width: 600px) {
  body { margin: 8px; } h1 { font-size: 19px; } h2 { font-size: 16px; }
  .summary span { display: block; }
  .charts { grid-template-columns: 1fr; }
  table { font-size: 12px; }
}
@media print { .pick { display: none; } body { margin: 0; }
  h2 { font-size: 15px; margin: 8px 0 2px; } table { font-size: 12px; }
  .charts { grid-template-columns: 1fr 1fr; } }
""".replace("FONT", FONT)
STATUS_CLASS = {"red": "red", "yellow": "yellow", "green": "green", "done": "done",
                "grey": "grey", "pending": "grey"}


# Two panels side by side as plotly's make_subplots lays them out (column widths 0.45 / 0.55,
# spacing 0.1), written as plain JSON: building validated plotly figure objects took about a
# second a month for 29 charts, the JSON a few milliseconds, and the page is what plotly.js reads.
LEFT, RIGHT = (0.0, 0.405), (0.505, 1.0)
AXIS = {"gridcolor": "#E5E5E5", "zerolinecolor": "#BDBDBD", "automargin": True}


def figure_spec(catalog: Catalog, code: str, series: pd.DataFrame,
                units: pd.DataFrame) -> dict:
    """The indicator's two charts as plotly.js data and layout: the top's plan, actual and
    target by month; every unit's completion (coloured by status) against the month's plan."""
    ind = catalog.indicators[code]
    rows = series[series["indicator"] == code].sort_values("month")
    months = [f"{m}月" for m in rows["month"]]
    shown = units.sort_values("completion", na_position="first")
    names = [catalog.level_label(u) for u in shown["unit"]]
    data = [
        {"type": "scatter", "mode": "lines", "x": months, "name": "计划",
         "y": [as_number(v) for v in rows["planned"]], "line": {"dash": "dash", "color": "#555"}},
        {"type": "scatter", "mode": "lines+markers", "x": months, "name": "实际",
         "y": [as_number(v) for v in rows["actual"]], "line": {"color": "#1565C0", "width": 3}},
        {"type": "scatter", "mode": "lines", "x": months, "name": "年度目标",
         "y": [as_number(v) for v in rows["target"]], "line": {"color": "#C00000", "width": 1}},
        # every unit drawn and labelled: 0 % as a sliver with its figure, 缺报 named at 0
        {"type": "bar", "x": names,
         "y": [max(as_number(v, 1) or 0.0, 0.5) for v in shown["completion"]],
         "marker": {"color": [STATUS_COLOUR.get(s, "#9E9E9E") for s in shown["status"]]},
         "text": [bar_label(s, v) for s, v in zip(shown["status"], shown["completion"],
                                                  strict=True)],
         "textposition": "outside", "cliponaxis": False, "name": "完成率",
         "hovertext": [f"{n}：{bar_label(s, v)}" for n, s, v in zip(
             names, shown["status"], shown["completion"], strict=True)],
         "hoverinfo": "text", "showlegend": False, "xaxis": "x2", "yaxis": "y2"},
        {"type": "scatter", "mode": "markers", "x": names, "name": "计划进度",
         "y": [as_number(v, 1) for v in shown["planned_share"]],
         "marker": {"symbol": "line-ew-open", "size": 18, "color": "#222"},
         "xaxis": "x2", "yaxis": "y2"},
    ]
    titles = (f"{catalog.top_label}：计划与实际（{ind.measure}）", "各单位：完成率与计划进度（%）")
    if shown.empty:  # a figure only the top reports: one chart across the width
        return {"data": data[:3], "layout": {
            **_layout(), "xaxis": {**AXIS, "domain": [0.0, 1.0], "anchor": "y"},
            "yaxis": {**AXIS, "anchor": "x"}, "annotations": [_title(titles[0], (0.0, 1.0))]}}
    layout = {
        **_layout(),
        "xaxis": {**AXIS, "domain": list(LEFT), "anchor": "y"},
        "yaxis": {**AXIS, "anchor": "x"},
        "xaxis2": {**AXIS, "domain": list(RIGHT), "anchor": "y2"},
        "yaxis2": {**AXIS, "anchor": "x2"},
        "annotations": [_title(t, span) for t, span in zip(titles, (LEFT, RIGHT), strict=True)],
    }
    return {"data": data, "layout": layout}


def bar_label(status: object, completion: object) -> str:
    """A unit's bar label: its status and completion (红 0%), 缺报 where no figure came."""
    value = as_number(completion, 0)
    label = STATUS_LABEL.get(status, "") if isinstance(status, str) else ""
    if value is None:
        return label or "缺报"
    return f"{label} {value:.0f}%".strip()


def _layout() -> dict:
    return {"height": 280, "margin": {"l": 40, "r": 10, "t": 40, "b": 60},
            "font": {"family": FONT, "size": 12}, "legend": {"orientation": "h", "y": -0.25},
            "paper_bgcolor": "white", "plot_bgcolor": "white"}


def _title(text: str, span: tuple[float, float]) -> dict:
    return {"text": text, "x": (span[0] + span[1]) / 2, "y": 1.0, "xref": "paper",
            "yref": "paper", "xanchor": "center", "yanchor": "bottom", "showarrow": False,
            "font": {"size": 14}}


def _table(headers: list[str], rows: list[list[object]], classes: list[str] | None = None) -> str:
    if not rows:
        return "<p>（无）</p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        cells = "".join(f"<td>{html.escape(_text(v))}</td>" for v in row)
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _text(value: object) -> str:
    """A cell's text: a date without its time, nothing for a missing value."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.date().isoformat()
    return str(value)


def _fmt(value: object, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    return f"{float(value):,.{digits}f}" if isinstance(value, (int, float)) else str(value)


CHART_SCRIPT = f"plotly-{plotly_version}.min.js"  # one copy under reports/assets/


def board_html(catalog: Catalog, inputs: MonthInputs, goals: pd.DataFrame,
               script_src: str | None = None) -> str:
    """The month's board. ``script_src``: where the chart library is, relative to the page
    (every month's board shares one copy); without it the library is inlined (4.8 MB)."""
    period = inputs.period
    year, month = parse_month(period)
    title = f"{region(catalog)}{year}年{month}月科技创新挂图作战图"
    progress = inputs.progress
    top = progress[progress["unit"] == DISTRICT]
    parts = [f"<h1>{html.escape(title)}</h1>",
             f'<div class="meta">数据截至 {month_end(period)}；来源：'
             + html.escape(catalog.sources("年度目标清单", "重点任务攻坚表", "重大项目实施表",
                                           "问题销号进度表"))
             + "。红、黄为落后于倒排计划的单位。" + html.escape(RULE_NOTE) + "。</div>",
             '<div class="summary">' + "".join(
                 f"<span>{html.escape(label)}：{n}</span>"
                 for label, n in month_counts(progress, catalog.top_label).items()) + "</div>",
             _decisions(catalog, inputs), _matrix(catalog, progress)]
    scripts = []
    parts.append('<div class="charts">')
    for i, (code, ind) in enumerate(catalog.indicators.items()):
        units = progress[(progress["indicator"] == code) & (progress["unit"] != DISTRICT)]
        if (inputs.series["indicator"] == code).sum() == 0 and units.empty:
            continue
        row = top[top["indicator"] == code]
        status = status_with_estimate(row["status"].iloc[0], row["missing_units"].iloc[0],
                                      row["estimate_status"].iloc[0]) \
            if not row.empty else "无目标"
        parts.append(f"<section><h2>{html.escape(ind.name)}（{html.escape(ind.measure)}）"
                     f"　{catalog.top_label}：{html.escape(status)}"
                     f'<span class="rule">判灯：差距{html.escape(status_rule(ind))}</span></h2>'
                     f'<div class="chart" id="c{i}"></div></section>')
        spec = json.dumps(figure_spec(catalog, code, inputs.series, units), ensure_ascii=False,
                          allow_nan=False, separators=(",", ":"))
        scripts.append(f"(function(f){{if(window.Plotly)Plotly.newPlot('c{i}', f.data, "
                       f"f.layout, {{displayModeBar: false, responsive: true}});}})"
                       f"({_safe_json(spec)});")
    parts.append("</div>")
    counted = catalog.counted()
    parts.append("<h2>距多年目标</h2>" + f'<p class="meta">{html.escape(GOAL_NOTE)}</p>' + _table(
        ["指标", "单位", "基期", "目标年", "目标值", "最新值", "截至", "距目标", "进度%"],
        [[catalog.indicators[r.indicator].name if r.indicator in catalog.indicators
          else r.indicator, unit_label(catalog, r.unit),
          f"{r.baseline_year}年 {_fmt(r.baseline, d)}" if r.baseline_year else "—", r.goal_year,
          _fmt(r.goal, d), _fmt(r.latest, d), r.as_of, r.remaining_text, _fmt(r.progress, 1)]
         for r, d in ((r, 0 if r.indicator in counted else 2)
                      for r in explained(goals, catalog.goals, counted).itertuples())]))
    parts.append(_overdue_sections(catalog, inputs))
    return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{CSS}</style>"
            + (f'<script src="{html.escape(script_src)}"></script>' if script_src
               else f"<script>{get_plotlyjs()}</script>")
            + f"</head><body>{''.join(parts)}"
            f"<script>{PICK_SCRIPT}{_missing_script(script_src)}{''.join(scripts)}</script>"
            "</body></html>")


def _missing_script(script_src: str | None) -> str:
    """Where the shared chart library is not beside the page (the file copied alone): say so
    at the top; the tables read as they are."""
    if not script_src:
        return ""
    note = (f"图表未能显示：本页的图表脚本应在 {script_src}（报表目录的 assets 文件夹）；"
            "请连同该文件夹一起复制。表格内容不受影响。")
    return ("if(!window.Plotly){var n=document.createElement('p');n.className='meta';"
            f"n.style.color='#C00000';n.textContent={json.dumps(note, ensure_ascii=False)};"
            "document.body.insertBefore(n,document.body.firstChild);}")


def _decisions(catalog: Catalog, inputs: MonthInputs) -> str:
    """What needs a decision, first: the top's red indicators with their department, the units
    red on an indicator (who owns it, what is asked), and supervision items past feedback."""
    progress = inputs.progress
    red = progress[progress["status"] == "red"]
    top = red[red["unit"] == DISTRICT]
    units = red[red["unit"] != DISTRICT].sort_values(["indicator", "gap"])
    rows = []
    for r in pd.concat([top, units]).itertuples():  # the top first: its department answers
        ind = catalog.indicators.get(r.indicator)
        at_top = r.unit == DISTRICT
        rows.append([ind.name if ind else r.indicator, catalog.level_label(r.unit),
                     unit_label(catalog, r.department if at_top else r.unit),
                     _fmt(r.completion, 1), _fmt(r.gap, 1),
                     "责任部门说明原因、提出补救措施，纳入督办" if at_top
                     else "单位说明原因、限期追赶，纳入督办"])
    overdue = inputs.supervision[inputs.supervision["overdue"].astype(bool)]
    head = (f"<h2>需要决策的事项（红灯{len(rows)}项，督办反馈超期{len(overdue)}项）</h2>"
            "<p class=\"meta\">红灯：完成率落后于倒排计划超过该指标的红灯阈值（差距为完成率减计划进度，"
            "百分点）。</p>")
    return head + _table(["指标", "单位", "责任单位", "完成率%", "差距(百分点)", "要求"],
                         rows, ["red"] * len(rows))


def _matrix(catalog: Catalog, progress: pd.DataFrame) -> str:
    """Indicator × unit, every cell coloured by status and labelled (完成率 or 缺报, 未到期);
    a selector shows one unit across all indicators."""
    units = [u for u in catalog.units if u != DISTRICT
             and (progress["unit"] == u).any()]
    if not units:
        return ""
    cells = {(r.indicator, r.unit): (r.status, r.completion) for r in progress.itertuples()}
    head = "".join(f'<th data-u="{html.escape(u)}">{html.escape(catalog.unit_name(u))}</th>'
                   for u in [DISTRICT, *units])
    body = []
    for code, ind in catalog.indicators.items():
        if not any((code, u) in cells for u in [DISTRICT, *units]):
            continue
        row = [f'<td class="name">{html.escape(ind.name)}'
               f'<span class="rule">差距{html.escape(status_rule(ind))}</span></td>']
        for u in [DISTRICT, *units]:
            status, completion = cells.get((code, u), (None, None))
            cls = STATUS_CLASS.get(status, "") if isinstance(status, str) else ""
            text = bar_label(status, completion) if (code, u) in cells else "—"
            row.append(f'<td class="{cls}" data-u="{html.escape(u)}">{html.escape(text)}</td>')
        body.append(f"<tr>{''.join(row)}</tr>")
    options = "".join(f'<option value="{html.escape(u)}">{html.escape(catalog.unit_name(u))}'
                      "</option>" for u in units)
    return ("<h2>指标 × 单位（状态与完成率）</h2>"
            '<div class="pick">查看单位：<select id="pick" onchange="pickUnit(this.value)">'
            f'<option value="">全部单位</option>{options}</select></div>'
            f'<div class="wide"><table class="matrix"><tr><th class="name">指标</th>{head}</tr>'
            f"{''.join(body)}</table></div>")


PICK_SCRIPT = ("function pickUnit(u){document.querySelectorAll('table.matrix [data-u]')"
               ".forEach(function(c){var k=c.getAttribute('data-u');"
               f"c.style.display=(!u||k===u||k==='{DISTRICT}')?'':'none';}});}}")


def _safe_json(spec: str) -> str:
    """JSON safe inside a <script>: no ``</`` can end it, no U+2028/9 can break the line."""
    json.loads(spec)  # it is JSON
    return spec.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _overdue_sections(catalog: Catalog, inputs: MonthInputs) -> str:
    ms = inputs.milestones[inputs.milestones["status"] == "overdue"]
    projects = inputs.projects[inputs.projects["status"].isin(["behind", "overdue"])]
    problems = inputs.problems[inputs.problems["overdue"].astype(bool)
                               & (inputs.problems["state"] != lg.CONFIRMED)]
    items = inputs.supervision[inputs.supervision["overdue"].astype(bool)]
    return "".join([
        '<div class="charts lists"><section>',
        "<h2>逾期的重点任务节点</h2>", _table(
            ["任务", "节点", "时限", "牵头单位"],
            [[r.task_code, r.milestone, r.due, unit_label(catalog, r.lead_unit)]
             for r in ms.itertuples()], ["red"] * len(ms)),
        "</section><section><h2>滞后的重大项目</h2>", _table(
            ["项目", "名称", "牵头单位", "完成率%", "差距(百分点)"],
            [[r.project_code, r.name, unit_label(catalog, r.lead_unit), _fmt(r.completion, 1),
              _fmt(r.gap, 1)] for r in projects.itertuples()], ["red"] * len(projects)),
        "</section><section><h2>超期未销号的问题</h2>", _table(
            ["编号", "提出单位", "承办部门", "问题", "状态", "应解决"],
            [[r.problem_id, unit_label(catalog, r.raised_by), unit_label(catalog, r.handler),
              r.content, r.state, r.due] for r in problems.itertuples()],
            ["yellow"] * len(problems)),
        "</section><section><h2>反馈超期的督办事项</h2>", _table(
            ["编号", "事项", "责任单位", "反馈时限"],
            [[item_number(r.item_id), r.title, unit_label(catalog, r.unit), r.due]
             for r in items.itertuples()],
            ["yellow"] * len(items)),
        "</section></div>",
    ])


def write_board(path: Path, catalog: Catalog, inputs: MonthInputs, goals: pd.DataFrame) -> Path:
    """The board at ``reports/<period>/``, its chart library once at ``reports/assets/`` (a
    month's board is 0.1 MB beside it, not 4.9 MB: 22 months of the sample 7 MB, not 108)."""
    shared = path.parent.parent / "assets" / CHART_SCRIPT
    if not shared.exists():
        shared.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(shared, get_plotlyjs().encode("utf-8"))
    return write_atomic(path, board_html(catalog, inputs, goals,
                                         f"../assets/{CHART_SCRIPT}").encode("utf-8"))
