//! Stopping and starting the world (stoptheworld, gcstopm, starttheworld), changing
//! GOMAXPROCS (gomaxprocsfunc, procresize), and the collection this lab runs while the world
//! is stopped: a scan of every goroutine stack.

use crate::g::{GRef, Why, GDEAD};
use crate::gfree::gfpurge;
use crate::m::{acquirep, getm, newm, releasep, stopm, Exiting, StartFn, M};
use crate::p::{P, PDEAD, PGCSTOP, PIDLE, PSYSCALL};
use crate::sched::{Synced, MAX_GOMAXPROCS};
use schedcore::context::current_sp;
use schedcore::ptr::Ptr;
use schedcore::scan::{ScanResult, StackSet};
use schedcore::trace::{Ev, TraceBuf};
use schedcore::{trace_ev, Counter};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Port of gcstopm (seed 003): stoptheworld is waiting; stop this M's P and park the M until
/// the world starts again.
pub(crate) fn gcstopm(m: &M) -> Result<(), Exiting> {
    let sched = m.sched();
    if !sched.gcwaiting() {
        panic!("gcstopm: not waiting for gc");
    }
    m.unspin();
    let p = releasep(m);
    {
        let mut s = sched.lock();
        p.set_status(PGCSTOP);
        sched.stopwait_done(&mut s);
    }
    stopm(m)
}

/// How often a stoptheworld waiting for P's looks whether the run has ended (the seed sleeps
/// on stopnote without a timeout: Go exits the process instead).
const STOPWAIT_EXIT_CHECK: Duration = Duration::from_millis(1);

/// Port of stoptheworld (seed 003): stops the caller's P, takes every P in a syscall and
/// every idle P, and waits for the running ones to stop at their next scheduling point (a
/// goroutine that never yields holds this up forever: there is no preemption in 2013).
///
/// Returns `Exiting`, with the world left half-stopped, when the run ends meanwhile: an M
/// that leaves at the end may take a P with it, and nothing will start the world again
/// (2014's stoptheworld gives up the same way).
pub(crate) fn stoptheworld(m: &M) -> Result<(), Exiting> {
    trace_ev!(m.trace, StwStart, 0, 0);
    let sched = m.sched();
    let mut s = sched.lock();
    if sched.end.exiting() {
        return Err(Exiting);
    }
    let procs = sched.gomaxprocs();
    sched.stopwait.set(&mut s, procs);
    sched.gcwaiting.store(1, Ordering::SeqCst);
    // Stop the current P.
    m.p().set_status(PGCSTOP);
    sched.stopwait.add(&mut s, -1);
    // Take every P in a syscall.
    for i in 0..procs as usize {
        let p = sched.allp(i);
        if p.status() == PSYSCALL
            && p.status
                .compare_exchange(PSYSCALL, PGCSTOP, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
        {
            sched.stopwait.add(&mut s, -1);
        }
    }
    // Stop idle P's.
    while let Some(p) = sched.pidleget(&mut s) {
        p.set_status(PGCSTOP);
        sched.stopwait.add(&mut s, -1);
    }
    let wait = sched.stopwait.get(&s) > 0;
    drop(s);
    // Wait for the running P's to stop themselves.
    if wait {
        loop {
            if sched.stopnote.notetsleep(STOPWAIT_EXIT_CHECK) {
                sched.stopnote.noteclear();
                break;
            }
            if sched.end.exiting() {
                return Err(Exiting);
            }
        }
    }
    let s = sched.lock();
    let stopwait = sched.stopwait.get(&s);
    if stopwait != 0 {
        panic!("stoptheworld: not stopped (stopwait {stopwait})");
    }
    for i in 0..procs as usize {
        if sched.allp(i).status() != PGCSTOP {
            panic!("stoptheworld: not stopped (P{i})");
        }
    }
    Ok(())
}

/// Port of starttheworld (seed 003): applies a pending GOMAXPROCS change (procresize), then
/// starts an M for every P that has work, and wakes sysmon.
pub(crate) fn starttheworld(m: &M) {
    let sched = m.sched();
    let mut s = sched.lock();
    let n = if s.newprocs != 0 {
        std::mem::take(&mut s.newprocs)
    } else {
        sched.gomaxprocs()
    };
    procresize(m, &mut s, n);
    // A plain store in the seed (only setting it is atomic).
    sched.gcwaiting.store(0, Ordering::Release);
    // P's without an M to run them, linked through P::link.
    let mut p1: Option<Ptr<P>> = None;
    while let Some(p) = sched.pidleget(&mut s) {
        // procresize puts the P's with work first: the first without work ends the search.
        if p.runq.is_empty() {
            sched.pidleput(&mut s, p);
            break;
        }
        match sched.mget(&mut s) {
            None => {
                p.link.set(p1);
                p1 = Some(p);
            }
            Some(mp) => {
                if mp.nextp.get().is_some() {
                    panic!("starttheworld: inconsistent mp->nextp");
                }
                mp.nextp.set(Some(p));
                mp.park.notewakeup();
            }
        }
    }
    sched.wake_sysmon(&mut s);
    drop(s);
    while let Some(p) = p1 {
        p1 = p.link.take();
        newm(sched, StartFn::Schedule, Some(p));
    }
    trace_ev!(m.trace, StwDone, 0, 0);
}

/// Port of procresize (seed 003): switches to `new` P's with the world stopped and sched
/// locked. Creates missing P's, spreads every queued goroutine evenly, retires the P's
/// beyond `new` (they stay allocated: an M in a syscall may still point at one), gives P0 to
/// the caller and makes the others idle.
pub(crate) fn procresize(m: &M, s: &mut Synced, new: i32) {
    let sched = m.sched();
    let old = sched.gomaxprocs();
    if !(0..=MAX_GOMAXPROCS as i32).contains(&old) || new <= 0 || new > MAX_GOMAXPROCS as i32 {
        panic!("procresize: invalid arg (old {old}, new {new})");
    }
    let (old, new) = (old as usize, new as usize);
    for (i, slot) in sched.allp.iter().enumerate().take(new) {
        if slot.get().is_none() {
            slot.set(Some(Ptr::from_box(Box::new(P::new(i, sched.lock_kind)))));
        }
    }
    // Redistribute the runnable goroutines evenly. The trace gets one event for each
    // direction, not one per goroutine.
    let quiet = TraceBuf::off();
    let mut moved = 0u64;
    for i in 0..old {
        let p = sched.allp(i);
        while let Some(gp) = p.runq.runqget() {
            sched.globrunqput(s, gp, &m.counters, &quiet);
            moved += 1;
        }
    }
    if m.trace.on() && moved > 0 {
        m.trace.ev(Ev::GlobPut, 0, moved);
    }
    // Start at 1: the caller takes allp[0] below and already runs a goroutine.
    let mut i = 1;
    while let Some(gp) = sched.globrunqdrain(s) {
        sched.allp(i % new).runqput(gp);
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

/// Port of gomaxprocsfunc (seed 003): runtime.GOMAXPROCS(n).
pub(crate) fn gomaxprocsfunc(n: i32) -> i32 {
    let m = getm();
    let sched = m.sched();
    let n = n.min(MAX_GOMAXPROCS as i32);
    let ret = {
        let _s = sched.lock();
        sched.gomaxprocs()
    };
    if n <= 0 || n == ret {
        return ret;
    }
    sched.worldsema.semacquire();
    // semacquire may have parked us: read the M again.
    let m = getm();
    let t0 = Instant::now();
    if stoptheworld(&m).is_err() {
        exit_for_good(&m);
    }
    sched.lock().newprocs = n;
    sched.worldsema.semrelease();
    starttheworld(&m);
    record_pause(&m, t0);
    ret
}

/// The lab's collection (in place of Go's mark and sweep): takes worldsema, stops the
/// world, scans the live part of every goroutine stack, starts the world.
pub(crate) fn gc() {
    let m = getm();
    let sched = m.sched();
    sched.worldsema.semacquire();
    let m = getm();
    let t0 = Instant::now();
    if stoptheworld(&m).is_err() {
        exit_for_good(&m);
    }
    let found = scan_stacks(&m);
    m.counters.inc(Counter::Gcs);
    m.counters.add(Counter::StackWordsScanned, found.words);
    m.counters.add(Counter::StackPointersFound, found.pointers);
    sched.worldsema.semrelease();
    starttheworld(&m);
    record_pause(&m, t0);
}

/// The run ended while this goroutine was stopping the world: nothing will start it again, so
/// the goroutine stays suspended for good and its M leaves (teardown frees it).
fn exit_for_good(m: &M) -> ! {
    let gp = m.curg().expect("exit_for_good: no current goroutine");
    // SAFETY: called by the running goroutine `gp`, on its own stack; it is never resumed.
    unsafe { gp.ctx.suspend(Why::Exiting) };
    unreachable!("a goroutine suspended at the end of the run was resumed");
}

fn record_pause(m: &M, t0: Instant) {
    let ns = t0.elapsed().as_nanos().clamp(1, u64::MAX as u128) as u64;
    m.counters.inc(Counter::StwPauses);
    let _ = m.sched().pauses.lock().record(ns);
}

/// Scans every goroutine's stack with the world stopped: the caller's from its current
/// stack pointer, a switched-out one's from the stack pointer saved at its switch, and one in
/// a syscall from the frame pointer of the function that called entersyscall (see
/// `GoContext::save_syscall_sp`), so that only the frames that stay still during the call are
/// read.
fn scan_stacks(m: &M) -> ScanResult {
    let sched = m.sched();
    let me: Option<GRef> = m.curg.get().map(GRef);
    let gs: Vec<GRef> = sched.lock().allg.clone();
    trace_ev!(
        m.trace,
        GcScanStart,
        0,
        gs.iter().filter(|gp| gp.status() != GDEAD).count() as u64
    );
    let set = StackSet::new(gs.iter().map(|gp| gp.ctx.bounds()).collect());
    let mut found = ScanResult::default();
    for gp in gs {
        let range = if Some(gp) == me {
            Some((current_sp(), gp.ctx.bounds().1))
        } else if gp.status() == GDEAD {
            None
        } else {
            gp.ctx.live_stack()
        };
        if let Some((lo, hi)) = range {
            // SAFETY: G's and their stacks are never freed before teardown, so the range is
            // mapped and readable. Goroutines other than the caller are switched out, except
            // those in a syscall, which keep running while we read. Their range starts at the
            // frame of the function that called entersyscall: the syscall's code writes only
            // below it, and the frames above stay still until that function returns, which it
            // may only do after exitsyscall, and exitsyscall finds no P while the world is
            // stopped (a panic unwinding out of the call is the exception: its destructors
            // may write those frames). Built without frame pointers the range starts at the
            // stack pointer instead, and that function's own locals are read while they may
            // change. The scan reads whole words with volatile loads, so a word that changes
            // under it is only a miscounted word.
            found += unsafe { set.scan(lo, hi) };
        }
    }
    trace_ev!(m.trace, GcScanDone, 0, found.words);
    found
}
