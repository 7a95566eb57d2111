//! System calls: entersyscall leaves the P in Psyscall, still pointed at by the M, and
//! exitsyscall takes it back with one CAS unless sysmon retook it meanwhile; then it tries
//! an idle P, and only then switches to g0 (exitsyscall0) to queue the goroutine and park
//! the M. entersyscallblock hands the P off at once. The fast paths run on the goroutine's
//! stack without a switch, as in the seed.

use crate::g::{GRef, Why, GRUNNABLE, GRUNNING, GSYSCALL};
use crate::lockosthread::stoplockedm;
use crate::m::{acquirep, getm, handoffp, releasep, stopm, M};
use crate::p::{PGCSTOP, PRUNNING, PSYSCALL};
use crate::proc::Next;
use schedcore::{trace_ev, Counter};
use std::sync::atomic::Ordering;

/// Port of entersyscall (seed 003): the goroutine is about to block in the OS. Its P stays
/// attached to the M in Psyscall; sysmon retakes it if the call lasts.
#[inline(always)]
pub(crate) fn entersyscall() {
    let m = getm();
    let sched = m.sched();
    let gp = m.curg().expect("entersyscall: no current goroutine");
    // Leave the stack pointer for gc (the slow paths below run beneath it, and switch
    // nowhere, so it stays right).
    gp.ctx.save_syscall_sp();
    gp.status.store(GSYSCALL, Ordering::Relaxed);
    // For the trace: 1 unless a side duty below takes the sched lock.
    let mut lockfree = 1;
    if sched.sysmonwait.load(Ordering::SeqCst) != 0 {
        // sysmon sleeps because all P's were idle; a P in a syscall may need retaking.
        sched.wake_sysmon(&mut sched.lock());
        lockfree = 0;
    }
    let p = m.p();
    p.tick();
    p.m.set(None);
    // A full barrier, paired with stoptheworld's: either it sees Psyscall and takes the P,
    // or this sees gcwaiting and gives it.
    p.status.store(PSYSCALL, Ordering::SeqCst);
    if sched.gcwaiting() {
        let mut s = sched.lock();
        if sched.stopwait.get(&s) > 0
            && p.status
                .compare_exchange(PSYSCALL, PGCSTOP, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            sched.stopwait_done(&mut s);
        }
        drop(s);
        lockfree = 0;
    }
    trace_ev!(
        m.trace,
        GoSysCall,
        gp.goid.load(Ordering::Relaxed),
        lockfree
    );
}

/// Panics when `gp`, the calling goroutine, is between entersyscall and exitsyscall: `what`
/// (go, ready, gosched, park) would run on a P that its M may no longer own, since sysmon or
/// a stoptheworld may have taken it. One load of the G's status, on those paths only.
#[inline(always)]
pub(crate) fn check_not_in_syscall(gp: GRef, what: &'static str) {
    if gp.status() == GSYSCALL {
        called_in_syscall(what);
    }
}

#[cold]
#[inline(never)]
fn called_in_syscall(what: &'static str) -> ! {
    panic!("{what} called during a syscall: call exitsyscall first")
}

/// A goroutine panicked between entersyscall and exitsyscall: leave the syscall as its own
/// code would have, so that it exits as a running goroutine does (its P back in Prunning).
pub(crate) fn exitsyscall_after_panic() {
    let m = getm();
    if let Some(gp) = m.curg() {
        if gp.status() == GSYSCALL {
            exitsyscall();
        }
    }
}

/// Port of entersyscallblock (seed 003): entersyscall for a call known to block: the P is
/// handed off at once instead of waiting for sysmon.
#[inline(always)]
pub(crate) fn entersyscallblock() {
    let m = getm();
    let gp = m.curg().expect("entersyscallblock: no current goroutine");
    gp.ctx.save_syscall_sp();
    gp.status.store(GSYSCALL, Ordering::Relaxed);
    entersyscallblock_handoff(&m, gp);
}

/// Port of entersyscallblock's hand-off of the P (seed 003).
#[inline(never)]
fn entersyscallblock_handoff(m: &M, gp: GRef) {
    trace_ev!(m.trace, GoSysCall, gp.goid.load(Ordering::Relaxed), 0);
    trace_ev!(m.trace, GoSysBlock, gp.goid.load(Ordering::Relaxed), 0);
    let p = releasep(m);
    handoffp(m, p);
}

/// Port of exitsyscall (seed 003): back from the OS; get a P to run on again.
#[inline(always)]
pub(crate) fn exitsyscall() {
    let m = getm();
    let gp = m.curg().expect("exitsyscall: no current goroutine");
    // Try to take back the P we left in Psyscall. (At the end of a run teardown moves it to
    // Pgcstop, so that this fails and exitsyscall_cold sees the end.)
    if let Some(p) = m.p.get() {
        if p.status.load(Ordering::Relaxed) == PSYSCALL
            && p.status
                .compare_exchange(PSYSCALL, PRUNNING, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
        {
            p.m.set(Some(m));
            p.tick();
            gp.status.store(GRUNNING, Ordering::Relaxed);
            m.counters.inc(Counter::SyscallExitFast);
            trace_ev!(m.trace, GoSysExit, gp.goid.load(Ordering::Relaxed), 1);
            return;
        }
    }
    exitsyscall_cold(m, gp);
}

/// exitsyscall when the P was retaken (or handed off): try any idle P, else switch to g0.
#[cold]
#[inline(never)]
fn exitsyscall_cold(m: schedcore::ptr::Ptr<M>, gp: GRef) {
    let sched = m.sched();
    if sched.end.exiting() {
        // The run is over (Go would have exited the process). A goroutine looping on
        // syscalls never reaches schedule, so stop it here: its M leaves, and teardown
        // abandons the goroutine with the others.
        // SAFETY: called by the running goroutine `gp`, on its own stack.
        unsafe { gp.ctx.suspend(Why::Exiting) };
        unreachable!("a goroutine abandoned at exit was resumed");
    }
    if let Some(p) = m.p.take() {
        // The P it left in Psyscall was retaken or stopped for the world.
        trace_ev!(m.trace, ProcStop, 0, p.id as u64);
    }
    if sched.npidle() != 0 {
        let p = sched.pidleget(&mut sched.lock());
        if let Some(p) = p {
            acquirep(&m, p);
            // The seed leaves the status at Gsyscall on this path; Go 1.2 sets it, as here.
            gp.status.store(GRUNNING, Ordering::Relaxed);
            m.counters.inc(Counter::SyscallExitFast);
            trace_ev!(m.trace, GoSysExit, gp.goid.load(Ordering::Relaxed), 1);
            return;
        }
    }
    m.counters.inc(Counter::SyscallExitSlow);
    // SAFETY: called by the running goroutine `gp`, on its own stack. `m` is not used
    // after the switch: the goroutine may come back on another M.
    unsafe { gp.ctx.suspend(Why::ExitSyscall) };
}

/// The goroutine stopped in exitsyscall because the run is over: the M leaves its loop.
pub(crate) fn exitsyscall_exiting(m: &M, gp: GRef) -> Next {
    trace_ev!(m.trace, GoStop, gp.goid.load(Ordering::Relaxed), 0);
    gp.set_status(GRUNNABLE);
    gp.m.set(None);
    m.curg.set(None);
    Next::Exit
}

/// Port of exitsyscall0 (seed 003): exitsyscall's slow path on g0: run the goroutine here
/// if an idle P turned up, else queue it globally and park this M.
pub(crate) fn exitsyscall0(m: &M, gp: GRef) -> Next {
    trace_ev!(m.trace, GoSysExit, gp.goid.load(Ordering::Relaxed), 0);
    let sched = m.sched();
    gp.set_status(GRUNNABLE);
    gp.m.set(None);
    m.curg.set(None);
    let mut s = sched.lock();
    let p = sched.pidleget(&mut s);
    if p.is_none() {
        sched.globrunqput(&mut s, gp, &m.counters, &m.trace);
    }
    drop(s);
    if let Some(p) = p {
        acquirep(m, p);
        return Next::Execute(gp);
    }
    if m.lockedg.is_some() {
        // Wait until another M schedules gp, and so this M, again.
        return stoplockedm(m).map(|()| gp).into();
    }
    match stopm(m) {
        Ok(()) => Next::Schedule,
        Err(_) => Next::Exit,
    }
}
