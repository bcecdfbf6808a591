"""The lists' state at a month's end: 重点任务攻坚表 (tasks and milestones), 重大项目实施表 (projects),
督办清单 (supervision items) and 责任清单 (responsibilities).

Everything is computed "as of" a date from what was reported for periods up to the month, so a
rerun of a past month gives that month's state, not today's. Working days come from the same
calendar as the back-scheduled plans; a due date on a weekend or holiday moves to the next
working day (遇节假日顺延).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from kj_pipelines.catalog.model import DISTRICT, Catalog
from kj_pipelines.core.periods import as_date, parse_month
from kj_pipelines.core.workdays import add_workdays, effective_due, workdays_until

Holidays = dict[int, dict[str, list[str]]]
TASK_COLUMNS = ["task_code", "action", "content", "lead_unit", "cooperating", "official", "due",
                "next_milestone", "milestones", "milestones_done", "progress", "status",
                "days_overdue", "note"]
MILESTONE_STATUS_COLUMNS = ["task_code", "seq", "milestone", "due", "done_on", "status",
                            "late", "lead_unit"]
PROJECT_COLUMNS = ["project_code", "name", "lead_unit", "cooperating", "official",
                   "annual_investment", "planned_investment", "completed_investment",
                   "completion", "planned_share", "gap", "next_milestone", "due",
                   "milestones", "milestones_done", "status", "note"]
SUPERVISION_COLUMNS = ["item_id", "source", "ref", "unit", "title", "opened_on", "due", "status",
                       "closed_on", "close_reason", "reopened", "overdue"]


@dataclass(frozen=True)
class Calendar:
    holidays: Holidays
    at_risk_workdays: int = 5

    def effective(self, day: dt.date) -> dt.date:
        return effective_due(day, self.holidays)

    def milestone_status(self, due: dt.date, done_on: dt.date | None, as_of: dt.date) -> str:
        if done_on is not None:
            return "done"
        deadline = self.effective(due)
        if as_of > deadline:
            return "overdue"
        if workdays_until(as_of, deadline, self.holidays,
                          cap=self.at_risk_workdays) <= self.at_risk_workdays:
            return "at_risk"
        return "pending"

    def add_workdays(self, day: dt.date, n: int) -> dt.date:
        return add_workdays(day, n, self.holidays)


def _milestones_state(milestones: pd.DataFrame, done: dict[tuple[str, str], dt.date],
                      as_of: dt.date, cal: Calendar, key: str) -> pd.DataFrame:
    rows = []
    for m in milestones.sort_values([key, "seq"]).itertuples(index=False):
        code = getattr(m, key)
        done_on = done.get((code, m.milestone))
        due = as_date(m.due)
        status = cal.milestone_status(due, done_on, as_of)
        rows.append({key: code, "seq": int(m.seq), "milestone": m.milestone, "due": due,
                     "done_on": done_on, "status": status,
                     "late": bool(done_on is not None and done_on > cal.effective(due))})
    return pd.DataFrame(rows, columns=[key, "seq", "milestone", "due", "done_on", "status", "late"])


def _done_dates(progress: pd.DataFrame, key: str, as_of: dt.date) -> dict[tuple[str, str], dt.date]:
    reported = progress[progress["done_on"].notna() & (progress["milestone"] != "")]
    out: dict[tuple[str, str], dt.date] = {}
    for r in reported.itertuples(index=False):
        day = as_date(r.done_on)
        if day is None or day > as_of:
            continue
        k = (getattr(r, key), r.milestone)
        out[k] = min(out.get(k, day), day)
    return out


def _roll_up(mine: pd.DataFrame, as_of: dt.date) -> dict[str, object]:
    """A task's or project's state from its milestones' (in plan order)."""
    open_ = mine[mine["status"] != "done"]
    nxt = open_.iloc[0] if not open_.empty else (mine.iloc[-1] if not mine.empty else None)
    overdue = open_[open_["status"] == "overdue"]
    status = ("done" if open_.empty and not mine.empty else
              "overdue" if not overdue.empty else
              "at_risk" if (open_["status"] == "at_risk").any() else "on_time")
    return {"due": nxt["due"] if nxt is not None else None,
            "next_milestone": nxt["milestone"] if nxt is not None and not open_.empty else "",
            "milestones": len(mine), "milestones_done": int((mine["status"] == "done").sum()),
            "status": status,
            "days_overdue": int(max(((as_of - d).days for d in overdue["due"]), default=0))}


def task_snapshot(tasks: pd.DataFrame, milestones: pd.DataFrame, progress: pd.DataFrame,
                  as_of: dt.date, cal: Calendar) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tasks and milestones of one year as of a date. ``progress`` holds the 任务进展 rows of
    periods up to the month (later ones must be filtered out by the caller)."""
    done = _done_dates(progress, "task_code", as_of)
    states = _milestones_state(milestones, done, as_of, cal, "task_code")
    lead = dict(zip(tasks["task_code"], tasks["lead_unit"], strict=True))
    states["lead_unit"] = states["task_code"].map(lead)
    # rows come in reporting order (period, then file time): the last one is the latest word
    latest = progress.groupby("task_code").last() \
        if not progress.empty else pd.DataFrame(columns=["progress", "note"])
    rows = []
    by_task = dict(tuple(states.groupby("task_code", sort=False)))
    for t in tasks.itertuples(index=False):
        rolled = _roll_up(by_task.get(t.task_code, states.iloc[:0]), as_of)
        reported = latest["progress"].get(t.task_code) if t.task_code in latest.index else None
        share = rolled["milestones_done"] / rolled["milestones"] * 100 if rolled["milestones"] else 0
        progress_pct = float(reported) if reported is not None and not pd.isna(reported) else share
        if rolled["status"] == "done":
            progress_pct = 100.0
        rows.append({"task_code": t.task_code, "action": t.action, "content": t.content,
                     "lead_unit": t.lead_unit, "cooperating": t.cooperating,
                     "official": t.official, **rolled, "progress": round(progress_pct, 1),
                     "note": latest["note"].get(t.task_code, "") if t.task_code in latest.index
                     else ""})
    frame = pd.DataFrame(rows, columns=TASK_COLUMNS)
    return frame, states[MILESTONE_STATUS_COLUMNS]


def planned_to_date(quarters: Iterable[float], month: int) -> float:
    """Planned investment by the end of ``month``: whole quarters, then the current quarter's
    plan spread evenly over its three months."""
    q = list(quarters)
    full, within = divmod(month, 3)
    return sum(q[:full]) + (q[full] * within / 3 if full < 4 else 0.0)


def investment_status(gap: float, yellow: float, red: float) -> str:
    if gap >= -yellow:
        return "on_time"
    if gap >= -red:
        return "at_risk"
    return "behind"


def project_snapshot(projects: pd.DataFrame, milestones: pd.DataFrame, progress: pd.DataFrame,
                     period: str, as_of: dt.date, cal: Calendar, yellow: float,
                     red: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Projects of one year as of a month's end: investment against the quarterly plan (behind by
    the indicator thresholds' rule) and milestones against their dates."""
    month = parse_month(period)[1]
    done = _done_dates(progress, "project_code", as_of)
    states = _milestones_state(milestones, done, as_of, cal, "project_code")
    invested = progress[progress["invested"].notna()].groupby("project_code").last() if not progress.empty else pd.DataFrame(
            columns=["invested", "note"])
    rows = []
    by_project = dict(tuple(states.groupby("project_code", sort=False)))
    for p in projects.itertuples(index=False):
        quarters = [p.q1, p.q2, p.q3, p.q4]
        annual = float(sum(quarters))
        planned = planned_to_date(quarters, month)
        completed = float(invested["invested"].get(p.project_code, 0.0)) \
            if p.project_code in invested.index else 0.0
        completion = completed / annual * 100 if annual else 100.0
        planned_share = planned / annual * 100 if annual else 100.0
        gap = completion - planned_share
        rolled = _roll_up(by_project.get(p.project_code, states.iloc[:0]), as_of)
        money = investment_status(gap, yellow, red)
        if rolled["status"] == "done" and completed >= annual:
            status = "done"
        elif rolled["status"] == "overdue":
            status = "overdue"
        elif money == "behind":
            status = "behind"
        elif money == "at_risk" or rolled["status"] == "at_risk":
            status = "at_risk"
        else:
            status = "on_time"
        rows.append({"project_code": p.project_code, "name": p.name, "lead_unit": p.lead_unit,
                     "cooperating": p.cooperating, "official": p.official,
                     "annual_investment": annual, "planned_investment": round(planned, 2),
                     "completed_investment": completed, "completion": round(completion, 1),
                     "planned_share": round(planned_share, 1), "gap": round(gap, 1),
                     "next_milestone": rolled["next_milestone"], "due": rolled["due"],
                     "milestones": rolled["milestones"],
                     "milestones_done": rolled["milestones_done"], "status": status,
                     "note": invested["note"].get(p.project_code, "")
                     if p.project_code in invested.index else ""})
    return pd.DataFrame(rows, columns=PROJECT_COLUMNS), states


# ── 督办清单 ─────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class Cause:
    item_id: str
    source: str  # indicator | task | project | problem
    ref: str
    unit: str
    title: str


def supervision_causes(catalog: Catalog, red_progress: pd.DataFrame, milestones: pd.DataFrame,
                       projects: pd.DataFrame, problems: pd.DataFrame,
                       escalate_after: int, red_streaks: dict[tuple[str, str], int]
                       ) -> list[Cause]:
    """What puts an item on the supervision list this month: red (and escalated) indicators,
    overdue milestones of key tasks, projects behind plan or late, overdue problems."""
    causes = []
    for r in red_progress.itertuples(index=False):
        ind = catalog.indicators.get(r.indicator)
        owner = ind.department if r.unit == DISTRICT and ind else r.unit
        streak = red_streaks.get((r.indicator, r.unit), 1)
        level = f"连续{streak}个月红灯（升级）" if streak >= escalate_after else "红灯"
        name = ind.name if ind else r.indicator
        unit_name = catalog.unit_name(r.unit)
        causes.append(Cause(indicator_item_id(r.indicator, r.unit), "indicator",
                            f"{r.indicator}:{r.unit}", owner, f"{unit_name}{name}{level}"))
    for m in milestones[milestones["status"] == "overdue"].itertuples(index=False):
        causes.append(Cause(f"task:{m.task_code}:{m.seq}", "task", f"{m.task_code}:{m.seq}",
                            m.lead_unit, f"重点任务{m.task_code}节点“{m.milestone}”逾期"
                                         f"（应于{m.due}完成）"))
    for p in projects[projects["status"].isin(["behind", "overdue"])].itertuples(index=False):
        why = "节点逾期" if p.status == "overdue" else f"投资落后计划{abs(p.gap):.1f}个百分点"
        causes.append(Cause(f"project:{p.project_code}", "project", p.project_code, p.lead_unit,
                            f"重大项目{p.project_code}（{p.name}）{why}"))
    for q in problems[problems["overdue"].astype(bool)].itertuples(index=False):
        causes.append(Cause(f"problem:{q.problem_id}", "problem", q.problem_id, q.handler,
                            f"问题{q.problem_id}超期未销号（应于{q.due}前解决）"))
    return causes


def indicator_item_id(indicator: str, unit: str) -> str:
    return f"indicator:{indicator}:{unit}"


# 督办编号 as printed and as the bureau writes it back in 督办反馈认可表: the item's kind in words
# and its reference, e.g. 督-指标-MAJOR_PROJ_INV-XP, 督-任务-T26204-2, 督-问题-XP-202507-7F61;
# one-to-one with the stored item id, so the number never shifts as items open and close
ITEM_KIND_LABEL = {"indicator": "指标", "task": "任务", "project": "项目", "problem": "问题"}
_KIND_OF_LABEL = {v: k for k, v in ITEM_KIND_LABEL.items()}


def item_number(item_id: str) -> str:
    """The printed 督办编号 of a stored item id."""
    kind, _, ref = str(item_id).partition(":")
    if kind not in ITEM_KIND_LABEL:
        return str(item_id)
    return f"督-{ITEM_KIND_LABEL[kind]}-{ref.replace(':', '-')}"


def item_id_of(number: str) -> str:
    """The stored item id of a 督办编号 as printed (or already an item id)."""
    text = str(number).strip()
    prefix, _, rest = text.partition("-")
    label, _, ref = rest.partition("-")
    if prefix != "督" or label not in _KIND_OF_LABEL or not ref:
        return text
    kind = _KIND_OF_LABEL[label]
    if kind == "indicator":  # 指标代码-单位代码 (codes carry no dash)
        code, _, unit = ref.partition("-")
        return f"indicator:{code}:{unit}"
    if kind == "task":  # 任务代码-节点序号
        code, _, seq = ref.rpartition("-")
        return f"task:{code}:{seq}"
    return f"{kind}:{ref}"


def supervision_ledger(months: list[tuple], feedback: pd.DataFrame,
                       feedback_workdays: int, cal: Calendar) -> pd.DataFrame:
    """Replay the months in order: a cause opens its item (feedback due in N working days), the
    item closes when the cause recovers or the bureau accepts the feedback, and reopens if the
    cause comes back after it closed. ``months`` holds (month end, causes) or (month end,
    causes, judged): ``judged`` names the indicator items whose figure was judged that month
    (:func:`indicator_item_id`); an indicator item whose figure is unknown that month (the unit
    has not reported yet, a total still waiting for units) neither opens nor recovers: its
    cause has not gone, it has not been seen."""
    accepted: dict[str, list[tuple[dt.date, str]]] = {}
    for f in feedback.itertuples(index=False):
        accepted.setdefault(item_id_of(f.item_id), []).append((as_date(f.accepted_on), f.note))
    items: dict[str, dict] = {}
    as_of = months[-1][0] if months else dt.date.min
    for month in months:
        as_of, causes = month[0], month[1]
        judged = month[2] if len(month) > 2 else None
        active = {c.item_id: c for c in causes}
        for item_id, cause in active.items():
            item = items.get(item_id)
            if item is None:
                items[item_id] = {"item_id": item_id, "source": cause.source, "ref": cause.ref,
                                  "unit": cause.unit, "title": cause.title, "opened_on": as_of,
                                  "due": cal.add_workdays(as_of, feedback_workdays),
                                  "status": "open", "closed_on": None, "close_reason": "",
                                  "reopened": 0, "active": True}
                continue
            item["title"] = cause.title
            if item["status"] == "closed" and not item["active"]:
                item.update(status="reopened", closed_on=None, close_reason="", opened_on=as_of,
                            due=cal.add_workdays(as_of, feedback_workdays),
                            reopened=item["reopened"] + 1)
            item["active"] = True
        for item_id, item in items.items():
            if item_id in active:
                continue
            if judged is not None and item["source"] == "indicator" and item_id not in judged:
                continue  # not seen this month: it stays as it was
            item["active"] = False
            if item["status"] != "closed":
                item.update(status="closed", closed_on=as_of, close_reason="原因消除")
        for item_id, item in items.items():
            if item["status"] == "closed":
                continue
            for day, note in accepted.get(item_id, ()):
                if item["opened_on"] <= day <= as_of:
                    item.update(status="closed", closed_on=day,
                                close_reason=f"反馈已认可{('：' + note) if note else ''}")
                    break
    rows = []
    for item in items.values():
        overdue = item["status"] != "closed" and as_of > cal.effective(item["due"])
        rows.append({k: item[k] for k in SUPERVISION_COLUMNS if k != "overdue"} | {"overdue": overdue})
    return pd.DataFrame(rows, columns=SUPERVISION_COLUMNS)


# ── 责任清单 ─────────────────────────────────────────────────────────────────────

RESPONSIBILITY_COLUMNS = ["item_kind", "item_code", "item_name", "lead_unit", "cooperating",
                          "official", "issue"]


def responsibilities(catalog: Catalog, tasks: pd.DataFrame, projects: pd.DataFrame
                     ) -> pd.DataFrame:
    """Lead, cooperating units and the responsible official of every indicator, task and project;
    ``issue`` says what is wrong (no lead, a unit not in the catalog), empty when all is right."""
    rows = []

    def add(kind: str, code: str, name: str, lead: str, coop: list[str], official: str) -> None:
        issues = []
        if not lead:
            issues.append("未明确牵头单位")
        elif lead not in catalog.units:
            issues.append(f"牵头单位“{lead}”不在单位目录中")
        unknown = [c for c in coop if c and c not in catalog.units]
        if unknown:
            issues.append(f"配合单位“{'、'.join(unknown)}”不在单位目录中")
        rows.append({"item_kind": kind, "item_code": code, "item_name": name, "lead_unit": lead,
                     "cooperating": "、".join(coop), "official": official,
                     "issue": "；".join(issues)})

    for ind in catalog.indicators.values():
        dept = catalog.units.get(ind.department)
        add("indicator", ind.code, ind.name, ind.department, list(ind.cooperating),
            ind.official or (dept.official if dept else ""))
    for t in tasks.itertuples(index=False):
        add("task", t.task_code, t.content, t.lead_unit,
            [c for c in str(t.cooperating or "").split("、") if c], t.official or "")
    for p in projects.itertuples(index=False):
        add("project", p.project_code, p.name, p.lead_unit,
            [c for c in str(p.cooperating or "").split("、") if c], p.official or "")
    return pd.DataFrame(rows, columns=RESPONSIBILITY_COLUMNS)


