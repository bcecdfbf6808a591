"""``make bench``: how close the pipeline runs to what is possible, on this machine.

Each figure is one process (``benchmarks.items``), its wall time and peak memory:
(a) the compute floor: the backfill's computation called straight, without Dagster;
(b) the full-history backfill 2019-01…2026-10 of the indicator graph as one single run;
(c) Dagster's floor: the same graph with bodies that do nothing, full range and one month;
(d) one ``monthly_review`` month on an ingested warehouse;
(e) loading the definitions, against ``import dagster`` alone;
(f) ingesting a year of submissions (every unit × 12 months);
(g) a synthetic province (benchmarks/province.py): its backfill and one month.
Writes ``bench/results.md`` and ends with the one-line summary the targets are read from.
Nothing here asserts a time; it reports.

The machine is shared and its speed drifts (the same no-op backfill has taken 31 s and 41 s within
the hour), so every timed figure is measured ``KJ_BENCH_ROUNDS`` times (3 unless set; the
full-history backfills ``KJ_BENCH_LONG_ROUNDS`` times, 3 unless set), each
figure and its floor one after the other within a round, every run on the same warehouse as it was
after ingestion, and the fastest run of each is the figure: the run least disturbed by whatever
else the machine was doing. Every run's time is kept in the results.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.md"
TARGETS = {"backfill_vs_noop": 1.2, "compute_vs_floor": 3.0, "month_vs_noop": 1.5,
           "defs_load_over_import_s": 1.0, "ingest_files_per_s": 50.0,
           "province_backfill_vs_noop": 2.0, "province_peak_mib": 4096.0}


ROUNDS = int(os.environ.get("KJ_BENCH_ROUNDS", "3"))
# the full-history backfills (two to four minutes a run on a slow day), 80 % of the time: twice
# fits a slow day's 25 min (26.2 min on 2026-12-04 against 34.7), but that day's two no-op runs
# were 152 s and 114 s, the figure off by 0.2; so three unless set
LONG_ROUNDS = int(os.environ.get("KJ_BENCH_LONG_ROUNDS", "3"))


def item(name: str, root: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "benchmarks.items", name, str(root)],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"benchmark {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measured(names: tuple[str, ...], root: Path, figures: dict[str, dict], prefix: str = "",
             restore: Callable[[], None] | None = None, rounds: int = ROUNDS) -> None:
    """Each of ``names`` run ``rounds`` times, round by round, each run on ``root`` as it was
    before the first: ``restore`` puts it back (by default its warehouse is copied back). The
    fastest run is the figure, every run's time is kept."""
    snapshot = root / "warehouse.before-bench.duckdb"
    if restore is None:
        shutil.copyfile(root / "warehouse.duckdb", snapshot)

        def restore() -> None:
            shutil.copyfile(snapshot, root / "warehouse.duckdb")
            (root / "warehouse.duckdb.wal").unlink(missing_ok=True)

    runs: dict[str, list[dict]] = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            restore()
            runs[name].append(item(name, root))
            print(f"{prefix}{name:16} {runs[name][-1]['seconds']:8.1f} s", flush=True)
    snapshot.unlink(missing_ok=True)
    for name, results in runs.items():
        figures[prefix + name] = fastest(results)


def fastest(results: list[dict]) -> dict:
    best = dict(min(results, key=lambda r: r["seconds"]))
    best["runs"] = [r["seconds"] for r in results]
    best["peak_mib"] = max(r["peak_mib"] for r in results)
    return best


def process_seconds(code: str, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def _timed(fn) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def sample(root: Path) -> None:
    from kj_pipelines.sample.generator import generate_sample

    generate_sample(root)


def main() -> None:
    figures: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="kj_bench_") as tmp:
        data = Path(tmp) / "data"
        sample(data)
        # a year of submissions, as the sample has them (ingestion moves the inbox's files)
        year = Path(tmp) / "year"
        shutil.copytree(data, year, ignore=lambda folder, names: [
            n for n in names if Path(folder).name == "inbox" and not n.startswith("2025-")])
        figures["prepare"] = item("prepare", data)
        measured(("floor", "month", "noop_month", "monthly_review"), data, figures)
        measured(("backfill", "noop_backfill"), data, figures, rounds=LONG_ROUNDS)
        province = Path(tmp) / "province"
        # in a process of its own: a child forked from a process that held the province's rows
        # would report that process's peak memory as its own
        figures["province_build"] = {"seconds": _timed(lambda: subprocess.run(
            [sys.executable, "-m", "benchmarks.province", str(data), str(province)],
            cwd=ROOT, check=True, capture_output=True))}
        measured(("month",), province, figures, prefix="province_")
        measured(("backfill",), province, figures, prefix="province_", rounds=LONG_ROUNDS)
        fresh = Path(tmp) / "year-run"

        def fresh_year() -> None:  # ingestion moves the workbooks: each run on a fresh copy
            shutil.rmtree(fresh, ignore_errors=True)
            shutil.copytree(year, fresh)

        measured(("ingest_year",), fresh, figures, restore=fresh_year)
        # the reader: openpyxl (what ingestion uses) against python-calamine, on the same year
        measured(("read_year", "read_year_calamine"), year, figures, restore=lambda: None)
    env_import = process_seconds("import dagster", repeat=5)
    # what a code server does at start and at every reload: import, then resolve the repository
    env_defs = process_seconds("from kj_pipelines.definitions import defs; "
                               "defs.get_repository_def().get_all_jobs()", repeat=5)
    figures["import_dagster"] = {"seconds": env_import}
    figures["defs_load"] = {"seconds": env_defs}

    compute = figures["backfill"]["seconds"] - figures["noop_backfill"]["seconds"]
    summary = {
        "backfill_vs_noop": figures["backfill"]["seconds"] / figures["noop_backfill"]["seconds"],
        "compute_vs_floor": compute / figures["floor"]["seconds"],
        "month_vs_noop": figures["month"]["seconds"] / figures["noop_month"]["seconds"],
        "defs_load_over_import_s": env_defs - env_import,
        "ingest_files_per_s": figures["ingest_year"]["files_per_s"],
        # the target: a province's backfill within twice the district's no-op backfill
        "province_backfill_vs_noop": figures["province_backfill"]["seconds"]
        / figures["noop_backfill"]["seconds"],
        "province_peak_mib": max(figures["province_backfill"]["peak_mib"],
                                 figures["province_month"]["peak_mib"]),
    }
    write_results(figures, summary)
    print(" ".join(f"{k}={'n/a' if v is None else f'{v:.2f}'}" for k, v in summary.items()))


LABELS = {
    "prepare": "ingest the whole sample (1,073 workbooks, targets, registry, plans)",
    "floor": "(a) compute floor: the backfill's computation without Dagster",
    "backfill": "(b) full-history backfill 2019-01…2026-10, indicators + progress, one run",
    "noop_backfill": "(c) the same graph doing nothing, full range",
    "month": "one month (2026-10) of the indicator graph",
    "noop_month": "(c) the same graph doing nothing, one month",
    "monthly_review": "(d) `monthly_review` 2026-10 on the ingested warehouse",
    "ingest_year": "(f) ingest a year of submissions (2025, every unit × 12 months)",
    "read_year": "(f) read that year's workbooks, every sheet: openpyxl (the project's reader)",
    "read_year_calamine": "(f) the same with python-calamine (no formats, no formula check)",
    "import_dagster": "(e) `import dagster` in a new process",
    "defs_load": "(e) load the definitions in a new process (import, resolve the repository)",
    "province_build": "(g) build the synthetic province (1,903 units, 1.7 M submitted figures)",
    "province_month": "(g) province: one month (2026-10) of the indicator graph",
    "province_backfill": "(g) province: full-history backfill 2019-01…2026-10, one run",
}


def write_results(figures: dict[str, dict], summary: dict[str, float | None]) -> None:
    lines = ["# `make bench` results", "",
             f"Measured {dt.date.today().isoformat()} on {platform.machine()}, "
             f"{os.cpu_count()} cores, Python {platform.python_version()}, "
             f"dagster {_version('dagster')}, duckdb {_version('duckdb')}, "
             f"pandas {_version('pandas')}; SQLite instance, in-process executor.", "",
             f"Timed figures: the fastest of {ROUNDS} runs ({LONG_ROUNDS} for the full-history "
             "backfills; every run in the last column), each run on the warehouse as it was "
             "after ingestion.", "",
             "| what | seconds | peak MiB | runs (s) |", "|---|---:|---:|---|"]
    for name, label in LABELS.items():
        f = figures[name]
        peak = f"{f['peak_mib']:.0f}" if "peak_mib" in f else "—"
        runs = ", ".join(f"{r:.1f}" for r in f.get("runs", [f["seconds"]]))
        lines.append(f"| {label} | {f['seconds']:.1f} | {peak} | {runs} |")
    lines += ["", "| figure | measured | target | met |", "|---|---:|---:|---|"]
    for key, value in summary.items():
        target = TARGETS[key]
        higher_is_better = key == "ingest_files_per_s"
        if value is None:
            lines.append(f"| `{key}` | not measured | {target:g} | no |")
            continue
        met = value >= target if higher_is_better else value <= target
        lines.append(f"| `{key}` | {value:.2f} | {'≥' if higher_is_better else '≤'} {target:g} "
                     f"| {'yes' if met else 'no'} |")
    lines += ["", "```", " ".join(f"{k}={'n/a' if v is None else f'{v:.2f}'}"
                                  for k, v in summary.items()), "```", ""]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines), encoding="utf-8")


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    main()
