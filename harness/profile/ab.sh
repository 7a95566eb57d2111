#!/usr/bin/env bash
# Two builds of the lab, interleaved: `lab compare` with the same arguments on the old and the
# new binary alternately, ROUNDS times each, then every combination's runs pooled per side by
# `lab pool`: the medians, new/old, and the Mann-Whitney U p of the two pools. Alternating
# spreads the machine's drift over both sides, which two separate `lab compare` runs, minutes
# apart, do not.
#
# Usage: harness/profile/ab.sh OLD_LAB NEW_LAB [--rounds 5] [--out DIR] -- LAB_COMPARE_ARGS..
#   e.g. harness/profile/ab.sh /tmp/old/lab target/release/lab -- \
#          --sched 2013,2014 --bench create-goroutines --procs 1,2 --count 3
# Build the old binary from a worktree of the old commit (git worktree add /tmp/old <commit>;
# cargo build --release -p harness --bin lab there). The runs' JSON stays in DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ $# -lt 2 ]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 2
fi
old=$1 new=$2
shift 2
rounds=5
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "unknown argument: $1 (the lab's arguments go after --)" >&2; exit 2 ;;
    esac
done
for b in "$old" "$new"; do
    [ -x "$b" ] || { echo "not an executable: $b" >&2; exit 2; }
done
[ -n "$out" ] || out=$(mktemp -d)
mkdir -p "$out"
for i in $(seq 1 "$rounds"); do
    for side in old new; do
        if [ "$side" = old ]; then lab=$old; else lab=$new; fi
        echo "round $i/$rounds: $side" >&2
        "$lab" compare "$@" --format json --quiet --out "$out/runs" >"$out/$side.$i.json"
    done
done
"$new" pool "$out"
echo "runs in $out" >&2
