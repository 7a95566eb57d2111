//! `summary.md`: a run folder's front page on a code host: what ran where, the tables, and
//! the charts embedded, workload by workload.

use crate::output::chart::{machine_line, Chart};
use crate::output::machine::Machine;
use crate::output::results::Results;
use crate::output::table;
use std::fmt::Write;

/// The summary of a run, with `charts` (as [`crate::output::chart::draw_all`] returned them).
pub fn render(res: &Results, machine: &Machine, charts: &[Chart]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Run {} ({})\n", res.started, res.label);
    let _ = writeln!(s, "- command: `{}`", res.command);
    let _ = writeln!(s, "- machine: {}", machine_line(machine));
    let _ = writeln!(s, "- kernel: {} ({})", machine.kernel, machine.arch);
    let _ = writeln!(
        s,
        "- benchtime {}, count {} (each figure is the median of the runs, ± the larger distance to min or max)",
        humantime::format_duration(std::time::Duration::from_nanos(res.benchtime_ns)),
        res.count
    );
    if res.work != crate::workloads::LOCAL_WORK {
        let _ = writeln!(
            s,
            "- local work: {} steps in each syscall of the -work workloads (Go's BenchmarkSyscallWork has {})",
            res.work,
            crate::workloads::LOCAL_WORK
        );
    }
    let _ = writeln!(
        s,
        "- columns: {} (the first is the baseline of the deltas)",
        res.columns.join(", ")
    );
    let _ = writeln!(
        s,
        "- deltas: `~` in the table and pale bars in the delta charts mark no significant \
         difference: two-sided Mann-Whitney U test on the runs of the two columns, p >= {} \
         (benchstat's test)\n",
        crate::measure::stats::ALPHA
    );
    let _ = writeln!(s, "## ns/op\n\n```text\n{}```\n", table::render(res));
    let lat = table::render_latency(res);
    if !lat.is_empty() {
        let _ = writeln!(
            s,
            "## Latency percentiles (ns, median run)\n\n```text\n{lat}```\n"
        );
    }
    let _ = writeln!(
        s,
        "Files: `results.json` (every field), `results.csv`, `bench.txt` (benchstat), \
         `machine.json`, `command.txt`; each chart as SVG and PNG; `report.html`, this page \
         for a browser (self-contained: open it from the disk).\n"
    );
    let mut benches: Vec<&str> = Vec::new();
    for c in charts {
        if !benches.contains(&c.bench.as_str()) {
            benches.push(&c.bench);
        }
    }
    for bench in benches {
        let go = res
            .rows
            .iter()
            .find(|r| r.bench == bench)
            .map_or(bench, |r| r.go_name.as_str());
        let about = crate::subjects::registry::workload(bench).map_or("", |w| w.about);
        let _ = writeln!(s, "## {go} (`{bench}`)\n\n{about}\n");
        for c in charts.iter().filter(|c| c.bench == bench) {
            let _ = writeln!(s, "![{}]({})\n", c.what(), c.svg());
        }
    }
    s
}
