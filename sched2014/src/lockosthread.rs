//! Goroutines locked to their thread (LockOSThread): while the goroutine is not running, its
//! M sleeps (stoplockedm) instead of running others, and whoever schedules the goroutine hands
//! its own P to that M (startlockedm).

use crate::g::GRef;
use crate::gstatus::{gstatus_name, Grunnable, Gscan};
use crate::m::{acquirep, getm, handoffp, releasep, stopm, Exiting, LOCK_EXTERNAL, M};
use schedcore::ptr::Ptr;
use schedcore::trace_ev;
use std::sync::atomic::Ordering;

/// Port of runtime·LockOSThread (seed 001).
/// Unchanged since 2013.
pub(crate) fn lock_os_thread() {
    let m = getm();
    let gp = m.curg().expect("LockOSThread: no current goroutine");
    // Only this M writes its `locked` (the seed's plain `m->locked |= LockExternal`).
    m.locked.store(
        m.locked.load(Ordering::Relaxed) | LOCK_EXTERNAL,
        Ordering::Relaxed,
    );
    m.lockedg.set(Some(gp.0));
    gp.lockedm.set(Some(m));
}

/// Port of runtime·UnlockOSThread (seed 001).
/// Unchanged since 2013.
pub(crate) fn unlock_os_thread() {
    let m = getm();
    let gp = m.curg().expect("UnlockOSThread: no current goroutine");
    m.locked.store(
        m.locked.load(Ordering::Relaxed) & !LOCK_EXTERNAL,
        Ordering::Relaxed,
    );
    if m.locked.load(Ordering::Relaxed) != 0 {
        return;
    }
    m.lockedg.set(None);
    gp.lockedm.set(None);
}

/// Port of stoplockedm (seed 001): this M's locked goroutine cannot run now; give the P away
/// and sleep until someone schedules the goroutine (startlockedm). Returns with a P.
/// Unchanged since 2013 but for the Gscan-aware status check.
pub(crate) fn stoplockedm(m: &M) -> Result<(), Exiting> {
    let me = Ptr::from_ref(m);
    let lockedg = m.lockedg.get().expect("stoplockedm: inconsistent locking");
    if lockedg.lockedm.get() != Some(me) {
        panic!("stoplockedm: inconsistent locking");
    }
    if m.p.get().is_some() {
        // Let another M run this P.
        let p = releasep(m);
        handoffp(m, p);
    }
    let sched = m.sched();
    {
        // incidlelocked(1), and the bookkeeping teardown needs to wake this M.
        let mut s = sched.lock();
        if sched.end.exiting() {
            return Err(Exiting);
        }
        sched.nmidlelocked.add(&mut s, 1);
        m.lockwait.store(true, Ordering::Relaxed);
        sched.checkdead(&s);
    }
    trace_ev!(m.trace, MSleep, 0, 1);
    m.park.notesleep();
    m.park.noteclear();
    trace_ev!(m.trace, MWake, 0, 1);
    {
        let _s = sched.lock();
        m.lockwait.store(false, Ordering::Relaxed);
        m.lockwake.store(false, Ordering::Relaxed);
    }
    if sched.end.exiting() {
        return Err(Exiting);
    }
    let status = lockedg.readgstatus();
    if status & !Gscan != Grunnable {
        panic!("stoplockedm: not runnable: g is {}", gstatus_name(status));
    }
    let p = m.nextp.take().expect("stoplockedm: woken without a P");
    acquirep(m, p);
    Ok(())
}

/// Port of startlockedm (seed 001): `gp` is locked to another M; hand it this M's P, wake it,
/// and park this M.
/// Unchanged since 2013.
pub(crate) fn startlockedm(m: &M, gp: GRef) -> Result<(), Exiting> {
    let mp = gp.lockedm.get().expect("startlockedm: not locked");
    if mp == Ptr::from_ref(m) {
        panic!("startlockedm: locked to me");
    }
    if mp.nextp.get().is_some() {
        panic!("startlockedm: m has p");
    }
    let sched = m.sched();
    {
        // incidlelocked(-1), and claim the wake-up so that teardown does not repeat it. Once the
        // run is over, teardown has claimed it or will (it sets `exiting` before it looks, and
        // looks under this lock): leave the M to teardown and keep the P, which this M's exit
        // hands on (a second wake-up would panic, and a P handed to an M that has left is
        // lost to a stoptheworld in progress).
        let mut s = sched.lock();
        if sched.end.exiting() {
            return Err(Exiting);
        }
        sched.nmidlelocked.add(&mut s, -1);
        mp.lockwake.store(true, Ordering::Relaxed);
    }
    let p = releasep(m);
    mp.nextp.set(Some(p));
    trace_ev!(
        m.trace,
        MHandoff,
        gp.goid.load(Ordering::Relaxed),
        mp.id as u64
    );
    mp.park.notewakeup();
    stopm(m)
}
