//! Where a real release spends a workload's time: one run under `perf record -e cpu-clock`
//! (the release's binaries keep their symbols), its samples grouped by runtime subsystem
//! ([`Subsystem`]), each share turned into nanoseconds of the run's own ns/op. The shares are
//! of the whole process, whose time is almost all the timed loop (Go's ramp repeats it); what
//! is not (start-up, the collections between rounds, printing) falls in `memory and GC` or
//! `other`.
//!
//! Nothing here is needed to measure: it is evidence for reading a release-to-release delta
//! (`lab history profile`, `lab fidelity --profile`). It needs `perf` (Debian's linux-perf).

use crate::measure::runner::Settings;
use crate::subjects::peers::release::{self, Way};
use crate::subjects::Failure;
use crate::workloads::WorkloadInfo;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::process::Command;

/// A part of the runtime (or not) that a sample's function belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Subsystem {
    Channels,
    Scheduler,
    LocksAtomics,
    /// The runtime's own mechanics: switching stacks and goroutines (onM, mcall, gogo), getg,
    /// acquirem/releasem, stack checks and copies, memmove.
    Mechanics,
    /// The allocator, the collector and its write barriers.
    MemoryGc,
    /// The benchmark's own code (main, runtime_test, testing, syscall).
    Workload,
    /// The kernel (futex waits and wakes, syscalls, page faults).
    Kernel,
    Other,
}

impl Subsystem {
    pub const ALL: [Subsystem; 8] = [
        Subsystem::Channels,
        Subsystem::Scheduler,
        Subsystem::LocksAtomics,
        Subsystem::Mechanics,
        Subsystem::MemoryGc,
        Subsystem::Workload,
        Subsystem::Kernel,
        Subsystem::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Subsystem::Channels => "channels",
            Subsystem::Scheduler => "scheduler",
            Subsystem::LocksAtomics => "locks and atomics",
            Subsystem::Mechanics => "runtime mechanics",
            Subsystem::MemoryGc => "memory and GC",
            Subsystem::Workload => "workload",
            Subsystem::Kernel => "kernel",
            Subsystem::Other => "other",
        }
    }
}

impl fmt::Display for Subsystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Function names (without `runtime.`) by subsystem, as Go 1.0 to 1.4 and the July-2011 trees
/// name them (C functions of the runtime have no package, e.g. `schedule`, `runqget`). A name
/// matches an entry it starts with; the lists are tried in this order.
const RULES: &[(Subsystem, &[&str])] = &[
    // Go 1.4's status CAS loops (Gscan), before "cas" takes them.
    (
        Subsystem::Scheduler,
        &["casgstatus", "castogscanstatus", "casfrom_Gscanstatus"],
    ),
    (
        Subsystem::LocksAtomics,
        &[
            "cas",
            "xchg",
            "xadd",
            "atomic",
            "lock",
            "unlock",
            "futex",
            "note",
            "procyield",
            "osyield",
            "usleep",
            "semacquire",
            "semrelease",
            "schedlock",
            "schedunlock",
        ],
    ),
    (
        Subsystem::Channels,
        &[
            "chan",
            "select",
            "(*waitq)",
            "dequeue",
            "enqueue",
            "closechan",
            "makechan",
            "acquireSudog",
            "releaseSudog",
            "sudog",
        ],
    ),
    (
        Subsystem::Scheduler,
        &[
            "schedule",
            "execute",
            "findrunnable",
            "runq",
            "globrunq",
            "ready",
            "goready",
            "gopark",
            "park",
            "gosched",
            "Gosched",
            "newproc",
            "goexit",
            "gfget",
            "gfput",
            "gget",
            "gput",
            "mget",
            "mput",
            "mstart",
            "startm",
            "stopm",
            "handoffp",
            "wakep",
            "acquirep",
            "releasep",
            "pidle",
            "entersyscall",
            "exitsyscall",
            "Entersyscall",
            "Exitsyscall",
            "casgstatus",
            "readgstatus",
            "dropg",
            "newm",
            "sysmon",
            "retake",
            "matchmg",
            "nextg",
            "haveg",
            "canaddmcpu",
            "mnextg",
            "injectglist",
            "resetspinning",
            "gcstopm",
            "mcommoninit",
            "newosproc",
            "clone",
            "incidlelocked",
            "checkdead",
            "inclocked",
            "startlockedm",
            "stoplockedm",
            "mcpu",
            "gcount",
        ],
    ),
    (
        Subsystem::Mechanics,
        &[
            "onM",
            "mcall",
            "gogo",
            "gosave",
            "getg",
            "acquirem",
            "releasem",
            "getcallerpc",
            "getcallersp",
            "systemstack",
            "gostartcall",
            "morestack",
            "newstack",
            "lessstack",
            "oldstack",
            "stack",
            "copystack",
            "unwindstack",
            "fastrand",
            "gomcache",
            "memmove",
            "memclr",
            "memcopy",
            "nop",
            "badmcall",
            "rt0",
        ],
    ),
    (
        Subsystem::MemoryGc,
        &[
            "malloc",
            "mal",
            "new",
            "makeslice",
            "MCentral",
            "MCache",
            "MHeap",
            "MSpan",
            "scanblock",
            "sweep",
            "gc",
            "GC",
            "mark",
            "flushptrbuf",
            "parfor",
            "writebarrier",
            "persistentalloc",
            "SysAlloc",
            "largealloc",
            "MProf",
            "markallocated",
            "free",
            "mcache",
            "mheap",
            "mspan",
            "mcentral",
            "flush",
        ],
    ),
];

/// The subsystem of a sampled function; `kernel` for a kernel sample (perf's `[k]`).
pub fn classify(symbol: &str, kernel: bool) -> Subsystem {
    if kernel {
        return Subsystem::Kernel;
    }
    for prefix in ["main.", "runtime_test.", "testing.", "syscall."] {
        if symbol.starts_with(prefix) {
            return Subsystem::Workload;
        }
    }
    let name = symbol.strip_prefix("runtime.").unwrap_or(symbol);
    if symbol.contains('.') && !symbol.starts_with("runtime.") {
        return Subsystem::Other;
    }
    for (sub, prefixes) in RULES {
        if prefixes.iter().any(|p| name.starts_with(p)) {
            return *sub;
        }
    }
    Subsystem::Other
}

/// One line of `perf report --stdio -q --sort sym`: `  14.19%  [.] runtime.cas`.
pub fn parse_report_line(line: &str) -> Option<(f64, bool, String)> {
    let mut words = line.split_whitespace();
    let pct: f64 = words.next()?.strip_suffix('%')?.parse().ok()?;
    let kernel = match words.next()? {
        "[k]" => true,
        "[.]" => false,
        _ => return None,
    };
    let sym: Vec<&str> = words.collect();
    (!sym.is_empty()).then(|| (pct, kernel, sym.join(" ")))
}

/// A release's profile of one workload at one procs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Profile {
    pub release: String,
    pub bench: String,
    pub procs: usize,
    /// The run's own ns/op.
    pub ns_per_op: f64,
    /// Each subsystem's share of the samples, 0..1.
    pub shares: BTreeMap<Subsystem, f64>,
    /// The functions with the most samples: (percent, symbol, subsystem).
    pub top: Vec<(f64, String, Subsystem)>,
}

impl Profile {
    /// A subsystem's nanoseconds of one op.
    pub fn ns(&self, s: Subsystem) -> f64 {
        self.shares.get(&s).copied().unwrap_or(0.0) * self.ns_per_op
    }

    /// Folds `perf report`'s lines into shares.
    pub fn of_report(
        release: &str,
        bench: &str,
        procs: usize,
        ns_per_op: f64,
        report: &str,
    ) -> Profile {
        let lines: Vec<(f64, bool, String)> =
            report.lines().filter_map(parse_report_line).collect();
        let total: f64 = lines.iter().map(|l| l.0).sum::<f64>().max(1e-9);
        let mut shares = BTreeMap::new();
        let mut top = Vec::new();
        for (pct, kernel, sym) in lines {
            let sub = classify(&sym, kernel);
            *shares.entry(sub).or_insert(0.0) += pct / total;
            if top.len() < 15 {
                top.push((pct, sym, sub));
            }
        }
        Profile {
            release: release.to_string(),
            bench: bench.to_string(),
            procs,
            ns_per_op,
            shares,
            top,
        }
    }
}

/// `perf` on PATH, or how to get it.
pub fn perf() -> Result<std::path::PathBuf, String> {
    crate::subjects::peers::go::find_on_path("perf").ok_or_else(|| {
        "profiling needs `perf`, which is not on PATH; on Debian: apt-get install linux-perf".into()
    })
}

/// Profiles `bench` at the settings' procs on the release `RELEASES[index]`, the way it
/// measures it ([`release::way`]): one run under `perf record -e cpu-clock`.
pub fn profile(index: usize, bench: &WorkloadInfo, settings: &Settings) -> Result<Profile, String> {
    let r = &crate::subjects::history::release::RELEASES[index];
    let way: Way = release::way(r, bench, settings).map_err(|e| format!("{}: {e}", r.name))?;
    let perf = perf()?;
    let dir = tempfile::tempdir().map_err(|e| format!("no temp folder: {e}"))?;
    let data = dir.path().join("perf.data");
    let wrap: Vec<String> = vec![
        perf.to_string_lossy().into_owned(),
        "record".into(),
        "-q".into(),
        "-e".into(),
        "cpu-clock".into(),
        "-F".into(),
        "4999".into(),
        "-o".into(),
        data.to_string_lossy().into_owned(),
        "--".into(),
    ];
    let m = release::measure_wrapped(index, way, bench, settings, &wrap).map_err(|e| match e {
        Failure::NotApplicable(why) => format!("{}: {why}", r.name),
        Failure::Run(e) => e.to_string(),
    })?;
    let out = Command::new(&perf)
        .args(["report", "--stdio", "-q", "--sort", "sym", "-i"])
        .arg(&data)
        .output()
        .map_err(|e| format!("`perf report` failed to start: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`perf report` failed with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or("")
        ));
    }
    let report = String::from_utf8_lossy(&out.stdout);
    let p = Profile::of_report(r.name, bench.name, settings.procs, m.ns_per_op(), &report);
    if p.shares.is_empty() {
        return Err(format!(
            "{}: perf recorded no samples of {}",
            r.name, bench.name
        ));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_every_era() {
        let c = |s| classify(s, false);
        // Go 1.4 (runtime in Go).
        assert_eq!(c("runtime.chansend"), Subsystem::Channels);
        assert_eq!(c("runtime.(*waitq).dequeue"), Subsystem::Channels);
        assert_eq!(c("runtime.releaseSudog"), Subsystem::Channels);
        assert_eq!(c("runtime.casgstatus"), Subsystem::Scheduler);
        assert_eq!(c("runtime.goparkunlock"), Subsystem::Scheduler);
        assert_eq!(c("runtime.cas"), Subsystem::LocksAtomics);
        assert_eq!(c("runtime.xchg"), Subsystem::LocksAtomics);
        assert_eq!(c("runtime.onM"), Subsystem::Mechanics);
        assert_eq!(c("runtime.acquirem"), Subsystem::Mechanics);
        assert_eq!(c("runtime.getg"), Subsystem::Mechanics);
        assert_eq!(c("runtime.writebarrierptr"), Subsystem::MemoryGc);
        assert_eq!(c("runtime.gomcache"), Subsystem::Mechanics);
        // Go 1.0 / 1.1 (the runtime's C functions have no package).
        assert_eq!(c("schedule"), Subsystem::Scheduler);
        assert_eq!(c("runqget"), Subsystem::Scheduler);
        assert_eq!(c("nextgandunlock"), Subsystem::Scheduler);
        assert_eq!(c("schedlock"), Subsystem::LocksAtomics);
        assert_eq!(c("runtime.notesleep"), Subsystem::LocksAtomics);
        assert_eq!(c("runtime.mallocgc"), Subsystem::MemoryGc);
        assert_eq!(c("MCentral_Alloc"), Subsystem::MemoryGc);
        assert_eq!(c("scanblock"), Subsystem::MemoryGc);
        assert_eq!(c("runtime.mcall"), Subsystem::Mechanics);
        // The benchmark's own code, and the rest.
        assert_eq!(c("main.pingPong"), Subsystem::Workload);
        assert_eq!(c("main.func·011"), Subsystem::Workload);
        assert_eq!(c("runtime_test.BenchmarkSyscall"), Subsystem::Workload);
        assert_eq!(c("testing.(*B).runN"), Subsystem::Workload);
        assert_eq!(c("reflect.ValueOf"), Subsystem::Other);
        assert_eq!(classify("do_syscall_64", true), Subsystem::Kernel);
        assert_eq!(c("0x000000f8400757d6"), Subsystem::Other);
    }

    #[test]
    fn a_report_folds_into_shares() {
        let report = "    50.00%  [.] runtime.cas\n    25.00%  [.] runtime.chansend\n\
                      \n# comment\n    20.00%  [k] __schedule\n     5.00%  [.] main.pingPong\n";
        let p = Profile::of_report("go1.4.3", "ping-pong", 1, 200.0, report);
        assert!((p.ns(Subsystem::LocksAtomics) - 100.0).abs() < 1e-9);
        assert!((p.ns(Subsystem::Channels) - 50.0).abs() < 1e-9);
        assert!((p.ns(Subsystem::Kernel) - 40.0).abs() < 1e-9);
        assert!((p.ns(Subsystem::Workload) - 10.0).abs() < 1e-9);
        assert_eq!(p.ns(Subsystem::Scheduler), 0.0);
        assert_eq!(p.top.len(), 4);
        assert_eq!(
            parse_report_line("    14.19%  [.] runtime.cas").unwrap().2,
            "runtime.cas"
        );
        assert!(parse_report_line("# Samples: 1K").is_none());
    }
}
