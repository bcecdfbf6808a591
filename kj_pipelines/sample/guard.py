"""Keeping the sample out of a region's own data: ``kj sample`` writes a manifest of what it
wrote (``.kj_sample.json``: each file's SHA-256), and refuses a data directory holding anything
else — a catalog or plans the bureau wrote, workbooks in the inbox or archive that are not the
sample's, or a warehouse with real submissions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import duckdb

from kj_pipelines.core.files import sha256_of

MANIFEST = ".kj_sample.json"
GUARDED = ("catalog", "plans", "inbox", "archive", "source")


def _files(root: Path, folders: Iterable[str]) -> list[Path]:
    out = []
    for folder in folders:
        base = root / folder
        if base.is_dir():
            out += [p for p in sorted(base.rglob("*")) if p.is_file()]
    return out


def write_manifest(root: Path) -> None:
    files = {p.relative_to(root).as_posix(): sha256_of(p) for p in _files(root, GUARDED)}
    (root / MANIFEST).write_text(json.dumps(files, ensure_ascii=False, indent=0, sort_keys=True),
                                 encoding="utf-8")


def foreign_content(root: Path) -> list[str]:
    """What in ``root`` is not an earlier sample's (empty: the sample may be written)."""
    manifest_path = root / MANIFEST
    known: dict[str, str] = {}
    if manifest_path.exists():
        try:
            known = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            return [f"{MANIFEST}（无法读取）"]
    sample_hashes = set(known.values())
    foreign = []
    for path in _files(root, GUARDED):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue  # a half-written file of an earlier run, the inbox's arrival records
        digest = sha256_of(path)
        if rel.startswith("archive/") or rel.startswith("inbox/"):
            ok = digest in sample_hashes  # a sample workbook, wherever it was moved
        else:
            ok = known.get(rel) == digest
        if not ok:
            foreign.append(rel)
    warehouse = root / "warehouse.duckdb"
    if warehouse.exists():
        foreign += [f"warehouse.duckdb: {n}" for n in _real_submissions(warehouse, sample_hashes)]
    return foreign


def _real_submissions(warehouse: Path, sample_hashes: set[str]) -> list[str]:
    try:
        conn = duckdb.connect(str(warehouse), read_only=True,
                              config={"autoinstall_known_extensions": False})
    except duckdb.Error as exc:
        return [f"无法打开（{type(exc).__name__}）"]
    try:
        rows = conn.execute("SELECT sha256, file FROM raw.submission_files").fetchall()
    except duckdb.CatalogException:
        return []
    finally:
        conn.close()
    return [f"已入库的填报 {file}" for sha, file in rows if sha not in sample_hashes]
