//! entersyscall and exitsyscall: the lock-free fast paths of seed 002 and the schedlock slow
//! paths, which are all the "2011-lock" variant ever takes.

use crate::g::{GRUNNING, GSYSCALL};
use crate::m::{getm, M};
use crate::proc::{gosched, matchmg};
use crate::sched::Runtime;
use crate::word::{gwaiting, mcpu, mcpumax};
use schedcore::Counter;
use std::sync::atomic::Ordering::Relaxed;

/// Port of entersyscall (seed 002).
#[inline(always)]
pub fn entersyscall() {
    let m = getm();
    let gp = m.curg();
    // Leave the stack pointer for the collector before anyone can see Gsyscall.
    gp.ctx.save_sp();
    gp.set_status(GSYSCALL);
    let rt = m.rt();
    // Fast path: when the locked path below would do nothing but mcpu--, do that in one CAS.
    if rt.fastpath && rt.word.entersyscall_fast() {
        m.counters.inc(Counter::SyscallEnterFast);
        return;
    }
    entersyscall_slow(rt, m);
}

/// The schedlock path of entersyscall (the whole of it before seed 002).
#[cold]
#[inline(never)]
fn entersyscall_slow(rt: &Runtime, m: &M) {
    m.counters.inc(Counter::SyscallEnterSlow);
    let mut s = rt.sched.lock();
    // atomic { mcpu-- }
    let mut v = rt.word.add_mcpu(-1);
    if gwaiting(v) {
        matchmg(rt, &mut s, Some(m));
        v = rt.word.load();
    }
    if rt.word.take_waitstop_if_stopped(v) {
        rt.stopped.notewakeup();
    }
}

/// Port of exitsyscall (seed 002).
#[inline(always)]
pub fn exitsyscall() {
    let m = getm();
    let rt = m.rt();
    // Fast path: if mcpu++ keeps mcpu within mcpumax, there is a CPU for us; no lock.
    if rt.fastpath && rt.word.exitsyscall_fast() {
        m.curg().set_status(GRUNNING);
        m.counters.inc(Counter::SyscallExitFast);
        return;
    }
    exitsyscall_slow(rt, m);
}

#[cold]
#[inline(never)]
fn exitsyscall_slow(rt: &Runtime, m: &M) {
    let gp = m.curg();
    let s = rt.sched.lock();
    // atomic { mcpu++ }
    let v = rt.word.add_mcpu(1);
    if !rt.fastpath && mcpu(v) <= mcpumax(v) {
        // Before seed 002 this check under the lock was the fast path.
        gp.set_status(GRUNNING);
        drop(s);
        m.counters.inc(Counter::SyscallExitFast);
        return;
    }
    // Every CPU is taken: let schedule put us back on the run queue (which also undoes the
    // mcpu++ above) and wait there like any runnable goroutine.
    gp.readyonstop.store(true, Relaxed);
    drop(s);
    m.counters.inc(Counter::SyscallExitSlow);
    gosched();
    // Back on a CPU, possibly on another M: `m` is stale from here on.
}
