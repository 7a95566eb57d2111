//! Smoke tests that boot whole 2013 runtimes: spawning, channels, syscalls, gc, gomaxprocs,
//! locked threads, deadlock, panics and bad configurations. Each run is bounded: a hang
//! fails the test after 60 s instead of blocking the suite.

use sched2013::Sched2013 as S;
use schedcore::{Chan, Config, Counter, Report, RunError, Scheduler, WaitGroup};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs `main` on a fresh runtime in a helper thread; panics if it takes over 60 s.
fn run<R: Send + 'static>(
    cfg: Config,
    main: impl FnOnce() -> R + Send + 'static,
) -> Result<(R, Report), RunError> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(S::run(&cfg, main));
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("runtime did not finish within 60 s")
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
fn spawn_reuses_stacks() {
    let (_, r) = run(Config::new(1), || {
        for _ in 0..200 {
            let wg = WaitGroup::<S>::new();
            wg.add(1);
            let w = wg.clone();
            S::go(move || w.done());
            wg.wait();
        }
    })
    .unwrap();
    assert!(r.counter(Counter::StacksMapped) < 10, "{:?}", r.counters);
}

#[test]
fn channel_ping_pong() {
    for procs in [1, 2] {
        let (sum, _) = run(Config::new(procs), || {
            let ping = Chan::<u64, S>::new(0);
            let pong = Chan::<u64, S>::new(0);
            let (p2, q2) = (ping.clone(), pong.clone());
            S::go(move || {
                while let Some(v) = p2.recv() {
                    q2.send(v + 1);
                }
                q2.close();
            });
            let mut sum = 0;
            for i in 0..2000 {
                ping.send(i);
                sum += pong.recv().unwrap() - i;
            }
            ping.close();
            assert_eq!(pong.recv(), None);
            sum
        })
        .unwrap();
        assert_eq!(sum, 2000);
    }
}

#[test]
fn gosched_and_num_goroutine() {
    let (n, r) = run(Config::new(2), || {
        let wg = WaitGroup::<S>::new();
        let gate = Chan::<(), S>::new(0);
        wg.add(10);
        for _ in 0..10 {
            let (wg, gate) = (wg.clone(), gate.clone());
            S::go(move || {
                for _ in 0..100 {
                    S::gosched();
                }
                wg.done();
                gate.recv();
            });
        }
        wg.wait();
        let n = S::num_goroutine();
        gate.close();
        n
    })
    .unwrap();
    assert_eq!(n, 11);
    assert!(r.counter(Counter::Gosched) >= 1000);
    assert!(r.counter(Counter::GlobrunqPut) >= 1000);
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

#[test]
fn gomaxprocs_changes_under_load() {
    let (prev, _) = run(Config::new(1), || {
        let done = Arc::new(AtomicUsize::new(0));
        let wg = WaitGroup::<S>::new();
        wg.add(50);
        for _ in 0..50 {
            let (wg, done) = (wg.clone(), done.clone());
            S::go(move || {
                for _ in 0..50 {
                    S::gosched();
                }
                done.fetch_add(1, Ordering::Relaxed);
                wg.done();
            });
        }
        let mut prev = vec![S::gomaxprocs(0)];
        for n in [4, 2, 3, 1, 2] {
            prev.push(S::gomaxprocs(n));
        }
        prev.push(S::gomaxprocs(-1));
        wg.wait();
        assert_eq!(done.load(Ordering::Relaxed), 50);
        prev
    })
    .unwrap();
    assert_eq!(prev, vec![1, 1, 4, 2, 3, 1, 2]);
}

#[test]
fn lock_os_thread_keeps_the_thread() {
    let (ok, _) = run(Config::new(2), || {
        let wg = WaitGroup::<S>::new();
        wg.add(1);
        let w = wg.clone();
        let (tx, rx) = (Chan::<u32, S>::new(0), Chan::<u32, S>::new(0));
        let (tx2, rx2) = (tx.clone(), rx.clone());
        S::go(move || {
            S::lock_os_thread();
            let me = std::thread::current().id();
            let mut same = true;
            for i in 0..50 {
                // Park (channel), yield and block: we must come back on our own thread.
                let v = rx2.recv().unwrap();
                tx2.send(v + i);
                S::gosched();
                same &= std::thread::current().id() == me;
            }
            S::unlock_os_thread();
            assert!(same, "locked goroutine moved to another thread");
            w.done();
        });
        for i in 0..50 {
            rx.send(i);
            assert_eq!(tx.recv(), Some(2 * i));
            // Unlocked goroutines keep running meanwhile.
            let wg2 = WaitGroup::<S>::new();
            wg2.add(1);
            let w2 = wg2.clone();
            S::go(move || w2.done());
            wg2.wait();
        }
        wg.wait();
        true
    })
    .unwrap();
    assert!(ok);
}

#[test]
fn deadlock_is_reported() {
    for procs in [1, 3] {
        let r = run(Config::new(procs), || {
            let c = Chan::<u32, S>::new(0);
            let c2 = c.clone();
            S::go(move || {
                c2.recv();
            });
            c.recv();
        });
        assert_eq!(r.unwrap_err(), RunError::Deadlock);
    }
}

#[test]
fn panic_is_reported() {
    let r = run(Config::new(2), || {
        let c = Chan::<u32, S>::new(0);
        S::go(|| panic!("boom in a goroutine"));
        c.recv();
    });
    assert_eq!(
        r.unwrap_err(),
        RunError::Panic("boom in a goroutine".into())
    );
    let r = run(Config::new(1), || -> u32 { panic!("main panics") });
    assert_eq!(r.unwrap_err(), RunError::Panic("main panics".into()));
}

/// A goroutine that only makes syscalls never reaches schedule; the run must still end when
/// another goroutine panics (exitsyscall notices) and when main returns.
#[test]
fn syscall_loops_do_not_hold_up_the_end() {
    for block in [false, true] {
        let r = run(Config::new(2), move || {
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
    let (_, r) = run(Config::new(2), || {
        S::go(|| loop {
            S::entersyscall();
            S::exitsyscall();
        });
        S::gosched();
    })
    .unwrap();
    assert_eq!(r.counter(Counter::GoroutinesLeft), 1);
}

#[test]
fn bad_config_is_rejected() {
    for procs in [0, 257] {
        match S::run(&Config::new(procs), || ()) {
            Err(RunError::InvalidConfig(msg)) => assert!(msg.contains("procs"), "{msg}"),
            other => panic!("procs {procs}: {:?}", other.map(|_| ())),
        }
    }
    assert!(S::run(&Config::new(256), || ()).is_ok());
    let small = Config {
        stack_size: 1024,
        ..Config::new(1)
    };
    assert!(matches!(
        S::run(&small, || ()),
        Err(RunError::InvalidConfig(_))
    ));
}

#[test]
fn goroutines_left_when_main_returns() {
    let (_, r) = run(Config::new(2), || {
        let c = Chan::<u32, S>::new(0);
        for _ in 0..5 {
            let c = c.clone();
            S::go(move || {
                c.recv();
            });
        }
        // Let them block.
        for _ in 0..10 {
            S::gosched();
        }
    })
    .unwrap();
    assert_eq!(r.counter(Counter::GoroutinesLeft), 5);
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

#[test]
#[should_panic(expected = "outside a goroutine")]
fn calls_outside_a_runtime_panic() {
    S::gosched();
}

#[test]
fn many_runtimes_at_once() {
    let hs: Vec<_> = (0..4)
        .map(|i| std::thread::spawn(move || spawn_n(1 + i % 2, 300)))
        .collect();
    for h in hs {
        h.join().unwrap();
    }
}
