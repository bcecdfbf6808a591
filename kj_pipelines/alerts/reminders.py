"""Due-date reminders and overdue warnings of the lists (任务节点、项目节点、问题、督办事项).

An item not done is reminded ``reminder_workdays`` working days before its due date (level
``due_soon``) and warned once it is past it (level ``overdue``); a due date on a weekend or holiday
moves to the next working day. Each warning's id is (kind, item, level), so it is raised once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kj_pipelines.alerts.rules import Alert
from kj_pipelines.core.workdays import workdays_until
from kj_pipelines.worklists.state import Calendar

KIND_LABEL = {"milestone": "重点任务节点", "project": "重大项目节点", "problem": "问题办理",
              "supervision": "督办事项反馈"}
LEVEL_LABEL = {"due_soon": "到期提醒", "overdue": "逾期预警"}


@dataclass(frozen=True)
class DueItem:
    kind: str  # milestone | project | problem | supervision
    item_id: str
    period: str  # the snapshot the item was read from
    unit: str
    unit_name: str
    title: str
    due: dt.date


def due_warnings(items: list[DueItem], today: dt.date, reminder_workdays: int,
                 cal: Calendar) -> list[Alert]:
    out = []
    for item in items:
        deadline = cal.effective(item.due)
        if today > deadline:
            level = "overdue"
            when = f"已于{deadline:%Y年%m月%d日}到期，逾期{(today - deadline).days}天"
            ask = "请责任单位立即说明原因、提出补救措施并限期完成，逾期事项纳入督办清单。"
        elif workdays_until(today, deadline, cal.holidays, cap=reminder_workdays) \
                <= reminder_workdays:
            level = "due_soon"
            left = workdays_until(today, deadline, cal.holidays)
            when = f"将于{deadline:%Y年%m月%d日}到期（还有{left}个工作日）"
            ask = "请责任单位按期完成并及时在月度填报中报送进展。"
        else:
            continue
        title = f"【{LEVEL_LABEL[level]}】{KIND_LABEL[item.kind]}：{item.unit_name} {item.title}"
        body = f"**{item.unit_name}**：{item.title}，{when}。\n\n{ask}"
        out.append(Alert(f"{item.kind}:{item.item_id}:{level}", item.kind, item.period,
                           item.item_id, item.unit, level, title, body))
    return out
