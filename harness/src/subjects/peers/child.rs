//! Peers measured in a child process, one run per process: the `go` peer (a Go program) and
//! `may` (whose scheduler is one per process, its worker count fixed at first use, so each
//! procs needs a process of its own). A fresh process is a fresh runtime, as every lab figure
//! is. The child prints one JSON line, [`Line`], which this module writes, parses and turns
//! into a [`Measurement`]:
//!
//! ```text
//! {"peer":"go","version":"go1.19.8","bench":"syscall","procs":2,"rounds":[{"n":1,"ns":812},...],"counters":{"gc":0}}
//! ```
//!
//! It may add `"latencies":{"stw_pause":[ns,...]}` (values of the last round, made into the
//! row's histograms), `"starved":true` and
//! `"memory":{"rss_start":bytes,"rss_peak":bytes,"peak_goroutines":n}`. A child that fails prints `{"error":"..."}` and
//! exits 1.

use crate::measure::ramp::{Ramp, Round, RoundJson, MAX_N};
use crate::measure::runner::{Measurement, MemoryFigures, Settings};
use crate::subjects::Failure;
use crate::workloads::WorkloadInfo;
use schedcore::report::latency_histogram;
use schedcore::RunError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// What a child prints for one measurement.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Line {
    /// The peer's name (`go`, `may`).
    pub peer: String,
    /// The runtime's version (`go1.19.8`), if it knows it.
    #[serde(default)]
    pub version: String,
    /// The workload's lab name.
    pub bench: String,
    /// The procs the runtime ran with (GOMAXPROCS, workers).
    pub procs: usize,
    /// Every round of the ramp, the last one counting.
    pub rounds: Vec<RoundJson>,
    /// The runtime's counters over the timed rounds.
    #[serde(default)]
    pub counters: BTreeMap<String, u64>,
    /// Latencies in ns of the last round, by histogram name (`stw_pause`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub latencies: BTreeMap<String, Vec<u64>>,
    /// The last round was starved (a hog had to give up; see `crate::workloads::Stall`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub starved: bool,
    /// The child's resident set at the start and at its peak, and its most goroutines alive
    /// at once where the workload samples them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<LineMemory>,
}

/// The `memory` of a [`Line`], in bytes.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LineMemory {
    pub rss_start: u64,
    pub rss_peak: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_goroutines: Option<u64>,
}

impl Line {
    /// The line for a measurement made in this process (the `may` child).
    pub fn of(peer: &str, version: &str, bench: &str, procs: usize, m: &Measurement) -> Line {
        Line {
            peer: peer.to_string(),
            version: version.to_string(),
            bench: bench.to_string(),
            procs,
            rounds: m
                .ramp
                .rounds
                .iter()
                .map(|r| RoundJson {
                    n: r.n,
                    ns: r.elapsed.as_nanos() as u64,
                })
                .collect(),
            counters: m.counters.clone(),
            latencies: BTreeMap::new(),
            starved: m.starved,
            memory: None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a line serializes")
    }
}

/// Why a child's output is not a measurement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// No line of stdout starts with `{`.
    NoLine,
    /// The last JSON line does not parse.
    Json(String),
    /// The child reported an error (`{"error": ...}`).
    Child(String),
    /// The line is about another workload or procs than asked, or has no rounds.
    Mismatch(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::NoLine => f.write_str("printed no result line"),
            ParseError::Json(e) => write!(f, "printed a result line that does not parse: {e}"),
            ParseError::Child(e) => f.write_str(e),
            ParseError::Mismatch(e) => f.write_str(e),
        }
    }
}

/// The measurement in a child's stdout: its last line that starts with `{`, which must be
/// about `bench` at `procs` and have at least one round with N above zero.
pub fn parse(stdout: &str, bench: &str, procs: usize) -> Result<(Line, Measurement), ParseError> {
    let text = stdout
        .lines()
        .map(str::trim)
        .rfind(|l| l.starts_with('{'))
        .ok_or(ParseError::NoLine)?;
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ParseError::Json(e.to_string()))?;
    if let Some(err) = value.get("error") {
        let msg = err.as_str().map_or_else(|| err.to_string(), str::to_string);
        return Err(ParseError::Child(msg));
    }
    let line: Line = serde_json::from_value(value).map_err(|e| ParseError::Json(e.to_string()))?;
    if line.bench != bench || line.procs != procs {
        return Err(ParseError::Mismatch(format!(
            "measured {} at procs {} where {bench} at procs {procs} was asked",
            line.bench, line.procs
        )));
    }
    if line.rounds.is_empty() || line.rounds.iter().any(|r| r.n == 0) {
        return Err(ParseError::Mismatch(
            "a result line with no rounds, or a round of N = 0".into(),
        ));
    }
    let mut latencies = BTreeMap::new();
    for (name, values) in &line.latencies {
        let mut h = latency_histogram();
        for &v in values {
            h.saturating_record(v.max(1));
        }
        if !h.is_empty() {
            latencies.insert(name.clone(), h);
        }
    }
    let m = Measurement {
        ramp: Ramp {
            rounds: line
                .rounds
                .iter()
                .map(|r| Round {
                    n: r.n,
                    elapsed: Duration::from_nanos(r.ns),
                })
                .collect(),
        },
        counters: line.counters.clone(),
        latencies,
        starved: line.starved,
        memory: line
            .memory
            .map(|m| MemoryFigures::new(m.peak_goroutines, None, m.rss_start, m.rss_peak)),
        method: None,
    };
    Ok((line, m))
}

/// How long a child may take before it is killed: the ramp's rounds add up to a few times the
/// benchtime, so this only catches a hang.
pub fn deadline(benchtime: Duration) -> Duration {
    Duration::from_secs(120) + benchtime * 50
}

/// Runs `cmd` to its end (killing it after `limit`) and returns its measurement of `bench` at
/// `procs`; any failure is a `Failure::Run` naming `peer`.
pub fn run(
    peer: &str,
    mut cmd: Command,
    bench: &str,
    procs: usize,
    limit: Duration,
) -> Result<Measurement, Failure> {
    let fail = |msg: String| Failure::Run(RunError::Panic(format!("{peer} peer: {msg}")));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot start {:?}: {e}", cmd.get_program())))?;
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = reader(Box::new(child.stdout.take().expect("piped stdout")));
    let err = reader(Box::new(child.stderr.take().expect("piped stderr")));
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!("killed after {limit:?} without a result")));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(fail(format!("cannot wait for the child: {e}"))),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    match parse(&stdout, bench, procs) {
        Ok((_, m)) if status.success() => Ok(m),
        Ok(_) => Err(fail(format!("exited with {status} after its result line"))),
        Err(ParseError::NoLine) => {
            // A crash prints its reason on stderr (a Go `fatal error:`, a Rust panic).
            let why = stderr
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("no output");
            Err(fail(format!("exited with {status}: {why}")))
        }
        Err(e) => Err(fail(e.to_string())),
    }
}

/// The first argument of `lab` that makes it a peer's child instead of the command line.
pub const CHILD_ARG: &str = "__peer-child";

/// The `lab` binary, which runs the `may` child: `$LAB_BIN` if set, this process if it is
/// `lab`, else a `lab` beside this executable or one folder up (a test binary sits in
/// `target/<profile>/deps/`, the `lab` it was built with in `target/<profile>/`).
pub fn lab_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LAB_BIN") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    if exe.file_stem().is_some_and(|s| s == "lab") {
        return Some(exe);
    }
    let dir = exe.parent()?;
    [dir.join("lab"), dir.parent()?.join("lab")]
        .into_iter()
        .find(|p| p.is_file())
}

/// Why a peer in its own process has no figure with a fixed N (`-benchtime Nx`): its process
/// ramps toward a duration.
pub const NO_FIXED_N: &str =
    "this peer ramps in its own process toward a duration: -benchtime Nx is not passed on";

/// The arguments that make `lab` measure `bench` on `peer` with `settings` and print its
/// [`Line`].
pub fn child_args(peer: &str, bench: &str, batch: u64, settings: &Settings) -> Vec<String> {
    vec![
        CHILD_ARG.to_string(),
        peer.to_string(),
        bench.to_string(),
        settings.procs.to_string(),
        settings.benchtime.as_nanos().to_string(),
        batch.to_string(),
        settings.starve_after.as_nanos().to_string(),
    ]
}

/// Called first thing by `lab`'s `main`: with [`CHILD_ARG`] as its first argument, measures
/// what the rest says, prints the [`Line`] (or the error line) and returns the exit code;
/// otherwise `None`, and `lab` goes on as the command line. `workload` looks a workload up by
/// name (the registry's: `lab` hands it over, so that the peers need not name the registry).
pub fn main_if_child(workload: fn(&str) -> Option<&'static WorkloadInfo>) -> Option<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some(CHILD_ARG) {
        return None;
    }
    let result = child_main(&args[1..], workload);
    Some(match result {
        Ok(line) => {
            println!("{}", line.to_json());
            ExitCode::SUCCESS
        }
        Err(msg) => {
            println!("{}", serde_json::json!({ "error": msg }));
            eprintln!("lab {CHILD_ARG}: {msg}");
            ExitCode::from(1)
        }
    })
}

fn child_main(
    args: &[String],
    workload: fn(&str) -> Option<&'static WorkloadInfo>,
) -> Result<Line, String> {
    let [peer, bench, procs, benchtime, batch, starve_after] = args else {
        return Err(format!(
            "expected: {CHILD_ARG} PEER BENCH PROCS BENCHTIME_NS BATCH STARVE_AFTER_NS, got {args:?}"
        ));
    };
    let num = |what: &str, s: &str| {
        s.parse::<u64>()
            .map_err(|e| format!("bad {what} {s:?}: {e}"))
    };
    let procs = num("procs", procs)? as usize;
    let benchtime = Duration::from_nanos(num("benchtime", benchtime)?);
    let batch = num("batch", batch)?;
    if procs == 0 || benchtime.is_zero() {
        return Err("procs and benchtime must be above zero".into());
    }
    let settings = Settings {
        starve_after: Duration::from_nanos(num("starve_after", starve_after)?),
        ..Settings::new(procs, benchtime)
    };
    // The registry's cap on N, as the other subjects have it (the child gets only names).
    let max_n = workload(bench).map_or(MAX_N, |w| w.max_n);
    match peer.as_str() {
        super::may::NAME => super::may::child_measure(bench, batch, max_n, &settings),
        other => Err(format!("no peer {other:?} runs as a child")),
    }
}
