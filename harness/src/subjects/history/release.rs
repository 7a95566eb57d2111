//! The five historical Go trees the lab knows: their archives, hashes and commits, how each is
//! built, which host-side fixes it needs, and which of Go's own runtime benchmarks it has.

use std::time::Duration;

/// One historical tree, by the name `lab history` (and later the peers) use for it.
#[derive(Debug)]
pub struct Release {
    /// The lab's name: `go1.0.3`, `go2011-cl`, ...
    pub name: &'static str,
    /// What it is, for `lab history list`.
    pub about: &'static str,
    /// The archive's file name in the `--go-src` folder; it unpacks to `go/`.
    pub archive: &'static str,
    /// The sha256 of the archive the lab was checked with (lowercase hex).
    pub sha256: &'static str,
    /// The commit the tree is, in the Go repository's history.
    pub commit: &'static str,
    /// For a tagged release, what `go/VERSION` says; `None` for the 2011 trees, which have no
    /// VERSION file.
    pub version: Option<&'static str>,
    /// How the tree is built and its test binary made.
    pub flow: Flow,
    /// The host-side changes it needs to build with today's gcc and bison, in order.
    pub fixes: &'static [Fix],
    /// How its test binary's flags are spelled.
    pub dialect: Dialect,
    /// Go's own runtime benchmarks it has, with the lab workloads they correspond to.
    pub benchmarks: &'static [GoBench],
    /// Whether its scheduler preempts a running goroutine at its next function call (Go 1.2
    /// on): without it, a CPU hog that never blocks keeps GOMAXPROCS 1 forever.
    pub preempts: bool,
}

/// How a tree is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go 1 on: `cd go/src && CGO_ENABLED=0 ./make.bash` (cmd/dist), then `go test -c runtime`,
    /// which writes `runtime.test` in the current directory (1.0 and 1.1 have no `-o`).
    Dist,
    /// Before the `go` command (July 2011): `make.bash` drives Makefiles, `gotest -c` in
    /// `src/pkg/runtime` writes `6.out`.
    Make2011,
}

/// A change to a tree that the lab makes after unpacking it, each one the lab's own code (see
/// `fixes.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fix {
    /// `src/cmd/dist/build.c` passes `-Werror` to gcc, and gcc 12's newer warnings then stop
    /// the build: the one flag becomes `-Wno-error`.
    DistNoWerror,
    /// `src/cmd/gc/bisonerrors` reads bison 2's `y.output`; bison 3 capitalises `State` and
    /// writes `%empty` for an empty rule.
    BisonErrors3,
    /// The CL 4723042 tree's benchmarks (BenchmarkSyscall, BenchmarkSyscallWork, and the
    /// exported Entersyscall/Exitsyscall they call) added to the tree just before it, so the
    /// old code runs the same benchmark, as the CL's author did.
    Cl4723042Tests,
}

/// The test binary's flag dialect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// `-test.benchtime` is a number of seconds (`1.0`): Go 1.0 and before.
    Seconds,
    /// `-test.benchtime` is a duration (`1s`, `100ms`): Go 1.1 on.
    Duration,
}

/// One of Go's own runtime benchmarks in a release.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GoBench {
    /// Its name in Go, without `Benchmark`: `Syscall`, `ChanSync`, ...
    pub go: &'static str,
    /// The lab workload that is the same loop (see `workloads/` and the go peer's WORKLOADS).
    pub workload: &'static str,
}

impl GoBench {
    /// The function's name, as the binary's `-test.bench` matches it: `BenchmarkSyscall`.
    pub fn func(&self) -> String {
        format!("Benchmark{}", self.go)
    }
}

const fn b(go: &'static str, workload: &'static str) -> GoBench {
    GoBench { go, workload }
}

/// What the July-2011 pair has: the CL's two benchmarks (the `before` tree through the lab's
/// test hunk).
const BENCH_2011: &[GoBench] = &[b("Syscall", "syscall"), b("SyscallWork", "syscall-work")];

/// Go 1.0.3's `proc_test.go` and `chan_test.go`.
const BENCH_GO10: &[GoBench] = &[
    b("Syscall", "syscall"),
    b("SyscallWork", "syscall-work"),
    b("ChanSync", "chan-sync"),
];

/// Go 1.1.2's and 1.4.3's (the same names in both; in 1.4.3 the syscall benchmarks use
/// RunParallel).
const BENCH_GO11: &[GoBench] = &[
    b("Syscall", "syscall"),
    b("SyscallWork", "syscall-work"),
    b("SyscallExcess", "syscall-excess"),
    b("SyscallExcessWork", "syscall-excess-work"),
    b("ChanSync", "chan-sync"),
    b("CreateGoroutines", "create-goroutines"),
    b("CreateGoroutinesParallel", "create-goroutines-parallel"),
    b("Matmult", "matmult"),
];

/// The trees, oldest first. The hashes are those of the archives the lab was checked with;
/// an archive of the same tree made another way (the Go project's download page, `git
/// archive` of the commit) has other bytes, and is taken with a warning (see `archive.rs`).
pub const RELEASES: &[Release] = &[
    Release {
        name: "go2011-before",
        about: "July 2011, the parent of CL 4723042 (seed 002's old side), with the CL's benchmarks added",
        archive: "go-2011-07-19-before.src.tar.gz",
        sha256: "fe1b303efd422f71f1931bd4ec56e94bef44ece5b1b5bf4980ae1027162a6fd3",
        commit: "566bcaa407c2e2895ec93e04d09b684c3b7a1d59",
        version: None,
        flow: Flow::Make2011,
        fixes: &[Fix::BisonErrors3, Fix::Cl4723042Tests],
        dialect: Dialect::Seconds,
        benchmarks: BENCH_2011,
        preempts: false,
    },
    Release {
        name: "go2011-cl",
        about: "July 2011, CL 4723042 itself (seed 002's new side: lock-free syscall fast paths)",
        archive: "go-2011-07-19-cl4723042.src.tar.gz",
        sha256: "068df7dfeed34d247748f0dea2cc5ceb044487fa90b21deba3daf4ee8b7e7b39",
        commit: "8330e9e06541633dc590e94e409bffcf25cecca3",
        version: None,
        flow: Flow::Make2011,
        fixes: &[Fix::BisonErrors3],
        dialect: Dialect::Seconds,
        benchmarks: BENCH_2011,
        preempts: false,
    },
    Release {
        name: "go1.0.3",
        about: "Go 1.0.3, Sept 2012: the 2011 generation's runtime (seed 002 and its follow-ups)",
        archive: "go1.0.3.src.tar.gz",
        sha256: "8056999ce9abc6648095db5b2e6a53efad677b73598d4af8b7800205e5ed40f8",
        commit: "5f1bc78de2579eadfa0a4ddf02952860e0468665",
        version: Some("go1.0.3"),
        flow: Flow::Dist,
        fixes: &[Fix::DistNoWerror],
        dialect: Dialect::Seconds,
        benchmarks: BENCH_GO10,
        preempts: false,
    },
    Release {
        name: "go1.1.2",
        about: "Go 1.1.2, Aug 2013: the first G-M-P scheduler (seeds 000 and 003)",
        archive: "go1.1.2.src.tar.gz",
        sha256: "50282e4f9ce22a80132f5eea26ed1b864ae9e887f4df0839b2e4297d03fb91ad",
        commit: "6f1666c6d680089b64e33696cc9dd64c64f382fd",
        version: Some("go1.1.2"),
        flow: Flow::Dist,
        fixes: &[Fix::DistNoWerror],
        dialect: Dialect::Duration,
        benchmarks: BENCH_GO11,
        preempts: false,
    },
    Release {
        name: "go1.4.3",
        about: "Go 1.4.3, Sept 2015: Go 1.4's scheduler (seeds 001 and 004)",
        archive: "go1.4.3.src.tar.gz",
        sha256: "1552010c76282e9896a55b146f120f30da1140ec7b2ce930c199b2f19148cc54",
        commit: "50eb39bb23e8b03e823c38e844f0410d0b5325d2",
        version: Some("go1.4.3"),
        flow: Flow::Dist,
        fixes: &[],
        dialect: Dialect::Duration,
        benchmarks: BENCH_GO11,
        preempts: true,
    },
];

/// The names, in table order.
pub fn names() -> Vec<&'static str> {
    RELEASES.iter().map(|r| r.name).collect()
}

/// The release called `name`.
pub fn by_name(name: &str) -> Option<&'static Release> {
    RELEASES.iter().find(|r| r.name == name)
}

impl Release {
    /// Its benchmark for `name`: a lab workload (`syscall-work`) or Go's name with or without
    /// `Benchmark` (`SyscallWork`, `BenchmarkSyscallWork`), any case.
    pub fn benchmark(&self, name: &str) -> Option<GoBench> {
        let bare = name.strip_prefix("Benchmark").unwrap_or(name);
        self.benchmarks
            .iter()
            .copied()
            .find(|b| b.workload == name || b.go.eq_ignore_ascii_case(bare))
    }

    /// The first 12 hex digits of `sha256`, which name the cache folder.
    pub fn short_hash(sha256: &str) -> &str {
        &sha256[..sha256.len().min(12)]
    }
}

impl Dialect {
    /// `-test.benchtime`'s value for `d`: seconds as a number (`0.1`) or a Go duration
    /// (`100ms`).
    pub fn benchtime(self, d: Duration) -> String {
        match self {
            Dialect::Seconds => {
                // Go 1.0's flag is a float64 of seconds: the shortest exact decimal, `1.0` not `1`.
                let s = format!("{:.9}", d.as_secs_f64());
                let s = s.trim_end_matches('0');
                match s.strip_suffix('.') {
                    Some(whole) => format!("{whole}.0"),
                    None => s.to_string(),
                }
            }
            Dialect::Duration => {
                let ns = d.as_nanos();
                if ns % 1_000_000_000 == 0 {
                    format!("{}s", ns / 1_000_000_000)
                } else if ns % 1_000_000 == 0 {
                    format!("{}ms", ns / 1_000_000)
                } else if ns % 1_000 == 0 {
                    format!("{}us", ns / 1_000)
                } else {
                    format!("{ns}ns")
                }
            }
        }
    }

    /// The test binary's arguments for one run of `bench` at `procs`: only that benchmark, no
    /// tests (`-test.run` matches no name), one process per run (no `-test.count` before Go
    /// 1.19).
    pub fn args(self, bench: GoBench, procs: usize, benchtime: Duration) -> Vec<String> {
        vec![
            "-test.run=^$".to_string(),
            // Unanchored at the start: the 2011 trees name benchmarks `runtime_test.Benchmark...`.
            format!("-test.bench={}$", bench.func()),
            format!("-test.cpu={procs}"),
            format!("-test.benchtime={}", self.benchtime(benchtime)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        let names = names();
        assert_eq!(names.len(), 5);
        for n in &names {
            assert_eq!(by_name(n).unwrap().name, *n);
        }
        assert!(by_name("go1.2").is_none());
        for r in RELEASES {
            assert_eq!(r.sha256.len(), 64, "{}", r.name);
            assert!(r
                .sha256
                .bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
            assert_eq!(r.commit.len(), 40, "{}", r.name);
            assert!(r.archive.ends_with(".tar.gz"));
        }
    }

    #[test]
    fn archive_table() {
        let r = by_name("go1.1.2").unwrap();
        assert_eq!(r.archive, "go1.1.2.src.tar.gz");
        assert_eq!(Release::short_hash(r.sha256), "50282e4f9ce2");
        assert_eq!(r.flow, Flow::Dist);
        assert_eq!(r.fixes, &[Fix::DistNoWerror]);
        let before = by_name("go2011-before").unwrap();
        assert_eq!(before.archive, "go-2011-07-19-before.src.tar.gz");
        assert_eq!(before.flow, Flow::Make2011);
        assert!(before.fixes.contains(&Fix::Cl4723042Tests));
        assert!(!by_name("go2011-cl")
            .unwrap()
            .fixes
            .contains(&Fix::Cl4723042Tests));
        assert!(by_name("go1.4.3").unwrap().fixes.is_empty());
    }

    #[test]
    fn benchmarks_by_release() {
        let has = |r: &str, w: &str| by_name(r).unwrap().benchmark(w).is_some();
        assert!(has("go1.0.3", "chan-sync"));
        assert!(!has("go1.0.3", "create-goroutines"));
        assert!(!has("go1.0.3", "matmult"));
        for r in ["go1.1.2", "go1.4.3"] {
            for w in ["syscall", "syscall-work", "chan-sync", "create-goroutines"] {
                assert!(has(r, w), "{r} {w}");
            }
            assert!(has(r, "create-goroutines-parallel") && has(r, "matmult"));
        }
        assert!(has("go2011-before", "syscall") && !has("go2011-cl", "chan-sync"));
        let r = by_name("go1.1.2").unwrap();
        assert_eq!(r.benchmark("SyscallWork").unwrap().workload, "syscall-work");
        assert_eq!(r.benchmark("BenchmarkMatmult").unwrap().go, "Matmult");
        assert_eq!(r.benchmark("chansync").unwrap().go, "ChanSync");
        assert!(r.benchmark("ping-pong").is_none());
    }

    #[test]
    fn every_workload_is_one_the_go_peer_has() {
        for r in RELEASES {
            for b in r.benchmarks {
                assert!(
                    crate::subjects::peers::go::WORKLOADS.contains(&b.workload),
                    "{} {}",
                    r.name,
                    b.workload
                );
            }
        }
    }

    #[test]
    fn benchtime_dialects() {
        let ms = Duration::from_millis;
        assert_eq!(Dialect::Seconds.benchtime(Duration::from_secs(1)), "1.0");
        assert_eq!(Dialect::Seconds.benchtime(ms(100)), "0.1");
        assert_eq!(Dialect::Seconds.benchtime(ms(1500)), "1.5");
        assert_eq!(Dialect::Duration.benchtime(Duration::from_secs(2)), "2s");
        assert_eq!(Dialect::Duration.benchtime(ms(100)), "100ms");
        assert_eq!(
            Dialect::Duration.benchtime(Duration::from_micros(1500)),
            "1500us"
        );
        assert_eq!(Dialect::Duration.benchtime(Duration::from_nanos(7)), "7ns");
    }

    #[test]
    fn flag_dialect_per_release() {
        let d = Duration::from_millis(250);
        let bench = b("Syscall", "syscall");
        let args = |r: &str| by_name(r).unwrap().dialect.args(bench, 2, d);
        for r in ["go1.0.3", "go2011-before", "go2011-cl"] {
            assert_eq!(
                args(r),
                [
                    "-test.run=^$",
                    "-test.bench=BenchmarkSyscall$",
                    "-test.cpu=2",
                    "-test.benchtime=0.25"
                ]
            );
        }
        for r in ["go1.1.2", "go1.4.3"] {
            assert_eq!(args(r)[3], "-test.benchtime=250ms");
            assert!(!args(r).iter().any(|a| a.contains("count")));
        }
    }
}
