//! The `go` peer: the lab's workloads on the real, modern Go runtime. The Go program in
//! `harness/peers/go/` (standard library only) runs one workload per process with GOMAXPROCS
//! set to the row's procs, ramps N as `testing.B` does (the lab's ramp, ported) and prints one
//! JSON line (see [`super::child`]). Its syscall workloads call the runtime's own
//! `entersyscall`/`exitsyscall` through `//go:linkname`, as Go's BenchmarkSyscall calls them
//! through export_test.go.
//!
//! The program is built with the `go` found on PATH, once per source and Go version, into
//! `target/go-peer/<hash>/` (its sources are embedded in the lab, so a changed source is a new
//! hash and a rebuild). With no `go` on PATH the lab says once how to install it and every go
//! row is "n/a: go not installed".

use super::child;
use crate::measure::runner::{Measurement, Settings};
use crate::subjects::{Failure, Peer};
use crate::workloads::WorkloadInfo;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The name in tables and in the JSON's `sched`.
pub const NAME: &str = "go";

/// The workloads the Go program has, by lab name (its `-list`; a test checks they agree).
pub const WORKLOADS: &[&str] = &[
    "chain-spawn",
    "chan-sync",
    "create-goroutines",
    "create-goroutines-parallel",
    "create-goroutines-single",
    "gc-pause",
    "goroutines-alive",
    "goroutines-alive-100k",
    "goroutines-alive-10k",
    "matmult",
    "ping-pong",
    "ping-pong-hog",
    "syscall",
    "syscall-block",
    "syscall-excess",
    "syscall-excess-work",
    "syscall-work",
    "yield-many",
];

/// The workloads whose pairs are the runtime's own entersyscall/exitsyscall, reached through
/// `//go:linkname` (`syscall_runtime.go`): a program built by a Go before 1.5 has none of them.
pub const LINKNAME_WORKLOADS: &[&str] = &[
    "syscall",
    "syscall-work",
    "syscall-excess",
    "syscall-excess-work",
];

/// The program's sources, embedded so a lab binary builds exactly the program it was built
/// with (name, contents).
const SOURCES: &[(&str, &str)] = &[
    ("go.mod", include_str!("../../../peers/go/go.mod")),
    ("empty.s", include_str!("../../../peers/go/empty.s")),
    ("main.go", include_str!("../../../peers/go/main.go")),
    ("ramp.go", include_str!("../../../peers/go/ramp.go")),
    ("alive.go", include_str!("../../../peers/go/alive.go")),
    ("syscall.go", include_str!("../../../peers/go/syscall.go")),
    (
        "syscall_runtime.go",
        include_str!("../../../peers/go/syscall_runtime.go"),
    ),
    (
        "workloads.go",
        include_str!("../../../peers/go/workloads.go"),
    ),
    // Not part of the program (`go build` leaves tests out): `lab check-go`'s reference loop.
    (
        "pingpong_test.go",
        include_str!("../../../peers/go/pingpong_test.go"),
    ),
];

/// How to get Go, said once when there is none.
pub const INSTALL_HINT: &str = "no `go` on PATH: the go peer's rows are n/a (install Go, e.g. `apt-get install golang-go` on Debian, or run harness/peers/go/install.sh)";

/// Why a go row has no figure when the program cannot be had.
const NOT_INSTALLED: &str = "go not installed";
const BUILD_FAILED: &str = "the go peer did not build (the error is on stderr)";

/// The `go` peer (see the head of this file).
pub struct Go;

impl Peer for Go {
    const NAME: &'static str = NAME;
    const ABOUT: &'static str = "the real Go runtime (the `go` on PATH), GOMAXPROCS = procs, a process per run; syscalls through the runtime's own entersyscall/exitsyscall";

    /// Measures `bench` at the settings' procs in a fresh Go process (GOMAXPROCS = procs).
    fn measure(bench: &WorkloadInfo, settings: &Settings) -> Result<Measurement, Failure> {
        if settings.iterations.is_some() {
            return Err(Failure::NotApplicable(super::child::NO_FIXED_N));
        }
        if !WORKLOADS.contains(&bench.name) {
            return Err(Failure::NotApplicable(
                "the go peer has no version of this workload",
            ));
        }
        let bin = program().map_err(Failure::NotApplicable)?;
        run(NAME, &bin.path, bench, settings)
    }
}

/// One run of a built program (this peer's, or one a historical release built: see
/// `release.rs`) on `bench` at the settings' procs, named `peer` in its errors.
pub fn run(
    peer: &str,
    program: &Path,
    bench: &WorkloadInfo,
    settings: &Settings,
) -> Result<Measurement, Failure> {
    run_with(peer, program, bench, settings, &[])
}

/// [`run`] with the program started by `wrap` (its program and arguments, the program's
/// command line after them: `perf record ... --`); none when empty.
pub fn run_with(
    peer: &str,
    program: &Path,
    bench: &WorkloadInfo,
    settings: &Settings,
    wrap: &[String],
) -> Result<Measurement, Failure> {
    let (procs, benchtime) = (settings.procs, settings.benchtime);
    let mut cmd = match wrap.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(program);
            c
        }
        None => Command::new(program),
    };
    cmd.env("GOMAXPROCS", procs.to_string())
        // The lab's figures are for the scheduler: no GC tracing or debug settings from the
        // caller's environment.
        .env_remove("GODEBUG")
        .env_remove("GOGC")
        .args(["-bench", bench.name, "-procs", &procs.to_string()])
        // Go 1.0's flag package reads a duration with a unit, as every later one does.
        .args(["-benchtime", &format!("{}ns", benchtime.as_nanos())])
        .args(["-batch", &bench.batch.to_string()])
        .args(["-maxn", &bench.max_n.to_string()])
        .args(["-work", &settings.work.to_string()]);
    child::run(peer, cmd, bench.name, procs, child::deadline(benchtime))
}

/// `go version` of the Go the peer is built with, for the run's machine record; `None` (and
/// the install hint on stderr, once) without one.
pub fn version() -> Option<String> {
    program().ok().map(|p| p.version.clone())
}

/// The built program and the Go that built it.
#[derive(Debug)]
pub struct Program {
    pub path: PathBuf,
    /// `go version`'s line.
    pub version: String,
}

/// The program, built on first use (once per process); the error is the n/a reason, and the
/// one line that explains it has been printed on stderr.
pub fn program() -> Result<&'static Program, &'static str> {
    static PROGRAM: OnceLock<Result<Program, &'static str>> = OnceLock::new();
    PROGRAM
        .get_or_init(|| {
            let Some(go) = find_on_path("go") else {
                eprintln!("lab: {INSTALL_HINT}");
                return Err(NOT_INSTALLED);
            };
            build(&go, &target_dir().join("go-peer"), None).map_err(|e| {
                eprintln!("lab: go peer: {e}");
                if e.starts_with("`go version`") {
                    NOT_INSTALLED
                } else {
                    BUILD_FAILED
                }
            })
        })
        .as_ref()
        .map_err(|e| *e)
}

/// The first `name` on PATH that is a file.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The workspace's `target/` (or `$CARGO_TARGET_DIR` as the lab was built with it).
pub fn target_dir() -> PathBuf {
    match option_env!("CARGO_TARGET_DIR") {
        Some(d) if Path::new(d).is_absolute() => PathBuf::from(d),
        Some(d) => Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
    }
}

/// Builds the program with `go` under `cache/<hash of sources and go version>/`, unless it is
/// there already; the error is one line. `goroot` is given for a historical release's `go`
/// (Go 1.0 to 1.4): it runs in GOPATH mode with that GOROOT, an empty GOPATH of its own and
/// none of today's flags.
pub fn build(go: &Path, cache: &Path, goroot: Option<&Path>) -> Result<Program, String> {
    let isolate = |cmd: &mut Command| {
        if let Some(root) = goroot {
            cmd.env("GOROOT", root)
                .env("GOPATH", cache.join("gopath"))
                .env_remove("GOFLAGS")
                .env_remove("GO111MODULE")
                .env_remove("GOBIN");
        }
    };
    let mut version_cmd = Command::new(go);
    version_cmd.arg("version").env("GOTOOLCHAIN", "local");
    isolate(&mut version_cmd);
    let out = version_cmd
        .output()
        .map_err(|e| format!("`go version` failed to start: {e}"))?;
    if !out.status.success() {
        return Err(format!("`go version` failed with {}", out.status));
    }
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let mut h = Fnv::new();
    h.write(version.as_bytes());
    for (name, text) in SOURCES {
        h.write(name.as_bytes());
        h.write(&[0]);
        h.write(text.as_bytes());
        h.write(&[0]);
    }
    let dir = cache.join(format!("{:016x}", h.0));
    let path = dir.join("lab-go-peer");
    if path.is_file() {
        return Ok(Program { path, version });
    }
    let src = dir.join("src");
    let io = |e: std::io::Error| format!("cannot write {}: {e}", src.display());
    std::fs::create_dir_all(&src).map_err(io)?;
    for (name, text) in SOURCES {
        std::fs::write(src.join(name), text).map_err(io)?;
    }
    let tmp = dir.join(format!("lab-go-peer.{}.tmp", std::process::id()));
    let mut cmd = Command::new(go);
    cmd.current_dir(&src).arg("build");
    if goroot.is_none() {
        cmd.arg("-trimpath");
    }
    isolate(&mut cmd);
    cmd.arg("-o")
        .arg(&tmp)
        .arg(".")
        // Only the Go that is here, nothing fetched: the program uses the standard library.
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("CGO_ENABLED", "0");
    if std::env::var_os("GOCACHE").is_none()
        && std::env::var_os("HOME").is_none()
        && std::env::var_os("XDG_CACHE_HOME").is_none()
    {
        cmd.env("GOCACHE", cache.join("gocache"));
    }
    let out = cmd
        .output()
        .map_err(|e| format!("`go build` failed to start: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err
            .lines()
            .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .unwrap_or("no message");
        return Err(format!(
            "`go build` ({version}) failed with {}: {first}",
            out.status
        ));
    }
    // Renamed into place, so a concurrent lab never runs a half-written binary.
    std::fs::rename(&tmp, &path).map_err(|e| format!("cannot place {}: {e}", path.display()))?;
    Ok(Program { path, version })
}

/// FNV-1a, 64 bits: a hash that is the same on every build of the lab (std's is not).
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}
