"""Cell-by-cell cleaning of submitted values, before any schema is applied.

Towns type numbers in many forms (full-width digits, thousands separators, ``15%``, ``12家``,
placeholders such as ``xx`` or ``待定``). Each function here returns either a clean value or a
:class:`CellProblem` carrying a reason code of the shared interface.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass

from kj_pipelines.core.periods import month_end

PLACEHOLDERS = frozenset({
    "x", "xx", "xxx", "-", "--", "---", "—", "——", "–", "/", "//", "\\", "*", "**", "?", "??",
    "待定", "待报", "待补", "待统计", "暂无", "暂缺", "无", "空", "不详", "未知", "缺", "略",
    "n/a", "na", "null", "none", "nan", "tbd", "…", "...", "。", "、",
})
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_PERIOD_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月?(份)?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(\s.*)?$"),
)
FORMULA_WITHOUT_VALUE = object()  # sentinel the workbook reader puts in a formula cell with no cache


class ExcelPercent(float):
    """A number from a cell formatted as a percentage: Excel stores 3.41% as 0.0341."""


@dataclass(frozen=True)
class CellProblem:
    reason_code: str
    message: str


def normalize_text(value: object) -> str:
    """NFKC (full-width to half-width), zero-width characters removed, outer spaces trimmed."""
    text = unicodedata.normalize("NFKC", str(value)).translate(_ZERO_WIDTH)
    return text.replace("\u3000", " ").strip()


def header_key(value: object) -> str:
    """A header as matched: normalized, inner spaces removed, a trailing note in brackets dropped."""
    text = re.sub(r"\s+", "", normalize_text(value))
    return re.sub(r"[(\[【].*?[)\]】]$", "", text)


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and normalize_text(value) == "")


def clean_code(value: object) -> str | CellProblem:
    if value is FORMULA_WITHOUT_VALUE:
        return CellProblem("formula_without_value", "公式单元格没有计算结果，请在Excel中重新计算后保存")
    if is_blank(value):
        return CellProblem("placeholder", "代码为空")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = normalize_text(value).upper()
    if text.lower() in PLACEHOLDERS:
        return CellProblem("placeholder", f"代码为占位符“{text}”")
    return text


def clean_number(value: object, *, percentage: bool = False, measure: str = "") -> float | None | CellProblem:
    """A submitted number; ``None`` for an empty cell.

    ``15%`` is read as 15 for a percentage indicator (values of % indicators are stored in percent);
    a trailing measure equal to the indicator's (``12家``, ``3.5亿元``) is unambiguous and dropped.
    """
    if value is FORMULA_WITHOUT_VALUE:
        return CellProblem("formula_without_value", "公式单元格没有计算结果，请在Excel中重新计算后保存")
    if value is None:
        return None
    if isinstance(value, bool):
        return CellProblem("not_a_number", f"“{value}”是逻辑值，不是数字")
    if isinstance(value, ExcelPercent):
        if not percentage:
            return CellProblem("not_a_number", f"“{value:.2%}”是百分比格式，但该指标单位不是%")
        value = float(value) * 100
    if isinstance(value, (int, float)):
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            return CellProblem("not_a_number", "不是有限数值")
        return number
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return CellProblem("not_a_number", f"“{value}”是日期，不是数字")
    text = normalize_text(value)
    if text == "":
        return None
    if text.lower() in PLACEHOLDERS or re.fullmatch(r"[xX×*?？]+", text):
        return CellProblem("placeholder", f"“{text}”是占位符，请填写实际数值")
    body = text
    if measure and measure != "%" and body.endswith(measure) and len(body) > len(measure):
        body = body[: -len(measure)].rstrip()
    if body.endswith("%"):
        if not percentage:
            return CellProblem("not_a_number", f"“{text}”带百分号，但该指标单位不是%")
        body = body[:-1].rstrip()
    if _THOUSANDS.match(body):
        body = body.replace(",", "")
    if not _PLAIN.match(body):
        return CellProblem("not_a_number", f"“{text}”不是数字")
    number = float(body)
    if math.isinf(number) or math.isnan(number):
        return CellProblem("not_a_number", f"“{text}”不是有限数值")
    return number


def clean_period(value: object) -> str | CellProblem:
    """A reporting period as ``YYYY-MM`` from ``2026-10``, ``2026年10月``, ``2026/10`` or a date cell."""
    if value is FORMULA_WITHOUT_VALUE:
        return CellProblem("formula_without_value", "公式单元格没有计算结果，请在Excel中重新计算后保存")
    if isinstance(value, (dt.datetime, dt.date)):
        year, month = value.year, value.month
    elif is_blank(value):
        return CellProblem("bad_period", "报告期为空")
    else:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = normalize_text(value)
        for pattern in _PERIOD_PATTERNS:
            m = pattern.match(text)
            if m:
                year, month = int(m.group(1)), int(m.group(2))
                break
        else:
            return CellProblem("bad_period", f"“{text}”不是报告期（应为2026-10或2026年10月）")
    if not 1 <= month <= 12:
        return CellProblem("bad_period", f"月份{month}不存在")
    if year < 2000 or year > 2100:
        return CellProblem("bad_period", f"年份{year}不合理")
    return f"{year:04d}-{month:02d}"


def clean_note(value: object) -> str | CellProblem:
    """Free text kept as text: a leading '=' never becomes a formula when written back to Excel;
    a formula's cached text is the note, a formula without one a problem (never a blank)."""
    if value is FORMULA_WITHOUT_VALUE:
        return CellProblem("formula_without_value", "公式单元格没有计算结果，请在Excel中重新计算后保存")
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    return normalize_text(value)[:500]


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_MONTH_ONLY = (re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})$"),
               re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月(?:底|末)?$"))


def clean_date(value: object) -> dt.date | None | CellProblem:
    """A date from a date cell, ``2026-03-31``, ``2026/3/31``, ``2026年3月31日``; a month alone
    (``2026-03``, ``2026年3月底``) means its last day. ``None`` for an empty cell."""
    if value is FORMULA_WITHOUT_VALUE:
        return CellProblem("formula_without_value", "公式单元格没有计算结果，请在Excel中重新计算后保存")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if is_blank(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(int(value)) if float(value).is_integer() else str(value)
    text = normalize_text(value)
    if text.lower() in PLACEHOLDERS:
        return CellProblem("placeholder", f"“{text}”是占位符，请填写日期")
    try:
        for pattern in _DATE_PATTERNS:
            if m := pattern.match(text):
                day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                break
        else:
            for pattern in _MONTH_ONLY:
                if m := pattern.match(text):
                    day = month_end(f"{int(m.group(1)):04d}-{int(m.group(2)):02d}")
                    break
            else:
                return CellProblem("bad_date", f"“{text}”不是日期（应为2026-03-31或2026年3月31日）")
    except ValueError:
        return CellProblem("bad_date", f"“{text}”不是存在的日期")
    if not 2000 <= day.year <= 2100:
        return CellProblem("bad_date", f"日期“{text}”的年份不合理")
    return day


def clean_text(value: object, limit: int = 500) -> str | CellProblem:
    """Free text of a list sheet, kept as written (full-width Chinese punctuation included, only
    zero-width characters and outer spaces removed); a formula with no cached value is a
    problem, not text."""
    if value is FORMULA_WITHOUT_VALUE:
        return CellProblem("formula_without_value", "公式单元格没有计算结果，请在Excel中重新计算后保存")
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    return str(value).translate(_ZERO_WIDTH).replace("\u3000", " ").strip()[:limit]
