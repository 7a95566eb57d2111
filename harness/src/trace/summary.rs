//! What `lab trace` prints and its run folder's `summary.md`: per scheduler, ns/op with
//! tracing on and off, the scheduling latency percentiles, migrations and hand-offs per op,
//! and each M's time split; the timeline picture embedded. The cells and sentences are made
//! once here ([`row`], [`latency_rows`], [`split_rows`], [`notes`], [`sched_lines`]) and
//! rendered as text, markdown, and HTML by [`super::report`].

use super::figures::{cause, Split};
use super::SchedTrace;
use crate::output::benchfmt::format_ns;
use std::fmt::Write;

/// What the summary says of the run as a whole.
pub struct Header<'a> {
    pub bench: &'a str,
    pub go_name: &'a str,
    pub about: &'a str,
    pub procs: usize,
    pub command: &'a str,
    pub machine: &'a str,
    pub benchtime: std::time::Duration,
    pub events: usize,
    /// The timeline's window (the same for every scheduler).
    pub window: std::time::Duration,
    pub json_window: Option<std::time::Duration>,
}

fn opt_ns(x: Option<f64>) -> String {
    x.map_or("-".into(), format_ns)
}

/// A rate per op: three decimals, or three significant digits below 0.001.
fn opt_rate(x: Option<f64>) -> String {
    match x {
        None => "-".into(),
        Some(0.0) => "0".into(),
        Some(v) if v < 0.001 => format!("{v:.2e}"),
        Some(v) => format!("{v:.3}"),
    }
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

/// The columns of [`table`] (and of report.html's table of schedulers).
pub const COLUMNS: [&str; 14] = [
    "scheduler",
    "ns/op off",
    "ns/op on",
    "on/off",
    "lat p50",
    "lat p99",
    "lat max",
    "migr/op",
    "hand/op",
    "run",
    "sys",
    "sched",
    "spin",
    "sleep",
];

/// What [`COLUMNS`] mean.
pub const COLUMNS_NOTE: &str = "ns/op off and on: one run each, tracing off then on; lat: scheduling latency, runnable to running, ns; \
     migr/op: starts on another M than the goroutine's last; hand/op: unblocks whose goroutine started on \
     another M than the unblocker's; run..sleep: the M's time, sysmon's left out";

/// One scheduler's cells, in the order of [`COLUMNS`].
pub fn row(r: &SchedTrace) -> [String; 14] {
    let f = &r.figures;
    let ratio = match (r.ns_per_op_traced, r.ns_per_op_untraced) {
        (Some(on), Some(off)) if off > 0.0 => format!("{:.2}", on / off),
        _ => "-".into(),
    };
    let lat = |p: fn(&crate::measure::stats::Percentiles) -> u64| {
        f.latency.as_ref().map_or("-".into(), |l| p(l).to_string())
    };
    let t = &f.total;
    let whole = t.total();
    [
        r.sched.clone(),
        opt_ns(r.ns_per_op_untraced),
        opt_ns(r.ns_per_op_traced),
        ratio,
        lat(|l| l.p50),
        lat(|l| l.p99),
        lat(|l| l.max),
        opt_rate(f.migrations_per_op),
        opt_rate(f.handoffs_per_op),
        pct(t.running, whole),
        pct(t.syscall, whole),
        pct(t.sched, whole),
        pct(t.spinning, whole),
        pct(t.asleep, whole),
    ]
}

/// The table of every scheduler, one row each (also what `lab trace` prints).
pub fn table(runs: &[SchedTrace]) -> String {
    let line = |c: &[String]| {
        format!(
            "{:<17} {:>10} {:>10} {:>7}  {:>9} {:>9} {:>9}  {:>8} {:>9}  {:>7} {:>7} {:>7} {:>7} {:>7}\n",
            c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13]
        )
    };
    let mut s = line(&COLUMNS.map(String::from));
    for r in runs {
        s.push_str(&line(&row(r)));
    }
    let _ = writeln!(s, "({COLUMNS_NOTE})");
    s
}

/// A row of a scheduler's smaller tables: its name and cells; `total`: the row that sums or
/// takes all the others (bold in summary.md).
pub struct Row {
    pub name: String,
    pub total: bool,
    pub cells: Vec<String>,
}

/// The columns of [`split_rows`].
pub const SPLIT_COLUMNS: [&str; 8] = [
    "M",
    "time (us)",
    "running",
    "syscall",
    "scheduler",
    "spinning",
    "asleep",
    "unknown",
];

/// Each M's time split of one scheduler: its length in us, then each activity's share; the
/// total of all but sysmon last.
pub fn split_rows(r: &SchedTrace) -> Vec<Row> {
    let row = |name: String, total: bool, ns: &Split| {
        let whole = ns.total();
        let mut cells = vec![format!("{:.1}", whole as f64 / 1000.0)];
        cells.extend(ns.labelled().iter().map(|(_, v)| pct(*v, whole)));
        Row { name, total, cells }
    };
    let mut rows: Vec<Row> = r
        .figures
        .split
        .iter()
        .map(|m| {
            let name = if m.sysmon {
                format!("{} (not in the total)", m.name)
            } else {
                m.name.clone()
            };
            row(name, false, &m.ns)
        })
        .collect();
    rows.push(row("all but sysmon".into(), true, &r.figures.total));
    rows
}

/// The columns of [`latency_rows`].
pub const LATENCY_COLUMNS: [&str; 6] = ["runnable by", "starts", "p50", "p90", "p99", "max"];

/// What [`latency_rows`] says when there are none.
pub const NO_LATENCY: &str = "No start in the window has its cause in the trace.";

/// The scheduling latency percentiles of one scheduler, overall (first) and by cause; `None`
/// when no start in the window has its cause in the trace.
pub fn latency_rows(r: &SchedTrace) -> Option<Vec<Row>> {
    let f = &r.figures;
    let all = f.latency.as_ref()?;
    let row = |name: &str, total: bool, p: &crate::measure::stats::Percentiles| Row {
        name: name.to_string(),
        total,
        cells: [p.count, p.p50, p.p90, p.p99, p.max]
            .iter()
            .map(u64::to_string)
            .collect(),
    };
    let mut rows = vec![row("any", true, all)];
    for ev in [
        schedcore::trace::Ev::GoUnblock,
        schedcore::trace::Ev::GoCreate,
        schedcore::trace::Ev::GoSched,
        schedcore::trace::Ev::GoPreempt,
        schedcore::trace::Ev::GoSysExit,
    ] {
        if let Some(p) = f.latency_by_cause.get(cause(ev)) {
            rows.push(row(cause(ev), false, p));
        }
    }
    Some(rows)
}

/// A markdown table: the first column left, the others right-aligned, total rows bold.
fn md_table(columns: &[&str], rows: &[Row]) -> String {
    let mut s = format!("| {} |\n| ---", columns.join(" | "));
    for _ in 1..columns.len() {
        s.push_str(" | ---:");
    }
    s.push_str(" |\n");
    for r in rows {
        let name = if r.total {
            format!("**{}**", r.name)
        } else {
            r.name.clone()
        };
        let _ = writeln!(s, "| {name} | {} |", r.cells.join(" | "));
    }
    s
}

/// The run as a whole, in sentences: how it ran, what the figures cover, what the timeline
/// shows and what trace.json holds (summary.md's list, report.html's facts).
pub struct Notes {
    pub runs: String,
    pub figures: &'static str,
    pub timeline: String,
    pub json: String,
}

/// The [`Notes`] of a run.
pub fn notes(h: &Header) -> Notes {
    Notes {
        runs: format!(
            "benchtime {}; each scheduler ran the workload twice, tracing off and then on, keeping the last {} events of every M",
            humantime::format_duration(h.benchtime),
            h.events
        ),
        figures: "over the ramp's last round of the traced run (where the clock around it places it in the trace), or the part of it the rings hold (each ring keeps its M's last events); per op: the round's N times the share of the round covered",
        timeline: format!(
            "a window of {} of that round with as many goroutine starts as the median window of its length",
            humantime::format_duration(h.window)
        ),
        json: h.json_window.map_or("each whole trace".into(), |w| {
            format!(
                "a window of {} around the timeline's",
                humantime::format_duration(w)
            )
        }),
    }
}

/// What a scheduler's section says before its tables: ns/op, the trace's size and the
/// figures' span, the counts behind the rates.
pub fn sched_lines(r: &SchedTrace) -> [String; 3] {
    let f = &r.figures;
    let ratio = match (r.ns_per_op_traced, r.ns_per_op_untraced) {
        (Some(on), Some(off)) if off > 0.0 => format!(" ({:.2}x)", on / off),
        _ => String::new(),
    };
    [
        format!(
            "ns/op: {} traced, {} untraced{ratio}{}",
            opt_ns(r.ns_per_op_traced),
            opt_ns(r.ns_per_op_untraced),
            if r.starved {
                "; the traced run starved (a hog kept its CPU)"
            } else {
                ""
            }
        ),
        format!(
            "trace: {} M's, {} events kept, {} overwritten; {:.1} ms long; figures over {:.1}..{:.1} ms ({:.2} ms): {}",
            r.ms,
            r.events,
            r.lost,
            r.span_ns as f64 / 1e6,
            f.from_ns as f64 / 1e6,
            f.to_ns as f64 / 1e6,
            (f.to_ns - f.from_ns) as f64 / 1e6,
            r.figures_over
        ),
        format!(
            "{} goroutine starts ({} without their cause in the trace), {} migrations ({} per op), {} unblocks, {} hand-offs ({} per op), {} ops",
            f.starts,
            f.starts_without_cause,
            f.migrations,
            opt_rate(f.migrations_per_op),
            f.unblocks,
            f.handoffs,
            opt_rate(f.handoffs_per_op),
            f.ops.map_or("-".into(), |o| format!("{o:.0}"))
        ),
    ]
}

/// `summary.md`.
pub fn render(h: &Header, runs: &[SchedTrace]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Trace: {} (`{}`) at procs {}\n",
        h.go_name, h.bench, h.procs
    );
    let _ = writeln!(s, "{}\n", h.about);
    let _ = writeln!(s, "- command: `{}`", h.command);
    let _ = writeln!(s, "- machine: {}", h.machine);
    let n = notes(h);
    let _ = writeln!(s, "- {}", n.runs);
    let _ = writeln!(s, "- figures: {}", n.figures);
    let _ = writeln!(
        s,
        "- `trace.json` (open it in https://ui.perfetto.dev or chrome://tracing): {}; the timeline: {}\n",
        n.json, n.timeline
    );
    let _ = writeln!(s, "```text\n{}```\n", table(runs));
    let _ = writeln!(s, "![timeline](timeline.svg)\n");
    for r in runs {
        let _ = writeln!(s, "## {} ({} lock)\n", r.sched, r.lock);
        for line in sched_lines(r) {
            let _ = writeln!(s, "- {line}");
        }
        s.push('\n');
        let latency = latency_rows(r).map_or(format!("{NO_LATENCY}\n"), |rows| {
            md_table(&LATENCY_COLUMNS, &rows)
        });
        let _ = writeln!(
            s,
            "Scheduling latency (runnable to running, ns):\n\n{latency}"
        );
        let _ = writeln!(
            s,
            "Each M's time:\n\n{}",
            md_table(&SPLIT_COLUMNS, &split_rows(r))
        );
    }
    let _ = writeln!(
        s,
        "Files: `report.html` (all of this for a browser, the timeline inline: open it from the disk), `trace.json` (Chrome trace-event format), `timeline.svg` and `timeline.png`, `figures.json` (every figure above), `machine.json`, `command.txt`."
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::figures::compute;
    use crate::trace::lanes::Lanes;
    use crate::trace::starts::starts;
    use crate::trace::testing::{ev, m_trace, trace};
    use crate::trace::timeline::Panel;
    use schedcore::trace::Ev;

    fn one() -> SchedTrace {
        let t = trace(vec![
            m_trace(
                0,
                0,
                vec![
                    ev(0, Ev::GoStart, 1, 0),
                    ev(10, Ev::GoUnblock, 2, 1),
                    ev(20, Ev::GoBlock, 1, 0),
                ],
            ),
            m_trace(
                1,
                0,
                vec![ev(30, Ev::GoStart, 2, 0), ev(40, Ev::GoEnd, 2, 0)],
            ),
        ]);
        let lanes = Lanes::build(&t);
        let st = starts(&t);
        SchedTrace {
            sched: "2013".into(),
            lock: "spin".into(),
            ns_per_op_traced: Some(20.0),
            ns_per_op_untraced: Some(10.0),
            iterations: 2,
            starved: false,
            ms: 2,
            events: 5,
            lost: 0,
            span_ns: 40,
            figures: compute(&t, &lanes, &st, 0, 40, Some(2.0)),
            figures_over: "the last round".into(),
            json_window_ns: (0, 40),
            timeline_window_ns: (0, 40),
            panel: Panel::new("x".into(), &lanes, (0, 40)),
            start_ts: vec![],
        }
    }

    #[test]
    fn rates_keep_their_digits() {
        assert_eq!(opt_rate(None), "-");
        assert_eq!(opt_rate(Some(0.0)), "0");
        assert_eq!(opt_rate(Some(1.8856)), "1.886");
        assert_eq!(opt_rate(Some(1.234e-5)), "1.23e-5");
    }

    #[test]
    fn the_table_has_a_row_per_scheduler_with_its_figures() {
        let t = table(&[one()]);
        let row = t.lines().nth(1).unwrap();
        assert!(row.starts_with("2013"), "{row}");
        // on/off 2.00, one hand-off in 2 ops, latency 20 ns.
        assert!(row.contains("2.00"), "{row}");
        assert!(row.contains("0.500"), "{row}");
        assert!(row.contains(" 20 "), "{row}");
    }

    #[test]
    fn the_summary_embeds_the_timeline_and_a_section_per_scheduler() {
        let h = Header {
            bench: "ping-pong",
            go_name: "BenchmarkPingPong",
            about: "about",
            procs: 2,
            command: "lab trace",
            machine: "a machine",
            benchtime: std::time::Duration::from_millis(20),
            events: 1024,
            window: std::time::Duration::from_micros(200),
            json_window: None,
        };
        let s = render(&h, &[one()]);
        assert!(s.contains("![timeline](timeline.svg)"));
        assert!(s.contains("## 2013 (spin lock)"));
        assert!(s.contains("| **any** | 1 |"));
        // M0 runs 20 of its 40 ns, M1 10 of 10: 60% of 50 ns running, 40% scheduling.
        assert!(
            s.contains("| **all but sysmon** | 0.1 | 60.0% | 0.0% | 40.0% |"),
            "{s}"
        );
        assert!(s.contains("(2.00x)"));
    }
}
