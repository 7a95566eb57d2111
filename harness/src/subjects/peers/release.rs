//! The historical Go releases as columns: `--peers go1.0.3,go1.1.2,go1.4.3` (and the July-2011
//! pair `go2011-before`, `go2011-cl`), each the real runtime built from its source archive by
//! `lab history` (the folder comes from `--go-src` or `$LAB_GO_SRC`).
//!
//! A row is measured one of two ways, and says which ([`Measurement::method`]):
//! - where the release has the workload as one of Go's own runtime benchmarks, the way history
//!   measured it: the release's `go test -c runtime` binary at `-test.cpu` = procs, one process
//!   per run, in its flag dialect ([`Way::GoTest`]);
//! - otherwise the go peer's program (`harness/peers/go/`, written in the Go 1.0 language so
//!   every Go 1 release compiles it) built by the release's own `go` ([`Way::Program`]).
//!
//! Where neither can express the workload the cell is n/a with the reason ([`way`]), never a
//! figure from another release.

use super::go;
use crate::measure::ramp::{Ramp, Round};
use crate::measure::runner::{Measurement, Settings};
use crate::subjects::history::release::{Flow, GoBench, Release, RELEASES};
use crate::subjects::history::{self, archive, bench, toolchain::Toolchain};
use crate::subjects::{Failure, Peer};
use crate::workloads::{WorkloadInfo, LOCAL_WORK};
use schedcore::RunError;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

/// The release `RELEASES[I]` as a peer.
pub struct ReleasePeer<const I: usize>;

impl<const I: usize> Peer for ReleasePeer<I> {
    const NAME: &'static str = RELEASES[I].name;
    const ABOUT: &'static str = RELEASES[I].about;

    fn measure(bench: &WorkloadInfo, settings: &Settings) -> Result<Measurement, Failure> {
        measure(I, bench, settings)
    }
}

/// How a release measures a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    /// Its own runtime benchmark, from its `go test` binary.
    GoTest(GoBench),
    /// The lab's go program, built by its `go`.
    Program,
}

impl Way {
    /// What a row says of it (the benchmark's name is the row's: the lab's workloads carry Go's
    /// names).
    pub fn describe(self, r: &Release) -> String {
        match self {
            Way::GoTest(_) => format!("{}'s own runtime benchmark (go test)", r.name),
            Way::Program => format!("the lab's go program built by {}", r.name),
        }
    }
}

/// How `r` measures `bench` with `settings`, or why it cannot (the n/a reason). Needs no
/// toolchain: it reads the release table and the program's list of workloads.
pub fn way(r: &Release, bench: &WorkloadInfo, settings: &Settings) -> Result<Way, &'static str> {
    if settings.iterations.is_some() {
        return Err(super::child::NO_FIXED_N);
    }
    if let Some(b) = r.benchmark(bench.name) {
        if bench.name.ends_with("-work") && settings.work != LOCAL_WORK {
            return Err(
                "the release's own benchmark fixes LocalWork at 100; it cannot take --work",
            );
        }
        return Ok(Way::GoTest(b));
    }
    program_way(r, bench).map(|()| Way::Program)
}

/// Whether the lab's program built by `r` can measure `bench`, or why not: the way [`way`]
/// takes where the release has no benchmark of its own (`lab check-go --release` checks the
/// program on the workloads that have both).
pub fn program_way(r: &Release, bench: &WorkloadInfo) -> Result<(), &'static str> {
    if r.flow == Flow::Make2011 {
        return Err("the July-2011 trees predate Go 1 and the go command: only their own BenchmarkSyscall and BenchmarkSyscallWork run there");
    }
    if go::LINKNAME_WORKLOADS.contains(&bench.name) {
        return Err("a program cannot call the runtime's entersyscall before Go 1.5 (no //go:linkname), and this release's runtime tests have no such benchmark");
    }
    if bench.hog && !r.preempts {
        return Err("no preemption before Go 1.2: the hog would keep the only P forever");
    }
    if !go::WORKLOADS.contains(&bench.name) {
        return Err("the go peer has no version of this workload");
    }
    Ok(())
}

/// One measurement of `bench` on `RELEASES[index]`, the way [`way`] chooses.
fn measure(
    index: usize,
    bench: &WorkloadInfo,
    settings: &Settings,
) -> Result<Measurement, Failure> {
    let way = way(&RELEASES[index], bench, settings).map_err(Failure::NotApplicable)?;
    measure_way(index, way, bench, settings)
}

/// One measurement of `bench` on `RELEASES[index]` the way given (`lab check-go` measures the
/// workloads a release has as benchmarks both ways).
pub fn measure_way(
    index: usize,
    way: Way,
    bench: &WorkloadInfo,
    settings: &Settings,
) -> Result<Measurement, Failure> {
    measure_wrapped(index, way, bench, settings, &[])
}

/// [`measure_way`] with the process started by `wrap` (`perf record ... --`; see
/// `history/profile.rs`).
pub fn measure_wrapped(
    index: usize,
    way: Way,
    bench: &WorkloadInfo,
    settings: &Settings,
    wrap: &[String],
) -> Result<Measurement, Failure> {
    let r = &RELEASES[index];
    let tc = toolchain(index).map_err(Failure::NotApplicable)?;
    let fail = |e: String| Failure::Run(RunError::Panic(format!("{}: {e}", r.name)));
    let mut m = match way {
        Way::GoTest(b) => {
            let line = bench::run_with(tc, b, settings.procs, settings.benchtime, wrap)
                .map_err(|e| fail(e.to_string()))?;
            go_test_measurement(line.iterations, line.ns_per_op)
        }
        Way::Program => {
            let program = program(index).map_err(Failure::NotApplicable)?;
            go::run_with(r.name, program, bench, settings, wrap)?
        }
    };
    m.method = Some(way.describe(r));
    Ok(m)
}

/// A `go test` line as a measurement: one round, N and N x ns/op (Go prints nothing of its
/// ramp, its counters or its latencies).
pub fn go_test_measurement(iterations: u64, ns_per_op: f64) -> Measurement {
    Measurement {
        ramp: Ramp {
            rounds: vec![Round {
                n: iterations.max(1),
                elapsed: Duration::from_nanos((ns_per_op * iterations.max(1) as f64).round() as u64),
            }],
        },
        counters: BTreeMap::new(),
        latencies: BTreeMap::new(),
        starved: false,
        memory: None,
        method: None,
    }
}

/// Built toolchains by release index, once per process: the error is the n/a reason.
static TOOLCHAINS: [OnceLock<Result<Toolchain, String>>; RELEASES.len()] =
    [const { OnceLock::new() }; RELEASES.len()];

/// The programs the releases built, by release index.
static PROGRAMS: [OnceLock<Result<go::Program, String>>; RELEASES.len()] =
    [const { OnceLock::new() }; RELEASES.len()];

/// The toolchain of `RELEASES[index]`, built on first use (with a progress line on stderr,
/// which is why [`prepare`] does it before a command's progress bar starts).
fn toolchain(index: usize) -> Result<&'static Toolchain, &'static str> {
    let r = &RELEASES[index];
    TOOLCHAINS[index]
        .get_or_init(|| {
            let dir = archive::source_dir(None).map_err(|e| {
                eprintln!("lab: {}: {e}", r.name);
                format!(
                    "{} is not built here: no folder of Go source archives (--go-src DIR or {})",
                    r.name,
                    archive::ENV
                )
            })?;
            history::ready(r, &dir, false).map_err(|e| {
                if let Some(tail) = e.detail() {
                    eprintln!("{tail}");
                }
                eprintln!("lab: {e}");
                format!("{} could not be had: {e}", r.name)
            })
        })
        .as_ref()
        .map_err(String::as_str)
}

/// The go peer's program built by `RELEASES[index]`'s `go`, under its toolchain's folder.
fn program(index: usize) -> Result<&'static std::path::Path, &'static str> {
    let r = &RELEASES[index];
    let tc = toolchain(index)?;
    PROGRAMS[index]
        .get_or_init(|| {
            let goroot = tc.goroot();
            go::build(
                &goroot.join("bin/go"),
                &tc.dir.join("go-peer"),
                Some(&goroot),
            )
            .map_err(|e| {
                eprintln!("lab: {}: the go peer's program: {e}", r.name);
                format!(
                    "the lab's go program did not build with {} (the error is on stderr)",
                    r.name
                )
            })
        })
        .as_ref()
        .map(|p| p.path.as_path())
        .map_err(String::as_str)
}

/// The release peer named `name`'s index in [`RELEASES`], if it is one.
pub fn index(name: &str) -> Option<usize> {
    RELEASES.iter().position(|r| r.name == name)
}

/// Builds what `peers` (names of a command's columns) need of the releases before the first
/// measurement, and returns each release's `go version` for the run's machine record. A
/// release that cannot be had is reported on stderr here, and its rows are n/a.
pub fn prepare(peers: &[String]) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    for i in peers.iter().filter_map(|p| index(p)) {
        if let Ok(tc) = toolchain(i) {
            if RELEASES[i].flow == Flow::Dist {
                let _ = program(i);
            }
            v.insert(RELEASES[i].name.to_string(), tc.stamp.version.clone());
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subjects::history::release::by_name;
    use crate::subjects::registry;

    fn way_of(r: &str, w: &str) -> Result<Way, &'static str> {
        let s = Settings::new(1, Duration::from_millis(10));
        way(by_name(r).unwrap(), registry::workload(w).unwrap(), &s)
    }

    #[test]
    fn the_release_benchmark_comes_first() {
        assert!(matches!(way_of("go1.0.3", "syscall"), Ok(Way::GoTest(b)) if b.go == "Syscall"));
        assert!(matches!(way_of("go1.0.3", "chan-sync"), Ok(Way::GoTest(_))));
        assert!(matches!(way_of("go1.1.2", "matmult"), Ok(Way::GoTest(_))));
        assert!(matches!(
            way_of("go1.4.3", "syscall-excess"),
            Ok(Way::GoTest(_))
        ));
        assert!(matches!(
            way_of("go2011-cl", "syscall-work"),
            Ok(Way::GoTest(_))
        ));
        assert_eq!(way_of("go1.0.3", "create-goroutines"), Ok(Way::Program));
        assert_eq!(way_of("go1.1.2", "ping-pong"), Ok(Way::Program));
        assert_eq!(way_of("go1.4.3", "ping-pong-hog"), Ok(Way::Program));
    }

    #[test]
    fn what_a_release_cannot_express_is_na_with_a_reason() {
        let na = |r, w| way_of(r, w).unwrap_err();
        assert!(na("go2011-before", "ping-pong").contains("predate Go 1"));
        assert!(na("go1.0.3", "syscall-excess").contains("//go:linkname"));
        assert!(na("go1.0.3", "ping-pong-hog").contains("preemption"));
        assert!(na("go1.1.2", "ping-pong-hog").contains("preemption"));
        assert!(na("go1.4.3", "wakeup-spinning-5us").contains("no version"));
        let mut s = Settings::new(1, Duration::from_millis(10));
        s.work = 400;
        let r = by_name("go1.0.3").unwrap();
        let e = way(r, registry::workload("syscall-work").unwrap(), &s).unwrap_err();
        assert!(e.contains("LocalWork"), "{e}");
        assert_eq!(
            way(r, registry::workload("syscall").unwrap(), &s),
            Ok(Way::GoTest(r.benchmark("syscall").unwrap()))
        );
        s.iterations = Some(10);
        assert!(way(r, registry::workload("syscall").unwrap(), &s).is_err());
    }

    #[test]
    fn rows_say_which_way() {
        let r = by_name("go1.1.2").unwrap();
        let b = r.benchmark("chan-sync").unwrap();
        assert_eq!(
            Way::GoTest(b).describe(r),
            "go1.1.2's own runtime benchmark (go test)"
        );
        // The row's Go name is the release's benchmark.
        for b in r.benchmarks {
            assert_eq!(registry::workload(b.workload).unwrap().go_name, b.func());
        }
        assert_eq!(
            Way::Program.describe(r),
            "the lab's go program built by go1.1.2"
        );
    }

    #[test]
    fn a_go_test_line_is_one_round() {
        let m = go_test_measurement(2_000_000, 416.5);
        assert_eq!(m.ramp.rounds.len(), 1);
        assert_eq!(m.iterations(), 2_000_000);
        assert!((m.ns_per_op() - 416.5).abs() < 1e-6);
    }

    #[test]
    fn every_release_is_a_peer() {
        for r in RELEASES {
            let p = registry::peer(r.name).unwrap_or_else(|| panic!("{} is no peer", r.name));
            assert_eq!(p.about, r.about);
            assert_eq!(index(r.name).map(|i| RELEASES[i].name), Some(r.name));
        }
    }
}
