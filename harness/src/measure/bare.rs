//! The core workloads written by hand, directly on the scheduler: Go's loop for `n` ops with
//! plain [`Chan`]s and atomics, and nothing around it (no ramp, no `B`, no histograms, no
//! stall watchdog, no counters of the harness). `lab overhead` times them against the lab's
//! figure for the same workload (see [`crate::measure::overhead`]).
//!
//! Each function is what a reader would write from Go's benchmark alone, independently of
//! `workloads/`: only matmult reuses the matrix types and the leaf product, which are the work
//! itself. Setup that Go keeps outside the timer (matmult's matrices, the hog and spinners
//! of ping-pong-hog and gc-pause) is inside here: the caller times the whole call.

// `foo` is BenchmarkSyscallWork's own name for its variable.
#![allow(clippy::disallowed_names)]

use crate::workloads::matmult::{Block, Matrices, Product, Split, THRESHOLD};
use schedcore::{Chan, Scheduler, WaitGroup};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// BenchmarkSyscall's CallsPerSched.
const CALLS_PER_SCHED: u64 = 1000;
/// BenchmarkSyscallWork's LocalWork.
const LOCAL_WORK: u64 = 100;

/// benchmarkSyscall (seed 002): GOMAXPROCS goroutines take N/1000 batches from a counter;
/// a batch is a gosched and 1000 entersyscall/exitsyscall pairs around `work` steps.
#[inline(always)]
fn syscalls<S: Scheduler, const WORK: u64>(n: u64) {
    let procs = S::gomaxprocs(0).max(1) as usize;
    let left = Arc::new(AtomicI64::new((n / CALLS_PER_SCHED) as i64));
    let c = Chan::<bool, S>::new(procs);
    for _ in 0..procs {
        let (left, c) = (left.clone(), c.clone());
        S::go(move || {
            let mut foo = 42i64;
            while left.fetch_sub(1, Ordering::SeqCst) > 0 {
                S::gosched();
                for _ in 0..CALLS_PER_SCHED {
                    S::entersyscall();
                    for _ in 0..WORK {
                        foo = std::hint::black_box(foo * 2);
                        foo /= 2;
                    }
                    S::exitsyscall();
                }
            }
            c.send(foo == 42);
        });
    }
    for _ in 0..procs {
        assert!(c.recv() == Some(true), "local work changed foo");
    }
}

/// BenchmarkSyscall.
pub fn syscall<S: Scheduler>(n: u64) {
    syscalls::<S, 0>(n);
}

/// BenchmarkSyscallWork.
pub fn syscall_work<S: Scheduler>(n: u64) {
    syscalls::<S, LOCAL_WORK>(n);
}

/// One link of a chain: start the rest and exit; the last one signals `done`.
fn link<S: Scheduler>(left: u64, done: Chan<bool, S>) {
    if left == 0 {
        done.send(true);
    } else {
        S::go(move || link::<S>(left - 1, done));
    }
}

/// benchmarkCreateGoroutines: `procs` chains of n/procs goroutines, main waits for each.
fn create<S: Scheduler>(n: u64, procs: u64) {
    let c = Chan::<bool, S>::new(0);
    for _ in 0..procs {
        let c = c.clone();
        S::go(move || link::<S>(n / procs, c));
    }
    for _ in 0..procs {
        c.recv();
    }
}

/// BenchmarkCreateGoroutines.
pub fn create_goroutines<S: Scheduler>(n: u64) {
    create::<S>(n, 1);
}

/// BenchmarkCreateGoroutinesParallel.
pub fn create_goroutines_parallel<S: Scheduler>(n: u64) {
    create::<S>(n, S::gomaxprocs(0).max(1) as u64);
}

/// The plain testing.B ping-pong: main and an echo goroutine, `ping <- true; <-pong`.
pub fn ping_pong<S: Scheduler>(n: u64) {
    let ping = Chan::<bool, S>::new(0);
    let pong = Chan::<bool, S>::new(0);
    {
        let (ping, pong) = (ping.clone(), pong.clone());
        S::go(move || {
            for _ in 0..n {
                ping.recv();
                pong.send(true);
            }
        });
    }
    for _ in 0..n {
        ping.send(true);
        pong.recv();
    }
}

/// BenchmarkChanSync: two goroutines claim batches of 1000 and alternate over one unbuffered
/// channel (receive first on an even batch, send first on an odd one).
pub fn chan_sync<S: Scheduler>(n: u64) {
    const CALLS: u64 = 1000;
    const PROCS: u64 = 2;
    let left = Arc::new(AtomicI64::new((n / CALLS / PROCS * PROCS) as i64));
    let c = Chan::<bool, S>::new(PROCS as usize);
    let myc = Chan::<i32, S>::new(0);
    for _ in 0..PROCS {
        let (left, c, myc) = (left.clone(), c.clone(), myc.clone());
        S::go(move || {
            loop {
                let i = left.fetch_sub(1, Ordering::SeqCst) - 1;
                if i < 0 {
                    break;
                }
                for _ in 0..CALLS {
                    if i % 2 == 0 {
                        myc.recv();
                        myc.send(0);
                    } else {
                        myc.send(0);
                        myc.recv();
                    }
                }
            }
            c.send(true);
        });
    }
    for _ in 0..PROCS {
        c.recv();
    }
}

/// BenchmarkPingPongHog at GOMAXPROCS 1: a hog spins until `stop`, two goroutines ping-pong
/// n times. No watchdog: on a generation without preemption this never ends, so it is only
/// run where `S::PREEMPTIVE`.
pub fn ping_pong_hog<S: Scheduler>(n: u64) {
    if n == 0 {
        return;
    }
    let prev = S::gomaxprocs(1);
    // Go's `stop` channel: the hog polls it (a select with a default), main waits for its
    // close.
    let stopping = Arc::new(AtomicBool::new(false));
    let stop = Chan::<bool, S>::new(0);
    let done = Chan::<bool, S>::new(0);
    {
        let (stopping, done) = (stopping.clone(), done.clone());
        S::go(move || {
            while !stopping.load(Ordering::Relaxed) {
                S::preempt_point();
            }
            done.send(true);
        });
    }
    let ping = Chan::<bool, S>::new(0);
    let pong = Chan::<bool, S>::new(0);
    {
        let (ping, pong, stop, done) = (ping.clone(), pong.clone(), stop.clone(), done.clone());
        S::go(move || {
            for _ in 0..n {
                pong.send(ping.recv().expect("never closed"));
            }
            stopping.store(true, Ordering::Relaxed);
            stop.close();
            done.send(true);
        });
    }
    {
        let (ping, pong, done) = (ping.clone(), pong.clone(), done.clone());
        S::go(move || {
            for _ in 0..n {
                ping.send(pong.recv().expect("never closed"));
            }
            done.send(true);
        });
    }
    ping.send(true);
    stop.recv();
    ping.recv();
    for _ in 0..3 {
        done.recv();
    }
    S::gomaxprocs(prev);
}

/// gc-pause: GOMAXPROCS goroutines spin (2 us between preempt points, a gosched every 1 ms)
/// while main collects n times.
pub fn gc_pause<S: Scheduler>(n: u64) {
    let procs = S::gomaxprocs(0).max(1);
    let stop = Arc::new(AtomicBool::new(false));
    let wg = WaitGroup::<S>::new();
    for _ in 0..procs {
        wg.add(1);
        let (stop, wg) = (stop.clone(), wg.clone());
        S::go(move || {
            let mut last_gosched = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                let now = Instant::now();
                let until = now + Duration::from_micros(2);
                while Instant::now() < until {
                    std::hint::spin_loop();
                }
                S::preempt_point();
                if now.duration_since(last_gosched) >= Duration::from_millis(1) {
                    S::gosched();
                    last_gosched = Instant::now();
                }
            }
            wg.done();
        });
    }
    for _ in 0..n {
        S::gc();
    }
    stop.store(true, Ordering::Relaxed);
    wg.wait();
}

/// Go's matmult: the first parallel half in a new goroutine that signals a channel of one.
fn product<S: Scheduler>(done: Option<Chan<bool, S>>, m: Matrices, blk: Block) {
    match blk.split(THRESHOLD) {
        Split::Parallel(x, y) => {
            let c = Chan::<bool, S>::new(1);
            let d = c.clone();
            S::go(move || product::<S>(Some(d), m, x));
            product::<S>(None, m, y);
            c.recv();
        }
        Split::Sequential(x, y) => {
            product::<S>(None, m, x);
            product::<S>(None, m, y);
        }
        Split::Leaf => m.multiply(blk),
    }
    if let Some(d) = done {
        d.send(true);
    }
}

/// BenchmarkMatmult: matrices of side cbrt(n)+1 and their product (unchecked, as Go's).
pub fn matmult<S: Scheduler>(n: u64) {
    let mut p = Product::for_ops(n);
    let m = p.matrices();
    product::<S>(None, m, Block::whole(p.side()));
    std::hint::black_box(&p);
}

/// tokio's chained_spawn: per op, a chain of 1000 goroutines; main waits for the last.
pub fn chain_spawn<S: Scheduler>(n: u64) {
    let done = Chan::<bool, S>::new(1);
    for _ in 0..n {
        let d = done.clone();
        S::go(move || link::<S>(1000, d));
        done.recv();
    }
}

/// tokio's yield_many: per op, 200 goroutines yield 1000 times each; main waits for all.
pub fn yield_many<S: Scheduler>(n: u64) {
    const TASKS: usize = 200;
    let done = Chan::<bool, S>::new(TASKS);
    for _ in 0..n {
        for _ in 0..TASKS {
            let d = done.clone();
            S::go(move || {
                for _ in 0..1000 {
                    S::gosched();
                }
                d.send(true);
            });
        }
        for _ in 0..TASKS {
            done.recv();
        }
    }
}

/// Go's wakeDelay.
const WAKE_DELAY: Duration = Duration::from_micros(5);

/// Spins for `d` through preempt points.
fn spin<S: Scheduler>(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        S::preempt_point();
    }
}

/// Sleeps for `d` in a syscall.
fn sleep<S: Scheduler>(d: Duration) {
    S::entersyscall();
    std::thread::sleep(d);
    S::exitsyscall();
}

/// benchmarkWakeupParallel: two goroutines take turns; the receiver waits `delay` and
/// blocks, the sender waits `delay + 5 us` and sends.
#[inline(always)]
fn wakeup<S: Scheduler>(n: u64, delay: Duration, wait: fn(Duration)) {
    let ch1 = Chan::<bool, S>::new(0);
    let ch2 = Chan::<bool, S>::new(0);
    let done = Chan::<bool, S>::new(2);
    {
        let (ch1, ch2, done) = (ch1.clone(), ch2.clone(), done.clone());
        S::go(move || {
            for _ in 0..n {
                wait(delay + WAKE_DELAY);
                ch1.send(true);
                wait(delay);
                ch2.recv();
            }
            done.send(true);
        });
    }
    {
        let done = done.clone();
        S::go(move || {
            for _ in 0..n {
                wait(delay);
                ch1.recv();
                wait(delay + WAKE_DELAY);
                ch2.send(true);
            }
            done.send(true);
        });
    }
    done.recv();
    done.recv();
}

/// BenchmarkWakeupParallelSpinning/5µs.
pub fn wakeup_spinning_5us<S: Scheduler>(n: u64) {
    wakeup::<S>(n, Duration::from_micros(5), spin::<S>);
}

/// BenchmarkWakeupParallelSyscall/5µs.
pub fn wakeup_syscall_5us<S: Scheduler>(n: u64) {
    wakeup::<S>(n, Duration::from_micros(5), sleep::<S>);
}

/// The bare loop of the core workload named `name`, monomorphized for `S`; `None` for a
/// workload that has none (every core workload has one).
pub fn bare_fn<S: Scheduler>(name: &str) -> Option<fn(u64)> {
    Some(match name {
        "syscall" => syscall::<S>,
        "syscall-work" => syscall_work::<S>,
        "create-goroutines" => create_goroutines::<S>,
        "create-goroutines-parallel" => create_goroutines_parallel::<S>,
        "ping-pong" => ping_pong::<S>,
        "chan-sync" => chan_sync::<S>,
        "ping-pong-hog" => ping_pong_hog::<S>,
        "gc-pause" => gc_pause::<S>,
        "matmult" => matmult::<S>,
        "chain-spawn" => chain_spawn::<S>,
        "yield-many" => yield_many::<S>,
        "wakeup-spinning-5us" => wakeup_spinning_5us::<S>,
        "wakeup-syscall-5us" => wakeup_syscall_5us::<S>,
        _ => return None,
    })
}
