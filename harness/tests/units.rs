//! The harness's own arithmetic and formats: the procs parser, the testing.B ramp, the spread
//! of runs, the Mann-Whitney U test, bench.txt lines, the table's deltas and their `~`, the
//! JSON's p-values, and run folders.

use harness::measure::procs::{parse_procs, ProcsError, PROCS_LIMIT};
use harness::measure::ramp::{
    predict_n, ramp, ramp_until, round_down10, round_up, Aim, Round, MAX_N,
};
use harness::measure::stats::{
    mann_whitney_exact, mann_whitney_min_p, mann_whitney_normal, mann_whitney_u, Spread,
};
use harness::output::benchfmt::{bench_name, format_ns, line, parse_line, row_name};
use harness::output::machine::Machine;
use harness::output::results::{set_p_values, Results, Row};
use harness::output::rundir::{timestamp, valid_label, RunDir};
use harness::output::table;
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
    let r = ramp(Duration::from_secs(1), 1, MAX_N, Duration::from_micros);
    let ns: Vec<u64> = r.rounds.iter().map(|r| r.n).collect();
    assert_eq!(ns, vec![1, 100, 10_000, 1_000_000]);
    assert_eq!(r.last().n, 1_000_000);
    assert!((r.ns_per_op() - 1000.0).abs() < 1e-9);
    assert_eq!(r.total_ops(), 1 + 100 + 10_000 + 1_000_000);
}

#[test]
fn ramp_stops_at_max_n() {
    let r = ramp(Duration::from_secs(1), 1, MAX_N, |_| Duration::ZERO);
    let ns: Vec<u64> = r.rounds.iter().map(|r| r.n).collect();
    assert_eq!(ns, vec![1, 100, 10_000, 1_000_000, 100_000_000, MAX_N]);
}

/// A workload's cap on N (create-goroutines-single keeps all N alive): the ramp stops there,
/// also when the prediction or the batch would go past it, and a cap above MAX_N is MAX_N.
#[test]
fn ramp_stops_at_a_workloads_cap() {
    let r = ramp(Duration::from_secs(1), 1, 1_000_000, |_| Duration::ZERO);
    let ns: Vec<u64> = r.rounds.iter().map(|r| r.n).collect();
    assert_eq!(ns, vec![1, 100, 10_000, 1_000_000]);
    let r = ramp(Duration::from_secs(1), 1, 50_000, |_| Duration::ZERO);
    let ns: Vec<u64> = r.rounds.iter().map(|r| r.n).collect();
    assert_eq!(ns, vec![1, 100, 10_000, 50_000]);
    let r = ramp(Duration::from_millis(1), 1000, 500, |_| {
        Duration::from_millis(10)
    });
    let ns: Vec<u64> = r.rounds.iter().map(|r| r.n).collect();
    assert_eq!(ns, vec![1, 500]);
    let r = ramp(Duration::from_secs(1), 1, u64::MAX, |_| Duration::ZERO);
    assert_eq!(r.last().n, MAX_N);
}

/// The registry's caps: create-goroutines-single stops at a million live goroutines (the
/// workloads' MAX_ALIVE), the goroutines-alive family never goes below its group, the others
/// keep testing.B's bound.
#[test]
fn registry_caps_on_n() {
    let w = |name| harness::subjects::registry::workload(name).unwrap();
    assert_eq!(
        w("create-goroutines-single").max_n,
        harness::workloads::MAX_ALIVE
    );
    assert_eq!(w("syscall").max_n, MAX_N);
    for (name, group) in [
        ("goroutines-alive-10k", harness::workloads::alive::ALIVE_10K),
        (
            "goroutines-alive-100k",
            harness::workloads::alive::ALIVE_100K,
        ),
        ("goroutines-alive", harness::workloads::alive::ALIVE_1M),
    ] {
        assert_eq!(w(name).batch, group, "{name}");
        assert_eq!(w(name).max_n, MAX_N, "{name}");
    }
}

/// `-benchtime Nx`: the N = 1 round, then exactly N, whatever the round times, the batch and
/// the cap say; a starved first round stops there.
#[test]
fn ramp_runs_exactly_n_times() {
    let mut seen = Vec::new();
    let r = ramp(Aim::Times(70_000), 1000, 500, |n| {
        seen.push(n);
        Duration::from_secs(5)
    });
    assert_eq!(seen, vec![1, 70_000]);
    assert_eq!(r.last().n, 70_000);
    assert_eq!(r.total_ops(), 70_001);
    let r = ramp(Aim::Times(1), 1, MAX_N, |_| Duration::ZERO);
    assert_eq!(r.rounds.len(), 1);
    let r = ramp_until(Aim::Times(10), 1, MAX_N, |_| (Duration::ZERO, true));
    assert_eq!(r.rounds.len(), 1, "a starved first round ends the ramp");
}

#[test]
fn ramp_goes_past_the_batch() {
    // Every round takes 10 ms against a 1 ms benchtime, but N=1 does no work for a workload
    // of 1000-op batches: the ramp jumps to the batch and stops there.
    let r = ramp(Duration::from_millis(1), 1000, MAX_N, |_| {
        Duration::from_millis(10)
    });
    let ns: Vec<u64> = r.rounds.iter().map(|r| r.n).collect();
    assert_eq!(ns, vec![1, 1000]);
    // Without a batch, Go's rule: the first round was long enough.
    let r = ramp(Duration::from_millis(1), 1, MAX_N, |_| {
        Duration::from_millis(10)
    });
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

/// Five runs spread ±1% around `ns`: columns whose figures differ by more never overlap.
fn row(sched: &str, bench: &str, procs: usize, ns: Option<f64>, over: bool) -> Row {
    let runs = ns.map(|m| [0.99, 0.995, 1.0, 1.005, 1.01].map(|f| m * f).to_vec());
    row_runs(sched, bench, procs, runs, over)
}

/// A row with these runs (`None`: n/a).
fn row_runs(sched: &str, bench: &str, procs: usize, runs: Option<Vec<f64>>, over: bool) -> Row {
    let spread = runs.as_deref().and_then(Spread::of);
    let ns = spread.map(|s| s.median);
    let runs = runs.unwrap_or_default();
    Row {
        sched: sched.into(),
        peer: sched == "floor",
        bench: bench.into(),
        go_name: "BenchmarkSyscall".into(),
        procs,
        ns_per_op: ns,
        min: spread.map(|s| s.min),
        max: spread.map(|s| s.max),
        runs_iterations: runs.iter().map(|_| 1000).collect(),
        runs,
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
        p_value: None,
        memory: None,
        method: None,
    }
}

fn results(rows: Vec<Row>) -> Results {
    Results {
        started: "2026-01-01T00:00:00Z".into(),
        label: "t".into(),
        command: "lab compare".into(),
        benchtime_ns: 1,
        starve_after_ns: 1_000_000_000,
        count: 5,
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
    assert_eq!(parsed.len(), 4 * 5, "{b}");
    assert!(b.starts_with("goos: "));
    let csv = res.to_csv().unwrap();
    assert_eq!(csv.lines().count(), 7, "{csv}");
}

/// Rows of a workload whose timed round makes many fresh stacks carry a mark and a footnote
/// on their guard pages; other rows carry neither.
#[test]
fn table_marks_rows_that_pay_guard_pages() {
    let mut rows = vec![
        row("old", "syscall", 1, Some(73.0), false),
        row("old", "goroutines-alive-10k", 4, Some(900.0), true),
    ];
    rows[1].go_name = "BenchmarkGoroutinesAlive/10k".into();
    let t = table::render(&results(rows.clone()));
    let lines: Vec<&str> = t.lines().collect();
    assert!(lines[1].starts_with("BenchmarkSyscall "), "{t}");
    assert!(!lines[1].contains('\u{2020}'), "{t}");
    assert!(
        lines[2].starts_with("BenchmarkGoroutinesAlive/10k-4 * \u{2020}"),
        "{t}"
    );
    let notes: Vec<&&str> = lines.iter().filter(|l| l.starts_with('\u{2020}')).collect();
    assert_eq!(notes.len(), 1, "{t}");
    assert!(notes[0].contains("guard-page system call") && notes[0].contains("Go 1.0-1.4"));
    let t = table::render(&results(rows[..1].to_vec()));
    assert!(!t.contains('\u{2020}'), "{t}");
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

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn mann_whitney_known_p_values() {
    let a = [1.0, 2.0, 3.0, 4.0, 5.0];
    let b = [6.0, 7.0, 8.0, 9.0, 10.0];
    // Fully separated: only the two extreme draws of C(n1+n2, n1) are as far from the mean.
    assert!(close(mann_whitney_u(&a, &b).unwrap(), 2.0 / 252.0));
    assert!(close(mann_whitney_u(&b, &a).unwrap(), 2.0 / 252.0));
    assert!(close(mann_whitney_u(&a[..4], &b[..4]).unwrap(), 2.0 / 70.0));
    assert!(close(mann_whitney_u(&a[..3], &b[..3]).unwrap(), 0.1));
    assert!(close(mann_whitney_min_p(5, 5), 2.0 / 252.0));
    assert!(close(mann_whitney_min_p(4, 4), 2.0 / 70.0));
    assert!(close(mann_whitney_min_p(3, 3), 0.1));
    assert_eq!(mann_whitney_min_p(1, 1), 1.0);
    // 3 against 3 can never reach 0.05; 4 against 4 can.
    assert!(mann_whitney_min_p(3, 3) >= harness::measure::stats::ALPHA);
    assert!(mann_whitney_min_p(4, 4) < harness::measure::stats::ALPHA);
    // One swapped pair: U = 1, P(U <= 1) = 2/252 on each side.
    let c = [1.0, 2.0, 3.0, 4.0, 6.0];
    let d = [5.0, 7.0, 8.0, 9.0, 10.0];
    assert!(close(mann_whitney_u(&c, &d).unwrap(), 4.0 / 252.0));
    // Interleaved: U at its mean.
    assert!(close(
        mann_whitney_u(&[1.0, 4.0, 5.0, 8.0], &[2.0, 3.0, 6.0, 7.0]).unwrap(),
        1.0
    ));
    // Identical samples, and every run the same figure.
    assert!(close(mann_whitney_u(&a, &a).unwrap(), 1.0));
    assert!(close(mann_whitney_u(&[5.0; 4], &[5.0; 4]).unwrap(), 1.0));
    assert_eq!(mann_whitney_u(&[], &a), None);
    assert_eq!(mann_whitney_u(&a, &[]), None);
    // A single run against a single run says nothing.
    assert!(close(mann_whitney_u(&[1.0], &[2.0]).unwrap(), 1.0));
}

#[test]
fn mann_whitney_ties() {
    // Pooled 1, 2, 2, 3: midranks 1, 2.5, 2.5, 4. The six draws of two give U = 0.5, 0.5, 2,
    // 2, 3.5, 3.5 around a mean of 2; the observed 0.5 and the two 3.5 are as far: 4/6.
    assert!(close(
        mann_whitney_u(&[1.0, 2.0], &[2.0, 3.0]).unwrap(),
        2.0 / 3.0
    ));
    // Ties within a column only: still fully separated.
    assert!(close(
        mann_whitney_u(&[1.0; 5], &[2.0; 5]).unwrap(),
        2.0 / 252.0
    ));
    // Ties across the columns: the exact count agrees with enumerating every draw.
    let cases: [(&[f64], &[f64]); 5] = [
        (&[1.0, 2.0, 3.0, 4.0, 5.0], &[5.0, 6.0, 7.0, 8.0, 9.0]),
        (&[1.0, 1.0, 2.0, 3.0, 3.0], &[2.0, 3.0, 3.0, 4.0, 4.0]),
        (&[1.0, 2.0, 2.0], &[2.0, 2.0, 3.0, 3.0, 4.0, 5.0]),
        (&[7.0, 7.0, 7.0, 8.0], &[7.0, 8.0, 8.0, 9.0, 9.0, 9.0, 10.0]),
        (
            &[3.0, 1.0, 2.0, 2.0, 5.0, 4.0],
            &[4.0, 6.0, 5.0, 5.0, 7.0, 6.0],
        ),
    ];
    for (x, y) in cases {
        let want = brute_force_p(x, y);
        let got = mann_whitney_exact(x, y).unwrap();
        assert!(close(got, want), "{x:?} {y:?}: {got} != {want}");
        assert!(close(mann_whitney_exact(y, x).unwrap(), want));
        assert!(close(mann_whitney_u(x, y).unwrap(), want));
    }
    // With one tie at 5, 1..5 against 5..9 is no longer as extreme as fully separated.
    let p = mann_whitney_u(cases[0].0, cases[0].1).unwrap();
    assert!(p > 2.0 / 252.0 && p < 0.05, "{p}");
}

/// The two-sided p-value by enumerating every draw of `x.len()` of the pooled runs, with
/// midranks for ties: the definition `mann_whitney_exact` counts.
fn brute_force_p(x: &[f64], y: &[f64]) -> f64 {
    let pooled: Vec<f64> = x.iter().chain(y).copied().collect();
    let n = pooled.len();
    let rank = |v: f64| {
        let below = pooled.iter().filter(|&&w| w < v).count() as f64;
        let equal = pooled.iter().filter(|&&w| w == v).count() as f64;
        below + (equal + 1.0) / 2.0
    };
    let ranks: Vec<f64> = pooled.iter().map(|&v| rank(v)).collect();
    let n1 = x.len();
    let u = |sum: f64| sum - (n1 * (n1 + 1)) as f64 / 2.0;
    let mean = (n1 * (n - n1)) as f64 / 2.0;
    let far = (u(ranks[..n1].iter().sum()) - mean).abs();
    let (mut all, mut tail) = (0u32, 0u32);
    for mask in 0u32..1 << n {
        if mask.count_ones() as usize != n1 {
            continue;
        }
        let sum: f64 = (0..n)
            .filter(|i| mask >> i & 1 == 1)
            .map(|i| ranks[i])
            .sum();
        all += 1;
        if (u(sum) - mean).abs() >= far - 1e-9 {
            tail += 1;
        }
    }
    tail as f64 / all as f64
}

#[test]
fn mann_whitney_normal_approximation() {
    // Close to the exact figure where both apply (20 runs against 20, half overlapping).
    let x: Vec<f64> = (0..20).map(|i| i as f64).collect();
    let y: Vec<f64> = (0..20).map(|i| i as f64 + 6.5).collect();
    let exact = mann_whitney_exact(&x, &y).unwrap();
    let normal = mann_whitney_normal(&x, &y).unwrap();
    assert!(exact > 0.001 && exact < 0.2, "{exact}");
    assert!((exact - normal).abs() < 0.005, "{exact} {normal}");
    // Above benchstat's limits the normal approximation is used: 60 against 60, separated.
    let x: Vec<f64> = (0..60).map(|i| i as f64).collect();
    let y: Vec<f64> = (0..60).map(|i| i as f64 + 100.0).collect();
    let p = mann_whitney_u(&x, &y).unwrap();
    assert!(p > 0.0 && p < 1e-15, "{p}");
    assert!(close(mann_whitney_u(&x, &x).unwrap(), 1.0));
    assert!(close(
        mann_whitney_normal(&[5.0; 60], &[5.0; 60]).unwrap(),
        1.0
    ));
    // Ties above the ties limit (25 a column): the tie-corrected variance.
    let t: Vec<f64> = (0..30).map(|i| (i / 3) as f64).collect();
    let u: Vec<f64> = (0..30).map(|i| (i / 3) as f64 + 1.0).collect();
    let p = mann_whitney_u(&t, &u).unwrap();
    assert!(close(p, mann_whitney_normal(&t, &u).unwrap()));
    assert!(p > 0.01 && p < 0.5, "{p}");
}

#[test]
fn table_marks_deltas_that_are_not_significant() {
    let overlap = |m: f64| Some(vec![m, m + 2.0, m + 4.0, m + 6.0, m + 8.0]);
    let res = results(vec![
        // Separated: a delta.
        row("old", "syscall", 1, Some(100.0), false),
        row("new", "syscall", 1, Some(80.0), false),
        row("floor", "syscall", 1, None, false),
        // Overlapping: ~.
        row_runs("old", "syscall", 2, overlap(100.0), false),
        row_runs("new", "syscall", 2, overlap(101.0), false),
        row("floor", "syscall", 2, None, false),
    ]);
    let p = mann_whitney_u(&res.rows[3].runs, &res.rows[4].runs).unwrap();
    assert!(p >= 0.05, "{p}");
    let t = table::render(&res);
    let lines: Vec<&str> = t.lines().collect();
    assert!(
        lines[1].contains("-20.00%") && !lines[1].contains('~'),
        "{t}"
    );
    assert!(lines[2].contains(&format!("~ (p={p:.3})")), "{t}");
    assert!(!lines[2].contains("+1.00%"), "{t}");
    assert!(t.contains(table::NOT_SIGNIFICANT), "{t}");
    assert!(
        t.contains("two-sided Mann-Whitney U test, p >= 0.05 (benchstat's test)"),
        "{t}"
    );
    assert!(!t.contains("cannot reach"), "{t}");
    // The summary shows the same table, footnote included, and says what `~` means.
    let charts: [harness::output::chart::Chart; 0] = [];
    let s = harness::output::summary::render(&res, &res.machine, &charts);
    assert!(s.contains(&format!("~ (p={p:.3})")) && s.contains(table::NOT_SIGNIFICANT));
    assert!(s.contains("Mann-Whitney"), "{s}");

    // All significant: no footnote.
    let res = results(vec![
        row("old", "syscall", 1, Some(100.0), false),
        row("new", "syscall", 1, Some(80.0), false),
    ]);
    let t = table::render(&res);
    assert!(!t.contains('~') && !t.contains("Mann-Whitney"), "{t}");

    // Three runs a column never reach p < 0.05: ~, and the footnote says why.
    let res = results(vec![
        row_runs("old", "syscall", 1, Some(vec![100.0, 101.0, 102.0]), false),
        row_runs("new", "syscall", 1, Some(vec![50.0, 51.0, 52.0]), false),
    ]);
    let t = table::render(&res);
    assert!(t.contains("~ (p=0.100)") && !t.contains("-50"), "{t}");
    assert!(
        t.contains("with 3 runs against 3 the test cannot reach p < 0.05"),
        "{t}"
    );
}

#[test]
fn p_values_in_json_and_csv() {
    let mut res = results(vec![
        row("old", "syscall", 1, Some(100.0), false),
        row("new", "syscall", 1, Some(80.0), false),
        row("floor", "syscall", 1, None, false),
        row("old", "syscall", 2, Some(100.0), false),
        row("new", "syscall", 2, Some(100.1), false),
        row("floor", "syscall", 2, Some(50.0), false),
    ]);
    set_p_values(&mut res.rows, &res.columns);
    let p: Vec<Option<f64>> = res.rows.iter().map(|r| r.p_value).collect();
    assert_eq!(p[0], None, "the baseline has none");
    assert!(close(p[1].unwrap(), 2.0 / 252.0));
    assert_eq!(p[2], None, "n/a has none");
    assert!(p[4].unwrap() >= 0.05 && close(p[5].unwrap(), 2.0 / 252.0));

    // Round trip with the field.
    let json = res.to_json();
    assert!(json.contains("\"p_value\": null") && json.contains("\"p_value\": 0.0079"));
    // (serde_json's float parsing may move a run by an ulp, so p-values are compared, not rows.)
    let back: Results = serde_json::from_str(&json).unwrap();
    let back_p: Vec<Option<f64>> = back.rows.iter().map(|r| r.p_value).collect();
    assert_eq!(back_p, p);

    // A results.json written before the field: it loads, p_value None, and the table still
    // tests the runs.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for r in v["rows"].as_array_mut().unwrap() {
        r.as_object_mut().unwrap().remove("p_value");
    }
    let old: Results = serde_json::from_value(v).unwrap();
    assert!(old.rows.iter().all(|r| r.p_value.is_none()));
    assert_eq!(table::render(&old), table::render(&res));
    let t = table::render(&old);
    assert!(t.contains("-20.00%") && t.contains("~ (p="), "{t}");

    // The CSV has the column, empty where there is no p-value.
    let csv = res.to_csv().unwrap();
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let col = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "p_value")
        .expect("a p_value column");
    let cells: Vec<String> = r
        .records()
        .map(|rec| rec.unwrap()[col].to_string())
        .collect();
    assert_eq!(cells[0], "");
    assert!(close(cells[1].parse::<f64>().unwrap(), 2.0 / 252.0));
    assert_eq!(cells[2], "");
}
