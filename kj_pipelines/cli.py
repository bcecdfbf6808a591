"""The ``kj`` console script: catalog, validate, template, sample (see shared interface)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from kj_pipelines.core.settings import DataPaths, now_local

log = logging.getLogger("kj")


def _catalog(paths: DataPaths):
    from kj_pipelines.catalog.loader import load_catalog
    from kj_pipelines.core.settings import PACKAGED_CATALOG

    folder = paths.catalog_folder()
    if folder == PACKAGED_CATALOG:
        log.warning("no catalog in %s: using the packaged sample district's catalog", paths.catalog)
    return load_catalog(folder)


def cmd_catalog(args: argparse.Namespace) -> int:
    catalog = _catalog(DataPaths.from_env())
    data = {
        "units": [{"code": u.code, "name": u.name, "kind": u.kind, "parent": u.parent,
                   "level": catalog.level(u.code)} for u in catalog.units.values()],
        "top_label": catalog.top_label,
        "first_period": catalog.first_period,
        "indicators": [{"code": i.code, "name": i.name, "kind": i.kind, "measure": i.measure,
                        "direction": i.direction} for i in catalog.indicators.values()],
    }
    if args.json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for i in catalog.indicators.values():
            print(f"{i.code:16} {i.name}（{i.measure}）")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from kj_pipelines.intake.submissions import read_submissions
    from kj_pipelines.intake.validation import read_only_cumulatives, validation_ledger

    paths = DataPaths.from_env()
    catalog = _catalog(paths)
    today = now_local().date()
    # the list sheets are checked against the year's plans, the problem ledger as stored and
    # the workbooks waiting in the inbox (read ahead of these: they arrived first)
    files = [Path(name) for name in args.files]
    ledger = validation_ledger(paths, catalog, files)
    for note in ledger.notes:
        log.warning("%s", note)
    waiting = [(path, path.name) for path in ledger.waiting]
    results = read_submissions(waiting + [(Path(name), name) for name in args.files], catalog,
                               today, lists=ledger.context,
                               stored=read_only_cumulatives(paths.warehouse))[len(waiting):]
    if args.json:
        json.dump({"files": [r.to_json() for r in results],
                   "ledger": {"warehouse": paths.warehouse.exists(),
                              "inbox_files": [p.name for p in ledger.waiting]}},
                  sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        for r in results:
            print(f"{r.file}: {r.status}，读取{r.rows_read}行，接受{r.rows_accepted}行")
            for rej in r.rejections:
                where = "，".join(x for x in (rej.sheet and f"工作表{rej.sheet}",
                                             rej.row and f"第{rej.row}行",
                                             rej.column and f"列“{rej.column}”") if x)
                print(f"  [{rej.reason_code}] {where}：{rej.message}")
    return 0 if all(r.status == "accepted" for r in results) else 1


def cmd_template(args: argparse.Namespace) -> int:
    from kj_pipelines.excel.cleaning import clean_period
    from kj_pipelines.intake.template import due_rows, write_submission

    catalog = _catalog(DataPaths.from_env())
    period = clean_period(args.period)
    if not isinstance(period, str):
        print(f"kj template: --period {args.period!r}: {period.message}", file=sys.stderr)
        return 2
    if args.unit not in catalog.units:
        print(f"kj template: --unit {args.unit!r} is not in the catalog", file=sys.stderr)
        return 2
    from kj_pipelines.intake.template import template_lists

    paths = DataPaths.from_env()
    rows = due_rows(catalog, args.unit, period)
    lists, note = template_lists(catalog, paths.plans, paths.warehouse, args.unit, period)
    if note:
        log.warning("%s", note)
    if not rows and not (lists.with_tasks or lists.with_projects or lists.with_problems):
        print(f"kj template: unit {args.unit} reports no indicator and no list", file=sys.stderr)
        return 2
    write_submission(Path(args.output), catalog, args.unit, period, rows, lists=lists)
    log.info("wrote %s (%d indicator rows, %d task rows, %d project rows, %d open problems)",
             args.output, len(rows), len(lists.tasks), len(lists.projects), len(lists.problems))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from kj_pipelines.sample.generator import LAST_SAMPLE_PERIOD, generate_sample
    from kj_pipelines.sample.guard import foreign_content, write_manifest

    paths = DataPaths.from_env()
    foreign = foreign_content(paths.root) if paths.root.exists() else []
    real = [f for f in foreign if f.startswith("warehouse.duckdb")]
    if real or (foreign and not args.force):
        shown = "\n  ".join(foreign[:10]) + (f"\n  …and {len(foreign) - 10} more"
                                               if len(foreign) > 10 else "")
        why = ("the warehouse holds real submissions: the sample is never mixed into them, "
               "--force or not; use another KJ_DATA_DIR") if real else \
            "it holds a region's own data; use an empty KJ_DATA_DIR, or --force to overwrite"
        print(f"kj sample: refusing to write into {paths.root}: {why}:\n  {shown}",
              file=sys.stderr)
        return 1
    paths.ensure()
    seed = {} if args.seed is None else {"seed": args.seed}
    counts = generate_sample(paths.root, start=args.start, end=args.end or LAST_SAMPLE_PERIOD,
                             source_db_url=paths.source_db_url(), **seed)
    write_manifest(paths.root)
    log.info("sample written to %s: %s", paths.root, counts)
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from kj_pipelines.excel.cleaning import CellProblem, clean_period
    from kj_pipelines.reviews.cadence import review_keys, target_years

    month = clean_period(args.month)
    if isinstance(month, CellProblem):
        print(f"kj keys: {args.month!r} is not a month (YYYY-MM)", file=sys.stderr)
        return 1
    paths = DataPaths.from_env()
    catalog = _catalog(paths)
    year = int(month[:4])
    years = target_years(paths.plans, catalog, {year - 1, year})
    found = review_keys(month, catalog, now_local().date(), years.__contains__)
    # a review that cannot run is not printed: one line on standard error says why
    for job, why in found.skipped.items():
        if args.job in (None, job):
            print(f"kj keys: {job} 跳过：{why}", file=sys.stderr)
    if args.job:
        if args.job in found.keys:
            print(found.keys[args.job])
    else:
        for job, key in found.keys.items():
            print(f"{job}={key}")
    return 0 if "monthly_review" in found.keys else 1


def cmd_lock(args: argparse.Namespace) -> int:
    from kj_pipelines.storage.lock import holder, is_held

    warehouse = DataPaths.from_env().warehouse
    if is_held(warehouse):
        print(f"held: {holder(warehouse)}")
        return 1
    last = holder(warehouse)
    print("free" + (f" (last held: {last})" if last else ""))
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from kj_pipelines.storage.backup import backup

    entries = backup(DataPaths.from_env(), Path(args.dir))
    log.info("backup written to %s: %d files, %.1f MB, MANIFEST.json with their SHA-256",
             args.dir, len(entries), sum(e.size for e in entries) / 1e6)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from kj_pipelines.storage.backup import BackupError, restore

    try:
        entries = restore(Path(args.dir), DataPaths.from_env(), replace=args.replace)
    except BackupError as exc:
        print(f"kj restore: {exc}", file=sys.stderr)
        return 1
    log.info("restored %d files from %s, every SHA-256 verified", len(entries), args.dir)
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from kj_pipelines.catalog.model import DISTRICT
    from kj_pipelines.excel.cleaning import CellProblem, clean_period
    from kj_pipelines.intake.audit import audit, render
    from kj_pipelines.intake.registry import RegistryUnavailable, read_registry
    from kj_pipelines.storage.lock import warehouse_lock
    from kj_pipelines.storage.warehouse import connect

    paths = DataPaths.from_env()
    catalog = _catalog(paths)
    period = clean_period(args.period)
    problems = []
    if args.indicator not in catalog.indicators:
        problems.append(f"--indicator {args.indicator!r} is not in the catalog (kj catalog)")
    if args.unit not in catalog.units and args.unit != DISTRICT:
        problems.append(f"--unit {args.unit!r} is not in the catalog (the top is {DISTRICT})")
    if isinstance(period, CellProblem):
        problems.append(f"--period {args.period!r} is not a month (YYYY-MM)")
    if problems:
        for problem in problems:
            print(f"kj audit: {problem}", file=sys.stderr)
        return 2
    if not paths.warehouse.exists():
        print(f"kj audit: no warehouse in {paths.root}", file=sys.stderr)
        return 1
    try:
        registry = read_registry(paths.source_db_url(), catalog.registry)
    except RegistryUnavailable:
        registry = None
    # read-only, but DuckDB lets nobody open a file a writer holds: wait for the run to finish
    with warehouse_lock(paths.warehouse, purpose="kj audit", wait=args.wait):
        conn = connect(paths.warehouse, read_only=True)
        try:
            result = audit(conn, catalog, args.indicator, args.unit, period, registry)
        finally:
            conn.close()
    if args.json:
        json.dump(asdict(result), sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(render(result, catalog))
    return 1 if result.mismatch else 0


def cmd_accept(args: argparse.Namespace) -> int:
    import getpass

    from kj_pipelines.catalog.model import DISTRICT
    from kj_pipelines.excel.cleaning import CellProblem, clean_period
    from kj_pipelines.indicators.acceptance import NotHeld, accept, held_figures
    from kj_pipelines.storage.lock import warehouse_lock
    from kj_pipelines.storage.warehouse import connect

    paths = DataPaths.from_env()
    catalog = _catalog(paths)
    if not paths.warehouse.exists():
        print(f"kj accept: no warehouse in {paths.root}", file=sys.stderr)
        return 1
    if args.list:
        with warehouse_lock(paths.warehouse, purpose="kj accept --list", wait=args.wait):
            conn = connect(paths.warehouse, read_only=True)
            try:
                held = held_figures(conn)
            finally:
                conn.close()
        if held.empty:
            print("没有被暂扣的数")
        for r in held.itertuples(index=False):
            print(f"{r.period} {r.indicator} {r.unit}（{catalog.unit_name(r.unit)}）"
                  f" {r.value:,.6g}：{r.reason}")
        return 0
    problems = []
    period = clean_period(args.period or "")
    if not args.indicator or args.indicator not in catalog.indicators:
        problems.append(f"--indicator {args.indicator!r} is not in the catalog (kj catalog)")
    if not args.unit or (args.unit not in catalog.units and args.unit != DISTRICT):
        problems.append(f"--unit {args.unit!r} is not in the catalog")
    if isinstance(period, CellProblem):
        problems.append(f"--period {args.period!r} is not a month (YYYY-MM)")
    if not (args.reason or "").strip():
        problems.append("--reason is required: why the figure is right (it is recorded and "
                        "shown by kj audit)")
    if problems:
        for problem in problems:
            print(f"kj accept: {problem}", file=sys.stderr)
        return 2
    with warehouse_lock(paths.warehouse, purpose="kj accept", wait=args.wait):
        conn = connect(paths.warehouse)
        try:
            done = accept(conn, args.indicator, args.unit, period, args.reason.strip(),
                          getpass.getuser(), now_local())
        except NotHeld as exc:
            print(f"kj accept: {exc}; `kj accept --list` lists what is held", file=sys.stderr)
            return 1
        finally:
            conn.close()
    log.info("accepted %s %s %s = %g (#%d): the month re-runs with it (acceptance_sensor; "
             "or run monthly_review for %s)", done.indicator, done.unit, done.period,
             done.value, done.accepted_id, done.period)
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from kj_pipelines.indicators.backtest import RULES, SHIPPED_RULE, backtest
    from kj_pipelines.storage.lock import warehouse_lock
    from kj_pipelines.storage.warehouse import connect

    paths = DataPaths.from_env()
    catalog = _catalog(paths)
    first, last = args.years
    if not 1900 < first <= last < 3000:
        print(f"kj backtest: --years {first} {last}: give the first and last year, in order",
              file=sys.stderr)
        return 2
    if not paths.warehouse.exists():
        print(f"kj backtest: no warehouse in {paths.root}", file=sys.stderr)
        return 1
    with warehouse_lock(paths.warehouse, purpose="kj backtest", wait=args.wait):
        conn = connect(paths.warehouse, read_only=True)
        try:
            scores = backtest(conn, catalog, list(range(first, last + 1)))
        finally:
            conn.close()
    rows = [s.as_row() for s in scores]
    if args.json:
        json.dump({"years": [first, last], "shipped_rule": SHIPPED_RULE, "rules": rows},
                  sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"预警规则回测 {first}–{last}（单位×指标×年度，1–11月是否预警，12月是否完成）")
    print(f"{'规则':<22}{'单位年':>6}{'未完成':>6}{'预警':>6}{'命中':>6}{'精确率':>8}{'召回率':>8}"
          f"{'提前月数中位数':>10}")
    for row in rows:
        mark = " ←采用" if row["rule"] == SHIPPED_RULE else ""
        print(f"{row['rule']:<22}{row['unit_years']:>6}{row['missed']:>6}{row['warned']:>6}"
              f"{row['hits']:>6}{row['precision']:>8.3f}{row['recall']:>8.3f}"
              f"{row['median_lead_months']:>10}{mark}")
    for rule, text in RULES.items():
        print(f"  {rule}: {text}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kj", description="kj_pipelines command line")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("catalog", help="print the catalog")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_catalog)
    p = sub.add_parser("validate", help="check submission workbooks without writing anything")
    p.add_argument("--json", action="store_true")
    p.add_argument("files", nargs="+")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("template", help="write the blank submission workbook for a unit")
    p.add_argument("--unit", required=True)
    p.add_argument("--period", required=True)
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_template)
    p = sub.add_parser("sample", help="write the deterministic sample into KJ_DATA_DIR (an empty "
                                      "one, or one holding only an earlier sample)")
    p.add_argument("--force", action="store_true",
                   help="overwrite a data directory holding other files (never a warehouse with "
                        "real submissions)")
    p.add_argument("--seed", type=int, default=None,
                   help="draw another history of the same design (default: the sample's own)")
    p.add_argument("--start", default="2019-01", help=argparse.SUPPRESS)
    p.add_argument("--end", default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_sample)
    p = sub.add_parser("keys", help="the partition key of each review job that reads a month "
                                    "(its week after the deadline, last complete quarter, last "
                                    "complete year) and can run; one skipped (before the first "
                                    "period, a year without targets) is named on standard error "
                                    "with why")
    p.add_argument("month", help="YYYY-MM")
    p.add_argument("--job", choices=["monthly_review", "weekly_consultation",
                                     "quarterly_analysis", "annual_evaluation", "history_from",
                                     "history"],
                   help="print only this key (nothing when it is skipped)")
    p.set_defaults(func=cmd_keys)
    p = sub.add_parser("lock", help="who holds the warehouse now (exit 1 while it is held); a "
                                    "holder that died has already let go")
    p.set_defaults(func=cmd_lock)
    p = sub.add_parser("backup", help="a consistent copy of the warehouse, catalog, plans, "
                                      "archive and reports, with a SHA-256 manifest")
    p.add_argument("dir", help="a new (or empty) directory")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="verify a backup, then put it into KJ_DATA_DIR")
    p.add_argument("dir")
    p.add_argument("--replace", action="store_true",
                   help="restore over an existing warehouse (kept beside it as "
                        "*.before-restore-<time>)")
    p.set_defaults(func=cmd_restore)
    p = sub.add_parser("audit", help="where a stored figure comes from: the chain down to every "
                                     "source cell (file, SHA-256, sheet, row, column) or registry "
                                     "record, and which submissions each cell replaced; exit 1 "
                                     "when the stored figure no longer matches its sources")
    p.add_argument("--indicator", required=True, help="indicator code (kj catalog)")
    p.add_argument("--unit", required=True, help="unit code, or ALL for the top level")
    p.add_argument("--period", required=True, help="YYYY-MM")
    p.add_argument("--json", action="store_true")
    p.add_argument("--wait", type=float, default=300,
                   help="seconds to wait for a run holding the warehouse (default 300)")
    p.set_defaults(func=cmd_audit)
    p = sub.add_parser("accept", help="accept a figure held back as implausible (暂扣), with "
                                      "the reason it is right: the month re-runs with it; "
                                      "--list shows what is held")
    p.add_argument("--indicator", help="indicator code (kj catalog)")
    p.add_argument("--unit", help="unit code, or ALL for the top level")
    p.add_argument("--period", help="YYYY-MM")
    p.add_argument("--reason", help="why the figure is right (recorded, shown by kj audit)")
    p.add_argument("--list", action="store_true", help="list the figures held now")
    p.add_argument("--wait", type=float, default=300,
                   help="seconds to wait for a run holding the warehouse (default 300)")
    p.set_defaults(func=cmd_accept)
    p = sub.add_parser("backtest", help="replay the warning rules on past years of the warehouse: "
                                        "each rule's precision, recall and median lead time")
    p.add_argument("--years", type=int, nargs=2, default=[2020, 2025], metavar=("FIRST", "LAST"),
                   help="the years to replay (default 2020 2025)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--wait", type=float, default=300,
                   help="seconds to wait for a run holding the warehouse (default 300)")
    p.set_defaults(func=cmd_backtest)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        return args.func(args)
    except Exception as exc:  # noqa: BLE001 - a clean message, not a traceback, for operators
        log.error("%s: %s", type(exc).__name__, exc)
        return 2


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
