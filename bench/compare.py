#!/usr/bin/env python3
"""Compare the SQL statements per request of two benchmark runs (bench/run.py's JSON), e.g. the
same programme at scale 0.01 and at scale 1: a page whose count grows with the data runs a query
per row somewhere.

    .venv/bin/python bench/compare.py bench/results/postgresql-scale-0.01.json bench/results/postgresql-scale-1.json

Prints a Markdown table; exits 1 when a scenario's highest count differs (a count may vary within
a run with the object's state, e.g. whether a cancellation promoted someone, but not with the scale).
"""
import json
import sys
from pathlib import Path


def queries(path: str) -> dict[str, tuple[int | None, list | None]]:
    results = json.loads(Path(path).read_text())["results"]
    # Pages and actions only: a job's count is per item it handles (the rescheduling job's per session).
    return {r["name"]: (r["queries"], r["queries_range"]) for r in results
            if r["queries"] is not None and r["kind"] != "job"}


def main() -> int:
    small_path, large_path = sys.argv[1:3]
    small, large = queries(small_path), queries(large_path)
    print(f"| scenario | {Path(small_path).stem} | {Path(large_path).stem} | same |")
    print("|---|---:|---:|---|")
    differing = 0
    for name in [n for n in small if n in large]:
        (a, a_range), (b, b_range) = small[name], large[name]
        same = a_range[1] == b_range[1]
        differing += not same
        shown = [f"{q}" if r[0] == r[1] else f"{q} ({r[0]}–{r[1]})" for q, r in ((a, a_range), (b, b_range))]
        print(f"| {name} | {shown[0]} | {shown[1]} | {'yes' if same else '**no**'} |")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
