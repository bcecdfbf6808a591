"""The status vocabulary of an indicator's figure, the one every page, list and message uses:
green, yellow and red against the back-scheduled plan, done once the target is met, grey for a
figure not there (a unit's 缺报; a total still waiting for its units, 待报齐), and pending for a
target not yet due (未到期). Each with its order (worst first), its label, its mark in the UI
and its colour on the board."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from kj_pipelines.catalog.model import DISTRICT, Catalog, Indicator

STATUS_ORDER = {"red": 0, "grey": 1, "yellow": 2, "green": 3, "done": 4}
STATUS_LABEL = {"red": "红", "yellow": "黄", "green": "绿", "grey": "缺报", "done": "完成",
                "pending": "未到期"}
STATUS_MARK = {"red": "🔴 红", "yellow": "🟡 黄", "green": "🟢 绿", "grey": "⚪ 缺报", "done": "✅ 完成",
               "pending": "⚪ 未到期"}
STATUS_COLOUR = {"red": "#C00000", "yellow": "#E6A700", "green": "#2E7D32", "done": "#1565C0",
                 "grey": "#9E9E9E", "pending": "#9E9E9E"}
INCOMPLETE_LABEL = "待报齐"  # a total with units missing: grey, never judged


def is_incomplete(status: object, missing_units: object) -> bool:
    """A total (a county's, the top's) still waiting for some of its units."""
    try:
        return status == "grey" and int(missing_units or 0) > 0
    except (TypeError, ValueError):  # NaN, None
        return False


def status_label(status: object, missing_units: object = 0, *, mark: bool = False) -> str:
    """What a reader sees for a status: 红/黄/绿/完成, 缺报 for a unit's missing figure, and
    待报齐 for a total whose units have not all reported (grey both, told apart here)."""
    if is_incomplete(status, missing_units):
        return f"⚪ {INCOMPLETE_LABEL}" if mark else INCOMPLETE_LABEL
    if not isinstance(status, str) or status not in STATUS_LABEL:
        return ""
    return STATUS_MARK[status] if mark else STATUS_LABEL[status]


def status_with_estimate(status: object, missing_units: object, estimate_status: object,
                         *, mark: bool = False) -> str:
    """:func:`status_label`, and for a total still waiting for units how many it lacks and the
    status its estimate would have (``待报齐（缺1家，估算黄）``): the estimate is named wherever
    it is shown, and it is never the status."""
    label = status_label(status, missing_units, mark=mark)
    if not is_incomplete(status, missing_units):
        return label
    guess = status_label(estimate_status) if isinstance(estimate_status, str) else ""
    return f"{label}（缺{int(missing_units)}家" + (f"，估算{guess}）" if guess else "）")


def worst_first(progress: pd.DataFrame) -> pd.DataFrame:
    """Red first, then grey, yellow, green, done; within a status the furthest behind first (a
    missing gap last); ties keep their order."""
    rank = progress["status"].map(STATUS_ORDER).to_numpy(dtype="float64")
    gap = progress["gap"].to_numpy(dtype="float64")
    return progress.iloc[np.lexsort((gap, rank))]


def status_rule(indicator: Indicator) -> str:
    """The rule the indicator's light is judged by, printed beside it so a reader can check it:
    its gap (完成率 minus 计划进度, percentage points; the column or the line that shows the
    rule says so) against its own thresholds; a target met is 完成 whatever the gap."""
    yellow, red = f"{indicator.yellow:g}", f"{indicator.red:g}"
    rule = f"≥−{yellow}绿，≥−{red}黄，<−{red}红"
    if indicator.profile == "batch":
        rule += "；首批认定前不评红"
    return rule


def status_rules(catalog: Catalog, codes: Iterable[object]) -> list[str]:
    """:func:`status_rule` of each indicator code (blank for a code the catalog lacks)."""
    return [status_rule(catalog.indicators[c]) if c in catalog.indicators else "" for c in codes]


RULE_NOTE = ("判灯规则：差距＝完成率−计划进度（百分点），与该指标的黄、红阈值比较；完成年度目标为“完成”；"
             "缺报不评灯，合计数缺报单位未齐为“待报齐”")


def status_counts(top: pd.DataFrame, below: Mapping[str, int], top_label: str
                  ) -> dict[str, int]:
    """The month's counts, the same on every page that prints them, each label saying what it
    counts: the top's indicators (``top``: its rows' ``status`` and ``missing_units``) red,
    yellow and 待报齐, then the units below it red, yellow and 缺报 (``below``: status → rows),
    the top's own rows not counted and a unit on two indicators counted twice (单位次)."""
    missing = top["missing_units"] if "missing_units" in top.columns \
        else pd.Series(0, index=top.index)
    waiting = sum(is_incomplete(s, m) for s, m in zip(top["status"], missing, strict=True))
    return {f"{top_label}红灯指标": int((top["status"] == "red").sum()),
            f"{top_label}黄灯指标": int((top["status"] == "yellow").sum()),
            f"{top_label}绿灯或完成指标": int(top["status"].isin(["green", "done"]).sum()),
            f"{top_label}待报齐指标": int(waiting),
            f"红灯单位次（不含{top_label}）": int(below.get("red", 0)),
            f"黄灯单位次（不含{top_label}）": int(below.get("yellow", 0)),
            f"绿灯或完成单位次（不含{top_label}）": int(below.get("green", 0))
            + int(below.get("done", 0)),
            f"缺报单位次（不含{top_label}）": int(below.get("grey", 0))}


def month_counts(progress: pd.DataFrame, top_label: str) -> dict[str, int]:
    """:func:`status_counts` of one month's rows of ``mart.indicator_progress``."""
    below = progress.loc[progress["unit"] != DISTRICT, "status"].value_counts()
    return status_counts(progress[progress["unit"] == DISTRICT], below.to_dict(), top_label)
