"""Key tasks, major projects, the supervision list, responsibilities and due-date reminders on
hand-worked cases."""

import datetime as dt

import pandas as pd
import pytest

from kj_pipelines.alerts.reminders import DueItem, due_warnings
from kj_pipelines.intake.planlists import MILESTONE_COLUMNS, PROJECT_COLUMNS, TASK_COLUMNS
from kj_pipelines.worklists.state import (
    Calendar,
    Cause,
    planned_to_date,
    project_snapshot,
    responsibilities,
    supervision_ledger,
    task_snapshot,
)

D = dt.date
CAL = Calendar({}, at_risk_workdays=5)


def _tasks(*rows):
    return pd.DataFrame([{"year": 2026, "task_code": code, "action": "reform", "content": "内容",
                          "lead_unit": lead, "cooperating": "", "official": "", "source_file": "",
                          "row": 0} for code, lead in rows], columns=TASK_COLUMNS)


def _milestones(*rows):
    return pd.DataFrame([{"year": 2026, "task_code": code, "seq": seq, "milestone": name, "due": due}
                         for code, seq, name, due in rows], columns=MILESTONE_COLUMNS)


def _progress(*rows):
    return pd.DataFrame([{"unit": "KJJ", "period": period, "task_code": code, "milestone": name,
                          "done_on": done, "progress": pct, "note": "", "sheet": "任务进展", "row": i}
                         for i, (period, code, name, done, pct) in enumerate(rows)])


def test_task_statuses_as_of_a_month_end():
    tasks = _tasks(("T1", "KJJ"), ("T2", "KJJ"), ("T3", "JLH"), ("T4", "XP"))
    milestones = _milestones(
        ("T1", 1, "方案", D(2026, 3, 31)), ("T1", 2, "完成", D(2026, 9, 30)),
        ("T2", 1, "方案", D(2026, 3, 31)), ("T2", 2, "完成", D(2026, 12, 25)),
        ("T3", 1, "方案", D(2026, 9, 30)), ("T3", 2, "完成", D(2026, 12, 25)),
        ("T4", 1, "方案", D(2026, 11, 5)))
    progress = _progress(("2026-03", "T1", "方案", D(2026, 3, 20), 50.0),
                         ("2026-09", "T1", "完成", D(2026, 9, 28), 100.0),
                         ("2026-03", "T2", "方案", D(2026, 3, 25), None),
                         ("2026-10", "T3", "", None, 30.0))
    frame, states = task_snapshot(tasks, milestones, progress, D(2026, 10, 31), CAL)
    got = frame.set_index("task_code")
    assert got["status"].to_dict() == {"T1": "done", "T2": "on_time", "T3": "overdue",
                                      "T4": "at_risk"}
    # T3's plan date was 30 September: 31 days overdue on 31 October
    assert got.at["T3", "days_overdue"] == 31
    assert got.at["T3", "progress"] == 30.0  # as reported
    assert got.at["T2", "progress"] == 50.0  # one milestone of two, nothing reported
    assert (got.at["T2", "next_milestone"], got.at["T2", "due"]) == ("完成", D(2026, 12, 25))
    # 5 November 2026 is 4 working days after 31 October (a Saturday): at risk, not overdue
    assert states.set_index(["task_code", "seq"]).at[("T4", 1), "status"] == "at_risk"


def test_a_rerun_of_an_earlier_month_sees_only_what_was_done_by_then():
    tasks = _tasks(("T1", "KJJ"))
    milestones = _milestones(("T1", 1, "方案", D(2026, 3, 31)), ("T1", 2, "完成", D(2026, 9, 30)))
    progress = _progress(("2026-03", "T1", "方案", D(2026, 3, 20), 50.0))
    frame, _ = task_snapshot(tasks, milestones, progress, D(2026, 2, 28), CAL)
    assert frame["milestones_done"].tolist() == [0]


def test_due_on_a_holiday_or_weekend_moves_to_the_next_working_day():
    # 1 October 2026 (National Day, 1-7 October): due moves to 8 October
    assert CAL.milestone_status(D(2026, 10, 1), None, D(2026, 10, 8)) == "at_risk"
    assert CAL.milestone_status(D(2026, 10, 1), None, D(2026, 10, 9)) == "overdue"
    # a Saturday: due the Monday after
    assert CAL.milestone_status(D(2026, 6, 13), None, D(2026, 6, 15)) == "at_risk"
    assert CAL.milestone_status(D(2026, 6, 13), None, D(2026, 6, 16)) == "overdue"
    # due today is not overdue
    assert CAL.milestone_status(D(2026, 6, 16), None, D(2026, 6, 16)) == "at_risk"


def test_planned_investment_by_quarter():
    quarters = (100.0, 200.0, 300.0, 400.0)
    assert planned_to_date(quarters, 1) == pytest.approx(100 / 3)
    assert planned_to_date(quarters, 3) == 100
    assert planned_to_date(quarters, 5) == pytest.approx(100 + 200 * 2 / 3)
    assert planned_to_date(quarters, 12) == 1000


def test_project_status_by_the_threshold_rule_and_milestones():
    projects = pd.DataFrame([
        {"year": 2026, "project_code": code, "name": code, "lead_unit": "XP", "cooperating": "",
         "official": "", "total_investment": 3000.0, "q1": 100.0, "q2": 200.0, "q3": 300.0,
         "q4": 400.0, "source_file": "", "row": 0} for code in ("A", "B", "C", "D")],
        columns=PROJECT_COLUMNS)
    milestones = pd.DataFrame([
        {"year": 2026, "project_code": "D", "seq": 1, "milestone": "开工", "due": D(2026, 3, 31)}])
    planned_june = 300.0  # 30 % of 1,000
    progress = pd.DataFrame([
        {"unit": "XP", "period": "2026-06", "project_code": code, "invested": value,
         "milestone": "", "done_on": None, "note": "", "sheet": "项目进展", "row": i}
        for i, (code, value) in enumerate([("A", planned_june), ("B", 240.0), ("C", 180.0),
                                           ("D", 400.0)])])
    frame, _ = project_snapshot(projects, milestones, progress, "2026-06", D(2026, 6, 30), CAL,
                                yellow=5, red=10)
    got = frame.set_index("project_code")
    # B: 24 % done against 30 % planned, 6 points behind (yellow 5); C: 12 points (red 10)
    assert got["gap"].to_dict() == {"A": 0.0, "B": -6.0, "C": -12.0, "D": 10.0}
    assert got["status"].to_dict() == {"A": "on_time", "B": "at_risk", "C": "behind",
                                      "D": "overdue"}


def _cause(item, unit="XP"):
    return Cause(item, item.split(":")[0], item, unit, f"事项{item}")


def test_supervision_items_open_close_with_their_cause_and_reopen():
    months = [(D(2026, 6, 30), [_cause("task:T1:1"), _cause("problem:P1", "FGJ")]),
              (D(2026, 7, 31), [_cause("task:T1:1")]),
              (D(2026, 8, 31), []),
              (D(2026, 9, 30), [_cause("task:T1:1")])]
    frame = supervision_ledger(months, pd.DataFrame(columns=["item_id", "accepted_on", "note"]),
                               10, CAL).set_index("item_id")
    assert frame.at["problem:P1", "status"] == "closed"
    assert frame.at["problem:P1", "close_reason"] == "原因消除"
    assert frame.at["problem:P1", "closed_on"] == D(2026, 7, 31)
    task = frame.loc["task:T1:1"]
    assert (task["status"], task["reopened"], task["opened_on"]) == ("reopened", 1, D(2026, 9, 30))
    # feedback due 10 working days after 30 September: National Day (1-7 October) off, Saturday
    # 10 October a make-up working day: 8, 9, 10, 12-16, 19, 20 October
    assert task["due"] == D(2026, 10, 20)
    assert not task["overdue"]


def test_an_indicator_item_stays_open_while_its_figure_is_not_reported():
    # JLH red on HT_VA in September; in October it has not reported yet (not judged): the item
    # neither closes as 原因消除 nor reopens; in November it is green again and the item closes
    red = _cause("indicator:HT_VA:JLH", "JLH")
    months = [(D(2026, 9, 30), [red], {"indicator:HT_VA:JLH"}),
              (D(2026, 10, 31), [], set()),
              (D(2026, 11, 30), [], {"indicator:HT_VA:JLH"})]
    frame = supervision_ledger(months[:2], pd.DataFrame(columns=["item_id", "accepted_on", "note"]),
                               10, CAL).set_index("item_id")
    item = frame.loc["indicator:HT_VA:JLH"]
    assert (item["status"], item["close_reason"], item["opened_on"]) == (
        "open", "", D(2026, 9, 30))
    frame = supervision_ledger(months, pd.DataFrame(columns=["item_id", "accepted_on", "note"]),
                               10, CAL).set_index("item_id")
    item = frame.loc["indicator:HT_VA:JLH"]
    assert (item["status"], item["close_reason"], item["closed_on"]) == (
        "closed", "原因消除", D(2026, 11, 30))


def test_supervision_closed_when_the_bureau_accepts_feedback_and_overdue_otherwise():
    months = [(D(2026, 6, 30), [_cause("project:P1"), _cause("project:P2")]),
              (D(2026, 7, 31), [_cause("project:P1"), _cause("project:P2")])]
    feedback = pd.DataFrame([{"item_id": "project:P1", "accepted_on": D(2026, 7, 10),
                              "note": "整改方案可行"}])
    frame = supervision_ledger(months, feedback, 10, CAL).set_index("item_id")
    assert frame.at["project:P1", "status"] == "closed"
    assert frame.at["project:P1", "close_reason"].startswith("反馈已认可")
    assert frame.at["project:P2", "status"] == "open"
    assert frame.at["project:P2", "due"] == D(2026, 7, 14)
    assert frame.at["project:P2", "overdue"]


def test_responsibilities_flag_missing_leads_and_unknown_units(catalog):
    tasks = _tasks(("T1", "KJJ"), ("T2", ""), ("T3", "区不存在局"))
    tasks.loc[0, "cooperating"] = "FGJ、某某办"
    frame = responsibilities(catalog, tasks, pd.DataFrame(columns=PROJECT_COLUMNS))
    issues = frame.set_index("item_code")["issue"]
    assert issues["T1"] == "配合单位“某某办”不在单位目录中"
    assert issues["T2"] == "未明确牵头单位"
    assert issues["T3"] == "牵头单位“区不存在局”不在单位目录中"
    indicators = frame[frame["item_kind"] == "indicator"]
    assert len(indicators) == len(catalog.indicators)
    assert (indicators["issue"] == "").all() and (indicators["official"] != "").all()


def test_reminders_before_the_due_date_and_warnings_after():
    items = [DueItem("milestone", "T1:1", "2026-10", "KJJ", "区科技局", "节点", D(2026, 11, 5)),
             DueItem("problem", "P1", "2026-10", "FGJ", "区发改局", "问题", D(2026, 10, 1)),
             DueItem("supervision", "S1", "2026-10", "XP", "澥浦镇", "事项", D(2026, 12, 1))]
    warnings = due_warnings(items, D(2026, 11, 2), reminder_workdays=3, cal=CAL)
    got = {w.warning_id: w for w in warnings}
    assert set(got) == {"milestone:T1:1:due_soon", "problem:P1:overdue"}
    assert "还有3个工作日" in got["milestone:T1:1:due_soon"].message
    # due 1 October (holiday) moves to 8 October: 25 days overdue on 2 November
    assert "逾期25天" in got["problem:P1:overdue"].message


def test_the_responsibility_check_fails_on_a_task_without_a_known_lead(catalog, tmp_path):
    from kj_pipelines.worklists.service import ListData, responsibilities_list

    tasks = _tasks(("T1", "KJJ"), ("T2", "区不存在局"))
    empty = pd.DataFrame()
    data = ListData({"tasks": tasks, "milestones": empty, "projects": pd.DataFrame(
        columns=PROJECT_COLUMNS), "project_milestones": empty, "feedback": empty},
        empty, empty, empty)
    result = responsibilities_list(None, data, catalog, "2026-10", tmp_path / "reports")
    failing = result.findings["leads_known"]
    assert failing["item_code"].tolist() == ["T2"]
    assert result.metadata["issues"] == 1
    assert (tmp_path / "reports" / "2026-10" / "责任清单_2026-10.xlsx").exists()
