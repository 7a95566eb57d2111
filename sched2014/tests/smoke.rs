//! Tests that boot whole 2014 runtimes, with and without preemption, and check what is
//! particular to this generation: the ring's overflow and the global queue, the 61st-tick
//! check, syscalls and retake, preemption at preempt points, collections through Gscan while
//! goroutines spin or sit in syscalls, loops ended by preemption at exit, stack overflow at a
//! preempt point, schedtrace. What every generation must do is the shared conformance suite's
//! (harness/tests/conformance.rs). Each run is bounded: a hang fails the test after 60 s.

use sched2014::{Sched2014, Sched2014NoPreempt};
use schedcore::{Chan, Config, Counter, Report, RunError, Scheduler, WaitGroup};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs `main` on a fresh `S` runtime in a helper thread; panics if it takes over 60 s.
fn run<S: Scheduler, R: Send + 'static>(
    cfg: Config,
    main: impl FnOnce() -> R + Send + 'static,
) -> Result<(R, Report), RunError> {
    schedcore::bounded::with_timeout(60, move || S::run(&cfg, main))
}

/// Spins for about `d` of CPU time, passing preempt points.
fn spin<S: Scheduler>(d: Duration) {
    let t = Instant::now();
    while t.elapsed() < d {
        S::preempt_point();
        std::hint::spin_loop();
    }
}

fn spawn_n<S: Scheduler>(procs: usize, n: usize) -> Report {
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let (count, report) = run::<S, _>(Config::new(procs), move || {
        let wg = WaitGroup::<S>::new();
        wg.add(n as i64);
        for _ in 0..n {
            let (wg, d) = (wg.clone(), d.clone());
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
    assert_eq!(report.procs, procs);
    report
}

#[test]
fn spawn_many_at_1_2_4_procs() {
    for procs in [1, 2, 4] {
        let r = spawn_n::<Sched2014>(procs, 5000);
        assert_eq!(r.sched, "2014");
        let r = spawn_n::<Sched2014NoPreempt>(procs, 2000);
        assert_eq!(r.sched, "2014-nopreempt");
    }
}

/// 1000 goroutines spawned at once on one P overflow its 256-slot ring: runqputslow moves
/// half of it plus the new G to the global queue, and every goroutine still runs once.
#[test]
fn full_ring_spills_to_the_global_queue() {
    let r = spawn_n::<Sched2014>(1, 1000);
    assert!(r.counter(Counter::Runqputslow) >= 3, "{:?}", r.counters);
    assert!(
        r.counter(Counter::GlobrunqPut) >= 3 * 129,
        "{:?}",
        r.counters
    );
    assert!(r.counter(Counter::GlobrunqGet) > 0, "{:?}", r.counters);
}

/// Two goroutines that keep respawning each other on the local ring cannot starve one that
/// waits in the global queue: schedule looks there every 61st tick.
#[test]
fn global_queue_checked_every_61st_tick() {
    let (ran, r) = run::<Sched2014NoPreempt, _>(Config::new(1), || {
        type S = Sched2014NoPreempt;
        let ran = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        fn respawn(stop: Arc<AtomicBool>, n: u32) {
            if n > 0 && !stop.load(Ordering::Relaxed) {
                S::go(move || respawn(stop, n - 1));
            }
        }
        let st = stop.clone();
        S::go(move || respawn(st, 100_000));
        // Gosched puts main on the global queue, behind the chain on the local ring.
        let r2 = ran.clone();
        S::go(move || {
            r2.store(true, Ordering::Relaxed);
        });
        S::gosched();
        stop.store(true, Ordering::Relaxed);
        ran.load(Ordering::Relaxed)
    })
    .unwrap();
    assert!(ran);
    assert!(r.counter(Counter::GlobrunqGet61) > 0, "{:?}", r.counters);
}

#[test]
fn syscalls_fast_and_blocking() {
    let (_, r) = run::<Sched2014, _>(Config::new(2), || {
        type S = Sched2014;
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
/// retakes it (here: another goroutine is runnable, so after one sysmon tick).
#[test]
fn sysmon_retakes_blocked_syscalls() {
    let (_, r) = run::<Sched2014, _>(Config::new(1), || {
        type S = Sched2014;
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        S::go(move || {
            while !st.load(Ordering::Relaxed) {
                S::gosched();
            }
        });
        for _ in 0..20 {
            S::entersyscall();
            std::thread::sleep(Duration::from_millis(2));
            S::exitsyscall();
        }
        stop.store(true, Ordering::Relaxed);
    })
    .unwrap();
    assert!(r.counter(Counter::Retakes) > 0, "{:?}", r.counters);
    assert_eq!(
        r.counter(Counter::SyscallExitFast) + r.counter(Counter::SyscallExitSlow),
        20
    );
}

/// Go's TestPreemption at procs=1: a goroutine spinning through preempt points lets the other
/// one run, because sysmon preempts it after 10 ms.
#[test]
fn spinning_goroutine_is_preempted() {
    let (_, r) = run::<Sched2014, _>(Config::new(1), || {
        type S = Sched2014;
        let turn = Arc::new(AtomicU64::new(0));
        let done = Chan::<(), S>::new(0);
        for me in 0..2u64 {
            let (turn, done) = (turn.clone(), done.clone());
            S::go(move || {
                for i in 0..10u64 {
                    // Wait, spinning, for our turn.
                    while turn.load(Ordering::SeqCst) != 2 * i + me {
                        S::preempt_point();
                    }
                    turn.fetch_add(1, Ordering::SeqCst);
                }
                done.send(());
            });
        }
        done.recv();
        done.recv();
    })
    .unwrap();
    assert!(r.counter(Counter::PreemptRequests) > 0, "{:?}", r.counters);
    assert!(r.counter(Counter::Preemptions) > 0, "{:?}", r.counters);
}

/// The same hog on "2014-nopreempt" is never stopped: the waiter only runs once the hog gives
/// up at its deadline.
#[test]
fn nopreempt_starves_the_waiter() {
    let (starved, r) = run::<Sched2014NoPreempt, _>(Config::new(1), || {
        type S = Sched2014NoPreempt;
        let flag = Arc::new(AtomicBool::new(false));
        let f2 = flag.clone();
        let done = Chan::<bool, S>::new(0);
        let d2 = done.clone();
        S::go(move || {
            let deadline = Instant::now() + Duration::from_millis(200);
            while !f2.load(Ordering::Relaxed) {
                S::preempt_point();
                if Instant::now() > deadline {
                    d2.send(true);
                    return;
                }
            }
            d2.send(false);
        });
        S::go(move || flag.store(true, Ordering::Relaxed));
        done.recv().unwrap()
    })
    .unwrap();
    assert!(starved, "the hog was stopped without preemption");
    assert_eq!(r.counter(Counter::Preemptions), 0, "{:?}", r.counters);
    assert_eq!(r.counter(Counter::PreemptRequests), 0, "{:?}", r.counters);
}

/// Go's TestPreemptionGC: collections complete while goroutines spin through preempt points;
/// running goroutines scan themselves, the others are claimed through the Gscan bit.
#[test]
fn gc_while_goroutines_spin() {
    for procs in [1, 2, 4] {
        let (_, r) = run::<Sched2014, _>(Config::new(procs), move || {
            type S = Sched2014;
            let stop = Arc::new(AtomicBool::new(false));
            let wg = WaitGroup::<S>::new();
            for _ in 0..procs + 1 {
                wg.add(1);
                let (stop, wg) = (stop.clone(), wg.clone());
                S::go(move || {
                    while !stop.load(Ordering::Relaxed) {
                        S::preempt_point();
                    }
                    wg.done();
                });
            }
            for _ in 0..30 {
                S::gc();
                // Let the world run a little between collections: right after one, the
                // other P's are still waking up and nothing runs on them yet to scan itself.
                S::entersyscall();
                std::thread::sleep(Duration::from_micros(300));
                S::exitsyscall();
            }
            stop.store(true, Ordering::Relaxed);
            wg.wait();
        })
        .unwrap();
        assert_eq!(r.counter(Counter::Gcs), 30);
        assert_eq!(r.stw_pause_ns.len(), 30);
        assert!(r.counter(Counter::StackWordsScanned) > 0);
        assert!(r.counter(Counter::GscanClaims) > 0, "{:?}", r.counters);
        if procs > 1 {
            assert!(r.counter(Counter::SelfScans) > 0, "{:?}", r.counters);
            assert!(r.counter(Counter::Preemptions) > 0, "{:?}", r.counters);
        }
    }
}

/// Collections while goroutines sit in syscalls (claimed as Gscansyscall; exitsyscall waits
/// for the scan), park, yield and spawn. On both variants.
fn gc_during_syscalls<S: Scheduler>() {
    let (_, r) = run::<S, _>(Config::new(2), || {
        let stop = Arc::new(AtomicUsize::new(0));
        let wg = WaitGroup::<S>::new();
        wg.add(6);
        for i in 0..6 {
            let (wg, stop) = (wg.clone(), stop.clone());
            S::go(move || {
                let local = [i as usize; 16];
                while stop.load(Ordering::Relaxed) == 0 {
                    match i % 3 {
                        0 => {
                            S::entersyscall();
                            std::thread::sleep(Duration::from_micros(100));
                            S::exitsyscall();
                        }
                        1 => {
                            S::entersyscall();
                            S::exitsyscall();
                            S::gosched();
                        }
                        _ => {
                            let w = WaitGroup::<S>::new();
                            w.add(1);
                            let w2 = w.clone();
                            S::go(move || w2.done());
                            w.wait();
                        }
                    }
                }
                std::hint::black_box(&local);
                wg.done();
            });
        }
        for _ in 0..30 {
            S::gc();
            std::thread::sleep(Duration::from_micros(200));
        }
        stop.store(1, Ordering::Relaxed);
        wg.wait();
    })
    .unwrap();
    assert_eq!(r.counter(Counter::Gcs), 30);
    assert_eq!(r.stw_pause_ns.len(), 30);
    assert!(r.counter(Counter::StackWordsScanned) > 0);
    assert!(r.counter(Counter::StackPointersFound) > 0);
    assert!(r.counter(Counter::GscanClaims) > 0, "{:?}", r.counters);
}

#[test]
fn gc_during_syscalls_2014() {
    gc_during_syscalls::<Sched2014>();
}

#[test]
fn gc_during_syscalls_nopreempt() {
    gc_during_syscalls::<Sched2014NoPreempt>();
}

/// Two goroutines collecting at once take turns through worldsema.
#[test]
fn concurrent_gcs() {
    let (_, r) = run::<Sched2014, _>(Config::new(3), || {
        type S = Sched2014;
        let wg = WaitGroup::<S>::new();
        for _ in 0..3 {
            wg.add(1);
            let wg = wg.clone();
            S::go(move || {
                for _ in 0..20 {
                    S::gc();
                    spin::<S>(Duration::from_micros(50));
                }
                wg.done();
            });
        }
        wg.wait();
    })
    .unwrap();
    assert_eq!(r.counter(Counter::Gcs), 60);
}

/// Goroutines that never enter the scheduler by themselves (syscall loops whose fast paths
/// succeed, spins through preempt points) do not hold up the end of the run, on both variants.
fn loops_do_not_hold_up_the_end<S: Scheduler>() {
    for block in [false, true] {
        let r = run::<S, _>(Config::new(2), move || {
            S::go(|| panic!("boom"));
            loop {
                if block {
                    S::entersyscallblock();
                } else {
                    S::entersyscall();
                }
                std::thread::sleep(Duration::from_micros(50));
                S::exitsyscall();
            }
        });
        assert_eq!(r.unwrap_err(), RunError::Panic("boom".into()));
    }
    let (_, r) = run::<S, _>(Config::new(2), || {
        S::go(|| loop {
            S::entersyscall();
            S::exitsyscall();
        });
        S::go(|| loop {
            S::preempt_point();
        });
        // Main must not yield: without preemption the two loops would keep both P's and
        // main would never run again (as on 2013, and on Go before 1.2).
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(5) {
            std::hint::spin_loop();
        }
    })
    .unwrap();
    assert_eq!(r.counter(Counter::GoroutinesLeft), 2);
    // A collection in progress when the run ends does not hold it up either.
    let r = run::<S, _>(Config::new(2), || {
        S::go(|| loop {
            S::gc();
        });
        S::go(|| panic!("boom while collecting"));
        loop {
            S::gosched();
        }
    });
    assert_eq!(
        r.unwrap_err(),
        RunError::Panic("boom while collecting".into())
    );
}

#[test]
fn loops_do_not_hold_up_the_end_2014() {
    loops_do_not_hold_up_the_end::<Sched2014>();
}

#[test]
fn loops_do_not_hold_up_the_end_nopreempt() {
    loops_do_not_hold_up_the_end::<Sched2014NoPreempt>();
}

/// One producer, idle P's: the others must steal.
#[test]
fn idle_ps_steal_from_one_producer() {
    let (_, r) = run::<Sched2014, _>(Config::new(2), || {
        type S = Sched2014;
        for _ in 0..20 {
            let wg = WaitGroup::<S>::new();
            wg.add(200);
            for _ in 0..200 {
                let wg = wg.clone();
                S::go(move || {
                    spin::<S>(Duration::from_micros(5));
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

/// A preempt point that finds its stack nearly used up reports a stack overflow as a panic
/// (fatal, as in Go: the stack cannot grow) instead of running into the guard page.
#[test]
fn stack_overflow_at_preempt_point_is_fatal() {
    fn deep(n: u64) -> u64 {
        Sched2014::preempt_point();
        let pad = std::hint::black_box([n; 8]);
        if n == 0 {
            0
        } else {
            deep(n - 1) + pad[3]
        }
    }
    let r = run::<Sched2014, _>(Config::new(1), || deep(1_000_000));
    match r {
        Err(RunError::Panic(msg)) => assert!(msg.contains("stack"), "{msg}"),
        other => panic!(
            "expected a stack overflow panic, got {:?}",
            other.map(|_| ())
        ),
    }
}

#[test]
fn schedtrace_does_not_disturb_the_run() {
    let cfg = Config {
        schedtrace: Some(Duration::from_millis(5)),
        ..Config::new(2)
    };
    let (_, r) = run::<Sched2014, _>(cfg, || {
        spin::<Sched2014>(Duration::from_millis(20));
    })
    .unwrap();
    assert_eq!(r.procs, 2);
}
