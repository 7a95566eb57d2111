//! `lab run`: measures one combination and prints every counter of the Report and every
//! latency percentile (or the row as JSON).

use super::args::{duration_arg, Format, RuntimeArgs};
use crate::error::LabError;
use crate::measure::plan::Plan;
use crate::measure::ramp::Aim;
use crate::measure::runner::{MemoryFigures, Settings};
use crate::output::machine;
use crate::output::results::Row;
use crate::subjects::registry::{self, Subject};
use crate::subjects::Failure;
use clap::Args;
use std::io::Write;
use std::time::Duration;

#[derive(Args)]
pub(super) struct RunArgs {
    /// The scheduler (or peer)
    #[arg(long)]
    sched: String,
    /// The workload
    #[arg(long)]
    bench: String,
    /// GOMAXPROCS
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=crate::measure::procs::PROCS_LIMIT as i64))]
    procs: u32,
    /// Aim for a timed round of this length (Go's -benchtime), or with `Nx` time exactly N
    /// iterations after the N = 1 round (the same work every run: e.g. to count instructions
    /// per op under valgrind, see harness/profile/instructions.sh)
    #[arg(long, default_value = "250ms", value_parser = aim_arg)]
    benchtime: Aim,
    #[command(flatten)]
    runtime: RuntimeArgs,
    /// Print the scheduler's state this often, in the shape of Go's GODEBUG=schedtrace line
    /// (on stderr, from sysmon or, in 2011, a monitor thread)
    #[arg(long, value_parser = duration_arg)]
    schedtrace: Option<Duration>,
    /// A CPU hog gives up (and the run is reported starved) after the others made no
    /// progress for this long
    #[arg(long, default_value = "1s", value_parser = duration_arg)]
    starve_after: Duration,
    /// What to print on stdout
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

/// `--benchtime` of `lab run`: a duration, or Go's `Nx` for exactly N iterations.
fn aim_arg(s: &str) -> Result<Aim, String> {
    if let Some(times) = s.strip_suffix('x') {
        let n: u64 = times
            .parse()
            .map_err(|e| format!("{e} (expected e.g. 250ms, 1s or 100000x)"))?;
        if n == 0 || n > crate::measure::ramp::MAX_N {
            return Err(format!(
                "Nx takes N from 1 to {}",
                crate::measure::ramp::MAX_N
            ));
        }
        return Ok(Aim::Times(n));
    }
    duration_arg(s).map(Aim::Time)
}

/// `lab run`: one combination, every counter and latency percentile.
pub(super) fn run(args: RunArgs) -> Result<(), LabError> {
    let cores = machine::cores();
    let procs = args.procs as usize;
    let (benchtime, iterations) = match args.benchtime {
        Aim::Time(d) => (d, None),
        // The duration is then unused but by the child peers, which refuse Nx.
        Aim::Times(n) => (Duration::from_millis(250), Some(n)),
    };
    let (scheds, peers) = if registry::peer(&args.sched).is_some() {
        (vec![], vec![args.sched.clone()])
    } else {
        (vec![args.sched.clone()], vec![])
    };
    let plan = Plan::new(
        &scheds,
        std::slice::from_ref(&args.bench),
        &peers,
        vec![procs],
        benchtime,
        1,
        cores,
    )?;
    // A peer alone leaves the plan's schedulers empty, which a plan reads as all of them: the
    // subject is the one named.
    let subject = *plan
        .subjects
        .iter()
        .find(|s| s.name() == args.sched)
        .expect("the plan holds the subject it was given");
    let bench = plan.benches[0];
    let settings = Settings {
        schedtrace: args.schedtrace,
        starve_after: args.starve_after,
        lock: args.runtime.lock.0,
        work: args.runtime.work,
        stack_guard: args.runtime.stack_guard,
        max_goroutines: args.runtime.max_goroutines.map(|n| n as usize),
        iterations,
        ..Settings::new(procs, benchtime)
    };
    let row = match subject.measure(bench, &settings) {
        Ok(m) => Row::measured(subject.name(), subject.is_peer(), bench, procs, cores, &[m]),
        Err(Failure::NotApplicable(why)) => {
            Row::not_applicable(subject.name(), subject.is_peer(), bench, procs, cores, why)
        }
        Err(Failure::Run(err)) => {
            return Err(LabError::Run {
                sched: subject.name().to_string(),
                bench: bench.name.to_string(),
                procs,
                err,
            })
        }
    };
    let mut stdout = std::io::stdout().lock();
    let _ = match args.format {
        Format::Json => writeln!(
            stdout,
            "{}",
            serde_json::to_string_pretty(&row).expect("a row serializes")
        ),
        Format::Table => write!(stdout, "{}", run_report(&row, subject, &settings)),
    };
    Ok(())
}

/// The text `lab run` prints for one row.
fn run_report(row: &Row, subject: Subject, settings: &Settings) -> String {
    use crate::output::benchfmt::{format_ns, row_name};
    let lock = subject
        .lock(settings.lock)
        .map(|k| format!(", runtime lock {k}"))
        .unwrap_or_default();
    let mut s = format!(
        "{} on {} at procs {}{}{lock} (benchtime {})\n",
        row_name(&row.go_name, row.procs),
        row.sched,
        row.procs,
        if row.oversubscribed {
            ", oversubscribed"
        } else {
            ""
        },
        match settings.aim() {
            Aim::Time(d) => humantime::format_duration(d).to_string(),
            Aim::Times(n) => format!("{n}x"),
        }
    );
    if let Some(why) = &row.na {
        s.push_str(&format!("n/a: {why}\n"));
        return s;
    }
    if row.starved {
        s.push_str(&format!(
            "starved: a CPU hog kept its CPU and the others made no progress for {}; {} has no preemption\n",
            humantime::format_duration(settings.starve_after),
            subject.name()
        ));
    } else if let (Some(ns), Some(n)) = (row.ns_per_op, row.iterations) {
        s.push_str(&format!(
            "{} ns/op   ({n} iterations in the timed round)\n",
            format_ns(ns)
        ));
    }
    let rounds: Vec<String> = row.ramp.iter().map(|r| r.n.to_string()).collect();
    s.push_str(&format!(
        "ramp: N = {} ({} ops in all)\n",
        rounds.join(", "),
        row.total_ops.unwrap_or(0)
    ));
    if let Some(m) = &row.memory {
        s.push_str(&memory_report(m));
    }
    if !row.counters.is_empty() {
        s.push_str("\ncounters, over every round        total          per op\n");
        for (k, v) in &row.counters {
            let per = row.counters_per_op.get(k).copied().unwrap_or(0.0);
            s.push_str(&format!("  {k:<28} {v:>12}   {per:>12.6}\n"));
        }
    }
    if !row.latency.is_empty() {
        s.push_str(&format!(
            "\n{:<28} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
            "latency (ns)", "count", "p50", "p90", "p99", "p99.9", "max"
        ));
        for (k, p) in &row.latency {
            let v = p.labelled().map(|(_, v)| format_ns(v as f64));
            s.push_str(&format!(
                "  {k:<26} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
                p.count, v[0], v[1], v[2], v[3], v[4]
            ));
        }
    }
    s
}

/// `lab run`'s memory lines: the process's resident set (process-wide: the lab's own included,
/// which the start figure is) and what it comes to per goroutine alive at the peak.
fn memory_report(m: &MemoryFigures) -> String {
    use schedcore::memory::fmt_bytes;
    let mut s = format!(
        "memory: peak RSS {} ({} at the start, process-wide)",
        fmt_bytes(m.rss_peak_bytes),
        fmt_bytes(m.rss_start_bytes)
    );
    if let Some(g) = m.peak_goroutines {
        s.push_str(&format!(", {g} goroutines alive at the peak"));
    }
    if let Some(st) = m.stacks_mapped {
        s.push_str(&format!(", {st} stacks mapped"));
    }
    s.push('\n');
    if let Some(per) = m.rss_per_goroutine_bytes {
        s.push_str(&format!(
            "        {} RSS per live goroutine (peak minus start, over the goroutines alive at the peak)\n",
            fmt_bytes(per.round() as u64)
        ));
    }
    s
}
