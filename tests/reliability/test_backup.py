"""kj backup / kj restore round trip on the reviewed sample: every table and file back as it
was, verified by SHA-256; a damaged backup is refused; a backup waits for a writer."""

import shutil
import threading
import time

import duckdb
import pytest

from kj_pipelines.cli import main
from kj_pipelines.core.settings import DataPaths
from kj_pipelines.storage.backup import MANIFEST, BackupError, backup, restore, verify
from kj_pipelines.storage.lock import warehouse_lock

TABLES = ["raw.submission_values", "mart.indicator_progress", "mart.problems", "mart.warnings"]


def _dump(paths):
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}
    finally:
        con.close()


def test_backup_and_restore_round_trip(reviewed_copy, tmp_path, monkeypatch):
    source = reviewed_copy
    before = _dump(source)
    archived = sorted(p.relative_to(source.root) for p in source.archive.rglob("*") if p.is_file())
    assert archived and before["mart.indicator_progress"]
    assert main(["backup", str(tmp_path / "bk")]) == 0
    assert len(verify(tmp_path / "bk")) > len(archived)

    fresh = DataPaths(tmp_path / "restored")
    monkeypatch.setenv("KJ_DATA_DIR", str(fresh.root))
    assert main(["restore", str(tmp_path / "bk")]) == 0
    assert _dump(fresh) == before
    assert sorted(p.relative_to(fresh.root) for p in fresh.archive.rglob("*")
                  if p.is_file()) == archived
    assert (fresh.catalog / "indicators.yaml").read_bytes() == \
        (source.catalog / "indicators.yaml").read_bytes()
    # restoring again over it is refused without --replace; with it, the old file is kept
    assert main(["restore", str(tmp_path / "bk")]) == 1
    assert main(["restore", "--replace", str(tmp_path / "bk")]) == 0
    assert _dump(fresh) == before


def test_a_damaged_backup_is_refused_and_nothing_is_restored(reviewed_copy, tmp_path):
    backup(reviewed_copy, tmp_path / "bk")
    some = next(p for p in (tmp_path / "bk" / "archive").rglob("*") if p.is_file())
    some.write_bytes(some.read_bytes() + b"x")
    target = DataPaths(tmp_path / "restored")
    with pytest.raises(BackupError, match="changed: archive/"):
        restore(tmp_path / "bk", target)
    assert not target.root.exists()
    (tmp_path / "bk" / MANIFEST).unlink()
    with pytest.raises(BackupError, match="not a kj backup"):
        verify(tmp_path / "bk")


@pytest.mark.slow  # waits a second on a held lock
def test_a_backup_waits_for_the_writer_and_never_goes_into_a_full_directory(reviewed_copy,
                                                                             tmp_path):
    finished = []
    with warehouse_lock(reviewed_copy.warehouse, purpose="a run"):
        worker = threading.Thread(target=lambda: finished.append(
            backup(reviewed_copy, tmp_path / "bk")))
        worker.start()
        time.sleep(1.0)
        assert not finished  # not while the run writes
    worker.join(timeout=30)
    assert finished and verify(tmp_path / "bk")
    shutil.copy(reviewed_copy.catalog / "units.yaml", tmp_path / "full.yaml")
    with pytest.raises(BackupError, match="not empty"):
        backup(reviewed_copy, tmp_path)
