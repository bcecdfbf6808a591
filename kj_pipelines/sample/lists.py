"""The sample's lists for 2024-2026: key tasks of the six actions (seed 000's mechanism, seed 002's
task list as a model, seed 004's work items), major projects, the problems towns raised and their
handling, and the bureau's acceptance of supervision feedback.

Deterministic like the rest of the sample. By 2026-10 some milestones are overdue (九龙湖镇, 澥浦镇
and one department lag, as in the indicators), a project of 澥浦镇 is behind its investment plan,
problems are open, overdue, closed and confirmed, and one was refused and reopened.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

from kj_pipelines.catalog.model import DISTRICT, Catalog
from kj_pipelines.core.periods import month_key
from kj_pipelines.intake.listsheets import new_problem_id
from kj_pipelines.intake.planlists import (
    write_feedback_list,
    write_project_list,
    write_task_list,
)
from kj_pipelines.intake.template import ListSheets
from kj_pipelines.worklists.state import item_number, planned_to_date

SEED = 322
LIST_YEARS = (2024, 2025, 2026)
END = dt.date(2026, 10, 31)  # the sample's last reported day

# (action, content, lead, cooperating) — 2026's 六大行动重点任务攻坚表
TASKS_2026 = [
    ("reform", "谋划推进科技创新攻坚行动，统筹科技—教育—人才一体化改革", "KJJ", ("RCB", "JYJ")),
    ("reform", "落实“315”科技创新体系建设工程，形成年度目标、任务、责任三张清单", "KJJ", ("FGJ",)),
    ("reform", "改革科技平台运行机制，开展平台绩效分类评价", "KJJ", ("CZJ",)),
    ("reform", "健全科技项目全过程管理，推行“揭榜挂帅”“赛马制”", "KJJ", ("CZJ",)),
    ("reform", "深化科技成果分类评价与赋权改革试点", "KJJ", ("SCJ",)),
    ("major_projects", "实施十大技术攻关项目，破解产业链“卡脖子”问题", "KJJ", ("JXJ",)),
    ("major_projects", "推进“双百”行动，组织百名专家企业行", "KJJ", ("RCB",)),
    ("major_projects", "重大科技项目招引落地，建立项目全周期服务专班", "TCZX", ("KJJ", "FGJ")),
    ("major_projects", "推进宁波石化区高端新材料产业创新项目建设", "HGQ", ("JXJ", "FGJ")),
    ("major_projects", "推进镇海经济开发区智能制造创新项目建设", "JKQ", ("JXJ",)),
    ("platforms", "支持产业技术研究院提升能级，争创省级以上平台", "KJJ", ("YJKC",)),
    ("platforms", "培育建设新型研发机构，完善绩效评价", "KJJ", ("CZJ",)),
    ("platforms", "推动甬江科创区镇海片区创新载体建设", "YJKC", ("KJJ", "FGJ")),
    ("platforms", "提升科技企业孵化器、众创空间孵化能力", "KJJ", ("ZS", "JC")),
    ("platforms", "建设院士工作站（院士创新中心），推进院士项目落地", "RCB", ("KJJ",)),
    ("enterprises", "实施科技型中小企业创新能力提升工程，扩大入库规模", "KJJ", ("SCJ",)),
    ("enterprises", "开展高新技术企业“育苗造林”，完善高企培育库", "KJJ", ("JXJ",)),
    ("enterprises", "推动规上工业企业研发机构、研发活动“两清零”", "JXJ", ("KJJ", "TJJ")),
    ("enterprises", "培育专精特新“小巨人”企业", "JXJ", ("KJJ",)),
    ("enterprises", "九龙湖镇规上企业研发活动清零攻坚", "JLH", ("KJJ", "JXJ")),
    ("enterprises", "澥浦镇高新技术企业培育攻坚", "XP", ("KJJ",)),
    ("services", "落实研发费用加计扣除等科技创新支持政策，编印政策汇编", "KJJ", ("CZJ",)),
    ("services", "创新科技金融模式，扩大科技信贷规模", "JRB", ("KJJ", "CZJ")),
    ("services", "完善技术转移体系，培育技术经理人，扩大技术合同成交额", "KJJ", ("SCJ",)),
    ("services", "推进校地合作，搭建驻区高校与企业科技合作桥梁", "JYJ", ("KJJ",)),
    ("services", "加强农业科技创新支撑，实施科技特派员项目", "NYJ", ("KJJ",)),
    ("services", "骆驼街道科技服务综合体建设", "LT", ("KJJ",)),
    ("talent", "打造“红旗党建·科技先锋”党建品牌，推行清单制+责任制", "KJJ", ()),
    ("talent", "开展“作风建设提升年”活动", "KJJ", ()),
    ("talent", "实施“人才金港”引才工程，引进全球顶尖人才和科技领军人才", "RCB", ("RSJ", "KJJ")),
    ("talent", "青年科技人才培育计划，完善人才公寓等配套服务", "RSJ", ("RCB",)),
    ("talent", "贵驷街道人才飞地与创新驿站建设", "GS", ("RCB",)),
]
# milestones left undone past their date in 2026 (overdue at 2026-10): task index → milestone no.
OVERDUE_2026 = {19: 2, 20: 2, 30: 2, 8: 2}
FEEDBACK_ACCEPTED_2026 = [(30, 2, dt.date(2026, 9, 25), "区人社局已提交整改方案，人才公寓配套延期至年底，局里认可")]
PROJECT_NAMES = [
    ("HGQ", "石化区高端新材料中试基地"), ("HGQ", "绿色石化产业创新中心"), ("HGQ", "化工新材料检验检测平台"),
    ("JKQ", "智能装备产业园二期"), ("JKQ", "新能源汽车零部件研发中心"), ("JKQ", "工业互联网创新平台"),
    ("YJKC", "甬江实验室镇海片区配套工程"), ("YJKC", "科创大走廊孵化器"), ("ZBS", "招宝山数字文创科技园"),
    ("JC", "蛟川科技企业加速器"), ("LT", "骆驼科技服务综合体"), ("ZS", "庄市高校科技成果转化中心"),
    ("GS", "贵驷人才创新驿站"), ("XP", "澥浦新材料产业化基地"), ("XP", "澥浦智能制造示范工厂"),
    ("JLH", "九龙湖生命健康科创园"),
]
PROJECT_FACTOR_2026 = {"XP": 0.72, "JLH": 0.9}  # investment pace against plan
PROJECT_LATE_2026 = {3: "主体完工"}  # project index → milestone left undone past its date
CATEGORIES = {
    "政策兑现": ("KJJ", "研发费用加计扣除和科技奖补资金兑现进度慢，企业多次询问"),
    "财政资金": ("CZJ", "科技项目配套资金拨付周期长，影响项目推进"),
    "用地保障": ("FGJ", "重大项目新增用地指标不足，需区级统筹"),
    "人才服务": ("RCB", "引进人才子女入学和人才公寓配套需协调"),
    "人才政策": ("RSJ", "青年科技人才认定条件与企业实际不匹配"),
    "融资服务": ("JRB", "科技型中小企业首贷难，需对接银行专项产品"),
    "审批服务": ("SCJ", "专利质押融资和商标登记办理流程需指导"),
    "要素保障": ("JXJ", "企业研发中试线电力增容审批慢"),
    "平台建设": ("KJJ", "企业研发机构申报省级认定需要辅导"),
    "统计口径": ("TJJ", "研发投入统计口径不清，企业填报存在遗漏"),
}
RAISERS = ("ZBS", "JC", "LT", "ZS", "GS", "XP", "JLH", "HGQ", "JKQ", "YJKC")


@dataclass
class SampleLists:
    """Per (unit, period): what its workbook's list sheets carry."""

    sheets: dict[tuple[str, str], ListSheets] = field(default_factory=dict)

    def history_before(self, start: str) -> ListSheets | None:
        """Every list row of the months before ``start`` in one workbook (rows keep their unit
        and period, in reporting order), so a sample starting late still has the lists' past."""
        history = ListSheets()
        for (unit, period), sheets in sorted(self.sheets.items(), key=lambda kv: (kv[0][1],
                                                                                  kv[0][0])):
            if period >= start:
                continue
            tag = {"unit": unit, "period": period}
            history.tasks += [{**t, **tag} for t in sheets.tasks]
            history.projects += [{**p, **tag} for p in sheets.projects]
            history.problems += [{**q, **tag} for q in sheets.problems]
        if not (history.tasks or history.projects or history.problems):
            return None
        history.with_tasks, history.with_projects = bool(history.tasks), bool(history.projects)
        history.with_problems = bool(history.problems)
        return history

    def of(self, unit: str, period: str) -> ListSheets:
        return self.sheets.setdefault((unit, period), ListSheets())

    def task(self, unit: str, day: dt.date, row: dict) -> None:
        sheet = self.of(unit, month_key(day.year, day.month))
        sheet.with_tasks = True
        sheet.tasks.append(row)

    def project(self, unit: str, period: str, row: dict) -> None:
        sheet = self.of(unit, period)
        sheet.with_projects = True
        sheet.projects.append(row)

    def problem(self, unit: str, day: dt.date, row: dict) -> None:
        sheet = self.of(unit, month_key(day.year, day.month))
        sheet.with_problems = True
        sheet.problems.append({**row, "event_date": day})


def _day(rng: random.Random, year: int, month: int, lo: int = 1, hi: int = 28) -> dt.date:
    return dt.date(year, month, rng.randint(lo, hi))


def _tasks_of(year: int) -> list[tuple]:
    if year == 2026:
        return TASKS_2026
    return [t for i, t in enumerate(TASKS_2026) if i % 3 != 2 and t[2] not in ("JLH", "XP", "GS")]


def write_sample_lists(plans: Path, catalog: Catalog) -> SampleLists:
    """Write the plan lists into ``plans/<year>/`` and return the list rows of the workbooks."""
    rng = random.Random(SEED)
    out = SampleLists()
    region = catalog.units[DISTRICT].name
    for year in LIST_YEARS:
        tasks = _write_tasks(plans, catalog, year, region, rng, out)
        _write_projects(plans, catalog, year, region, rng, out)
        if year == 2026:
            rows = [{"item_id": item_number(f"task:{tasks[i]['code']}:{seq}"), "accepted_on": day, "note": note}
                    for i, seq, day, note in FEEDBACK_ACCEPTED_2026]
            write_feedback_list(plans / str(year) / f"{year}年督办反馈认可表.xlsx", year, region, rows)
    _problems(rng, out)
    return out


def _write_tasks(plans: Path, catalog: Catalog, year: int, region: str, rng: random.Random,
                 out: SampleLists) -> list[dict]:
    tasks = []
    prefix = {a: i for i, a in enumerate(catalog.actions, start=1)}
    counters: dict[str, int] = {}
    for index, (action, content, lead, coop) in enumerate(_tasks_of(year)):
        counters[action] = counters.get(action, 0) + 1
        code = f"T{year % 100}{prefix[action]}{counters[action]:02d}"
        three = index % 2 == 0
        dues = ([dt.date(year, rng.choice((3, 4)), 30 if rng.random() < 0.5 else 15),
                 dt.date(year, rng.choice((6, 7, 8)), 30 if rng.random() < 0.7 else 20),
                 dt.date(year, 11, rng.choice((4, 6, 20, 30)))] if three else
                [dt.date(year, rng.choice((5, 6, 9)), 30), dt.date(year, 12, 25)])
        names = (["制定工作方案并部署推进", "完成年度任务过半（时间过半、任务过半）", "全面完成年度任务并总结"]
                 if three else ["完成阶段性目标并报送进展", "全面完成年度任务并总结"])
        milestones = list(zip(names, dues, strict=True))
        tasks.append({"code": code, "action": action, "content": content, "lead": lead,
                      "coop": coop, "official": catalog.units[lead].official,
                      "milestones": milestones})
        done_count = 0
        for seq, (name, due) in enumerate(milestones, start=1):
            if year == 2026 and OVERDUE_2026.get(index) == seq:
                if due < END:  # reported as late, with its reason, but not done
                    out.task(lead, min(due + dt.timedelta(days=20), END),
                             {"task_code": code, "milestone": name, "progress": 40.0,
                              "note": "受用地和资金影响，节点滞后，正在协调"})
                break  # later milestones wait for this one
            slip = rng.random()
            done_on = due - dt.timedelta(days=rng.randint(0, 20)) if slip < 0.85 else \
                due + dt.timedelta(days=rng.randint(3, 25))
            done_on = min(done_on, dt.date(year, 12, 31))  # reported in the task's own year
            if done_on > END:
                break
            done_count += 1
            out.task(lead, done_on, {"task_code": code, "milestone": name, "done_on": done_on,
                                     "progress": round(done_count / len(milestones) * 100),
                                     "note": "按计划推进" if done_on <= due else "略有延后，已完成"})
    write_task_list(plans / str(year) / f"{year}年六大行动重点任务攻坚表.xlsx", catalog, year, region,
                    tasks)
    return tasks


def _write_projects(plans: Path, catalog: Catalog, year: int, region: str, rng: random.Random,
                    out: SampleLists) -> None:
    chosen = PROJECT_NAMES if year == 2026 else PROJECT_NAMES[year - 2024::2]
    projects = []
    for index, (lead, name) in enumerate(chosen):
        code = f"P{year % 100}{index + 1:02d}"
        annual = float(rng.randrange(8000, 60000, 500))
        quarters = [round(annual * s, 0) for s in (0.15, 0.25, 0.3, 0.3)]
        quarters[3] = annual - sum(quarters[:3])
        milestones = {"开工": dt.date(year, rng.choice((2, 3, 4)), 28),
                      "主体完工": dt.date(year, rng.choice((7, 8)), 31 if rng.random() < 0.5 else 20),
                      "竣工": dt.date(year, 12, 20)}
        if index % 3 == 0:
            milestones["投产"] = dt.date(year, 12, 28)
        projects.append({"code": code, "name": f"{name}项目", "lead": lead,
                         "coop": ("FGJ", "KJJ"), "official": catalog.units[lead].official,
                         "total": annual * rng.choice((2, 3, 4)), "quarters": quarters,
                         "milestones": milestones})
        factor = PROJECT_FACTOR_2026.get(lead, 1.0) if year == 2026 else 1.0
        invested = 0.0
        for month in range(1, 13):
            if dt.date(year, month, 1) > END:
                break
            target = planned_to_date(quarters, month) * factor * rng.uniform(0.97, 1.04)
            invested = round(max(invested, target), 0)
            period = month_key(year, month)
            row = {"project_code": code, "name": f"{name}项目", "invested": invested}
            for milestone, due in milestones.items():
                if year == 2026 and PROJECT_LATE_2026.get(index) == milestone:
                    continue
                done_on = due - dt.timedelta(days=rng.randint(0, 10))
                if done_on.month == month and done_on.year == year and done_on <= END:
                    out.project(lead, period, {**row, "milestone": milestone, "done_on": done_on,
                                               "note": f"{milestone}节点完成"})
                    row = {**row, "invested": None}  # one investment figure a month is enough
            if row["invested"] is not None:
                out.project(lead, period, {**row, "note": "按计划推进" if factor >= 1 else
                                           "资金到位慢，投资进度滞后"})
    write_project_list(plans / str(year) / f"{year}年科技创新重大项目实施表.xlsx", catalog, year, region,
                       projects)


def _problems(rng: random.Random, out: SampleLists) -> None:
    """48 problems raised 2024-03…2026-10 and their handling, one step a month or less."""
    categories = list(CATEGORIES)
    months = [month_key(y, m) for y in LIST_YEARS for m in range(1, 13)
              if "2024-03" <= month_key(y, m) <= "2026-10"]
    for i in range(48):
        raiser = RAISERS[i % len(RAISERS)]
        category = categories[(i * 7) % len(categories)]
        handler, content = CATEGORIES[category]
        start = months[min(i * len(months) // 48, len(months) - 1)]
        year, month = int(start[:4]), int(start[5:])
        raised = _day(rng, year, month, 5, 20)
        wish = raised + dt.timedelta(days=rng.choice((30, 45, 60, 90)))
        text = f"{content}（{raiser}第{i + 1}号）"
        pid = new_problem_id(raiser, start, text, handler, {})  # the id its raise will get
        out.problem(raiser, raised, {"content": text,
                                     "category": category, "handler": handler,
                                     "wish_date": wish, "action": "提出"})
        steps = _problem_steps(i, raised, wish, rng)
        for actor, action, day, reply in steps:
            if day > END:
                break
            unit = raiser if actor == "raiser" else handler
            out.problem(unit, day, {"problem_id": pid, "action": action, "reply": reply})


def _next_month(day: dt.date, rng: random.Random, lo: int = 2, hi: int = 15) -> dt.date:
    first = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return first.replace(day=rng.randint(lo, hi))


def _problem_steps(i: int, raised: dt.date, wish: dt.date, rng: random.Random) -> list:
    accepted = _next_month(raised, rng)
    steps = [("handler", "受理", accepted, ""), ("handler", "办理中", accepted, "已对接企业，正在办理")]
    if raised >= dt.date(2026, 9, 1):
        return steps[:1] if raised.month == 9 else []  # raised last month or just now
    stuck = i in (25, 36, 38, 40)  # overdue: still in progress well past the wished-for date
    if stuck:
        return steps
    resolved = _next_month(accepted, rng, 10, 25)
    steps.append(("handler", "已办结", resolved, "已协调解决，详见办理报告"))
    if i == 5:  # the town refuses the result; the department works on and closes it again
        refused = _next_month(resolved, rng)
        again = _next_month(refused, rng, 10, 25)
        steps += [("raiser", "退回", refused, "企业反映问题未实际解决，资金仍未到账"),
                  ("handler", "已办结", again, "资金已拨付到位，附凭证"),
                  ("raiser", "确认销号", _next_month(again, rng), "")]
        return steps
    if i in (41, 43):
        return steps  # done by the department, awaiting the town's confirmation
    steps.append(("raiser", "确认销号", _next_month(resolved, rng), ""))
    return steps
