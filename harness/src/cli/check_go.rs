//! `lab check-go`: the go peer against `go test` on the same Go, one table; with `--release`,
//! each historical release's build of the program against its own runtime benchmarks.

use super::args::{duration_arg, procs_arg, procs_or_cores, ProcsList};
use crate::error::LabError;
use crate::measure::progress::Progress;
use crate::output::machine;
use clap::Args;
use std::path::PathBuf;
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
    /// Check these historical releases instead of the go on PATH (go1.0.3, go1.1.2, go1.4.3;
    /// comma-separated): the lab's program built by each against its own runtime benchmarks,
    /// on every workload it has both ways
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(crate::subjects::history::release::names()))]
    release: Vec<String>,
    /// The folder of Go source archives the releases are built from [default: $LAB_GO_SRC]
    #[arg(long, value_name = "DIR")]
    go_src: Option<PathBuf>,
    /// No progress on stderr
    #[arg(long)]
    quiet: bool,
}

/// `lab check-go`: the go peer against `go test`, one table.
pub(super) fn check_go(args: CheckGoArgs) -> Result<(), LabError> {
    use crate::measure::checkgo;
    let procs = procs_or_cores(args.procs.clone(), machine::cores());
    if !args.release.is_empty() {
        return check_releases(&args, &procs);
    }
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
    print!(
        "{}",
        checkgo::render(
            &checks,
            &version,
            "ping-pong's go test is peers/go/pingpong_test.go, the rest Go's runtime package"
        )
    );
    Ok(())
}

/// `lab check-go --release ...`: a table per release.
fn check_releases(args: &CheckGoArgs, procs: &[usize]) -> Result<(), LabError> {
    use crate::measure::checkgo;
    use crate::subjects::history::{self, archive, release};
    use crate::subjects::peers::release as peer;
    let dir = archive::source_dir(args.go_src.as_deref()).map_err(LabError::History)?;
    archive::set_source_dir(dir.clone());
    for name in &args.release {
        let index = peer::index(name).expect("clap checked the name");
        let r = &release::RELEASES[index];
        let pairs = checkgo::release_pairs(r);
        if pairs.is_empty() {
            println!(
                "{name}: nothing to check: the lab's program does not build on the July-2011 trees (they predate Go 1 and the go command)\n"
            );
            continue;
        }
        let tc = history::ready(r, &dir, args.quiet).map_err(LabError::History)?;
        let total = pairs.len() * procs.len() * args.count as usize;
        let progress = Progress::new(total as u64, args.quiet);
        let checks =
            checkgo::check_release(index, procs, args.count as usize, args.benchtime, |what| {
                progress.step();
                progress.running(format!("{name}: {what}"));
            });
        progress.finish();
        let checks = checks.map_err(LabError::BadValue)?;
        println!("{name}:");
        print!(
            "{}",
            checkgo::render(
                &checks,
                &tc.stamp.version,
                &format!("go test: {name}'s own runtime benchmarks; go peer: the lab's program built by {name}")
            )
        );
        println!();
    }
    Ok(())
}
