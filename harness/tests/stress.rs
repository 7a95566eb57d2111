//! Seeded stress: thousands of goroutines doing random gosched, empty and blocking syscalls,
//! channel traffic, spawns, gc, gomaxprocs changes and LockOSThread; every spawned goroutine
//! must finish exactly once and every value sent must arrive. A second size holds Go's scale:
//! 10^5 workers alive at once (they wait at a gate until the last is spawned), fewer
//! operations each, and only one in a thousand stops the world (a collection scans every
//! stack) or wires itself to a thread. The seed is printed; rerun one with
//! `STRESS_SEED=<n> cargo test --release -p harness --test stress`.

mod support;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use schedcore::{Chan, Config, Scheduler, WaitGroup};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use support::{blocking_syscall, with_timeout};

/// How large a stress run is.
#[derive(Clone, Copy, Debug)]
struct Size {
    /// Workers spawned by main (each may spawn one child).
    workers: usize,
    /// Random operations of each worker.
    ops: usize,
    /// Only workers whose id is a multiple of this stop the world (gc, gomaxprocs), wire
    /// themselves to their thread (a wired goroutine waiting for a P holds an M, so 10^5 of
    /// them would be thousands of threads, past Go's own limit of 10000) or count the
    /// goroutines (2013's NumGoroutine walks allg); the others gosched instead.
    stw_every: usize,
    /// Workers wait at a gate until main has spawned them all, so that all are alive at once.
    gate: bool,
}

const THOUSANDS: Size = Size {
    workers: 1500,
    ops: 16,
    stw_every: 1,
    gate: false,
};

const HUNDRED_THOUSAND: Size = Size {
    workers: 100_000,
    ops: 4,
    stw_every: 1000,
    gate: true,
};

const PUMPS: [usize; 4] = [0, 1, 0, 8];

type Echo<S> = Chan<(u64, Chan<u64, S>), S>;

struct Shared<S: Scheduler> {
    size: Size,
    gate: WaitGroup<S>,
    finished: Vec<AtomicU32>,
    spawned: AtomicU64,
    sent: AtomicU64,
    pumps: Vec<Chan<u64, S>>,
    echo: Echo<S>,
    wg: WaitGroup<S>,
}

fn seeds() -> Vec<u64> {
    match std::env::var("STRESS_SEED") {
        Ok(s) => vec![s.parse().expect("STRESS_SEED must be a number")],
        Err(_) => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64;
            vec![t, t ^ 0x9e37_79b9_7f4a_7c15]
        }
    }
}

fn worker<S: Scheduler>(sh: Arc<Shared<S>>, id: usize, seed: u64) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let workers = sh.size.workers;
    if sh.size.gate && id < workers {
        sh.gate.wait();
    }
    for _ in 0..sh.size.ops {
        match rng.gen_range(0..100) {
            0..=19 => S::gosched(),
            20..=39 => {
                S::entersyscall();
                S::exitsyscall();
            }
            40..=49 => blocking_syscall::<S>(rng.gen_range(10..100)),
            50..=69 => {
                let v = rng.gen_range(1..1000);
                sh.sent.fetch_add(v, Relaxed);
                sh.pumps[rng.gen_range(0..PUMPS.len())].send(v);
            }
            70..=79 => {
                let reply = Chan::<u64, S>::new(0);
                let v = rng.gen::<u32>() as u64;
                sh.echo.send((v, reply.clone()));
                assert_eq!(reply.recv(), Some(v + 1), "echo lost its reply");
            }
            80..=89 if id < workers => {
                // One child per worker at most, with an id of its own.
                let child = workers + id;
                if sh.finished[child].load(Relaxed) == 0 && rng.gen_bool(0.5) {
                    sh.wg.add(1);
                    sh.spawned.fetch_add(1, Relaxed);
                    let (sh2, s2) = (sh.clone(), rng.gen());
                    S::go(move || worker(sh2, child, s2));
                    return finish(&sh, id);
                }
            }
            90.. if id % sh.size.stw_every != 0 => S::gosched(),
            90..=93 => {
                S::lock_os_thread();
                S::gosched();
                blocking_syscall::<S>(10);
                S::unlock_os_thread();
            }
            94 => S::gc(),
            95 => {
                S::gomaxprocs(rng.gen_range(1..=4));
            }
            _ => {
                let v = S::num_goroutine();
                assert!(v >= 1);
            }
        }
    }
    finish(&sh, id);
}

fn finish<S: Scheduler>(sh: &Shared<S>, id: usize) {
    sh.finished[id].fetch_add(1, Relaxed);
    sh.wg.done();
}

fn stress<S: Scheduler>(seed: u64, size: Size) {
    let procs = SmallRng::seed_from_u64(seed).gen_range(1..=4);
    eprintln!(
        "stress {} ({} workers): seed {seed}, procs {procs} (rerun with STRESS_SEED={seed})",
        S::NAME,
        size.workers
    );
    let workers = size.workers;
    let (outcome, rep) = S::run(&Config::new(procs), move || {
        let sh = Arc::new(Shared::<S> {
            size,
            gate: WaitGroup::new(),
            finished: (0..2 * workers).map(|_| AtomicU32::new(0)).collect(),
            spawned: AtomicU64::new(workers as u64),
            sent: AtomicU64::new(0),
            pumps: PUMPS.iter().map(|&cap| Chan::new(cap)).collect(),
            echo: Chan::new(0),
            wg: WaitGroup::new(),
        });
        let received = Chan::<u64, S>::new(PUMPS.len());
        for p in &sh.pumps {
            let (p, received) = (p.clone(), received.clone());
            S::go(move || {
                let mut sum = 0;
                while let Some(v) = p.recv() {
                    sum += v;
                }
                received.send(sum);
            });
        }
        let echo = sh.echo.clone();
        S::go(move || {
            while let Some((v, reply)) = echo.recv() {
                reply.send(v + 1);
            }
        });
        let mut rng = SmallRng::seed_from_u64(seed);
        sh.wg.add(workers as i64);
        sh.gate.add(1);
        for id in 0..workers {
            let (sh, s) = (sh.clone(), rng.gen());
            S::go(move || worker(sh, id, s));
        }
        let alive = S::num_goroutine();
        sh.gate.done();
        sh.wg.wait();
        for p in &sh.pumps {
            p.close();
        }
        sh.echo.close();
        let got: u64 = (0..PUMPS.len()).map(|_| received.recv().unwrap()).sum();
        let runs: Vec<u32> = sh.finished.iter().map(|f| f.load(Relaxed)).collect();
        (
            got,
            sh.sent.load(Relaxed),
            runs,
            sh.spawned.load(Relaxed),
            alive,
        )
    })
    .unwrap_or_else(|e| panic!("seed {seed}: run failed: {e}"));
    let (got, sent, runs, spawned, alive) = outcome;
    eprintln!(
        "stress {}: {} threads, {} goroutines at the peak",
        S::NAME,
        rep.counter(schedcore::Counter::ThreadsCreated),
        rep.peak_goroutines()
    );
    if size.gate {
        // Main, the pumps, the echo and every worker, waiting at the gate.
        let all = (workers + PUMPS.len() + 2) as u64;
        assert_eq!(
            alive as u64, all,
            "seed {seed}: goroutines alive at the gate"
        );
        assert!(
            rep.peak_goroutines() + 64 * procs as u64 >= all,
            "seed {seed}: peak {}",
            rep.peak_goroutines()
        );
    }
    assert_eq!(got, sent, "seed {seed}: channel values lost or duplicated");
    assert!(
        runs.iter().all(|&r| r <= 1),
        "seed {seed}: a goroutine finished twice"
    );
    assert_eq!(
        runs.iter().filter(|&&r| r == 1).count() as u64,
        spawned,
        "seed {seed}: a goroutine never finished"
    );
    assert!(rep.counters["goroutines_created"] >= spawned, "seed {seed}");
}

macro_rules! stress {
    ($m:ident, $S:ty) => {
        mod $m {
            use super::*;
            #[test]
            fn thousands() {
                for seed in seeds() {
                    with_timeout(300, move || stress::<$S>(seed, THOUSANDS));
                }
            }
            /// One seed (the first): each run holds 10^5 goroutines.
            #[test]
            fn hundred_thousand() {
                let seed = seeds()[0];
                with_timeout(300, move || stress::<$S>(seed, HUNDRED_THOUSAND));
            }
        }
    };
}

/// The stress tests of every scheduler of the registry.
macro_rules! suites {
    ($($m:ident: $S:ty, $about:literal;)*) => {
        $(stress!($m, $S);)*
    };
}

harness::for_each_scheduler!(suites);
