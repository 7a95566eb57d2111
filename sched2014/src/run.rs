//! Booting a runtime (the seed's schedinit, runtime·main and mstart for M0) and tearing it
//! down when main returns or the run fails: stop every M at its goroutine's next scheduling
//! point, join every thread, abandon the goroutines still alive, free everything, and report.

use crate::g::STACK_PREEMPT;
use crate::gstatus::{Gdead, Gidle};
use crate::m::{allocm, getm, newm, newosproc, StartFn};
use crate::p::{PGCSTOP, PRUNNING, PSYSCALL};
use crate::proc::newproc1;
use crate::procresize::procresize;
use crate::sched::{Sched, MAX_GOMAXPROCS};
use hdrhistogram::Histogram;
use schedcore::memory::MemoryWatch;
use schedcore::ptr::Ptr;
use schedcore::trace::Trace;
use schedcore::{Config, Counter, Lock, Report, RunError, StackArena, Totals};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The counters this generation keeps.
pub(crate) const REPORTED: &[Counter] = &[
    Counter::GoroutinesCreated,
    Counter::GoroutinesLeft,
    Counter::GoroutinesPeak,
    Counter::ThreadsCreated,
    Counter::StacksMapped,
    Counter::Gosched,
    Counter::Parks,
    Counter::SyscallExitFast,
    Counter::SyscallExitSlow,
    Counter::MSleeps,
    Counter::StealTries,
    Counter::StealWins,
    Counter::GoroutinesStolen,
    Counter::Runqputslow,
    Counter::GlobrunqPut,
    Counter::GlobrunqGet,
    Counter::GlobrunqGet61,
    Counter::Handoffp,
    Counter::Retakes,
    Counter::SpinningWoken,
    Counter::PreemptRequests,
    Counter::Preemptions,
    Counter::GscanClaims,
    Counter::SelfScans,
    Counter::Gcs,
    Counter::StwPauses,
    Counter::StackWordsScanned,
    Counter::StackPointersFound,
];

/// How often teardown looks again for M's that have not left yet.
const TEARDOWN_KICK_EVERY: Duration = Duration::from_micros(100);

/// Runs `main` as the main goroutine of a new runtime named `name`; see `Scheduler::run`.
/// `preempt` is false for "2014-nopreempt".
pub(crate) fn run<R, F>(
    name: &'static str,
    preempt: bool,
    cfg: &Config,
    main: F,
) -> Result<(R, Report), RunError>
where
    R: Send + 'static,
    F: FnOnce() -> R + Send + 'static,
{
    cfg.validate(MAX_GOMAXPROCS)?;
    let lock = cfg.lock_or(<crate::Sched2014 as schedcore::Scheduler>::ERA_LOCK);
    let stacks = StackArena::new(cfg)?;
    let memory = MemoryWatch::start();
    let mut sched = Sched::new(stacks, preempt, cfg.schedtrace, lock);
    sched.tracer = schedcore::trace::Tracer::new(cfg.trace);
    let sched = Ptr::from_box(Box::new(sched));
    // schedinit: M0 and the P's, M0 holding P0.
    let m0 = allocm(&sched, StartFn::Schedule);
    procresize(&m0, &mut sched.lock(), cfg.procs as i32);
    // The main goroutine, queued on P0 (runtime·main: it reports main's return).
    let result: Arc<Lock<Option<(R, Duration)>>> = Arc::new(Lock::new(None));
    let slot = result.clone();
    // If main finds no stack, the run has already failed with the error, which `wait` returns.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        newproc1(
            &m0,
            move || {
                let t0 = Instant::now();
                let r = main();
                *slot.lock() = Some((r, t0.elapsed()));
                getm().sched().end.finish();
            },
            false,
        )
    }));
    // Go starts sysmon from runtime·main; starting it here is the same, a little earlier.
    newm(&sched, StartFn::Sysmon, None);
    newosproc(&sched, m0);

    let err = sched.end.wait();
    let (totals, pauses, trace) = teardown(sched, cfg.procs);
    if let Some(e) = err {
        return Err(e);
    }
    let (r, elapsed) = result
        .lock()
        .take()
        .ok_or_else(|| RunError::Panic("main goroutine did not return a value".into()))?;
    let mut report = Report::new(name, cfg.procs, lock, elapsed, &totals, pauses);
    report.memory = memory.finish();
    report.trace = trace;
    Ok((r, report))
}

/// Stops every thread of the runtime and frees it. Returns the summed counters, the pause
/// histogram and the execution trace (if one was asked for; `procs` is GOMAXPROCS at boot).
///
/// Go ends a program with exit(2); here each M must leave by itself, at its goroutine's next
/// trip into the scheduler (which looks at `exiting`). Sleeping M's are woken. For the others,
/// until every thread has finished, teardown repeatedly moves P's found in Psyscall to
/// Pgcstop, so that exitsyscall's fast path fails and the slow path sees the end, and puts a
/// preemption request on every running goroutine (also in "2014-nopreempt": this is how the
/// run stops, not scheduling), so that its next preempt point takes it to the scheduler. A
/// goroutine that spins without preempt points or syscalls keeps its M, and this, waiting.
fn teardown(sched: Ptr<Sched>, procs: usize) -> (Totals, Histogram<u64>, Option<Trace>) {
    // `exiting` is set. Every M that goes to sleep from now on sees it under the sched lock
    // first; wake the ones already asleep.
    {
        let mut s = sched.lock();
        while let Some(mp) = sched.mget(&mut s) {
            mp.park.notewakeup();
        }
        for mp in s.allm.iter() {
            if mp.lockwait.load(Ordering::Relaxed) && !mp.lockwake.load(Ordering::Relaxed) {
                mp.lockwake.store(true, Ordering::Relaxed);
                mp.park.notewakeup();
            }
        }
        sched.wake_sysmon(&mut s);
    }
    // Join until no thread is left (an M may start another on its way out).
    loop {
        let mut hs = std::mem::take(&mut *sched.threads.lock());
        if hs.is_empty() {
            break;
        }
        while hs.iter().any(|h| !h.is_finished()) {
            kick(&sched);
            std::thread::sleep(TEARDOWN_KICK_EVERY);
            hs.append(&mut sched.threads.lock());
        }
        for h in hs {
            let _ = h.join();
        }
    }

    // No thread of the runtime is left.
    let s = sched.lock();
    let mut totals = Totals::default();
    let mut left = 0u64;
    for gp in &s.allg {
        let st = gp.readgstatus();
        if st != Gdead {
            // SAFETY: every M is joined, so nothing runs or resumes this goroutine again.
            unsafe { gp.ctx.reset() };
            if st != Gidle {
                left += 1;
            }
        }
    }
    totals.merge_one(Counter::GoroutinesLeft, left);
    let ps: Vec<_> = sched.allp.iter().filter_map(|l| l.get()).collect();
    for p in &ps {
        totals.merge(&p.counters, REPORTED);
    }
    for mp in &s.allm {
        totals.merge(&mp.counters, REPORTED);
    }
    let pauses = sched.pauses.lock().clone();
    // Every M's thread is joined: their buffers are still.
    let trace = sched.tracer.collect(
        procs,
        true,
        s.allm.iter().map(|mp| {
            let name = match mp.startfn {
                StartFn::Sysmon => format!("M{} (sysmon)", mp.id),
                _ => format!("M{}", mp.id),
            };
            (mp.id as i64, name, &mp.trace)
        }),
    );
    let gs = s.allg.clone();
    let ms = s.allm.clone();
    drop(s);
    // SAFETY: every thread is joined and each object is freed once; nothing reads them
    // afterwards (the Sched goes last, as the others point at it).
    unsafe {
        for gp in gs {
            gp.0.free();
        }
        for p in ps {
            p.free();
        }
        for mp in ms {
            mp.free();
        }
        sched.free();
    }
    (totals, pauses, trace)
}

/// One round of teardown's push on the M's still running (see `teardown`).
fn kick(sched: &Sched) {
    for p in sched.allp.iter().filter_map(|l| l.get()) {
        match p.status() {
            PSYSCALL => {
                let _ = p.status.compare_exchange(
                    PSYSCALL,
                    PGCSTOP,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                );
            }
            PRUNNING => {
                if let Some(gp) = p.m.get().and_then(|mp| mp.curg.get()) {
                    gp.preempt.store(true, Ordering::Relaxed);
                    gp.stackguard0.store(STACK_PREEMPT, Ordering::Relaxed);
                }
            }
            _ => {}
        }
    }
    let mut s = sched.lock();
    while let Some(mp) = sched.mget(&mut s) {
        mp.park.notewakeup();
    }
    sched.wake_sysmon(&mut s);
}
