//! The `may` peer: the lab's workloads on may's stackful coroutines, the closest Rust relative
//! of goroutines (a coroutine per `go`, work-stealing workers, coroutine-aware channels), with
//! as many workers as procs. may's scheduler is one per process and its worker count is fixed
//! at first use, so every run is a child `lab` process (see [`super::child`]); there, a
//! coroutine plays the main goroutine, ramps N and times each round.
//!
//! What maps: the goroutine-creation chains and the single spawner, tokio's chain-spawn and
//! yield-many, ping-pong, matmult, and ping-pong-hog (at one worker, as Go's benchmark runs at
//! GOMAXPROCS 1: may cannot preempt the hog, so the round starves as a generation without
//! preemption does). What does not, and says why: the syscall family (may has no
//! entersyscall/exitsyscall: a blocking call holds its worker), gc-pause (no collector).

use crate::measure::runner::{Measurement, Settings};
use crate::subjects::{Failure, Peer};
use crate::workloads::WorkloadInfo;

/// The name in tables and in the JSON's `sched`.
pub const NAME: &str = "may";

/// The n/a reason for a workload may has no version of (`None`: it has one).
pub fn not_applicable(bench: &str) -> Option<&'static str> {
    if cfg!(not(feature = "peers")) {
        return Some("not built: the harness was built without its `peers` feature");
    }
    Some(match bench {
        "create-goroutines"
        | "create-goroutines-parallel"
        | "create-goroutines-single"
        | "chain-spawn"
        | "yield-many"
        | "ping-pong"
        | "ping-pong-hog"
        | "chan-sync"
        | "matmult" => return None,
        b if b.starts_with("syscall") || b.starts_with("wakeup-syscall") => {
            "may has no entersyscall/exitsyscall: a blocking call holds its worker thread"
        }
        "gc-pause" => "may has no garbage collector",
        _ => "the may peer has no version of this workload",
    })
}

/// The `may` peer (see the head of this file).
pub struct May;

impl Peer for May {
    const NAME: &'static str = NAME;
    #[cfg(feature = "peers")]
    const ABOUT: &'static str =
        "may: stackful coroutines, Go-style, work stealing; workers = procs, a child process per run";
    #[cfg(not(feature = "peers"))]
    const ABOUT: &'static str =
        "may: not built (the harness was built without its `peers` feature)";

    /// Measures `bench` with the settings' procs as workers, in a child `lab` process.
    fn measure(bench: &WorkloadInfo, settings: &Settings) -> Result<Measurement, Failure> {
        if let Some(why) = not_applicable(bench.name) {
            return Err(Failure::NotApplicable(why));
        }
        if settings.iterations.is_some() {
            return Err(Failure::NotApplicable(super::child::NO_FIXED_N));
        }
        let Some(lab) = super::child::lab_binary() else {
            return Err(Failure::NotApplicable(
                "may runs in a child `lab` process, and no `lab` binary was found (set LAB_BIN)",
            ));
        };
        let mut cmd = std::process::Command::new(lab);
        cmd.args(super::child::child_args(
            NAME,
            bench.name,
            bench.batch,
            settings,
        ));
        let limit = super::child::deadline(settings.benchtime) + settings.starve_after * 2;
        super::child::run(NAME, cmd, bench.name, settings.procs, limit)
    }
}

/// In the child: one measurement of `bench` on may with the settings' procs as workers, its
/// ramp from `batch` up to at most `max_n`.
#[cfg(not(feature = "peers"))]
pub fn child_measure(
    bench: &str,
    _batch: u64,
    _max_n: u64,
    _settings: &Settings,
) -> Result<super::child::Line, String> {
    Err(format!(
        "may is not built (no `peers` feature), so no {bench}"
    ))
}

#[cfg(feature = "peers")]
pub use imp::child_measure;

#[cfg(feature = "peers")]
mod imp {
    use super::super::child::Line;
    use super::NAME;
    use crate::measure::ramp::ramp_until;
    use crate::measure::runner::{Measurement, Settings};
    use crate::workloads::matmult::{Block, Matrices, Product, Split, THRESHOLD};
    use crate::workloads::tokio::{CHAIN, YIELDS, YIELD_TASKS};
    use crate::workloads::Stall;
    use may::coroutine::JoinHandle;
    use may::sync::mpsc::{channel, Sender};
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// What a round measured: the time that counts, whether the check held, whether a hog
    /// starved the others.
    struct Round {
        elapsed: Duration,
        ok: bool,
        starved: bool,
    }

    /// A workload: does N operations with `procs` workers.
    type Work = fn(u64, usize, Duration) -> Round;

    /// `go f()`: a detached coroutine.
    fn go<F: FnOnce() + Send + 'static>(f: F) {
        drop(spawn(f));
    }

    fn spawn<T: Send + 'static, F: FnOnce() -> T + Send + 'static>(f: F) -> JoinHandle<T> {
        // SAFETY: may's spawn is unsafe because a coroutine can move between threads at a
        // yield, so thread-local state read across one may belong to another thread. The
        // coroutines of these workloads keep no thread-local state: they hold only channels,
        // atomics and matrix views.
        unsafe { may::coroutine::spawn(f) }
    }

    /// Times the whole of `f`.
    fn whole(f: impl FnOnce() -> bool) -> Round {
        let t = Instant::now();
        let ok = f();
        Round {
            elapsed: t.elapsed(),
            ok,
            starved: false,
        }
    }

    fn work(bench: &str) -> Option<Work> {
        Some(match bench {
            "create-goroutines" => |n, _, _| whole(|| chains(n, 1)),
            "create-goroutines-parallel" => |n, procs, _| whole(|| chains(n, procs)),
            "create-goroutines-single" => |n, _, _| whole(|| spawn_many(n)),
            "chain-spawn" => |n, _, _| whole(|| (0..n).all(|_| chains(CHAIN, 1))),
            "yield-many" => |n, _, _| whole(|| (0..n).all(|_| yield_many())),
            "ping-pong" => |n, _, _| whole(|| ping_pong(n)),
            "chan-sync" => |n, _, _| whole(|| chan_sync(n)),
            "ping-pong-hog" => |n, _, starve_after| ping_pong_hog(n, starve_after),
            "matmult" => |n, _, _| matmult(n),
            _ => return None,
        })
    }

    pub fn child_measure(
        bench: &str,
        batch: u64,
        max_n: u64,
        settings: &Settings,
    ) -> Result<Line, String> {
        let work = work(bench).ok_or_else(|| format!("the may peer has no {bench}"))?;
        let procs = settings.procs;
        // As Go's BenchmarkPingPongHog (and the lab's) runs at GOMAXPROCS 1 whatever the row.
        let workers = if bench == "ping-pong-hog" { 1 } else { procs };
        // Before the first spawn, which starts the scheduler. No pinning of workers to cores:
        // neither Go nor the generations pin their M's.
        may::config().set_workers(workers);
        may::config().set_worker_pin(false);
        let starve_after = settings.starve_after;
        let mut ok = true;
        let mut starved = false;
        let ramp = ramp_until(settings.benchtime, batch, max_n, |n| {
            // The round's main coroutine, on a worker as Go's main goroutine is on a P.
            match spawn(move || work(n, procs, starve_after)).join() {
                Ok(r) => {
                    ok &= r.ok;
                    starved = r.starved;
                    (r.elapsed, r.starved)
                }
                Err(_) => {
                    ok = false;
                    (Duration::MAX, true)
                }
            }
        });
        if !ok {
            return Err(format!("{bench} failed its check"));
        }
        let ran = may::config().get_workers();
        if ran != workers {
            return Err(format!("may ran {ran} workers where {workers} were asked"));
        }
        let m = Measurement {
            ramp,
            counters: BTreeMap::new(),
            latencies: BTreeMap::new(),
            starved,
            memory: None,
            method: None,
        };
        Ok(Line::of(NAME, "", bench, procs, &m))
    }

    /// One link of a chain: spawn the rest and exit; the last link signals `done`.
    fn link(n: u64, done: Sender<()>) {
        if n == 0 {
            let _ = done.send(());
            return;
        }
        go(move || link(n - 1, done));
    }

    /// benchmarkCreateGoroutines: `k` chains of N/k.
    fn chains(n: u64, k: usize) -> bool {
        let (tx, rx) = channel();
        for _ in 0..k {
            let tx = tx.clone();
            go(move || link(n / k as u64, tx));
        }
        (0..k).all(|_| rx.recv().is_ok())
    }

    /// BenchmarkCreateGoroutinesSingle: N coroutines each count a shared counter down; the
    /// last one wakes main (a WaitGroup's counter and semaphore, as Go's is).
    fn spawn_many(n: u64) -> bool {
        let left = Arc::new(AtomicU64::new(n));
        let (tx, rx) = channel();
        for _ in 0..n {
            let left = left.clone();
            let tx = tx.clone();
            go(move || {
                if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                    let _ = tx.send(());
                }
            });
        }
        rx.recv().is_ok() && left.load(Ordering::Acquire) == 0
    }

    /// tokio's yield_many, one op: 200 coroutines yield 1000 times each and signal.
    fn yield_many() -> bool {
        let (tx, rx) = channel();
        for _ in 0..YIELD_TASKS {
            let tx = tx.clone();
            go(move || {
                for _ in 0..YIELDS {
                    may::coroutine::yield_now();
                }
                let _ = tx.send(());
            });
        }
        (0..YIELD_TASKS).all(|_| rx.recv().is_ok())
    }

    /// N round trips between two coroutines; the value counts the hops, and the last comes
    /// back to main (one message in flight at a time, as over Go's unbuffered channels).
    /// `hop` is called on every round trip (the hog's progress).
    fn ping_pong_with(n: u64, hop: impl Fn() + Send + 'static) -> bool {
        let (ping_tx, ping_rx) = channel::<u64>();
        let (pong_tx, pong_rx) = channel::<u64>();
        let (done_tx, done_rx) = channel::<u64>();
        let first = ping_tx.clone();
        go(move || {
            for _ in 0..n {
                let Ok(v) = ping_rx.recv() else { return };
                let _ = pong_tx.send(v + 1);
                hop();
            }
        });
        go(move || {
            for i in 0..n {
                let Ok(v) = pong_rx.recv() else { return };
                let to = if i + 1 < n { &ping_tx } else { &done_tx };
                let _ = to.send(v + 1);
            }
        });
        let _ = first.send(0);
        done_rx.recv() == Ok(2 * n)
    }

    /// The lab's ping-pong: the round's coroutine and an echo coroutine, N round trips, the
    /// loop `ping.send; pong.recv` and nothing else (may's channels are unbounded; one value
    /// is in flight at a time, as over Go's unbuffered ones).
    fn ping_pong(n: u64) -> bool {
        let (ping_tx, ping_rx) = channel::<bool>();
        let (pong_tx, pong_rx) = channel::<bool>();
        go(move || {
            for _ in 0..n {
                let Ok(v) = ping_rx.recv() else { return };
                let _ = pong_tx.send(v);
            }
        });
        let mut ok = true;
        for _ in 0..n {
            let _ = ping_tx.send(true);
            ok &= pong_rx.recv() == Ok(true);
        }
        ok
    }

    /// Go's BenchmarkChanSync with coroutines: two claim batches of 1000 and alternate over
    /// one channel pair (may has no rendezvous channel: each side's send goes to the other's
    /// receiver), receive-then-send on even batches, send-then-receive on odd ones.
    fn chan_sync(n: u64) -> bool {
        use crate::workloads::chan::CHAN_SYNC_CALLS;
        use may::sync::mpsc::Receiver;
        use std::sync::atomic::AtomicI64;
        fn side(left: Arc<AtomicI64>, tx: Sender<i32>, rx: Receiver<i32>) -> bool {
            loop {
                let i = left.fetch_sub(1, Ordering::SeqCst) - 1;
                if i < 0 {
                    return true;
                }
                for _ in 0..CHAN_SYNC_CALLS {
                    if i % 2 == 0 {
                        if rx.recv().is_err() {
                            return false;
                        }
                        let _ = tx.send(0);
                    } else {
                        let _ = tx.send(0);
                        if rx.recv().is_err() {
                            return false;
                        }
                    }
                }
            }
        }
        let left = Arc::new(AtomicI64::new((n / CHAN_SYNC_CALLS / 2 * 2) as i64));
        let (a_tx, a_rx) = channel::<i32>();
        let (b_tx, b_rx) = channel::<i32>();
        let other = {
            let left = left.clone();
            spawn(move || side(left, a_tx, b_rx))
        };
        let ok = side(left, b_tx, a_rx);
        ok && other.join().unwrap_or(false)
    }

    /// BenchmarkPingPongHog on one worker: a coroutine spins (may has no preemption to stop
    /// it) beside the ping-pong; once the ping-pong has made no progress for `starve_after`
    /// the hog gives up and the round is starved, as the lab's workload does.
    fn ping_pong_hog(n: u64, starve_after: Duration) -> Round {
        let stall = Arc::new(Stall::new(starve_after));
        let stop = Arc::new(AtomicBool::new(false));
        let (done_tx, done_rx) = channel::<()>();
        {
            let (stall, stop) = (stall.clone(), stop.clone());
            go(move || {
                let mut watch = stall.watch();
                while !stop.load(Ordering::Relaxed) && !watch.starving() {
                    std::hint::spin_loop();
                }
                let _ = done_tx.send(());
            });
        }
        let t = Instant::now();
        let progress = stall.clone();
        let ok = ping_pong_with(n, move || progress.progress());
        let elapsed = t.elapsed();
        stop.store(true, Ordering::Relaxed);
        let ok = ok && done_rx.recv().is_ok();
        Round {
            elapsed,
            ok,
            starved: stall.starved(),
        }
    }

    /// BenchmarkMatmult: only the product is timed.
    fn matmult(n: u64) -> Round {
        let mut p = Product::for_ops(n);
        let (m, side) = (p.matrices(), p.side());
        let t = Instant::now();
        product(m, Block::whole(side));
        let elapsed = t.elapsed();
        Round {
            elapsed,
            ok: p.check().is_ok(),
            starved: false,
        }
    }

    /// Go's matmult with coroutines: the first parallel half in a new coroutine, joined.
    fn product(m: Matrices, b: Block) {
        match b.split(THRESHOLD) {
            Split::Parallel(x, y) => {
                let h = spawn(move || product(m, x));
                product(m, y);
                h.join().expect("a matmult coroutine panicked");
            }
            Split::Sequential(x, y) => {
                product(m, x);
                product(m, y);
            }
            Split::Leaf => m.multiply(b),
        }
    }
}
