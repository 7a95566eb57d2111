//! The harness's own arithmetic and formats: the procs parser, the testing.B ramp, the spread
//! of runs, bench.txt lines, the table's deltas, and run folders.

use harness::benchfmt::{bench_name, format_ns, line, parse_line, row_name};
use harness::machine::Machine;
use harness::procs::{parse_procs, ProcsError, PROCS_LIMIT};
use harness::ramp::{predict_n, ramp, round_down10, round_up, Round, MAX_N};
use harness::results::{Results, Row};
use harness::rundir::{timestamp, valid_label, RunDir};
use harness::stats::Spread;
use harness::table;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

#[test]
fn procs_ranges_and_lists() {
    assert_eq!(parse_procs("1..4").unwrap(), vec![1, 2, 3, 4]);
    assert_eq!(parse_procs("1..=3").unwrap(), vec![1, 2, 3]);
    assert_eq!(parse_procs("1,2,4,8").unwrap(), vec![1, 2, 4, 8]);
    assert_eq!(parse_procs("1..2,8").unwrap(), vec![1, 2, 8]);
    assert_eq!(parse_procs("8, 1..2").unwrap(), vec![8, 1, 2]);
    assert_eq!(parse_procs("3").unwrap(), vec![3]);
    assert_eq!(parse_procs("2..2").unwrap(), vec![2]);
    // Duplicates are dropped, the first place kept.
    assert_eq!(parse_procs("1..3,2,1").unwrap(), vec![1, 2, 3]);
}

#[test]
fn procs_errors() {
    assert_eq!(parse_procs("0"), Err(ProcsError::Zero));
    assert_eq!(parse_procs("0..4"), Err(ProcsError::Zero));
    assert_eq!(parse_procs("4..1"), Err(ProcsError::BackwardsRange(4, 1)));
    assert_eq!(parse_procs(""), Err(ProcsError::Empty));
    assert_eq!(parse_procs("1,,2"), Err(ProcsError::Empty));
    assert_eq!(parse_procs("1,"), Err(ProcsError::Empty));
    assert!(matches!(parse_procs("x"), Err(ProcsError::NotANumber(_))));
    assert!(matches!(
        parse_procs("1..x"),
        Err(ProcsError::NotANumber(_))
    ));
    assert!(matches!(parse_procs("-1"), Err(ProcsError::NotANumber(_))));
    assert!(matches!(
        parse_procs("1...3"),
        Err(ProcsError::NotANumber(_))
    ));
    assert_eq!(
        parse_procs(&(PROCS_LIMIT + 1).to_string()),
        Err(ProcsError::TooMany(PROCS_LIMIT + 1))
    );
    // Every error says something on one line.
    for e in [
        ProcsError::Zero,
        ProcsError::Empty,
        ProcsError::BackwardsRange(4, 1),
    ] {
        let s = e.to_string();
        assert!(!s.is_empty() && !s.contains('\n'), "{s:?}");
    }
}

#[test]
fn round_up_like_testing() {
    assert_eq!(round_down10(0), 1);
    assert_eq!(round_down10(1), 1);
    assert_eq!(round_down10(9), 1);
    assert_eq!(round_down10(10), 10);
    assert_eq!(round_down10(999), 100);
    let cases = [
        (1, 1),
        (2, 2),
        (3, 3),
        (4, 5),
        (5, 5),
        (6, 10),
        (10, 10),
        (11, 20),
        (21, 30),
        (31, 50),
        (51, 100),
        (100, 100),
        (101, 200),
        (1_200_000, 2_000_000),
        (2_500_000, 3_000_000),
    ];
    for (n, want) in cases {
        assert_eq!(round_up(n), want, "round_up({n})");
    }
}

fn round(n: u64, ns: u64) -> Round {
    Round {
        n,
        elapsed: Duration::from_nanos(ns),
    }
}

#[test]
fn predict_grows_at_most_100x_and_at_least_one() {
    let s = Duration::from_secs(1);
    // 1 us for N=1: the prediction (1.2e6) is held to 100x.
    assert_eq!(predict_n(s, &round(1, 1_000)), 100);
    // 1 us/op at N=1e4: 1e6 * 1.2 = 1.2e6, held to 100x = 1e6.
    assert_eq!(predict_n(s, &round(10_000, 10_000_000)), 1_000_000);
    // 1 us/op at N=1e5: 1.2e6, rounded up to 2e6.
    assert_eq!(predict_n(s, &round(100_000, 100_000_000)), 2_000_000);
    // A round far over the benchtime: still one more, rounded up (5 -> 6 -> 10).
    assert_eq!(predict_n(s, &round(5, 10_000_000_000)), 10);
    // A round of 0 ns counts as 1 ns; growth is capped by 100x and by MAX_N.
    assert_eq!(predict_n(s, &round(1, 0)), 100);
    assert_eq!(predict_n(s, &round(50_000_000, 0)), MAX_N);
    // Multiply before dividing: 0.3 ns/op is not rounded to 0 or 1 ns/op.
    assert_eq!(
        predict_n(Duration::from_millis(3), &round(1_000_000, 300_000)),
        20_000_000
    );
}

#[test]
fn ramp_stops_at_benchtime() {
    // A loop of exactly 1 us per op and a 1 s benchtime: 1, 100, 1e4, 1e6 (1 s: done).
    let r = ramp(Duration::from_secs(1), 1, Duration::from_micros);
    let ns: Vec<u64> = r.rounds.iter().map(|r| r.n).collect();
    assert_eq!(ns, vec![1, 100, 10_000, 1_000_000]);
    assert_eq!(r.last().n, 1_000_000);
    assert!((r.ns_per_op() - 1000.0).abs() < 1e-9);
    assert_eq!(r.total_ops(), 1 + 100 + 10_000 + 1_000_000);
}

#[test]
fn ramp_stops_at_max_n() {
    let r = ramp(Duration::from_secs(1), 1, |_| Duration::ZERO);
    let ns: Vec<u64> = r.rounds.iter().map(|r| r.n).collect();
    assert_eq!(ns, vec![1, 100, 10_000, 1_000_000, 100_000_000, MAX_N]);
}

#[test]
fn ramp_goes_past_the_batch() {
    // Every round takes 10 ms against a 1 ms benchtime, but N=1 does no work for a workload
    // of 1000-op batches: the ramp jumps to the batch and stops there.
    let r = ramp(Duration::from_millis(1), 1000, |_| {
        Duration::from_millis(10)
    });
    let ns: Vec<u64> = r.rounds.iter().map(|r| r.n).collect();
    assert_eq!(ns, vec![1, 1000]);
    // Without a batch, Go's rule: the first round was long enough.
    let r = ramp(Duration::from_millis(1), 1, |_| Duration::from_millis(10));
    assert_eq!(r.rounds.len(), 1);
}

#[test]
fn spread_median_min_max() {
    assert_eq!(Spread::of(&[]), None);
    let s = Spread::of(&[3.0, 1.0, 2.0]).unwrap();
    assert_eq!((s.median, s.min, s.max, s.median_run), (2.0, 1.0, 3.0, 2));
    let s = Spread::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
    assert_eq!((s.median, s.min, s.max), (2.5, 1.0, 4.0));
    assert_eq!(
        s.median_run, 3,
        "the lower middle run (2.0) stands for the set"
    );
    let s = Spread::of(&[7.0]).unwrap();
    assert_eq!((s.median, s.min, s.max, s.median_run), (7.0, 7.0, 7.0, 0));
    let s = Spread::of(&[10.0, 9.0, 12.0]).unwrap();
    assert!((s.rel_spread() - 0.2).abs() < 1e-12);
}

#[test]
fn bench_lines_parse_back() {
    assert_eq!(row_name("BenchmarkSyscall", 1), "BenchmarkSyscall");
    assert_eq!(row_name("BenchmarkSyscall", 2), "BenchmarkSyscall-2");
    assert_eq!(
        bench_name("BenchmarkSyscall", "2011", 4),
        "BenchmarkSyscall/2011-4"
    );
    assert_eq!(
        bench_name("BenchmarkSyscall", "2011-lock", 1),
        "BenchmarkSyscall/2011-lock"
    );
    let l = line("BenchmarkSyscall/2011-4", 1_000_000, 31.04);
    assert_eq!(
        parse_line(&l),
        Some(("BenchmarkSyscall/2011-4".into(), 1_000_000, 31.0))
    );
    assert!(l.contains("31.0 ns/op"), "{l:?}");
    let l = line("BenchmarkSyscallWork/floor", 2000, 123456.7);
    assert_eq!(
        parse_line(&l),
        Some(("BenchmarkSyscallWork/floor".into(), 2000, 123457.0))
    );
    assert_eq!(parse_line("goos: linux"), None);
    assert_eq!(parse_line("BenchmarkX 10 3 allocs/op"), None);
    assert_eq!(format_ns(1234.4), "1234");
    assert_eq!(format_ns(31.04), "31.0");
    assert_eq!(format_ns(9.1), "9.10");
    assert_eq!(format_ns(0.5), "0.500");
}

fn row(sched: &str, bench: &str, procs: usize, ns: Option<f64>, over: bool) -> Row {
    Row {
        sched: sched.into(),
        peer: sched == "floor",
        bench: bench.into(),
        go_name: "BenchmarkSyscall".into(),
        procs,
        ns_per_op: ns,
        min: ns,
        max: ns,
        runs: ns.into_iter().collect(),
        runs_iterations: ns.map(|_| 1000).into_iter().collect(),
        iterations: ns.map(|_| 1000),
        total_ops: ns.map(|_| 1101),
        oversubscribed: over,
        ramp: Vec::new(),
        counters: BTreeMap::new(),
        counters_per_op: BTreeMap::new(),
        na: if ns.is_none() {
            Some("cannot".into())
        } else {
            None
        },
        starved: false,
        latency: BTreeMap::new(),
    }
}

fn results(rows: Vec<Row>) -> Results {
    Results {
        started: "2026-01-01T00:00:00Z".into(),
        label: "t".into(),
        command: "lab compare".into(),
        benchtime_ns: 1,
        starve_after_ns: 1_000_000_000,
        count: 1,
        columns: vec!["old".into(), "new".into(), "floor".into()],
        locks: Default::default(),
        work: harness::workloads::LOCAL_WORK,
        machine: Machine {
            cpu_model: "cpu".into(),
            cores: 2,
            os: "os".into(),
            kernel: "k".into(),
            arch: "x86_64".into(),
            rustc: "rustc".into(),
            git_commit: None,
            peers: Default::default(),
        },
        rows,
    }
}

#[test]
fn table_in_the_seeds_shape() {
    assert_eq!(table::delta(73.0, 31.0), "-57.53%");
    assert_eq!(table::delta(100.0, 103.1), "+3.10%");
    let res = results(vec![
        row("old", "syscall", 1, Some(73.0), false),
        row("new", "syscall", 1, Some(31.0), false),
        row("floor", "syscall", 1, None, false),
        row("old", "syscall", 4, Some(721.0), true),
        row("new", "syscall", 4, Some(97.0), true),
        row("floor", "syscall", 4, None, true),
    ]);
    let t = table::render(&res);
    let lines: Vec<&str> = t.lines().collect();
    assert!(lines[0].starts_with("benchmark"), "{t}");
    assert!(
        lines[0].contains("old ns/op") && lines[0].contains("new ns/op"),
        "{t}"
    );
    assert!(lines[1].starts_with("BenchmarkSyscall "), "{t}");
    assert!(
        lines[1].contains("-57.53%") && lines[1].contains("n/a"),
        "{t}"
    );
    assert!(lines[2].starts_with("BenchmarkSyscall-4 *"), "{t}");
    assert!(lines[2].contains("-86.55%"), "{t}");
    assert!(t.contains("oversubscribed") && t.contains("cannot"), "{t}");
    // bench.txt leaves n/a rows out; the CSV keeps them with an empty figure.
    let b = res.bench_txt();
    let parsed: Vec<_> = b.lines().filter_map(parse_line).collect();
    assert_eq!(parsed.len(), 4, "{b}");
    assert!(b.starts_with("goos: "));
    let csv = res.to_csv().unwrap();
    assert_eq!(csv.lines().count(), 7, "{csv}");
}

#[test]
fn run_folder_is_atomic() {
    assert_eq!(timestamp(SystemTime::UNIX_EPOCH), "1970-01-01-000000");
    assert_eq!(
        timestamp(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
        "2023-11-14-221320"
    );
    assert!(valid_label("compare") && valid_label("run-1.b_c"));
    assert!(!valid_label("") && !valid_label(".hidden") && !valid_label("a/b"));

    let out = tempfile::tempdir().unwrap();
    let t = SystemTime::UNIX_EPOCH;
    // Dropped before commit: nothing is left behind.
    {
        let d = RunDir::create(out.path(), t, "x").unwrap();
        d.write("a.txt", "half").unwrap();
    }
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
    // Committed: the final folder with its file, and a second one beside it.
    let d = RunDir::create(out.path(), t, "x").unwrap();
    d.write("a.txt", "whole").unwrap();
    let p = d.commit().unwrap();
    assert_eq!(p, out.path().join("1970-01-01-000000-x"));
    assert_eq!(std::fs::read_to_string(p.join("a.txt")).unwrap(), "whole");
    let p2 = RunDir::create(out.path(), t, "x")
        .unwrap()
        .commit()
        .unwrap();
    assert_eq!(p2, out.path().join("1970-01-01-000000-x-2"));
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 2);
}

#[test]
fn lab_errors_are_one_line() {
    use harness::error::LabError;
    use harness::schedcore::RunError;
    let errs = [
        LabError::Run {
            sched: "2011".into(),
            bench: "syscall".into(),
            procs: 2,
            err: RunError::Panic("boom".into()),
        },
        LabError::Run {
            sched: "2011".into(),
            bench: "syscall".into(),
            procs: 2,
            err: RunError::Deadlock,
        },
        LabError::ProcsOverLimit {
            sched: "2013",
            procs: 300,
            max: 256,
        },
        LabError::UnknownName {
            kind: "scheduler",
            name: "x".into(),
            known: vec!["2011"],
        },
        LabError::Procs(ProcsError::Zero),
    ];
    for e in errs {
        let s = e.to_string();
        assert!(!s.is_empty() && !s.contains('\n'), "{s:?}");
    }
    let e = LabError::ProcsOverLimit {
        sched: "2013",
        procs: 300,
        max: 256,
    };
    assert_eq!(e.to_string(), "procs 300 is over 2013's limit of 256");
}
