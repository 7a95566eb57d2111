//! Preemption at the prologue check: `preempt_point` is the stack check Go compiles into every
//! function's prologue, "is the stack pointer at or below g->stackguard0?". Normally it is
//! not and the check costs one load and one compare. preemptone (sysmon, stoptheworld) sets
//! `stackguard0 = STACK_PREEMPT`, above any stack address, so the next check fails and lands
//! in `newstack`, which sees the preemption request: the goroutine scans its own stack if the
//! collector asked for that, then switches to g0, and gopreempt_m puts it on the global queue.
//!
//! As in Go 1.4, a loop with no preempt point in it (in Go: no function call) cannot be
//! preempted: the request waits until the goroutine reaches a check.
//!
//! Finding the current goroutine's `stackguard0` is Go's `g` register; here it is a
//! thread-local slot that `execute` points at the goroutine it resumes. Goroutines move between
//! threads, so the slot is read through an `#[inline(never)]` function on every check (never
//! cached across a switch); on x86-64 Linux that read is one `fs:`-relative load.

use crate::g::{GRef, STACK_PREEMPT};
use crate::gc::gcphasework;
use crate::gstatus::{Grunnable, Grunning, Gscan, Gsyscall};
use crate::m::{getm, M};
use crate::p::PRUNNING;
use crate::proc::{dropg, Next};
use schedcore::context::current_sp;
use schedcore::{trace_ev, Counter};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The guard of a thread that runs no goroutine of a 2014 runtime: it always trips, and the
/// slow path then says that the caller is not inside a goroutine.
static NO_GOROUTINE: AtomicUsize = AtomicUsize::new(usize::MAX);

thread_local! {
    /// The `stackguard0` of the goroutine this thread runs.
    static GUARD: Cell<*const AtomicUsize> = const { Cell::new(&NO_GOROUTINE) };
}

/// Points this thread's slot at `gp`'s guard (execute, before resuming it), or back at the
/// always-tripping one when the thread stops being an M.
#[inline(always)]
pub(crate) fn set_guard_slot(gp: Option<GRef>) {
    let p: *const AtomicUsize = match gp {
        Some(gp) => &gp.0.stackguard0,
        None => &NO_GOROUTINE,
    };
    GUARD.with(|c| c.set(p));
}

/// This thread's slot, read afresh on every call.
#[inline(never)]
fn guard_slot() -> *const AtomicUsize {
    GUARD.with(|c| c.get())
}

/// `S::preempt_point()`: the prologue check. When nothing is asked: one load of the current
/// goroutine's `stackguard0` and one compare against the stack pointer.
#[inline(always)]
pub(crate) fn preempt_point() {
    let guard = guard_slot();
    // SAFETY: the slot points at a static or at the stackguard0 of a G, and G's are freed
    // only by teardown, after every thread of their runtime has been joined (and has pointed
    // its slot back at the static).
    let limit = unsafe { (*guard).load(Ordering::Relaxed) };
    if current_sp() <= limit {
        morestack();
    }
}

/// The prologue check failed: Go's morestack, which switches to g0 to run newstack. Here
/// newstack runs on the goroutine's own stack, and switches only to be preempted.
#[cold]
#[inline(never)]
fn morestack() {
    newstack();
}

/// Port of newstack's preemption check (Go 1.4's stack.c; seed 001 names the protocol). There
/// is no stack to grow here: a failed check is either a preemption request or a stack about
/// to overflow.
fn newstack() {
    let m = getm();
    let gp = m
        .curg()
        .expect("preempt_point: no goroutine on this M (called on g0?)");
    let guard = gp.stackguard0.load(Ordering::Relaxed);
    if guard != STACK_PREEMPT {
        // A real stack check failure: the stack cannot grow, so it is an overflow, fatal as
        // in Go. The little stack left is enough to switch to g0, which reports it.
        // SAFETY: called by the running goroutine `gp`, on its own stack; it is never resumed.
        unsafe { gp.ctx.suspend(crate::g::Why::StackOverflow) };
        unreachable!("a goroutine whose stack overflowed was resumed");
    }
    let status = gp.readgstatus();
    if status == Gsyscall {
        // Go poisons the guard in entersyscall so that a stack check inside a syscall throws;
        // this port does not poison it, and a request left from before the syscall waits for
        // exitsyscall: a goroutine in a syscall holds no P, so there is nothing to take.
        return;
    }
    // m->locks counts the runtime locks this M holds (schedcore's locks raise it, as Go's
    // lock did) and the runtime work in progress: a goroutine holding a lock (say, a
    // channel's) is not preempted, or the M that ran next could spin or sleep on it while
    // the holder waits in a run queue. The request stays set, and the release that brings
    // the count back to zero re-arms the guard (`restore_preempt_request`).
    let locks = m.locks.get();
    if m.p.get().is_none() && locks == 0 {
        panic!("runtime: g is running but p is not");
    }
    if gp.preemptscan.load(Ordering::Relaxed) {
        // The collector asked this goroutine to scan its own stack (stopg on a Grunning G).
        gp.preemptscan.store(false, Ordering::Relaxed);
        trace_ev!(m.trace, GcScanStart, gp.goid.load(Ordering::Relaxed), 1);
        let words = gcphasework(&m, gp);
        trace_ev!(m.trace, GcScanDone, gp.goid.load(Ordering::Relaxed), words);
        m.counters.inc(Counter::SelfScans);
        if !m.sched().gcwaiting() {
            // The seed lets the goroutine run on after its scan; stoptheworld's preemptall
            // stops it later. When the world is already being stopped, stopping now saves
            // stoptheworld a 100 us round of re-preemption.
            gp.preempt.store(false, Ordering::Relaxed);
            gp.stackguard0.store(gp.stackguard_ok(), Ordering::Relaxed);
            return;
        }
    }
    // Be conservative about where to preempt: not inside runtime work (m.locks), and only a
    // goroutine that really runs on a running P.
    // (Gscanrunning: a collector is marking this G for a self scan at this very moment; it
    // still runs here, and gopreempt_m's casgstatus waits for the mark to be done.)
    let p_running = matches!(m.p.get(), Some(p) if p.status() == PRUNNING);
    if status & !Gscan != Grunning || locks != 0 || !p_running {
        // Let it run on; `preempt` stays set, and release_locks re-arms the guard.
        gp.stackguard0.store(gp.stackguard_ok(), Ordering::Relaxed);
        return;
    }
    // Act as if the goroutine called Gosched (gopreempt_m on g0).
    // SAFETY: called by the running goroutine `gp`, on its own stack. `m` is not used after
    // the switch: the goroutine may come back on another M.
    unsafe { gp.ctx.suspend(crate::g::Why::Preempt) };
}

/// Go's throw("stack overflow") from newstack, on g0: ends the run with that error. The
/// goroutine stays suspended (its M does not run it again) and teardown frees it.
pub(crate) fn stackoverflow_m(m: &M, gp: GRef) -> Next {
    trace_ev!(m.trace, GoStop, gp.goid.load(Ordering::Relaxed), 0);
    let (lo, hi) = gp.stack();
    m.sched().throw(format!(
        "stack overflow: goroutine {} exceeds its {}-byte stack (caught at a preempt point)",
        gp.goid.load(Ordering::Relaxed),
        hi - lo
    ));
    dropg(m);
    Next::Schedule
}

/// Port of gopreempt_m (Go 1.4 newstack's "act like goroutine called runtime.Gosched"): the
/// preempted goroutine goes to the global queue, so that whatever waits on this P's ring or
/// the global queue runs before it.
pub(crate) fn gopreempt_m(m: &M, gp: GRef) -> Next {
    trace_ev!(m.trace, GoPreempt, gp.goid.load(Ordering::Relaxed), 0);
    let sched = m.sched();
    if !sched.end.exiting() {
        // Preemptions that teardown asks for, to stop the run, are not counted.
        m.counters.inc(Counter::Preemptions);
    }
    gp.casgstatus(Grunning, Grunnable);
    dropg(m);
    let p = m.p();
    sched.globrunqput(&mut sched.lock(), gp, &p.counters, &m.trace);
    Next::Schedule
}
