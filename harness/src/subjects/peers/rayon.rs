//! The `rayon` peer: the fork-join workloads on a rayon pool of `procs` threads, so the
//! generations have a modern work-stealing pool beside them. `matmult` splits with
//! `rayon::join` exactly where Go's version starts a goroutine; the spawn chains become chains
//! of `rayon::spawn`, whose last link releases a latch the measuring thread waits on. What
//! rayon has no counterpart for (syscalls, channels, a collector, preemption) is n/a.

use crate::measure::ramp::ramp;
use crate::measure::runner::{Measurement, Settings};
use crate::subjects::{Failure, Peer};
use crate::workloads::matmult::{Block, Matrices, Product, Split, THRESHOLD};
use crate::workloads::tokio::CHAIN;
use crate::workloads::WorkloadInfo;
use schedcore::RunError;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::time::Instant;

/// The name in tables and in the JSON's `sched`.
pub const NAME: &str = "rayon";

/// The `rayon` peer (see the head of this file).
pub struct Rayon;

impl Peer for Rayon {
    const NAME: &'static str = NAME;
    const ABOUT: &'static str = "a rayon pool of procs threads: matmult with join, the spawn chains with rayon::spawn and a latch";

    /// Measures `bench` on a fresh pool of `procs` threads (built before the first round).
    fn measure(bench: &WorkloadInfo, settings: &Settings) -> Result<Measurement, Failure> {
        let job: fn(&rayon::ThreadPool, u64) -> Result<(), String> = match bench.name {
            "matmult" => matmult,
            "create-goroutines" => |pool, n| {
                chains(pool, n, 1);
                Ok(())
            },
            "create-goroutines-parallel" => |pool, n| {
                chains(pool, n, pool.current_num_threads());
                Ok(())
            },
            "create-goroutines-single" => |pool, n| {
                let left = AtomicU64::new(n);
                pool.scope(|s| {
                    for _ in 0..n {
                        s.spawn(|_| {
                            left.fetch_sub(1, Ordering::Relaxed);
                        });
                    }
                });
                match left.load(Ordering::Relaxed) {
                    0 => Ok(()),
                    l => Err(format!("{l} spawns did not run")),
                }
            },
            "chain-spawn" => |pool, n| {
                for _ in 0..n {
                    chains(pool, CHAIN, 1);
                }
                Ok(())
            },
            "yield-many" => return Err(Failure::NotApplicable(
                "rayon's yield_now runs another job nested on the same stack, not a yield to the queue",
            )),
            _ => {
                return Err(Failure::NotApplicable(
                    "rayon has no syscalls, channels, collector or preemption to express this",
                ))
            }
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(settings.procs)
            .thread_name(|i| format!("rayon-{i}"))
            .build()
            .map_err(|e| Failure::Run(RunError::InvalidConfig(e.to_string())))?;
        let mut failed = None;
        let ramp = ramp(settings.aim(), bench.batch, bench.max_n, |n| {
            let t = Instant::now();
            let r = job(&pool, n);
            let elapsed = t.elapsed();
            if let Err(e) = r {
                failed.get_or_insert(e);
            }
            elapsed
        });
        if let Some(e) = failed {
            return Err(Failure::Run(RunError::Panic(format!("rayon: {e}"))));
        }
        Ok(Measurement {
            ramp,
            counters: BTreeMap::new(),
            latencies: BTreeMap::new(),
            starved: false,
            memory: None,
            method: None,
        })
    }
}

/// Go's matmult with `rayon::join` for the parallel halves.
fn join_matmult(m: &Matrices, blk: Block) {
    match blk.split(THRESHOLD) {
        Split::Parallel(x, y) => {
            rayon::join(|| join_matmult(m, x), || join_matmult(m, y));
        }
        Split::Sequential(x, y) => {
            join_matmult(m, x);
            join_matmult(m, y);
        }
        Split::Leaf => m.multiply(blk),
    }
}

/// BenchmarkMatmult on the pool. The matrices are made inside the timed round here (rayon
/// has no timer to stop): O(side^2) against the product's O(side^3).
fn matmult(pool: &rayon::ThreadPool, n: u64) -> Result<(), String> {
    let mut p = Product::for_ops(n);
    let m = p.matrices();
    let side = p.side();
    pool.install(|| join_matmult(&m, Block::whole(side)));
    p.check()
}

/// One link: spawn the rest of the chain; the last link counts its chain done, and the last
/// chain releases the latch.
fn link(n: u64, left: Arc<AtomicU64>, latch: SyncSender<()>) {
    if n == 0 {
        if left.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _ = latch.send(());
        }
        return;
    }
    rayon::spawn(move || link(n - 1, left, latch));
}

/// `chains` chains of `n / chains` spawns on the pool; waits for the last.
fn chains(pool: &rayon::ThreadPool, n: u64, chains: usize) {
    let (tx, rx) = sync_channel(1);
    let left = Arc::new(AtomicU64::new(chains as u64));
    for _ in 0..chains {
        let (left, tx) = (left.clone(), tx.clone());
        let len = n / chains as u64;
        pool.spawn(move || link(len, left, tx));
    }
    rx.recv().expect("the last chain releases the latch");
}
