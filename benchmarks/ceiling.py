"""How well any early warning could do on the sample's submitted flows (run by hand:
``python -m benchmarks.ceiling``).

The sample draws a town's year of a flow as its share of the district's total, scaled by
U(0.9, 1.1) against the other towns, spread over the months by the seasonal pattern with each
month scaled by U(0.85, 1.15); its target is 97 % of its share (``kj_pipelines.sample.generator``).
Here that draw is repeated for many simulated town-years. A warning that knows this (no real
rule can) estimates, for each month, the chance that the year misses given the year to date
divided by the pattern three past years would have shown (how the projection sees it), and
warns at the first month that chance reaches a threshold. Its precision, recall and median lead
time, scored as ``make backtest`` scores the shipped rule, bound what a better projection could
gain on the flows.

The registry's events (新认定高企, 新增研发机构, 博士创新站) are drawn as the sample draws them: the
year's arrivals district-wide fixed in advance, each given a town by the towns' weights and a
month by the indicator's calendar; a town's target is its weight's part of the district's
target in whole units. Here the warning knows even the year's number of arrivals (no real
rule does), so at each month its chance of a miss is exact: the town's count so far plus a
binomial draw of the arrivals still to come falling short of its target.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from kj_pipelines.sample.generator import (
    DOC_WS_NEW,
    HT_MONTHS,
    HT_NEW,
    RD_INST_NEW,
    REGISTRY_TARGETS,
    SEASON,
    TOWN_WEIGHTS,
    _split_cents,
)

DISTRICT_YEARS = 40_000  # simulated, ten towns each
TARGET_SHARE = 0.97  # the sample's targets before 2026: 97 % of the expected year
PAST_YEARS = 3


def simulate(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(missed [town-year], year to date over the projection's expected pattern [town-year, 12])."""
    rng = np.random.default_rng(seed)
    season, weights = np.array(SEASON), np.array(list(TOWN_WEIGHTS.values()))
    towns = len(weights)
    factor = rng.uniform(0.9, 1.1, (DISTRICT_YEARS, towns))
    relative = factor / (factor * weights).sum(axis=1, keepdims=True)  # the year / its share
    months = season * rng.uniform(0.85, 1.15, (DISTRICT_YEARS, towns, 12))
    months /= months.sum(axis=2, keepdims=True)
    to_date = relative[:, :, None] * np.cumsum(months, axis=2)
    past = season * rng.uniform(0.85, 1.15, (DISTRICT_YEARS, towns, PAST_YEARS, 12))
    past /= past.sum(axis=3, keepdims=True)
    pattern = np.cumsum(past, axis=3).mean(axis=2)
    projected = (to_date / pattern / TARGET_SHARE).reshape(-1, 12)  # projection ÷ target
    return (relative < TARGET_SHARE).reshape(-1), projected


def ceiling(threshold: float) -> tuple[float, float, float]:
    """(precision, recall, median lead) of the warning that knows the draw, judged on half of
    the town-years with chances estimated on the other half."""
    missed, projected = simulate()
    half = len(missed) // 2
    chance = np.zeros_like(projected)
    for m in range(11):  # January … November
        edges = np.quantile(projected[:half, m], np.linspace(0, 1, 201))
        bins = np.clip(np.searchsorted(edges, projected[:, m]) - 1, 0, 199)
        counts = np.maximum(np.bincount(bins[:half], minlength=200), 1)
        chance[:, m] = (np.bincount(bins[:half], weights=missed[:half], minlength=200)
                        / counts)[bins]
    warns = chance[half:, :11] >= threshold
    warned, first = warns.any(axis=1), np.argmax(warns, axis=1) + 1
    hits = warned & missed[half:]
    return (hits.sum() / warned.sum(), hits.sum() / missed[half:].sum(),
            float(np.median(12 - first[hits])))


# indicator: (arrivals a year district-wide, the registry's months and their weights); the sample
# gives 高企 fixed parts of the year's recognitions per month, the others a month drawn each
REGISTRY_EVENTS = {
    "HT_NEW": (HT_NEW, tuple(m for m, _ in HT_MONTHS), tuple(s for _, s in HT_MONTHS), True),
    "RD_INST_NEW": (RD_INST_NEW, (3, 6, 9, 12), (10, 35, 20, 35), False),
    "DOC_WS": (DOC_WS_NEW, tuple(range(3, 13)), (1,) * 10, False),
}
BACKTEST_YEARS = range(2020, 2026)
REGISTRY_DRAWS = 4_000  # simulated district-years per indicator and year


def simulate_registry(code: str, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(missed [town-year], chance of a miss known at each month January…November
    [town-year, 11]) for one registry event over the backtest's years."""
    arrivals, months, weights, fixed = REGISTRY_EVENTS[code]
    rng = np.random.default_rng(seed)
    share = np.array(list(TOWN_WEIGHTS.values()))
    share = share / share.sum()
    towns = len(share)
    missed, chances = [], []
    for year in BACKTEST_YEARS:
        n = arrivals[year]
        targets = np.array(_split_cents(REGISTRY_TARGETS[code][year], list(TOWN_WEIGHTS.values())))
        town = rng.choice(towns, size=(REGISTRY_DRAWS, n), p=share)
        if fixed:
            month = np.repeat(months, _split_cents(n, list(weights)))[None, :].repeat(
                REGISTRY_DRAWS, axis=0)
        else:
            month = rng.choice(months, size=(REGISTRY_DRAWS, n), p=np.array(weights) / sum(weights))
        count = np.zeros((REGISTRY_DRAWS, towns, 12), dtype=int)  # by the end of each month
        for m in range(1, 13):
            arrived = month <= m
            for k in range(towns):
                count[:, k, m - 1] = ((town == k) & arrived).sum(axis=1)
        left = n - count.sum(axis=1)  # district-wide arrivals still to come [draw, month]
        chance = np.zeros((REGISTRY_DRAWS, towns, 11))
        for k in range(towns):
            need = targets[k] - count[:, k, :11]  # still to arrive for the target
            chance[:, k, :] = _binomial_below(need, left[:, :11], share[k])
        missed.append((count[:, :, 11] < targets[None, :]).reshape(-1))
        chances.append(chance.reshape(-1, 11))
    return np.concatenate(missed), np.concatenate(chances)


def _binomial_below(need: np.ndarray, trials: np.ndarray, p: float) -> np.ndarray:
    """P(Binomial(trials, p) < need), element by element."""
    top = int(trials.max()) + 1
    k = np.arange(top)
    log_comb = np.array([[math.lgamma(t + 1) - math.lgamma(j + 1) - math.lgamma(t - j + 1)
                          if j <= t else -np.inf for j in k] for t in range(top)])
    with np.errstate(divide="ignore", invalid="ignore"):
        pmf = np.exp(log_comb + k[None, :] * math.log(p)
                     + (np.arange(top)[:, None] - k[None, :]) * math.log1p(-p))
    pmf = np.where(np.isfinite(pmf), pmf, 0.0)
    cdf = np.cumsum(pmf, axis=1)  # cdf[t, j] = P(X <= j | t trials)
    below = np.clip(need - 1, -1, top - 1)
    return np.where(below < 0, 0.0, cdf[trials, np.maximum(below, 0)])


def scored(missed: np.ndarray, chance: np.ndarray, threshold: float
           ) -> tuple[float, float, float, int, int, int]:
    """(precision, recall, median lead, warned, hits, missed) of warning at the first month the
    chance reaches ``threshold``."""
    warns = chance >= threshold
    warned, first = warns.any(axis=1), np.argmax(warns, axis=1) + 1
    hits = warned & missed
    return (hits.sum() / max(warned.sum(), 1), hits.sum() / max(missed.sum(), 1),
            float(np.median(12 - first[hits])) if hits.any() else float("nan"),
            int(warned.sum()), int(hits.sum()), int(missed.sum()))


def main() -> None:
    print("Flows (a warning that knows the draw):\n")
    print("| chance at least | precision | recall | median lead (months) |")
    print("|---:|---:|---:|---:|")
    for threshold in (0.7, 0.8, 0.9):
        precision, recall, lead = ceiling(threshold)
        print(f"| {threshold:.1f} | {precision:.3f} | {recall:.3f} | {lead:.0f} |")
    print("\nRegistry events (a warning that knows the draw and the year's number of arrivals), "
          "2020–2025:\n")
    print("| indicator | chance at least | precision | recall | median lead (months) |")
    print("|---|---:|---:|---:|---:|")
    pooled: dict[float, list[np.ndarray]] = {}
    draws = {code: simulate_registry(code) for code in REGISTRY_EVENTS}
    for threshold in (0.5, 0.6, 0.7, 0.8, 0.9):
        for code, (missed, chance) in draws.items():
            precision, recall, lead, *_ = scored(missed, chance, threshold)
            print(f"| {code} | {threshold:.1f} | {precision:.3f} | {recall:.3f} | {lead:.0f} |")
        pooled[threshold] = [np.concatenate([d[0] for d in draws.values()]),
                             np.concatenate([d[1] for d in draws.values()])]
        precision, recall, lead, *_ = scored(*pooled[threshold], threshold)
        print(f"| all three | {threshold:.1f} | {precision:.3f} | {recall:.3f} | {lead:.0f} |")
    best = best_thresholds(draws)
    print("\nThe three with a threshold each, the best precision at recall ≥ 0.8: "
          f"{best[0]:.3f} (recall {best[1]:.3f}; " + ", ".join(
              f"{code} {th:.2f}" for code, th in best[2].items()) + ")")


def best_thresholds(draws: dict[str, tuple[np.ndarray, np.ndarray]], recall_at_least: float = 0.8
                    ) -> tuple[float, float, dict[str, float]]:
    """Each indicator its own threshold: the pooled precision at the best choice with pooled
    recall at least ``recall_at_least`` (the town-years of each weigh alike, as in the
    backtest: ten towns a year each)."""
    grid = np.round(np.arange(0.30, 0.96, 0.05), 2)
    counts = {code: [scored(m, c, th)[3:] for th in grid] for code, (m, c) in draws.items()}
    missed = sum(counts[code][0][2] for code in draws)
    best = (0.0, 0.0, {})
    for picks in itertools.product(range(len(grid)), repeat=len(draws)):
        warned = sum(counts[code][i][0] for code, i in zip(draws, picks, strict=True))
        hits = sum(counts[code][i][1] for code, i in zip(draws, picks, strict=True))
        if hits / missed >= recall_at_least and hits / max(warned, 1) > best[0]:
            best = (hits / warned, hits / missed,
                    {code: float(grid[i]) for code, i in zip(draws, picks, strict=True)})
    return best


if __name__ == "__main__":
    main()
