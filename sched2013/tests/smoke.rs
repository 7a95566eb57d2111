//! Tests that boot whole 2013 runtimes and check what is particular to this generation: the
//! syscall paths' counters, sysmon's retake, gc during syscalls, stealing from one producer.
//! What every generation must do (channels, deadlock, panics, bad configs, LockOSThread, ...)
//! is the shared conformance suite's (harness/tests/conformance.rs). Each run is bounded: a
//! hang fails the test after 60 s instead of blocking the suite.

use sched2013::Sched2013 as S;
use schedcore::{Config, Counter, Report, RunError, Scheduler, WaitGroup};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs `main` on a fresh runtime in a helper thread; panics if it takes over 60 s.
fn run<R: Send + 'static>(
    cfg: Config,
    main: impl FnOnce() -> R + Send + 'static,
) -> Result<(R, Report), RunError> {
    schedcore::bounded::with_timeout(60, move || S::run(&cfg, main))
}

fn spawn_n(procs: usize, n: usize) -> Report {
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let (count, report) = run(Config::new(procs), move || {
        let wg = WaitGroup::<S>::new();
        wg.add(n as i64);
        for _ in 0..n {
            let wg = wg.clone();
            let d = d.clone();
            S::go(move || {
                d.fetch_add(1, Ordering::Relaxed);
                wg.done();
            });
        }
        wg.wait();
        d.load(Ordering::Relaxed)
    })
    .unwrap();
    assert_eq!(count, n);
    assert_eq!(done.load(Ordering::Relaxed), n);
    assert_eq!(report.counter(Counter::GoroutinesCreated), n as u64 + 1);
    report
}

#[test]
fn spawn_1000_with_waitgroup() {
    for procs in [1, 2, 4] {
        let r = spawn_n(procs, 1000);
        assert_eq!(r.sched, "2013");
        assert_eq!(r.procs, procs);
        // G's come back through the gfree caches: far fewer stacks than goroutines.
        assert!(r.counter(Counter::StacksMapped) <= 1001);
    }
}

#[test]
fn syscalls_fast_and_blocking() {
    let (_, r) = run(Config::new(2), || {
        let wg = WaitGroup::<S>::new();
        wg.add(8);
        for i in 0..8 {
            let wg = wg.clone();
            S::go(move || {
                for _ in 0..200 {
                    if i % 2 == 0 {
                        S::entersyscall();
                        std::hint::black_box(0);
                        S::exitsyscall();
                    } else {
                        S::entersyscallblock();
                        std::thread::sleep(Duration::from_micros(50));
                        S::exitsyscall();
                    }
                }
                wg.done();
            });
        }
        wg.wait();
    })
    .unwrap();
    let fast = r.counter(Counter::SyscallExitFast);
    let slow = r.counter(Counter::SyscallExitSlow);
    assert_eq!(fast + slow, 1600, "{:?}", r.counters);
    assert!(r.counter(Counter::Handoffp) >= 800, "{:?}", r.counters);
}

/// A goroutine blocked in a syscall that did not say so keeps its P in Psyscall until sysmon
/// retakes it.
#[test]
fn sysmon_retakes_blocked_syscalls() {
    let (_, r) = run(Config::new(1), || {
        for _ in 0..20 {
            S::entersyscall();
            std::thread::sleep(Duration::from_millis(2));
            S::exitsyscall();
        }
    })
    .unwrap();
    assert!(r.counter(Counter::Retakes) > 0, "{:?}", r.counters);
    assert!(r.counter(Counter::SyscallExitFast) + r.counter(Counter::SyscallExitSlow) == 20);
}

#[test]
fn gc_during_syscalls() {
    let (_, r) = run(Config::new(2), || {
        let stop = Arc::new(AtomicUsize::new(0));
        let wg = WaitGroup::<S>::new();
        wg.add(4);
        for i in 0..4 {
            let (wg, stop) = (wg.clone(), stop.clone());
            S::go(move || {
                let local = [i as usize; 16];
                while stop.load(Ordering::Relaxed) == 0 {
                    S::entersyscall();
                    std::thread::sleep(Duration::from_micros(100));
                    S::exitsyscall();
                    S::gosched();
                }
                std::hint::black_box(&local);
                wg.done();
            });
        }
        for _ in 0..20 {
            S::gc();
            std::thread::sleep(Duration::from_micros(200));
        }
        stop.store(1, Ordering::Relaxed);
        wg.wait();
    })
    .unwrap();
    assert_eq!(r.counter(Counter::Gcs), 20);
    assert_eq!(r.stw_pause_ns.len(), 20);
    assert!(r.counter(Counter::StackWordsScanned) > 0);
}

/// One producer, idle P's: the others must steal.
#[test]
fn idle_ps_steal_from_one_producer() {
    let (_, r) = run(Config::new(2), || {
        for _ in 0..20 {
            let wg = WaitGroup::<S>::new();
            wg.add(200);
            for _ in 0..200 {
                let wg = wg.clone();
                S::go(move || {
                    // About 5 us of work, so that the other P has time to join in.
                    let t = Instant::now();
                    while t.elapsed() < Duration::from_micros(5) {
                        std::hint::spin_loop();
                    }
                    wg.done();
                });
            }
            wg.wait();
        }
    })
    .unwrap();
    assert!(r.counter(Counter::ThreadsCreated) >= 3, "{:?}", r.counters);
    assert!(r.counter(Counter::StealTries) > 0, "{:?}", r.counters);
    assert!(r.counter(Counter::GoroutinesStolen) > 0, "{:?}", r.counters);
}
