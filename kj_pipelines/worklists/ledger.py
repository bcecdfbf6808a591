"""问题销号进度表: the closed loop of a problem a town raises.

镇街提出诉求 → 区级部门对接问诊 → 问题办理 → 确认销账. A town or park raises a problem (提出) and
names the department asked to handle it; that department accepts it (受理), works on it (办理中)
and reports it done (已办结) with a reply; only the raising unit closes it (确认销号) or refuses
the result (退回), which reopens it (办理中) with its reason.

Transitions are checked one event at a time by :func:`apply_event`; an illegal one (wrong unit,
skipped state, unknown problem) comes back as a :class:`LedgerError` with the interface's reason
code and is never applied. Repeating the current state is an update (a new reply, a corrected
text), not a transition.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import pandas as pd

from kj_pipelines.core.periods import as_date

RAISED, ACCEPTED, IN_PROGRESS, RESOLVED, CONFIRMED = "提出", "受理", "办理中", "已办结", "确认销号"
REFUSED = "退回"  # what the raising unit writes to refuse a result; the problem goes back to 办理中
STATES = (RAISED, ACCEPTED, IN_PROGRESS, RESOLVED, CONFIRMED)
HANDLING = (RAISED, ACCEPTED, IN_PROGRESS)  # the department's turn
ACTIONS = (*STATES, REFUSED)
# state → (who may write it next, the states they may write)
_HANDLER_NEXT = {RAISED: (ACCEPTED,), ACCEPTED: (IN_PROGRESS,), IN_PROGRESS: (RESOLVED,)}
EVENT_COLUMNS = ["problem_id", "period", "unit", "action", "event_date", "content", "category",
                 "handler", "wish_date", "reply"]
PROBLEM_COLUMNS = ["problem_id", "raised_by", "handler", "state", "content", "category",
                   "raised_on", "due", "resolved_on", "closed_on", "reply", "refusals",
                   "last_event", "age_days", "overdue", "on_time"]


class LedgerError(ValueError):
    def __init__(self, reason_code: str, message: str):
        super().__init__(message)
        self.reason_code, self.message = reason_code, message


@dataclass(frozen=True)
class Problem:
    problem_id: str
    raised_by: str
    handler: str
    state: str
    content: str
    category: str
    raised_on: dt.date
    wish_date: dt.date | None
    resolved_on: dt.date | None = None
    closed_on: dt.date | None = None
    reply: str = ""
    refusals: int = 0
    last_event: dt.date | None = None
    history: tuple[tuple[dt.date, str, str], ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Event:
    problem_id: str
    unit: str
    action: str
    event_date: dt.date
    content: str = ""
    category: str = ""
    handler: str = ""
    wish_date: dt.date | None = None
    reply: str = ""


def apply_event(ledger: dict[str, Problem], event: Event) -> Problem:
    """The problem after ``event``; raises :class:`LedgerError` and changes nothing if illegal."""
    current = ledger.get(event.problem_id)
    action = event.action
    if action not in ACTIONS:
        raise LedgerError("illegal_transition", f"状态“{action}”不是{ '、'.join(ACTIONS)}之一")
    if current is None:
        if action != RAISED:
            raise LedgerError("unknown_problem", f"问题编号“{event.problem_id}”不存在（新问题的状态应为“提出”）")
        if not event.content:
            raise LedgerError("illegal_transition", "提出问题须填写问题内容")
        if not event.handler:
            raise LedgerError("illegal_transition", "提出问题须指明承办部门")
        problem = Problem(event.problem_id, event.unit, event.handler, RAISED, event.content,
                          event.category, event.event_date, event.wish_date,
                          last_event=event.event_date,
                          history=((event.event_date, event.unit, RAISED),))
        ledger[event.problem_id] = problem
        return problem
    if current.last_event is not None and event.event_date < current.last_event:
        raise LedgerError("bad_date", f"日期{event.event_date}早于该问题上一次办理日期{current.last_event}")
    state = current.state
    raiser, handler = current.raised_by, current.handler
    if state == CONFIRMED:
        raise LedgerError("illegal_transition", f"问题{current.problem_id}已确认销号，不能再变更")
    if action == state:  # an update of the current step by whoever owns it
        owner = raiser if state == RAISED else handler
        if event.unit != owner:
            raise LedgerError("illegal_transition", f"问题{current.problem_id}处于“{state}”，"
                              f"只有{'提出单位' if state == RAISED else '承办部门'}可以更新")
        updated = replace(current, reply=event.reply or current.reply,
                          content=event.content if state == RAISED and event.content
                          else current.content, last_event=event.event_date)
    elif action in (CONFIRMED, REFUSED) or (action == IN_PROGRESS and state == RESOLVED):
        if state != RESOLVED:
            raise LedgerError("illegal_transition", f"问题{current.problem_id}处于“{state}”，"
                              f"尚未办结，不能{'确认销号' if action == CONFIRMED else '退回'}")
        if event.unit != raiser:
            raise LedgerError("illegal_transition", f"只有提出单位可以{'确认销号' if action == CONFIRMED else '退回'}"
                              f"问题{current.problem_id}")
        if action == CONFIRMED:
            updated = replace(current, state=CONFIRMED, closed_on=event.event_date,
                              last_event=event.event_date)
        else:
            if not event.reply:
                raise LedgerError("illegal_transition", "退回须在“答复/说明”中写明理由")
            updated = replace(current, state=IN_PROGRESS, resolved_on=None,
                              refusals=current.refusals + 1, last_event=event.event_date,
                              reply=f"退回理由：{event.reply}")
            action = REFUSED
    else:
        allowed = _HANDLER_NEXT.get(state, ())
        if action not in allowed:
            raise LedgerError("illegal_transition", f"问题{current.problem_id}处于“{state}”，"
                              f"不能直接变为“{action}”（下一步应为“{'、'.join(allowed) or '确认销号'}”）")
        if event.unit != handler:
            raise LedgerError("illegal_transition", f"只有承办部门可以将问题{current.problem_id}改为“{action}”")
        if action == RESOLVED and not event.reply:
            raise LedgerError("illegal_transition", "办结须在“答复/说明”中填写办理结果")
        updated = replace(current, state=action, last_event=event.event_date,
                          reply=event.reply or current.reply,
                          resolved_on=event.event_date if action == RESOLVED else None)
    updated = replace(updated, history=(*current.history, (event.event_date, event.unit, action)))
    ledger[event.problem_id] = updated
    return updated


def events_from_frame(frame: pd.DataFrame) -> list[Event]:
    return [Event(r.problem_id, r.unit, r.action, as_date(r.event_date), r.content or "",
                  r.category or "", r.handler or "", as_date(r.wish_date), r.reply or "")
            for r in frame.itertuples(index=False)]


def replay(events: list[Event]) -> tuple[dict[str, Problem], list[tuple[Event, LedgerError]]]:
    """The ledger after ``events`` in order; events that are illegal at their turn are skipped."""
    ledger: dict[str, Problem] = {}
    skipped = []
    for event in events:
        try:
            apply_event(ledger, event)
        except LedgerError as exc:
            skipped.append((event, exc))
    return ledger, skipped


def problem_due(problem: Problem, default_workdays: int, add_workdays) -> dt.date:
    """The wished-for date, or the default number of working days after it was raised."""
    return problem.wish_date or add_workdays(problem.raised_on, default_workdays)


def snapshot(ledger: dict[str, Problem], as_of: dt.date, due_of, effective) -> pd.DataFrame:
    """One row per problem as of a date: aging, due date, overdue (still with the department —
    提出, 受理 or 办理中 — past its due, moved to a working day; a problem reported done waits for
    the town's confirmation, which is not the department's delay) and on-time closure (a
    confirmed problem whose final 办结 came by its due date)."""
    rows = []
    for p in ledger.values():
        due = due_of(p)
        closed = p.closed_on
        end = closed or as_of
        rows.append({
            "problem_id": p.problem_id, "raised_by": p.raised_by, "handler": p.handler,
            "state": p.state, "content": p.content, "category": p.category,
            "raised_on": p.raised_on, "due": due, "resolved_on": p.resolved_on,
            "closed_on": closed, "reply": p.reply, "refusals": p.refusals,
            "last_event": p.last_event, "age_days": (end - p.raised_on).days,
            "overdue": p.state in HANDLING and as_of > effective(due),
            # the department's punctuality: its final 办结 (the one the town confirmed) by the due
            "on_time": None if closed is None else bool(p.resolved_on <= effective(due)),
        })
    return pd.DataFrame(rows, columns=PROBLEM_COLUMNS)


def department_summary(problems: pd.DataFrame) -> pd.DataFrame:
    """Per handling department: how many, open, overdue, closed and the on-time closure rate."""
    if problems.empty:
        return pd.DataFrame(columns=["handler", "problems", "open", "overdue", "closed",
                                     "on_time_rate", "mean_age_open"])
    g = problems.assign(is_open=problems["state"] != CONFIRMED,
                        is_closed=problems["state"] == CONFIRMED,
                        on_time_closed=problems["on_time"].eq(True),
                        open_age=problems["age_days"].where(problems["state"] != CONFIRMED))
    out = g.groupby("handler").agg(problems=("problem_id", "size"), open=("is_open", "sum"),
                                   overdue=("overdue", "sum"), closed=("is_closed", "sum"),
                                   on_time=("on_time_closed", "sum"),
                                   mean_age_open=("open_age", "mean")).reset_index()
    out["on_time_rate"] = (out["on_time"] / out["closed"].where(out["closed"] > 0) * 100).round(1)
    return out.drop(columns="on_time")
