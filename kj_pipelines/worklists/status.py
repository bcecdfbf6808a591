"""The status vocabulary of the lists: a task's, a milestone's or a project's (done, on time, at
risk, behind, overdue), a supervision item's (open, reopened, closed) and what opened it, each
with its order (worst first), its label and its mark in the UI."""

from __future__ import annotations

import pandas as pd

LIST_STATUS_ORDER = {"overdue": 0, "behind": 1, "at_risk": 2, "on_time": 3, "done": 4}
LIST_STATUS_MARK = {"overdue": "🔴 逾期", "behind": "🔴 严重滞后", "at_risk": "🟡 临期/滞后",
                    "on_time": "🟢 正常", "done": "✅ 完成", "pending": "⚪ 未到期"}
LIST_STATUS_LABEL = {"overdue": "逾期", "behind": "严重滞后", "at_risk": "临期/滞后", "on_time": "正常",
              "done": "完成", "pending": "未到期"}
SUPERVISION_LABEL = {"open": "督办中", "reopened": "重新督办", "closed": "已销号"}
SOURCE_LABEL = {"indicator": "指标红灯", "task": "任务逾期", "project": "项目滞后", "problem": "问题超期"}


def worst_list_first(frame: pd.DataFrame, status: str = "status") -> pd.DataFrame:
    order = frame[status].map(LIST_STATUS_ORDER).fillna(9)
    return frame.assign(_o=order).sort_values(["_o"], kind="stable").drop(columns="_o")
