//! `lab trace`: one workload traced on each scheduler given, into a run folder (trace.json,
//! the timeline picture, summary.md, figures.json and report.html).

use super::args::{duration_arg, RuntimeArgs, Selection};
use super::command_line;
use crate::error::LabError;
use crate::measure::progress::Progress;
use crate::measure::runner::Settings;
use crate::output::chart;
use crate::output::machine::{self, Machine};
use crate::output::rundir::{self, RunDir};
use clap::Args;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// A `--json-window` value: a duration, or `all`.
#[derive(Clone, Copy, Debug)]
struct JsonWindow(Option<Duration>);

fn json_window_arg(s: &str) -> Result<JsonWindow, String> {
    if s == "all" {
        return Ok(JsonWindow(None));
    }
    duration_arg(s).map(|d| JsonWindow(Some(d)))
}

#[derive(Args)]
pub(super) struct TraceArgs {
    #[command(flatten)]
    select: Selection,
    /// Aim for a timed round of this length (Go's -benchtime); each scheduler runs the
    /// workload twice, tracing off then on
    #[arg(long, default_value = "20ms", value_parser = duration_arg)]
    benchtime: Duration,
    #[command(flatten)]
    runtime: RuntimeArgs,
    /// Events each M keeps (a ring of 32-byte events, allocated when the M is made): the
    /// trace holds the last ones, the end of the ramp
    #[arg(long, default_value_t = crate::trace::DEFAULT_EVENTS as u64, value_parser = clap::value_parser!(u64).range(16..=1 << 28))]
    events: u64,
    /// The timeline's window, in the middle of the part of each trace where every M's record
    /// is complete [default: 8 ops of the slowest traced run, from 200us to 5ms]
    #[arg(long, value_parser = duration_arg)]
    window: Option<Duration>,
    /// The window written into trace.json, in the same place (`all`: each whole trace; a
    /// busy M makes a few million events a second, about 100 bytes of JSON each)
    #[arg(long, default_value = "10ms", value_parser = json_window_arg)]
    json_window: JsonWindow,
    /// Where run folders go
    #[arg(long, default_value = "results")]
    out: PathBuf,
    /// A short label for the run folder's name (letters, digits, . _ -)
    #[arg(long, default_value = "trace")]
    label: String,
    /// No progress on stderr
    #[arg(long)]
    quiet: bool,
    /// A CPU hog gives up (and the run is reported starved) after the others made no
    /// progress for this long
    #[arg(long, default_value = "1s", value_parser = duration_arg)]
    starve_after: Duration,
}

/// `lab trace`: one workload traced on each scheduler given, into a run folder.
pub(super) fn trace(args: TraceArgs) -> Result<(), LabError> {
    use crate::trace::{self as tr, summary as trsum};
    let started = SystemTime::now();
    let cores = machine::cores();
    let procs = args.select.procs.map_or_else(|| vec![cores], |p| p.0);
    let (scheds, bench, procs) = tr::resolve(&args.select.sched, &args.select.bench, &procs)?;
    if !rundir::valid_label(&args.label) {
        return Err(LabError::BadValue(format!(
            "--label {:?} must be letters, digits, '.', '_' or '-' and not start with '.'",
            args.label
        )));
    }
    let io_err = |err| LabError::Io {
        path: args.out.clone(),
        err,
    };
    let dir = RunDir::create(&args.out, started, &args.label).map_err(io_err)?;
    let machine = Machine::detect();
    let command = command_line();
    let settings = Settings {
        starve_after: args.starve_after,
        lock: args.runtime.lock.0,
        work: args.runtime.work,
        ..Settings::new(procs, args.benchtime)
    };
    let opts = tr::Options {
        scheds,
        bench,
        settings,
        events: args.events as usize,
        window: args.window,
        json_window: args.json_window.0,
    };
    let foot = format!("traced on {}", chart::machine_line(&machine));
    let progress = Progress::new(opts.scheds.len() as u64, args.quiet);
    let mut first = true;
    let runs = tr::run(&opts, dir.path(), &foot, |what| {
        if !std::mem::take(&mut first) {
            progress.step();
        }
        progress.running(what);
    });
    progress.finish();
    let runs = runs?;
    let figures = serde_json::json!({
        "bench": bench.name,
        "procs": procs,
        "benchtime_ns": args.benchtime.as_nanos() as u64,
        "events_per_m": opts.events,
        "command": command,
        "schedulers": runs,
    });
    dir.write(
        "figures.json",
        &serde_json::to_string_pretty(&figures).expect("figures serialize"),
    )
    .map_err(io_err)?;
    dir.write(
        "machine.json",
        &serde_json::to_string_pretty(&machine).expect("machine serializes"),
    )
    .map_err(io_err)?;
    dir.write("command.txt", &format!("{command}\n"))
        .map_err(io_err)?;
    let header = trsum::Header {
        bench: bench.name,
        go_name: bench.go_name,
        about: bench.about,
        procs,
        command: &command,
        machine: &chart::machine_line(&machine),
        benchtime: args.benchtime,
        events: opts.events,
        window: runs.first().map_or(Duration::ZERO, |r| {
            Duration::from_nanos(r.timeline_window_ns.1 - r.timeline_window_ns.0)
        }),
        json_window: opts.json_window,
    };
    dir.write("summary.md", &trsum::render(&header, &runs))
        .map_err(io_err)?;
    let started = humantime::format_rfc3339_seconds(started).to_string();
    let page = tr::report::Run {
        started: &started,
        label: &args.label,
        machine: &machine,
    };
    tr::report::write(dir.path(), &header, &page, &runs).map_err(io_err)?;
    let path = dir.commit().map_err(io_err)?;
    print!(
        "{} at procs {procs} (benchtime {})\n{}trace in {}\n",
        bench.name,
        humantime::format_duration(args.benchtime),
        trsum::table(&runs),
        path.display()
    );
    Ok(())
}
