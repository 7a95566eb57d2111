//! `lab report`'s page: several run folders side by side, typically from different machines.
//! Rows are matched by (workload, scheduler, procs); each run is a column group (ns/op per
//! scheduler, then each generation's delta against the one before it), and a last group says
//! per delta whether it holds on every run, on some, or flips. What did not match (rows only
//! some runs have, settings that differ) is listed above the table.

use crate::output::benchfmt::row_name;
use crate::output::chart::machine_line;
use crate::output::html::{self, esc};
use crate::output::machine::Machine;
use crate::output::report::row_keys;
use crate::output::results::{significant, Results, Row};
use crate::output::table;
use std::fmt::Write;

/// One run folder.
pub struct Run {
    /// The folder's name, as the page calls the run.
    pub name: String,
    pub results: Results,
    pub machine: Machine,
}

/// What a delta between two neighbouring generations does across the runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agreement {
    /// Significant and of the same sign on every run.
    Holds,
    /// Significant on some runs, all of one sign; not significant (or missing) on the others.
    Some,
    /// Significant in opposite directions on two runs.
    Flips,
    /// Significant on none.
    Nowhere,
}

impl Agreement {
    /// The mark in the table, also its CSS class.
    pub fn mark(self) -> &'static str {
        match self {
            Agreement::Holds => "holds",
            Agreement::Some => "some",
            Agreement::Flips => "flips",
            Agreement::Nowhere => "~",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Agreement::Holds => "holds",
            Agreement::Some => "some",
            Agreement::Flips => "flips",
            Agreement::Nowhere => "nowhere",
        }
    }
}

/// A delta on one run: percent change in ns/op, and whether it is significant.
pub type Delta = Option<(f64, bool)>;

/// The agreement of one delta's values on every run (`None` where a run lacks a figure).
pub fn agreement(deltas: &[Delta]) -> Agreement {
    let sig: Vec<f64> = deltas
        .iter()
        .flatten()
        .filter(|d| d.1)
        .map(|d| d.0)
        .collect();
    let faster = sig.iter().any(|&d| d < 0.0);
    let slower = sig.iter().any(|&d| d > 0.0);
    if faster && slower {
        Agreement::Flips
    } else if sig.is_empty() {
        Agreement::Nowhere
    } else if sig.len() == deltas.len() {
        Agreement::Holds
    } else {
        Agreement::Some
    }
}

fn find<'a>(res: &'a Results, bench: &str, sched: &str, procs: usize) -> Option<&'a Row> {
    res.rows
        .iter()
        .find(|r| r.bench == bench && r.sched == sched && r.procs == procs)
}

/// The delta of `sched` against `prev` at one workload and procs of a run.
fn delta(res: &Results, bench: &str, prev: &str, sched: &str, procs: usize) -> Delta {
    let (b, r) = (
        find(res, bench, prev, procs)?,
        find(res, bench, sched, procs)?,
    );
    let (x, y) = (b.ns_per_op?, r.ns_per_op?);
    (x > 0.0).then(|| ((y - x) / x * 100.0, significant(r.p_against(b))))
}

/// The columns of every run, in the order they first appear, and whether each is a peer.
fn columns(runs: &[Run]) -> Vec<(String, bool)> {
    let mut cols: Vec<(String, bool)> = Vec::new();
    for run in runs {
        for c in &run.results.columns {
            if !cols.iter().any(|(n, _)| n == c) {
                let peer = run.results.rows.iter().any(|r| r.sched == *c && r.peer);
                cols.push((c.clone(), peer));
            }
        }
    }
    cols
}

/// The page across `runs` (at least one).
pub fn render(runs: &[Run]) -> String {
    let cols = columns(runs);
    let names: Vec<String> = cols.iter().map(|(c, _)| c.clone()).collect();
    let gens: Vec<&str> = cols
        .iter()
        .filter(|(_, peer)| !peer)
        .map(|(c, _)| c.as_str())
        .collect();
    let pairs: Vec<(&str, &str)> = gens.windows(2).map(|w| (w[0], w[1])).collect();
    let mut keys: Vec<(&str, &str, usize)> = Vec::new();
    for run in runs {
        for k in row_keys(&run.results) {
            if !keys.iter().any(|j| j.0 == k.0 && j.2 == k.2) {
                keys.push(k);
            }
        }
    }

    let mut b = String::new();
    let _ = writeln!(b, "<h1>{} runs side by side</h1>", runs.len());
    b.push_str("<h2>Runs</h2>\n<ol>\n");
    for run in runs {
        let r = &run.results;
        let _ = writeln!(
            b,
            "<li><b>{}</b>: {}, kernel {}; {}<br><code>{}</code></li>",
            esc(&run.name),
            esc(&machine_line(&run.machine)),
            esc(&run.machine.kernel),
            esc(&settings(r).join(", ")),
            esc(&r.command)
        );
    }
    b.push_str("</ol>\n");

    // Every delta's agreement, for the count at the top and the table.
    let mut tally = [0usize; 4];
    let marks: Vec<Vec<Agreement>> = keys
        .iter()
        .map(|&(bench, _, procs)| {
            pairs
                .iter()
                .map(|&(prev, sched)| {
                    let ds: Vec<Delta> = runs
                        .iter()
                        .map(|run| delta(&run.results, bench, prev, sched, procs))
                        .collect();
                    let a = agreement(&ds);
                    if ds.iter().any(Option::is_some) {
                        tally[a as usize] += 1;
                    }
                    a
                })
                .collect()
        })
        .collect();
    let _ = writeln!(
        b,
        "<p>Of the deltas between neighbouring generations ({}): <b>{}</b> hold on every run \
         (same sign, significant on each), {} on some runs only, <b>{}</b> flip (significant in \
         opposite directions), {} are significant on none.</p>",
        esc(&pairs
            .iter()
            .map(|(a, b)| format!("{b} vs {a}"))
            .collect::<Vec<_>>()
            .join(", ")),
        tally[Agreement::Holds as usize],
        tally[Agreement::Some as usize],
        tally[Agreement::Flips as usize],
        tally[Agreement::Nowhere as usize]
    );

    let unmatched = unmatched(runs, &names);
    let differ = differing_settings(runs);
    if !unmatched.is_empty() || !differ.is_empty() {
        b.push_str("<h2>What does not match</h2>\n<ul>\n");
        for l in differ.iter().chain(&unmatched) {
            let _ = writeln!(b, "<li>{}</li>", esc(l));
        }
        b.push_str("</ul>\n");
    }

    b.push_str("<h2>ns/op and deltas</h2>\n");
    let _ = writeln!(
        b,
        "<p class=\"note\">A delta is each generation against the one before it on the same run; \
         a pale cell is not significant (two-sided Mann-Whitney U on the runs, p &gt;= {}). Marks: \
         <b>holds</b>: same sign and significant on every run; <b>some</b>: significant on some \
         runs, never in opposite directions; <b>flips</b>: significant in opposite directions on \
         two runs; <b>~</b>: significant on none.</p>",
        crate::measure::stats::ALPHA
    );
    b.push_str(&html::controls(&names));
    b.push_str(
        "<div class=\"scroll\"><table class=\"sortable\" id=\"across\">\n<thead><tr><th></th>",
    );
    let per_run = names.len() + pairs.len();
    for run in runs {
        let _ = write!(
            b,
            "<th class=\"group\" colspan=\"{per_run}\" title=\"{}\">{}<br><span class=\"note\">{}</span></th>",
            esc(&machine_line(&run.machine)),
            esc(&run.name),
            esc(&format!("{}, {} cores", run.machine.cpu_model, run.machine.cores))
        );
    }
    let _ = write!(
        b,
        "<th class=\"group\" colspan=\"{}\">on every run</th></tr>\n<tr><th>benchmark</th>",
        pairs.len()
    );
    let pair_head = |b: &mut String, (prev, sched): (&str, &str), first: bool| {
        let _ = write!(
            b,
            "<th{} data-s=\"{} {}\">{} vs {}</th>",
            if first { " class=\"group\"" } else { "" },
            esc(prev),
            esc(sched),
            esc(sched),
            esc(prev)
        );
    };
    for _ in runs {
        for (i, c) in names.iter().enumerate() {
            let _ = write!(
                b,
                "<th{} data-s=\"{}\">{} ns/op</th>",
                if i == 0 { " class=\"group\"" } else { "" },
                esc(c),
                esc(c)
            );
        }
        for &p in &pairs {
            pair_head(&mut b, p, false);
        }
    }
    for (i, &p) in pairs.iter().enumerate() {
        pair_head(&mut b, p, i == 0);
    }
    b.push_str("</tr></thead>\n<tbody>\n");
    for (k, &(bench, go_name, procs)) in keys.iter().enumerate() {
        let _ = write!(
            b,
            "<tr data-bench=\"{} {}\"><td class=\"name\">{}</td>",
            esc(bench),
            esc(go_name),
            esc(&row_name(go_name, procs))
        );
        for run in runs {
            let res = &run.results;
            for (i, c) in names.iter().enumerate() {
                let row = find(res, bench, c, procs);
                let v = row
                    .and_then(|r| r.ns_per_op)
                    .map(|v| format!(" data-v=\"{v}\""))
                    .unwrap_or_default();
                let _ = write!(
                    b,
                    "<td class=\"num{}\" data-s=\"{}\"{v}>{}</td>",
                    if i == 0 { " group" } else { "" },
                    esc(c),
                    esc(&table::cell(row, res.count))
                );
            }
            for &(prev, sched) in &pairs {
                let _ = match delta(res, bench, prev, sched, procs) {
                    Some((pct, sig)) => write!(
                        b,
                        "<td class=\"{}\" data-s=\"{} {}\" data-v=\"{pct}\">{}</td>",
                        html::delta_class(pct, sig),
                        esc(prev),
                        esc(sched),
                        esc(&if sig {
                            table::delta(100.0, 100.0 + pct)
                        } else {
                            format!("~ {}", table::delta(100.0, 100.0 + pct))
                        })
                    ),
                    None => write!(
                        b,
                        "<td class=\"num\" data-s=\"{} {}\"></td>",
                        esc(prev),
                        esc(sched)
                    ),
                };
            }
        }
        for (i, (&(prev, sched), a)) in pairs.iter().zip(&marks[k]).enumerate() {
            let any = runs
                .iter()
                .any(|run| delta(&run.results, bench, prev, sched, procs).is_some());
            let _ = write!(
                b,
                "<td class=\"{}{}\" data-s=\"{} {}\">{}</td>",
                a.class(),
                if i == 0 { " group" } else { "" },
                esc(prev),
                esc(sched),
                if any { a.mark() } else { "" }
            );
        }
        b.push_str("</tr>\n");
    }
    b.push_str("</tbody></table></div>\n");
    let _ = writeln!(
        b,
        "<p class=\"note\">Written by <code>lab report</code> from each run folder's \
         results.json and machine.json; each run's own report.html has its charts, counters and \
         latency percentiles. ns/op cells: the median ± the larger distance to min or max, as in \
         the terminal table.</p>"
    );
    html::page(&format!("lab: {} runs side by side", runs.len()), &b)
}

/// A run's settings, as the page lists them and compares them.
fn settings(r: &Results) -> Vec<String> {
    let mut s = vec![
        format!(
            "benchtime {}",
            humantime::format_duration(std::time::Duration::from_nanos(r.benchtime_ns))
        ),
        format!("count {}", r.count),
    ];
    if r.work != crate::workloads::LOCAL_WORK {
        s.push(format!("work {}", r.work));
    }
    if !r.locks.is_empty() {
        let locks: Vec<String> = r.locks.iter().map(|(c, l)| format!("{c} {l}")).collect();
        s.push(format!("lock {}", locks.join(" ")));
    }
    s
}

/// The settings that are not the same on every run, one line each.
fn differing_settings(runs: &[Run]) -> Vec<String> {
    let all: Vec<Vec<String>> = runs.iter().map(|r| settings(&r.results)).collect();
    let mut kinds: Vec<&str> = Vec::new();
    for s in all.iter().flatten() {
        let kind = s.split(' ').next().unwrap_or("");
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    let mut out = Vec::new();
    for kind in kinds {
        let values: Vec<String> = all
            .iter()
            .map(|s| {
                s.iter()
                    .find(|v| v.split(' ').next() == Some(kind))
                    .cloned()
                    .unwrap_or_else(|| format!("{kind} default"))
            })
            .collect();
        if values.iter().any(|v| *v != values[0]) {
            let each: Vec<String> = runs
                .iter()
                .zip(&values)
                .map(|(r, v)| format!("{}: {v}", r.name))
                .collect();
            out.push(format!("different settings: {}", each.join("; ")));
        }
    }
    out
}

/// The (workload, scheduler, procs) that only some runs have: one line per row of the table
/// and set of runs that have it, with the schedulers.
fn unmatched(runs: &[Run], names: &[String]) -> Vec<String> {
    // (row name, runs that have it, schedulers)
    let mut out: Vec<(String, String, Vec<&str>)> = Vec::new();
    let mut benches: Vec<(&str, &str)> = Vec::new();
    for run in runs {
        for r in &run.results.rows {
            if !benches.iter().any(|b| b.0 == r.bench) {
                benches.push((&r.bench, &r.go_name));
            }
        }
    }
    for &(bench, go) in &benches {
        for sched in names {
            let mut procs: Vec<usize> = runs
                .iter()
                .flat_map(|run| &run.results.rows)
                .filter(|r| r.bench == bench && r.sched == *sched)
                .map(|r| r.procs)
                .collect();
            procs.sort_unstable();
            procs.dedup();
            for p in procs {
                let have: Vec<&str> = runs
                    .iter()
                    .filter(|run| find(&run.results, bench, sched, p).is_some())
                    .map(|run| run.name.as_str())
                    .collect();
                if have.len() < runs.len() {
                    let (row, have) = (row_name(go, p), have.join(", "));
                    match out.iter_mut().find(|(r, h, _)| *r == row && *h == have) {
                        Some((_, _, scheds)) => scheds.push(sched),
                        None => out.push((row, have, vec![sched])),
                    }
                }
            }
        }
    }
    out.into_iter()
        .map(|(row, have, scheds)| format!("{row} on {}: only in {have}", scheds.join(", ")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{agreement, Agreement};

    #[test]
    fn agreement_of_deltas() {
        let s = |d: f64| Some((d, true));
        let n = |d: f64| Some((d, false));
        assert_eq!(agreement(&[s(-10.0), s(-3.0)]), Agreement::Holds);
        assert_eq!(agreement(&[s(-10.0), n(4.0)]), Agreement::Some);
        assert_eq!(agreement(&[s(-10.0), None]), Agreement::Some);
        assert_eq!(agreement(&[s(-10.0), s(12.0)]), Agreement::Flips);
        assert_eq!(agreement(&[n(-10.0), n(12.0)]), Agreement::Nowhere);
        assert_eq!(agreement(&[None, None]), Agreement::Nowhere);
    }
}
