#!/usr/bin/env python3
"""Count the locked instructions a callgrind run executed in the lab binary.

A locked instruction is an x86-64 atomic read-modify-write: any instruction with a LOCK
prefix (lock cmpxchg, lock xadd, lock or, lock inc/dec, ...) or an xchg with a memory operand,
which the CPU locks implicitly. Each costs ~10 ns even uncontended (it is a full fence), so
their count explains what a plain instruction count does not. mfence is not counted.

How: `objdump -d` lists the addresses of the binary's locked instructions (cached per binary
under --cache, as disassembling takes seconds). Callgrind, run with --dump-instr=yes, writes
the self cost of every executed instruction address; this sums the self Ir (= the number of
executions) at those addresses. Only the lab binary's own code counts: locked instructions in
shared libraries (libc's malloc, pthread and futex paths, the dynamic loader) do not, as the
lab's hot paths, the schedulers and their atomics, are in the binary. (Given a library as
BINARY, the path the out file's ob= names, it counts that library's instead: tokio's task
allocations, for one, take glibc malloc's arena lock.)

Callgrind writes an object's addresses less its load bias (valgrind loads a PIE executable
at, commonly, 0x108000; valgrind 3.19 writes them as in the file). The bias is measured, not
assumed: for each function of the out file, its lowest executed address (its entry) less the
address of the same-named symbol in the disassembly; the most common difference wins. Then
every executed address of the binary must be an instruction start of the disassembly, which
checks the bias and the parsing both; and the self costs must add up to the file's summary.
(Callgrind's function names follow its call stack, which a coroutine switch confuses, so
addresses, not names, decide what is counted.)

The parser follows callgrind's writer (callgrind/dump.c; the format is described at
https://valgrind.org/docs/manual/cl-format.html): a position is absolute (0x..), relative
to the last cost line's (+N, -N) or the same (*); the line after calls= (and jump=/jcnd=)
carries the call's inclusive cost, not the instruction's own, and leaves the last position
alone; names may be compressed as "(id) name" and then "(id)".

Usage: locked.py [--cache DIR] [--top K --n1 N1 --n2 N2] [-v] BINARY OUT [OUT ...]
Prints the locked count of each OUT on one line. With --top and two OUTs, the runs at N1 and
N2 iterations, then the K source sites that execute the most locked instructions per op,
(count(OUT2) - count(OUT1)) / (N2 - N1): per op, function file:line, [instruction per op].
With -v, a line on the bias and its checks comes before the sites.
"""
import argparse
import base64
import collections
import hashlib
import json
import os
import re
import subprocess
import sys
import zlib

LABEL = re.compile(r"^([0-9a-f]+) <(.*)>:$")
INSN = re.compile(r"^\s*([0-9a-f]+):\t(.*)$")
OPERAND = re.compile(r"[^a-z0-9.]")


def is_locked(text):
    """True for `lock ...` (after any other prefix) and for xchg with a memory operand."""
    words = text.split()
    for i, w in enumerate(words):
        if w == "lock":
            return True
        if OPERAND.search(w):
            return False
        if w.startswith("xchg"):
            return "(" in " ".join(words[i + 1:]).split("#")[0]
    return False


def mnemonic(text):
    """`lock cmpxchg`, `xchg`: the instruction without its operands."""
    words = text.split()
    return " ".join(words[:words.index("lock") + 2] if "lock" in words else words[:1])


def disassemble(binary):
    """The binary's locked instructions [addr, symbol, text], its symbols [addr, name] and
    its instruction starts (a bitmap from the lowest, zlib and base64)."""
    out = subprocess.run(["objdump", "-d", "-C", "--no-show-raw-insn", binary],
                         check=True, capture_output=True, text=True).stdout
    locked, symbols, starts, fn = [], [], [], "?"
    for line in out.splitlines():
        m = INSN.match(line)
        if m:
            addr, text = int(m.group(1), 16), " ".join(m.group(2).split())
            starts.append(addr)
            if is_locked(text):
                locked.append([addr, fn, text])
            continue
        m = LABEL.match(line)
        if m:
            fn = m.group(2)
            symbols.append([int(m.group(1), 16), fn])
    lo = min(starts)
    bits = bytearray((max(starts) - lo) // 8 + 1)
    for a in starts:
        bits[(a - lo) >> 3] |= 1 << ((a - lo) & 7)
    return {"locked": locked, "symbols": symbols,
            "starts": [lo, base64.b64encode(zlib.compress(bytes(bits))).decode()]}


def load(binary, cache):
    """disassemble(binary), from the cache if it holds this version of the binary."""
    if not cache:
        return disassemble(binary)
    st = os.stat(binary)
    key = f"{os.path.realpath(binary)}:{st.st_size}:{st.st_mtime_ns}"
    path = os.path.join(cache, f"locked-{hashlib.sha1(key.encode()).hexdigest()[:16]}.json")
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        pass
    dis = disassemble(binary)
    os.makedirs(cache, exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(dis, f)
    os.replace(path + ".tmp", path)
    return dis


def same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.basename(a) == os.path.basename(b)


def parse(path, binary):
    """The self Ir of BINARY's instructions in a callgrind out file, {(addr, fn): Ir}."""
    cost = collections.Counter()
    names = {}  # (kind, id) -> name
    kinds = {"ob": "ob", "cob": "ob", "fn": "fn", "cfn": "fn", "jfn": "fn"}
    mine = {}  # object name -> is it BINARY
    instr = npos = ir = None
    summary = total = last = 0
    ob = fn = None
    inclusive = False  # this line is a call's (or jump's), not self cost
    with open(path) as f:
        for line in f:
            if line[0] in "0123456789+-*":
                fields = line.split()
                t = fields[instr]
                addr = last if t == "*" else last + int(t) if t[0] in "+-" else int(t, 0)
                if inclusive:
                    inclusive = False
                    continue
                last = addr
                n = int(fields[npos + ir]) if npos + ir < len(fields) else 0
                total += n
                if n and mine[ob]:
                    cost[addr, fn] += n
                continue
            inclusive = False
            key, eq, value = line.rstrip("\n").partition("=")
            if eq:
                if key in ("calls", "jump", "jcnd"):
                    inclusive = True
                elif key in kinds:
                    m = re.match(r"\((\d+)\)(?: (.*))?$", value)
                    if m:
                        if m.group(2) is not None:
                            names[kinds[key], m.group(1)] = m.group(2)
                        value = names[kinds[key], m.group(1)]
                    if key == "ob":
                        ob = value
                        if ob not in mine:
                            mine[ob] = same_file(ob, binary)
                    elif key == "fn":
                        fn = re.sub(r"'\d+$", "", value)  # callgrind's recursion depth
                continue
            key, _, value = line.partition(":")
            if key == "positions":
                positions = value.split()
                if "instr" not in positions:
                    sys.exit(f"locked.py: {path} has no addresses: run callgrind --dump-instr=yes")
                instr, npos = positions.index("instr"), len(positions)
            elif key == "events":
                ir = value.split().index("Ir")
            elif key in ("summary", "totals"):
                summary = max(summary, int(value.split()[ir]))
    if summary and total != summary:
        print(f"locked.py: {path}: self costs add up to {total}, the summary says {summary}",
              file=sys.stderr)
    return cost


def bias_of(costs, dis):
    """The load bias of callgrind's addresses, and a line on how sure it is."""
    dup = collections.Counter(name for _, name in dis["symbols"])
    sym = {name: a for a, name in dis["symbols"] if dup[name] == 1}
    low = {}
    for cost in costs:
        for addr, fn in cost:
            if fn in sym and addr < low.get(fn, 1 << 64):
                low[fn] = addr
    votes = collections.Counter(a - sym[fn] for fn, a in low.items())
    if not votes:
        sys.exit("locked.py: no function of the out file is a symbol of the binary")
    bias, n = votes.most_common(1)[0]
    if n < 3 or n <= len(low) // 2:
        sys.exit(f"locked.py: no clear load bias: {votes.most_common(4)}")
    lo, packed = dis["starts"]
    bits = zlib.decompress(base64.b64decode(packed))
    bad = ran = 0
    for cost in costs:
        for (addr, _), c in cost.items():
            a = addr - bias - lo
            ran += c
            if not (0 <= a < 8 * len(bits) and bits[a >> 3] >> (a & 7) & 1):
                bad += c
    if bad:
        print(f"locked.py: with bias {bias:#x}, {bad} of {ran} Ir are not at an instruction "
              "start: the count is wrong", file=sys.stderr)
    return bias, (f"bias {bias:#x}: {n} of {len(low)} functions agree; "
                  f"{ran - bad} of {ran} Ir at instruction starts")


def source_sites(binary, addrs, sites):
    """Name the source of each (unbiased) address: through the inlining, the innermost line
    outside Rust's standard library (the code that asked for the atomic) and the innermost
    named function around it, `function file:line`; the symbol without debuginfo."""
    out = subprocess.run(["addr2line", "-a", "-f", "-i", "-C", "-e", binary]
                         + [hex(x) for x in addrs], capture_output=True, text=True).stdout
    blocks = re.split(r"^0x[0-9a-f]+\n", out, flags=re.M)[1:]
    if len(blocks) != len(addrs):
        blocks = [""] * len(addrs)
    return [pick(b.splitlines()) or sites[x][0] for x, b in zip(addrs, blocks)]


def pick(lines):
    # addr2line -f -i prints function, file:line pairs from the innermost inlined frame out;
    # the file:line of a pair is in the function of that pair (but for the first pair).
    pairs = list(zip(lines[0::2], lines[1::2]))
    ours = [i for i, (_, at) in enumerate(pairs) if not at.startswith(("/rustc/", "??"))]
    if not ours:
        return None
    at = short(pairs[ours[0]][1].split(" (discriminator")[0])
    fn = next((pairs[i][0] for i in ours if i > 0 and not pairs[i][0].startswith("{")), "")
    return f"{fn.split('<')[0]} {at}".strip()


def short(path):
    """A source path without the toolchain's, the registry's or this checkout's prefix."""
    path = re.sub(r"^/rustc/[0-9a-f]+/", "", path)
    path = re.sub(r"^.*/registry/src/[^/]+/", "", path)
    return os.path.relpath(path) if path.startswith(os.getcwd() + "/") else path


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cache", help="directory to cache the disassembly in")
    p.add_argument("--top", type=int, default=0, help="print the K busiest source sites")
    p.add_argument("--n1", type=int)
    p.add_argument("--n2", type=int)
    p.add_argument("-v", "--verbose", action="store_true", help="report the bias and checks")
    p.add_argument("binary")
    p.add_argument("out", nargs="+")
    a = p.parse_args()
    if a.top and (len(a.out) != 2 or a.n1 is None or a.n2 is None or a.n2 <= a.n1):
        p.error("--top needs two out files and --n1 < --n2")

    dis = load(a.binary, a.cache)
    costs = [parse(out, a.binary) for out in a.out]
    bias, how = bias_of(costs, dis)
    sites = {addr: (fn, text) for addr, fn, text in dis["locked"]}
    counts = []
    for cost in costs:
        per = collections.Counter()
        for (addr, _), c in cost.items():
            if addr - bias in sites:
                per[addr - bias] += c
        counts.append(per)
    print(" ".join(str(sum(c.values())) for c in counts))
    if a.verbose:
        print(how)
    if a.top:
        d = a.n2 - a.n1
        addrs = sorted(counts[0].keys() | counts[1].keys())
        per_site = collections.defaultdict(collections.Counter)
        for addr, site in zip(addrs, source_sites(a.binary, addrs, sites)):
            per_site[site][mnemonic(sites[addr][1])] += (counts[1][addr] - counts[0][addr]) / d
        busiest = sorted(per_site.items(), key=lambda kv: -abs(sum(kv[1].values())))
        for site, kinds in busiest[:a.top]:
            total = sum(kinds.values())
            if abs(total) < 0.005:
                break
            what = ", ".join(f"{k} {v:.2f}" for k, v in kinds.most_common() if abs(v) >= 0.005)
            print(f"{total:8.2f}  {site}  [{what}]")


if __name__ == "__main__":
    main()
