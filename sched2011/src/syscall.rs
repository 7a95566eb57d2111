//! entersyscall and exitsyscall of CL 4723042: the lock-free fast paths through the packed
//! word, and the schedlock slow paths. The code before the CL is in `before.rs`.

use crate::g::{GRUNNING, GSYSCALL};
use crate::m::{getm, M};
use crate::proc::{gosched, matchmg};
use crate::sched::Runtime;
use schedcore::Counter;
use std::sync::atomic::Ordering::Relaxed;

/// Port of entersyscall (seed 002).
#[inline(always)]
pub fn entersyscall() {
    let m = getm();
    let gp = m.curg();
    // Leave the stack pointer for the collector before anyone can see Gsyscall.
    gp.ctx.save_syscall_sp();
    gp.set_status(GSYSCALL);
    let rt = m.rt();
    // Fast path: when the locked path below would do nothing but mcpu--, do that in one CAS.
    if rt.word.entersyscall_fast() {
        m.counters.inc(Counter::SyscallEnterFast);
        return;
    }
    entersyscall_slow(rt, m);
}

/// The schedlock path of entersyscall.
#[cold]
#[inline(never)]
fn entersyscall_slow(rt: &Runtime, m: &M) {
    m.counters.inc(Counter::SyscallEnterSlow);
    let mut s = rt.schedlock();
    if rt.word.entersyscall_locked(|| matchmg(rt, &mut s, Some(m))) {
        rt.stopped.notewakeup();
    }
}

/// Port of exitsyscall (seed 002).
#[inline(always)]
pub fn exitsyscall() {
    let m = getm();
    let rt = m.rt();
    // Fast path: if mcpu++ keeps mcpu within mcpumax, there is a CPU for us; no lock.
    if rt.word.exitsyscall_fast() {
        m.curg().set_status(GRUNNING);
        m.counters.inc(Counter::SyscallExitFast);
        return;
    }
    exitsyscall_slow(rt, m);
}

/// The schedlock path of exitsyscall: every CPU is taken.
#[cold]
#[inline(never)]
fn exitsyscall_slow(rt: &Runtime, m: &M) {
    let gp = m.curg();
    let s = rt.schedlock();
    rt.word.exitsyscall_locked();
    // Let schedule put us back on the run queue (which also undoes the mcpu++ above) and
    // wait there like any runnable goroutine.
    gp.readyonstop.store(true, Relaxed);
    drop(s);
    m.counters.inc(Counter::SyscallExitSlow);
    gosched();
    // Back on a CPU, possibly on another M: `m` is stale from here on.
}
