//! BenchmarkSyscall and its relatives (seed 002's proc_test.go, Go's BenchmarkSyscallExcess):
//! goroutines share N/calls batches through an atomic counter; each batch is a gosched and then
//! `calls` entersyscall/exitsyscall pairs around a body (nothing, local work, a blocking call).

use super::{blocking_call, local_work, no_work};
use schedcore::{Chan, Scheduler};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// BenchmarkSyscall's CallsPerSched: syscalls between two goscheds.
pub const CALLS_PER_SCHED: u64 = 1000;
/// Calls per batch for `syscall-block`: each call sleeps, so a short batch keeps N sane.
pub const BLOCK_CALLS_PER_SCHED: u64 = 10;
/// BenchmarkSyscallExcess runs this many goroutines per proc.
pub const EXCESS: usize = 4;

/// The shared loop, monomorphized for each body (a function item, so no indirect call). `per_proc` goroutines for each of GOMAXPROCS; each reports on a channel
/// whether its `foo` came back as 42.
#[inline(always)]
fn batches<S, B>(n: u64, per_proc: usize, calls: u64, body: B)
where
    S: Scheduler,
    B: Fn(&mut i64) + Copy + Send + 'static,
{
    let procs = S::gomaxprocs(0).max(1) as usize;
    let goroutines = procs * per_proc;
    let left = Arc::new(AtomicI64::new((n / calls) as i64));
    let c = Chan::<bool, S>::new(goroutines);
    for _ in 0..goroutines {
        let left = left.clone();
        let c = c.clone();
        S::go(move || {
            let mut foo = 42i64;
            // atomic.AddInt32(&N, -1) >= 0
            while left.fetch_sub(1, Ordering::SeqCst) > 0 {
                S::gosched();
                for _ in 0..calls {
                    S::entersyscall();
                    body(&mut foo);
                    S::exitsyscall();
                }
            }
            c.send(foo == 42);
        });
    }
    for _ in 0..goroutines {
        assert_eq!(c.recv(), Some(true), "local work changed foo");
    }
}

/// BenchmarkSyscall: GOMAXPROCS goroutines, empty syscalls.
pub fn syscall<S: Scheduler>(n: u64) {
    batches::<S, _>(n, 1, CALLS_PER_SCHED, no_work);
}

/// BenchmarkSyscallWork: GOMAXPROCS goroutines, 100 local steps in each syscall.
pub fn syscall_work<S: Scheduler>(n: u64) {
    batches::<S, _>(n, 1, CALLS_PER_SCHED, local_work);
}

/// BenchmarkSyscallExcess: 4*GOMAXPROCS goroutines, empty syscalls.
pub fn syscall_excess<S: Scheduler>(n: u64) {
    batches::<S, _>(n, EXCESS, CALLS_PER_SCHED, no_work);
}

/// BenchmarkSyscallExcessWork: 4*GOMAXPROCS goroutines, 100 local steps in each syscall.
pub fn syscall_excess_work<S: Scheduler>(n: u64) {
    batches::<S, _>(n, EXCESS, CALLS_PER_SCHED, local_work);
}

/// GOMAXPROCS goroutines whose syscalls really block (a sleep), 10 to a batch.
pub fn syscall_block<S: Scheduler>(n: u64) {
    batches::<S, _>(n, 1, BLOCK_CALLS_PER_SCHED, blocking_call);
}
