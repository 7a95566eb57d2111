//! What the seeds' own atomics cost on this machine: the floor's loops beside the same loops
//! with a generation's locked instructions added, and nothing else. They bound from below
//! what a faithful port can reach, whatever its infrastructure costs:
//!
//! - `syscall-pair/floor`: the floor peer's pair, two CAS whose expected values are known
//!   (nothing to load first).
//! - `syscall-pair/seed002`: 2011's fast paths themselves (`SchedWord::entersyscall_fast`
//!   and `exitsyscall_fast`, seed 002's loops): each loads the packed word, checks it, and
//!   CASes the value it loaded, so every CAS waits for a load that waits for the last CAS.
//! - `spawn/floor`: the floor's spawn, a coroutine created on a cached stack and run to its
//!   end.
//! - `spawn/floor+K-locked`: that spawn and K uncontended CAS on words of their own, K being
//!   the locked instructions a generation executes per spawn at procs 1 (counted by
//!   harness/profile/instructions.sh: 2014 5, 2013 6, 2011 10).
//!
//! `cargo bench -p harness --bench atomics`; the lab's targets are ratios to the floor, so
//! read the ratios of these medians, taken in one run.

use criterion::{criterion_group, criterion_main, Criterion};
use harness::subjects::peers::floor;
use sched2011::word::SchedWord;
use schedcore::CachePadded;
use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Locked instructions per spawn at procs 1, per generation (instructions.sh, `--verbose`
/// names each site).
const LOCKED_PER_SPAWN: [(&str, usize); 3] = [("2014", 5), ("2013", 6), ("2011", 10)];

fn syscall_pair(c: &mut Criterion) {
    let mut g = c.benchmark_group("syscall-pair");
    g.bench_function("floor", |b| b.iter(floor::syscall_pair));
    let word = SchedWord::new();
    word.setmcpumax(1);
    word.add_mcpu(1);
    g.bench_function("seed002", |b| {
        b.iter(|| {
            assert!(word.entersyscall_fast() && word.exitsyscall_fast());
        })
    });
    g.finish();
}

fn spawn(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn");
    g.bench_function("floor", |b| {
        b.iter(|| floor::spawn_and_run(|| black_box(1)))
    });
    let words: Vec<CachePadded<AtomicU32>> = (0..10).map(|_| CachePadded::default()).collect();
    for (generation, k) in LOCKED_PER_SPAWN {
        g.bench_function(format!("floor+{k}-locked ({generation})"), |b| {
            b.iter(|| {
                for w in &words[..k] {
                    let _ = w.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Relaxed);
                    w.store(0, Ordering::Relaxed);
                }
                floor::spawn_and_run(|| black_box(1))
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = syscall_pair, spawn
}
criterion_main!(benches);
