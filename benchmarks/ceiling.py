"""How well any early warning could do on the sample's submitted flows (run by hand:
``python -m benchmarks.ceiling``).

The sample draws a town's year of a flow as its share of the district's total, scaled by
U(0.9, 1.1) against the other towns, spread over the months by the seasonal pattern with each
month scaled by U(0.85, 1.15); its target is 97 % of its share (``kj_pipelines.domain.sample``).
Here that draw is repeated for many simulated town-years. A warning that knows this (no real
rule can) estimates, for each month, the chance that the year misses given the year to date
divided by the pattern three past years would have shown (how the projection sees it), and
warns at the first month that chance reaches a threshold. Its precision, recall and median lead
time, scored as ``make backtest`` scores the shipped rule, bound what a better projection could
gain on the flows; the registry's counts are not modelled.
"""

from __future__ import annotations

import numpy as np

from kj_pipelines.domain.sample import SEASON, TOWN_WEIGHTS

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


def main() -> None:
    print("| chance at least | precision | recall | median lead (months) |")
    print("|---:|---:|---:|---:|")
    for threshold in (0.7, 0.8, 0.9):
        precision, recall, lead = ceiling(threshold)
        print(f"| {threshold:.1f} | {precision:.3f} | {recall:.3f} | {lead:.0f} |")


if __name__ == "__main__":
    main()
