//! `lab check-go`: the go peer against `go test` on the same Go, one table.

use super::args::{duration_arg, procs_arg, procs_or_cores, ProcsList};
use crate::error::LabError;
use crate::measure::progress::Progress;
use crate::output::machine;
use clap::Args;
use std::time::Duration;

#[derive(Args)]
pub(super) struct CheckGoArgs {
    /// GOMAXPROCS values [default: 1..<cores>]
    #[arg(long, value_parser = procs_arg)]
    procs: Option<ProcsList>,
    /// Runs of each side per benchmark and procs (the table shows medians)
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    count: u32,
    /// Aim for a timed round of this length, on both sides
    #[arg(long, default_value = "200ms", value_parser = duration_arg)]
    benchtime: Duration,
    /// No progress on stderr
    #[arg(long)]
    quiet: bool,
}

/// `lab check-go`: the go peer against `go test`, one table.
pub(super) fn check_go(args: CheckGoArgs) -> Result<(), LabError> {
    use crate::measure::checkgo;
    let procs = procs_or_cores(args.procs, machine::cores());
    let version = crate::subjects::peers::go::version()
        .ok_or_else(|| LabError::BadValue("check-go needs Go on PATH (see lab list)".into()))?;
    let total = checkgo::PAIRS.len() * procs.len() * args.count as usize;
    let progress = Progress::new(total as u64, args.quiet);
    let checks = checkgo::check(&procs, args.count as usize, args.benchtime, |what| {
        progress.step();
        progress.running(what);
    });
    progress.finish();
    let checks = checks.map_err(LabError::BadValue)?;
    print!("{}", checkgo::render(&checks, &version));
    Ok(())
}
