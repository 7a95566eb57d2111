//! The terminal table, in the shape of seed 002's own: a row per benchmark and procs
//! (`BenchmarkSyscall`, `BenchmarkSyscall-2`), a ns/op column per scheduler, and after each
//! scheduler but the first its delta against the first (`-56.63%`), or `~ (p=0.310)` where the
//! runs of the two columns do not differ significantly (benchstat's `~`).

use crate::measure::stats::{mann_whitney_min_p, ALPHA};
use crate::output::benchfmt::{format_ns, row_name};
use crate::output::results::{significant, Results, Row};
use std::fmt::Write;

/// The footnote under a table with a `~` in it.
pub const NOT_SIGNIFICANT: &str =
    "~: no significant difference: two-sided Mann-Whitney U test, p >= 0.05 (benchstat's test)";

/// Marks a row whose procs are above the machine's cores.
const OVERSUBSCRIBED: &str = " *";

/// Marks a row of a workload whose timed round makes many fresh goroutine stacks (the
/// registry's `fresh_stacks`).
const FRESH_STACKS: &str = " †";

/// The footnote of the rows marked [`FRESH_STACKS`].
const FRESH_STACKS_NOTE: &str = "the generations' ns/op include a guard-page system call for each fresh goroutine stack (a gfree miss), which Go 1.0-1.4 did not make (README: Deviations from Go)";

/// Whether `procs` is above the machine's cores in the rows of `bench`.
fn oversubscribed(res: &Results, bench: &str, procs: usize) -> bool {
    res.rows
        .iter()
        .any(|r| r.bench == bench && r.procs == procs && r.oversubscribed)
}

/// Whether the registry marks `bench` as making many fresh stacks in its timed round.
fn fresh_stacks(bench: &str) -> bool {
    crate::subjects::registry::workload(bench).is_some_and(|w| w.fresh_stacks)
}

/// A row's name with its marks: `BenchmarkGoroutinesAlive/1M-4 * †`.
pub fn marked_name(res: &Results, bench: &str, go_name: &str, procs: usize) -> String {
    let mut name = row_name(go_name, procs);
    if oversubscribed(res, bench, procs) {
        name.push_str(OVERSUBSCRIBED);
    }
    if fresh_stacks(bench) {
        name.push_str(FRESH_STACKS);
    }
    name
}

/// The delta of `v` against `base` in percent, as benchcmp prints it (`-56.63%`, `+3.10%`).
pub fn delta(base: f64, v: f64) -> String {
    if base > 0.0 {
        format!("{:+.2}%", (v - base) / base * 100.0)
    } else {
        "~".into()
    }
}

/// The delta cell of `row` against `base`: the percentage when the two columns' runs differ
/// significantly (p < [`ALPHA`]), else `~ (p=0.310)`; empty when either has no figure.
pub fn delta_cell(base: &Row, row: &Row) -> String {
    match (base.ns_per_op, row.ns_per_op) {
        (Some(b), Some(v)) => match row.p_against(base) {
            Some(p) if !significant(Some(p)) => format!("~ (p={p:.3})"),
            _ => delta(b, v),
        },
        _ => String::new(),
    }
}

/// A ns/op cell: the median, ± the spread when there are several runs; `starved`, `n/a`.
pub fn cell(row: Option<&Row>, count: usize) -> String {
    match row {
        None => String::new(),
        Some(r) if r.starved => "starved".into(),
        Some(r) => match (r.ns_per_op, r.min, r.max) {
            (Some(med), Some(lo), Some(hi)) if count > 1 && med > 0.0 => {
                let spread = (hi - med).max(med - lo) / med * 100.0;
                format!("{} ±{spread:.0}%", format_ns(med))
            }
            (Some(med), _, _) => format_ns(med),
            _ => "n/a".into(),
        },
    }
}

/// Renders the table, with footnotes for oversubscribed rows, rows of fresh-stack workloads
/// and n/a cells.
pub fn render(res: &Results) -> String {
    let cols = &res.columns;
    let mut header = vec!["benchmark".to_string()];
    for (i, c) in cols.iter().enumerate() {
        header.push(format!("{c} ns/op"));
        if i > 0 {
            header.push("delta".into());
        }
    }
    // Rows in the order the results hold them: by workload, then procs.
    let mut keys: Vec<(&str, &str, usize)> = Vec::new();
    for r in &res.rows {
        let k = (r.bench.as_str(), r.go_name.as_str(), r.procs);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let mut lines = vec![header];
    let mut any_over = false;
    let mut any_fresh = false;
    let mut notes: Vec<String> = Vec::new();
    let mut starved: Vec<String> = Vec::new();
    // (column, method, workloads) where a column says how its rows were measured.
    let mut methods: Vec<(String, String, Vec<&str>)> = Vec::new();
    // Whether a delta is `~`, and the run counts (baseline, column) that can never be
    // significant.
    let mut any_same = false;
    let mut too_few: Vec<(usize, usize)> = Vec::new();
    for (bench, go_name, procs) in keys {
        let find = |sched: &str| {
            res.rows
                .iter()
                .find(|r| r.bench == bench && r.procs == procs && r.sched == sched)
        };
        any_over |= oversubscribed(res, bench, procs);
        any_fresh |= fresh_stacks(bench);
        let mut line = vec![marked_name(res, bench, go_name, procs)];
        let base = find(&cols[0]);
        for (i, c) in cols.iter().enumerate() {
            let row = find(c);
            line.push(cell(row, res.count));
            if row.is_some_and(|r| r.starved) {
                let s = format!("{c} on {bench}");
                if !starved.contains(&s) {
                    starved.push(s);
                }
            }
            if let Some(how) = row.and_then(|r| r.method.as_deref()) {
                match methods.iter_mut().find(|(col, m, _)| col == c && m == how) {
                    Some((_, _, benches)) if !benches.contains(&bench) => benches.push(bench),
                    Some(_) => {}
                    None => methods.push((c.clone(), how.to_string(), vec![bench])),
                }
            }
            if let Some(why) = row.and_then(|r| r.na.as_deref()) {
                let note = format!("n/a: {c} on {bench}: {why}");
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
            if i > 0 {
                let d = match (base, row) {
                    (Some(b), Some(r)) => delta_cell(b, r),
                    _ => String::new(),
                };
                if d.starts_with('~') {
                    any_same = true;
                    let (b, r) = (
                        base.map_or(0, |b| b.runs.len()),
                        row.map_or(0, |r| r.runs.len()),
                    );
                    if mann_whitney_min_p(b, r) >= ALPHA && !too_few.contains(&(b, r)) {
                        too_few.push((b, r));
                    }
                }
                line.push(d);
            }
        }
        lines.push(line);
    }
    let ncols = lines[0].len();
    let widths: Vec<usize> = (0..ncols)
        .map(|j| {
            lines
                .iter()
                .map(|l| l[j].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for l in &lines {
        let mut s = String::new();
        for (j, c) in l.iter().enumerate() {
            let pad = widths[j] - c.chars().count();
            if j == 0 {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str("   ");
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            }
        }
        let _ = writeln!(out, "{}", s.trim_end());
    }
    if any_over {
        let _ = writeln!(
            out,
            "{} procs above this machine's {} cores: oversubscribed",
            OVERSUBSCRIBED.trim(),
            res.machine.cores
        );
    }
    if any_fresh {
        let _ = writeln!(out, "{} {FRESH_STACKS_NOTE}", FRESH_STACKS.trim());
    }
    if any_same {
        let _ = writeln!(out, "{NOT_SIGNIFICANT}");
        for (b, r) in too_few {
            let _ = writeln!(
                out,
                "   with {b} runs against {r} the test cannot reach p < 0.05: it takes --count 4 or more"
            );
        }
    }
    if !starved.is_empty() {
        let _ = writeln!(
            out,
            "starved: {}: a CPU hog kept its CPU, the others made no progress for {}, and it gave up (no preemption)",
            starved.join(", "),
            humantime::format_duration(std::time::Duration::from_nanos(res.starve_after_ns))
        );
    }
    if !res.locks.is_empty() {
        let locks: Vec<String> = cols
            .iter()
            .filter_map(|c| Some(format!("{c} {}", res.locks.get(c)?)))
            .collect();
        let _ = writeln!(out, "runtime lock: {}", locks.join(", "));
    }
    if res.work != crate::workloads::LOCAL_WORK
        && res.rows.iter().any(|r| r.bench.ends_with("-work"))
    {
        let _ = writeln!(
            out,
            "local work: {} steps in each syscall (Go's BenchmarkSyscallWork: {})",
            res.work,
            crate::workloads::LOCAL_WORK
        );
    }
    methods.sort_by_key(|(col, _, _)| cols.iter().position(|c| c == col));
    for (col, how, benches) in methods {
        let _ = writeln!(out, "how {col} was measured: {how}: {}", benches.join(", "));
    }
    for n in notes {
        let _ = writeln!(out, "{n}");
    }
    out
}

/// The latency percentiles of every row that recorded any: one line per workload, procs,
/// column and histogram, in ns.
pub fn render_latency(res: &Results) -> String {
    let mut lines = vec![vec![
        "benchmark".to_string(),
        "sched".into(),
        "latency".into(),
        "count".into(),
        "p50".into(),
        "p90".into(),
        "p99".into(),
        "p99.9".into(),
        "max".into(),
    ]];
    for r in &res.rows {
        if r.starved {
            continue;
        }
        for (name, p) in &r.latency {
            let mut l = vec![
                row_name(&r.go_name, r.procs),
                r.sched.clone(),
                name.clone(),
                p.count.to_string(),
            ];
            l.extend(p.labelled().iter().map(|(_, v)| format_ns(*v as f64)));
            lines.push(l);
        }
    }
    if lines.len() == 1 {
        return String::new();
    }
    align(&lines)
}

/// Lines of cells, the first column left-aligned, the others right-aligned.
pub fn align(lines: &[Vec<String>]) -> String {
    let ncols = lines[0].len();
    let widths: Vec<usize> = (0..ncols)
        .map(|j| {
            lines
                .iter()
                .map(|l| l.get(j).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for l in lines {
        let mut s = String::new();
        for (j, c) in l.iter().enumerate() {
            let pad = widths[j] - c.chars().count();
            if j == 0 {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str("   ");
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            }
        }
        let _ = writeln!(out, "{}", s.trim_end());
    }
    out
}
