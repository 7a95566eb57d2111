//! The conformance suite, generic over `S: Scheduler` and run on every generation: ports of
//! the Go runtime's own scheduler tests where they apply, plus deadlock, panic and bad-config
//! cases. A generation adds itself with one `conformance!` line at the bottom.

mod support;

use schedcore::{Chan, Config, Counter, RunError, Scheduler, WaitGroup};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::*};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{blocking_syscall, with_timeout};

/// Every spawned goroutine runs exactly once, at several procs, including goroutines spawned
/// by goroutines.
fn every_goroutine_runs_once<S: Scheduler>() {
    for procs in [1, 2, 4] {
        const N: usize = 3000;
        let (runs, rep) = S::run(&Config::new(procs), || {
            let runs: Arc<Vec<AtomicU32>> =
                Arc::new((0..2 * N).map(|_| AtomicU32::new(0)).collect());
            let wg = WaitGroup::<S>::new();
            wg.add(2 * N as i64);
            for i in 0..N {
                let (runs, wg) = (runs.clone(), wg.clone());
                S::go(move || {
                    runs[i].fetch_add(1, Relaxed);
                    let (runs2, wg2) = (runs.clone(), wg.clone());
                    S::go(move || {
                        runs2[N + i].fetch_add(1, Relaxed);
                        wg2.done();
                    });
                    if i % 3 == 0 {
                        S::gosched();
                    }
                    wg.done();
                });
            }
            wg.wait();
            runs.iter().map(|r| r.load(Relaxed)).collect::<Vec<_>>()
        })
        .unwrap();
        assert!(
            runs.iter().all(|&r| r == 1),
            "procs {procs}: some goroutine ran {:?} times",
            runs.iter().find(|&&r| r != 1)
        );
        assert_eq!(
            rep.counter(Counter::GoroutinesCreated),
            2 * N as u64 + 1,
            "procs {procs}"
        );
        assert_eq!(rep.procs, procs);
    }
}

/// Unbuffered and buffered channels carry every value exactly once between many senders and
/// receivers on several procs; close wakes receivers with `None` after the buffer drains.
fn channels_across_procs<S: Scheduler>() {
    for cap in [0, 1, 16] {
        let (sum, _) = S::run(&Config::new(3), move || {
            let c = Chan::<u64, S>::new(cap);
            let done = Chan::<u64, S>::new(0);
            let senders = WaitGroup::<S>::new();
            for s in 0..4u64 {
                senders.add(1);
                let (c, senders) = (c.clone(), senders.clone());
                S::go(move || {
                    for i in 0..500 {
                        c.send(s * 1000 + i);
                    }
                    senders.done();
                });
            }
            for _ in 0..3 {
                let (c, done) = (c.clone(), done.clone());
                S::go(move || {
                    let mut sum = 0;
                    while let Some(v) = c.recv() {
                        sum += v;
                    }
                    done.send(sum);
                });
            }
            senders.wait();
            c.close();
            (0..3).map(|_| done.recv().unwrap()).sum::<u64>()
        })
        .unwrap();
        let want: u64 = (0..4u64)
            .flat_map(|s| (0..500).map(move |i| s * 1000 + i))
            .sum();
        assert_eq!(sum, want, "cap {cap}");
    }
}

// Known, faithful gaps: tests a generation fails because its seed did. Each is ignored for that
// generation with its reason (`cargo test` lists it as ignored and says why; `cargo test --
// --ignored` runs it and shows the failure). The table of which test is ignored where is the
// `case!` macro at the bottom.

macro_rules! gap_2011_yield_locked {
    () => {
        "faithful gap: 2011's gput hands a wired goroutine straight back to its own M whenever a \
         CPU is free, so at procs=1 a locked goroutine looping on Gosched starves the run queue \
         (TestYieldLockedProgress came with the 2013 scheduler)"
    };
}
macro_rules! gap_2013_parallelism {
    () => {
        "faithful gap: Go 1.1's spinning M wakes another M only when its own queue is non-empty, \
         so after a steal the last goroutine can sit behind a P that never yields while another P \
         idles; Go fixed this after 1.1 ('runtime: fix CPU underutilization'), which seed 001's \
         resetspinning carries"
    };
}
macro_rules! gap_gc_fairness {
    () => {
        "faithful gap: the seeds' retake never takes a P whose syscall tick moved since sysmon's \
         last look, and sysmon only preempts P's it finds running, so goroutines living in \
         back-to-back short syscalls keep the one P while main, back from its own syscall, waits \
         in the global queue; it passes often and fails sometimes (TestGCFairness postdates these \
         seeds; 2011 passes because its gwaiting bit sends entersyscall down the slow path, which \
         starts an M for main)"
    };
}
macro_rules! gap_no_preemption {
    () => {
        "this generation has no preemption: a goroutine that never yields keeps its CPU (and \
         holds a stop-the-world up)"
    };
}

/// Go's TestYieldProgress and TestYieldLockedProgress: a goroutine looping on Gosched lets
/// the others run, on one proc.
fn yield_progress<S: Scheduler>() {
    yield_progress_of::<S>(false)
}

/// Go's TestYieldLockedProgress.
fn yield_locked_progress<S: Scheduler>() {
    yield_progress_of::<S>(true)
}

fn yield_progress_of<S: Scheduler>(locked: bool) {
    S::run(&Config::new(1), move || {
        let stop = Arc::new(AtomicBool::new(false));
        let ack = Chan::<bool, S>::new(0);
        let (stop2, ack2) = (stop.clone(), ack.clone());
        S::go(move || {
            if locked {
                S::lock_os_thread();
            }
            while !stop2.load(Relaxed) {
                S::gosched();
            }
            ack2.send(true);
        });
        blocking_syscall::<S>(10_000);
        stop.store(true, Relaxed);
        assert!(ack.recv().unwrap());
    })
    .unwrap();
}

/// Go's TestGoroutineParallelism: P goroutines that can only finish if they all run at the
/// same time (each waits, spinning, for the others' turns).
fn goroutine_parallelism<S: Scheduler>() {
    const P: u32 = 3;
    for _try in 0..3 {
        S::run(&Config::new(P as usize), || {
            let x = Arc::new(AtomicU32::new(0));
            let done = Chan::<bool, S>::new(0);
            for p in 0..P {
                let (x, done) = (x.clone(), done.clone());
                S::go(move || {
                    for i in 0..3 {
                        let expected = P * i + p;
                        while x.load(SeqCst) != expected {
                            std::hint::spin_loop();
                        }
                        x.store(expected + 1, SeqCst);
                    }
                    done.send(true);
                });
            }
            for _ in 0..P {
                done.recv();
            }
        })
        .unwrap();
    }
}

/// Collections complete while goroutines sit in blocking syscalls and while others run and
/// yield; each is counted.
fn gc_during_syscalls_and_running<S: Scheduler>() {
    let (gcs, rep) = S::run(&Config::new(2), || {
        let stop = Arc::new(AtomicBool::new(false));
        let wg = WaitGroup::<S>::new();
        for i in 0..6 {
            wg.add(1);
            let (stop, wg) = (stop.clone(), wg.clone());
            S::go(move || {
                while !stop.load(Relaxed) {
                    if i % 2 == 0 {
                        blocking_syscall::<S>(200);
                    } else {
                        S::entersyscall();
                        S::exitsyscall();
                        S::gosched();
                    }
                }
                wg.done();
            });
        }
        for _ in 0..20 {
            S::gc();
        }
        stop.store(true, Relaxed);
        wg.wait();
        20
    })
    .unwrap();
    assert_eq!(rep.counter(Counter::Gcs), gcs);
    assert_eq!(rep.stw_pause_ns.len(), gcs);
    assert!(
        rep.counter(Counter::StackWordsScanned) > 0,
        "gc scanned no stack words"
    );
}

/// GOMAXPROCS changes while goroutines run, yield and make syscalls; every goroutine still
/// finishes, and reading GOMAXPROCS returns what was set.
fn gomaxprocs_changes<S: Scheduler>() {
    S::run(&Config::new(2), || {
        assert_eq!(S::gomaxprocs(0), 2);
        let stop = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicUsize::new(0));
        let wg = WaitGroup::<S>::new();
        for _ in 0..8 {
            wg.add(1);
            let (stop, finished, wg) = (stop.clone(), finished.clone(), wg.clone());
            S::go(move || {
                while !stop.load(Relaxed) {
                    S::entersyscall();
                    S::exitsyscall();
                    S::gosched();
                }
                finished.fetch_add(1, Relaxed);
                wg.done();
            });
        }
        for n in [1, 4, 3, 1, 2, 4, 1, 2] {
            S::gomaxprocs(n);
            assert_eq!(S::gomaxprocs(-1), n);
            blocking_syscall::<S>(500);
        }
        stop.store(true, Relaxed);
        wg.wait();
        assert_eq!(finished.load(Relaxed), 8);
    })
    .unwrap();
}

/// All goroutines blocked: a `Deadlock` error, never a hang.
fn deadlock_is_reported<S: Scheduler>() {
    for procs in [1, 2] {
        let r = S::run(&Config::new(procs), || {
            let c = Chan::<(), S>::new(0);
            c.recv();
        });
        assert_eq!(
            r.unwrap_err(),
            RunError::Deadlock,
            "main alone, procs {procs}"
        );
        let r = S::run(&Config::new(procs), || {
            let c = Chan::<(), S>::new(0);
            let wg = WaitGroup::<S>::new();
            wg.add(1);
            for _ in 0..4 {
                let c = c.clone();
                S::go(move || {
                    c.recv();
                });
            }
            wg.wait();
        });
        assert_eq!(
            r.unwrap_err(),
            RunError::Deadlock,
            "five goroutines, procs {procs}"
        );
    }
}

/// A panicking goroutine ends the run with its message; the runtime is torn down cleanly and
/// the next run works.
fn panic_is_reported<S: Scheduler>() {
    let r = S::run(&Config::new(2), || {
        S::go(|| panic!("boom in a goroutine"));
        loop {
            blocking_syscall::<S>(100);
        }
    });
    assert_eq!(
        r.unwrap_err(),
        RunError::Panic("boom in a goroutine".into())
    );
    let r = S::run(&Config::new(1), || -> () { panic!("boom in main") });
    assert_eq!(r.unwrap_err(), RunError::Panic("boom in main".into()));
    assert_eq!(S::run(&Config::new(1), || 7).unwrap().0, 7);
}

/// Bad procs and stack sizes are refused with a message naming the value.
fn invalid_config_is_refused<S: Scheduler>() {
    let check = |cfg: Config, what: &str| match S::run(&cfg, || ()) {
        Err(RunError::InvalidConfig(msg)) => assert!(
            msg.contains(what),
            "message {msg:?} does not mention {what:?}"
        ),
        other => panic!(
            "{cfg:?}: expected InvalidConfig, got {:?}",
            other.map(|(r, _)| r)
        ),
    };
    check(Config::new(0), "procs");
    check(
        Config::new(S::MAX_PROCS + 1),
        &format!("{}", S::MAX_PROCS + 1),
    );
    check(
        Config {
            stack_size: 1024,
            ..Config::new(1)
        },
        "stack",
    );
    for huge in [1 << 46, usize::MAX] {
        check(
            Config {
                stack_size: huge,
                ..Config::new(1)
            },
            &schedcore::scheduler::MAX_STACK_SIZE.to_string(),
        );
    }
    check(
        Config {
            max_goroutines: Some(0),
            ..Config::new(1)
        },
        "max goroutines",
    );
}

/// Go's scale: 10^5 goroutines alive at once, all blocked on one channel, then released by a
/// close; every one runs to its end, the Report's peak counts them all (up to the G's another
/// P's gfree cache may hold unseen, see Counter::GoroutinesPeak) and each has its own stack.
fn hundred_thousand_alive<S: Scheduler>() {
    const N: usize = 100_000;
    for procs in [1, 2] {
        let ((alive, ran), rep) = S::run(&Config::new(procs), || {
            let release = Chan::<(), S>::new(0);
            let ready = WaitGroup::<S>::new();
            let done = WaitGroup::<S>::new();
            let ran = Arc::new(AtomicUsize::new(0));
            ready.add(N as i64);
            done.add(N as i64);
            for _ in 0..N {
                let (release, ready, done, ran) =
                    (release.clone(), ready.clone(), done.clone(), ran.clone());
                S::go(move || {
                    ready.done();
                    assert_eq!(release.recv(), None);
                    ran.fetch_add(1, Relaxed);
                    done.done();
                });
            }
            ready.wait();
            let alive = S::num_goroutine();
            release.close();
            done.wait();
            (alive, ran.load(Relaxed))
        })
        .unwrap_or_else(|e| panic!("procs {procs}: {e}"));
        assert_eq!(alive, N + 1, "procs {procs}");
        assert_eq!(ran, N, "procs {procs}");
        let (peak, stacks) = (rep.peak_goroutines(), rep.counter(Counter::StacksMapped));
        assert!(
            peak <= (N + 1) as u64 && peak + 64 * (procs as u64 - 1) >= (N + 1) as u64,
            "procs {procs}: peak {peak}"
        );
        assert!(stacks >= (N + 1) as u64, "procs {procs}: {stacks} stacks");
        let mem = rep.memory.expect("the Report's memory (/proc)");
        assert!(mem.rss_peak > 0, "procs {procs}: {mem:?}");
    }
}

/// Past `Config::max_goroutines` a `go` ends the run with `RunError::Exhausted` naming the
/// limit and the count, not a panic; a goroutine that catches the unwind cannot make the run
/// succeed, and the runtime is torn down cleanly.
fn goroutine_limit_is_an_error<S: Scheduler>() {
    use schedcore::stack::{Exhausted, Limit};
    const MAX: usize = 100;
    let cfg = Config {
        max_goroutines: Some(MAX),
        ..Config::new(2)
    };
    let r = S::run(&cfg, || {
        let block = Chan::<(), S>::new(0);
        let mut started = 0;
        for _ in 0..2 * MAX {
            let b = block.clone();
            let go = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                S::go(move || {
                    b.recv();
                })
            }));
            if go.is_err() {
                break;
            }
            started += 1;
        }
        started
    });
    let want = Exhausted {
        limit: Limit::Goroutines {
            max: MAX,
            from_config: true,
        },
        stacks: MAX,
    };
    assert_eq!(r.map(|(n, _)| n), Err(RunError::Exhausted(want.clone())));
    let msg = RunError::Exhausted(want).to_string();
    assert!(
        msg.contains("max_goroutines is 100") && msg.contains("100 goroutines"),
        "{msg}"
    );
    // Main's own stack counts: a limit of 1 leaves no room for a second goroutine.
    let cfg = Config {
        max_goroutines: Some(1),
        ..Config::new(1)
    };
    let r = S::run(&cfg, || S::go(|| ()));
    assert!(
        matches!(r, Err(RunError::Exhausted(Exhausted { stacks: 1, .. }))),
        "{:?}",
        r.map(|_| ())
    );
    assert_eq!(S::run(&Config::new(1), || 7).unwrap().0, 7);
}

/// A goroutine whose stack overflows faults on its guard page: the process dies of SIGSEGV
/// (Rust's handler sees a fault outside the thread's own guard and lets it kill), it does not
/// scribble on another stack and go on. In a child process of this test binary, with each
/// guard (madvise where the kernel has it, and the mprotect fallback).
fn stack_overflow_faults<S: Scheduler>() {
    use schedcore::StackGuard;
    const CHILD: &str = "LAB_CONFORMANCE_OVERFLOW";
    if let Ok(guard) = std::env::var(CHILD) {
        let cfg = Config {
            stack_guard: StackGuard::from_name(&guard).unwrap(),
            stack_size: schedcore::scheduler::MIN_STACK_SIZE,
            ..Config::new(1)
        };
        let r = S::run(&cfg, || {
            let block = Chan::<(), S>::new(0);
            // A neighbour below, parked, and the goroutine that overflows above it.
            let b = block.clone();
            S::go(move || {
                b.recv();
            });
            S::go(|| {
                deeper(0);
            });
            block.recv();
        });
        panic!("the overflow did not fault: {:?}", r.map(|_| ()));
    }
    let test = std::thread::current()
        .name()
        .expect("cargo's harness names the test thread")
        .to_string();
    let mut guards = vec![StackGuard::Mprotect];
    if schedcore::stack::guard_install_works() {
        guards.push(StackGuard::Madvise);
    }
    for guard in guards {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, guard.name())
            .output()
            .unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGSEGV),
            "{guard}: the child ended with {}:\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Recurses with a kilobyte frame until the stack runs out.
#[inline(never)]
fn deeper(n: u64) -> u64 {
    let mut frame = [0u8; 1024];
    frame[(n % 1024) as usize] = n as u8;
    let frame = std::hint::black_box(frame);
    if std::hint::black_box(n) == u64::MAX {
        return 0;
    }
    deeper(n + 1) + frame[0] as u64
}

/// The runtime lock is the one `Config::lock` names, or the generation's era lock: the Report
/// says which the run had, and the locks its goroutines make (channels, WaitGroups) are of it.
fn lock_kind_is_honoured<S: Scheduler>() {
    use schedcore::LockKind;
    for asked in [None, Some(LockKind::Futex2011), Some(LockKind::Spin)] {
        let cfg = Config {
            lock: asked,
            ..Config::new(2)
        };
        let want = asked.unwrap_or(S::ERA_LOCK);
        let (seen, rep) = S::run(&cfg, || {
            let c = Chan::<LockKind, S>::new(0);
            let c2 = c.clone();
            S::go(move || c2.send(schedcore::lock::thread_kind()));
            (schedcore::lock::thread_kind(), c.recv().unwrap())
        })
        .unwrap();
        assert_eq!(rep.lock, want, "asked {asked:?}");
        assert_eq!(
            seen,
            (want, want),
            "asked {asked:?}: the goroutines' lock kind"
        );
    }
}

/// go, gosched, park and ready between entersyscall and exitsyscall would act on a P the M
/// may no longer own: each is a panic that says so, and the run ends with it.
fn calls_inside_a_syscall_panic<S: Scheduler>() {
    let calls: [(&str, fn()); 4] = [
        ("go", || S::go(|| ())),
        ("gosched", S::gosched),
        ("park", || {
            let l = schedcore::Lock::new(());
            S::park(l.lock());
        }),
        ("ready", || S::ready(S::current())),
    ];
    for (what, call) in calls {
        let r = S::run(&Config::new(2), move || {
            S::go(move || {
                S::entersyscall();
                call();
                S::exitsyscall();
            });
            loop {
                blocking_syscall::<S>(100);
            }
        });
        match r {
            Err(RunError::Panic(msg)) => assert!(
                msg.contains(what) && msg.contains("during a syscall"),
                "{what}: unexpected message {msg:?}"
            ),
            other => panic!("{what} inside a syscall: {:?}", other.map(|_| ())),
        }
    }
}

/// A goroutine whose function returns between entersyscall and exitsyscall (Go requires the
/// two in one frame) ends the run with an error that says so, instead of hanging its M.
fn return_inside_a_syscall_is_reported<S: Scheduler>() {
    let r = S::run(&Config::new(2), || {
        S::go(S::entersyscall);
        loop {
            blocking_syscall::<S>(100);
        }
    });
    match r {
        Err(RunError::Panic(msg)) => assert!(
            msg.contains("between entersyscall and exitsyscall"),
            "unexpected message {msg:?}"
        ),
        other => panic!("expected a panic, got {:?}", other.map(|_| ())),
    }
}

/// A goroutine holding a runtime lock is not preempted (Go's lock raises m->locks): at procs
/// 1, one goroutine holds a lock for 30 ms while passing preempt points, another waits for the
/// same lock. Were the holder preempted, the waiter would take its M to sleep on the lock and
/// nothing would run the holder again.
fn lock_holder_is_not_preempted<S: Scheduler>() {
    S::run(&Config::new(1), || {
        let lock = Arc::new(schedcore::Lock::new(0u32));
        let wg = WaitGroup::<S>::new();
        wg.add(2);
        {
            let (lock, wg) = (lock.clone(), wg.clone());
            S::go(move || {
                let mut held = lock.lock();
                let t = Instant::now();
                while t.elapsed() < Duration::from_millis(30) {
                    S::preempt_point();
                }
                *held += 1;
                drop(held);
                wg.done();
            });
        }
        {
            let (lock, wg) = (lock.clone(), wg.clone());
            S::go(move || {
                *lock.lock() += 1;
                wg.done();
            });
        }
        wg.wait();
        assert_eq!(*lock.lock(), 2);
    })
    .unwrap();
}

/// Per-M state survives a goroutine's migration between threads: goroutines that move between
/// M's at every switch (a ping-pong pair, a ring of channel passers, syscalls around channel
/// operations) run 10^5+ switches at procs 2 and 4; every goroutine then finds its M holding no
/// runtime lock, every M ends the run holding none (a generation throws "lock count"
/// otherwise), and, on a preemptive generation, a hog started afterwards in the same runtime at
/// procs 1 is still preempted within its 10 ms slice plus slack. A count kept in a thread-local
/// whose address the compiler keeps across a switch drifts here, and switches preemption off.
fn lock_counts_survive_migration<S: Scheduler>() {
    for procs in [2, 4] {
        S::run(&Config::new(procs), move || {
            const ROUND_TRIPS: usize = 50_000;
            const RING: usize = 8;
            const LAPS: usize = 2_000;
            let held = Arc::new(AtomicUsize::new(0));
            let wg = WaitGroup::<S>::new();
            // A ping-pong pair: two unbuffered channels, one switch per message.
            let (ping, pong) = (Chan::<bool, S>::new(0), Chan::<bool, S>::new(0));
            wg.add(2);
            {
                let (ping, pong, wg, held) = (ping.clone(), pong.clone(), wg.clone(), held.clone());
                S::go(move || {
                    for _ in 0..ROUND_TRIPS {
                        ping.send(true);
                        pong.recv();
                    }
                    held.fetch_add(schedcore::lock::locks_held() as usize, Relaxed);
                    wg.done();
                });
            }
            {
                let wg = wg.clone();
                let held = held.clone();
                S::go(move || {
                    for _ in 0..ROUND_TRIPS {
                        ping.recv();
                        pong.send(true);
                    }
                    held.fetch_add(schedcore::lock::locks_held() as usize, Relaxed);
                    wg.done();
                });
            }
            // A ring of passers on buffered and unbuffered channels, every other one wrapping
            // its hand-on in a syscall.
            let links: Vec<Chan<u64, S>> = (0..RING)
                .map(|i| Chan::new(if i % 2 == 0 { 0 } else { 4 }))
                .collect();
            wg.add(RING as i64);
            for i in 0..RING {
                let (inp, out) = (links[i].clone(), links[(i + 1) % RING].clone());
                let (wg, held) = (wg.clone(), held.clone());
                S::go(move || {
                    for lap in 0..LAPS {
                        if i == 0 {
                            out.send(lap as u64);
                            inp.recv();
                        } else {
                            let v = inp.recv().unwrap();
                            if i % 2 == 1 {
                                S::entersyscall();
                                S::exitsyscall();
                            }
                            out.send(v);
                        }
                    }
                    held.fetch_add(schedcore::lock::locks_held() as usize, Relaxed);
                    wg.done();
                });
            }
            // Goroutines that take a runtime lock (as a channel, a semaphore or Go's own
            // runtime code does) between yields.
            let shared = Arc::new(schedcore::Lock::new(0u64));
            wg.add(2 * procs as i64);
            for _ in 0..2 * procs {
                let (shared, wg, held) = (shared.clone(), wg.clone(), held.clone());
                S::go(move || {
                    for _ in 0..10_000 {
                        *shared.lock() += 1;
                        S::gosched();
                    }
                    held.fetch_add(schedcore::lock::locks_held() as usize, Relaxed);
                    wg.done();
                });
            }
            // A hand-made channel: a parker that sleeps on a runtime lock's condition through
            // `park` (whose unlock runs on the scheduler's side, on the M the parker left),
            // and a waker that readies it: the steps every channel operation is made of,
            // here inlined into the goroutine's own body.
            struct Tokens<G> {
                count: u64,
                waiter: Option<G>,
            }
            const HANDS: u64 = 20_000;
            let tokens = Arc::new(schedcore::Lock::new(Tokens::<S::GRef> {
                count: 0,
                waiter: None,
            }));
            wg.add(2);
            {
                let (tokens, wg, held) = (tokens.clone(), wg.clone(), held.clone());
                S::go(move || {
                    for _ in 0..HANDS {
                        let mut t = tokens.lock();
                        while t.count == 0 {
                            t.waiter = Some(S::current());
                            S::park(t);
                            t = tokens.lock();
                        }
                        t.count -= 1;
                    }
                    held.fetch_add(schedcore::lock::locks_held() as usize, Relaxed);
                    wg.done();
                });
            }
            {
                let (tokens, wg, held) = (tokens.clone(), wg.clone(), held.clone());
                S::go(move || {
                    for _ in 0..HANDS {
                        let mut t = tokens.lock();
                        t.count += 1;
                        let w = t.waiter.take();
                        drop(t);
                        match w {
                            Some(w) => S::ready(w),
                            None => S::gosched(),
                        }
                    }
                    held.fetch_add(schedcore::lock::locks_held() as usize, Relaxed);
                    wg.done();
                });
            }
            // BenchmarkSyscall's shape: goroutines that yield, then make syscalls, sharing
            // batches through a counter, and report on a channel.
            let left = Arc::new(AtomicUsize::new(4_000));
            let reports = Chan::<usize, S>::new(procs);
            for _ in 0..procs {
                let (left, reports) = (left.clone(), reports.clone());
                S::go(move || {
                    while left.fetch_sub(1, SeqCst) as isize > 0 {
                        S::gosched();
                        for _ in 0..50 {
                            S::entersyscall();
                            S::exitsyscall();
                        }
                    }
                    reports.send(schedcore::lock::locks_held() as usize);
                });
            }
            for _ in 0..procs {
                held.fetch_add(reports.recv().unwrap(), Relaxed);
            }
            wg.wait();
            assert_eq!(
                held.load(Relaxed),
                0,
                "procs {procs}: goroutines found their M holding runtime locks after migrating"
            );
            if S::PREEMPTIVE {
                hog_is_preempted::<S>();
            }
        })
        .unwrap();
    }
}

/// At procs 1, a hog that spins through preempt points without yielding gives the CPU back to
/// the main goroutine within its 10 ms slice plus generous slack.
fn hog_is_preempted<S: Scheduler>() {
    // Generous: the suite runs many runtimes at once on few cores, and sysmon's thread must get
    // a CPU to preempt. Without preemption the hog keeps the CPU until CAP.
    const SLACK: Duration = Duration::from_millis(1990);
    const CAP: Duration = Duration::from_secs(10);
    let prev = S::gomaxprocs(1);
    let stop = Arc::new(AtomicBool::new(false));
    let started: Arc<std::sync::Mutex<Option<Instant>>> = Arc::default();
    {
        let (stop, started) = (stop.clone(), started.clone());
        S::go(move || {
            let t = Instant::now();
            *started.lock().unwrap() = Some(t);
            while !stop.load(Relaxed) && t.elapsed() < CAP {
                S::preempt_point();
            }
        });
    }
    // Hand the CPU to the hog; it comes back only when the hog is preempted (or gives up).
    while started.lock().unwrap().is_none() {
        S::gosched();
    }
    let back = Instant::now();
    stop.store(true, Relaxed);
    let waited = back - started.lock().unwrap().unwrap();
    S::gomaxprocs(prev);
    assert!(
        waited < Duration::from_millis(10) + SLACK,
        "a hog at procs 1 kept the CPU for {waited:?}: no preemption (stale lock count?)"
    );
}

/// A goroutine that panics on the smallest stack `Config` accepts, with RUST_BACKTRACE=1
/// (the hook then symbolizes a backtrace on that stack), ends the run with the panic instead
/// of overflowing. Run in a child process of this test binary, so an overflow is a failed
/// test and not a dead suite.
fn panic_backtrace_fits_the_smallest_stack<S: Scheduler>() {
    const CHILD: &str = "LAB_CONFORMANCE_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let cfg = Config {
            stack_size: schedcore::scheduler::MIN_STACK_SIZE,
            ..Config::new(1)
        };
        let r = S::run(&cfg, || {
            S::go(|| panic!("panic on the smallest stack"));
            loop {
                blocking_syscall::<S>(100);
            }
        });
        assert_eq!(
            r.map(|_| ()),
            Err(RunError::Panic("panic on the smallest stack".into()))
        );
        return;
    }
    let test = std::thread::current()
        .name()
        .expect("cargo's harness names the test thread")
        .to_string();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the child ({test}) failed with {}: {}\n{}",
        out.status,
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// NumGoroutine counts the living; leftovers at exit are reported, not run.
fn goroutine_counts<S: Scheduler>() {
    let ((before, during), rep) = S::run(&Config::new(2), || {
        let before = S::num_goroutine();
        let block = Chan::<(), S>::new(0);
        let started = WaitGroup::<S>::new();
        for _ in 0..10 {
            started.add(1);
            let (block, started) = (block.clone(), started.clone());
            S::go(move || {
                started.done();
                block.recv();
            });
        }
        started.wait();
        (before, S::num_goroutine())
    })
    .unwrap();
    assert_eq!(before, 1);
    assert_eq!(during, 11);
    assert_eq!(rep.counter(Counter::GoroutinesLeft), 10);
    // Every G was a new one, so each creation saw the count.
    assert_eq!(rep.peak_goroutines(), 11);
}

/// A goroutine wired by LockOSThread stays on its thread across yields and parks.
fn lock_os_thread_stays<S: Scheduler>() {
    S::run(&Config::new(2), || {
        let moved = Arc::new(AtomicBool::new(false));
        let wg = WaitGroup::<S>::new();
        for _ in 0..4 {
            wg.add(1);
            let (moved, wg) = (moved.clone(), wg.clone());
            S::go(move || {
                S::lock_os_thread();
                let me = std::thread::current().id();
                for _ in 0..50 {
                    S::gosched();
                    blocking_syscall::<S>(20);
                    if std::thread::current().id() != me {
                        moved.store(true, Relaxed);
                    }
                }
                S::unlock_os_thread();
                wg.done();
            });
        }
        // Unwired goroutines compete for the same M's meanwhile.
        for _ in 0..4 {
            S::go(|| {
                for _ in 0..50 {
                    S::gosched();
                }
            });
        }
        wg.wait();
        assert!(
            !moved.load(Relaxed),
            "a locked goroutine ran on another thread"
        );
    })
    .unwrap();
}

/// Dead goroutines come back through the gfree lists with their stacks: spawning many,
/// one after another, maps only a few stacks.
fn spawn_reuses_stacks<S: Scheduler>() {
    let (_, r) = S::run(&Config::new(1), || {
        for _ in 0..500 {
            let wg = WaitGroup::<S>::new();
            wg.add(1);
            let w = wg.clone();
            S::go(move || w.done());
            wg.wait();
        }
    })
    .unwrap();
    assert!(
        r.counter(Counter::StacksMapped) < 20,
        "{} stacks mapped for 500 goroutines",
        r.counter(Counter::StacksMapped)
    );
}

/// Goroutines that only make syscalls never pass through the scheduler's loop; the run still
/// ends when another goroutine panics and when main returns.
fn syscall_loops_do_not_hold_up_the_end<S: Scheduler>() {
    for block in [false, true] {
        let r = S::run(&Config::new(2), move || {
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
        assert_eq!(
            r.unwrap_err(),
            RunError::Panic("boom".into()),
            "entersyscallblock: {block}"
        );
    }
    let (_, r) = S::run(&Config::new(2), || {
        S::go(|| loop {
            S::entersyscall();
            S::exitsyscall();
        });
        S::gosched();
    })
    .unwrap();
    assert_eq!(r.counter(Counter::GoroutinesLeft), 1);
}

/// Several runtimes of one generation live in one process at once (no global singleton).
fn many_runtimes_at_once<S: Scheduler>() {
    let hs: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                S::run(&Config::new(1 + i % 2), move || {
                    let wg = WaitGroup::<S>::new();
                    for _ in 0..300 {
                        wg.add(1);
                        let w = wg.clone();
                        S::go(move || w.done());
                    }
                    wg.wait();
                    i
                })
                .unwrap()
                .0
            })
        })
        .collect();
    for (i, h) in hs.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), i);
    }
}

/// The scheduler's functions outside a goroutine of a running runtime: a panic that says so.
fn calls_outside_a_runtime_panic<S: Scheduler>() {
    let r = std::thread::spawn(|| S::gosched()).join();
    let msg = schedcore::exit::panic_message(&*r.expect_err("gosched outside a runtime returned"));
    assert!(
        msg.contains("outside a goroutine"),
        "unexpected message: {msg}"
    );
}

/// Go's TestPreemption: two goroutines on one proc take turns through a shared word, each
/// spinning (through preempt points, never yielding) until it is its turn. They can only
/// finish if the spinning one is preempted so that the other gets the CPU.
fn preemption<S: Scheduler>() {
    S::run(&Config::new(1), || {
        const N: u32 = 5;
        let x = Arc::new(AtomicU32::new(0));
        let done = Chan::<bool, S>::new(0);
        for g in 0..2u32 {
            let (x, done) = (x.clone(), done.clone());
            S::go(move || {
                let deadline = Instant::now() + Duration::from_secs(20);
                for _ in 0..N {
                    while x.load(SeqCst) != g {
                        S::preempt_point();
                        assert!(Instant::now() < deadline, "no preemption within 20 s");
                    }
                    x.store(1 - g, SeqCst);
                }
                done.send(true);
            });
        }
        done.recv();
        done.recv();
    })
    .unwrap();
}

/// Go's TestPreemptionGC: collections complete while goroutines spin through preempt points.
fn preemption_gc<S: Scheduler>() {
    S::run(&Config::new(2), || {
        let stop = Arc::new(AtomicBool::new(false));
        let wg = WaitGroup::<S>::new();
        for _ in 0..3 {
            wg.add(1);
            let (stop, wg) = (stop.clone(), wg.clone());
            S::go(move || {
                while !stop.load(Relaxed) {
                    S::preempt_point();
                }
                wg.done();
            });
        }
        for _ in 0..20 {
            S::gc();
        }
        stop.store(true, Relaxed);
        wg.wait();
    })
    .unwrap();
}

/// Port of Go's TestStopTheWorldDeadlock: at GOMAXPROCS 3, one goroutine collects and another
/// sets GOMAXPROCS over and over (each a stop-the-world), while a goroutine that does nothing
/// but spawn its own successor keeps the run queues busy; both storms must finish. Go loops
/// 1000 times; 200 keep the suite quick.
fn stop_the_world_deadlock<S: Scheduler>() {
    const STORM: usize = 200;
    S::run(&Config::new(2), || {
        let maxprocs = S::gomaxprocs(3);
        let compl = Chan::<bool, S>::new(2);
        let c = compl.clone();
        S::go(move || {
            for _ in 0..STORM {
                S::gc();
            }
            c.send(true);
        });
        let c = compl.clone();
        S::go(move || {
            for _ in 0..STORM {
                S::gomaxprocs(3);
            }
            c.send(true);
        });
        let stop = Arc::new(AtomicBool::new(false));
        perpetuum_mobile::<S>(stop.clone());
        compl.recv();
        compl.recv();
        stop.store(true, SeqCst);
        S::gomaxprocs(maxprocs);
    })
    .unwrap();
}

/// Go's perpetuumMobile: unless told to stop (a `select` on a channel in Go, a flag here),
/// spawn the next one and exit.
fn perpetuum_mobile<S: Scheduler>(stop: Arc<AtomicBool>) {
    if !stop.load(SeqCst) {
        S::go(move || perpetuum_mobile::<S>(stop));
    }
}

/// Port of Go's TestGCFairness (testprog GCFairness): at GOMAXPROCS 1, two goroutines write
/// to /dev/null in a loop, each write a syscall, and never yield otherwise; the main goroutine
/// must still get the CPU back after sleeping. Go's main sleeps on a timer (time.Sleep); the
/// lab has no timers, so main sleeps 10 ms in a blocking syscall and must win a CPU back at
/// exitsyscall. The writers give up after 20 s so a failure ends as a failed assertion.
fn gc_fairness<S: Scheduler>() {
    use std::io::Write;
    let devnull = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .expect("/dev/null opens for writing");
    let devnull = Arc::new(devnull);
    let waited = S::run(&Config::new(1), move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        for _ in 0..2 {
            let f = devnull.clone();
            S::go(move || {
                while Instant::now() < deadline {
                    // Go's loop calls f.Write, whose function prologues are preempt checks.
                    S::preempt_point();
                    S::entersyscall();
                    let _ = (&*f).write(b".");
                    S::exitsyscall();
                }
            });
        }
        let t = Instant::now();
        blocking_syscall::<S>(10_000);
        t.elapsed()
    })
    .unwrap()
    .0;
    assert!(
        waited < Duration::from_secs(5),
        "main got its CPU back only after {waited:?}"
    );
}

/// A run that ends while a goroutine wired by LockOSThread is being handed between M's and a
/// collection is stopping the world (tracker issue 9): at procs 4, one goroutine loops on gc
/// and Gosched, and a wired one loops on a 30 us blocking syscall and Gosched, so that each of
/// its turns hands a P to its M (startlockedm) while teardown may be waking that M. The run
/// ends at a varying moment, by main's return or by a goroutine's panic. Each run is bounded:
/// a P lost in the hand-off (a stop-the-world that never finishes) or a double wake-up shows
/// up as a hang or a wrong result. 200 runs of each ending.
fn end_during_locked_handoff<S: Scheduler>() {
    const RUNS: u64 = 200;
    for i in 0..RUNS {
        for panics in [false, true] {
            let r = with_timeout(30, move || {
                S::run(&Config::new(4), move || {
                    S::go(|| loop {
                        S::gc();
                        S::gosched();
                    });
                    S::go(|| {
                        S::lock_os_thread();
                        loop {
                            blocking_syscall::<S>(30);
                            S::gosched();
                        }
                    });
                    for _ in 0..i % 8 {
                        blocking_syscall::<S>(40);
                    }
                    if panics {
                        S::go(|| panic!("end of the run"));
                        loop {
                            blocking_syscall::<S>(40);
                        }
                    }
                })
            });
            match (panics, r) {
                (false, Ok(_)) => {}
                (true, Err(RunError::Panic(msg))) if msg == "end of the run" => {}
                (_, r) => panic!("run {i} (panic: {panics}) ended with {:?}", r.map(|_| ())),
            }
        }
    }
}

/// The program the trace tests record: two goroutines ping-ponging over unbuffered channels
/// (the pinger making a blocking syscall every 50 rounds), main making blocking, empty and
/// blocking-call syscalls and one collection meanwhile, and on a preemptive generation three
/// goroutines that spin through preempt points taking turns on two P's, which only preemption
/// can let through. Returns how many syscalls it made.
fn traced_program<S: Scheduler>(rounds: u32) -> usize {
    const MAIN_SYSCALLS: usize = 6;
    let ping = Chan::<u32, S>::new(0);
    let pong = Chan::<u32, S>::new(0);
    let done = Chan::<bool, S>::new(0);
    let (pi, po, d) = (ping.clone(), pong.clone(), done.clone());
    S::go(move || {
        while let Some(v) = pi.recv() {
            po.send(v + 1);
        }
        d.send(true);
    });
    let d = done.clone();
    S::go(move || {
        for i in 0..rounds {
            ping.send(i);
            assert_eq!(pong.recv(), Some(i + 1));
            if i % 50 == 0 {
                blocking_syscall::<S>(100);
            }
        }
        ping.close();
        d.send(true);
    });
    for i in 0..MAIN_SYSCALLS {
        match i % 3 {
            0 => blocking_syscall::<S>(200),
            1 => {
                S::entersyscall();
                S::exitsyscall();
            }
            _ => {
                S::entersyscallblock();
                std::thread::sleep(Duration::from_micros(200));
                S::exitsyscall();
            }
        }
    }
    S::gc();
    done.recv();
    done.recv();
    if S::PREEMPTIVE {
        const TURNS: u32 = 3;
        let x = Arc::new(AtomicU32::new(0));
        let wg = WaitGroup::<S>::new();
        for g in 0..3u32 {
            wg.add(1);
            let (x, wg) = (x.clone(), wg.clone());
            S::go(move || {
                let deadline = Instant::now() + Duration::from_secs(20);
                for _ in 0..TURNS {
                    while x.load(SeqCst) != g {
                        S::preempt_point();
                        assert!(Instant::now() < deadline, "no preemption within 20 s");
                    }
                    x.store((g + 1) % 3, SeqCst);
                }
                wg.done();
            });
        }
        wg.wait();
    }
    MAIN_SYSCALLS + rounds.div_ceil(50) as usize
}

/// The rules of `Trace::check`, with the offending lane's neighbourhood in the message.
fn assert_well_formed(t: &schedcore::trace::Trace) {
    if let Err(v) = t.check() {
        let lane =
            t.ms.iter()
                .find(|l| l.m == v.m)
                .expect("violation on a known lane");
        let around: Vec<String> = lane.events
            [v.index.saturating_sub(8)..(v.index + 3).min(lane.events.len())]
            .iter()
            .map(|e| {
                format!(
                    "{} {:?} g={} arg={} arg2={}",
                    e.ts, e.ev, e.g, e.arg, e.arg2
                )
            })
            .collect();
        panic!(
            "{v} ({}, lost {}):\n{}",
            lane.name,
            lane.lost,
            around.join("\n")
        );
    }
}

/// An execution trace (`Config::trace`) follows the rules of `schedcore::trace` (per M: time
/// order, one goroutine at a time, P's, sleeps, spinning, stops of the world and scans in
/// pairs; every start readied and created first), and its events agree with the run's
/// counters and with what the program did.
fn trace_is_well_formed<S: Scheduler>() {
    use schedcore::trace::Ev;
    let cfg = Config {
        trace: Some(1 << 16),
        ..Config::new(2)
    };
    let (syscalls, rep) = S::run(&cfg, || traced_program::<S>(200)).unwrap();
    let t = rep
        .trace
        .as_ref()
        .expect("Config::trace set, but no trace in the report");
    assert_eq!(t.procs, 2);
    assert!(t.ms.iter().all(|m| m.lost == 0), "a 64Ki ring wrapped");
    assert!(t.ms.iter().any(|m| m.name.ends_with("(sysmon)")) == t.has_ps);
    assert_well_formed(t);
    let sum = |ev: Ev, f: fn(&schedcore::trace::Event) -> u64| -> u64 {
        t.events()
            .filter(|(_, e)| e.ev == ev)
            .map(|(_, e)| f(e))
            .sum()
    };
    let created = rep.counter(Counter::GoroutinesCreated);
    assert_eq!(t.count(Ev::GoCreate) as u64, created);
    // Every goroutine that returned (all but those still queued when main returned).
    let left = rep.counter(Counter::GoroutinesLeft);
    assert_eq!(t.count(Ev::GoEnd) as u64, created - left);
    assert_eq!(t.count(Ev::GoSysCall), syscalls);
    assert_eq!(t.count(Ev::GoSysExit), syscalls);
    let parks = rep.counter(Counter::Parks);
    let blocks = t.count(Ev::GoBlock) as u64;
    // 2014's collection parks the collecting goroutine on g0 (quiesce) besides.
    assert!(
        parks >= 1 && (parks..=parks + 1).contains(&blocks),
        "{blocks} GoBlock, {parks} parks"
    );
    assert!(t.count(Ev::GoUnblock) >= 1);
    assert_eq!(t.count(Ev::StwStart), 1);
    assert_eq!(t.count(Ev::StwDone), 1);
    let scans = t
        .events()
        .filter(|(_, e)| e.ev == Ev::GcScanStart && e.g == 0)
        .count();
    assert_eq!(scans, 1);
    assert_eq!(
        sum(Ev::GcScanDone, |e| e.arg),
        rep.counter(Counter::StackWordsScanned)
    );
    let idle_sleeps = t
        .events()
        .filter(|(_, e)| e.ev == Ev::MSleep && e.arg == 0)
        .count();
    assert_eq!(idle_sleeps as u64, rep.counter(Counter::MSleeps));
    assert_eq!(
        sum(Ev::Steal, |e| e.arg2 as u64),
        rep.counter(Counter::GoroutinesStolen)
    );
    assert!(sum(Ev::GlobGet, |e| e.arg) <= sum(Ev::GlobPut, |e| e.arg));
    assert_eq!(t.count(Ev::Retake) as u64, rep.counter(Counter::Retakes));
    assert_eq!(
        t.count(Ev::PreemptReq) as u64,
        rep.counter(Counter::PreemptRequests)
    );
    assert!(t.count(Ev::MHandoff) as u64 >= rep.counter(Counter::MnextgHandoffs));
    if t.has_ps {
        assert!(t.count(Ev::ProcStart) >= 2, "both P's ran");
        // entersyscallblock hands its P off at once.
        assert!(t.count(Ev::GoSysBlock) >= 2);
    } else {
        assert_eq!(t.count(Ev::ProcStart) + t.count(Ev::SpinStart), 0);
        assert!(t
            .events()
            .all(|(_, e)| e.ev != Ev::GoStart || e.arg == schedcore::trace::NO_P));
    }
    if S::PREEMPTIVE {
        let preempted = t.count(Ev::GoPreempt) as u64;
        assert!(preempted >= 1 && preempted >= rep.counter(Counter::Preemptions));
        assert!(t.count(Ev::PreemptReq) >= 1);
    } else {
        assert_eq!(t.count(Ev::GoPreempt) + t.count(Ev::PreemptReq), 0);
    }
    // Off, the report carries no trace.
    let (_, rep) = S::run(&Config::new(2), || traced_program::<S>(20)).unwrap();
    assert!(rep.trace.is_none());
}

/// A small ring keeps each M's latest events and says how many it lost; the trace still keeps
/// the rules (a wrapped lane starts in an unknown state).
fn trace_ring_reports_lost<S: Scheduler>() {
    let cfg = Config {
        trace: Some(16),
        ..Config::new(2)
    };
    let (_, rep) = S::run(&cfg, || traced_program::<S>(300)).unwrap();
    let t = rep
        .trace
        .expect("Config::trace set, but no trace in the report");
    let wrapped: Vec<_> = t.ms.iter().filter(|m| m.lost > 0).collect();
    assert!(!wrapped.is_empty(), "no ring of 16 events wrapped");
    assert!(wrapped.iter().all(|m| m.events.len() == 16));
    assert!(t.ms.iter().all(|m| m.events.len() <= 16));
    assert!(t.complete_from() > 0);
    assert_well_formed(&t);
}

/// The trace keeps its rules through the rarer paths: goroutines locked to their threads
/// (hand-offs to the locked M, which sleeps meanwhile) among unwired ones, and GOMAXPROCS
/// changes (each a stop of the world and a procresize on the generations with P's) while
/// goroutines make syscalls and yield.
fn trace_of_locked_threads_and_resizes<S: Scheduler>() {
    use schedcore::trace::Ev;
    const SIZES: [i32; 8] = [1, 4, 3, 1, 2, 4, 1, 2];
    let cfg = Config {
        trace: Some(1 << 16),
        ..Config::new(2)
    };
    let (_, rep) = S::run(&cfg, || {
        let wg = WaitGroup::<S>::new();
        for _ in 0..3 {
            wg.add(1);
            let wg = wg.clone();
            S::go(move || {
                S::lock_os_thread();
                for _ in 0..20 {
                    S::gosched();
                    blocking_syscall::<S>(20);
                }
                S::unlock_os_thread();
                wg.done();
            });
        }
        let stop = Arc::new(AtomicBool::new(false));
        for _ in 0..4 {
            wg.add(1);
            let (stop, wg) = (stop.clone(), wg.clone());
            S::go(move || {
                // Paced by a short blocking call, so that the ring keeps the whole run.
                while !stop.load(Relaxed) {
                    blocking_syscall::<S>(50);
                    S::gosched();
                }
                wg.done();
            });
        }
        for n in SIZES {
            S::gomaxprocs(n);
            blocking_syscall::<S>(300);
        }
        stop.store(true, Relaxed);
        wg.wait();
    })
    .unwrap();
    let t = rep
        .trace
        .as_ref()
        .expect("Config::trace set, but no trace in the report");
    assert!(t.ms.iter().all(|m| m.lost == 0), "a 64Ki ring wrapped");
    assert_well_formed(t);
    // A locked goroutine that yields is handed back to its own M (2011's gput, mnextg; 2013
    // and 2014's startlockedm from the M that found it).
    assert!(t.count(Ev::MHandoff) >= 1);
    if t.has_ps {
        let locked_sleeps = t
            .events()
            .filter(|(_, e)| e.ev == Ev::MSleep && e.arg == 1)
            .count();
        assert!(locked_sleeps >= 1, "no stoplockedm");
        assert_eq!(t.count(Ev::StwStart), SIZES.len());
        assert_eq!(t.count(Ev::StwDone), SIZES.len());
    } else {
        // 2011's gomaxprocsfunc only moves mcpumax.
        assert_eq!(t.count(Ev::StwStart), 0);
    }
}

/// Instantiates the suite for every scheduler of the registry (`harness::for_each_scheduler!`):
/// a new generation joins the suite by joining the registry.
macro_rules! suites {
    ($($m:ident: $S:ty, $about:literal;)*) => {
        $(conformance!($m, $S);)*
    };
}

/// One test of the suite for the scheduler whose registry ident is the first argument: the
/// known gaps (and the tests that need preemption, on generations without it) are ignored
/// with their reason; every other combination is a plain test.
macro_rules! case {
    (sched2011_lock, yield_locked_progress, $($t:tt)*) => { #[ignore = gap_2011_yield_locked!()] $($t)* };
    (sched2011, yield_locked_progress, $($t:tt)*) => { #[ignore = gap_2011_yield_locked!()] $($t)* };
    (sched2013, goroutine_parallelism, $($t:tt)*) => { #[ignore = gap_2013_parallelism!()] $($t)* };
    (sched2013, gc_fairness, $($t:tt)*) => { #[ignore = gap_gc_fairness!()] $($t)* };
    (sched2014, gc_fairness, $($t:tt)*) => { #[ignore = gap_gc_fairness!()] $($t)* };
    (sched2014_nopreempt, gc_fairness, $($t:tt)*) => { #[ignore = gap_gc_fairness!()] $($t)* };
    (sched2011_lock, preemption, $($t:tt)*) => { #[ignore = gap_no_preemption!()] $($t)* };
    (sched2011, preemption, $($t:tt)*) => { #[ignore = gap_no_preemption!()] $($t)* };
    (sched2013, preemption, $($t:tt)*) => { #[ignore = gap_no_preemption!()] $($t)* };
    (sched2014_nopreempt, preemption, $($t:tt)*) => { #[ignore = gap_no_preemption!()] $($t)* };
    (sched2011_lock, preemption_gc, $($t:tt)*) => { #[ignore = gap_no_preemption!()] $($t)* };
    (sched2011, preemption_gc, $($t:tt)*) => { #[ignore = gap_no_preemption!()] $($t)* };
    (sched2013, preemption_gc, $($t:tt)*) => { #[ignore = gap_no_preemption!()] $($t)* };
    (sched2014_nopreempt, preemption_gc, $($t:tt)*) => { #[ignore = gap_no_preemption!()] $($t)* };
    ($m:ident, $name:ident, $($t:tt)*) => { $($t)* };
}

/// The suite for one scheduler: every test bounded by a timeout, so a hang fails.
macro_rules! conformance {
    ($m:ident, $S:ty) => {
        conformance!(@tests $m, $S;
            every_goroutine_runs_once,
            channels_across_procs,
            yield_progress,
            yield_locked_progress,
            goroutine_parallelism,
            gc_during_syscalls_and_running,
            gomaxprocs_changes,
            deadlock_is_reported,
            panic_is_reported,
            invalid_config_is_refused,
            hundred_thousand_alive,
            goroutine_limit_is_an_error,
            stack_overflow_faults,
            lock_kind_is_honoured,
            goroutine_counts,
            lock_os_thread_stays,
            spawn_reuses_stacks,
            syscall_loops_do_not_hold_up_the_end,
            many_runtimes_at_once,
            calls_outside_a_runtime_panic,
            calls_inside_a_syscall_panic,
            return_inside_a_syscall_is_reported,
            lock_holder_is_not_preempted,
            lock_counts_survive_migration,
            panic_backtrace_fits_the_smallest_stack,
            preemption,
            preemption_gc,
            stop_the_world_deadlock,
            gc_fairness,
            end_during_locked_handoff,
            trace_is_well_formed,
            trace_ring_reports_lost,
            trace_of_locked_threads_and_resizes,
        );
    };
    (@tests $m:ident, $S:ty; $($name:ident,)*) => {
        mod $m {
            use super::*;
            type S = $S;
            const T: u64 = 120;
            $(case!($m, $name, #[test] fn $name() { with_timeout(T, super::$name::<S>); });)*
        }
    };
}

harness::for_each_scheduler!(suites);
