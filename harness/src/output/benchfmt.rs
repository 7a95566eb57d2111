//! Go's benchmark text format (`BenchmarkSyscall/2011-4  1000000  31.0 ns/op`), as `go test
//! -bench` prints it and benchstat reads it: one line per run, so benchstat sees the spread.

use std::fmt::Write;

/// A number the way Go's testing package prints ns/op: about three significant figures.
pub fn format_ns(x: f64) -> String {
    if x >= 99.95 {
        format!("{x:.0}")
    } else if x >= 9.995 {
        format!("{x:.1}")
    } else if x >= 0.9995 {
        format!("{x:.2}")
    } else if x >= 0.09995 {
        format!("{x:.3}")
    } else {
        format!("{x:.4}")
    }
}

/// The row name of the seed's table: `BenchmarkSyscall` at procs 1, `BenchmarkSyscall-2` above
/// (Go adds the GOMAXPROCS suffix only when it is not 1).
pub fn row_name(go_name: &str, procs: usize) -> String {
    if procs == 1 {
        go_name.to_string()
    } else {
        format!("{go_name}-{procs}")
    }
}

/// A sub-benchmark name with the scheduler: `BenchmarkSyscall/2011-4`.
pub fn bench_name(go_name: &str, sched: &str, procs: usize) -> String {
    row_name(&format!("{go_name}/{sched}"), procs)
}

/// One result line: name, iterations, ns/op, tab-separated as Go prints them.
pub fn line(name: &str, iterations: u64, ns_per_op: f64) -> String {
    format!(
        "{name}\t{iterations:>10}\t{:>10} ns/op",
        format_ns(ns_per_op)
    )
}

/// The header lines benchstat reads as the configuration of the lines that follow.
pub fn header(os: &str, arch: &str, cpu: &str) -> String {
    let goarch = match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        a => a,
    };
    let mut s = String::new();
    let _ = writeln!(s, "goos: {os}");
    let _ = writeln!(s, "goarch: {goarch}");
    let _ = writeln!(s, "pkg: lab");
    let _ = writeln!(s, "cpu: {cpu}");
    s
}

/// A result line read back: (name, iterations, ns/op). `None` for any other line.
pub fn parse_line(line: &str) -> Option<(String, u64, f64)> {
    let mut fields = line.split_whitespace();
    let name = fields.next().filter(|n| n.starts_with("Benchmark"))?;
    let iterations = fields.next()?.parse().ok()?;
    let ns = fields.next()?.parse().ok()?;
    (fields.next()? == "ns/op").then(|| (name.to_string(), iterations, ns))
}
