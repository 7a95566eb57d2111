//! `lab history`: the real historical Go runtimes, built from their source archives (`list`,
//! `build`) and their own runtime benchmarks run (`bench`).

use super::args::{duration_arg, procs_arg, procs_or_cores, ProcsList};
use crate::error::LabError;
use crate::measure::stats::Spread;
use crate::output::machine;
use crate::subjects::history::archive;
use crate::subjects::history::release::{self, Release, RELEASES};
use crate::subjects::history::toolchain::{self, State};
use crate::subjects::history::{self, bench, prereq, HistoryError};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Args)]
pub(super) struct HistoryArgs {
    /// The folder of source archives (go1.0.3.src.tar.gz, go1.1.2.src.tar.gz,
    /// go1.4.3.src.tar.gz, go-2011-07-19-before.src.tar.gz, go-2011-07-19-cl4723042.src.tar.gz)
    /// [default: $LAB_GO_SRC]
    #[arg(long, global = true, value_name = "DIR")]
    go_src: Option<PathBuf>,
    #[command(subcommand)]
    cmd: HistoryCmd,
}

#[derive(Subcommand)]
enum HistoryCmd {
    /// Each release: its archive (found, sha256 as in the lab's table or not), whether it is
    /// built and where, its version, and Go's runtime benchmarks it has.
    List,
    /// Build releases from their archives (once: cached under target/gohist/), with the
    /// host-side fixes a current Debian needs, and their runtime test binaries.
    Build(BuildArgs),
    /// Run a release's own runtime benchmark from its test binary (building it first if
    /// needed), one process per run, and print Go's lines and the median ns/op per procs.
    Bench(BenchArgs),
    /// Where a release spends a workload's time: one run (the way a release column measures
    /// it) under `perf record -e cpu-clock`, its samples grouped by runtime subsystem
    /// (channels, scheduler, locks and atomics, runtime mechanics, memory and GC, the
    /// workload, the kernel), each share in ns of the run's own ns/op. Needs perf (Debian's
    /// linux-perf).
    Profile(ProfileArgs),
}

#[derive(Args)]
struct ProfileArgs {
    /// The releases, comma-separated: one profile each, side by side
    #[arg(long, value_delimiter = ',', required = true, value_parser = clap::builder::PossibleValuesParser::new(release::names()))]
    release: Vec<String>,
    /// The lab workload (ping-pong, create-goroutines, syscall, ...)
    #[arg(long)]
    bench: String,
    /// GOMAXPROCS
    #[arg(long, default_value_t = 1)]
    procs: usize,
    /// Aim for a timed round of this length
    #[arg(long, default_value = "1s", value_parser = duration_arg)]
    benchtime: Duration,
}

#[derive(Args)]
struct BuildArgs {
    /// Releases to build [default: every one whose archive is in the folder]
    #[arg(value_name = "RELEASE", value_parser = clap::builder::PossibleValuesParser::new(release::names()))]
    releases: Vec<String>,
    /// No progress line on stderr
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
struct BenchArgs {
    /// The release
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(release::names()))]
    release: String,
    /// The benchmark: a lab workload (syscall, syscall-work, chan-sync, create-goroutines,
    /// create-goroutines-parallel, matmult, ...) or Go's name (SyscallWork); `lab history
    /// list` shows which each release has
    #[arg(long)]
    bench: String,
    /// -test.cpu values, one process each: ranges and lists, e.g. 1..4 or 1,2 [default:
    /// 1..<cores>]
    #[arg(long, value_parser = procs_arg)]
    procs: Option<ProcsList>,
    /// -test.benchtime, given in the release's dialect (seconds as a number before Go 1.1)
    #[arg(long, default_value = "1s", value_parser = duration_arg)]
    benchtime: Duration,
    /// Runs per procs value, each its own process (no -test.count before Go 1.19)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    count: u32,
    /// No progress line on stderr
    #[arg(long)]
    quiet: bool,
}

/// `lab history`.
pub(super) fn history(args: HistoryArgs) -> Result<(), LabError> {
    let result = match args.cmd {
        HistoryCmd::List => list(args.go_src.as_deref()),
        HistoryCmd::Build(b) => build(args.go_src.as_deref(), b),
        HistoryCmd::Bench(b) => run_bench(args.go_src.as_deref(), b),
        HistoryCmd::Profile(p) => return profile(args.go_src.as_deref(), p),
    };
    result.map_err(|e| {
        if let Some(detail) = e.detail() {
            eprintln!("{detail}");
        }
        LabError::History(e)
    })
}

/// `lab history profile`: a column per release, a row per subsystem.
fn profile(go_src: Option<&Path>, args: ProfileArgs) -> Result<(), LabError> {
    use crate::subjects::history::profile::{self, Subsystem};
    let bench =
        crate::subjects::registry::workload(&args.bench).ok_or_else(|| LabError::UnknownName {
            kind: "workload",
            name: args.bench.clone(),
            known: crate::subjects::registry::WORKLOADS
                .iter()
                .map(|w| w.name)
                .collect(),
        })?;
    profile::perf().map_err(LabError::BadValue)?;
    archive::set_source_dir(archive::source_dir(go_src)?);
    let settings = crate::measure::runner::Settings::new(args.procs, args.benchtime);
    let mut profiles = Vec::new();
    for name in &args.release {
        let index = crate::subjects::peers::release::index(name).expect("clap checked it");
        profiles.push(profile::profile(index, bench, &settings).map_err(LabError::BadValue)?);
    }
    let mut lines = vec![
        std::iter::once(format!("{} at procs {}", bench.go_name, args.procs))
            .chain(profiles.iter().map(|p| format!("{} ns/op", p.release)))
            .chain(profiles.iter().map(|p| format!("{} share", p.release)))
            .collect::<Vec<String>>(),
    ];
    for s in Subsystem::ALL {
        lines.push(
            std::iter::once(s.name().to_string())
                .chain(profiles.iter().map(|p| format!("{:.1}", p.ns(s))))
                .chain(
                    profiles
                        .iter()
                        .map(|p| format!("{:.0}%", p.shares.get(&s).unwrap_or(&0.0) * 100.0)),
                )
                .collect(),
        );
    }
    lines.push(
        std::iter::once("total".to_string())
            .chain(profiles.iter().map(|p| format!("{:.1}", p.ns_per_op)))
            .chain(profiles.iter().map(|_| "100%".to_string()))
            .collect(),
    );
    print!("{}", crate::output::table::align(&lines));
    for p in &profiles {
        println!("\n{}: the functions with the most samples", p.release);
        for (pct, sym, sub) in &p.top {
            println!("  {pct:5.1}%  {sym}  ({sub})");
        }
    }
    println!(
        "\n(one run each under perf record -e cpu-clock; a subsystem's ns is its share of the process's samples times the run's ns/op)"
    );
    Ok(())
}

/// `lab history list`.
fn list(go_src: Option<&Path>) -> Result<(), HistoryError> {
    let dir = archive::source_dir(go_src);
    let root = toolchain::cache_root();
    let mut out = String::new();
    match &dir {
        Ok(d) => out.push_str(&format!("archives in {}\n", d.display())),
        Err(e) => out.push_str(&format!("archives: none ({e})\n")),
    }
    out.push_str(&format!("builds in {}\n", root.display()));
    for r in RELEASES {
        out.push_str(&format!("{:<14} {}\n", r.name, r.about));
        let found = dir.as_ref().ok().map(|d| archive::find(r, d));
        let archive_line = match &found {
            None => "not looked for".to_string(),
            Some(Err(HistoryError::ArchiveMissing { .. })) => format!("missing ({})", r.archive),
            Some(Err(e)) => e.to_string(),
            Some(Ok(a)) if a.known(r) => {
                format!("{} (sha256 as in the lab's table)", a.path.display())
            }
            Some(Ok(a)) => format!(
                "{} (sha256 {} is not the lab's {}: taken as the same release)",
                a.path.display(),
                a.sha256,
                r.sha256
            ),
        };
        out.push_str(&format!("  {:<10} {archive_line}\n", "archive"));
        let sha = match &found {
            Some(Ok(a)) => a.sha256.clone(),
            _ => r.sha256.to_string(),
        };
        let bdir = toolchain::build_dir(&root, r, &sha);
        let build_line = match toolchain::state(&bdir) {
            State::Absent => "not built".to_string(),
            State::Stale => format!(
                "unfinished or stale, will be built afresh: {}",
                bdir.display()
            ),
            State::Built(stamp) => {
                let test = if bdir.join(toolchain::TEST_BINARY).is_file() {
                    "test binary ready"
                } else {
                    "no test binary yet"
                };
                let skipped = if stamp.skipped.is_empty() {
                    String::new()
                } else {
                    format!("; make -k skipped {}", stamp.skipped.join(", "))
                };
                format!("{} ({}; {test}{skipped})", bdir.display(), stamp.version)
            }
        };
        out.push_str(&format!("  {:<10} {build_line}\n", "build"));
        let tools: Vec<&str> = prereq::tools(r).iter().map(|t| t.name).collect();
        let missing = prereq::missing_on(r, std::env::var_os("PATH").as_deref());
        out.push_str(&format!(
            "  {:<10} {}{}\n",
            "needs",
            tools.join(", "),
            missing.map_or(String::new(), |t| format!(
                " ({} is missing: apt-get install {})",
                t.name, t.package
            ))
        ));
        let benches: Vec<String> = r
            .benchmarks
            .iter()
            .map(|b| format!("{} ({})", b.workload, b.go))
            .collect();
        out.push_str(&format!("  {:<10} {}\n", "benchmarks", benches.join(", ")));
    }
    print!("{out}");
    Ok(())
}

/// `lab history build`.
fn build(go_src: Option<&Path>, args: BuildArgs) -> Result<(), HistoryError> {
    let dir = archive::source_dir(go_src)?;
    let chosen: Vec<&'static Release> = if args.releases.is_empty() {
        let found: Vec<&'static Release> = RELEASES
            .iter()
            .filter(|r| dir.join(r.archive).is_file())
            .collect();
        for r in RELEASES.iter().filter(|r| !dir.join(r.archive).is_file()) {
            eprintln!(
                "lab: {}: no {} in {}, not built",
                r.name,
                r.archive,
                dir.display()
            );
        }
        if found.is_empty() {
            // None there: say what the first one is and where to get it.
            return Err(archive::find(&RELEASES[0], &dir)
                .err()
                .unwrap_or(HistoryError::NoSourceDir));
        }
        found
    } else {
        args.releases
            .iter()
            .map(|n| release::by_name(n).ok_or_else(|| HistoryError::UnknownRelease(n.clone())))
            .collect::<Result<_, _>>()?
    };
    for r in chosen {
        let tc = history::ready(r, &dir, args.quiet)?;
        println!("{:<14} {} ({})", r.name, tc.dir.display(), tc.stamp.version);
    }
    Ok(())
}

/// `lab history bench`.
fn run_bench(go_src: Option<&Path>, args: BenchArgs) -> Result<(), HistoryError> {
    let r = release::by_name(&args.release)
        .ok_or_else(|| HistoryError::UnknownRelease(args.release.clone()))?;
    let b = r
        .benchmark(&args.bench)
        .ok_or_else(|| HistoryError::UnknownBench {
            release: r,
            name: args.bench.clone(),
        })?;
    let dir = archive::source_dir(go_src)?;
    let tc = history::ready(r, &dir, args.quiet)?;
    let procs = procs_or_cores(args.procs, machine::cores());
    println!(
        "# {} ({}), its own {} as the lab's {}, -test.benchtime={}, {} run(s) per procs, one process each",
        r.name,
        tc.stamp.version,
        b.func(),
        b.workload,
        r.dialect.benchtime(args.benchtime),
        args.count
    );
    let mut figures: Vec<Vec<f64>> = vec![Vec::new(); procs.len()];
    // Runs interleaved across procs, so that a drift of the machine touches every column.
    for _ in 0..args.count {
        for (i, &p) in procs.iter().enumerate() {
            let line = bench::run(&tc, b, p, args.benchtime)?;
            println!("{}", line.raw);
            figures[i].push(line.ns_per_op);
        }
    }
    for (p, f) in procs.iter().zip(&figures) {
        if let Some(s) = Spread::of(f) {
            println!(
                "# {} procs {p}: {} ns/op (median of {}, {}..{})",
                b.workload,
                fmt_ns(s.median),
                f.len(),
                fmt_ns(s.min),
                fmt_ns(s.max)
            );
        }
    }
    Ok(())
}

fn fmt_ns(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}
