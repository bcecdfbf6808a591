"""The list sheets of a unit's monthly workbook: 任务进展 (key-task milestones), 项目进展 (major
projects' investment and milestones) and 问题清单 (the problem ledger's events).

Each row stands alone like a row of ``填报``: a bad cell rejects its row with a reason code of the
interface, at its Excel row and column, and the rest of the sheet is kept. A ledger event is
checked last, against the ledger as it stands (the warehouse's, plus the rows accepted before it
in the same run), and is applied only when legal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kj_pipelines.catalog.model import DEPARTMENT, Catalog
from kj_pipelines.core.periods import month_end
from kj_pipelines.excel.cleaning import (
    CellProblem,
    clean_code,
    clean_date,
    clean_number,
    clean_period,
    clean_text,
    is_blank,
    normalize_text,
)
from kj_pipelines.excel.tables import Table, find_table
from kj_pipelines.intake.findings import Rejection, display_value, empty_frame
from kj_pipelines.intake.planlists import (
    PROJECT_MILESTONES,
    PlanLists,
    PlansByYear,
    resolve_unit,
)
from kj_pipelines.worklists import ledger as lg

TASK_SHEET, PROJECT_SHEET, PROBLEM_SHEET = "任务进展", "项目进展", "问题清单"
LIST_SHEETS = (TASK_SHEET, PROJECT_SHEET, PROBLEM_SHEET)
COMMON = {"单位代码": "unit", "报告期": "period"}
TASK_PROGRESS_ALIASES = {**COMMON, "任务代码": "task", "节点": "milestone", "完成日期": "done_on",
                         "进度": "progress", "进度%": "progress", "完成进度": "progress",
                         "说明": "note", "进展说明": "note"}
PROJECT_PROGRESS_ALIASES = {**COMMON, "项目代码": "project", "累计完成投资": "invested",
                            "节点": "milestone", "完成日期": "done_on", "说明": "note",
                            "进展说明": "note"}
PROBLEM_ALIASES = {**COMMON, "问题编号": "problem", "问题内容": "content", "类别": "category",
                   "问题类别": "category", "承办部门": "handler", "期望解决日期": "wish_date",
                   "状态": "action", "日期": "event_date", "办理日期": "event_date",
                   "答复/说明": "reply", "答复": "reply", "说明": "reply"}
TASK_PROGRESS_COLUMNS = ["unit", "period", "task_code", "milestone", "done_on", "progress", "note",
                         "sheet", "row"]
PROJECT_PROGRESS_COLUMNS = ["unit", "period", "project_code", "invested", "milestone", "done_on",
                            "note", "sheet", "row"]
PROBLEM_EVENT_COLUMNS = [*lg.EVENT_COLUMNS, "sheet", "row", "seq", "accepted"]


@dataclass
class ListContext:
    """What the list sheets are checked against: the year's plan lists and the problem ledger
    (``applied``: how many moves this reading has applied to it so far, each event's ``seq``)."""

    plans: PlanLists | PlansByYear
    ledger: dict[str, lg.Problem] = field(default_factory=dict)
    applied: int = 0


@dataclass
class ListRows:
    tasks: pd.DataFrame = field(default_factory=lambda: empty_frame(TASK_PROGRESS_COLUMNS))
    projects: pd.DataFrame = field(default_factory=lambda: empty_frame(PROJECT_PROGRESS_COLUMNS))
    problems: pd.DataFrame = field(default_factory=lambda: empty_frame(PROBLEM_EVENT_COLUMNS))
    # the 问题清单 rows that passed their cells' checks, waiting for the batch's ledger
    moves: list[ProblemMove] = field(default_factory=list)
    repeated: int = 0  # problems raised again exactly as they stand: accepted, nothing changed

    def __len__(self) -> int:
        """The rows accepted (a problem move kept only for the replay is not)."""
        moves = int(self.problems["accepted"].fillna(True).astype(bool).sum()) \
            if not self.problems.empty else 0
        return len(self.tasks) + len(self.projects) + moves + self.repeated


class _Row:
    """One row being checked; problems are collected, the first per column kept."""

    def __init__(self, table: Table, excel_row: int, record: dict[str, Any]):
        self.table, self.excel_row, self.record = table, excel_row, record
        self.problems: list[Rejection] = []

    def fail(self, fld: str, default_label: str, problem: CellProblem, raw: Any = ...) -> None:
        value = self.record.get(fld) if raw is ... else raw
        self.problems.append(Rejection(self.table.sheet, self.excel_row,
                                        self.table.label(fld, default_label),
                                        display_value(value), problem.reason_code,
                                        problem.message))

    def take(self, fld: str, label: str, cleaner: Callable[[Any], Any]) -> Any:
        value = cleaner(self.record.get(fld))
        if isinstance(value, CellProblem):
            self.fail(fld, label, value)
            return None
        return value


def _unit_and_period(row: _Row, catalog: Catalog, current: str) -> tuple[str | None, str | None]:
    unit = row.take("unit", "单位代码", clean_code)
    if unit is not None and unit not in catalog.units:
        row.fail("unit", "单位代码", CellProblem("unknown_unit", f"单位代码“{unit}”不在单位目录中"))
        unit = None
    period = row.take("period", "报告期", clean_period)
    if period is not None and period > current:
        row.fail("period", "报告期", CellProblem("future_period", f"报告期“{period}”晚于当前月份"))
        period = None
    elif period is not None and period < catalog.first_period:
        row.fail("period", "报告期", CellProblem(
            "bad_period", f"报告期“{period}”早于监测起始期{catalog.first_period}"))
        period = None
    return unit, period


def _done_date(row: _Row, period: str | None) -> dt.date | None:
    done = row.take("done_on", "完成日期", clean_date)
    if done is not None and period is not None and done > month_end(period):
        row.fail("done_on", "完成日期",
                 CellProblem("bad_date", f"完成日期{done}晚于报告期{period}的月末"))
        return None
    return done


def _progress(raw: Any) -> float | None | CellProblem:
    number = clean_number(raw, percentage=True)
    if isinstance(number, float) and not 0 <= number <= 100:
        return CellProblem("out_of_range", f"进度{number:g}%应在0-100之间")
    return number


def validate_task_sheet(table: Table, catalog: Catalog, ctx: ListContext, current: str) -> tuple[list[dict], list, int]:
    accepted, rejections, read = [], [], 0
    for excel_row, record in table.records():
        if _unfilled(record, ("done_on", "progress", "note")):
            continue  # a pre-filled milestone the unit had nothing to report on
        read += 1
        row = _Row(table, excel_row, record)
        unit, period = _unit_and_period(row, catalog, current)
        code = row.take("task", "任务代码", clean_code)
        milestone = row.take("milestone", "节点", clean_text) or ""
        done = _done_date(row, period)
        progress = row.take("progress", "进度", _progress)
        note = row.take("note", "说明", clean_text) or ""
        if code is not None and period is not None:
            year = int(period[:4])
            tasks = ctx.plans.tasks_of(year)
            match = tasks[tasks["task_code"] == code]
            if match.empty:
                row.fail("task", "任务代码", CellProblem("unknown_task", f"任务代码“{code}”不在{year}年重点任务攻坚表中"))
            elif unit is not None and match["lead_unit"].iloc[0] != unit:
                lead = match["lead_unit"].iloc[0]
                row.fail("task", "任务代码", CellProblem(
                    "unknown_task", f"任务{code}由{catalog.unit_name(lead)}牵头，应由牵头单位填报进展"))
            elif milestone:
                names = ctx.plans.milestones_of(year)
                names = names[names["task_code"] == code]
                canonical = {normalize_text(n): n for n in names["milestone"]}
                if normalize_text(milestone) not in canonical:
                    row.fail("milestone", "节点", CellProblem(
                        "unknown_task", f"任务{code}没有节点“{milestone}”"))
                else:
                    milestone = canonical[normalize_text(milestone)]  # as the plan writes it
        if done is not None and not milestone:
            row.fail("milestone", "节点", CellProblem("unknown_task", "填写了完成日期，但未写明完成的是哪个节点"))
        if row.problems:
            rejections.extend(row.problems)
            continue
        accepted.append({"unit": unit, "period": period, "task_code": code,
                         "milestone": milestone,
                         "done_on": done, "progress": progress, "note": note,
                         "sheet": table.sheet, "row": excel_row})
    return accepted, rejections, read


def validate_project_sheet(table: Table, catalog: Catalog, ctx: ListContext, current: str) -> tuple[list[dict], list, int]:
    accepted, rejections, read = [], [], 0
    for excel_row, record in table.records():
        if _unfilled(record, ("invested", "done_on", "note")):
            continue  # a pre-filled project the unit had nothing to report on
        read += 1
        row = _Row(table, excel_row, record)
        unit, period = _unit_and_period(row, catalog, current)
        code = row.take("project", "项目代码", clean_code)
        invested = row.take("invested", "累计完成投资", clean_number)
        if invested is not None and invested < 0:
            row.fail("invested", "累计完成投资", CellProblem("out_of_range", "累计完成投资不能为负"))
        milestone = normalize_text(row.take("milestone", "节点", clean_text) or "")
        done = _done_date(row, period)
        note = row.take("note", "说明", clean_text) or ""
        if code is not None and period is not None:
            year = int(period[:4])
            projects = ctx.plans.projects_of(year)
            match = projects[projects["project_code"] == code]
            if match.empty:
                row.fail("project", "项目代码", CellProblem(
                    "unknown_project", f"项目代码“{code}”不在{year}年重大项目实施表中"))
            elif unit is not None and match["lead_unit"].iloc[0] != unit:
                row.fail("project", "项目代码", CellProblem(
                    "unknown_project",
                    f"项目{code}由{catalog.unit_name(match['lead_unit'].iloc[0])}牵头，应由牵头单位填报进展"))
            elif milestone and milestone not in PROJECT_MILESTONES:
                row.fail("milestone", "节点", CellProblem(
                    "unknown_project", f"节点应为{'、'.join(PROJECT_MILESTONES)}之一"))
        if done is not None and not milestone:
            row.fail("milestone", "节点", CellProblem("unknown_project", "填写了完成日期，但未写明完成的是哪个节点"))
        if invested is None and not milestone and not row.problems:
            row.fail("invested", "累计完成投资", CellProblem("not_a_number", "累计完成投资与节点均为空"))
        if row.problems:
            rejections.extend(row.problems)
            continue
        accepted.append({"unit": unit, "period": period, "project_code": code,
                         "invested": invested, "milestone": milestone, "done_on": done,
                         "note": note, "sheet": table.sheet, "row": excel_row})
    return accepted, rejections, read


def new_problem_id(unit: str, period: str, content: str, handler: str,
                   ledger: dict[str, lg.Problem]) -> str:
    """The id of a problem raised without one: the unit, the month and a digest of what it is
    (``JLH-202603-7C1E``). The same problem sent again (a re-saved or supplementary workbook
    repeating it) gets the same id, whatever order the files come in; a different problem of
    the same unit and month never takes an existing one (on a clash of digests, a longer one)."""
    text = f"{unit}|{period}|{normalize_text(content)}|{handler}"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest().upper()
    stem = f"{unit}-{period.replace('-', '')}-"
    for length in (4, 6, 8, 12, 64):
        candidate = stem + digest[:length]
        existing = ledger.get(candidate)
        if existing is None or _same_raise(existing, unit, content, handler):
            return candidate
    raise AssertionError("a SHA-256 digest cannot clash with itself")


def _same_raise(problem: lg.Problem, unit: str, content: str, handler: str) -> bool:
    return problem.raised_by == unit and problem.handler == handler and \
        normalize_text(problem.content) == normalize_text(content)


@dataclass
class ProblemMove:
    """A 问题清单 row whose cells are clean, waiting to be applied to the ledger: a batch's moves
    are applied in the order of their dates, then of the files' arrival, then of their rows, so
    a department's 已办结 and the town's 确认销号 of it land whichever file comes first."""

    unit: str
    period: str
    problem_id: str | None  # None: a new problem, its id given when applied
    action: str
    event_date: dt.date
    content: str
    category: str
    handler: str
    wish_date: dt.date | None
    reply: str
    sheet: str
    row: int
    label: dict[str, str]  # field → its column's header as written

    def rejection(self, fld: str, problem: CellProblem) -> Rejection:
        defaults = {"problem": "问题编号", "event_date": "日期", "action": "状态",
                    "content": "问题内容"}
        value = {"problem": self.problem_id, "event_date": self.event_date.isoformat(),
                 "action": self.action, "content": self.content[:200]}.get(fld)
        return Rejection(self.sheet, self.row, self.label.get(fld, defaults.get(fld, fld)),
                         value, problem.reason_code, problem.message)


def apply_move(move: ProblemMove, ledger: dict[str, lg.Problem]
               ) -> dict | Rejection | tuple[Rejection, dict] | None:
    """Apply one move to ``ledger``: the accepted event's row; a rejection; a rejection with
    the event's row, kept for the ledger's replay by date (a step the ledger refuses now, which
    may follow one reported later); or None for a problem raised again exactly as it stands
    (a workbook sent twice): nothing to change."""
    problem_id = move.problem_id
    if problem_id is None:
        problem_id = new_problem_id(move.unit, move.period, move.content, move.handler, ledger)
        current = ledger.get(problem_id)
        if current is not None and current.state != lg.RAISED:
            return None  # already known and moved on: the repeat changes nothing
    else:
        current = ledger.get(problem_id)
        if current is None:
            return move.rejection("problem", CellProblem(
                "unknown_problem", f"问题编号“{problem_id}”不存在（新提出的问题请将编号留空）"))
        if move.unit not in (current.raised_by, current.handler):
            return move.rejection("problem", CellProblem(
                "unknown_problem", f"问题{problem_id}不是本单位提出或承办的问题，请核对编号"))
        if move.content and move.action != lg.RAISED and \
                normalize_text(move.content) != normalize_text(current.content):
            return move.rejection("problem", CellProblem(
                "unknown_problem", f"问题编号{problem_id}对应的问题是“{current.content[:40]}”，"
                                   "与本行问题内容不符，请核对编号"))
    event = lg.Event(problem_id, move.unit, move.action, move.event_date, move.content,
                     move.category, move.handler, move.wish_date, move.reply)
    row = {"problem_id": problem_id, "period": move.period, "unit": move.unit,
           "action": move.action, "event_date": move.event_date, "content": move.content,
           "category": move.category, "handler": move.handler, "wish_date": move.wish_date,
           "reply": move.reply, "sheet": move.sheet, "row": move.row}
    try:
        lg.apply_event(ledger, event)
    except lg.LedgerError as exc:
        fld = "problem" if exc.reason_code == "unknown_problem" else (
            "event_date" if exc.reason_code == "bad_date" else "action")
        # kept all the same: the ledger replays every move by its date, so one that comes
        # before the step it follows (a 确认销号 ahead of the 已办结) takes effect once that
        # step is reported
        return move.rejection(fld, CellProblem(
            exc.reason_code, f"{exc.message}（本行已留存：前序环节报送后按日期自动生效）")), row
    return row


def validate_problem_sheet(table: Table, catalog: Catalog, ctx: ListContext, current: str
                           ) -> tuple[list[ProblemMove], list, int]:
    """The sheet's rows checked cell by cell; the moves that pass wait to be applied to the
    ledger with the rest of the batch's (:func:`apply_moves`)."""
    moves, rejections, read = [], [], 0
    for excel_row, record in table.records():
        if is_blank(record.get("action")) and (
                not is_blank(record.get("problem"))
                or _unfilled(record, ("content", "handler", "reply", "category", "wish_date"))):
            continue  # a pre-filled open problem with no new step, or an empty row
        read += 1
        row = _Row(table, excel_row, record)
        unit, period = _unit_and_period(row, catalog, current)
        problem_id = row.take("problem", "问题编号", _problem_id)
        action = row.take("action", "状态", clean_text)
        if action is not None and action not in lg.ACTIONS:
            row.fail("action", "状态", CellProblem(
                "illegal_transition", f"状态“{action}”不是{'、'.join(lg.ACTIONS)}之一"))
            action = None
        when = row.take("event_date", "日期", clean_date)
        if when is not None and period is not None and when > month_end(period):
            row.fail("event_date", "日期", CellProblem("bad_date", f"日期{when}晚于报告期{period}的月末"))
        wish = row.take("wish_date", "期望解决日期", clean_date)
        content = row.take("content", "问题内容", clean_text) or ""
        category = row.take("category", "类别", clean_text) or ""
        reply = row.take("reply", "答复/说明", clean_text) or ""
        handler = resolve_unit(record.get("handler"), catalog) if not is_blank(
            record.get("handler")) else ""
        if action == lg.RAISED and problem_id is None:
            if handler and (handler not in catalog.units
                            or catalog.units[handler].kind != DEPARTMENT):
                row.fail("handler", "承办部门", CellProblem(
                    "unknown_unit", f"承办部门“{record.get('handler')}”不是单位目录中的部门"))
            if unit is not None and catalog.units[unit].kind == DEPARTMENT:
                row.fail("unit", "单位代码", CellProblem(
                    "illegal_transition", f"问题由{catalog.kinds_label()}提出，"
                    f"{catalog.department_label()}不能提出问题"))
        if row.problems or unit is None or period is None or action is None:
            if not row.problems:
                row.fail("action", "状态", CellProblem("illegal_transition", "状态为空"))
            rejections.extend(row.problems)
            continue
        if problem_id is None and action != lg.RAISED:
            row.fail("problem", "问题编号", CellProblem(
                "unknown_problem", "问题编号为空：只有新提出的问题可以不填编号"))
            rejections.extend(row.problems)
            continue
        moves.append(ProblemMove(unit, period, problem_id, action, when or month_end(period),
                                 content, category, handler, wish, reply, table.sheet,
                                 excel_row, dict(table.labels)))
    return moves, rejections, read


_PROBLEM_ID = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,39}$")


def _problem_id(raw: Any) -> str | None | CellProblem:
    if is_blank(raw):
        return None
    code = clean_code(raw)
    if isinstance(code, str) and not _PROBLEM_ID.match(code):
        return CellProblem("unknown_problem", f"问题编号“{code}”格式不对（应为如 JLH-202603-01 的编号）")
    return code


def _unfilled(record: dict[str, Any], fields: tuple[str, ...]) -> bool:
    return all(is_blank(record.get(f)) for f in fields)


SHEETS = {
    TASK_SHEET: (TASK_PROGRESS_ALIASES, ("unit", "period", "task"), validate_task_sheet,
                 "tasks", TASK_PROGRESS_COLUMNS),
    PROJECT_SHEET: (PROJECT_PROGRESS_ALIASES, ("unit", "period", "project"),
                    validate_project_sheet, "projects", PROJECT_PROGRESS_COLUMNS),
    PROBLEM_SHEET: (PROBLEM_ALIASES, ("unit", "period", "action"), validate_problem_sheet,
                    "problems", PROBLEM_EVENT_COLUMNS),
}


def list_table(name: str, rows: list) -> Table | None:
    """The list sheet's table if ``rows`` have its header (its required columns)."""
    aliases, required, _, _, _ = SHEETS[name]
    return find_table("", rows, aliases, required)


def validate_list_sheet(name: str, sheet: str, rows: list, catalog: Catalog, ctx: ListContext,
                        current: str, out: ListRows) -> tuple[list, int]:
    """Validate one list sheet into ``out``; returns (rejections, rows read)."""
    aliases, required, validator, attr, columns = SHEETS[name]
    table = find_table(sheet, rows, aliases, required)
    if table is None:
        labels = {v: k for k, v in reversed(list(aliases.items()))}
        need = "、".join(labels[f] for f in required)
        return [Rejection(sheet, None, None, None, "missing_column",
                          f"工作表“{sheet}”找不到表头行（应含 {need} 等列）")], 0
    accepted, rejections, read = validator(table, catalog, ctx, current)
    if attr == "problems":  # applied to the ledger with the rest of the batch's moves
        out.moves.extend(accepted)
        return rejections, read
    if accepted:
        frame = pd.DataFrame(accepted, columns=columns)
        setattr(out, attr, pd.concat([getattr(out, attr), frame], ignore_index=True)
                if len(getattr(out, attr)) else frame)
    return rejections, read


def apply_moves(batch: list[ListRows], ctx: ListContext) -> list[list[Rejection]]:
    """Apply the waiting 问题清单 moves of a batch of workbooks (in arrival order) to the
    ledger by date, then arrival, then row. A move that cannot be applied at its turn is tried
    again once others have been (a 确认销号 dated the same day as the 已办结 it confirms, in a
    file that came first); what still cannot be applied is rejected. Each workbook's accepted
    events go to its ``problems`` (in row order, each with ``seq``, the order it was applied:
    how the ledger is replayed), and its rejections are returned, per workbook. A move the
    ledger refuses is rejected and kept (``accepted`` false): the ledger replays every move by
    its date, so the month's state is the same whatever order its workbooks came in."""
    pending = sorted(((m.event_date, i, m.row, m) for i, rows in enumerate(batch)
                      for m in rows.moves), key=lambda t: t[:3])
    accepted: list[list[dict]] = [[] for _ in batch]
    outcomes: dict[int, Rejection] = {}
    moved = True
    while pending and moved:
        moved, still = False, []
        for item in pending:
            _, i, _, move = item
            outcome = apply_move(move, ctx.ledger)
            if isinstance(outcome, (Rejection, tuple)):
                outcomes[id(move)] = outcome
                still.append(item)
                continue
            moved = True
            outcomes.pop(id(move), None)
            if outcome is None:
                batch[i].repeated += 1
            else:
                ctx.applied += 1
                accepted[i].append({**outcome, "seq": ctx.applied, "accepted": True})
        pending = still
    rejected: list[list[Rejection]] = [[] for _ in batch]
    for _, i, _, move in pending:
        outcome = outcomes[id(move)]
        if isinstance(outcome, tuple):  # refused now, kept for the replay by date
            outcome, row = outcome
            ctx.applied += 1
            accepted[i].append({**row, "seq": ctx.applied, "accepted": False})
        rejected[i].append(outcome)
    for rows, events in zip(batch, accepted, strict=True):
        rows.moves = []
        if events:
            frame = pd.DataFrame(sorted(events, key=lambda e: e["row"]),
                                 columns=PROBLEM_EVENT_COLUMNS)
            rows.problems = pd.concat([rows.problems, frame], ignore_index=True) \
                if len(rows.problems) else frame
    return [sorted(r, key=lambda x: x.row or 0) for r in rejected]
