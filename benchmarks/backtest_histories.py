"""``make backtest``: the warning rules replayed on two histories of the sample, written to
``bench/backtest.md``.

The sample as it is (seed 315, the history every other figure of the project is read on) and a
second history drawn with another seed (2027) from the same design: a rule is judged on both,
never tuned to one. Each history is generated, ingested (as ``make run`` does) and replayed over
2020-2025 by ``kj_pipelines.indicators.backtest``, in a process of its own.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "backtest.md"
SEEDS = {315: "样例原有历史（seed 315）", 2027: "另一随机种子生成的历史（seed 2027）"}
YEARS = (2020, 2025)
TODAY = "2026-11-23"


def one(seed: int, root: Path) -> dict:
    code = f"""
import json, os, sys
from pathlib import Path
os.environ["KJ_DATA_DIR"] = {str(root)!r}
os.environ["KJ_TODAY"] = {TODAY!r}
from kj_pipelines.sample.generator import generate_sample
generate_sample(Path({str(root)!r}), seed={seed})
from benchmarks.items import prepare
prepare(Path({str(root)!r}))
import duckdb
from kj_pipelines.indicators.backtest import backtest
from kj_pipelines.catalog.loader import load_catalog
conn = duckdb.connect({str(root / "warehouse.duckdb")!r}, read_only=True)
scores = backtest(conn, load_catalog(Path({str(root)!r}) / "catalog"), list(range({YEARS[0]}, {YEARS[1] + 1})))
print(json.dumps([s.as_row() for s in scores]))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"backtest of seed {seed} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    from kj_pipelines.indicators.backtest import RULES, SHIPPED_RULE

    results = {}
    with tempfile.TemporaryDirectory(prefix="kj_backtest_") as tmp:
        for seed in SEEDS:
            results[seed] = one(seed, Path(tmp) / f"seed{seed}")
            print(seed, results[seed], flush=True)
    lines = ["# 预警规则回测 (`make backtest`)", "",
             f"Measured {dt.date.today().isoformat()}: every year {YEARS[0]}–{YEARS[1]}, monthly "
             "indicator and unit with a target and a December figure (a unit-year); a rule "
             "warned if it would have warned in any month January–November, the year missed if "
             "December's figure did not reach the target. Lead time: months from the first "
             "warning of a missed year to December.", ""]
    for seed, label in SEEDS.items():
        lines += [f"## {label}", "",
                  "| rule | unit-years | missed | warned | hits | precision | recall | "
                  "median lead (months) |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for row in results[seed]:
            name = f"**{row['rule']}** (shipped)" if row["rule"] == SHIPPED_RULE else row["rule"]
            lines.append(f"| {name} | {row['unit_years']} | {row['missed']} | {row['warned']} | "
                         f"{row['hits']} | {row['precision']:.3f} | {row['recall']:.3f} | "
                         f"{row['median_lead_months']} |")
        lines.append("")
    lines += ["Rules:", ""] + [f"- `{rule}`: {text}" for rule, text in RULES.items()] + [""]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
