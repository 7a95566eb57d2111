//! `lab compare`: measures every combination of the plan, prints the table (or the JSON) and
//! writes a run folder under `results/` (results, bench.txt, machine, charts, summary.md,
//! report.html).

use super::args::{duration_arg, procs_or_cores, Format, RuntimeArgs, Selection};
use super::command_line;
use crate::error::LabError;
use crate::measure::plan::Plan;
use crate::measure::progress::Progress;
use crate::output::chart;
use crate::output::machine::{self, Machine};
use crate::output::report;
use crate::output::results::Results;
use crate::output::rundir::{self, RunDir};
use crate::output::summary;
use crate::output::table;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

#[derive(Args)]
pub(super) struct CompareArgs {
    #[command(flatten)]
    select: Selection,
    /// Aim for a timed round of this length (Go's -benchtime). The default keeps `lab compare`
    /// with no arguments to a few minutes: 5 runs of 130 combinations, a ramp costing about 3-4
    /// benchtimes, plus 1 s per starved combination (2 min 48 s measured on a quiet 2-core VM)
    #[arg(long, default_value = "60ms", value_parser = duration_arg)]
    benchtime: Duration,
    /// Runs of each combination, each in a fresh runtime; the table shows the median, and a
    /// delta is `~` unless the Mann-Whitney U test on the runs gives p < 0.05, which takes 4
    /// runs at least (5: p = 0.008 when the two columns do not overlap)
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    count: u32,
    #[command(flatten)]
    runtime: RuntimeArgs,
    /// Peers measured as extra columns, comma-separated (e.g. floor, go, or the real releases
    /// go1.0.3, go1.1.2, go1.4.3, go2011-before, go2011-cl built from --go-src; `lab list`)
    #[arg(long, value_delimiter = ',')]
    peers: Vec<String>,
    /// The folder of Go source archives the release peers are built from (once, cached under
    /// target/gohist/; `lab history list` names the files) [default: $LAB_GO_SRC]
    #[arg(long, value_name = "DIR")]
    go_src: Option<PathBuf>,
    /// What to print on stdout
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Where run folders go
    #[arg(long, default_value = "results")]
    out: PathBuf,
    /// A short label for the run folder's name (letters, digits, . _ -)
    #[arg(long, default_value = "compare")]
    label: String,
    /// No progress on stderr
    #[arg(long)]
    quiet: bool,
    /// A CPU hog gives up (and the run is reported starved) after the others made no
    /// progress for this long
    #[arg(long, default_value = "1s", value_parser = duration_arg)]
    starve_after: Duration,
}

pub(super) fn compare(args: CompareArgs) -> Result<(), LabError> {
    let started = SystemTime::now();
    let cores = machine::cores();
    let procs = procs_or_cores(args.select.procs, cores);
    if !rundir::valid_label(&args.label) {
        return Err(LabError::BadValue(format!(
            "--label {:?} must be letters, digits, '.', '_' or '-' and not start with '.'",
            args.label
        )));
    }
    let mut plan = Plan::new(
        &args.select.sched,
        &args.select.bench,
        &args.peers,
        procs,
        args.benchtime,
        args.count as usize,
        cores,
    )?;
    plan.starve_after = args.starve_after;
    plan.lock = args.runtime.lock.0;
    plan.work = args.runtime.work;
    plan.stack_guard = args.runtime.stack_guard;
    plan.max_goroutines = args.runtime.max_goroutines.map(|n| n as usize);
    let io_err = |err| LabError::Io {
        path: args.out.clone(),
        err,
    };
    // Made before the first measurement, so an unwritable folder fails at once.
    let dir = RunDir::create(&args.out, started, &args.label).map_err(io_err)?;
    if let Some(dir) = &args.go_src {
        crate::subjects::history::archive::set_source_dir(dir.clone());
    }
    let mut machine = Machine::detect();
    // Builds the go peer (or says once how to install Go) before the progress bar starts.
    machine.peers = crate::subjects::peers::versions(&args.peers);
    let command = command_line();

    let progress = Progress::new(plan.measurements() as u64, args.quiet);
    let rows = plan.run(&progress);
    progress.finish();
    let rows = rows?;

    let results = Results {
        started: humantime::format_rfc3339_seconds(started).to_string(),
        label: args.label.clone(),
        command,
        benchtime_ns: plan.benchtime.as_nanos() as u64,
        starve_after_ns: plan.starve_after.as_nanos() as u64,
        count: plan.count,
        columns: plan.columns(),
        locks: plan.locks(),
        work: plan.work,
        machine,
        rows,
    };
    let json = results.to_json();
    results.write_data(&dir).map_err(io_err)?;
    let charts =
        chart::draw_all(&results, &results.machine, dir.path()).map_err(LabError::Chart)?;
    dir.write(
        "summary.md",
        &summary::render(&results, &results.machine, &charts),
    )
    .map_err(io_err)?;
    report::write(dir.path(), &results, &results.machine, &charts).map_err(io_err)?;
    let path = dir.commit().map_err(io_err)?;

    let mut stdout = std::io::stdout().lock();
    let _ = match args.format {
        Format::Table => {
            let lat = table::render_latency(&results);
            let lat = if lat.is_empty() {
                lat
            } else {
                format!("\nlatency percentiles (ns, median run):\n{lat}")
            };
            write!(
                stdout,
                "{}{lat}\nresults in {}\n",
                table::render(&results),
                path.display()
            )
        }
        Format::Json => {
            if !args.quiet {
                eprintln!("results in {}", path.display());
            }
            writeln!(stdout, "{json}")
        }
    };
    Ok(())
}
