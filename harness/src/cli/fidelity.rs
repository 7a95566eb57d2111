//! `lab fidelity`: every port beside its real ancestor in one interleaved run, and what the
//! figures say of the port's fidelity (see `measure/fidelity.rs`), into a run folder.

use super::args::{duration_arg, procs_arg, procs_or_cores, ProcsList};
use super::command_line;
use crate::error::LabError;
use crate::measure::fidelity::{self, FidelityPlan, PAIRS};
use crate::measure::progress::Progress;
use crate::output::chart;
use crate::output::fidelity as out;
use crate::output::machine::{self, Machine};
use crate::output::results::Results;
use crate::output::rundir::{self, RunDir};
use crate::subjects::history::archive;
use clap::Args;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

#[derive(Args)]
pub(super) struct FidelityArgs {
    /// Workloads, comma-separated [default: the core set]; those no pair shares are left out
    /// and named
    #[arg(long, value_delimiter = ',')]
    bench: Vec<String>,
    /// GOMAXPROCS values: ranges and lists, e.g. 1..4 or 1,2 [default: 1..<cores>]
    #[arg(long, value_parser = procs_arg)]
    procs: Option<ProcsList>,
    /// Aim for a timed round of this length, on both sides (a release's own benchmark gets it
    /// as -test.benchtime, in its dialect)
    #[arg(long, default_value = "60ms", value_parser = duration_arg)]
    benchtime: Duration,
    /// Runs of each column, each in a fresh runtime or process, interleaved; a delta counts
    /// only where the Mann-Whitney U test on them gives p < 0.05 on both sides, which takes 4
    /// runs at least
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    count: u32,
    /// Steps of local work in each syscall of the -work workloads; a release's own
    /// BenchmarkSyscallWork has 100 and cannot take another
    #[arg(long, default_value_t = crate::workloads::LOCAL_WORK)]
    work: u64,
    /// The folder of Go source archives the releases are built from (once, cached under
    /// target/gohist/; `lab history list` names the files) [default: $LAB_GO_SRC]
    #[arg(long, value_name = "DIR")]
    go_src: Option<PathBuf>,
    /// Where run folders go
    #[arg(long, default_value = "results")]
    out: PathBuf,
    /// A short label for the run folder's name (letters, digits, . _ -)
    #[arg(long, default_value = "fidelity")]
    label: String,
    /// After the run, profile each release of every release-to-release step under perf (one
    /// run per release, workload and procs) and split each real delta by runtime subsystem
    /// (needs perf: Debian's linux-perf)
    #[arg(long)]
    profile: bool,
    /// No progress on stderr
    #[arg(long)]
    quiet: bool,
}

pub(super) fn fidelity(args: FidelityArgs) -> Result<(), LabError> {
    let started = SystemTime::now();
    let cores = machine::cores();
    let procs = procs_or_cores(args.procs, cores);
    if !rundir::valid_label(&args.label) {
        return Err(LabError::BadValue(format!(
            "--label {:?} must be letters, digits, '.', '_' or '-' and not start with '.'",
            args.label
        )));
    }
    // Without the archives there is nothing real to set a port beside: say so at once.
    let src = archive::source_dir(args.go_src.as_deref())?;
    if args.profile {
        crate::subjects::history::profile::perf().map_err(LabError::BadValue)?;
    }
    archive::set_source_dir(src);
    let plan = FidelityPlan::new(
        &args.bench,
        procs,
        args.benchtime,
        args.count as usize,
        cores,
        args.work,
    )?;
    let io_err = |err| LabError::Io {
        path: args.out.clone(),
        err,
    };
    let dir = RunDir::create(&args.out, started, &args.label).map_err(io_err)?;
    let mut machine = Machine::detect();
    // Builds every release (or says why one cannot be had) before the progress bar starts.
    let releases: Vec<String> = PAIRS.iter().map(|p| p.real.to_string()).collect();
    machine.peers = crate::subjects::peers::versions(&releases);
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
        starve_after_ns: crate::workloads::DEFAULT_STARVE_AFTER.as_nanos() as u64,
        count: plan.count,
        columns: fidelity::columns(),
        locks: fidelity::locks(),
        work: plan.work,
        machine,
        rows,
    };
    let mut f = fidelity::analyse(
        &results.rows,
        &results.machine.cpu_model,
        cores,
        &plan.left_out,
    );
    if args.profile {
        let bar = Progress::new(0, args.quiet);
        f.splits = fidelity::split(&results.rows, &plan, |what| bar.running(what))
            .map_err(LabError::BadValue)?;
        bar.finish();
    }
    results.write_data(&dir).map_err(io_err)?;
    dir.write(
        "fidelity.json",
        &serde_json::to_string_pretty(&f).expect("fidelity serializes"),
    )
    .map_err(io_err)?;
    let pairs: Vec<(&str, &str)> = PAIRS.iter().map(|p| (p.column, p.real)).collect();
    let charts = chart::draw_pairs(&results, &results.machine, dir.path(), &pairs)
        .map_err(LabError::Chart)?;
    dir.write(
        "summary.md",
        &out::render_md(&f, &results, &results.machine, &charts),
    )
    .map_err(io_err)?;
    let svgs = charts
        .iter()
        .map(|c| std::fs::read_to_string(dir.path().join(c.svg())))
        .collect::<std::io::Result<Vec<String>>>()
        .map_err(io_err)?;
    let drawn: Vec<(&chart::Chart, &str)> =
        charts.iter().zip(svgs.iter().map(String::as_str)).collect();
    dir.write(
        "report.html",
        &out::render_html(&f, &results, &results.machine, &drawn),
    )
    .map_err(io_err)?;
    let path = dir.commit().map_err(io_err)?;
    print!("{}", out::render_text(&f));
    println!(
        "\nresults in {} (report.html to open in a browser)",
        path.display()
    );
    Ok(())
}
