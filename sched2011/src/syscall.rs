//! entersyscall and exitsyscall of CL 4723042: the lock-free fast paths through the packed
//! word, and the schedlock slow paths. The code before the CL is in `before.rs`.

use crate::g::{GRUNNING, GSYSCALL};
use crate::m::{getm, M};
use crate::proc::{gosched, matchmg};
use crate::sched::Runtime;
use schedcore::trace::Ev;
use schedcore::{trace_ev, Counter};
use std::sync::atomic::Ordering::Relaxed;

/// Port of entersyscall (seed 002).
#[inline(always)]
pub fn entersyscall() {
    entersyscall_on(getm())
}

/// entersyscall by the goroutine running on `m` (the loom model names its M's itself).
#[inline(always)]
pub fn entersyscall_on(m: &M) {
    let gp = m.curg();
    // Leave the stack pointer for the collector before anyone can see Gsyscall, and check it
    // (the seed's gcsp range check; the loom model's goroutines have no stack to check).
    gp.ctx.save_syscall_sp();
    gp.set_status(GSYSCALL);
    if !cfg!(loom) && gp.ctx.live_stack().is_none() {
        entersyscall_inconsistent();
    }
    let rt = m.rt();
    // Fast path: when the locked path below would do nothing but mcpu--, do that in one CAS.
    if rt.word.entersyscall_fast() {
        m.counters.inc(Counter::SyscallEnterFast);
        trace_ev!(m.trace, GoSysCall, gp.goid.load(Relaxed), 1);
        return;
    }
    entersyscall_slow(rt, m);
}

/// The schedlock path of entersyscall.
#[cold]
#[inline(never)]
fn entersyscall_slow(rt: &Runtime, m: &M) {
    m.counters.inc(Counter::SyscallEnterSlow);
    trace_ev!(m.trace, GoSysCall, m.curg().goid.load(Relaxed), 0);
    let mut s = rt.schedlock();
    let mut matched = false;
    let woke = rt.word.entersyscall_locked(|| {
        matched = true;
        matchmg(rt, &mut s, Some(m))
    });
    if woke {
        rt.stopped.notewakeup();
    }
    if m.trace.on() && (matched || woke) {
        // The CPU this goroutine gave up went to a waiting goroutine or to stoptheworld.
        m.trace.ev(Ev::GoSysBlock, m.curg().goid.load(Relaxed), 0);
    }
}

/// Port of exitsyscall (seed 002).
#[inline(always)]
pub fn exitsyscall() {
    exitsyscall_on(getm(), gosched)
}

/// exitsyscall by the goroutine running on `m`; `gosched` is its switch into schedule when
/// every CPU is taken (Go's runtime·gosched; the loom model's stand-in for the switch).
#[inline(always)]
pub fn exitsyscall_on(m: &M, gosched: impl FnOnce()) {
    let rt = m.rt();
    // Fast path: if mcpu++ keeps mcpu within mcpumax, there is a CPU for us; no lock.
    if rt.word.exitsyscall_fast() {
        let gp = m.curg();
        gp.set_status(GRUNNING);
        m.counters.inc(Counter::SyscallExitFast);
        trace_ev!(m.trace, GoSysExit, gp.goid.load(Relaxed), 1);
        return;
    }
    exitsyscall_slow(rt, m, gosched);
}

/// The schedlock path of exitsyscall: every CPU is taken.
#[cold]
#[inline(never)]
fn exitsyscall_slow(rt: &Runtime, m: &M, gosched: impl FnOnce()) {
    let gp = m.curg();
    let s = rt.schedlock();
    rt.word.exitsyscall_locked();
    // Let schedule put us back on the run queue (which also undoes the mcpu++ above) and
    // wait there like any runnable goroutine.
    gp.readyonstop.store(true, Relaxed);
    drop(s);
    m.counters.inc(Counter::SyscallExitSlow);
    // GoSysExit (arg 0) is recorded on g0, after the switch (the M loop's stop_event).
    gosched();
    // Back on a CPU, possibly on another M: `m` is stale from here on.
}

/// The seed's throw("entersyscall"): the stack pointer saved for the collector is outside the
/// goroutine's stack.
#[cold]
#[inline(never)]
pub(crate) fn entersyscall_inconsistent() -> ! {
    panic!("entersyscall inconsistent: the saved stack pointer is outside the goroutine's stack")
}
