"""Keyed columns: categoricals that behave as the strings they hold, or strings left alone."""

import pandas as pd

from kj_pipelines.core.keys import keyed, mapped


def test_keyed_columns_share_one_dtype_sort_as_strings_and_merge_on_codes():
    a = keyed(pd.DataFrame({"unit": ["ZS", "ALL", "JC"], "period": ["2026-10", "2025-12",
                                                                  "2026-01"], "v": [1, 2, 3]}),
              ["ALL", "JC", "ZS", "GS"])
    b = keyed(pd.DataFrame({"unit": ["JC", "GS"], "period": ["2026-01", "2026-01"], "w": [7, 8]}),
              ["GS", "ZS", "JC", "ALL"])  # the same units in another order: the same dtype
    assert a["unit"].dtype == b["unit"].dtype and a["period"].dtype == b["period"].dtype
    assert a.sort_values("unit")["unit"].tolist() == ["ALL", "JC", "ZS"]
    assert a.sort_values("period")["period"].tolist() == ["2025-12", "2026-01", "2026-10"]
    joined = a.merge(b, on=["unit", "period"])
    assert joined[["unit", "v", "w"]].values.tolist() == [["JC", 3, 7]]
    assert (a["unit"] == "ALL").tolist() == [False, True, False]


def test_a_value_outside_the_categories_leaves_its_column_as_it_was():
    frame = pd.DataFrame({"unit": ["ZS", "NEW"], "period": ["2026-10", "2026"],
                          "indicator": ["HT_VA", None]})
    out = keyed(frame, ["ZS"], ["HT_VA"])
    assert out["unit"].dtype == object and out["unit"].tolist() == ["ZS", "NEW"]
    assert out["period"].dtype == object  # "2026" is not a month
    assert isinstance(out["indicator"].dtype, pd.CategoricalDtype)  # a missing value is allowed
    assert out["indicator"].isna().tolist() == [False, True]


def test_mapped_looks_up_once_per_category_with_a_default():
    order = {"ALL": 0, "JC": 1}
    coded = keyed(pd.DataFrame({"unit": ["JC", "ZS", None, "ALL"]}), ["ALL", "JC", "ZS"])
    assert mapped(coded["unit"], order, 9).tolist() == [1, 9, 9, 0]
    plain = pd.Series(["JC", "ZS", None, "ALL"])
    assert mapped(plain, order, 9).tolist() == [1, 9, 9, 0]
