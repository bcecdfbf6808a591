"""The metadata's rows read from frames column by column, as ``to_dict``/``itertuples`` read
them: the same Python values, in the same order."""

import numpy as np
import pandas as pd

from kj_pipelines.defs.metadata import records, row_tuples


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "period": pd.Categorical(["2026-10", "2026-09", "2026-10"]),
        "unit": ["JC", "ZS", None], "value": [1.5, np.nan, 3.0],
        "count": np.array([1, 2, 3], dtype="int64"), "flag": [True, False, True],
        "missing": pd.array([1, None, 2], dtype="Int64"),
        "at": pd.to_datetime(["2026-11-01", "2026-11-02", None])})


def test_records_read_as_to_dict_does():
    frame = _frame()
    got, want = records(frame), frame.to_dict("records")
    assert len(got) == len(want) == 3
    for g, w in zip(got, want, strict=True):
        assert list(g) == list(w)
        for key in w:
            assert type(g[key]) is type(w[key]) or (pd.isna(g[key]) and pd.isna(w[key])), key
            assert (pd.isna(g[key]) and pd.isna(w[key])) or g[key] == w[key], key


def test_row_tuples_read_as_itertuples_does():
    frame = _frame().iloc[[2, 0]]  # a selection, as metadata tables take the worst rows
    got = row_tuples(frame)
    want = [tuple(t) for t in frame.itertuples(index=False)]
    assert len(got) == 2
    for g, w in zip(got, want, strict=True):
        assert all((pd.isna(a) and pd.isna(b)) or a == b for a, b in zip(g, w, strict=True))
    assert row_tuples(frame.iloc[:0]) == []


def test_a_glance_fits_where_the_ui_shows_it_without_a_click_and_numbers_sit_right():
    from kj_pipelines.defs.metadata import INLINE_CHARS, glance, markdown_rows

    rows = [("🔴 红", f"第{i}个镇（街道）", 40.0 + i, 74.3, -34.3 + i) for i in range(40)]
    short = glance(["状态", "单位", "完成率%", "计划进度%", "差距"], rows, full="progress").value
    assert len(short) < INLINE_CHARS
    shown = [line for line in short.splitlines() if line.startswith("| 🔴")]
    assert 5 <= len(shown) < 40 and shown[0].startswith("| 🔴 红 | 第0个")  # the first rows
    assert f"前{len(shown)}行，共40行；全部见 progress" in short
    assert short.splitlines()[1] == "|---|---|---:|---:|---:|"
    whole = markdown_rows(["单位", "数"], [("甲", None), ("乙", 3)]).value
    assert whole.splitlines()[1] == "|---|---:|"  # judged by the first figure there is
    assert glance(["a"], []).value == "（无）"
