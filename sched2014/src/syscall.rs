//! System calls: entersyscall leaves the P in Psyscall, still pointed at by the M, and
//! exitsyscall takes it back with one CAS unless sysmon retook it meanwhile (exitsyscallfast);
//! then it tries an idle P (exitsyscallfast_pidle), and only then switches to g0
//! (exitsyscall0) to queue the goroutine and park the M. entersyscallblock hands the P off at
//! once. The fast paths run on the goroutine's stack without a switch, as in the seed.
//!
//! At the end of a run, teardown moves every P it finds in Psyscall to Pgcstop, so the CAS of
//! the fast path fails and the goroutine goes through the slow path, which is where the run's
//! end is checked: a goroutine looping on syscalls reaches the scheduler and its M leaves.

use crate::g::{GRef, Why};
use crate::gstatus::{Grunnable, Grunning, Gscan, Gsyscall};
use crate::m::{acquirep, getm, handoffp, releasep, stopm, M};
use crate::p::{P, PGCSTOP, PRUNNING, PSYSCALL};
use crate::proc::{dropg, Next};
use schedcore::ptr::Ptr;
use schedcore::{trace_ev, Counter};
use std::sync::atomic::Ordering;

/// Port of entersyscall (reentersyscall, seed 001): the goroutine is about to block in the OS.
/// Its P stays attached to the M in Psyscall; sysmon retakes it if the call lasts.
///
/// The seed also raises m.locks and poisons stackguard0 here so that a stack check inside the
/// syscall throws; nothing of this port runs a check in between, so it does neither.
/// Unchanged since 2013 but for casgstatus.
#[inline(always)]
pub(crate) fn entersyscall() {
    let m = getm();
    let sched = m.sched();
    let gp = m.curg().expect("entersyscall: no current goroutine");
    // Leave the stack pointer for the collector (the seed's save; the slow paths below run
    // beneath it, and switch nowhere, so it stays right).
    gp.ctx.save_syscall_sp();
    gp.casgstatus(Grunning, Gsyscall);
    // For the trace: 1 unless a side duty below takes the sched lock.
    let mut lockfree = 1;
    if sched.sysmonwait.load(Ordering::SeqCst) != 0 {
        entersyscall_sysmon(&m);
        lockfree = 0;
    }
    let p = m.p();
    p.m.set(None);
    // A full barrier, paired with stoptheworld's: either it sees Psyscall and takes the P, or
    // this sees gcwaiting and gives it.
    p.status.store(PSYSCALL, Ordering::SeqCst);
    if sched.gcwaiting() {
        entersyscall_gcwait(&m, &p);
        lockfree = 0;
    }
    trace_ev!(
        m.trace,
        GoSysCall,
        gp.goid.load(Ordering::Relaxed),
        lockfree
    );
}

/// Port of entersyscall_sysmon (seed 001): sysmon sleeps because every P was idle; a P in a
/// syscall may need retaking, so wake it.
#[cold]
#[inline(never)]
fn entersyscall_sysmon(m: &M) {
    let sched = m.sched();
    sched.wake_sysmon(&mut sched.lock());
}

/// Port of entersyscall_gcwait (seed 001): stoptheworld is waiting; give it this P.
#[cold]
#[inline(never)]
fn entersyscall_gcwait(m: &M, p: &P) {
    let sched = m.sched();
    let mut s = sched.lock();
    if sched.stopwait.get(&s) > 0
        && p.status
            .compare_exchange(PSYSCALL, PGCSTOP, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    {
        sched.stopwait_done(&mut s);
    }
}

/// Panics when `gp`, the calling goroutine, is between entersyscall and exitsyscall: `what`
/// (go, ready, gosched, park) would run on a P that its M may no longer own, since sysmon or
/// a stoptheworld may have taken it. One load of the G's status, on those paths only.
#[inline(always)]
pub(crate) fn check_not_in_syscall(gp: GRef, what: &'static str) {
    if gp.readgstatus() & !Gscan == Gsyscall {
        called_in_syscall(what);
    }
}

#[cold]
#[inline(never)]
fn called_in_syscall(what: &'static str) -> ! {
    panic!("{what} called during a syscall: call exitsyscall first")
}

/// A goroutine panicked between entersyscall and exitsyscall: leave the syscall as its own
/// code would have, so that it exits as a running goroutine does (goexit0's casgstatus
/// expects Grunning, and would spin for ever on Gsyscall).
pub(crate) fn exitsyscall_after_panic() {
    let m = getm();
    if let Some(gp) = m.curg() {
        if gp.readgstatus() & !Gscan == Gsyscall {
            exitsyscall();
        }
    }
}

/// Port of entersyscallblock (seed 001): entersyscall for a call known to block: the P is
/// handed off at once instead of waiting for sysmon (entersyscallblock_handoff).
/// Unchanged since 2013 but for casgstatus.
#[inline(always)]
pub(crate) fn entersyscallblock() {
    let m = getm();
    let gp = m.curg().expect("entersyscallblock: no current goroutine");
    gp.ctx.save_syscall_sp();
    gp.casgstatus(Grunning, Gsyscall);
    entersyscallblock_handoff(&m, gp);
}

/// Port of entersyscallblock_handoff (seed 001).
/// Unchanged since 2013.
#[inline(never)]
fn entersyscallblock_handoff(m: &M, gp: GRef) {
    trace_ev!(m.trace, GoSysCall, gp.goid.load(Ordering::Relaxed), 0);
    trace_ev!(m.trace, GoSysBlock, gp.goid.load(Ordering::Relaxed), 0);
    let p = releasep(m);
    handoffp(m, p);
}

/// Port of exitsyscall (seed 001): back from the OS; get a P to run on again.
#[inline(always)]
pub(crate) fn exitsyscall() {
    let m = getm();
    let gp = m.curg().expect("exitsyscall: no current goroutine");
    if exitsyscallfast(&m) {
        // There is a P for us: run on.
        let p = m.p();
        P::bump(&p.syscalltick);
        // Spins while a collector scans this stack (Gscansyscall).
        gp.casgstatus(Gsyscall, Grunning);
        p.counters.inc(Counter::SyscallExitFast);
        trace_ev!(m.trace, GoSysExit, gp.goid.load(Ordering::Relaxed), 1);
        return;
    }
    exitsyscall_slow(m, gp);
}

/// exitsyscall when no P could be had: switch to g0 (exitsyscall0), which queues the
/// goroutine; it comes back here holding a P.
#[cold]
#[inline(never)]
fn exitsyscall_slow(m: Ptr<M>, gp: GRef) {
    m.counters.inc(Counter::SyscallExitSlow);
    // SAFETY: called by the running goroutine `gp`, on its own stack. `m` is not used after
    // the switch: the goroutine may come back on another M.
    unsafe { gp.ctx.suspend(Why::ExitSyscall) };
    let m = getm();
    P::bump(&m.p().syscalltick);
}

/// Port of exitsyscallfast (seed 001): take back the P left in Psyscall with one CAS, else any
/// idle P. The seed first gives up when freezetheworld has set stopwait; there is no
/// freezetheworld here.
#[inline(always)]
fn exitsyscallfast(m: &M) -> bool {
    if let Some(p) = m.p.get() {
        if p.status.load(Ordering::Relaxed) == PSYSCALL
            && p.status
                .compare_exchange(PSYSCALL, PRUNNING, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
        {
            p.m.set(Some(Ptr::from_ref(m)));
            return true;
        }
    }
    exitsyscallfast_cold(m)
}

/// The rest of exitsyscallfast: the P was retaken (or handed off, or teardown took it).
#[cold]
#[inline(never)]
fn exitsyscallfast_cold(m: &M) -> bool {
    if let Some(p) = m.p.take() {
        // The P it left in Psyscall was retaken, stopped for the world, or taken by teardown.
        trace_ev!(m.trace, ProcStop, 0, p.id as u64);
    }
    let sched = m.sched();
    // The run is over: go to the scheduler, which lets this M leave.
    if sched.end.exiting() {
        return false;
    }
    if sched.npidle() != 0 {
        return exitsyscallfast_pidle(m);
    }
    false
}

/// Port of exitsyscallfast_pidle (seed 001): an idle P, if there is one.
fn exitsyscallfast_pidle(m: &M) -> bool {
    let sched = m.sched();
    let mut s = sched.lock();
    let p = sched.pidleget(&mut s);
    if p.is_some() {
        sched.wake_sysmon(&mut s);
    }
    drop(s);
    match p {
        Some(p) => {
            acquirep(m, p);
            true
        }
        None => false,
    }
}

/// Port of exitsyscall0 (seed 001): exitsyscall's slow path on g0: run the goroutine here if
/// an idle P turned up, else queue it globally and park this M.
/// Unchanged since 2013 but for casgstatus and waking sysmon.
pub(crate) fn exitsyscall0(m: &M, gp: GRef) -> Next {
    trace_ev!(m.trace, GoSysExit, gp.goid.load(Ordering::Relaxed), 0);
    let sched = m.sched();
    gp.casgstatus(Gsyscall, Grunnable);
    dropg(m);
    let mut s = sched.lock();
    let p = if sched.end.exiting() {
        None
    } else {
        sched.pidleget(&mut s)
    };
    match p {
        // No P holds the goroutine's queue now, so the put is counted on this M.
        None => sched.globrunqput(&mut s, gp, &m.counters, &m.trace),
        Some(_) => sched.wake_sysmon(&mut s),
    }
    drop(s);
    if let Some(p) = p {
        acquirep(m, p);
        return Next::Execute(gp);
    }
    if m.lockedg.get().is_some() {
        // Wait until another M schedules gp, and so this M, again.
        return crate::lockosthread::stoplockedm(m).map(|()| gp).into();
    }
    match stopm(m) {
        Ok(()) => Next::Schedule,
        Err(_) => Next::Exit,
    }
}
