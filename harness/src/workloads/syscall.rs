//! BenchmarkSyscall and its relatives (seed 002's proc_test.go, Go's BenchmarkSyscallExcess):
//! goroutines share N/calls batches through an atomic counter; each batch is a gosched and then
//! `calls` entersyscall/exitsyscall pairs around a body (nothing, local work, a blocking call).
//! The timed loop is Go's loop and nothing else; each batch's time (the gosched included) goes
//! into the `batch` latency histogram from a second, untimed round of a few batches.

use super::{blocking_call, local_work, no_work, Stamp, B};
use hdrhistogram::Histogram;
use schedcore::{Chan, Scheduler};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// BenchmarkSyscall's CallsPerSched: syscalls between two goscheds.
pub const CALLS_PER_SCHED: u64 = 1000;
/// Calls per batch for `syscall-block`: each call sleeps, so a short batch keeps N sane.
pub const BLOCK_CALLS_PER_SCHED: u64 = 10;
/// BenchmarkSyscallExcess runs this many goroutines per proc.
pub const EXCESS: usize = 4;

/// Batches of the untimed round that samples the per-batch latency (fewer when N has fewer).
pub const LATENCY_BATCHES: u64 = 32;

/// The workload: the timed loop over N/calls batches, then an untimed round of at most
/// [`LATENCY_BATCHES`] batches whose times go into the `batch` histogram.
#[inline(always)]
fn batches<S, F>(b: &mut B, per_proc: usize, calls: u64, body: F)
where
    S: Scheduler,
    F: Fn(&mut i64) + Copy + Send + 'static,
{
    batch_round::<S, F, bool>(b.n / calls, per_proc, calls, body);
    b.stop_timer();
    let sampled = (b.n / calls).min(LATENCY_BATCHES);
    for h in batch_round::<S, F, Instant>(sampled, per_proc, calls, body) {
        b.record("batch", &h);
    }
}

/// The shared loop, monomorphized for each body (a function item or a closure, so no indirect
/// call) and for `T`: `bool` times nothing, `Instant` times each batch. `per_proc` goroutines
/// for each of GOMAXPROCS share `total` batches; each reports on a channel whether its `foo`
/// came back as 42, with its histogram if it kept one.
#[inline(always)]
fn batch_round<S, F, T>(total: u64, per_proc: usize, calls: u64, body: F) -> Vec<Histogram<u64>>
where
    S: Scheduler,
    F: Fn(&mut i64) + Copy + Send + 'static,
    T: Stamp,
{
    let procs = S::gomaxprocs(0).max(1) as usize;
    let goroutines = procs * per_proc;
    let left = Arc::new(AtomicI64::new(total as i64));
    let c = Chan::<(bool, Option<Box<Histogram<u64>>>), S>::new(goroutines);
    for _ in 0..goroutines {
        let left = left.clone();
        let c = c.clone();
        S::go(move || {
            let mut foo = 42i64;
            let mut lat = T::histogram();
            // atomic.AddInt32(&N, -1) >= 0
            while left.fetch_sub(1, Ordering::SeqCst) > 0 {
                let t = T::now();
                S::gosched();
                for _ in 0..calls {
                    S::entersyscall();
                    body(&mut foo);
                    S::exitsyscall();
                }
                t.record(&mut lat);
            }
            c.send((foo == 42, lat));
        });
    }
    let mut lats = Vec::new();
    for _ in 0..goroutines {
        let (ok, lat) = c.recv().expect("the channel is never closed");
        assert!(ok, "local work changed foo");
        lats.extend(lat.map(|h| *h));
    }
    lats
}

/// BenchmarkSyscall: GOMAXPROCS goroutines, empty syscalls.
pub fn syscall<S: Scheduler>(b: &mut B) {
    batches::<S, _>(b, 1, CALLS_PER_SCHED, no_work);
}

/// BenchmarkSyscallWork: GOMAXPROCS goroutines, `b.work` (100) local steps in each syscall.
pub fn syscall_work<S: Scheduler>(b: &mut B) {
    let steps = b.work;
    batches::<S, _>(b, 1, CALLS_PER_SCHED, move |foo| local_work(foo, steps));
}

/// BenchmarkSyscallExcess: 4*GOMAXPROCS goroutines, empty syscalls.
pub fn syscall_excess<S: Scheduler>(b: &mut B) {
    batches::<S, _>(b, EXCESS, CALLS_PER_SCHED, no_work);
}

/// BenchmarkSyscallExcessWork: 4*GOMAXPROCS goroutines, 100 local steps in each syscall.
pub fn syscall_excess_work<S: Scheduler>(b: &mut B) {
    let steps = b.work;
    batches::<S, _>(b, EXCESS, CALLS_PER_SCHED, move |foo| {
        local_work(foo, steps)
    });
}

/// GOMAXPROCS goroutines whose syscalls really block (a sleep), 10 to a batch.
pub fn syscall_block<S: Scheduler>(b: &mut B) {
    batches::<S, _>(b, 1, BLOCK_CALLS_PER_SCHED, blocking_call);
}
