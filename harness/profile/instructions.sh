#!/usr/bin/env bash
# Instructions and locked instructions per op, counted by valgrind (callgrind): for each
# scheduler and workload, `lab run` at procs 1 with exactly N1 and then N2 iterations
# (`--benchtime Nx`), and the difference of the two totals over N2 - N1. Start-up, the N = 1
# round, the untimed latency round and the teardown are the same in both runs and cancel; what
# is left is the cost of one op of the timed loop: the scheduler, the shared infrastructure and
# the workload's own few instructions.
#
# Instruction counts do not depend on the machine's load (valgrind runs the threads one at a
# time), so two builds can be compared op for op on a noisy machine. They are not time: a cache
# miss or a fence counts one. Hence the second table: the locked instructions per op, the
# atomic read-modify-writes (lock cmpxchg, lock xadd, lock or, lock inc/dec, xchg with memory)
# that each cost ~10 ns even uncontended. locked.py counts them from callgrind's per-address
# costs (--dump-instr=yes) and the binary's disassembly; only those in the lab binary count,
# not libc's.
#
# Usage: harness/profile/instructions.sh [--lab PATH] [--sched a,b,..] [--bench x,y,..]
#                                       [--n1 N] [--n2 N] [--keep DIR] [--verbose]
#   --lab    the lab binary [target/release/lab, built if missing]
#   --sched  schedulers and in-process peers (floor, tokio, rayon) [2011,2013,2014,floor,tokio]
#   --bench  workloads [create-goroutines,syscall,ping-pong,chan-sync]
#   --n1/--n2  the two N [40000 and 100000]; syscall takes multiples of 1000
#   --keep   keep the callgrind files of the N2 runs here (callgrind_annotate reads them)
#   --verbose  after the tables, the source sites of the locked instructions, per op, the
#            busiest first, for each workload and scheduler (and locked.py's bias check)
#   --check FILE  then hold the figures to FILE (harness/profile/steps.txt, which .ci/run
#            uses): per workload and scheduler, every locked instruction an op executes as the
#            named step of its seed, and an instruction budget; each site's locked count must
#            match its steps within 0.1 and the instructions stay within the budget
#            (check_steps.py); exits 1 otherwise, naming the site and its steps
set -euo pipefail
cd "$(dirname "$0")/../.."

lab=target/release/lab
scheds=2011,2013,2014,floor,tokio
benches=create-goroutines,syscall,ping-pong,chan-sync
n1=40000
n2=100000
keep=""
verbose=""
check=""
while [ $# -gt 0 ]; do
    case "$1" in
        --lab) lab=$2; shift 2 ;;
        --sched) scheds=$2; shift 2 ;;
        --bench) benches=$2; shift 2 ;;
        --n1) n1=$2; shift 2 ;;
        --n2) n2=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        --verbose) verbose=1; shift ;;
        --check) check=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [ -n "$check" ] && [ ! -r "$check" ]; then
    echo "--check: cannot read $check" >&2
    exit 2
fi
if [ "$n2" -le "$n1" ]; then
    echo "--n2 must be above --n1" >&2
    exit 2
fi

# The tools beyond Rust, from Debian's packages where one is missing (CI runs on a fresh clone).
missing=()
for tool in valgrind:valgrind objdump:binutils addr2line:binutils python3:python3; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian's ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo -n"
    export DEBIAN_FRONTEND=noninteractive
    { timeout 300 $sudo apt-get update -qq && timeout 600 $sudo apt-get install -y -qq "${missing[@]}"; } \
        >/dev/null || { echo "needed: apt-get install ${missing[*]}" >&2; exit 1; }
fi
if [ ! -x "$lab" ]; then
    cargo build --release -p harness --bin lab >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -z "$keep" ] || mkdir -p "$keep"

# The total of instructions callgrind counted in one run.
count() {
    local sched=$1 bench=$2 n=$3 out=$4
    if ! valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file="$out" \
        "$lab" run --sched "$sched" --bench "$bench" --procs 1 --benchtime "${n}x" \
        >"$tmp/stdout" 2>"$tmp/stderr"; then
        echo "valgrind: lab run --sched $sched --bench $bench at ${n}x failed:" >&2
        tail -5 "$tmp/stderr" >&2
        return 1
    fi
    if grep -q '^n/a' "$tmp/stdout"; then
        return 2
    fi
    awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

# Locked instructions per op from the two runs' out files (locked.py caches the binary's
# disassembly in $tmp); with --verbose, its bias check and busiest sites go to $tmp/sites.$w.$s.
locked() {
    local w=$1 s=$2 counts la lb opts=(--cache "$tmp" --n1 "$n1" --n2 "$n2" --top 64)
    [ -z "$verbose" ] || opts+=(-v)
    counts=$(python3 harness/profile/locked.py "${opts[@]}" "$lab" "$tmp/a.out" "$tmp/b.out") \
        || return 1
    sed 1d <<<"$counts" >"$tmp/sites.$w.$s"
    read -r la lb <<<"$counts"
    # A difference of zero can come out as -0.00: print the magnitude of anything that small.
    awk -v a="$la" -v b="$lb" -v n1="$n1" -v n2="$n2" \
        'BEGIN { x = (b - a) / (n2 - n1); if (x < 0 && x > -0.005) x = 0; print x }'
}

echo "instructions per op at procs 1 (valgrind $(valgrind --version | sed 's/valgrind-//'), N $n1 and $n2, $("$lab" --version))"
printf '%-20s' "workload"
IFS=, read -ra S <<<"$scheds"
IFS=, read -ra W <<<"$benches"
for s in "${S[@]}"; do printf '%12s' "$s"; done
echo
declare -A L IV LV
for w in "${W[@]}"; do
    printf '%-20s' "$w"
    for s in "${S[@]}"; do
        # Progress only on a terminal: in a log it would cut the table's lines.
        [ ! -t 2 ] || echo "  $w on $s" >&2
        a=$(count "$s" "$w" "$n1" "$tmp/a.out") && rc=0 || rc=$?
        if [ "$rc" = 0 ]; then
            b=$(count "$s" "$w" "$n2" "$tmp/b.out") && rc=0 || rc=$?
        fi
        case "$rc" in
            0)
                IV[$w/$s]=$(awk -v a="$a" -v b="$b" -v n1="$n1" -v n2="$n2" \
                    'BEGIN { print (b - a) / (n2 - n1) }')
                printf '%12.1f' "${IV[$w/$s]}"
                [ -z "$keep" ] || cp "$tmp/b.out" "$keep/callgrind.$w.$s.out"
                if LV[$w/$s]=$(locked "$w" "$s"); then
                    L[$w/$s]=$(printf '%12.2f' "${LV[$w/$s]}")
                else
                    L[$w/$s]=$(printf '%12s' "failed")
                fi
                ;;
            2) printf '%12s' "n/a"; L[$w/$s]=$(printf '%12s' "n/a") ;;
            *) printf '%12s' "failed"; L[$w/$s]=$(printf '%12s' "failed") ;;
        esac
    done
    echo
done

echo
echo "locked instructions per op (lock-prefixed and xchg with memory, in $lab itself)"
printf '%-20s' "workload"
for s in "${S[@]}"; do printf '%12s' "$s"; done
echo
for w in "${W[@]}"; do
    printf '%-20s' "$w"
    for s in "${S[@]}"; do printf '%s' "${L[$w/$s]}"; done
    echo
done

if [ -n "$verbose" ]; then
    echo
    echo "locked instructions per op by source site (function file:line [instruction per op])"
    for w in "${W[@]}"; do
        for s in "${S[@]}"; do
            [ -s "$tmp/sites.$w.$s" ] || continue
            echo "$w on $s ($(head -1 "$tmp/sites.$w.$s")):"
            sed 1d "$tmp/sites.$w.$s"
        done
    done
fi

if [ -n "$check" ]; then
    echo
    echo "held to $check (each site's locked instructions against its seed steps within 0.1, instructions within the budget):"
    : >"$tmp/measured"
    for w in "${W[@]}"; do
        for s in "${S[@]}"; do
            [ "${L[$w/$s]// /}" != "n/a" ] || continue
            printf '%s\t%s\t%s\t%s\t%s\n' "$w" "$s" "${IV[$w/$s]:-}" "${LV[$w/$s]:-}" \
                "$tmp/sites.$w.$s" >>"$tmp/measured"
        done
    done
    python3 harness/profile/check_steps.py "$check" "$tmp/measured"
fi
