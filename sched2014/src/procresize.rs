//! procresize: switching the number of P's with the world stopped, keeping every runnable
//! goroutine and their order.

use crate::g::G;
use crate::gfree::gfpurge;
use crate::m::{acquirep, M};
use crate::p::{P, PDEAD, PGCSTOP, PIDLE};
use crate::runq::{Overflow, RUNQ_HALF};
use crate::sched::{Synced, MAX_GOMAXPROCS};
use schedcore::ptr::Ptr;
use schedcore::trace::Ev;
use schedcore::trace_ev;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;

/// Port of procresize (seed 001): switches to `new` P's with the world stopped and sched
/// locked. Creates missing P's; moves every queued goroutine to the global queue in FIFO
/// order (go.dev/issue/7126: frequent collections must not reorder the queues) and deals them
/// back out, at most half a ring per P; retires the P's beyond `new` (they stay allocated: an
/// M in a syscall may still point at one); gives P0 to the caller and makes the rest idle.
pub(crate) fn procresize(m: &M, s: &mut Synced, new: i32) {
    let sched = m.sched();
    let old = sched.gomaxprocs();
    if !(0..=MAX_GOMAXPROCS as i32).contains(&old) || new <= 0 || new > MAX_GOMAXPROCS as i32 {
        panic!("procresize: invalid arg (old {old}, new {new})");
    }
    let (old, new) = (old as usize, new as usize);
    for (i, slot) in sched.allp.iter().enumerate().take(new) {
        if slot.get().is_none() {
            let p = Ptr::from_box(Box::new(P::new(i)));
            p.set_status(PGCSTOP);
            slot.set(Some(p));
        }
    }
    // Collect every runnable goroutine on the global queue, keeping FIFO order: pop each ring
    // from its tail onto the head of the global queue, one G per P per round, so the heads of
    // all rings end up first.
    // The trace gets one event for each direction, not one per goroutine.
    let mut empty = false;
    let mut moved = 0u64;
    while !empty {
        empty = true;
        for i in 0..old {
            let p = sched.allp(i);
            if let Some(gp) = p.runq.runqpoptail_stw() {
                empty = false;
                sched.runq.globrunqputhead(gp);
                moved += 1;
            }
        }
    }
    if m.trace.on() && moved > 0 {
        m.trace.ev(Ev::GlobPut, 0, moved);
    }
    // Fill the local rings, at most half a ring each. Start at 1: the caller already runs a
    // goroutine and takes allp[0] below, so a spare G should go to allp[1].
    let mut i = 1;
    while i < new * RUNQ_HALF {
        let Some(gp) = sched.runq.globrunqpop() else {
            break;
        };
        sched.allp(i % new).runq.runqput(gp, &StoppedWorld);
        i += 1;
    }
    if m.trace.on() && i > 1 {
        m.trace.ev(Ev::GlobGet, 0, i as u64 - 1);
    }
    // Retire the P's beyond `new`.
    for i in new..old {
        let p = sched.allp(i);
        gfpurge(sched, &p);
        p.set_status(PDEAD);
    }
    if let Some(p) = m.p.take() {
        p.m.set(None);
        trace_ev!(m.trace, ProcStop, 0, p.id as u64);
    }
    let p = sched.allp(0);
    p.m.set(None);
    p.set_status(PIDLE);
    acquirep(m, p);
    for i in (1..new).rev() {
        let p = sched.allp(i);
        p.set_status(PIDLE);
        sched.pidleput(s, p);
    }
    sched.gomaxprocs.store(new as i32, Ordering::SeqCst);
}

/// procresize deals out at most half a ring per P into rings it has just emptied, so a put
/// never overflows; an overflow would need the sched lock procresize already holds.
struct StoppedWorld;

impl Overflow<G> for StoppedWorld {
    fn globrunqputbatch(&self, _ghead: NonNull<G>, _gtail: NonNull<G>, _n: usize) {
        panic!("procresize: local runq overflow");
    }
}
