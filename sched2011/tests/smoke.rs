//! Boots both 2011 variants on small programs; the full conformance suite is in harness/tests.

use sched2011::{Sched2011, Sched2011Lock};
use schedcore::bounded::with_timeout;
use schedcore::{Chan, Config, RunError, Scheduler, WaitGroup};

fn spawn_many<S: Scheduler>(procs: usize) {
    let (n, rep) = S::run(&Config::new(procs), || {
        let wg = WaitGroup::<S>::new();
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for _ in 0..1000 {
            wg.add(1);
            let (wg, count) = (wg.clone(), count.clone());
            S::go(move || {
                count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                S::gosched();
                S::entersyscall();
                S::exitsyscall();
                wg.done();
            });
        }
        wg.wait();
        count.load(std::sync::atomic::Ordering::Relaxed)
    })
    .unwrap();
    assert_eq!(n, 1000);
    assert_eq!(rep.counters["goroutines_created"], 1001);
}

/// Every test body runs under this bound, so that a hang fails instead of stalling the suite.
const BOUND: u64 = 60;

#[test]
fn spawns_run_once_at_every_procs() {
    with_timeout(BOUND, || {
        for p in [1, 2, 4] {
            spawn_many::<Sched2011>(p);
            spawn_many::<Sched2011Lock>(p);
        }
    });
}

#[test]
fn channel_ping_pong() {
    with_timeout(BOUND, channel_ping_pong_body);
}

fn channel_ping_pong_body() {
    let (sum, _) = Sched2011::run(&Config::new(2), || {
        let a = Chan::<u64, Sched2011>::new(0);
        let b = Chan::<u64, Sched2011>::new(0);
        let (a2, b2) = (a.clone(), b.clone());
        Sched2011::go(move || {
            while let Some(v) = a2.recv() {
                b2.send(v + 1);
            }
        });
        let mut sum = 0;
        for i in 0..1000 {
            a.send(i);
            sum += b.recv().unwrap();
        }
        a.close();
        sum
    })
    .unwrap();
    assert_eq!(sum, (1..=1000).sum::<u64>());
}

#[test]
fn deadlock_and_panic_and_bad_config() {
    with_timeout(BOUND, deadlock_and_panic_and_bad_config_body);
}

fn deadlock_and_panic_and_bad_config_body() {
    let r = Sched2011::run(&Config::new(2), || {
        let c = Chan::<(), Sched2011>::new(0);
        c.recv();
    });
    assert_eq!(r.unwrap_err(), RunError::Deadlock);
    let r = Sched2011::run(&Config::new(2), || {
        Sched2011::go(|| panic!("boom"));
        loop {
            Sched2011::gosched();
        }
    });
    assert_eq!(r.unwrap_err(), RunError::Panic("boom".into()));
    assert!(matches!(
        Sched2011::run(&Config::new(0), || ()),
        Err(RunError::InvalidConfig(_))
    ));
}
