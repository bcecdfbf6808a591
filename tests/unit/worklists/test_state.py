"""The supervision items as printed: a 督办编号 a reader can write back."""

def test_a_printed_supervision_number_maps_back_to_its_item():
    from kj_pipelines.worklists.state import item_id_of, item_number

    for item in ("indicator:MAJOR_PROJ_INV:XP", "task:T26204:2", "project:P2601",
                 "problem:XP-202507-7F61", "indicator:HT_ENT:JD_DH"):
        number = item_number(item)
        assert number.startswith("督-") and ":" not in number
        assert item_id_of(number) == item and item_id_of(item) == item
    assert item_number("task:T26204:2") == "督-任务-T26204-2"
    assert item_id_of(" 督-问题-XP-202507-7F61 ") == "problem:XP-202507-7F61"
