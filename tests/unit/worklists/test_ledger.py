"""问题销号: every legal and illegal transition of the ledger, on hand-made events."""

import datetime as dt

import pytest

from kj_pipelines.worklists import ledger as lg
from kj_pipelines.worklists.state import Calendar

D = dt.date
TOWN, DEPT, OTHER_TOWN, OTHER_DEPT = "JLH", "FGJ", "XP", "KJJ"


RAISED_ON = D(2026, 3, 10)


def raise_(ledger, day=RAISED_ON, pid="P1", **kw):
    return lg.apply_event(ledger, lg.Event(pid, kw.pop("unit", TOWN), lg.RAISED, day,
                                           kw.pop("content", "用地指标不足"), "用地保障",
                                           kw.pop("handler", DEPT), kw.pop("wish", D(2026, 4, 30)),
                                           ""))


def step(ledger, unit, action, day, reply="", pid="P1"):
    return lg.apply_event(ledger, lg.Event(pid, unit, action, day, reply=reply))


def walk_to(state: str) -> dict:
    ledger: dict = {}
    raise_(ledger)
    path = [(DEPT, lg.ACCEPTED, D(2026, 3, 12), ""), (DEPT, lg.IN_PROGRESS, D(2026, 3, 15), ""),
            (DEPT, lg.RESOLVED, D(2026, 4, 2), "已协调解决"), (TOWN, lg.CONFIRMED, D(2026, 4, 8), "")]
    for unit, action, day, reply in path:
        if ledger["P1"].state == state:
            break
        step(ledger, unit, action, day, reply)
    assert ledger["P1"].state == state
    return ledger


def test_the_closed_loop_from_raised_to_confirmed():
    ledger = walk_to(lg.CONFIRMED)
    problem = ledger["P1"]
    assert problem.closed_on == D(2026, 4, 8)
    assert problem.resolved_on == D(2026, 4, 2)
    assert [h[2] for h in problem.history] == ["提出", "受理", "办理中", "已办结", "确认销号"]


@pytest.mark.parametrize(("state", "unit", "action"), [
    (lg.RAISED, DEPT, lg.ACCEPTED), (lg.ACCEPTED, DEPT, lg.IN_PROGRESS),
    (lg.IN_PROGRESS, DEPT, lg.RESOLVED), (lg.RESOLVED, TOWN, lg.CONFIRMED),
    (lg.RESOLVED, TOWN, lg.REFUSED), (lg.RESOLVED, TOWN, lg.IN_PROGRESS),
    # repeating the current step is an update by whoever owns it
    (lg.RAISED, TOWN, lg.RAISED), (lg.ACCEPTED, DEPT, lg.ACCEPTED),
    (lg.IN_PROGRESS, DEPT, lg.IN_PROGRESS), (lg.RESOLVED, DEPT, lg.RESOLVED),
])
def test_legal_transitions(state, unit, action):
    ledger = walk_to(state)
    lg.apply_event(ledger, lg.Event("P1", unit, action, D(2026, 6, 1), reply="理由或答复"))


@pytest.mark.parametrize(("state", "unit", "action", "reason"), [
    # skipped states
    (lg.RAISED, DEPT, lg.IN_PROGRESS, "illegal_transition"),
    (lg.RAISED, DEPT, lg.RESOLVED, "illegal_transition"),
    (lg.ACCEPTED, DEPT, lg.RESOLVED, "illegal_transition"),
    (lg.RAISED, TOWN, lg.CONFIRMED, "illegal_transition"),
    (lg.IN_PROGRESS, TOWN, lg.CONFIRMED, "illegal_transition"),
    (lg.ACCEPTED, TOWN, lg.REFUSED, "illegal_transition"),
    # wrong unit
    (lg.RAISED, OTHER_DEPT, lg.ACCEPTED, "illegal_transition"),
    (lg.RAISED, TOWN, lg.ACCEPTED, "illegal_transition"),
    (lg.IN_PROGRESS, OTHER_DEPT, lg.RESOLVED, "illegal_transition"),
    (lg.RESOLVED, DEPT, lg.CONFIRMED, "illegal_transition"),
    (lg.RESOLVED, OTHER_TOWN, lg.CONFIRMED, "illegal_transition"),
    (lg.RESOLVED, OTHER_TOWN, lg.REFUSED, "illegal_transition"),
    (lg.ACCEPTED, TOWN, lg.ACCEPTED, "illegal_transition"),
    # going back, or anything after closing
    (lg.IN_PROGRESS, DEPT, lg.ACCEPTED, "illegal_transition"),
    (lg.RESOLVED, DEPT, lg.IN_PROGRESS, "illegal_transition"),
    (lg.CONFIRMED, TOWN, lg.REFUSED, "illegal_transition"),
    (lg.CONFIRMED, DEPT, lg.IN_PROGRESS, "illegal_transition"),
    (lg.CONFIRMED, TOWN, lg.CONFIRMED, "illegal_transition"),
    (lg.ACCEPTED, DEPT, "已解决", "illegal_transition"),
])
def test_illegal_transitions_are_refused_and_change_nothing(state, unit, action, reason):
    ledger = walk_to(state)
    before = ledger["P1"]
    with pytest.raises(lg.LedgerError) as err:
        lg.apply_event(ledger, lg.Event("P1", unit, action, D(2026, 6, 1), reply="答复"))
    assert err.value.reason_code == reason
    assert ledger["P1"] == before


def test_only_the_raising_town_confirms():
    ledger = walk_to(lg.RESOLVED)
    for unit in (DEPT, OTHER_TOWN, OTHER_DEPT):
        with pytest.raises(lg.LedgerError, match="只有提出单位"):
            step(ledger, unit, lg.CONFIRMED, D(2026, 4, 9))
    assert step(ledger, TOWN, lg.CONFIRMED, D(2026, 4, 9)).state == lg.CONFIRMED


def test_a_refusal_reopens_with_its_reason_and_the_loop_closes_later():
    ledger = walk_to(lg.RESOLVED)
    with pytest.raises(lg.LedgerError, match="理由"):
        step(ledger, TOWN, lg.REFUSED, D(2026, 4, 9))  # no reason given
    reopened = step(ledger, TOWN, lg.REFUSED, D(2026, 4, 9), "资金仍未到账")
    assert (reopened.state, reopened.refusals, reopened.resolved_on) == (lg.IN_PROGRESS, 1, None)
    assert "资金仍未到账" in reopened.reply
    step(ledger, DEPT, lg.RESOLVED, D(2026, 5, 6), "资金已拨付")
    assert step(ledger, TOWN, lg.CONFIRMED, D(2026, 5, 8)).closed_on == D(2026, 5, 8)


def test_unknown_problem_and_incomplete_raise():
    ledger: dict = {}
    with pytest.raises(lg.LedgerError) as err:
        step(ledger, DEPT, lg.ACCEPTED, D(2026, 3, 1), pid="NOPE")
    assert err.value.reason_code == "unknown_problem"
    with pytest.raises(lg.LedgerError, match="承办部门"):
        raise_(ledger, handler="")
    with pytest.raises(lg.LedgerError, match="问题内容"):
        raise_(ledger, content="")
    assert ledger == {}


def test_resolving_needs_a_reply_and_dates_do_not_go_back():
    ledger = walk_to(lg.IN_PROGRESS)
    with pytest.raises(lg.LedgerError, match="办理结果"):
        step(ledger, DEPT, lg.RESOLVED, D(2026, 4, 1))
    with pytest.raises(lg.LedgerError) as err:
        step(ledger, DEPT, lg.RESOLVED, D(2026, 3, 1), "早于上一步")
    assert err.value.reason_code == "bad_date"


def test_replay_skips_what_became_illegal():
    events = [lg.Event("P1", TOWN, lg.RAISED, D(2026, 3, 1), "内容", "", DEPT),
              lg.Event("P1", DEPT, lg.RESOLVED, D(2026, 3, 2), reply="x"),  # skips 受理
              lg.Event("P1", DEPT, lg.ACCEPTED, D(2026, 3, 3))]
    ledger, skipped = lg.replay(events)
    assert ledger["P1"].state == lg.ACCEPTED
    assert [e.action for e, _ in skipped] == [lg.RESOLVED]


CAL = Calendar({}, at_risk_workdays=5)


def _snapshot(ledger, as_of):
    return lg.snapshot(ledger, as_of, lambda p: lg.problem_due(p, 20, CAL.add_workdays),
                       CAL.effective).set_index("problem_id")


@pytest.mark.parametrize(("wish", "as_of", "overdue"), [
    (D(2026, 4, 30), D(2026, 4, 30), False),  # due today (a Thursday)
    (D(2026, 4, 30), D(2026, 5, 6), True),
    (D(2026, 5, 2), D(2026, 5, 6), False),  # 1-5 May is the Labour Day holiday: due moves on
    (D(2026, 5, 2), D(2026, 5, 7), True),
    (D(2026, 6, 13), D(2026, 6, 15), False),  # a Saturday: due on Monday
    (D(2026, 6, 13), D(2026, 6, 16), True),
])
def test_problem_overdue_at_its_boundaries(wish, as_of, overdue):
    ledger: dict = {}
    raise_(ledger, wish=wish)
    step(ledger, DEPT, lg.ACCEPTED, D(2026, 3, 12))
    assert bool(_snapshot(ledger, as_of).at["P1", "overdue"]) is overdue


def test_a_problem_awaiting_confirmation_is_not_the_departments_delay():
    ledger = walk_to(lg.RESOLVED)
    row = _snapshot(ledger, D(2026, 8, 1)).loc["P1"]
    assert not row["overdue"]
    assert row["age_days"] == (D(2026, 8, 1) - D(2026, 3, 10)).days


def test_default_due_is_twenty_working_days_and_closure_rates():
    ledger: dict = {}
    raise_(ledger, wish=None)
    step(ledger, DEPT, lg.ACCEPTED, D(2026, 3, 11))
    raise_(ledger, pid="P2")
    frame = lg.snapshot(ledger, D(2026, 5, 31), lambda p: lg.problem_due(p, 20, CAL.add_workdays),
                        CAL.effective)
    # 20 working days after Tuesday 10 March 2026: 7 April, but 4-6 April is Qingming and the
    # 4th a Saturday anyway, so the count reaches 8 April
    assert frame.set_index("problem_id").at["P1", "due"] == D(2026, 4, 8)
    ledger = walk_to(lg.CONFIRMED)
    summary = lg.department_summary(_snapshot(ledger, D(2026, 6, 1)).reset_index())
    assert summary.set_index("handler").loc[DEPT, ["problems", "closed", "on_time_rate"]].tolist() \
        == [1, 1, 100.0]
