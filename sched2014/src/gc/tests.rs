//! Tests of the collection's bookkeeping that need no running runtime.

use super::gcprepare;
use crate::g::{GRef, G};
use crate::gstatus::{Gdead, Gidle, Grunnable};
use crate::sched::Sched;
use schedcore::ptr::Ptr;
use schedcore::LockKind;
use std::sync::atomic::Ordering;

/// newproc1 starting a dead G again while gc's gcprepare runs with the world still going
/// (tracker issue 9): newproc1 clears the G's `gcworkdone`, then moves it from Gdead to
/// Grunnable. A gcprepare that runs whole between the two steps must not leave the G marked
/// done, or this collection never scans the goroutine.
#[test]
fn gcprepare_does_not_mark_a_reviving_g_done() {
    let sched = Sched::new(
        schedcore::StackArena::new(&schedcore::Config::default()).unwrap(),
        true,
        None,
        LockKind::Spin,
    );
    let g = G::new();
    let gp = GRef(Ptr::from_ref(&g));
    gp.casgstatus(Gidle, Gdead);
    sched.lock().allg.push(gp);
    // newproc1, first step: a collection running now must scan it.
    gp.gcworkdone.store(false, Ordering::Relaxed);
    gcprepare(&sched);
    // newproc1, second step: the G lives again.
    gp.casgstatus(Gdead, Grunnable);
    assert!(
        !gp.gcworkdone.load(Ordering::Relaxed),
        "a goroutine started during gcprepare is marked scanned: it escapes the collection"
    );
}
