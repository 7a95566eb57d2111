//! `lab`: runs the lab's workloads on the scheduler generations side by side.
//!
//! `lab list` prints what the registry holds; `lab compare` measures every combination, prints
//! the table (or the JSON) and writes a run folder under `results/` (data, charts, summary.md);
//! `lab run` measures one combination and prints every counter and latency percentile;
//! `lab plot` redraws a saved run's charts and summary. Every error is one line on stderr and
//! exit code 2.

use clap::{Args, Parser, Subcommand, ValueEnum};
use harness::error::LabError;
use harness::measure::plan::Plan;
use harness::measure::procs::{parse_procs, ProcsError};
use harness::measure::progress::Progress;
use harness::measure::ramp::Aim;
use harness::measure::runner::Settings;
use harness::output::chart;
use harness::output::machine::{self, Machine};
use harness::output::results::{Results, Row};
use harness::output::rundir::{self, RunDir};
use harness::output::summary;
use harness::output::table;
use harness::subjects::registry::{self, Subject};
use harness::subjects::Failure;
use schedcore::{LockKind, StackGuard};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

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
    /// write a run folder (results, bench.txt, machine, charts, summary.md).
    Compare(CompareArgs),
    /// Measure one workload on one scheduler (or peer) and print every counter of the Report
    /// and every latency percentile.
    Run(RunArgs),
    /// Redraw the charts and summary.md of a saved run folder from its results.json and
    /// machine.json.
    Plot(PlotArgs),
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
}

/// A `--procs` value: numbers and ranges (`1..4`, `1,2,4,8`, `1..2,8`).
#[derive(Clone, Debug)]
struct ProcsList(Vec<usize>);

fn procs_arg(s: &str) -> Result<ProcsList, ProcsError> {
    parse_procs(s).map(ProcsList)
}

/// The procs asked for, or 1 up to the machine's cores.
fn procs_or_cores(procs: Option<ProcsList>, cores: usize) -> Vec<usize> {
    procs.map_or_else(|| (1..=cores).collect(), |p| p.0)
}

/// A `--lock` value: `era` (`None`: each generation's own) or a lock kind.
#[derive(Clone, Copy, Debug)]
struct LockChoice(Option<LockKind>);

fn lock_arg(s: &str) -> Result<LockChoice, String> {
    if s == "era" {
        return Ok(LockChoice(None));
    }
    LockKind::from_name(s)
        .map(|k| LockChoice(Some(k)))
        .ok_or_else(|| {
            let names: Vec<&str> = LockKind::ALL.iter().map(|k| k.name()).collect();
            format!("expected era, {}", names.join(" or "))
        })
}

fn guard_arg(s: &str) -> Result<StackGuard, String> {
    StackGuard::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = StackGuard::ALL.iter().map(|g| g.name()).collect();
        format!("expected {}", names.join(", "))
    })
}

fn duration_arg(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (expected e.g. 250ms, 1s)"))?;
    if d.is_zero() {
        return Err("must be above zero".into());
    }
    Ok(d)
}

/// `--benchtime` of `lab run`: a duration, or Go's `Nx` for exactly N iterations.
fn aim_arg(s: &str) -> Result<Aim, String> {
    if let Some(times) = s.strip_suffix('x') {
        let n: u64 = times
            .parse()
            .map_err(|e| format!("{e} (expected e.g. 250ms, 1s or 100000x)"))?;
        if n == 0 || n > harness::measure::ramp::MAX_N {
            return Err(format!(
                "Nx takes N from 1 to {}",
                harness::measure::ramp::MAX_N
            ));
        }
        return Ok(Aim::Times(n));
    }
    duration_arg(s).map(Aim::Time)
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

/// What every measured runtime is booted with, the same for `compare` and `run`.
#[derive(Args)]
struct RuntimeArgs {
    /// The runtime lock every generation runs on: era (each its own era's: futex2011 for
    /// both 2011 columns, spin for 2013 and 2014), futex2011 (July 2011's blocking futex lock)
    /// or spin (lock_futex.c's spin-then-futex lock, Go 1.0 on)
    #[arg(long, default_value = "era", value_parser = lock_arg)]
    lock: LockChoice,
    /// Steps of `foo *= 2; foo /= 2` in each syscall of syscall-work and syscall-excess-work
    /// (BenchmarkSyscallWork's LocalWork). A step costs about four times more in Go 1.0's code
    /// than here: 400 weighs the schedlock as the seed's machine did
    #[arg(long, default_value_t = harness::workloads::LOCAL_WORK, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    work: u64,
    /// How the guard page under each goroutine stack is made: auto (madvise where the kernel
    /// has MADV_GUARD_INSTALL, Linux 6.13+, else mprotect), madvise, or mprotect (two kernel
    /// mappings a stack, so vm.max_map_count bounds the goroutines alive: older kernels' way)
    #[arg(long, default_value = "auto", value_parser = guard_arg)]
    stack_guard: StackGuard,
    /// The most goroutines with a stack at once in every runtime; past it the run ends with a
    /// clear error [default: what the memory available at boot allows]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_goroutines: Option<u64>,
}

/// Which combinations to measure, the same words for `compare`, `overhead` and `trace`.
#[derive(Args)]
struct Selection {
    /// Schedulers, comma-separated; in `compare` the first is the baseline of the deltas, in
    /// `trace` the top timeline [default: all]
    #[arg(long, value_delimiter = ',')]
    sched: Vec<String>,
    /// Workloads, comma-separated (`overhead` takes core ones, `trace` exactly one) [default:
    /// the core set, see `lab list`]
    #[arg(long, value_delimiter = ',')]
    bench: Vec<String>,
    /// GOMAXPROCS values: ranges and lists, e.g. 1..4 or 1,2,4,8 (`trace` takes one)
    /// [default: 1..<cores>; `trace`: <cores>]
    #[arg(long, value_parser = procs_arg)]
    procs: Option<ProcsList>,
}

#[derive(Args)]
struct CompareArgs {
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
    /// Peers measured as extra columns, comma-separated (e.g. floor)
    #[arg(long, value_delimiter = ',')]
    peers: Vec<String>,
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

#[derive(Args)]
struct RunArgs {
    /// The scheduler (or peer)
    #[arg(long)]
    sched: String,
    /// The workload
    #[arg(long)]
    bench: String,
    /// GOMAXPROCS
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=harness::measure::procs::PROCS_LIMIT as i64))]
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

#[derive(Args)]
struct CheckGoArgs {
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

#[derive(Args)]
struct OverheadArgs {
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
    #[arg(long, default_value_t = harness::trace::DEFAULT_EVENTS as u64, value_parser = clap::value_parser!(u64).range(16..=1 << 28), requires = "trace")]
    events: u64,
    /// No progress on stderr
    #[arg(long)]
    quiet: bool,
}

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
struct TraceArgs {
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
    #[arg(long, default_value_t = harness::trace::DEFAULT_EVENTS as u64, value_parser = clap::value_parser!(u64).range(16..=1 << 28))]
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

#[derive(Args)]
struct PlotArgs {
    /// A run folder written by `lab compare`
    run_dir: PathBuf,
}

#[derive(Args)]
struct PoolArgs {
    /// The folder holding old.*.json and new.*.json
    dir: PathBuf,
}

fn main() -> ExitCode {
    // A peer's child process (the may peer runs one per measurement), not the command line.
    if let Some(code) = harness::subjects::peers::child::main_if_child(registry::workload) {
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
            list();
            Ok(())
        }
        Cmd::Compare(args) => compare(args),
        Cmd::Run(args) => run(args),
        Cmd::Plot(args) => plot(&args.run_dir),
        Cmd::Pool(args) => pool(&args.dir),
        Cmd::CheckGo(args) => check_go(args),
        Cmd::Overhead(args) => overhead(args),
        Cmd::Trace(args) => trace(args),
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
        return "a command is needed: compare, run, trace, plot or list (see lab --help)".into();
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

fn list() {
    let mut out = String::new();
    out.push_str("schedulers (oldest first; the first given is the baseline):\n");
    for s in registry::SCHEDULERS {
        out.push_str(&format!(
            "  {:<28} {} [procs <= {}; runtime lock {}]\n",
            s.name, s.about, s.max_procs, s.era_lock
        ));
    }
    out.push_str(
        "  (runtime locks: futex2011 = July 2011's blocking futex lock, the seed's table's; spin = lock_futex.c, Go 1.0 on; --lock picks one for all)\n",
    );
    out.push_str("workloads (* = in the default set):\n");
    for w in registry::WORKLOADS {
        let mark = if w.core { "*" } else { " " };
        out.push_str(&format!("  {:<27}{mark} {}\n", w.name, w.about));
    }
    let preemptive: Vec<&str> = registry::SCHEDULERS
        .iter()
        .filter(|s| s.preemptive)
        .map(|s| s.name)
        .collect();
    out.push_str(&format!(
        "  (workloads with a CPU hog report \"starved\" on schedulers without preemption; preemptive: {})\n",
        if preemptive.is_empty() { "none".to_string() } else { preemptive.join(", ") }
    ));
    out.push_str("peers (add with --peers):\n");
    for p in registry::PEERS {
        out.push_str(&format!("  {:<28} {}\n", p.name, p.about));
    }
    print!("{out}");
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

fn compare(args: CompareArgs) -> Result<(), LabError> {
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
    let mut machine = Machine::detect();
    // Builds the go peer (or says once how to install Go) before the progress bar starts.
    machine.peers = harness::subjects::peers::versions(&args.peers);
    let command = command_line();

    let progress = Progress::new(plan.measurements() as u64, args.quiet);
    let rows = plan.run(&progress);
    progress.finish();
    let rows = rows?;

    let results = Results {
        started: humantime::format_rfc3339_seconds(started).to_string(),
        label: args.label.clone(),
        command: command.clone(),
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
    let csv = results
        .to_csv()
        .map_err(|e| io_err(std::io::Error::other(e)))?;
    dir.write("results.json", &json).map_err(io_err)?;
    dir.write("results.csv", &csv).map_err(io_err)?;
    dir.write("bench.txt", &results.bench_txt())
        .map_err(io_err)?;
    dir.write(
        "machine.json",
        &serde_json::to_string_pretty(&results.machine).expect("machine serializes"),
    )
    .map_err(io_err)?;
    dir.write("command.txt", &format!("{command}\n"))
        .map_err(io_err)?;
    let charts =
        chart::draw_all(&results, &results.machine, dir.path()).map_err(LabError::Chart)?;
    dir.write(
        "summary.md",
        &summary::render(&results, &results.machine, &charts),
    )
    .map_err(io_err)?;
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

/// `lab run`: one combination, every counter and latency percentile.
fn run(args: RunArgs) -> Result<(), LabError> {
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
    use harness::output::benchfmt::{format_ns, row_name};
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
fn memory_report(m: &harness::measure::runner::MemoryFigures) -> String {
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

/// `lab check-go`: the go peer against `go test`, one table.
fn check_go(args: CheckGoArgs) -> Result<(), LabError> {
    use harness::measure::checkgo;
    let procs = procs_or_cores(args.procs, machine::cores());
    let version = harness::subjects::peers::go::version()
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

/// `lab overhead`: the lab's figure against the bare loop's (or, with --trace, against
/// itself with tracing on), one table.
fn overhead(args: OverheadArgs) -> Result<(), LabError> {
    use harness::measure::overhead::{self, Against};
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

/// `lab trace`: one workload traced on each scheduler given, into a run folder.
fn trace(args: TraceArgs) -> Result<(), LabError> {
    use harness::trace::{self as tr, summary as trsum};
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

/// `lab plot`: redraws the charts and summary.md of a saved run, from its results.json and
/// machine.json. The new files are drawn into a temporary folder beside them and renamed over
/// the old ones only once every one is drawn.
/// `lab pool`: the pooled table of two builds' runs.
fn pool(dir: &Path) -> Result<(), LabError> {
    let bad = |why: String| LabError::BadValue(format!("lab pool {}: {why}", dir.display()));
    let entries = std::fs::read_dir(dir).map_err(|e| bad(e.to_string()))?;
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    let side = |prefix: &str| -> Result<Vec<Results>, LabError> {
        files
            .iter()
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.starts_with(prefix) && name.ends_with(".json")
            })
            .map(|p| {
                let text = std::fs::read_to_string(p).map_err(|e| bad(e.to_string()))?;
                serde_json::from_str(&text).map_err(|e| bad(format!("{}: {e}", p.display())))
            })
            .collect()
    };
    let (old, new) = (side("old.")?, side("new.")?);
    if old.is_empty() || new.is_empty() {
        return Err(bad(
            "no old.*.json and new.*.json here (harness/profile/ab.sh writes them)".into(),
        ));
    }
    print!(
        "{}",
        harness::output::pool::table(&harness::output::pool::pool(&old, &new))
    );
    Ok(())
}

fn plot(dir: &Path) -> Result<(), LabError> {
    let not_a_run = |why: String| LabError::NotARun {
        path: dir.to_path_buf(),
        why,
    };
    if !dir.is_dir() {
        return Err(not_a_run("no such folder".into()));
    }
    let read = |file: &str| {
        std::fs::read_to_string(dir.join(file)).map_err(|e| not_a_run(format!("{file}: {e}")))
    };
    let results: Results = serde_json::from_str(&read("results.json")?)
        .map_err(|e| not_a_run(format!("results.json: {e}")))?;
    let machine: Machine = serde_json::from_str(&read("machine.json")?)
        .map_err(|e| not_a_run(format!("machine.json: {e}")))?;
    let io_err = |err| LabError::Io {
        path: dir.to_path_buf(),
        err,
    };
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-plot-")
        .tempdir_in(dir)
        .map_err(io_err)?;
    let charts = chart::draw_all(&results, &machine, tmp.path()).map_err(LabError::Chart)?;
    std::fs::write(
        tmp.path().join("summary.md"),
        summary::render(&results, &machine, &charts),
    )
    .map_err(io_err)?;
    for entry in std::fs::read_dir(tmp.path()).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        std::fs::rename(entry.path(), dir.join(entry.file_name())).map_err(io_err)?;
    }
    println!(
        "redrew {} charts and summary.md in {}",
        charts.len(),
        dir.display()
    );
    Ok(())
}
