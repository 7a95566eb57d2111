//! `lab history`: its errors (one line, exit code 2, no toolchain needed), and, where the
//! source archives are beside the workspace (`../shared/gohist`, as CI has them), one real
//! build of Go 1.4.3 and one run of its own BenchmarkSyscall.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(args)
        .env_remove("LAB_GO_SRC")
        .output()
        .expect("run lab")
}

/// The stdout of a run that must have succeeded (else both outputs in the failure).
fn succeeded(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "stdout: {text}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn stderr_line(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    err
}

#[test]
fn no_archive_folder_is_one_line() {
    let err = stderr_line(&lab(&["history", "build"]));
    assert!(
        err.contains("--go-src") && err.contains("LAB_GO_SRC"),
        "{err}"
    );
    let err = stderr_line(&lab(&["history", "--go-src", "/no/such/dir", "build"]));
    assert!(err.contains("/no/such/dir"), "{err}");
    // lab fidelity has nothing to set a port beside without them, and says so at once.
    let err = stderr_line(&lab(&["fidelity"]));
    assert!(err.contains("--go-src"), "{err}");
    let err = stderr_line(&lab(&["check-go", "--release", "go1.1.2"]));
    assert!(err.contains("LAB_GO_SRC"), "{err}");
}

#[test]
fn a_missing_archive_says_where_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let err = stderr_line(&lab(&["history", "--go-src", d, "build", "go1.1.2"]));
    assert!(
        err.contains("no go1.1.2.src.tar.gz") && err.contains("download page"),
        "{err}"
    );
    let err = stderr_line(&lab(&["history", "build", "--go-src", d, "go2011-cl"]));
    assert!(
        err.contains("8330e9e06541633dc590e94e409bffcf25cecca3"),
        "{err}"
    );
}

#[test]
fn bad_names_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let err = stderr_line(&lab(&["history", "--go-src", d, "build", "go1.2"]));
    assert!(err.contains("go1.0.3"), "{err}");
    let err = stderr_line(&lab(&[
        "history",
        "--go-src",
        d,
        "bench",
        "--release",
        "go1.0.3",
        "--bench",
        "matmult",
    ]));
    assert!(
        err.contains("go1.0.3 has no runtime benchmark \"matmult\""),
        "{err}"
    );
}

#[test]
fn list_needs_no_archives() {
    let out = lab(&["history", "list"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for name in [
        "go2011-before",
        "go2011-cl",
        "go1.0.3",
        "go1.1.2",
        "go1.4.3",
    ] {
        assert!(text.contains(name), "{text}");
    }
    assert!(text.contains("not looked for"), "{text}");
}

/// The archives beside the workspace, as CI has them.
fn archives() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/gohist");
    dir.join("go1.4.3.src.tar.gz").is_file().then_some(dir)
}

/// Builds Go 1.4.3 (about 70-100 s on 2 cores, once: it is cached under target/gohist/) and
/// runs its BenchmarkSyscall for a moment; asserts only that a figure came out.
#[test]
fn go_1_4_3_builds_and_runs_its_syscall_benchmark() {
    let Some(dir) = archives() else {
        eprintln!(
            "skipped: no ../shared/gohist/go1.4.3.src.tar.gz beside the workspace (CI has it)"
        );
        return;
    };
    let start = Instant::now();
    let out = lab(&[
        "history",
        "--go-src",
        dir.to_str().unwrap(),
        "bench",
        "--release",
        "go1.4.3",
        "--bench",
        "syscall",
        "--procs",
        "1",
        "--benchtime",
        "10ms",
        "--quiet",
    ]);
    let text = succeeded(&out);
    let line = text
        .lines()
        .find(|l| l.starts_with("BenchmarkSyscall"))
        .unwrap_or_else(|| panic!("no benchmark line in {text}"));
    let ns: f64 = line
        .split_whitespace()
        .nth(2)
        .and_then(|f| f.parse().ok())
        .unwrap_or_else(|| panic!("no ns/op in {line:?}"));
    assert!(ns > 0.0, "{line}");
    assert!(text.contains("# syscall procs 1:"), "{text}");
    assert!(start.elapsed() < Duration::from_secs(600));
}

/// The releases as columns of `lab compare`: Go 1.0.3, 1.1.2 and 1.4.3 and the CL's July-2011
/// tree beside a port, each row measured by the release's own benchmark where it has one and
/// by the lab's go program built by it elsewhere, and saying which; what a release cannot
/// express is n/a with its reason. Builds what is not cached (CI's earlier step builds all
/// five); asserts no figure beyond its being there.
#[test]
fn releases_are_columns_measured_both_ways() {
    let Some(dir) = archives() else {
        eprintln!("skipped: no ../shared/gohist beside the workspace (CI has it)");
        return;
    };
    let out_dir = tempfile::tempdir().unwrap();
    let out = lab(&[
        "compare",
        "--go-src",
        dir.to_str().unwrap(),
        "--sched",
        "2013",
        "--peers",
        "go1.0.3,go1.1.2,go1.4.3,go2011-cl",
        "--bench",
        "syscall,ping-pong,ping-pong-hog,syscall-excess",
        "--procs",
        "1",
        "--count",
        "1",
        "--benchtime",
        "5ms",
        "--format",
        "json",
        "--quiet",
        "--out",
        out_dir.path().to_str().unwrap(),
    ]);
    let text = succeeded(&out);
    let res: serde_json::Value = serde_json::from_str(text.trim()).expect("results JSON");
    let rows = res["rows"].as_array().unwrap();
    let row = |sched: &str, bench: &str| {
        rows.iter()
            .find(|r| r["sched"] == sched && r["bench"] == bench)
            .unwrap_or_else(|| panic!("no row {sched} {bench}"))
    };
    let figure = |r: &serde_json::Value| r["ns_per_op"].as_f64().filter(|v| *v > 0.0);
    let method = |r: &serde_json::Value| r["method"].as_str().unwrap_or("").to_string();
    let na = |r: &serde_json::Value| r["na"].as_str().unwrap_or("").to_string();
    for rel in ["go1.0.3", "go1.1.2", "go1.4.3", "go2011-cl"] {
        let r = row(rel, "syscall");
        assert!(figure(r).is_some(), "{rel} syscall: {r}");
        assert!(method(r).contains("own runtime benchmark"), "{r}");
    }
    for rel in ["go1.0.3", "go1.1.2", "go1.4.3"] {
        let r = row(rel, "ping-pong");
        assert!(figure(r).is_some(), "{rel} ping-pong: {r}");
        assert!(
            method(r).contains(&format!("go program built by {rel}")),
            "{r}"
        );
    }
    assert!(figure(row("go1.4.3", "ping-pong-hog")).is_some());
    assert!(na(row("go1.1.2", "ping-pong-hog")).contains("preemption"));
    assert!(na(row("go1.0.3", "syscall-excess")).contains("linkname"));
    assert!(figure(row("go1.1.2", "syscall-excess")).is_some());
    assert!(na(row("go2011-cl", "ping-pong")).contains("predate Go 1"));
    // The machine record has each release's version.
    let peers = &res["machine"]["peers"];
    assert_eq!(
        peers["go1.1.2"], "go version go1.1.2 linux/amd64",
        "{peers}"
    );
}

/// `lab check-go --release`: the program a release builds against the release's own
/// benchmarks, a row per workload both have; the July-2011 trees say why they have none.
#[test]
fn check_go_covers_a_release() {
    let Some(dir) = archives() else {
        eprintln!("skipped: no ../shared/gohist beside the workspace (CI has it)");
        return;
    };
    let out = lab(&[
        "check-go",
        "--go-src",
        dir.to_str().unwrap(),
        "--release",
        "go1.4.3,go2011-cl",
        "--procs",
        "1",
        "--count",
        "1",
        "--benchtime",
        "5ms",
        "--quiet",
    ]);
    let text = succeeded(&out);
    for bench in [
        "BenchmarkChanSync ",
        "BenchmarkCreateGoroutines ",
        "BenchmarkCreateGoroutinesParallel ",
        "BenchmarkMatmult ",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(bench)),
            "{bench}: {text}"
        );
    }
    assert!(text.contains("go version go1.4.3"), "{text}");
    assert!(text.contains("go2011-cl: nothing to check"), "{text}");
}

/// A short `lab fidelity` (procs 1, a moment per run): every real column produced a figure,
/// and the run folder's outputs are well formed (fidelity.json with the seed's table and the
/// cells, report.html with every table and a chart per workload, summary.md). It asserts no
/// figure.
#[test]
fn a_short_fidelity_run_is_well_formed() {
    let Some(dir) = archives() else {
        eprintln!("skipped: no ../shared/gohist beside the workspace (CI has it)");
        return;
    };
    let out_dir = tempfile::tempdir().unwrap();
    let out = lab(&[
        "fidelity",
        "--go-src",
        dir.to_str().unwrap(),
        "--bench",
        "syscall,ping-pong,wakeup-spinning-5us",
        "--procs",
        "1",
        "--count",
        "1",
        "--benchtime",
        "5ms",
        "--quiet",
        "--out",
        out_dir.path().to_str().unwrap(),
    ]);
    let text = succeeded(&out);
    assert!(text.contains("The seed's table"), "{text}");
    assert!(
        text.contains("wakeup-spinning-5us: the go peer has no version"),
        "{text}"
    );
    let run = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .expect("a run folder");
    let read =
        |f: &str| std::fs::read_to_string(run.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    let res: serde_json::Value = serde_json::from_str(&read("results.json")).unwrap();
    let rows = res["rows"].as_array().unwrap();
    for real in [
        "go2011-before",
        "go2011-cl",
        "go1.0.3",
        "go1.1.2",
        "go1.4.3",
    ] {
        let r = rows
            .iter()
            .find(|r| r["sched"] == real && r["bench"] == "syscall")
            .unwrap_or_else(|| panic!("no {real} syscall row"));
        assert!(r["ns_per_op"].as_f64().is_some_and(|v| v > 0.0), "{r}");
    }
    let f: serde_json::Value = serde_json::from_str(&read("fidelity.json")).unwrap();
    assert_eq!(f["seed"].as_array().unwrap().len(), 1, "{}", f["seed"]);
    // syscall on five pairs, ping-pong on three.
    assert_eq!(f["cells"].as_array().unwrap().len(), 8, "{}", f["cells"]);
    assert_eq!(f["deltas"].as_array().unwrap().len(), 6);
    let html = scraper::Html::parse_document(&read("report.html"));
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    for id in ["summary", "seed", "cells", "shapes", "deltas", "charts"] {
        assert!(
            html.select(&sel(&format!("#{id}"))).next().is_some(),
            "no #{id} in report.html"
        );
    }
    assert_eq!(
        html.select(&sel("figure svg")).count(),
        2,
        "a chart per workload"
    );
    let seed_rows = html.select(&sel("#seed + div table tbody tr")).count();
    assert_eq!(seed_rows, 1);
    let page = read("report.html");
    assert!(!page.contains("http://") && !page.contains("https://"));
    assert!(read("summary.md").contains("## The seed's table"));
}

/// `lab history profile`: a release's run under perf, grouped by subsystem, the shares adding
/// up to the run's ns/op. Skips where perf cannot record here (no perf, or no permission).
#[test]
fn a_release_profile_splits_its_time() {
    let Some(dir) = archives() else {
        eprintln!("skipped: no ../shared/gohist beside the workspace (CI has it)");
        return;
    };
    let perf_works = Command::new("perf")
        .args([
            "record",
            "-q",
            "-e",
            "cpu-clock",
            "-o",
            "/dev/null",
            "--",
            "true",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !perf_works {
        eprintln!("skipped: `perf record -e cpu-clock` does not work here");
        return;
    }
    let out = lab(&[
        "history",
        "--go-src",
        dir.to_str().unwrap(),
        "profile",
        "--release",
        "go1.4.3",
        "--bench",
        "ping-pong",
        "--benchtime",
        "20ms",
    ]);
    let text = succeeded(&out);
    let ns = |row: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("no {row} row in {text}"));
        line[row.len()..]
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{line}"))
    };
    let parts: f64 = [
        "channels",
        "scheduler",
        "locks and atomics",
        "runtime mechanics",
        "memory and GC",
        "workload",
        "kernel",
        "other",
    ]
    .iter()
    .map(|r| ns(r))
    .sum();
    let total = ns("total");
    assert!(
        total > 0.0 && (parts - total).abs() <= 0.01 * total + 0.5,
        "{text}"
    );
    assert!(
        ns("channels") > 0.0,
        "ping-pong spends time in channels: {text}"
    );
}
