//! Seeded stress: thousands of goroutines doing random gosched, empty and blocking syscalls,
//! channel traffic, spawns, gc, gomaxprocs changes and LockOSThread; every spawned goroutine
//! must finish exactly once and every value sent must arrive. The seed is printed; rerun one
//! with `STRESS_SEED=<n> cargo test --release -p harness --test stress`.

mod support;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use schedcore::{Chan, Config, Scheduler, WaitGroup};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use support::{blocking_syscall, with_timeout};

const WORKERS: usize = 1500;
const OPS: usize = 16;
const PUMPS: [usize; 4] = [0, 1, 0, 8];

type Echo<S> = Chan<(u64, Chan<u64, S>), S>;

struct Shared<S: Scheduler> {
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
    for _ in 0..OPS {
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
            80..=89 if id < WORKERS => {
                // One child per worker at most, with an id of its own.
                let child = WORKERS + id;
                if sh.finished[child].load(Relaxed) == 0 && rng.gen_bool(0.5) {
                    sh.wg.add(1);
                    sh.spawned.fetch_add(1, Relaxed);
                    let (sh2, s2) = (sh.clone(), rng.gen());
                    S::go(move || worker(sh2, child, s2));
                    return finish(&sh, id);
                }
            }
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

fn stress<S: Scheduler>(seed: u64) {
    let procs = SmallRng::seed_from_u64(seed).gen_range(1..=4);
    eprintln!(
        "stress {}: seed {seed}, procs {procs} (rerun with STRESS_SEED={seed})",
        S::NAME
    );
    let (outcome, rep) = S::run(&Config::new(procs), move || {
        let sh = Arc::new(Shared::<S> {
            finished: (0..2 * WORKERS).map(|_| AtomicU32::new(0)).collect(),
            spawned: AtomicU64::new(WORKERS as u64),
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
        sh.wg.add(WORKERS as i64);
        for id in 0..WORKERS {
            let (sh, s) = (sh.clone(), rng.gen());
            S::go(move || worker(sh, id, s));
        }
        sh.wg.wait();
        for p in &sh.pumps {
            p.close();
        }
        sh.echo.close();
        let got: u64 = (0..PUMPS.len()).map(|_| received.recv().unwrap()).sum();
        let runs: Vec<u32> = sh.finished.iter().map(|f| f.load(Relaxed)).collect();
        (got, sh.sent.load(Relaxed), runs, sh.spawned.load(Relaxed))
    })
    .unwrap_or_else(|e| panic!("seed {seed}: run failed: {e}"));
    let (got, sent, runs, spawned) = outcome;
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
        #[test]
        fn $m() {
            for seed in seeds() {
                with_timeout(300, move || stress::<$S>(seed));
            }
        }
    };
}

/// One stress test per scheduler of the registry.
macro_rules! suites {
    ($($m:ident: $S:ty, $about:literal;)*) => {
        $(stress!($m, $S);)*
    };
}

harness::for_each_scheduler!(suites);
