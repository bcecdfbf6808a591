"""Targets as work plans write them: "≥850", "850以上", "不低于850", "力争900", "≤5",
"控制在3以内", "2.6%", "850家以上，力争900".

A target becomes a value, a comparator (``>=``: reaching it is done; ``<=``: lower is better, at
or under it is done; ``None``: the indicator's own direction) and an optional stretch value (力争);
the original text is kept beside them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kj_pipelines.excel.cleaning import CellProblem, clean_number, is_blank, normalize_text

_NUMBER = r"[+-]?\d+(?:,\d{3})*(?:\.\d+)?"
_AT_LEAST = ("≥", ">=", "＞＝", "不低于", "不少于", "不小于", "至少", "达到", "突破", "超过", ">")
_AT_MOST = ("≤", "<=", "不高于", "不超过", "不大于", "控制在", "压降至", "降至", "降到", "<")
_AT_LEAST_AFTER = ("以上", "及以上", "或以上", "以上（含）")
_AT_MOST_AFTER = ("以内", "以下", "及以下", "或以下")
_STRETCH_WORDS = r"(?:力争|争取|冲刺)(?:达到|实现|突破)?\s*"


@dataclass(frozen=True)
class Target:
    value: float
    comparator: str | None  # ">=", "<=" or None (the indicator's direction)
    stretch: float | None
    text: str


def parse_target(raw: object, *, percentage: bool = False, measure: str = "") -> Target | None | CellProblem:
    """A target cell; ``None`` for an empty one."""
    if is_blank(raw):
        return None
    if not isinstance(raw, str):
        number = clean_number(raw, percentage=percentage, measure=measure)
        if isinstance(number, CellProblem) or number is None:
            return number
        return Target(number, None, None, str(raw))
    text = str(raw).strip()  # kept as the plan wrote it
    body = normalize_text(raw)
    if body in ("清零", "全部清零", "动态清零", "实现清零"):  # 两清零: a count down to zero
        return Target(0.0, "<=", None, text)
    stretch = None
    suffix = "|".join(re.escape(x) for x in ("%", measure) if x)
    stretch_re = re.compile(_STRETCH_WORDS + "(" + _NUMBER + r")\s*(?:" + (suffix or "(?!)") + ")?")
    if m := stretch_re.search(body):
        stretch_value = _number(m.group(1), percentage, measure)
        if isinstance(stretch_value, CellProblem):
            return stretch_value
        stretch = stretch_value
        body = (body[:m.start()] + body[m.end():]).strip(" ，,、；;")
    if not body:  # "力争900" alone: the commitment is the stretch value
        if stretch is None:
            return CellProblem("not_a_number", f"“{text}”不是目标值")
        return Target(stretch, None, stretch, text)
    comparator = None
    for words, comp in ((_AT_LEAST, ">="), (_AT_MOST, "<=")):
        for word in words:
            if body.startswith(word):
                comparator, body = comp, body[len(word):].strip()
                break
        if comparator:
            break
    for words, comp in ((_AT_LEAST_AFTER, ">="), (_AT_MOST_AFTER, "<=")):
        for word in sorted(words, key=len, reverse=True):
            if body.endswith(word):
                if comparator not in (None, comp):
                    return CellProblem("not_a_number", f"“{text}”的比较方向前后矛盾")
                comparator, body = comp, body[: -len(word)].strip()
                break
    value = _number(body, percentage, measure)
    if isinstance(value, CellProblem):
        return CellProblem(value.reason_code, f"“{text}”不是可识别的目标（如 ≥850、850以上、力争900、控制在3以内）")
    if stretch is not None and comparator != "<=" and stretch < value:
        return CellProblem("out_of_range", f"“{text}”：力争值{stretch:g}低于目标值{value:g}")
    return Target(value, comparator, stretch, text)


def _number(body: str, percentage: bool, measure: str) -> float | CellProblem:
    number = clean_number(body.strip(), percentage=percentage, measure=measure)
    if number is None:
        return CellProblem("not_a_number", "目标值为空")
    return number
