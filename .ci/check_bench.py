"""Checks that a benchmark document has every figure and its baseline (not their values).

Usage: python3 .ci/check_bench.py BENCH_JSON
"""

import json
import sys

# Figures measured against a same-run baseline (pgbench on the same SQL, COPY of the same rows).
WITH_BASELINE = ["public_lookup", "registrar_list", "delivery_burst"]
# Figures set beside their goal of DESIGN §7.
WITH_GOAL = [
    "evidence_feed", "compliance", "compliance_p99", "benchmark_cold", "benchmark_warm_p50",
    "benchmark_16_concurrent_cold", "token_endpoint", "start_to_ready", "rss_idle", "rss_peak",
    "visitation_planner",
]
EXPLAINED = ["public_lookup", "registrar_list", "evidence_intervision_batch", "prem_national_mean",
             "benchmark_national"]


def spread_ok(value):
    return isinstance(value, dict) and all(k in value for k in ("median", "min", "max", "runs"))


def main(path):
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    problems = []
    figures = document.get("figures", {})
    for name in WITH_BASELINE + WITH_GOAL:
        figure = figures.get(name)
        if figure is None:
            problems.append(f"figure {name} is missing")
            continue
        wanted = ["value", "goal"] + (["baseline", "ratio"] if name in WITH_BASELINE else [])
        for key in wanted:
            if key not in figure:
                problems.append(f"figure {name} has no {key}")
            elif key != "goal" and not spread_ok(figure[key]):
                problems.append(f"figure {name}: {key} lacks median, min, max or runs")
    # Beside the COPY baseline, each run of the delivery burst has pgbench's rate on the
    # delivery's own statements (the ceiling of a transaction per delivery).
    for run in (figures.get("delivery_burst") or {}).get("details") or [{}]:
        ceiling = run.get("statements_pgbench") if isinstance(run, dict) else None
        if not isinstance(ceiling, dict) or "rows_per_second" not in ceiling:
            problems.append("delivery_burst: a run has no statements_pgbench rows_per_second")
    for name in EXPLAINED:
        if name not in document.get("explain", {}):
            problems.append(f"no EXPLAIN summary of {name}")
    for key in ("scale", "machine"):
        if key not in document:
            problems.append(f"no {key}")
    if problems:
        sys.exit("benchmark document incomplete:\n  " + "\n  ".join(problems))
    print(f"benchmark document complete: {len(figures)} figures")


if __name__ == "__main__":
    main(sys.argv[1])
