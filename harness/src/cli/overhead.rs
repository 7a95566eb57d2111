//! `lab overhead`: the lab's figure against the bare loop's (or, with `--trace`, against
//! itself with tracing on), one table.

use super::args::{duration_arg, procs_or_cores, Selection};
use crate::error::LabError;
use crate::measure::plan::Plan;
use crate::measure::progress::Progress;
use crate::output::machine::{self, Machine};
use clap::Args;
use std::time::Duration;

#[derive(Args)]
pub(super) struct OverheadArgs {
    #[command(flatten)]
    select: Selection,
    /// Runs of each side per combination, interleaved (the table shows medians)
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    count: u32,
    /// Aim for a timed round of this length (the lab's ramp; the bare loop takes its N)
    #[arg(long, default_value = "100ms", value_parser = duration_arg)]
    benchtime: Duration,
    /// Measure the execution tracer's cost instead: the lab's figure with tracing on
    /// (keeping --events per M) against the same with it off
    #[arg(long)]
    trace: bool,
    /// Events each M keeps with --trace
    #[arg(long, default_value_t = crate::trace::DEFAULT_EVENTS as u64, value_parser = clap::value_parser!(u64).range(16..=1 << 28), requires = "trace")]
    events: u64,
    /// No progress on stderr
    #[arg(long)]
    quiet: bool,
}

/// `lab overhead`: the lab's figure against the bare loop's (or, with --trace, against
/// itself with tracing on), one table.
pub(super) fn overhead(args: OverheadArgs) -> Result<(), LabError> {
    use crate::measure::overhead::{self, Against};
    let cores = machine::cores();
    let procs = procs_or_cores(args.select.procs, cores);
    let plan = Plan::new(
        &args.select.sched,
        &args.select.bench,
        &[],
        procs,
        args.benchtime,
        args.count as usize,
        cores,
    )?;
    let against = if args.trace {
        Against::Traced {
            events: args.events as usize,
        }
    } else {
        Against::Bare
    };
    let total = plan.measurements() / plan.count * against.steps(plan.count);
    let progress = Progress::new(total as u64, args.quiet);
    let rows = overhead::run(&plan, against, |what| {
        progress.step();
        progress.running(what);
    });
    progress.finish();
    print!(
        "{}",
        overhead::render(
            &rows?,
            against,
            plan.count,
            plan.benchtime,
            &Machine::detect()
        )
    );
    Ok(())
}
