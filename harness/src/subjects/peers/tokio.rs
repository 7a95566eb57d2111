//! The `tokio` peer: the lab's workloads on tokio's multi-thread runtime, the Go-derived
//! work-stealing scheduler most Rust programs run (per-worker rings, a global inject queue, a
//! LIFO slot like Go's runnext), with `procs` workers. A fresh runtime per run, its workers
//! started before the first round; each round's work is a spawned task (the main goroutine)
//! that times itself.
//!
//! What maps: the goroutine-creation chains and the single spawner, tokio's own chain-spawn
//! and yield-many, ping-pong, matmult, and ping-pong-hog (on a runtime of one worker, as Go's
//! benchmark runs at GOMAXPROCS 1: tokio cannot preempt the hog, so the round starves as a
//! generation without preemption does). What does not, and says why: the syscall family
//! (tokio has no entersyscall/exitsyscall: a blocking call is `block_in_place` or
//! `spawn_blocking`, a different operation), gc-pause (no collector).

use crate::measure::runner::{Measurement, Settings};
use crate::subjects::{Failure, Peer};
use crate::workloads::WorkloadInfo;

/// The name in tables and in the JSON's `sched`.
pub const NAME: &str = "tokio";

/// The n/a reason for a workload tokio has no version of (`None`: it has one).
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
            "tokio has no entersyscall/exitsyscall: a blocking call is block_in_place or spawn_blocking, another operation"
        }
        "gc-pause" => "tokio has no garbage collector",
        _ => "the tokio peer has no version of this workload",
    })
}

/// The `tokio` peer (see the head of this file).
pub struct Tokio;

impl Peer for Tokio {
    const NAME: &'static str = NAME;
    #[cfg(feature = "peers")]
    const ABOUT: &'static str =
        "tokio's multi-thread runtime (work stealing, LIFO slot); worker threads = procs";
    #[cfg(not(feature = "peers"))]
    const ABOUT: &'static str =
        "tokio: not built (the harness was built without its `peers` feature)";

    /// Measures `bench` on a fresh tokio runtime with the settings' procs as workers.
    fn measure(bench: &WorkloadInfo, settings: &Settings) -> Result<Measurement, Failure> {
        if let Some(why) = not_applicable(bench.name) {
            return Err(Failure::NotApplicable(why));
        }
        #[cfg(feature = "peers")]
        {
            imp::measure(bench, settings)
        }
        #[cfg(not(feature = "peers"))]
        {
            let _ = settings;
            unreachable!("not_applicable says so without the feature")
        }
    }
}

#[cfg(feature = "peers")]
mod imp {
    use crate::measure::ramp::ramp_until;
    use crate::measure::runner::{Measurement, Settings};
    use crate::subjects::Failure;
    use crate::workloads::matmult::{Block, Matrices, Product, Split, THRESHOLD};
    use crate::workloads::tokio::{CHAIN, YIELDS, YIELD_TASKS};
    use crate::workloads::{Stall, WorkloadInfo};
    use schedcore::RunError;
    use std::collections::BTreeMap;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};
    use tokio::sync::Notify;

    /// What a round measured: the time that counts, whether the check held, whether a hog
    /// starved the others.
    struct Round {
        elapsed: Duration,
        ok: bool,
        starved: bool,
    }

    pub fn measure(bench: &WorkloadInfo, s: &Settings) -> Result<Measurement, Failure> {
        let p = s.procs;
        match bench.name {
            "create-goroutines" => run(bench, s, p, |n, _| whole(chains(n, 1))),
            "create-goroutines-parallel" => run(bench, s, p, |n, s| whole(chains(n, s.procs))),
            "create-goroutines-single" => run(bench, s, p, |n, _| whole(spawn_many(n))),
            "chain-spawn" => run(bench, s, p, |n, _| whole(chain_spawn(n))),
            "yield-many" => run(bench, s, p, |n, _| whole(yield_many(n))),
            "ping-pong" => run(bench, s, p, |n, _| whole(ping_pong(n))),
            "chan-sync" => run(bench, s, p, |n, _| whole(chan_sync(n))),
            // As Go's BenchmarkPingPongHog (and the lab's) runs at GOMAXPROCS 1 whatever the row.
            "ping-pong-hog" => run(bench, s, 1, |n, s| ping_pong_hog(n, s.starve_after)),
            "matmult" => run(bench, s, p, |n, _| matmult(n)),
            _ => unreachable!("not_applicable names every other workload"),
        }
    }

    /// One measurement of `work` (N and the settings to the round) on a fresh runtime of
    /// `workers` worker threads: monomorphized per workload, so no dynamic call in a round.
    fn run<W, F>(
        bench: &WorkloadInfo,
        settings: &Settings,
        workers: usize,
        work: W,
    ) -> Result<Measurement, Failure>
    where
        W: Fn(u64, Settings) -> F + Copy + Send + 'static,
        F: Future<Output = Round> + Send + 'static,
    {
        let fail = |msg: String| Failure::Run(RunError::Panic(format!("tokio: {msg}")));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("tokio-worker")
            .build()
            .map_err(|e| fail(format!("cannot build a runtime: {e}")))?;
        let mut ok = true;
        let mut starved = false;
        let ramp = ramp_until(settings.aim(), bench.batch, bench.max_n, |n| {
            // The round's main task, on a worker as Go's main goroutine is on a P.
            match rt.block_on(rt.spawn(work(n, settings.clone()))) {
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
        let ran = rt.metrics().num_workers();
        rt.shutdown_timeout(Duration::from_secs(1));
        if !ok {
            return Err(fail(format!("{} failed its check", bench.name)));
        }
        if ran != workers {
            return Err(fail(format!("{ran} workers where {workers} were asked")));
        }
        Ok(Measurement {
            ramp,
            counters: BTreeMap::new(),
            latencies: BTreeMap::new(),
            starved,
            memory: None,
            method: None,
        })
    }

    /// Times the whole of `f`.
    async fn whole(f: impl Future<Output = bool>) -> Round {
        let t = Instant::now();
        let ok = f.await;
        Round {
            elapsed: t.elapsed(),
            ok,
            starved: false,
        }
    }

    /// One link of a chain: a task that spawns the rest and ends; the last signals `done`.
    fn link(n: u64, done: UnboundedSender<()>) {
        tokio::spawn(async move {
            if n == 0 {
                let _ = done.send(());
            } else {
                link(n - 1, done);
            }
        });
    }

    /// benchmarkCreateGoroutines: `k` chains of N/k.
    async fn chains(n: u64, k: usize) -> bool {
        let (tx, mut rx) = unbounded_channel();
        for _ in 0..k {
            link(n / k as u64, tx.clone());
        }
        for _ in 0..k {
            if rx.recv().await.is_none() {
                return false;
            }
        }
        true
    }

    /// tokio's chained_spawn: each op, a chain of 1000 tasks.
    async fn chain_spawn(n: u64) -> bool {
        for _ in 0..n {
            if !chains(CHAIN, 1).await {
                return false;
            }
        }
        true
    }

    /// tokio's yield_many: each op, 200 tasks yield 1000 times each and signal.
    async fn yield_many(n: u64) -> bool {
        let (tx, mut rx) = unbounded_channel();
        for _ in 0..n {
            for _ in 0..YIELD_TASKS {
                let tx = tx.clone();
                tokio::spawn(async move {
                    for _ in 0..YIELDS {
                        tokio::task::yield_now().await;
                    }
                    let _ = tx.send(());
                });
            }
            for _ in 0..YIELD_TASKS {
                if rx.recv().await.is_none() {
                    return false;
                }
            }
        }
        true
    }

    /// BenchmarkCreateGoroutinesSingle: N tasks each count a shared counter down; the last one
    /// wakes main (a WaitGroup's counter and semaphore, as Go's is).
    async fn spawn_many(n: u64) -> bool {
        let wg = Arc::new((AtomicU64::new(n), Notify::new()));
        for _ in 0..n {
            let wg = wg.clone();
            tokio::spawn(async move {
                if wg.0.fetch_sub(1, Ordering::AcqRel) == 1 {
                    wg.1.notify_one();
                }
            });
        }
        wg.1.notified().await;
        wg.0.load(Ordering::Acquire) == 0
    }

    /// N round trips between two tasks; the value counts the hops, and the last comes back to
    /// main (one message in flight at a time, as over Go's unbuffered channels). Every round
    /// trip counts as progress of `stall`, if there is one.
    /// The lab's ping-pong: the round's task and an echo task, N round trips, the loop
    /// `ping.send; pong.recv` and nothing else (tokio has no unbuffered channel: one value is
    /// in flight at a time, as over Go's).
    async fn ping_pong(n: u64) -> bool {
        let (ping_tx, mut ping_rx) = unbounded_channel::<bool>();
        let (pong_tx, mut pong_rx) = unbounded_channel::<bool>();
        tokio::spawn(async move {
            for _ in 0..n {
                let Some(v) = ping_rx.recv().await else {
                    return;
                };
                let _ = pong_tx.send(v);
            }
        });
        let mut ok = true;
        for _ in 0..n {
            let _ = ping_tx.send(true);
            ok &= pong_rx.recv().await == Some(true);
        }
        ok
    }

    /// Go's BenchmarkChanSync with tasks: two tasks claim batches of 1000 and alternate over
    /// one channel pair (tokio has no rendezvous channel: each side's send goes to the other's
    /// receiver), receive-then-send on even batches, send-then-receive on odd ones.
    async fn chan_sync(n: u64) -> bool {
        use crate::workloads::chan::CHAN_SYNC_CALLS;
        use std::sync::atomic::AtomicI64;
        let left = Arc::new(AtomicI64::new((n / CHAN_SYNC_CALLS / 2 * 2) as i64));
        let (a_tx, a_rx) = unbounded_channel::<i32>();
        let (b_tx, b_rx) = unbounded_channel::<i32>();
        let side = |left: Arc<AtomicI64>,
                    tx: UnboundedSender<i32>,
                    mut rx: tokio::sync::mpsc::UnboundedReceiver<i32>| async move {
            loop {
                let i = left.fetch_sub(1, Ordering::SeqCst) - 1;
                if i < 0 {
                    return true;
                }
                for _ in 0..CHAN_SYNC_CALLS {
                    if i % 2 == 0 {
                        if rx.recv().await.is_none() {
                            return false;
                        }
                        let _ = tx.send(0);
                    } else {
                        let _ = tx.send(0);
                        if rx.recv().await.is_none() {
                            return false;
                        }
                    }
                }
            }
        };
        let h = tokio::spawn(side(left.clone(), a_tx, b_rx));
        let ok = side(left, b_tx, a_rx).await;
        ok && h.await.unwrap_or(false)
    }

    /// BenchmarkPingPongHog's relay: two tasks pass one value back and forth N round trips.
    async fn relay(n: u64, stall: Option<Arc<Stall>>) -> bool {
        let (ping_tx, mut ping_rx) = unbounded_channel::<u64>();
        let (pong_tx, mut pong_rx) = unbounded_channel::<u64>();
        let (done_tx, mut done_rx) = unbounded_channel::<u64>();
        let first = ping_tx.clone();
        tokio::spawn(async move {
            for _ in 0..n {
                let Some(v) = ping_rx.recv().await else {
                    return;
                };
                let _ = pong_tx.send(v + 1);
                if let Some(s) = &stall {
                    s.progress();
                }
            }
        });
        tokio::spawn(async move {
            for i in 0..n {
                let Some(v) = pong_rx.recv().await else {
                    return;
                };
                let to = if i + 1 < n { &ping_tx } else { &done_tx };
                let _ = to.send(v + 1);
            }
        });
        let _ = first.send(0);
        done_rx.recv().await == Some(2 * n)
    }

    /// BenchmarkPingPongHog on one worker: a task spins without awaiting (tokio cannot preempt
    /// it) beside the ping-pong; once the ping-pong has made no progress for `starve_after`
    /// the hog gives up and the round is starved, as the lab's workload does.
    async fn ping_pong_hog(n: u64, starve_after: Duration) -> Round {
        let stall = Arc::new(Stall::new(starve_after));
        let stop = Arc::new(AtomicBool::new(false));
        let hog = {
            let (stall, stop) = (stall.clone(), stop.clone());
            tokio::spawn(async move {
                let mut watch = stall.watch();
                while !stop.load(Ordering::Relaxed) && !watch.starving() {
                    std::hint::spin_loop();
                }
            })
        };
        let t = Instant::now();
        let ok = relay(n, Some(stall.clone())).await;
        let elapsed = t.elapsed();
        stop.store(true, Ordering::Relaxed);
        let ok = ok && hog.await.is_ok();
        Round {
            elapsed,
            ok,
            starved: stall.starved(),
        }
    }

    /// BenchmarkMatmult: only the product is timed.
    async fn matmult(n: u64) -> Round {
        let mut p = Product::for_ops(n);
        let (m, side) = (p.matrices(), p.side());
        let t = Instant::now();
        product(m, Block::whole(side)).await;
        let elapsed = t.elapsed();
        Round {
            elapsed,
            ok: p.check().is_ok(),
            starved: false,
        }
    }

    /// Go's matmult with tasks: the first parallel half spawned, the second here, then wait.
    /// Boxed, as a recursive async function must be.
    fn product(m: Matrices, b: Block) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move {
            match b.split(THRESHOLD) {
                Split::Parallel(x, y) => {
                    let h = tokio::spawn(product(m, x));
                    product(m, y).await;
                    h.await.expect("a matmult task panicked");
                }
                Split::Sequential(x, y) => {
                    product(m, x).await;
                    product(m, y).await;
                }
                Split::Leaf => m.multiply(b),
            }
        })
    }
}
