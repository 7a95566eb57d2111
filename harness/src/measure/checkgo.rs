//! What `lab check-go` measures: does the go peer measure what `go test` measures? For every
//! lab workload that Go's own runtime tests have as a benchmark, the go peer's figure beside
//! `go test`'s on the same Go, in the same run, interleaved (run k of one, then run k of the
//! other), with the ratio of the medians. ping-pong has no benchmark in Go's runtime: its
//! reference is the plain `testing.B` loop kept beside the go peer
//! (`peers/go/pingpong_test.go`).

use crate::measure::runner::Settings;
use crate::measure::stats::Spread;
use crate::subjects::history::release::{Release, RELEASES};
use crate::subjects::peers::go::{self, Go};
use crate::subjects::peers::release::{self, Way};
use crate::subjects::registry;
use crate::subjects::{Failure, Peer};
use crate::workloads::WorkloadInfo;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A lab workload and the `go test` benchmark it is checked against.
#[derive(Clone, Copy, Debug)]
pub struct Pair {
    pub bench: &'static str,
    /// The benchmark's name in its test file.
    pub go_test: &'static str,
    /// Where the benchmark lives: Go's `runtime` package, or the go peer's own test file.
    pub package: Package,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Package {
    Runtime,
    Peer,
}

/// Every pair checked: the workloads of the lab that exist in Go's own runtime tests, and
/// ping-pong against the peer's plain loop.
pub const PAIRS: &[Pair] = &[
    pair("syscall", "BenchmarkSyscall", Package::Runtime),
    pair("syscall-work", "BenchmarkSyscallWork", Package::Runtime),
    pair(
        "create-goroutines",
        "BenchmarkCreateGoroutines",
        Package::Runtime,
    ),
    pair(
        "create-goroutines-parallel",
        "BenchmarkCreateGoroutinesParallel",
        Package::Runtime,
    ),
    pair("matmult", "BenchmarkMatmult", Package::Runtime),
    pair("chan-sync", "BenchmarkChanSync", Package::Runtime),
    pair("ping-pong-hog", "BenchmarkPingPongHog", Package::Runtime),
    pair("ping-pong", "BenchmarkPingPong", Package::Peer),
];

const fn pair(bench: &'static str, go_test: &'static str, package: Package) -> Pair {
    Pair {
        bench,
        go_test,
        package,
    }
}

/// The medians of one pair at one procs.
#[derive(Clone, Debug)]
pub struct Check {
    pub pair: Pair,
    pub procs: usize,
    pub go_test: Spread,
    pub peer: Spread,
    /// The two-sided Mann-Whitney U test of the peer's runs against `go test`'s (the lab's
    /// significance test): below 0.05 the two differ by more than the machine's noise.
    pub p_value: Option<f64>,
}

impl Check {
    /// The go peer's median over `go test`'s.
    pub fn ratio(&self) -> f64 {
        self.peer.median / self.go_test.median
    }
}

/// The test binaries, built once with the go on PATH next to the go peer's program.
pub struct TestBinaries {
    runtime: PathBuf,
    peer: PathBuf,
}

impl TestBinaries {
    /// Builds (or finds) `go test -c` of the runtime and of the peer's package.
    pub fn build() -> Result<TestBinaries, String> {
        let program = go::program().map_err(|e| format!("go peer: {e}"))?;
        let gobin = go::find_on_path("go").ok_or("no go on PATH")?;
        let dir = program
            .path
            .parent()
            .expect("the program lives in a folder");
        let src = dir.join("src");
        let runtime = dir.join("runtime.test");
        let peer = dir.join("pingpong.test");
        compile(&gobin, &src, "runtime", &runtime)?;
        compile(&gobin, &src, ".", &peer)?;
        Ok(TestBinaries { runtime, peer })
    }

    /// One `go test` run of `pair` at `procs`: its ns/op.
    pub fn run(&self, pair: &Pair, procs: usize, benchtime: Duration) -> Result<f64, String> {
        let bin = match pair.package {
            Package::Runtime => &self.runtime,
            Package::Peer => &self.peer,
        };
        let out = Command::new(bin)
            .env_remove("GODEBUG")
            .env_remove("GOGC")
            .env_remove("GOMAXPROCS")
            .args(["-test.run", "NONE", "-test.count", "1"])
            .args(["-test.bench", &format!("^{}$", pair.go_test)])
            .args(["-test.cpu", &procs.to_string()])
            .args(["-test.benchtime", &format!("{}ns", benchtime.as_nanos())])
            .output()
            .map_err(|e| format!("{} failed to start: {e}", bin.display()))?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!(
                "{} -test.bench {} failed with {}",
                bin.display(),
                pair.go_test,
                out.status
            ));
        }
        parse_ns_per_op(&text, pair.go_test).ok_or_else(|| {
            format!(
                "no ns/op line for {} in the output of {}",
                pair.go_test,
                bin.display()
            )
        })
    }
}

/// `go test -c` of `package` into `out`, unless it is there already.
fn compile(go: &Path, src: &Path, package: &str, out: &Path) -> Result<(), String> {
    if out.is_file() {
        return Ok(());
    }
    let tmp = out.with_extension(format!("{}.tmp", std::process::id()));
    let res = Command::new(go)
        .current_dir(src)
        .args(["test", "-c", "-o"])
        .arg(&tmp)
        .arg(package)
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .output()
        .map_err(|e| format!("`go test -c {package}` failed to start: {e}"))?;
    if !res.status.success() {
        let err = String::from_utf8_lossy(&res.stderr);
        return Err(format!(
            "`go test -c {package}` failed with {}: {}",
            res.status,
            err.lines().next().unwrap_or("no message")
        ));
    }
    std::fs::rename(&tmp, out).map_err(|e| format!("cannot place {}: {e}", out.display()))
}

/// The ns/op of the line of benchmark `name` in `go test`'s output (`BenchmarkX-2  N  31.0
/// ns/op`; without a procs suffix at 1).
pub fn parse_ns_per_op(output: &str, name: &str) -> Option<f64> {
    output.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        let first = words.next()?;
        let base = first.split('-').next()?;
        if base != name {
            return None;
        }
        let rest: Vec<&str> = words.collect();
        let i = rest.iter().position(|w| *w == "ns/op")?;
        rest.get(i.checked_sub(1)?)?.parse().ok()
    })
}

/// One measurement of the go peer (the lab's own runner for it).
pub fn peer_run(bench: &WorkloadInfo, procs: usize, benchtime: Duration) -> Result<f64, String> {
    match Go::measure(bench, &Settings::new(procs, benchtime)) {
        Ok(m) => Ok(m.ns_per_op()),
        Err(Failure::NotApplicable(why)) => Err(format!("go peer on {}: {why}", bench.name)),
        Err(Failure::Run(e)) => Err(format!("go peer on {}: {e}", bench.name)),
    }
}

/// Every pair at every procs, `count` interleaved runs each; `step` is told before each run.
pub fn check(
    procs: &[usize],
    count: usize,
    benchtime: Duration,
    step: impl FnMut(String),
) -> Result<Vec<Check>, String> {
    let bins = TestBinaries::build()?;
    check_pairs(
        PAIRS,
        procs,
        count,
        step,
        |pair, p| bins.run(pair, p, benchtime),
        |bench, p| peer_run(bench, p, benchtime),
    )
}

/// The pairs of a historical release: every workload it has as one of its own runtime
/// benchmarks that the lab's go program built by it also has (none for the July-2011 trees,
/// which build no program; on Go 1.0.3 to 1.4.3 the syscall benchmarks are left out: the
/// program reaches the runtime's entersyscall only from Go 1.5 on).
pub fn release_pairs(r: &Release) -> Vec<Pair> {
    r.benchmarks
        .iter()
        .filter_map(|b| {
            let w = registry::workload(b.workload)?;
            release::program_way(r, w)
                .is_ok()
                .then_some(pair(w.name, w.go_name, Package::Runtime))
        })
        .collect()
}

/// [`check`] for the historical release `RELEASES[index]`: its own `go test` benchmarks against
/// the lab's program built by it, on [`release_pairs`].
pub fn check_release(
    index: usize,
    procs: &[usize],
    count: usize,
    benchtime: Duration,
    step: impl FnMut(String),
) -> Result<Vec<Check>, String> {
    let r = &RELEASES[index];
    let pairs = release_pairs(r);
    let one = |bench: &WorkloadInfo, p: usize, way: Way| {
        release::measure_way(index, way, bench, &Settings::new(p, benchtime))
            .map(|m| m.ns_per_op())
            .map_err(|e| format!("{} on {}: {e}", r.name, bench.name))
    };
    check_pairs(
        &pairs,
        procs,
        count,
        step,
        |pair, p| {
            let w = registry::workload(pair.bench).expect("a pair names a workload");
            let b = r
                .benchmark(pair.bench)
                .expect("a release pair is its benchmark");
            one(w, p, Way::GoTest(b))
        },
        |bench, p| one(bench, p, Way::Program),
    )
}

/// Every pair at every procs, `count` interleaved runs of `go_test` and `peer` each.
fn check_pairs(
    pairs: &[Pair],
    procs: &[usize],
    count: usize,
    mut step: impl FnMut(String),
    go_test: impl Fn(&Pair, usize) -> Result<f64, String>,
    peer: impl Fn(&WorkloadInfo, usize) -> Result<f64, String>,
) -> Result<Vec<Check>, String> {
    let mut out = Vec::new();
    for pair in pairs {
        let bench = registry::workload(pair.bench).expect("every pair names a lab workload");
        for &p in procs {
            let (mut gt, mut pr) = (Vec::new(), Vec::new());
            for k in 0..count {
                step(format!(
                    "{} at procs {p}, run {}/{count}",
                    pair.bench,
                    k + 1
                ));
                gt.push(go_test(pair, p)?);
                pr.push(peer(bench, p)?);
            }
            out.push(Check {
                pair: *pair,
                procs: p,
                go_test: Spread::of(&gt).expect("count is at least 1"),
                peer: Spread::of(&pr).expect("count is at least 1"),
                p_value: crate::measure::stats::mann_whitney_u(&gt, &pr),
            });
        }
    }
    Ok(out)
}

/// The table: workload, procs, `go test`'s and the peer's medians, their ratio, within 10%;
/// `go_version` heads the footnote, which says where the `go test` side comes from.
pub fn render(checks: &[Check], go_version: &str, source: &str) -> String {
    use crate::output::benchfmt::{format_ns, row_name};
    let spread = |x: &Spread| format!("±{:.0}%", x.rel_spread() * 100.0);
    let mut s = format!(
        "{:<34} {:>14} {:>6} {:>14} {:>6} {:>8}  {:<10}  {}\n",
        "go test benchmark",
        "go test ns/op",
        "",
        "go peer ns/op",
        "",
        "ratio",
        "within 10%",
        "differ (p)"
    );
    for c in checks {
        let r = c.ratio();
        s.push_str(&format!(
            "{:<34} {:>14} {:>6} {:>14} {:>6} {:>8.3}  {:<10}  {}\n",
            row_name(c.pair.go_test, c.procs),
            format_ns(c.go_test.median),
            spread(&c.go_test),
            format_ns(c.peer.median),
            spread(&c.peer),
            r,
            if (r - 1.0).abs() <= 0.10 { "yes" } else { "NO" },
            match c.p_value {
                Some(p) if p < 0.05 => format!("yes ({p:.3})"),
                Some(p) => format!("~ ({p:.3})"),
                None => String::new(),
            }
        ));
    }
    s.push_str(&format!(
        "({go_version}; medians, ± the larger distance to min or max; differ: the two sides' runs differ by the two-sided Mann-Whitney U test, p < 0.05, `~` where the machine's noise hides any difference; {source})\n"
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_test_lines() {
        let out = "goos: linux\nBenchmarkSyscall-2   \t 1000000\t        31.0 ns/op\n\
                   BenchmarkSyscallWork \t 2000\t 512 ns/op\t 0 B/op\nPASS\n";
        assert_eq!(parse_ns_per_op(out, "BenchmarkSyscall"), Some(31.0));
        assert_eq!(parse_ns_per_op(out, "BenchmarkSyscallWork"), Some(512.0));
        assert_eq!(parse_ns_per_op(out, "BenchmarkMatmult"), None);
    }

    #[test]
    fn release_pairs_are_what_both_sides_have() {
        let names = |r: &str| -> Vec<&str> {
            release_pairs(crate::subjects::history::release::by_name(r).unwrap())
                .iter()
                .map(|p| p.bench)
                .collect()
        };
        assert_eq!(names("go1.0.3"), ["chan-sync"]);
        for r in ["go1.1.2", "go1.4.3"] {
            assert_eq!(
                names(r),
                [
                    "chan-sync",
                    "create-goroutines",
                    "create-goroutines-parallel",
                    "matmult"
                ]
            );
        }
        assert!(names("go2011-cl").is_empty() && names("go2011-before").is_empty());
    }

    #[test]
    fn every_pair_names_a_workload_of_the_go_peer() {
        for p in PAIRS {
            assert!(registry::workload(p.bench).is_some(), "{}", p.bench);
            assert!(go::WORKLOADS.contains(&p.bench), "{}", p.bench);
        }
    }
}
