#!/usr/bin/env python3
"""Hold what one op executes to the seeds' steps (harness/profile/steps.txt).

Usage: check_steps.py STEPS MEASURED
STEPS is the list of steps (see its header). MEASURED has one line per workload and scheduler
measured, tab-separated: workload, sched, instructions per op, locked instructions per op, and
the path of locked.py's per-site listing for that pair (lines `per-op  function file:line
[instruction per-op]`). For each block of STEPS whose pair was measured: the locked count per
site must be the sum of that site's steps (within 0.1 a site, and in total), and the
instructions within the budget. A site with more than its steps names the surplus as a locked
instruction no seed has; a site with fewer names the steps that are missing. Exits 1 on any
failure, 2 on a malformed file.
"""
import collections
import re
import sys
from fractions import Fraction

TOLERANCE = 0.1
SITE = re.compile(r"^\s*(-?[0-9.]+)\s+(\S+)\s")


def parse_steps(path):
    """{(workload, sched): (budget, [(count, site, step)])}, in file order."""
    blocks, cur = {}, None
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            words = line.split(None, 2)
            if len(words) == 3 and words[2].isdigit() and not re.match(r"^[0-9/]+$", words[0]):
                cur = (words[0], words[1])
                if cur in blocks:
                    raise ValueError(f"{path}:{n}: block {cur} twice")
                blocks[cur] = (int(words[2]), [])
                continue
            if cur is None or len(words) < 3:
                raise ValueError(f"{path}:{n}: expected `workload sched budget` or `count site step`")
            try:
                count = Fraction(words[0])
            except ValueError:
                raise ValueError(f"{path}:{n}: bad count {words[0]!r}")
            blocks[cur][1].append((count, words[1], words[2]))
    return blocks


def read_sites(path):
    """{function: locked per op} from locked.py's listing (lines that are not sites skipped)."""
    sites = collections.Counter()
    try:
        with open(path) as f:
            for line in f:
                m = SITE.match(line)
                if m:
                    sites[m.group(2)] += float(m.group(1))
    except FileNotFoundError:
        pass
    return sites


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        blocks = parse_steps(sys.argv[1])
    except (OSError, ValueError) as e:
        print(f"check_steps: {e}", file=sys.stderr)
        return 2
    bad = False
    with open(sys.argv[2]) as f:
        for line in f:
            w, s, instr, locked, sites_path = line.rstrip("\n").split("\t")
            if (w, s) not in blocks:
                print(f"  FAIL {w} on {s}: measured, but {sys.argv[1]} lists no steps for it")
                bad = True
                continue
            budget, steps = blocks[(w, s)]
            expected = sum(c for c, _, _ in steps)
            if instr == "" or locked == "":
                print(f"  FAIL {w} on {s}: no figure")
                bad = True
                continue
            instr, locked = float(instr), float(locked)
            problems = []
            if instr > budget:
                problems.append(f"instructions {instr:.1f} over the budget of {budget}")
            by_site = collections.defaultdict(list)
            for c, site, step in steps:
                by_site[site].append((c, step))
            measured = read_sites(sites_path)
            for site in sorted(set(by_site) | set(measured)):
                want = float(sum(c for c, _ in by_site.get(site, [])))
                got = measured.get(site, 0.0)
                if abs(got - want) <= TOLERANCE:
                    continue
                if got > want:
                    problems.append(
                        f"{got - want:.2f} locked instruction(s) per op at {site} that no seed "
                        f"step accounts for (measured {got:.2f}, steps {want:.2f})")
                else:
                    listed = "; ".join(f"{c} {step}" for c, step in by_site[site])
                    problems.append(
                        f"{want - got:.2f} per op missing at {site} (measured {got:.2f}) "
                        f"of the steps: {listed}")
            if abs(locked - float(expected)) > TOLERANCE:
                problems.append(f"locked {locked:.2f} in all against {float(expected):.2f} steps")
            head = (f"{w} on {s}: locked {locked:.2f} ({len(steps)} steps, "
                    f"{float(expected):.2f} per op), instructions {instr:.1f} (budget {budget})")
            if problems:
                bad = True
                print(f"  FAIL {head}")
                for p in problems:
                    print(f"         {p}")
            else:
                print(f"  ok   {head}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
