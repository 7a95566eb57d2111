//! Every workload of the registry runs on every scheduler of the registry (generated from the
//! same list with `for_each_scheduler!`), does the work it says, and returns; and the floor
//! peer measures every workload it claims.

use harness::registry::{self, workload_fn, SchedVisitor, WORKLOADS};
use harness::schedcore::{Config, Counter, Scheduler};
use std::time::Duration;

/// N for a quick check of a workload: a few batches, and few blocking calls.
fn small_n(name: &str) -> u64 {
    let w = registry::workload(name).unwrap();
    if name == "syscall-block" {
        w.batch * 3
    } else {
        w.batch.max(1) * 5
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
    let (created, report) = S::run(&Config::new(procs), move || {
        for w in WORKLOADS {
            let f = workload_fn::<S>(w.name).expect("every workload exists for every scheduler");
            f(small_n(w.name));
        }
        true
    })
    .unwrap_or_else(|e| panic!("{} at procs {procs}: {e}", S::NAME));
    assert!(created);
    // The goroutines take batches from one shared counter, so however many there are, the
    // syscalls add up to N/batch batches of `batch` calls.
    let syscalls =
        report.counter(Counter::SyscallEnterFast) + report.counter(Counter::SyscallEnterSlow);
    let expect: u64 = WORKLOADS
        .iter()
        .filter(|w| w.name.starts_with("syscall"))
        .map(|w| small_n(w.name) / w.batch * w.batch)
        .sum();
    if syscalls > 0 {
        assert_eq!(syscalls, expect, "{} at procs {procs}", S::NAME);
    }
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
            let m = (floor.measure)(w, procs, Duration::from_millis(2))
                .unwrap_or_else(|e| panic!("floor on {} at procs {procs}: {e}", w.name));
            assert!(m.iterations() >= w.batch, "{}: {:?}", w.name, m.ramp);
            assert!(m.ns_per_op() > 0.0);
        }
    }
}
