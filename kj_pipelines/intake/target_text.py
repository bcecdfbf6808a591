"""Targets as work plans write them.

Absolute: "≥850", "850以上", "850家以上", "不低于850", "突破1000家", "超30项", "力争900", "≤5",
"控制在3以内", "2.6%", "达到2.6%", "140亿元以上，力争150亿元", "清零", "实现零的突破",
Chinese numerals and round words ("百名", "千家", "两个", "1万人", "一百二十家"), a composite
count written with its parts ("7个（3个中心、4个平台）", the parts must add up), a range
("8%—10%": the lower end is the target, the upper the stretch; reversed for lower-is-better),
"约"/"左右" (the figure, judged by the indicator's direction), "百余场" (at least).

Relative to the year before, resolved against the list's 上年基数 or last year's actual:
"增长20%以上", "同比增长不低于8%" (× 1.2, × 1.08), "翻一番"/"翻两番" (× 2, × 4),
"下降5%" (× 0.95, at most), "增加5家" (+ 5), "新增20家" of a stock (+ 20; of a flow the year's
own count, 20), "提高0.2个百分点" (+ 0.2 of a rate). A growth indicator's own target is a rate:
"增长8%以上" of 规上企业研发费用增速 is 8.

A target becomes a value (or, relative, ``baseline × factor + offset``), a comparator (``>=``:
reaching it is done; ``<=``: lower is better, at or under it is done; ``None``: the indicator's
own direction) and an optional stretch (力争); the original text is kept beside them. A text that
is none of these is refused with the forms that are understood, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from kj_pipelines.excel.cleaning import (
    PLACEHOLDERS,
    CellProblem,
    clean_number,
    is_blank,
    normalize_text,
)

_AT_LEAST = ("≥", ">=", "不低于", "不少于", "不小于", "至少", "达到", "突破", "超过", "超", "大于", "高于",
             "达", ">")
_AT_MOST = ("≤", "<=", "不高于", "不超过", "不大于", "控制在", "压降至", "压减至", "降至", "降到", "低于",
            "少于", "<")
_NEUTRAL = ("实现", "完成", "保持", "约")
_AT_LEAST_AFTER = ("以上(含)", "及以上", "或以上", "以上")
_AT_MOST_AFTER = ("及以下", "或以下", "以内", "以下")
_ABOUT_AFTER = ("左右",)
_STRETCH = re.compile(r"^(?:力争|争取|冲刺)(?:达到|实现|突破)?")
_SINCE = re.compile(r"^(?:同比|较上年|比上年|较去年|比去年|较上年度)")
_GROW = re.compile(r"^(?:增长|增加|提高|提升|上升|增速)")
_FALL = re.compile(r"^(?:下降|减少|降低|压减|压降)")
_NEW = re.compile(r"^(?:新增|净增|新认定|新引进|新建)")
_DOUBLE = re.compile(r"^翻(一|两|二|三|\d)?番")
_RANGE = re.compile(r"^(?:—+|–|-|~|至|到)")
_NOTE = re.compile(r"^(?:其中|含|包括|累计|另|注)")
_ZERO = ("清零", "全部清零", "动态清零", "实现清零", "两清零")
_BREAKTHROUGH = ("零的突破", "实现零的突破", "破零", "实现破零", "零突破")

_ARABIC = r"\d+(?:,\d{3})*(?:\.\d+)?"
_CN_CHARS = "零〇一二两三四五六七八九十百千万亿"
_NUMBER = re.compile(rf"^(?:({_ARABIC})([千万亿]*)|([{_CN_CHARS}]+))")
_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
             "八": 8, "九": 9}
_CN_SMALL = {"十": 10, "百": 100, "千": 1000}
_CN_LARGE = {"万": 1e4, "亿": 1e8}
_MONEY = {"元": 1.0, "千元": 1e3, "万元": 1e4, "亿元": 1e8}
# words a plan may count the same things in (a list in 人 may say 名)
_COUNT_WORDS = (("人", "名", "位", "人次"), ("家", "个", "项", "件", "户", "所", "座", "支", "批"),
                ("次", "家次", "场", "期"))
FORMS = ("≥850、850家以上、不低于850、突破1000家、力争900、控制在3以内、2.6%、140亿元以上，力争150亿元、"
         "清零、百名、1万人、7个（3个中心、4个平台）、8%—10%、增长20%以上、同比增长不低于8%、翻一番、"
         "新增20家、提高0.2个百分点")


@dataclass(frozen=True)
class Target:
    """A target as read. Relative (``factor`` set): ``baseline × factor + offset``, ``value``
    ``None`` until a baseline resolves it (:meth:`resolved`); likewise the stretch."""

    value: float | None
    comparator: str | None  # ">=", "<=" or None (the indicator's direction)
    stretch: float | None
    text: str
    factor: float | None = None
    offset: float = 0.0
    stretch_factor: float | None = None
    stretch_offset: float = 0.0

    @property
    def relative(self) -> bool:
        return self.factor is not None or self.stretch_factor is not None

    def resolved(self, baseline: float | None) -> Target:
        """The target against a baseline (上年基数 or last year's actual); as it is without one."""
        if not self.relative or baseline is None or baseline != baseline:  # NaN
            return self
        value = self.value if self.factor is None else round(baseline * self.factor + self.offset, 6)
        stretch = self.stretch if self.stretch_factor is None else round(
            baseline * self.stretch_factor + self.stretch_offset, 6)
        return replace(self, value=value, stretch=stretch, factor=None, offset=0.0,
                       stretch_factor=None, stretch_offset=0.0)


@dataclass(frozen=True)
class _Reading:
    """One clause: an absolute value or a relative one, its comparator, a range's other end."""

    value: float | None
    comparator: str | None
    factor: float | None = None
    offset: float = 0.0
    upper: float | None = None  # a range's other end (absolute)


class _Unreadable(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


def parse_target(raw: object, *, percentage: bool = False, measure: str = "", kind: str = "flow",
                 direction: str = "higher") -> Target | None | CellProblem:
    """A target cell of an indicator (its measure, kind and direction); ``None`` for an empty
    one; a :class:`CellProblem` naming the forms understood for a text that is none of them."""
    if is_blank(raw):
        return None
    if not isinstance(raw, str):
        number = clean_number(raw, percentage=percentage, measure=measure)
        if isinstance(number, CellProblem) or number is None:
            return number
        return Target(number, None, None, str(raw))
    text = str(raw).strip()  # kept as the plan wrote it
    try:
        return _parse(text, percentage, measure, kind, direction)
    except _Unreadable as exc:
        return CellProblem(exc.reason, exc.message)


def _parse(text: str, percentage: bool, measure: str, kind: str, direction: str) -> Target:
    body = re.sub(r"\s+", "", normalize_text(text))
    body, parts = _brackets(body, text, percentage, measure)
    if body.lower() in PLACEHOLDERS or re.search(r"(?<![A-Za-z])[xX×]+(?![A-Za-z])", body):
        raise _Unreadable("placeholder", f"“{text}”是占位符，请填写年度目标")
    main: list[_Reading] = []
    stretch: list[_Reading] = []
    for clause in (c for c in re.split(r"[;、]|(?<!\d),|,(?!\d{3})", body) if c):
        if _NOTE.match(clause):
            continue  # "其中新增120家": a note beside the target
        if m := _STRETCH.match(clause):
            stretch.append(_clause(clause[m.end():], text, percentage, measure, kind))
        else:
            main.append(_clause(clause, text, percentage, measure, kind))
    if len(main) > 1 or not main and not stretch:
        raise _Unreadable("not_a_number", _not_understood(text))
    if len(stretch) > 1:
        raise _Unreadable("not_a_number", f"“{text}”有多个力争值")
    lower = direction == "lower"
    if main:
        first = main[0]
        if parts is not None and (first.factor is not None or first.value != parts):
            raise _Unreadable("out_of_range", f"“{text}”：括号内分项合计{parts:g}与总数不符")
        comparator = first.comparator
        low = first.comparator == "<=" or first.comparator is None and lower
        value, high = first.value, first.upper
        if high is not None:  # a range: the easier end is the target, the other the stretch
            value, high = (max(value, high), min(value, high)) if low else \
                (min(value, high), max(value, high))
            comparator = comparator or ("<=" if low else ">=")
        target = Target(value, comparator, high, text, first.factor, first.offset)
    else:  # "力争900" alone: the commitment is the stretch value
        target = Target(None, None, None, text)
    if stretch:
        s = stretch[0]
        if s.upper is not None:
            raise _Unreadable("not_a_number", f"“{text}”的力争值不能是区间")
        if not main:
            target = Target(s.value, s.comparator if s.factor is not None else None, s.value,
                            text, s.factor, s.offset, s.factor, s.offset)
        else:
            target = replace(target, stretch=s.value, stretch_factor=s.factor,
                             stretch_offset=s.offset)
    if target.value is not None and target.stretch is not None and target.factor is None \
            and target.stretch_factor is None and target.comparator != "<=" and not lower \
            and target.stretch < target.value:
        raise _Unreadable("out_of_range",
                          f"“{text}”：力争值{target.stretch:g}低于目标值{target.value:g}")
    return target


def _brackets(body: str, text: str, percentage: bool, measure: str) -> tuple[str, float | None]:
    """The text without a bracketed note, and the sum of its parts when the note lists the parts
    of a composite count ("7个（3个中心、4个平台）")."""
    m = re.search(r"\(([^()]*)\)", body)
    if not m:
        return body, None
    note, body = m.group(1), body[:m.start()] + body[m.end():]
    if re.search(r"\([^()]*\)", body):
        raise _Unreadable("not_a_number", f"“{text}”有多处括号，请只保留一处说明")
    pieces = [p for p in re.split(r"[,;、]", note) if p]
    if len(pieces) < 2 or _NOTE.match(note):
        return body, None  # a note, not a list of parts
    total = 0.0
    for piece in pieces:  # "3个中心", "省级2个"
        start = re.search(rf"\d|[{_CN_CHARS}]+(?=[{''.join(w for g in _COUNT_WORDS for w in g)}])",
                          piece)
        found = _quantity(piece[start.start():], text, percentage, measure, strict=False) \
            if start else None
        if found is None:
            return body, None  # words, not parts
        total += found[0]
    return body, total


def _clause(clause: str, text: str, percentage: bool, measure: str, kind: str) -> _Reading:
    if clause in _ZERO:  # 清零: a count down to zero
        return _Reading(0.0, "<=")
    if clause in _BREAKTHROUGH:  # 零的突破: at least one
        return _Reading(1.0, ">=")
    since = _SINCE.match(clause)
    rest = clause[since.end():] if since else clause
    if m := _DOUBLE.match(rest):
        times = {"一": 1, "两": 2, "二": 2, "三": 3, None: 1}.get(m.group(1))
        times = times if times is not None else int(m.group(1))
        return _relative(rest[m.end():], text, ">=", 1, factor=2.0 ** times)
    for pattern, sign in ((_GROW, 1), (_FALL, -1)):
        if m := pattern.match(rest):
            return _change(rest[m.end():], text, sign, percentage, measure, kind)
    if m := _NEW.match(rest):
        if kind == "flow":  # a flow counts the year's new ones: its target is the count
            return _absolute(rest[m.end():], text, percentage, measure)
        if kind != "stock":
            raise _Unreadable("not_a_number", f"“{text}”：“新增”只用于家数、个数等数量指标")
        reading = _absolute(rest[m.end():], text, percentage, measure)
        return _Reading(None, reading.comparator or ">=", 1.0, reading.value)
    if since:
        raise _Unreadable("not_a_number", _not_understood(text))
    return _absolute(clause, text, percentage, measure)


def _change(rest: str, text: str, sign: int, percentage: bool, measure: str,
            kind: str) -> _Reading:
    """增长20%以上, 增长不低于8%, 提高0.2个百分点, 增加5家, 下降5%."""
    comparator, rest = _prefix(rest)
    default = ">=" if sign > 0 else "<="
    if kind == "growth" and percentage:  # the indicator is the growth rate itself
        reading = _absolute(rest, text, percentage, measure)
        value = reading.value if sign > 0 else -reading.value
        return _Reading(value, comparator or reading.comparator or default)
    if m := re.match(rf"^({_ARABIC})%", rest):
        rate = float(m.group(1).replace(",", "")) / 100
        return _relative(rest[m.end():], text, comparator or default, sign,
                         factor=1 + sign * rate)
    if percentage and (m := re.match(rf"^({_ARABIC})个百分点", rest)):
        points = float(m.group(1).replace(",", ""))
        return _relative(rest[m.end():], text, comparator or default, sign, offset=sign * points)
    found = _quantity(rest, text, percentage, measure)
    if found is None or percentage:
        raise _Unreadable("not_a_number", _not_understood(text))
    amount, tail = found
    after, tail = _suffix(tail, text)
    if tail:
        raise _Unreadable("not_a_number", _not_understood(text))
    return _Reading(None, _agree(comparator, _turned(after, sign), text) or default, 1.0,
                    sign * amount)


def _turned(after: str | None, sign: int) -> str | None:
    """A decrease "by 5% or more" (下降5%以上) is a figure at most 95 % of the baseline."""
    return {">=": "<=", "<=": ">="}.get(after or "", after) if sign < 0 else after


def _relative(tail: str, text: str, comparator: str, sign: int, *, factor: float = 1.0,
              offset: float = 0.0) -> _Reading:
    """增长20%以上: the words after the rate (以上, 以内, 左右) and the comparator they give."""
    after, tail = _suffix(tail, text)
    if tail:
        raise _Unreadable("not_a_number", _not_understood(text))
    after = _turned(after, sign)
    if after in (">=", "<=") and after != comparator:
        comparator = after  # 增长20%以内: at most
    return _Reading(None, comparator, factor, offset)


def _absolute(clause: str, text: str, percentage: bool, measure: str) -> _Reading:
    comparator, body = _prefix(clause)
    found = _quantity(body, text, percentage, measure)
    if found is None:
        raise _Unreadable("not_a_number", _not_understood(text))
    value, tail = found
    if m := _RANGE.match(tail):
        other = _quantity(tail[m.end():], text, percentage, measure)
        if other is None:
            raise _Unreadable("not_a_number", _not_understood(text))
        after, rest = _suffix(other[1], text)
        if rest:
            raise _Unreadable("not_a_number", _not_understood(text))
        return _Reading(value, _agree(comparator, after, text), upper=other[0])
    after, rest = _suffix(tail, text)
    if rest:
        raise _Unreadable("not_a_number", _not_understood(text))
    return _Reading(value, _agree(comparator, after, text))


def _prefix(clause: str) -> tuple[str | None, str]:
    for word in _NEUTRAL:
        if clause.startswith(word):
            clause = clause[len(word):]
            break
    for words, comp in ((_AT_LEAST, ">="), (_AT_MOST, "<=")):
        for word in sorted(words, key=len, reverse=True):
            if clause.startswith(word):
                return comp, clause[len(word):]
    return None, clause


def _suffix(tail: str, text: str) -> tuple[str | None, str]:
    """The comparator a word after the figure gives ("~" for 左右), and what is left."""
    for words, comp in ((_AT_LEAST_AFTER, ">="), (_AT_MOST_AFTER, "<="), (_ABOUT_AFTER, "~")):
        for word in sorted(words, key=len, reverse=True):
            if tail.startswith(word):
                return comp, tail[len(word):]
    return None, tail


def _agree(before: str | None, after: str | None, text: str) -> str | None:
    if after == "~":
        return before
    if before is not None and after is not None and before != after:
        raise _Unreadable("not_a_number", f"“{text}”的比较方向前后矛盾")
    return before or after


def _quantity(body: str, text: str, percentage: bool, measure: str, *,
              strict: bool = True) -> tuple[float, str] | None:
    """The figure at the start of ``body`` in the indicator's measure, and the text after it
    (its measure word, or a word counting the same things, removed). ``strict``: a measure word
    of another kind is an error (else: not a quantity)."""
    m = _NUMBER.match(body)
    if not m:
        return None
    if m.group(1) is not None:
        value = float(m.group(1).replace(",", ""))
        for ch in m.group(2):
            value *= 1e3 if ch == "千" else _CN_LARGE[ch]
    else:
        value = _chinese(m.group(3))
        if value is None:
            return None
    tail = body[m.end():]
    if tail.startswith("余"):  # 百余场: at least a hundred
        found = _quantity(body[:m.end()] + tail[1:], text, percentage, measure, strict=strict)
        return None if found is None else (found[0], "以上" + found[1])
    if percentage:
        return value, tail[1:] if tail.startswith("%") else tail
    if measure in _MONEY:
        for word in sorted(_MONEY, key=len, reverse=True):
            if tail.startswith(word):  # 3亿元 in a list of 万元: 30000 (named in the text kept)
                return value * _MONEY[word] / _MONEY[measure], tail[len(word):]
        if m.group(2) or m.group(3) and m.group(3)[-1] in _CN_LARGE:
            value_in_measure = value / _MONEY[measure]
            return value_in_measure, tail
        return value, tail
    if measure and tail.startswith(measure):
        return value, tail[len(measure):]
    group = next((g for g in _COUNT_WORDS if measure in g), ())
    for word in sorted((w for g in _COUNT_WORDS for w in g), key=len, reverse=True):
        if tail.startswith(word):
            if word in group or not measure:
                return value, tail[len(word):]
            if not strict:
                return value, tail[len(word):]
            raise _Unreadable("not_a_number", f"“{text}”以“{word}”计，该指标单位是“{measure}”")
    if not strict:  # a part of a composite count: "3个中心" (the word after it names the part)
        return value, ""
    return value, tail


def _chinese(chars: str) -> float | None:
    """一百二十 → 120, 两 → 2, 十二 → 12, 百 → 100, 千 → 1000, 三千五百 → 3500, 一万二千 → 12000."""
    total, section, digit = 0.0, 0.0, None
    for ch in chars:
        if ch in _CN_DIGIT:
            if digit is not None and digit != 0 and _CN_DIGIT[ch] != 0:
                return None  # "一二": not a number
            digit = _CN_DIGIT[ch]
        elif ch in _CN_SMALL:
            section += (1 if digit is None else digit) * _CN_SMALL[ch]
            digit = None
        else:
            here = section + (digit or 0)
            total = (total + (here if here or total else 1)) * _CN_LARGE[ch]  # 万人: 10000
            section, digit = 0.0, None
    return total + section + (digit or 0)


def _not_understood(text: str) -> str:
    return f"“{text}”不是可识别的目标（可识别的写法如：{FORMS}）"
