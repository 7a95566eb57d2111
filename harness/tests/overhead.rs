//! `lab overhead`'s bare loops: every core workload has one, and each completes on every
//! scheduler of the registry (generated with `for_each_scheduler!`) with a small N; and the
//! subcommand prints a row with a ratio. No timing is asserted (speed is for benchmarks).

use harness::measure::bare::bare_fn;
use harness::schedcore::bounded::with_timeout;
use harness::schedcore::{Config, Scheduler};
use harness::subjects::registry::{self, WORKLOADS};
use std::process::Command;

/// N for a quick check of a bare loop: a few batches.
fn small_n(name: &str) -> u64 {
    match name {
        // 200 goroutines yielding 1000 times each: one op is plenty.
        "yield-many" => 1,
        // A side of 18: the recursion splits on every axis.
        "matmult" => 5000,
        _ => registry::workload(name).unwrap().batch.max(1) * 5,
    }
}

/// Every workload has a bare loop exactly when it is a core one.
fn bare_loops_are_the_core_set<S: Scheduler>() {
    for w in WORKLOADS {
        assert_eq!(
            bare_fn::<S>(w.name).is_some(),
            w.core,
            "{} on {}",
            w.name,
            S::NAME
        );
    }
    assert!(bare_fn::<S>("nope").is_none());
}

/// Runs every bare loop once with a small N in one runtime of `S` at `procs`, under a
/// deadline; ping-pong-hog only where the scheduler preempts (the bare loop has no watchdog).
fn every_bare_loop<S: Scheduler>(procs: usize) {
    let ran = with_timeout(60, move || {
        S::run(&Config::new(procs), || {
            let mut ran = Vec::new();
            for w in WORKLOADS.iter().filter(|w| w.core) {
                if w.hog && !S::PREEMPTIVE {
                    continue;
                }
                bare_fn::<S>(w.name).unwrap()(small_n(w.name));
                ran.push(w.name);
            }
            ran
        })
        .unwrap_or_else(|e| panic!("{} at procs {procs}: {e}", S::NAME))
        .0
    });
    let expect = WORKLOADS
        .iter()
        .filter(|w| w.core && (!w.hog || S::PREEMPTIVE))
        .count();
    assert_eq!(ran.len(), expect, "{} at procs {procs}: {ran:?}", S::NAME);
}

macro_rules! per_scheduler {
    ($($id:ident: $ty:ty, $about:literal;)*) => {
        $(
            mod $id {
                #[test]
                fn bare_loops_are_the_core_set() {
                    super::bare_loops_are_the_core_set::<$ty>();
                }
                #[test]
                fn every_bare_loop_procs_1() {
                    super::every_bare_loop::<$ty>(1);
                }
                #[test]
                fn every_bare_loop_procs_2() {
                    super::every_bare_loop::<$ty>(2);
                }
            }
        )*
    };
}
harness::for_each_scheduler!(per_scheduler);

fn lab(args: &[&str]) -> std::process::Output {
    with_timeout(120, {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        move || {
            Command::new(env!("CARGO_BIN_EXE_lab"))
                .args(&args)
                .output()
                .expect("run lab")
        }
    })
}

#[test]
fn cli_prints_a_row_with_a_ratio() {
    let out = lab(&[
        "overhead",
        "--sched",
        "2013",
        "--bench",
        "syscall",
        "--procs",
        "1",
        "--count",
        "1",
        "--benchtime",
        "10ms",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = text
        .lines()
        .find(|l| l.starts_with("syscall "))
        .unwrap_or_else(|| panic!("no syscall row in {text}"));
    let words: Vec<&str> = row.split_whitespace().collect();
    // workload procs scheduler lab spread bare spread N ratio within differ (p)
    assert_eq!(words.len(), 12, "{row}");
    assert_eq!(&words[..3], ["syscall", "1", "2013"], "{row}");
    let ratio: f64 = words[8].parse().unwrap_or_else(|_| panic!("{row}"));
    assert!(ratio > 0.0 && ratio.is_finite(), "{row}");
    assert!(["yes", "NO"].contains(&words[9]), "{row}");
    assert!(["yes", "~"].contains(&words[10]), "{row}");
    assert!(
        words[11].starts_with('(') && words[11].ends_with(')'),
        "{row}"
    );
    assert!(text.lines().last().unwrap().contains("cores"), "{text}");
}

#[test]
fn cli_trace_prints_a_row_with_the_tracers_ratio() {
    let out = lab(&[
        "overhead",
        "--trace",
        "--events",
        "4096",
        "--sched",
        "2013",
        "--bench",
        "ping-pong",
        "--procs",
        "2",
        "--count",
        "2",
        "--benchtime",
        "5ms",
        "--quiet",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.starts_with("workload") && text.contains("traced ns/op"),
        "{text}"
    );
    let row = text
        .lines()
        .find(|l| l.starts_with("ping-pong "))
        .unwrap_or_else(|| panic!("no ping-pong row in {text}"));
    let words: Vec<&str> = row.split_whitespace().collect();
    // workload procs scheduler traced spread untraced spread N ratio differ (p)
    assert_eq!(words.len(), 11, "{row}");
    assert_eq!(&words[..3], ["ping-pong", "2", "2013"], "{row}");
    let ratio: f64 = words[8].parse().unwrap_or_else(|_| panic!("{row}"));
    assert!(ratio > 0.0 && ratio.is_finite(), "{row}");
    assert!(["yes", "~"].contains(&words[9]), "{row}");
    assert!(text.contains("4096 events per M"), "{text}");
}

#[test]
fn cli_hog_without_preemption_is_not_applicable() {
    let out = lab(&[
        "overhead",
        "--sched",
        "2013",
        "--bench",
        "ping-pong-hog",
        "--procs",
        "1",
        "--count",
        "1",
        "--benchtime",
        "10ms",
        "--quiet",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("n/a (no preemption)"), "{text}");
}

#[test]
fn cli_bad_input_is_one_line_and_exit_2() {
    for (args, needle) in [
        (
            &["overhead", "--bench", "syscall-block"][..],
            "syscall-block",
        ),
        (&["overhead", "--sched", "1999"][..], "unknown scheduler"),
        (&["overhead", "--procs", "0"][..], "at least 1"),
        (&["overhead", "--events", "64"][..], "--trace"),
        (&["overhead", "--trace", "--events", "1"][..], "--events"),
    ] {
        let out = lab(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
