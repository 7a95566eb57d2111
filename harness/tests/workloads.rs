//! Every workload of the registry runs on every scheduler of the registry (generated from the
//! same list with `for_each_scheduler!`), does the work it says, and returns; and the floor
//! peer measures every workload it claims.

use harness::measure::runner::{self, Settings, STW_PAUSE};
use harness::schedcore::{Config, Counter, Scheduler};
use harness::subjects::registry::{self, workload_fn, SchedVisitor, WORKLOADS};
use harness::subjects::Failure;
use std::time::Duration;

/// A CPU hog in a test gives up after this long without progress of the others.
const STARVE_AFTER: Duration = Duration::from_millis(100);

/// N for a quick check of a workload: a few batches, and few blocking calls.
fn small_n(name: &str) -> u64 {
    let w = registry::workload(name).unwrap();
    match name {
        "syscall-block" => w.batch * 3,
        // 200 goroutines yielding 1000 times each: one op is plenty.
        "yield-many" => 1,
        // A side of 18: the recursion splits on every axis.
        "matmult" => 5000,
        // Two groups of the smallest size; the larger groups' code is the same, and the
        // conformance suite holds 10^5 alive.
        "goroutines-alive-10k" => w.batch * 2,
        "goroutines-alive-100k" | "goroutines-alive" => 3000,
        _ => w.batch.max(1) * 5,
    }
}

/// The syscalls a workload makes for `small_n`, if it makes any.
fn syscalls_of(name: &str) -> u64 {
    let w = registry::workload(name).unwrap();
    let n = small_n(name);
    if name.starts_with("syscall") {
        // The goroutines take batches from one shared counter, so however many there are,
        // the syscalls add up to N/batch batches of `batch` calls; then the untimed latency
        // round makes as many batches again, up to its limit.
        let batches = n / w.batch;
        (batches + batches.min(harness::workloads::syscall::LATENCY_BATCHES)) * w.batch
    } else if name.starts_with("wakeup-syscall") {
        // Two goroutines, each sleeping twice per op, in the timed and the latency round.
        4 * (n + n.min(harness::workloads::wakeup::LATENCY_OPS))
    } else {
        0
    }
}

/// Runs `f` on a thread and fails the test if it has not returned within a minute, so that a
/// scheduler that hangs fails here instead of hanging the suite.
fn bounded(what: String, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => t.join().unwrap(),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(p) = t.join() {
                std::panic::resume_unwind(p)
            }
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("{what} did not finish in 60 s"),
    }
}

/// Runs every workload once with a small N in one runtime of `S`, at `procs`.
fn every_workload<S: Scheduler>(procs: usize) {
    bounded(format!("{} at procs {procs}", S::NAME), move || {
        every_workload_unbounded::<S>(procs)
    });
}

fn every_workload_unbounded<S: Scheduler>(procs: usize) {
    let (starved, report) = S::run(&Config::new(procs), move || {
        let mut starved = Vec::new();
        for w in WORKLOADS {
            let f = workload_fn::<S>(w.name).expect("every workload exists for every scheduler");
            let b = runner::round(
                f,
                small_n(w.name),
                STARVE_AFTER,
                harness::workloads::LOCAL_WORK,
            );
            if b.starved() {
                starved.push(w.name);
            }
            // Every latency a workload records is in its histograms.
            let lat = b.latencies();
            if w.name.starts_with("syscall")
                || w.name.starts_with("wakeup")
                || w.name == "ping-pong"
            {
                assert!(
                    lat.values().any(|h| !h.is_empty()),
                    "{} recorded no latency",
                    w.name
                );
            }
        }
        starved
    })
    .unwrap_or_else(|e| panic!("{} at procs {procs}: {e}", S::NAME));
    // Only a workload with a hog starves, and only without preemption.
    for name in &starved {
        assert!(
            registry::workload(name).unwrap().hog && !S::PREEMPTIVE,
            "{name} starved on {} at procs {procs}",
            S::NAME
        );
    }
    let syscalls =
        report.counter(Counter::SyscallEnterFast) + report.counter(Counter::SyscallEnterSlow);
    let expect: u64 = WORKLOADS.iter().map(|w| syscalls_of(w.name)).sum();
    if syscalls > 0 {
        assert_eq!(syscalls, expect, "{} at procs {procs}", S::NAME);
    }
}

/// ping-pong-hog through the runner, as `lab` measures it: starved (within its deadline, not a
/// hang) on a generation without preemption; a figure and preemptions honoured with it.
fn ping_pong_hog<S: Scheduler>(procs: usize) {
    let w = registry::workload("ping-pong-hog").unwrap();
    let f = workload_fn::<S>(w.name).unwrap();
    let settings = Settings {
        starve_after: STARVE_AFTER,
        ..Settings::new(procs, Duration::from_millis(20))
    };
    let t = std::time::Instant::now();
    let m = runner::measure::<S>(f, w.batch, w.max_n, &settings).unwrap();
    if S::PREEMPTIVE {
        assert!(!m.starved, "{} starved", S::NAME);
        assert!(m.ns_per_op() > 0.0);
        assert!(m.counters["preemptions"] > 0, "{:?}", m.counters);
    } else {
        assert!(m.starved, "{} did not starve: {:?}", S::NAME, m.ramp);
        // One round: the hog gave up after STARVE_AFTER, and the ramp stopped there.
        assert_eq!(m.ramp.rounds.len(), 1);
        assert!(t.elapsed() < STARVE_AFTER * 50, "{:?}", t.elapsed());
    }
}

/// gc-pause through the runner: the Report's STW pauses come back as a latency histogram.
fn gc_pause_histogram<S: Scheduler>() {
    let w = registry::workload("gc-pause").unwrap();
    let f = workload_fn::<S>(w.name).unwrap();
    let settings = Settings {
        starve_after: STARVE_AFTER,
        ..Settings::new(2, Duration::from_millis(5))
    };
    let m = runner::measure::<S>(f, w.batch, w.max_n, &settings).unwrap();
    assert!(!m.starved);
    let h = &m.latencies[STW_PAUSE];
    assert_eq!(h.len(), m.counters["gcs"], "one pause per collection");
}

macro_rules! per_scheduler {
    ($($id:ident: $ty:ty, $about:literal;)*) => {
        $(
            mod $id {
                #[test]
                fn every_workload_procs_1() {
                    super::every_workload::<$ty>(1);
                }
                #[test]
                fn every_workload_procs_2() {
                    super::every_workload::<$ty>(2);
                }
                #[test]
                fn ping_pong_hog_procs_1() {
                    super::bounded(format!("ping-pong-hog on {}", <$ty as harness::schedcore::Scheduler>::NAME), || super::ping_pong_hog::<$ty>(1));
                }
                #[test]
                fn ping_pong_hog_procs_2() {
                    super::bounded(format!("ping-pong-hog on {}", <$ty as harness::schedcore::Scheduler>::NAME), || super::ping_pong_hog::<$ty>(2));
                }
                #[test]
                fn gc_pause_histogram() {
                    super::bounded(format!("gc-pause on {}", <$ty as harness::schedcore::Scheduler>::NAME), super::gc_pause_histogram::<$ty>);
                }
            }
        )*
    };
}
harness::for_each_scheduler!(per_scheduler);

struct Name;
impl SchedVisitor for Name {
    type Out = &'static str;
    fn visit<S: Scheduler>(self) -> &'static str {
        S::NAME
    }
}

#[test]
fn visitor_reaches_every_scheduler() {
    for s in registry::SCHEDULERS {
        assert_eq!(registry::with_scheduler(s.name, Name), Some(s.name));
    }
    assert_eq!(registry::with_scheduler("1999", Name), None);
}

#[test]
fn floor_measures_every_workload() {
    let floor = registry::peer("floor").unwrap();
    for w in WORKLOADS {
        for procs in [1, 2] {
            match (floor.measure)(w, &Settings::new(procs, Duration::from_millis(2))) {
                Ok(m) => {
                    assert!(m.iterations() >= w.batch, "{}: {:?}", w.name, m.ramp);
                    assert!(m.ns_per_op() > 0.0);
                }
                Err(Failure::NotApplicable(_))
                    if !w.name.starts_with("syscall") && !w.name.starts_with("create") => {}
                Err(e) => panic!("floor on {} at procs {procs}: {e}", w.name),
            }
        }
    }
}

/// The rayon peer measures the fork-join workloads (matmult's result is checked inside) and
/// says n/a, with a reason, to the rest.
#[test]
fn rayon_measures_fork_join() {
    let rayon = registry::peer("rayon").unwrap();
    for w in WORKLOADS {
        for procs in [1, 2] {
            let r = (rayon.measure)(w, &Settings::new(procs, Duration::from_millis(2)));
            let maps = matches!(
                w.name,
                "matmult"
                    | "create-goroutines"
                    | "create-goroutines-parallel"
                    | "create-goroutines-single"
                    | "chain-spawn"
            );
            match r {
                Ok(m) => {
                    assert!(maps, "rayon measured {}", w.name);
                    assert!(m.ns_per_op() > 0.0);
                }
                Err(Failure::NotApplicable(why)) => {
                    assert!(!maps && !why.is_empty(), "{}: {why}", w.name)
                }
                Err(e) => panic!("rayon on {} at procs {procs}: {e}", w.name),
            }
        }
    }
}
