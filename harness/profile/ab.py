"""Pools the runs of harness/profile/ab.sh: for every combination (workload, procs, subject),
the median of all the old binary's runs and of all the new one's, their ratio, and the two-sided
Mann-Whitney U p of the two pools (normal approximation with a continuity correction; the
pools hold rounds x count runs each). Usage: ab.py DIR (with old.*.json and new.*.json)."""

import glob
import json
import math
import statistics
import sys


def pooled(folder, side):
    runs = {}
    for path in sorted(glob.glob(f"{folder}/{side}.*.json")):
        with open(path) as f:
            for row in json.load(f)["rows"]:
                if row["runs"]:
                    key = (row["bench"], row["procs"], row["sched"])
                    runs.setdefault(key, []).extend(row["runs"])
    return runs


def mann_whitney_p(a, b):
    n, m = len(a), len(b)
    u = sum((x > y) + 0.5 * (x == y) for x in a for y in b)
    mean, sd = n * m / 2, math.sqrt(n * m * (n + m + 1) / 12)
    if sd == 0:
        return 1.0
    z = max(abs(u - mean) - 0.5, 0) / sd
    return math.erfc(z / math.sqrt(2))


def main(folder):
    old, new = pooled(folder, "old"), pooled(folder, "new")
    if not old or not new:
        sys.exit(f"no runs of both sides in {folder}")
    print(f"{'combination':40} {'old':>9} {'new':>9} {'new/old':>8} {'p':>6}  runs")
    for key in sorted(old):
        if key not in new:
            continue
        a, b = old[key], new[key]
        mo, mn = statistics.median(a), statistics.median(b)
        p = mann_whitney_p(b, a)
        mark = "" if p < 0.05 else "  ~"
        name = f"{key[0]}-{key[1]} {key[2]}"
        print(f"{name:40} {mo:9.4g} {mn:9.4g} {mn / mo:8.2f} {p:6.3f}  {len(a)}/{len(b)}{mark}")
    print("~: no significant difference (p >= 0.05)")


if __name__ == "__main__":
    main(sys.argv[1])
