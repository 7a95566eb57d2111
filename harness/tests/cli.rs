//! The `lab` binary: bad input is one line on stderr and exit code 2; a short comparison writes
//! a whole run folder (and nothing half-written beside it).

use harness::output::benchfmt::parse_line;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn lab(args: &[&str]) -> Output {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(args)
        .output()
        .expect("run lab");
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "lab {args:?} took {:?}",
        t.elapsed()
    );
    out
}

/// Exit code 2, exactly one line on stderr, nothing on stdout, no panic text.
fn assert_user_error(args: &[&str], needle: &str) {
    let out = lab(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "lab {args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "lab {args:?} printed: {err:?}");
    assert!(
        err.contains(needle),
        "lab {args:?}: {err:?} lacks {needle:?}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.stdout.is_empty(), "lab {args:?} printed on stdout");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let c = |extra: &[&'static str]| {
        let mut v = vec!["compare", "--out", o];
        v.extend_from_slice(extra);
        // Short runs, in case a case is accepted by mistake.
        if !extra.contains(&"--benchtime") {
            v.extend(["--benchtime", "1ms"]);
        }
        if !extra.contains(&"--count") {
            v.extend(["--count", "1"]);
        }
        v
    };
    assert_user_error(&c(&["--sched", "1999"]), "unknown scheduler \"1999\"");
    assert_user_error(&c(&["--bench", "nope"]), "unknown workload \"nope\"");
    assert_user_error(&c(&["--peers", "nope"]), "unknown peer \"nope\"");
    assert_user_error(&c(&["--procs", "0"]), "at least 1");
    assert_user_error(&c(&["--procs", "4..1"]), "backwards");
    assert_user_error(&c(&["--procs", "x"]), "not a number");
    assert_user_error(&c(&["--procs", "100000"]), "limit");
    assert_user_error(&c(&["--benchtime", "soon"]), "--benchtime");
    assert_user_error(&c(&["--benchtime", "0s"]), "above zero");
    assert_user_error(&c(&["--count", "0"]), "--count");
    assert_user_error(&c(&["--format", "xml"]), "--format");
    assert_user_error(&c(&["--label", "a/b"]), "--label");
    assert_user_error(&c(&["--frobnicate"]), "--frobnicate");
    assert_user_error(&["frobnicate"], "frobnicate");
    assert_user_error(&[], "");
    // None of that left anything in the results folder.
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn trace_bad_input_is_one_line_and_exit_2() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let t = |extra: &[&'static str]| {
        let mut v = vec!["trace", "--out", o, "--benchtime", "1ms"];
        v.extend_from_slice(extra);
        v
    };
    let pp = ["--bench", "ping-pong", "--procs", "1"];
    let with = |sched: &'static str| {
        let mut v = vec!["--sched", sched];
        v.extend_from_slice(&pp);
        v
    };
    assert_user_error(&t(&with("1999")), "unknown scheduler \"1999\"");
    assert_user_error(&t(&with("floor")), "floor is a peer");
    assert_user_error(&t(&with("go")), "only the lab's schedulers record traces");
    assert_user_error(&t(&["--sched", "2013", "--procs", "1"]), "one workload");
    assert_user_error(
        &t(&["--bench", "ping-pong,syscall", "--procs", "1"]),
        "one workload",
    );
    assert_user_error(&t(&["--bench", "nope", "--procs", "1"]), "unknown workload");
    assert_user_error(&t(&["--bench", "ping-pong", "--procs", "1,2"]), "one procs");
    assert_user_error(&t(&["--bench", "ping-pong", "--procs", "100000"]), "limit");
    let bad = |flag: &'static str, value: &'static str, needle: &str| {
        let mut v = t(&pp);
        v.extend([flag, value]);
        assert_user_error(&v, needle);
    };
    bad("--events", "0", "--events");
    bad("--window", "0s", "above zero");
    bad("--json-window", "everything", "--json-window");
    bad("--label", "a/b", "--label");
    bad("--lock", "nope", "--lock");
    assert!(std::fs::read_dir(out.path()).unwrap().next().is_none());
}

#[test]
fn unwritable_results_folder_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    // A file where a folder should be: creating anything under it fails, even as root.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "").unwrap();
    let out = file.join("results");
    let args = [
        "compare",
        "--peers",
        "floor",
        "--bench",
        "syscall",
        "--procs",
        "1",
        "--benchtime",
        "1ms",
        "--count",
        "1",
        "--out",
        out.to_str().unwrap(),
    ];
    assert_user_error(&args, "cannot write results");
}

#[test]
fn list_names_everything() {
    let out = lab(&["list"]);
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    for name in harness::subjects::registry::SCHEDULERS
        .iter()
        .map(|s| s.name)
    {
        assert!(s.contains(name), "{s}");
    }
    for name in harness::subjects::registry::WORKLOADS
        .iter()
        .map(|w| w.name)
    {
        assert!(s.contains(name), "{s}");
    }
    assert!(s.contains("floor"), "{s}");
    assert!(lab(&["--help"]).status.success());
    assert!(lab(&["compare", "--help"]).status.success());
}

fn only_run_folder(out: &Path) -> std::path::PathBuf {
    let entries: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        entries.len(),
        1,
        "expected one run folder, found {entries:?}"
    );
    let dir = entries[0].clone();
    let name = dir.file_name().unwrap().to_str().unwrap().to_string();
    assert!(name.ends_with("-e2e") && !name.starts_with('.'), "{name}");
    for f in [
        "results.json",
        "results.csv",
        "bench.txt",
        "machine.json",
        "command.txt",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing in {}", dir.display());
    }
    dir
}

#[test]
fn compare_end_to_end() {
    let out = tempfile::tempdir().unwrap();
    let scheds: Vec<&str> = harness::subjects::registry::SCHEDULERS
        .iter()
        .map(|s| s.name)
        .filter(|n| *n == "2011" || *n == "2011-lock")
        .collect();
    let sched = scheds.join(",");
    let mut args = vec![
        "compare",
        "--peers",
        "floor",
        "--bench",
        "syscall,create-goroutines",
        "--procs",
        "1,2",
        "--benchtime",
        "5ms",
        "--count",
        "2",
        "--format",
        "json",
        "--label",
        "e2e",
        "--quiet",
        "--out",
        out.path().to_str().unwrap(),
    ];
    if !sched.is_empty() {
        args.extend(["--sched", &sched]);
    }
    let o = lab(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "lab failed: {err}");
    assert!(err.is_empty(), "--quiet printed {err:?}");
    let stdout: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    let dir = only_run_folder(out.path());
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(stdout, saved);

    let rows = saved["rows"].as_array().unwrap();
    let columns = scheds.len() + 1;
    assert_eq!(rows.len(), columns * 2 * 2, "{saved:#}");
    for r in rows {
        for field in [
            "sched",
            "bench",
            "procs",
            "ns_per_op",
            "min",
            "max",
            "runs",
            "oversubscribed",
            "counters",
            "iterations",
        ] {
            assert!(r.get(field).is_some(), "row lacks {field}: {r}");
        }
        let ns = r["ns_per_op"].as_f64().expect("a figure");
        assert!(ns > 0.0);
        assert!(r["min"].as_f64().unwrap() <= ns && ns <= r["max"].as_f64().unwrap());
        assert_eq!(r["runs"].as_array().unwrap().len(), 2);
        assert!(r["counters"].is_object());
        // The syscall workload ramps past its first batch of 1000.
        if r["bench"] == "syscall" {
            assert!(r["iterations"].as_u64().unwrap() >= 1000, "{r}");
        }
        if r["sched"] != "floor" {
            assert!(
                r["counters"]["goroutines_created"].as_u64().unwrap() > 0,
                "{r}"
            );
        }
    }
    assert!(rows
        .iter()
        .any(|r| r["sched"] == "floor" && r["peer"] == true));

    let bench = std::fs::read_to_string(dir.join("bench.txt")).unwrap();
    let lines: Vec<_> = bench.lines().filter_map(parse_line).collect();
    assert_eq!(lines.len(), columns * 2 * 2 * 2, "{bench}");
    assert!(lines
        .iter()
        .any(|(name, n, ns)| name == "BenchmarkSyscall/floor-2" && *n >= 1000 && *ns > 0.0));
    let machine: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("machine.json")).unwrap()).unwrap();
    for field in ["cpu_model", "cores", "os", "rustc", "git_commit"] {
        assert!(machine.get(field).is_some(), "machine.json lacks {field}");
    }
    assert!(std::fs::read_to_string(dir.join("command.txt"))
        .unwrap()
        .contains("compare --peers floor"));
    let csv = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + rows.len());
}

#[test]
fn compare_table_on_stdout() {
    let out = tempfile::tempdir().unwrap();
    let o = lab(&[
        "compare",
        "--peers",
        "floor",
        "--sched",
        harness::subjects::registry::SCHEDULERS[0].name,
        "--bench",
        "syscall-work",
        "--procs",
        "1,4",
        "--benchtime",
        "2ms",
        "--count",
        "1",
        "--label",
        "e2e",
        "--quiet",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(t.starts_with("benchmark"), "{t}");
    assert!(t.contains("\nBenchmarkSyscallWork "), "{t}");
    assert!(t.contains("\nBenchmarkSyscallWork-4"), "{t}");
    assert!(t.contains("floor ns/op"), "{t}");
    // One run a column: every delta is `~`, and the footnote says why.
    assert!(t.contains("~ (p=1.000)") && t.contains("p >= 0.05"), "{t}");
    assert!(
        t.contains("with 1 runs against 1 the test cannot reach"),
        "{t}"
    );
    if harness::output::machine::cores() < 4 {
        assert!(t.contains("BenchmarkSyscallWork-4 *") && t.contains("oversubscribed"));
    }
    assert!(t.contains("results in "), "{t}");
    only_run_folder(out.path());
}

#[test]
fn run_and_plot_bad_input_is_one_line_and_exit_2() {
    assert_user_error(
        &["run", "--sched", "1999", "--bench", "syscall"],
        "unknown scheduler \"1999\"",
    );
    assert_user_error(
        &["run", "--sched", "2011", "--bench", "nope"],
        "unknown workload \"nope\"",
    );
    assert_user_error(
        &[
            "run", "--sched", "2011", "--bench", "syscall", "--procs", "0",
        ],
        "--procs",
    );
    assert_user_error(&["run", "--bench", "syscall"], "--sched");
    for (flag, value, says) in [
        ("--stack-guard", "paper", "expected auto, madvise, mprotect"),
        ("--max-goroutines", "0", "--max-goroutines"),
        ("--benchtime", "0x", "--benchtime"),
        ("--benchtime", "tenx", "--benchtime"),
        ("--benchtime", "2000000000x", "--benchtime"),
    ] {
        assert_user_error(
            &["run", "--sched", "2011", "--bench", "syscall", flag, value],
            says,
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-run");
    assert_user_error(
        &["plot", missing.to_str().unwrap()],
        "is not a run folder: no such folder",
    );
    // A folder that is not a run: nothing is written into it.
    assert_user_error(&["plot", dir.path().to_str().unwrap()], "results.json");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn run_prints_counters_and_percentiles() {
    let o = lab(&[
        "run",
        "--sched",
        harness::subjects::registry::SCHEDULERS[0].name,
        "--bench",
        "ping-pong",
        "--procs",
        "2",
        "--benchtime",
        "2ms",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(
        t.contains("ns/op") && t.contains("goroutines_created"),
        "{t}"
    );
    assert!(t.contains("wakeup") && t.contains("p99.9"), "{t}");
    assert!(
        t.contains("peak RSS") && t.contains("RSS per live goroutine"),
        "{t}"
    );
}

/// `lab run --sched <peer>` measures that peer (it once measured the first scheduler: a plan
/// without schedulers has all of them).
#[test]
fn run_measures_the_peer_it_names() {
    let row = run_json("floor", "create-goroutines", "1ms");
    assert_eq!((row.sched.as_str(), row.peer), ("floor", true));
}

/// `lab run --format json` of one combination, which must succeed: its row.
fn run_json(sched: &str, bench: &str, benchtime: &str) -> harness::output::results::Row {
    let o = lab(&[
        "run",
        "--sched",
        sched,
        "--bench",
        bench,
        "--benchtime",
        benchtime,
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// `--benchtime Nx` (Go's): one round of N = 1, then exactly N, on a scheduler and on an
/// in-process peer; a peer in its own process says it cannot (a bad Nx: the bad-input test).
#[test]
fn run_with_nx_times_exactly_n() {
    for sched in ["2013", "floor"] {
        let row = run_json(sched, "create-goroutines", "3000x");
        assert_eq!(row.iterations, Some(3000), "{sched}");
        let ns: Vec<u64> = row.ramp.iter().map(|r| r.n).collect();
        assert_eq!(ns, vec![1, 3000], "{sched}");
    }
    let o = lab(&[
        "run",
        "--sched",
        "may",
        "--bench",
        "ping-pong",
        "--benchtime",
        "10x",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(t.contains("n/a:") && t.contains("Nx"), "{t}");
}

/// `lab pool`: the JSON outputs of two `lab compare` runs, as old and new, pooled per
/// combination; a folder without them is a one-line error.
#[test]
fn pool_pools_two_builds_runs() {
    let dir = tempfile::tempdir().unwrap();
    for side in ["old.1", "new.1"] {
        let o = lab(&[
            "compare",
            "--sched",
            "2014",
            "--bench",
            "create-goroutines",
            "--procs",
            "1",
            "--benchtime",
            "1ms",
            "--count",
            "2",
            "--format",
            "json",
            "--quiet",
            "--out",
            dir.path().join("runs").to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::write(dir.path().join(format!("{side}.json")), &o.stdout).unwrap();
    }
    let o = lab(&["pool", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(
        t.contains("create-goroutines-1 2014") && t.contains("2/2"),
        "{t}"
    );
    let empty = tempfile::tempdir().unwrap();
    assert_user_error(
        &["pool", empty.path().to_str().unwrap()],
        "no old.*.json and new.*.json",
    );
}

/// goroutines-alive-10k: the JSON row carries the memory, with the peak of live goroutines
/// (main and a group) and the resident set per goroutine.
#[test]
fn run_json_has_rss_per_goroutine() {
    let row = run_json("2014", "goroutines-alive-10k", "1ms");
    let m = row.memory.expect("memory in the row");
    assert_eq!(m.peak_goroutines, Some(10_001));
    assert!(m.stacks_mapped.unwrap() >= 10_001, "{m:?}");
    assert!(m.rss_per_goroutine_bytes.unwrap() > 0.0, "{m:?}");
}

/// A run that reaches a limit ends with the clear error, one line and exit code 2: the
/// live-goroutine limit, and the mprotect fallback at the kernel's mapping limit.
#[test]
fn limits_are_one_line_and_exit_2() {
    assert_user_error(
        &[
            "run",
            "--sched",
            "2013",
            "--bench",
            "goroutines-alive-10k",
            "--max-goroutines",
            "5000",
        ],
        "resources exhausted: goroutine limit reached: 5000 goroutines have stacks",
    );
    assert_user_error(
        &[
            "run",
            "--sched",
            "2014",
            "--bench",
            "goroutines-alive-100k",
            "--stack-guard",
            "mprotect",
        ],
        "vm.max_map_count",
    );
}

/// Every file of a run folder that `lab plot` draws, with its bytes.
fn drawn(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let ext = p.extension().and_then(|e| e.to_str());
            matches!(ext, Some("svg" | "png" | "md"))
        })
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

#[test]
fn compare_draws_charts_and_plot_redraws_them() {
    let out = tempfile::tempdir().unwrap();
    let o = lab(&[
        "compare",
        "--bench",
        "ping-pong,ping-pong-hog,gc-pause,matmult",
        "--peers",
        "rayon",
        "--procs",
        "1,2",
        "--benchtime",
        "2ms",
        "--count",
        "1",
        "--starve-after",
        "100ms",
        "--format",
        "json",
        "--label",
        "e2e",
        "--quiet",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = only_run_folder(out.path());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    for r in json["rows"].as_array().unwrap() {
        let (sched, bench) = (r["sched"].as_str().unwrap(), r["bench"].as_str().unwrap());
        let hist = match bench {
            "ping-pong" if sched != "rayon" => Some("wakeup"),
            "gc-pause" if sched != "rayon" => Some("stw_pause"),
            _ => None,
        };
        if let Some(h) = hist {
            let p = &r["latency"][h];
            for field in ["count", "p50", "p90", "p99", "p99.9", "max"] {
                assert!(
                    p[field].as_u64().is_some(),
                    "{sched} {bench} lacks {h}.{field}: {r}"
                );
            }
            assert!(p["p50"].as_u64() <= p["max"].as_u64());
        }
        if bench == "ping-pong-hog" && sched != "rayon" {
            let info = harness::subjects::registry::scheduler(sched).unwrap();
            assert_eq!(r["starved"], !info.preemptive, "{r}");
            assert_eq!(r["ns_per_op"].is_null(), !info.preemptive, "{r}");
            if info.preemptive {
                assert!(r["counters"]["preemptions"].as_u64().unwrap() > 0, "{r}");
            }
        }
    }
    let before = drawn(&dir);
    for bench in ["ping-pong", "ping-pong-hog", "gc-pause", "matmult"] {
        for f in [format!("{bench}.svg"), format!("{bench}.png")] {
            assert!(before.contains_key(&f), "{f} missing: {:?}", before.keys());
        }
    }
    for f in [
        "ping-pong-delta.svg",
        "ping-pong-wakeup-procs2.svg",
        "gc-pause-stw_pause-procs1.svg",
        "summary.md",
    ] {
        assert!(before.contains_key(f), "{f} missing: {:?}", before.keys());
    }
    let summary = String::from_utf8_lossy(&before["summary.md"]).to_string();
    for (name, bytes) in &before {
        if let Some(stem) = name.strip_suffix(".svg") {
            let svg = String::from_utf8(bytes.clone()).expect("SVG is UTF-8");
            assert!(
                svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
                "{name}"
            );
            assert_eq!(svg.matches("<svg").count(), 1, "{name}");
            assert!(svg.contains("<text") && svg.contains("procs") || svg.contains("percentile"));
            assert!(
                summary.contains(&format!("]({name})")),
                "{name} not in summary.md"
            );
            assert!(before.contains_key(&format!("{stem}.png")));
        }
        if name.ends_with(".png") {
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}");
        }
    }
    assert!(summary.contains("starved"), "{summary}");

    let o = lab(&["plot", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let after = drawn(&dir);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &before {
        assert!(after[name] == *bytes, "{name} differs after lab plot");
    }
    // No temporary folder is left behind.
    assert!(std::fs::read_dir(&dir).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with('.')));

    // One run a column: no delta is significant, every delta bar is pale, the legend says so.
    let delta = String::from_utf8_lossy(&before["ping-pong-delta.svg"]).to_string();
    assert!(delta.contains("no significant difference"), "{delta}");

    // A run folder from before p-values (results.json rows without `p_value`): lab plot
    // redraws it, the same bytes, since the test runs on the runs.
    let path = dir.join("results.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for r in v["rows"].as_array_mut().unwrap() {
        assert!(
            r.as_object_mut().unwrap().remove("p_value").is_some(),
            "{r}"
        );
    }
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let o = lab(&["plot", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let old = drawn(&dir);
    for (name, bytes) in &before {
        assert!(
            old[name] == *bytes,
            "{name} differs for an old results.json"
        );
    }
}

/// A results fixture: columns `old` and `new` on ping-pong at procs 1 and 2; at procs 1 the
/// runs are apart (p = 0.008), at procs 2 they overlap (p >= 0.05).
fn delta_fixture() -> harness::output::results::Results {
    let row = |sched: &str, procs: usize, runs: Vec<f64>| harness::output::results::Row {
        sched: sched.into(),
        peer: false,
        bench: "ping-pong".into(),
        go_name: "BenchmarkPingPong".into(),
        procs,
        ns_per_op: Some(runs[2]),
        min: Some(runs[0]),
        max: Some(runs[4]),
        runs_iterations: vec![1000; runs.len()],
        runs,
        iterations: Some(1000),
        total_ops: Some(1000),
        oversubscribed: false,
        ramp: Vec::new(),
        counters: Default::default(),
        counters_per_op: Default::default(),
        na: None,
        starved: false,
        latency: Default::default(),
        p_value: None,
        memory: None,
        method: None,
    };
    let mut res = harness::output::results::Results {
        started: "2026-01-01T00:00:00Z".into(),
        label: "t".into(),
        command: "lab compare".into(),
        benchtime_ns: 1,
        starve_after_ns: 1_000_000_000,
        count: 5,
        columns: vec!["old".into(), "new".into()],
        locks: Default::default(),
        work: harness::workloads::LOCAL_WORK,
        machine: harness::output::machine::Machine {
            cpu_model: "cpu".into(),
            cores: 2,
            os: "os".into(),
            kernel: "k".into(),
            arch: "x86_64".into(),
            rustc: "rustc".into(),
            git_commit: None,
            peers: Default::default(),
        },
        rows: vec![
            row("old", 1, vec![100.0, 101.0, 102.0, 103.0, 104.0]),
            row("new", 1, vec![70.0, 71.0, 72.0, 73.0, 74.0]),
            row("old", 2, vec![200.0, 202.0, 204.0, 206.0, 208.0]),
            row("new", 2, vec![201.0, 203.0, 205.0, 207.0, 209.0]),
        ],
    };
    let columns = res.columns.clone();
    harness::output::results::set_p_values(&mut res.rows, &columns);
    res
}

#[test]
fn delta_chart_draws_non_significant_bars_pale() {
    let res = delta_fixture();
    assert!(res.rows[1].p_value.unwrap() < 0.05 && res.rows[3].p_value.unwrap() >= 0.05);
    let dir = tempfile::tempdir().unwrap();
    let charts = harness::output::chart::draw_all(&res, &res.machine, dir.path()).unwrap();
    assert!(charts.iter().any(|c| c.svg() == "ping-pong-delta.svg"));
    let svg = std::fs::read_to_string(dir.path().join("ping-pong-delta.svg")).unwrap();
    // The significant bar solid, in the pair's color; the other pale, labelled `~`, and a
    // legend entry that says what pale means.
    assert!(svg.contains("#FF7F0E"), "no solid bar: {svg}");
    assert!(svg.contains("#FFD9B7"), "no pale bar: {svg}");
    assert!(svg.contains("-29%") && svg.contains("+0% ~"), "{svg}");
    assert!(svg.contains("no significant difference"), "{svg}");
    let png = std::fs::read(dir.path().join("ping-pong-delta.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));

    // Every delta significant: no pale bar, no such legend entry.
    let mut res = res;
    res.rows.truncate(2);
    let dir = tempfile::tempdir().unwrap();
    harness::output::chart::draw_all(&res, &res.machine, dir.path()).unwrap();
    let svg = std::fs::read_to_string(dir.path().join("ping-pong-delta.svg")).unwrap();
    assert!(!svg.contains("#FFD9B7") && !svg.contains("no significant difference"));

    // The summary: the table's `~` and its footnote, and the note on pale bars.
    let res = delta_fixture();
    let s = harness::output::summary::render(&res, &res.machine, &charts);
    assert!(s.contains("~ (p=") && s.contains("-29.41%"), "{s}");
    assert!(
        s.contains("no significant difference") && s.contains("pale bars"),
        "{s}"
    );
}
