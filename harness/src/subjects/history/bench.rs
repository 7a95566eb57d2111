//! Go's own runtime benchmarks, run from a release's cached test binary in the release's flag
//! dialect, one process per run (no `-test.count` before Go 1.19), and their output lines
//! parsed: `BenchmarkSyscall-2   5000000         416 ns/op` (no `-N` at procs 1; the July-2011
//! trees print the package too, `runtime_test.BenchmarkSyscall`).

use super::release::GoBench;
use super::toolchain::Toolchain;
use super::HistoryError;
use std::io::{Read, Seek};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One benchmark line of a Go test binary.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchLine {
    /// The function's name without the package: `BenchmarkSyscall`.
    pub name: String,
    /// GOMAXPROCS, from the `-N` suffix (1 without one, as Go prints it).
    pub procs: usize,
    pub iterations: u64,
    pub ns_per_op: f64,
    /// The line as the binary printed it.
    pub raw: String,
}

/// Parses one line of a test binary's output; `None` for every line that is not a benchmark
/// result (`PASS`, `goos: linux`, a test's log).
pub fn parse_line(line: &str) -> Option<BenchLine> {
    let mut fields = line.split_whitespace();
    let full = fields.next()?;
    // `runtime_test.BenchmarkSyscall` (July 2011) or `BenchmarkSyscall`.
    let name = full.rsplit_once('.').map_or(full, |(_, n)| n);
    if !name.starts_with("Benchmark") {
        return None;
    }
    let (name, procs) = match name.rsplit_once('-') {
        Some((n, p)) if !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) => {
            (n, p.parse().ok()?)
        }
        _ => (name, 1),
    };
    let iterations = fields.next()?.parse().ok()?;
    let ns_per_op = fields.next()?.parse().ok()?;
    if fields.next()? != "ns/op" {
        return None;
    }
    Some(BenchLine {
        name: name.to_string(),
        procs,
        iterations,
        ns_per_op,
        raw: line.trim_end().to_string(),
    })
}

/// Every benchmark line of an output.
pub fn parse_output(out: &str) -> Vec<BenchLine> {
    out.lines().filter_map(parse_line).collect()
}

/// How long a run may take before it is stopped: Go's ramp runs the loop a few times toward
/// the benchtime, and a binary starts in milliseconds, so far more than that is a hang.
pub fn deadline(benchtime: Duration) -> Duration {
    Duration::from_secs(60) + benchtime * 30
}

/// One run of `bench` at `procs` from the toolchain's test binary: one process, its figure.
pub fn run(
    tc: &Toolchain,
    bench: GoBench,
    procs: usize,
    benchtime: Duration,
) -> Result<BenchLine, HistoryError> {
    run_with(tc, bench, procs, benchtime, &[])
}

/// [`run`] with the test binary started by `wrap` (its program and arguments, the binary's
/// command line after them: `perf record ... --`); none when empty.
pub fn run_with(
    tc: &Toolchain,
    bench: GoBench,
    procs: usize,
    benchtime: Duration,
    wrap: &[String],
) -> Result<BenchLine, HistoryError> {
    let fail = |why: String, tail: String| HistoryError::BenchFailed {
        release: tc.release,
        bench: bench.func(),
        procs,
        why,
        tail,
    };
    let bin = tc.test_binary();
    let args = tc.release.dialect.args(bench, procs, benchtime);
    let mut out =
        tempfile::tempfile().map_err(|e| fail(format!("no temp file: {e}"), String::new()))?;
    let err = out
        .try_clone()
        .map_err(|e| fail(format!("no temp file: {e}"), String::new()))?;
    let mut cmd = match wrap.split_first() {
        Some((program, rest)) => {
            let mut c = Command::new(program);
            c.args(rest).arg(&bin);
            c
        }
        None => Command::new(&bin),
    };
    cmd.args(&args)
        .current_dir(&tc.dir)
        .stdin(Stdio::null())
        .stdout(
            err.try_clone()
                .map_err(|e| fail(e.to_string(), String::new()))?,
        )
        .stderr(err);
    // The figure is the scheduler's: -test.cpu sets GOMAXPROCS, and nothing of the caller's
    // GC or debug settings applies.
    for var in ["GOMAXPROCS", "GOGC", "GODEBUG", "GOTRACEBACK", "GOROOT"] {
        cmd.env_remove(var);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| fail(format!("cannot run {}: {e}", bin.display()), String::new()))?;
    let start = Instant::now();
    let limit = deadline(benchtime);
    let status = loop {
        if let Some(s) = child
            .try_wait()
            .map_err(|e| fail(e.to_string(), String::new()))?
        {
            break Some(s);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut text = String::new();
    out.rewind()
        .and_then(|_| out.read_to_string(&mut text))
        .map_err(|e| fail(format!("cannot read its output: {e}"), String::new()))?;
    let tail = || {
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    };
    let command = format!("{} {}", bin.display(), args.join(" "));
    let Some(status) = status else {
        return Err(fail(
            format!("`{command}` ran over {}s and was stopped", limit.as_secs()),
            tail(),
        ));
    };
    if !status.success() {
        return Err(fail(format!("`{command}` failed with {status}"), tail()));
    }
    let func = bench.func();
    parse_output(&text)
        .into_iter()
        .find(|l| l.name == func && l.procs == procs)
        .ok_or_else(|| fail(format!("`{command}` printed no {func} line"), tail()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_1_1_and_1_4_lines() {
        let l = parse_line("BenchmarkSyscall-2\t 5000000\t       416 ns/op").unwrap();
        assert_eq!(
            (l.name.as_str(), l.procs, l.iterations, l.ns_per_op),
            ("BenchmarkSyscall", 2, 5_000_000, 416.0)
        );
        let l =
            parse_line("BenchmarkCreateGoroutinesParallel-2\t10000000\t       170 ns/op").unwrap();
        assert_eq!(
            (l.name.as_str(), l.procs),
            ("BenchmarkCreateGoroutinesParallel", 2)
        );
        // Go 1.1.2, as its test binary printed them here.
        let l = parse_line("BenchmarkMatmult\t 5000000\t         8.42 ns/op").unwrap();
        assert_eq!((l.procs, l.iterations, l.ns_per_op), (1, 5_000_000, 8.42));
        let l = parse_line("BenchmarkMatmult-2\t10000000\t         2.83 ns/op").unwrap();
        assert_eq!((l.procs, l.iterations, l.ns_per_op), (2, 10_000_000, 2.83));
        // With -benchmem (not asked for, but harmless).
        let l = parse_line("BenchmarkChanSync-4  2000000  779 ns/op  0 B/op  0 allocs/op").unwrap();
        assert_eq!((l.procs, l.ns_per_op), (4, 779.0));
    }

    #[test]
    fn go_1_0_lines() {
        // Go 1.0.3, as its test binary printed them here.
        let out = "PASS\nBenchmarkSyscall\t 5000000\t        36.6 ns/op\nBenchmarkSyscall-2\t 5000000\t        46.3 ns/op\nBenchmarkChanSync-2\t   10000\t     17456 ns/op\n";
        let lines = parse_output(out);
        assert_eq!(lines.len(), 3);
        assert_eq!((lines[0].procs, lines[0].ns_per_op), (1, 36.6));
        assert_eq!(
            (lines[2].name.as_str(), lines[2].procs, lines[2].iterations),
            ("BenchmarkChanSync", 2, 10_000)
        );
        assert_eq!((lines[1].procs, lines[1].ns_per_op), (2, 46.3));
        assert_eq!(
            lines[1].raw,
            "BenchmarkSyscall-2\t 5000000\t        46.3 ns/op"
        );
    }

    #[test]
    fn july_2011_lines_name_the_package() {
        let out = "PASS\nruntime_test.BenchmarkSyscall\t 5000000\t        57.5 ns/op\nruntime_test.BenchmarkSyscallWork-2\t  500000\t       246 ns/op\n";
        let lines = parse_output(out);
        assert_eq!(lines[0].name, "BenchmarkSyscall");
        assert_eq!((lines[0].procs, lines[0].ns_per_op), (1, 57.5));
        assert_eq!(lines[1].name, "BenchmarkSyscallWork");
        assert_eq!((lines[1].procs, lines[1].iterations), (2, 500_000));
    }

    #[test]
    fn other_lines_are_not_benchmarks() {
        for line in [
            "PASS",
            "ok  \truntime\t1.234s",
            "goos: linux",
            "BenchmarkSyscall-2",
            "BenchmarkSyscall-2\t--- FAIL",
            "BenchmarkSyscall-2\t 100\t 3 MB/s",
            "--- BENCH: BenchmarkFoo",
            "TestFoo 1 2 ns/op",
            "",
        ] {
            assert_eq!(parse_line(line), None, "{line:?}");
        }
    }

    #[test]
    fn a_name_with_a_dash_but_no_procs() {
        let l = parse_line("BenchmarkFoo-bar 10 5 ns/op").unwrap();
        assert_eq!((l.name.as_str(), l.procs), ("BenchmarkFoo-bar", 1));
    }
}
