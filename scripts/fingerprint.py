"""A full run's fingerprint: every warehouse table's rows and every generated document, hashed,
so a change that should change nothing (a move of modules, a refactor) can be shown to.

    KJ_TODAY=2026-12-05 make materialize KJ_DATA_DIR=/tmp/before/data DAGSTER_HOME=/tmp/before/home
    .venv/bin/python scripts/fingerprint.py /tmp/before/data > before.txt
    # …the change, then the same into /tmp/after…
    diff before.txt after.txt

Times the run stamped itself (updated_at, received_at, raised_at, applied_at) and the archive's
folder names are left out: they say when the run happened, not what it computed. A workbook's
bytes are fixed (fixed timestamps), as is the board's page.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import duckdb

STAMPS = {"updated_at", "received_at", "raised_at", "applied_at", "accepted_at",
          "archived_as", "modified_at"}


def tables(warehouse: Path) -> list[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out = []
        names = con.execute("""SELECT table_schema || '.' || table_name FROM information_schema.tables
                               WHERE table_type = 'BASE TABLE' ORDER BY 1""").fetchall()
        for (table,) in names:
            columns = [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                "AND table_name = ? ORDER BY ordinal_position", table.split(".")).fetchall()
                if c not in STAMPS]
            quoted = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f"SELECT {quoted} FROM {table} ORDER BY ALL").fetchall()
            digest = hashlib.sha256(repr(rows).encode()).hexdigest()[:16]
            out.append(f"table {table} rows={len(rows)} {digest}")
        return out
    finally:
        con.close()


def documents(reports: Path) -> list[str]:
    return [f"document {p.relative_to(reports)} "
            f"{hashlib.sha256(p.read_bytes()).hexdigest()[:16]}"
            for p in sorted(reports.rglob("*")) if p.is_file()]


if __name__ == "__main__":
    root = Path(sys.argv[1])
    print("\n".join(tables(root / "warehouse.duckdb") + documents(root / "reports")))
