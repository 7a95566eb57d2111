//! The `floor` peer: the lab's loops with nothing of a scheduler left, the least any
//! implementation must pay. Plain threads stand for the M's; each entersyscall/exitsyscall
//! pair becomes two uncontended CAS on the thread's own cache-line-padded atomic; each spawned
//! goroutine becomes a corosensei coroutine created on a cached stack, run, and its stack
//! taken back; a gosched becomes a suspend and resume of the coroutine that runs the loop.

// `foo` is BenchmarkSyscallWork's own name for its variable; kept so the port reads alike.
#![allow(clippy::disallowed_names)]

use super::pool::{Job, Pool};
use crate::measure::ramp::ramp;
use crate::measure::runner::{Measurement, Settings};
use crate::subjects::{Failure, Peer};
use crate::workloads::syscall::{BLOCK_CALLS_PER_SCHED, CALLS_PER_SCHED, EXCESS};
use crate::workloads::{blocking_call, local_work, no_work, WorkloadInfo};
use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use schedcore::scheduler::DEFAULT_STACK_SIZE;
use schedcore::{CachePadded, RunError};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// The name in tables and in the JSON's `sched`.
pub const NAME: &str = "floor";

/// The `floor` peer (see the head of this file).
pub struct Floor;

impl Peer for Floor {
    const NAME: &'static str = NAME;
    const ABOUT: &'static str = "the same loops on plain threads: two uncontended CAS per syscall, a coroutine on a cached stack per spawn";

    /// Measures `bench` on `procs` plain threads with a ramp toward the settings' aim.
    fn measure(bench: &WorkloadInfo, settings: &Settings) -> Result<Measurement, Failure> {
        let procs = settings.procs;
        let steps = settings.work;
        let work = move |foo: &mut i64| local_work(foo, steps);
        let job: Box<dyn Fn(u64) -> Job> = match bench.name {
            "syscall" => Box::new(|n| batches(n, 1, CALLS_PER_SCHED, no_work)),
            "syscall-work" => Box::new(move |n| batches(n, 1, CALLS_PER_SCHED, work)),
            "syscall-excess" => Box::new(|n| batches(n, EXCESS, CALLS_PER_SCHED, no_work)),
            "syscall-excess-work" => Box::new(move |n| batches(n, EXCESS, CALLS_PER_SCHED, work)),
            "syscall-block" => Box::new(|n| batches(n, 1, BLOCK_CALLS_PER_SCHED, blocking_call)),
            "create-goroutines" => Box::new(|n| Arc::new(move |i, _| i != 0 || chain(n))),
            "create-goroutines-parallel" => {
                Box::new(|n| Arc::new(move |_, procs| chain(n / procs as u64)))
            }
            "create-goroutines-single" => {
                Box::new(|n| Arc::new(move |i, _| i != 0 || spawn_many(n)))
            }
            _ => {
                return Err(Failure::NotApplicable(
                    "the floor peer has no version of this workload",
                ))
            }
        };
        let pool = Pool::new(procs);
        let mut ok = true;
        let ramp = ramp(settings.aim(), bench.batch, bench.max_n, |n| {
            let job = job(n);
            let t = Instant::now();
            ok &= pool.run(&job);
            t.elapsed()
        });
        if !ok {
            return Err(Failure::Run(RunError::Panic(format!(
                "floor: {} failed its check",
                bench.name
            ))));
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

thread_local! {
    /// The thread's own "in syscall" word, alone on its cache line so no other thread's
    /// traffic touches it.
    static IN_SYSCALL: CachePadded<AtomicU32> = const { CachePadded::new(AtomicU32::new(0)) };
    /// Coroutine stacks this thread has finished with (a gfree list of one thread).
    static STACKS: RefCell<Vec<DefaultStack>> = const { RefCell::new(Vec::new()) };
}

/// entersyscall on the floor: one uncontended CAS on the thread's own word.
#[inline(always)]
fn enter() {
    IN_SYSCALL.with(|w| {
        let r = w.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Relaxed);
        debug_assert!(r.is_ok());
    });
}

/// exitsyscall on the floor: the CAS back.
#[inline(always)]
fn exit() {
    IN_SYSCALL.with(|w| {
        let r = w.compare_exchange(1, 0, Ordering::AcqRel, Ordering::Relaxed);
        debug_assert!(r.is_ok());
    });
}

/// One syscall pair on the floor (enter, then exit), for the benches that set the generations'
/// atomics beside it (harness/benches/atomics.rs).
#[inline(always)]
pub fn syscall_pair() {
    enter();
    exit();
}

/// A stack from the thread's cache, or a fresh one (mapped once, then reused every round).
fn take_stack() -> DefaultStack {
    STACKS
        .with(|s| s.borrow_mut().pop())
        .unwrap_or_else(|| DefaultStack::new(DEFAULT_STACK_SIZE).expect("map a coroutine stack"))
}

fn put_stack(s: DefaultStack) {
    STACKS.with(|c| c.borrow_mut().push(s));
}

/// Creates a coroutine for `f` on a cached stack, runs it to its end, and takes the stack back:
/// the floor's `go f()` with the goroutine run at once.
#[inline(always)]
pub fn spawn_and_run<R: 'static>(f: impl FnOnce() -> R + 'static) -> R {
    let mut co = Coroutine::with_stack(take_stack(), move |_: &Yielder<(), ()>, ()| f());
    let r = match co.resume(()) {
        CoroutineResult::Return(r) => r,
        CoroutineResult::Yield(()) => unreachable!("a floor goroutine does not yield"),
    };
    put_stack(co.into_stack());
    r
}

/// BenchmarkSyscall's loop: on each thread, `per_proc` coroutines take batches from a shared
/// counter; a gosched is a suspend back to the thread, which resumes the next coroutine.
fn batches<B>(n: u64, per_proc: usize, calls: u64, body: B) -> Job
where
    B: Fn(&mut i64) + Copy + Send + Sync + 'static,
{
    let left = Arc::new(AtomicI64::new((n / calls) as i64));
    Arc::new(move |_, _| {
        let mut cos: Vec<Option<Coroutine<(), (), bool>>> = (0..per_proc)
            .map(|_| {
                let left = left.clone();
                Some(Coroutine::with_stack(
                    take_stack(),
                    move |y: &Yielder<(), ()>, ()| {
                        let mut foo = 42i64;
                        while left.fetch_sub(1, Ordering::SeqCst) > 0 {
                            y.suspend(());
                            for _ in 0..calls {
                                enter();
                                body(&mut foo);
                                exit();
                            }
                        }
                        foo == 42
                    },
                ))
            })
            .collect();
        let mut ok = true;
        let mut live = cos.len();
        while live > 0 {
            for slot in cos.iter_mut() {
                let Some(co) = slot else { continue };
                if let CoroutineResult::Return(r) = co.resume(()) {
                    ok &= r;
                    put_stack(slot.take().unwrap().into_stack());
                    live -= 1;
                }
            }
        }
        ok
    })
}

/// benchmarkCreateGoroutines' chain of `n`: each link's coroutine hands back the length of the
/// rest, and the next link is created from it, until the last.
fn chain(n: u64) -> bool {
    let mut k = n;
    loop {
        let rest = spawn_and_run(move || k.checked_sub(1));
        match rest {
            Some(r) => k = r,
            None => return true,
        }
    }
}

/// BenchmarkCreateGoroutinesSingle: `n` coroutines, each marking a counter done.
fn spawn_many(n: u64) -> bool {
    let mut left = n;
    for _ in 0..n {
        left -= spawn_and_run(|| 1u64);
    }
    left == 0
}
