//! The `lab` command line, one module per subcommand (`args` holds the arguments several
//! share); `bin/lab.rs` calls [`main`].
//!
//! `lab list` prints what the registry holds; `lab compare` measures every combination, prints
//! the table (or the JSON) and writes a run folder under `results/` (data, charts, summary.md,
//! report.html);
//! `lab run` measures one combination and prints every counter and latency percentile;
//! `lab plot` redraws a saved run's charts, summary and report.html; `lab report` puts several
//! run folders on one page; `lab history` builds the real historical Go releases and runs
//! their own runtime benchmarks. Every error is one line on stderr and exit code 2.

mod args;
mod check_go;
mod compare;
mod fidelity;
mod history;
mod list;
mod overhead;
mod plot;
mod pool;
mod report;
mod run;
mod trace;

use crate::subjects::peers::child;
use crate::subjects::registry;
use check_go::CheckGoArgs;
use clap::{Parser, Subcommand};
use compare::CompareArgs;
use history::HistoryArgs;
use overhead::OverheadArgs;
use plot::PlotArgs;
use pool::PoolArgs;
use report::ReportArgs;
use run::RunArgs;
use std::process::ExitCode;
use trace::TraceArgs;

#[derive(Parser)]
#[command(
    name = "lab",
    version,
    about = "Three generations of the Go scheduler, side by side"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Measure workloads on schedulers (and peers), print the table in the seed's shape, and
    /// write a run folder (results, bench.txt, machine, charts, summary.md, report.html).
    Compare(CompareArgs),
    /// Measure one workload on one scheduler (or peer) and print every counter of the Report
    /// and every latency percentile.
    Run(RunArgs),
    /// Redraw the charts, summary.md and report.html of a saved run folder from its
    /// results.json and machine.json.
    Plot(PlotArgs),
    /// Put several run folders (typically from different machines) on one HTML page: a column
    /// group per run, rows matched by workload, scheduler and procs, and for every delta
    /// between neighbouring generations whether it holds on every run, on some, or flips.
    Report(ReportArgs),
    /// List the schedulers, workloads and peers.
    List,
    /// Pool the runs of two builds of the lab: a folder of `lab compare --format json` outputs,
    /// old.*.json from one binary and new.*.json from the other (harness/profile/ab.sh runs
    /// them alternately and writes it); per combination the two medians, new/old and the
    /// Mann-Whitney U test on the pools
    Pool(PoolArgs),
    /// Check the go peer against `go test` on the same Go: every lab workload that Go's
    /// runtime tests have as a benchmark (and ping-pong against a plain testing.B loop), both
    /// measured in one run, interleaved, with the ratio of their medians.
    CheckGo(CheckGoArgs),
    /// The harness's own overhead: each core workload as the lab measures it beside the same
    /// loop written by hand on the scheduler (no ramp, no B, no histograms, no watchdog), with
    /// the same N, in one run, interleaved, with the ratio of their medians.
    Overhead(OverheadArgs),
    /// Run one workload with the execution tracer on, on one or more schedulers, and write a
    /// run folder: trace.json (Chrome trace-event format: Perfetto, chrome://tracing), a
    /// timeline picture of each scheduler one above the other (timeline.svg, .png), and the
    /// figures a trace gives (scheduling latency, each M's time split, migrations and
    /// hand-offs per op) in summary.md and figures.json.
    Trace(TraceArgs),
    /// The real historical Go runtimes (Go 1.0.3, 1.1.2, 1.4.3 and the July-2011 pair around
    /// CL 4723042), built from their source archives (--go-src DIR or LAB_GO_SRC) and cached
    /// under target/gohist/: `list` what is there, `build` them, `bench` their own runtime
    /// benchmarks.
    History(HistoryArgs),
    /// Every port beside its real ancestor, built from source (--go-src DIR or LAB_GO_SRC), in
    /// one interleaved run: 2011-lock and 2011 against the July-2011 trees either side of CL
    /// 4723042 (the seed's own table, on futex2011), 2011 against Go 1.0.3 (on spin), 2013
    /// against Go 1.1.2, 2014 against Go 1.4.3; per cell the port/real ratio, per workload the
    /// shape across procs, and every release-to-release delta beside history's, with a
    /// summary on top; a run folder with fidelity.json, summary.md, report.html and a chart
    /// per workload.
    Fidelity(fidelity::FidelityArgs),
}

/// `lab`'s `main`: a peer's child (see [`child::main_if_child`]) or the command line; an
/// error is one line on stderr and exit code 2, an internal error (a panic) exit code 101.
pub fn main() -> ExitCode {
    // A peer's child process (the may peer runs one per measurement), not the command line.
    if let Some(code) = child::main_if_child(registry::workload) {
        return code;
    }
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help, --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("lab: {}", one_line(&e));
            return ExitCode::from(2);
        }
    };
    let result = std::panic::catch_unwind(|| match cli.cmd {
        Cmd::List => {
            list::list();
            Ok(())
        }
        Cmd::Compare(args) => compare::compare(args),
        Cmd::Run(args) => run::run(args),
        Cmd::Plot(args) => plot::plot(&args.run_dir),
        Cmd::Report(args) => report::report(args),
        Cmd::Pool(args) => pool::pool(&args.dir),
        Cmd::CheckGo(args) => check_go::check_go(args),
        Cmd::Overhead(args) => overhead::overhead(args),
        Cmd::Trace(args) => trace::trace(args),
        Cmd::History(args) => history::history(args),
        Cmd::Fidelity(args) => fidelity::fidelity(args),
    });
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("lab: {e}");
            ExitCode::from(2)
        }
        Err(_) => {
            let msg = LAST_PANIC.lock().ok().and_then(|m| m.clone());
            eprintln!(
                "lab: internal error: {}",
                msg.unwrap_or_else(|| "panic".into())
            );
            ExitCode::from(101)
        }
    }
}

/// A clap error as one line: its message and hints (possible values, a similar name), without
/// the usage block and the pointer to --help.
fn one_line(e: &clap::Error) -> String {
    if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return "a command is needed: compare, run, trace, plot, report, list or history (see lab --help)"
            .into();
    }
    let text = e.render().to_string();
    let parts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect();
    let line = parts.join("; ");
    line.strip_prefix("error: ").unwrap_or(&line).to_string()
}

/// The last panic's message and place, for the one-line internal error.
static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Panics inside goroutines come back as `RunError::Panic` and are printed as one line by
/// `main`; the default hook would print each one first, with a thread name and a note about
/// backtraces. With RUST_BACKTRACE set, the default hook stays, for debugging.
fn install_panic_hook() {
    if std::env::var_os("RUST_BACKTRACE").is_some() {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        let msg = match info.payload().downcast_ref::<&str>() {
            Some(s) => s.to_string(),
            None => info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "panic".into()),
        };
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if let Ok(mut m) = LAST_PANIC.lock() {
            *m = Some(format!("{msg}{place}"));
        }
    }));
}

/// The command line as typed, quoted for a POSIX shell where needed.
fn command_line() -> String {
    std::env::args()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c));
            if plain {
                a
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
