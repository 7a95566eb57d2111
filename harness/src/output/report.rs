//! `report.html`: a run folder's page for a browser, one file with nothing fetched: the command
//! and the machine, the table in the seed's shape (sortable, filterable, `~` cells pale), the
//! counters that explain a figure, the latency percentiles, and every chart of summary.md as
//! inline SVG, workload by workload.

use crate::output::benchfmt::{format_ns, row_name};
use crate::output::chart::Chart;
use crate::output::html::{self, esc};
use crate::output::machine::Machine;
use crate::output::results::{Results, Row};
use crate::output::table;
use std::fmt::Write;
use std::path::Path;

/// The counters shown beside the figures, per op, in this order, where a row of the workload
/// has any: the ones the READMEs explain figures with (which syscall path a goroutine took,
/// how work moved between Ps and Ms, who was preempted, how many threads it took).
pub const EXPLAINING: [&str; 14] = [
    "syscall_enter_fast",
    "syscall_enter_slow",
    "syscall_exit_fast",
    "syscall_exit_slow",
    "steal_tries",
    "steal_wins",
    "goroutines_stolen",
    "handoffp",
    "mnextg_handoffs",
    "retakes",
    "preemptions",
    "m_sleeps",
    "threads_created",
    "gcs",
];

/// Writes `report.html` into `dir`, embedding the SVG files of `charts` drawn there (by
/// [`crate::output::chart::draw_all`]).
pub fn write(
    dir: &Path,
    res: &Results,
    machine: &Machine,
    charts: &[Chart],
) -> std::io::Result<()> {
    let svgs = charts
        .iter()
        .map(|c| std::fs::read_to_string(dir.join(c.svg())))
        .collect::<std::io::Result<Vec<String>>>()?;
    let drawn: Vec<(&Chart, &str)> = charts.iter().zip(svgs.iter().map(String::as_str)).collect();
    std::fs::write(dir.join("report.html"), render(res, machine, &drawn))
}

/// The rows' (workload, Go name, procs) in the order the results hold them.
pub fn row_keys(res: &Results) -> Vec<(&str, &str, usize)> {
    let mut keys: Vec<(&str, &str, usize)> = Vec::new();
    for r in &res.rows {
        let k = (r.bench.as_str(), r.go_name.as_str(), r.procs);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys
}

fn find<'a>(res: &'a Results, bench: &str, sched: &str, procs: usize) -> Option<&'a Row> {
    res.rows
        .iter()
        .find(|r| r.bench == bench && r.sched == sched && r.procs == procs)
}

/// The page of a run, with each chart's SVG text.
pub fn render(res: &Results, machine: &Machine, charts: &[(&Chart, &str)]) -> String {
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<h1>Run {} <span class=\"note\">({})</span></h1>",
        esc(&res.started),
        esc(&res.label)
    );
    let mut facts = html::machine_facts(&res.command, machine);
    facts.push((
        "runs",
        format!(
            "benchtime {}, count {}: each figure is the median of the runs, ± the larger \
             distance to min or max",
            humantime::format_duration(std::time::Duration::from_nanos(res.benchtime_ns)),
            res.count
        ),
    ));
    for (peer, version) in &machine.peers {
        facts.push(("peer", format!("{}: {}", esc(peer), esc(version))));
    }
    if res.work != crate::workloads::LOCAL_WORK {
        facts.push((
            "local work",
            format!(
                "{} steps in each syscall of the -work workloads (Go's BenchmarkSyscallWork has {})",
                res.work,
                crate::workloads::LOCAL_WORK
            ),
        ));
    }
    b.push_str(&html::facts(&facts));
    let keys = row_keys(res);
    let mut benches: Vec<(&str, &str)> = Vec::new();
    for &(bench, go, _) in &keys {
        if !benches.iter().any(|(b, _)| *b == bench) {
            benches.push((bench, go));
        }
    }
    b.push_str("<nav><a href=\"#table\">ns/op</a>");
    let lat = latency_table(res);
    if !lat.is_empty() {
        b.push_str("<a href=\"#latency\">latency</a>");
    }
    for (bench, go) in &benches {
        let _ = write!(b, "<a href=\"#bench-{}\">{}</a>", esc(bench), esc(go));
    }
    b.push_str("</nav>\n");

    let _ = writeln!(b, "<h2 id=\"table\">ns/op</h2>");
    let _ = writeln!(
        b,
        "<p class=\"note\">Columns: {}; each delta is against the first. A pale <code>~</code> \
         cell: no significant difference (two-sided Mann-Whitney U test on the runs of the two \
         columns, p &gt;= {}, benchstat's test).</p>",
        esc(&res.columns.join(", ")),
        crate::measure::stats::ALPHA
    );
    b.push_str(&html::controls(&res.columns));
    b.push_str(&main_table(res, &keys));
    // The text table's footnotes (oversubscribed, fresh stacks, ~, starved, n/a, lock), as the terminal has
    // them: everything after its header and rows.
    let text = table::render(res);
    let notes: Vec<&str> = text.lines().skip(keys.len() + 1).collect();
    if !notes.is_empty() {
        let _ = writeln!(b, "<pre class=\"note\">{}</pre>", esc(&notes.join("\n")));
    }
    let _ = writeln!(
        b,
        "<details><summary>the table as the terminal printed it</summary><pre>{}</pre></details>",
        esc(&text)
    );

    if !lat.is_empty() {
        let _ = writeln!(
            b,
            "<h2 id=\"latency\">Latency percentiles</h2>\n<p class=\"note\">ns, of the median run.</p>\n{lat}"
        );
    }

    for (bench, go) in benches {
        let about = crate::subjects::registry::workload(bench).map_or("", |w| w.about);
        let _ = writeln!(
            b,
            "<section id=\"bench-{}\">\n<h2>{} <code>{}</code></h2>\n<p>{}</p>",
            esc(bench),
            esc(go),
            esc(bench),
            esc(about)
        );
        b.push_str(&counters_table(res, bench));
        b.push_str("<div class=\"charts\">\n");
        for (c, svg) in charts.iter().filter(|(c, _)| c.bench == bench) {
            let _ = writeln!(
                b,
                "<figure data-chart=\"{}\">\n{}\n<figcaption>{}: {}</figcaption>\n</figure>",
                esc(&c.svg()),
                html::inline_svg(svg),
                esc(&c.what()),
                esc(&c.title)
            );
        }
        b.push_str("</div>\n</section>\n");
    }
    let _ = writeln!(
        b,
        "<p class=\"note\">Written by <code>lab compare</code>; <code>lab plot</code> redraws it \
         from results.json. Beside it: results.json (every field), results.csv, bench.txt \
         (benchstat), machine.json, command.txt, summary.md.</p>"
    );
    html::page(&format!("lab: run {} ({})", res.started, res.label), &b)
}

/// The table of the seed's shape: a row per workload and procs, a ns/op column per scheduler
/// and after each but the first its delta against the first.
fn main_table(res: &Results, keys: &[(&str, &str, usize)]) -> String {
    let cols = &res.columns;
    let mut s = String::from(
        "<div class=\"scroll\"><table class=\"sortable\" id=\"runs\">\n<thead><tr><th>benchmark</th>",
    );
    for (i, c) in cols.iter().enumerate() {
        let _ = write!(s, "<th data-s=\"{0}\">{0} ns/op</th>", esc(c));
        if i > 0 {
            let _ = write!(s, "<th data-s=\"{}\">delta</th>", esc(c));
        }
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for &(bench, go_name, procs) in keys {
        let name = table::marked_name(res, bench, go_name, procs);
        let _ = write!(
            s,
            "<tr data-bench=\"{} {}\"><td class=\"name\">{}</td>",
            esc(bench),
            esc(go_name),
            esc(&name)
        );
        let base = find(res, bench, &cols[0], procs);
        for (i, c) in cols.iter().enumerate() {
            let row = find(res, bench, c, procs);
            let v = row
                .and_then(|r| r.ns_per_op)
                .map(|v| format!(" data-v=\"{v}\""))
                .unwrap_or_default();
            let _ = write!(
                s,
                "<td class=\"num\" data-s=\"{}\"{v}>{}</td>",
                esc(c),
                esc(&table::cell(row, res.count))
            );
            if i > 0 {
                let (text, class, v) = match (base, row) {
                    (Some(b), Some(r)) => {
                        let text = table::delta_cell(b, r);
                        let pct = match (b.ns_per_op, r.ns_per_op) {
                            (Some(x), Some(y)) if x > 0.0 => Some((y - x) / x * 100.0),
                            _ => None,
                        };
                        let class =
                            pct.map_or("num", |p| html::delta_class(p, !text.starts_with('~')));
                        (text, class, pct.map(|p| format!(" data-v=\"{p}\"")))
                    }
                    _ => (String::new(), "num", None),
                };
                let _ = write!(
                    s,
                    "<td class=\"{class}\" data-s=\"{}\"{}>{}</td>",
                    esc(c),
                    v.unwrap_or_default(),
                    esc(&text)
                );
            }
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table></div>\n");
    s
}

/// The latency percentiles of every row that recorded any, as [`table::render_latency`].
fn latency_table(res: &Results) -> String {
    let mut s = String::new();
    for r in res.rows.iter().filter(|r| !r.starved) {
        for (name, p) in &r.latency {
            let _ = write!(
                s,
                "<tr data-bench=\"{} {}\"><td class=\"name\">{}</td><td data-s=\"{}\">{}</td><td>{}</td><td class=\"num\" data-v=\"{}\">{}</td>",
                esc(&r.bench),
                esc(&r.go_name),
                esc(&row_name(&r.go_name, r.procs)),
                esc(&r.sched),
                esc(&r.sched),
                esc(name),
                p.count,
                p.count
            );
            for (_, v) in p.labelled() {
                let _ = write!(
                    s,
                    "<td class=\"num\" data-v=\"{v}\">{}</td>",
                    format_ns(v as f64)
                );
            }
            s.push_str("</tr>\n");
        }
    }
    if s.is_empty() {
        return s;
    }
    format!(
        "<div class=\"scroll\"><table class=\"sortable\" id=\"latency-table\">\n<thead><tr>\
         <th>benchmark</th><th>sched</th><th>latency</th><th>count</th><th>p50</th><th>p90</th>\
         <th>p99</th><th>p99.9</th><th>max</th></tr></thead>\n<tbody>\n{s}</tbody></table></div>\n"
    )
}

/// The [`EXPLAINING`] counters per op of a workload's rows that have any of them.
fn counters_table(res: &Results, bench: &str) -> String {
    let rows: Vec<&Row> = res.rows.iter().filter(|r| r.bench == bench).collect();
    let names: Vec<&str> = EXPLAINING
        .iter()
        .copied()
        .filter(|n| {
            rows.iter()
                .any(|r| r.counters_per_op.get(*n).is_some_and(|v| *v > 0.0))
        })
        .collect();
    if names.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "<details open><summary>counters per op (median run)</summary>\n<div class=\"scroll\"><table class=\"counters\">\n<thead><tr><th>benchmark</th><th>sched</th>",
    );
    for n in &names {
        let _ = write!(s, "<th>{}</th>", esc(&n.replace('_', " ")));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for r in rows.iter().filter(|r| !r.counters_per_op.is_empty()) {
        let _ = write!(
            s,
            "<tr><td class=\"name\">{}</td><td>{}</td>",
            esc(&row_name(&r.go_name, r.procs)),
            esc(&r.sched)
        );
        for n in &names {
            let v = r
                .counters_per_op
                .get(*n)
                .map_or(String::new(), |v| per_op(*v));
            let _ = write!(s, "<td class=\"num\">{v}</td>");
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table></div></details>\n");
    s
}

/// A per-op counter: 0, or three significant figures.
fn per_op(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        let digits = (2 - v.abs().log10().floor() as i32).clamp(0, 8) as usize;
        format!("{v:.digits$}")
    }
}

#[cfg(test)]
mod tests {
    use super::per_op;

    #[test]
    fn per_op_keeps_three_figures() {
        assert_eq!(per_op(0.0), "0");
        assert_eq!(per_op(1.0), "1.00");
        assert_eq!(per_op(0.01234), "0.0123");
        assert_eq!(per_op(12.345), "12.3");
        assert_eq!(per_op(1234.4), "1234");
    }
}
