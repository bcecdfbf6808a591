"""Inbox → warehouse: read once, good rows kept with provenance, bad cells quarantined."""

import datetime as dt
import os

import pytest
from conftest import write_rows

from kj_pipelines.intake.inbox import ingest_pending

NOW = dt.datetime(2026, 11, 23, 9, 0)


def _stamp(path, day):
    ts = dt.datetime(2026, 11, day, 9).timestamp()
    os.utime(path, (ts, ts))


def test_good_rows_and_rejections_land_and_files_are_archived(data_dir, catalog, conn):
    write_rows(data_dir.inbox / "a.xlsx", [["JC", "", "2026-10", "HT_VA", "", 1.5, 12, ""],
                                            ["JC", "", "2026-10", "FAI", "", "xx", 3, ""]])
    (data_dir.inbox / "b.xlsx").write_bytes(b"")
    report = ingest_pending(data_dir, catalog, conn, NOW)
    assert [r.status for r in report.results] == ["partial", "rejected"]
    values = conn.execute("SELECT unit, indicator, period, value, source_file, sheet, row "
                          "FROM raw.submission_values").fetchall()
    assert values == [("JC", "HT_VA", "2026-10", 1.5, "a.xlsx", "填报", 3)]
    rejections = conn.execute("SELECT source_file, row, \"column\", reason_code "
                              "FROM quarantine.rejections ORDER BY source_file").fetchall()
    assert rejections == [("a.xlsx", 4, "本期值", "placeholder"),
                          ("b.xlsx", None, None, "unreadable_file")]
    assert list(data_dir.inbox.iterdir()) == []
    assert len(list(data_dir.archive.rglob("*.xlsx"))) == 2
    files = conn.execute("SELECT file, rows_read, rows_accepted FROM raw.submission_files "
                         "ORDER BY file").fetchall()
    assert files == [("a.xlsx", 2, 1), ("b.xlsx", 0, 0)]


def test_same_file_is_read_once(data_dir, catalog, conn):
    rows = [["JC", "", "2026-10", "HT_VA", "", 1.5, 12, ""]]
    write_rows(data_dir.inbox / "a.xlsx", rows)
    ingest_pending(data_dir, catalog, conn, NOW)
    (data_dir.archive / "2026-11").joinpath(next(
        p.name for p in (data_dir.archive / "2026-11").iterdir())).rename(
        data_dir.inbox / "again.xlsx")
    report = ingest_pending(data_dir, catalog, conn, NOW)
    assert report.results == [] and report.already_seen == ["again.xlsx"]
    assert conn.execute("SELECT count(*) FROM raw.submission_values").fetchone() == (1,)


def test_resubmission_replaces_and_history_stays(data_dir, catalog, conn):
    first = write_rows(data_dir.inbox / "first.xlsx",
                       [["JC", "", "2026-10", "HT_VA", "", 15, 120, ""],
                        ["JC", "", "2026-10", "FAI", "", 2, 20, ""]])
    _stamp(first, 5)
    ingest_pending(data_dir, catalog, conn, NOW)
    fixed = write_rows(data_dir.inbox / "fixed.xlsx",
                       [["JC", "", "2026-10", "HT_VA", "", 1.5, 12, "更正"]])
    _stamp(fixed, 8)
    ingest_pending(data_dir, catalog, conn, NOW)
    current = dict(conn.execute("SELECT indicator, value FROM core.submitted_values").fetchall())
    assert current == {"HT_VA": 1.5, "FAI": 2.0}
    history = conn.execute("SELECT value FROM raw.submission_values WHERE indicator = 'HT_VA' "
                           "ORDER BY submitted_at").fetchall()
    assert history == [(15.0,), (1.5,)]


def test_later_file_wins_even_when_ingested_in_one_batch(data_dir, catalog, conn):
    a = write_rows(data_dir.inbox / "z_old.xlsx", [["JC", "", "2026-10", "HT_VA", "", 9, 9, ""]])
    b = write_rows(data_dir.inbox / "a_new.xlsx", [["JC", "", "2026-10", "HT_VA", "", 1, 1, ""]])
    _stamp(a, 5)
    _stamp(b, 9)
    ingest_pending(data_dir, catalog, conn, NOW)
    assert conn.execute("SELECT value FROM core.submitted_values").fetchall() == [(1.0,)]


@pytest.mark.slow  # writes the sample twice: in make test-slow, to keep the suite under 90 s
def test_sample_is_byte_for_byte_deterministic(tmp_path, catalog, conn, small_sample):
    import shutil

    from kj_pipelines.core.files import sha256_of
    from kj_pipelines.core.settings import DataPaths
    from kj_pipelines.sample.generator import generate_sample

    # the session's sample (2026-08…10), and the same written again here
    first, second = tmp_path / "a", tmp_path / "b"
    shutil.copytree(small_sample, first)
    generate_sample(second, start="2026-08", end="2026-10")
    names = sorted(p.name for p in (first / "inbox").iterdir() if p.is_file())
    assert names == sorted(p.name for p in (second / "inbox").iterdir() if p.is_file())
    assert all(sha256_of(first / "inbox" / n) == sha256_of(second / "inbox" / n) for n in names)
    # so writing the sample again drops files the warehouse already knows
    ingest_pending(DataPaths(first), catalog, conn, NOW)
    for path in (second / "inbox").iterdir():
        if path.is_file():
            path.rename(first / "inbox" / path.name)
    report = ingest_pending(DataPaths(first), catalog, conn, NOW)
    assert report.results == [] and len(report.already_seen) == len(names)
