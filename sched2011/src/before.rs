//! The functions CL 4723042 changed, as they were before it: the "2011-lock" scheduler.
//!
//! Before the CL, mcpu, mcpumax and waitstop were plain fields of `Sched` (here in
//! [`Synced`]), read and written only under the schedlock, so entersyscall and exitsyscall
//! took the lock every time. Everything the CL left alone (schedule's status switch,
//! readylocked, newproc, mput/mget, gfree, lockedm, the collector's scan) is shared with the
//! 2011 scheduler and lives in the other files; `Runtime::before` picks these functions at
//! each place the two differ. Read each one beside its namesake to see the CL's diff.

use crate::g::{GPtr, GRUNNING, GSYSCALL};
use crate::m::{getm, MPtr, M};
use crate::proc::{gosched, havenextg_sleep, newm};
use crate::sched::{mget, mput, Runtime, SchedGuard, Synced};
use crate::word::MAXGOMAXPROCS;
use schedcore::trace::{Ev, TraceBuf};
use schedcore::{trace_ev, Counter, RunError};
use std::ptr::null_mut;
use std::sync::atomic::Ordering::Relaxed;

/// Port of gput before CL 4723042 (seed 002, - lines).
pub fn gput(s: &mut Synced, tr: &TraceBuf, gp: GPtr) {
    // A wired goroutine goes straight to its M while a CPU is free.
    if s.mcpu < s.mcpumax {
        if let Some(m) = gp.lockedm() {
            mnextg(s, tr, MPtr::from_ref(m), gp);
            return;
        }
    }
    trace_ev!(tr, GlobPut, gp.goid.load(Relaxed), 1);
    s.runq.push_back(gp);
    s.counters.inc(Counter::GlobrunqPut);
    s.gwait += 1;
    s.counters.max(Counter::RunqMax, s.gwait as u64);
}

/// Port of gget before CL 4723042 (seed 002, - lines).
pub fn gget(s: &mut Synced, tr: &TraceBuf) -> Option<GPtr> {
    let gp = s.runq.pop_front()?;
    trace_ev!(tr, GlobGet, gp.goid.load(Relaxed), 1);
    s.counters.inc(Counter::GlobrunqGet);
    s.gwait -= 1;
    Some(gp)
}

/// Port of mnextg before CL 4723042 (seed 002, - lines): it counted the CPU itself.
pub fn mnextg(s: &mut Synced, tr: &TraceBuf, m: MPtr, gp: GPtr) {
    s.mcpu += 1;
    crate::sched::mnextg(s, tr, m, gp);
}

/// Port of nextgandunlock before CL 4723042 (seed 002, - lines).
pub fn nextgandunlock(rt: &Runtime, mut s: SchedGuard<'_>, m: &M) -> Option<GPtr> {
    if s.mcpu < 0 {
        panic!("negative runtime·sched.mcpu");
    }
    // mnextg took care of the mcpu++.
    if let Some(gp) = m.take_nextg() {
        return Some(gp);
    }
    if !m.lockedg.load(Relaxed).is_null() {
        if s.gwait != 0 {
            matchmg(rt, &mut s, Some(m));
            // Go 1.0's `goto top`, as in the 2011 nextgandunlock.
            if let Some(gp) = m.take_nextg() {
                return Some(gp);
            }
        }
    } else {
        while s.mcpu < s.mcpumax {
            let Some(gp) = gget(&mut s, &m.trace) else {
                break;
            };
            if let Some(lm) = gp.lockedm() {
                mnextg(&mut s, &m.trace, MPtr::from_ref(lm), gp);
                continue;
            }
            s.grunning += 1;
            s.mcpu += 1; // this M will run gp
            return Some(gp);
        }
        mput(&mut s, m);
    }
    if s.grunning == 0 {
        drop(s);
        rt.fail(RunError::Deadlock);
        return None;
    }
    m.nextg.store(null_mut(), Relaxed);
    m.waitnextg.store(true, Relaxed);
    m.havenextg.noteclear();
    if s.waitstop && s.mcpu <= s.mcpumax {
        s.waitstop = false;
        rt.stopped.notewakeup();
    }
    s.counters.inc(Counter::MSleeps);
    drop(s);
    havenextg_sleep(rt, m)
}

/// Port of matchmg before CL 4723042 (seed 002, - lines).
pub fn matchmg(rt: &Runtime, s: &mut Synced, cur: Option<&M>) {
    if cur.is_some_and(|m| m.gcing.load(Relaxed)) || rt.end.exiting() {
        return;
    }
    let tr = rt.trace_of(cur);
    while s.mcpu < s.mcpumax {
        let Some(gp) = gget(s, tr) else { break };
        let mp = match mget(s, gp) {
            Some(mp) => mp,
            None => newm(rt, s),
        };
        mnextg(s, tr, mp, gp);
    }
}

/// Port of schedule's `mcpu--` before CL 4723042 (seed 002, - lines); the rest of schedule
/// did not change and is shared.
pub fn schedule_mcpu(s: &mut Synced) {
    s.mcpu -= 1;
    if s.mcpu < 0 {
        panic!("runtime·sched.mcpu < 0 in scheduler");
    }
}

/// Port of entersyscall before CL 4723042 (seed 002, - lines).
#[inline(always)]
pub fn entersyscall() {
    let m = getm();
    let gp = m.curg();
    m.counters.inc(Counter::SyscallEnterSlow);
    let rt = m.rt();
    let mut s = rt.schedlock();
    gp.set_status(GSYSCALL);
    s.mcpu -= 1;
    trace_ev!(m.trace, GoSysCall, gp.goid.load(Relaxed), 0);
    // Whether the CPU given up goes to someone waiting for it (2011's GoSysBlock).
    let mut handed = false;
    if s.gwait != 0 {
        matchmg(rt, &mut s, Some(m));
        handed = true;
    }
    if s.waitstop && s.mcpu <= s.mcpumax {
        s.waitstop = false;
        rt.stopped.notewakeup();
        handed = true;
    }
    if m.trace.on() && handed {
        m.trace.ev(Ev::GoSysBlock, gp.goid.load(Relaxed), 0);
    }
    // Leave the stack pointer for the collector, and check it, still under the schedlock
    // (the old code's gosave, its gcsp/gcstack/gcguard stores and range check all came
    // before schedunlock, so that a collection never saw Gsyscall with a stale stack).
    gp.ctx.save_syscall_sp();
    if gp.ctx.live_stack().is_none() {
        crate::syscall::entersyscall_inconsistent();
    }
    drop(s);
}

/// Port of exitsyscall before CL 4723042 (seed 002, - lines).
#[inline(always)]
pub fn exitsyscall() {
    let m = getm();
    let gp = m.curg();
    let rt = m.rt();
    let mut s = rt.schedlock();
    s.mcpu += 1;
    // There is room for this M: the fast path of its day, under the lock.
    if s.mcpu <= s.mcpumax {
        gp.set_status(GRUNNING);
        drop(s);
        m.counters.inc(Counter::SyscallExitFast);
        trace_ev!(m.trace, GoSysExit, gp.goid.load(Relaxed), 1);
        return;
    }
    // Every CPU is taken: schedule queues us (and undoes the mcpu++).
    gp.readyonstop.store(true, Relaxed);
    drop(s);
    m.counters.inc(Counter::SyscallExitSlow);
    gosched();
}

/// Port of stoptheworld before CL 4723042 (seed 002, - lines). Returns false, with the world
/// running, if the run ended while it waited.
pub fn stoptheworld(rt: &Runtime) -> bool {
    let mut s = rt.schedlock();
    rt.gcwaiting.store(true, Relaxed);
    s.mcpumax = rt.mcpumax_allowed(1) as i32;
    while s.mcpu > 1 && !rt.end.exiting() {
        // Only one stopper at a time (worldsema), so the note is ours.
        rt.stopped.noteclear();
        s.waitstop = true;
        drop(s);
        rt.stopped.notesleep();
        s = rt.schedlock();
    }
    rt.stoptheworld_done()
}

/// Port of starttheworld before CL 4723042 (seed 002, - lines).
pub fn starttheworld(rt: &Runtime, m: &M) {
    let mut s = rt.schedlock();
    rt.gcwaiting.store(false, Relaxed);
    s.mcpumax = rt.mcpumax_allowed(s.gomaxprocs) as i32;
    matchmg(rt, &mut s, Some(m));
}

/// Port of gomaxprocsfunc before CL 4723042 (seed 002, - lines).
pub fn gomaxprocsfunc(n: i32) -> i32 {
    let m = getm();
    let rt = m.rt();
    let mut s = rt.schedlock();
    let ret = s.gomaxprocs as i32;
    // The cap came with the CL's bit fields; the lab keeps one limit for both variants.
    let n = if n <= 0 {
        ret as u32
    } else {
        (n as u32).min(MAXGOMAXPROCS)
    };
    s.gomaxprocs = n;
    if rt.gcwaiting.load(Relaxed) {
        assert!(
            s.mcpumax == 1 || rt.end.exiting(),
            "invalid runtime·sched.mcpumax during gc"
        );
        return ret;
    }
    s.mcpumax = rt.mcpumax_allowed(n) as i32;
    // Fewer CPUs than in use: give ours up until the count has come down.
    if s.mcpu > s.mcpumax {
        drop(s);
        gosched();
        return ret;
    }
    matchmg(rt, &mut s, Some(m));
    ret
}
