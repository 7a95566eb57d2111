//! Stopping and starting the world (stoptheworld with preemptall and its 100 us re-preempt
//! loop, gcstopm, starttheworld), GOMAXPROCS changes, and the collection this lab runs: a
//! scan of every goroutine stack, done the 2014 way, through the Gscan bit.
//!
//! # How `gc()` scans
//!
//! 1. Every G's `gcworkdone` is cleared and the set of stacks the pointer test uses is taken.
//!    (Dead G's are marked done only in step 4, with the world stopped: see gcprepare.)
//! 2. The goroutine running on each other P is handed to `stopg`: a running G is claimed for
//!    an instant (Grunning to Gscanrunning) and marked `preemptscan`, with a preemption
//!    request, so that at its next preempt point it scans its own stack (a "self scan"). A G
//!    that is not running any more is claimed with the Gscan bit and scanned on the spot.
//! 3. stoptheworld: preemptall, then every 100 us preemptall again until every P has stopped.
//!    A G marked in step 2 scans itself on its way to the scheduler.
//! 4. quiesce: the collecting goroutine claims itself (Gscanenqueue) and switches to g0, which
//!    runs mquiesce: every G not scanned yet is claimed with castogscanstatus (Grunnable,
//!    Gwaiting, Gsyscall to the same plus Gscan), scanned and released by restartg. A
//!    goroutine in a syscall keeps running outside Go meanwhile; if it comes back, its
//!    exitsyscall spins in casgstatus until its scan is over. Then g0 runs the collecting
//!    goroutine again, which starts the world.
//!
//! The pause, from step 1 to the end of starttheworld, goes into the STW histogram. With
//! preemption off ("2014-nopreempt") steps 2 and 3 ask nothing of running goroutines: the
//! world stops when each reaches a scheduling point, as in 2013, and every stack is scanned in
//! step 4.

#![allow(non_upper_case_globals)] // matches on the seed's G status names (gstatus.rs)

use crate::g::{GRef, Why, STACK_PREEMPT};
use crate::gstatus::{
    isscanstatus, Gcopystack, Gdead, Grunnable, Grunning, Gscan, Gscanenqueue, Gscanrunnable,
    Gscanrunning, Gscansyscall, Gscanwaiting, Gsyscall, Gwaiting,
};
use crate::m::{getm, newm, releasep, stopm, Exiting, StartFn, M};
use crate::p::{PGCSTOP, PRUNNING, PSYSCALL};
use crate::proc::{dropg, Next};
use crate::procresize::procresize;
use crate::sched::{Sched, MAX_GOMAXPROCS};
use crate::sysmon::preemptall;
use schedcore::context::current_sp;
use schedcore::ptr::Ptr;
use schedcore::scan::StackSet;
use schedcore::{trace_ev, Counter};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long stoptheworld (and mquiesce) wait before asking again: a preemption request can be
/// missed by a goroutine that was just being switched in, so it is repeated.
const REPREEMPT_EVERY: Duration = Duration::from_micros(100);

/// Port of gcstopm (seed 001): stoptheworld is waiting; stop this M's P and park the M until
/// the world starts again.
/// Unchanged since 2013.
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

/// Port of stoptheworld (seed 001): stops the caller's P, takes every P in a syscall and every
/// idle P, asks the running goroutines to stop (preemptall) and waits for their P's, asking
/// again every 100 us in case a request was missed.
///
/// Returns `Exiting`, with the world left half-stopped, when the run ends meanwhile: nobody
/// may be left to stop the last P's then, and nothing will start the world again.
pub(crate) fn stoptheworld(m: &M) -> Result<(), Exiting> {
    if m.locks.get() != 0 {
        panic!("stoptheworld: holding locks");
    }
    trace_ev!(m.trace, StwStart, 0, 0);
    let sched = m.sched();
    let mut s = sched.lock();
    if sched.end.exiting() {
        return Err(Exiting);
    }
    let procs = sched.gomaxprocs();
    sched.stopwait.set(&mut s, procs);
    sched.gcwaiting.store(1, Ordering::SeqCst);
    preemptall(m);
    // Stop the current P (the status is only diagnostic: this M keeps it).
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
    // Wait for the remaining P's to stop themselves.
    if wait {
        loop {
            if sched.stopnote.notetsleep(REPREEMPT_EVERY) {
                sched.stopnote.noteclear();
                break;
            }
            if sched.end.exiting() {
                return Err(Exiting);
            }
            preemptall(m);
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

/// Port of starttheworld (seed 001): applies a pending GOMAXPROCS change (procresize), then
/// starts an M for every P that has work, and wakes sysmon. The seed also starts a GC helper
/// M here; this lab's collection runs on one M.
/// Changed since 2013 (seed 003) in two steps: it runs with `m.locks` raised, so that it is
/// not preempted while it holds P's in locals (the release re-arms a request that came
/// meanwhile), and it wakes the idle M's it hands P's to after dropping the sched lock, where
/// 2013 woke each one under it.
pub(crate) fn starttheworld(m: &M) {
    let sched = m.sched();
    m.acquire_locks();
    let mut s = sched.lock();
    let n = if s.newprocs != 0 {
        std::mem::take(&mut s.newprocs)
    } else {
        sched.gomaxprocs()
    };
    procresize(m, &mut s, n);
    // A plain store in the seed (only setting it is atomic).
    sched.gcwaiting.store(0, Ordering::Release);
    // P's with work and the idle M (if any) to run each.
    let mut todo = Vec::new();
    while let Some(p) = sched.pidleget(&mut s) {
        // procresize puts the P's with work first: the first without work ends the search.
        if p.runq_empty() {
            sched.pidleput(&mut s, p);
            break;
        }
        todo.push((p, sched.mget(&mut s)));
    }
    sched.wake_sysmon(&mut s);
    drop(s);
    for (p, mp) in todo {
        match mp {
            Some(mp) => {
                if mp.nextp.get().is_some() {
                    panic!("starttheworld: inconsistent mp->nextp");
                }
                mp.nextp.set(Some(p));
                mp.park.notewakeup();
            }
            None => newm(sched, StartFn::Schedule, Some(p)),
        }
    }
    m.release_locks();
    trace_ev!(m.trace, StwDone, 0, 0);
}

/// Port of gomaxprocsfunc (runtime.GOMAXPROCS, seed 004's proc.go side).
/// Unchanged since 2013.
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

/// `S::gc()`: takes worldsema, stops the world scanning every goroutine stack on the way (see
/// the module comment), starts the world.
pub(crate) fn gc() {
    let m = getm();
    let sched = m.sched();
    sched.worldsema.semacquire();
    // semacquire may have parked us: read the M again.
    let m = getm();
    let t0 = Instant::now();
    // The scan of this collection on this M: its words are this M's counter's growth.
    let words0 = if m.trace.on() {
        m.counters.get(Counter::StackWordsScanned)
    } else {
        0
    };
    trace_ev!(
        m.trace,
        GcScanStart,
        0,
        sched
            .lock()
            .allg
            .iter()
            .filter(|gp| gp.readgstatus() != Gdead)
            .count() as u64
    );
    gcprepare(sched);
    preemptscanall(&m);
    if stoptheworld(&m).is_err() {
        exit_for_good(&m);
    }
    quiesce(&m);
    // The collecting goroutine comes back on the same M (the world is stopped).
    let m = getm();
    trace_ev!(
        m.trace,
        GcScanDone,
        0,
        m.counters.get(Counter::StackWordsScanned) - words0
    );
    *sched.gcstacks.lock() = None;
    m.counters.inc(Counter::Gcs);
    sched.worldsema.semrelease();
    starttheworld(&m);
    record_pause(&m, t0);
}

/// The run ended while this goroutine was stopping the world: nothing will start it again, so
/// the goroutine stays suspended for good and its M leaves (teardown frees it).
fn exit_for_good(m: &M) -> ! {
    let gp = m.curg().expect("exit_for_good: no current goroutine");
    // SAFETY: called by the running goroutine `gp`, on its own stack; it is never resumed.
    unsafe { gp.ctx.suspend(Why::Exit) };
    unreachable!("a goroutine suspended at the end of the run was resumed");
}

/// Starts a collection: every G must be scanned again, and the pointer test needs the stacks
/// as they are now.
///
/// The world still runs here, so this only ever clears `gcworkdone`: a clear G is scanned (or
/// found dead) later, whatever it does meanwhile. Deciding that a dead G needs no scan waits
/// for mquiesce, with the world stopped, as in the seed: decided here, a dead G that newproc1
/// starts again between the status read and the store would keep `gcworkdone` set and escape
/// the collection.
pub(crate) fn gcprepare(sched: &Sched) {
    let s = sched.lock();
    let mut ranges = Vec::with_capacity(s.allg.len());
    for gp in &s.allg {
        gp.gcworkdone.store(false, Ordering::Relaxed);
        ranges.push(gp.stack());
    }
    drop(s);
    *sched.gcstacks.lock() = Some(Arc::new(StackSet::new(ranges)));
}

/// Hands the goroutine of every other running P to stopg (the seed's quiesce applies stopg to
/// every G; here the stopped ones wait for mquiesce, under a stopped world).
fn preemptscanall(m: &M) {
    let sched = m.sched();
    let me = m.curg();
    for i in 0..sched.gomaxprocs() as usize {
        let p = sched.allp(i);
        if p.status() != PRUNNING {
            continue;
        }
        let Some(mp) = p.m.get() else { continue };
        if std::ptr::eq(&*mp, m) {
            continue;
        }
        let Some(gp) = mp.curg() else { continue };
        if Some(gp) != me {
            stopscanstart(m, gp);
        }
    }
}

/// Port of quiesce (seed 001): claims the calling goroutine (Gscanenqueue) and switches to g0,
/// where mquiesce scans every stack; returns once g0 runs this goroutine again.
fn quiesce(m: &M) {
    let gp = m.curg().expect("quiesce: no current goroutine");
    if !gp.atomicstatus.castogscanstatus(Grunning, Gscanenqueue) {
        panic!("quiesce: cannot claim the collecting goroutine: {gp:?}");
    }
    // SAFETY: called by the running goroutine `gp`, on its own stack.
    unsafe { gp.ctx.suspend(Why::Quiesce) };
}

/// Port of mquiesce (seed 001): on g0, with the world stopped: release the collecting
/// goroutine (restartg), scan every G not scanned yet (stopscanstart), check that every one
/// was, and run the collecting goroutine again.
pub(crate) fn mquiesce(m: &M, master: GRef) -> Next {
    // The collecting goroutine parks here (restartg makes it Gwaiting) until g0 readies it.
    trace_ev!(m.trace, GoBlock, master.goid.load(Ordering::Relaxed), 0);
    let sched = m.sched();
    let allg: Vec<GRef> = sched.lock().allg.clone();
    restartg(m, master);
    for &gp in &allg {
        // The seed's per-G reset, with the world stopped (no dead G can come back to life
        // now): a dead G's scan is a no-op. The others keep what this collection did so far
        // (gcprepare cleared them; a self scan since then set them).
        if gp.readgstatus() == Gdead {
            gp.gcworkdone.store(true, Ordering::Relaxed);
        }
        stopscanstart(m, gp);
    }
    // A G can escape the first pass (a request missed in a race, a G started again after it
    // went dead): do its work now.
    for &gp in &allg {
        while !gp.gcworkdone.load(Ordering::Relaxed) {
            let status = gp.readgstatus();
            if status == Gdead {
                // Nothing to scan.
                gp.gcworkdone.store(true, Ordering::Relaxed);
                break;
            }
            if status == Grunning && gp.stackguard0.load(Ordering::Relaxed) == STACK_PREEMPT {
                // Asked to scan itself and not there yet: wait a little.
                std::thread::sleep(REPREEMPT_EVERY);
            } else {
                stopscanstart(m, gp);
            }
        }
    }
    for &gp in &allg {
        let status = gp.readgstatus();
        if isscanstatus(status) {
            panic!("mquiesce: post scan bad status: {gp:?}");
        }
        if !gp.gcworkdone.load(Ordering::Relaxed) && status != Gdead {
            panic!("mquiesce: post scan gcworkdone still false: {gp:?}");
        }
    }
    // The seed readies the collecting goroutine in restartg and lets schedule find it; with
    // the world stopped only this M can run it, so it runs it at once (as park_m does when
    // its unlock function refuses).
    master.casgstatus(Gwaiting, Grunnable);
    trace_ev!(m.trace, GoUnblock, master.goid.load(Ordering::Relaxed), 0);
    Next::Execute(master)
}

/// Port of stopscanstart (seed 001): if stopg leaves `gp` claimed and scanned, release it.
fn stopscanstart(m: &M, gp: GRef) {
    if m.curg() == Some(gp) && on_stack(gp) {
        panic!("GC not moved to g0");
    }
    if stopg(m, gp) {
        let status = gp.readgstatus();
        if !isscanstatus(status) {
            panic!("GC not in scan state: {gp:?}");
        }
        restartg(m, gp);
    }
}

/// Port of stopg (seed 001): brings `gp` to a point where its stack can be scanned. Returns
/// true when the caller now holds it claimed (with the Gscan bit) and scanned, and must call
/// restartg; false when there is nothing for the caller to do (already scanned, dead, claimed
/// by someone else, or running and now asked to scan itself).
fn stopg(m: &M, gp: GRef) -> bool {
    loop {
        if gp.gcworkdone.load(Ordering::Relaxed) {
            return false;
        }
        let s = gp.readgstatus();
        match s {
            Gdead => return false,
            // Its stack is moving: never here, stacks do not move in this lab.
            Gcopystack => std::hint::spin_loop(),
            Grunnable | Gsyscall | Gwaiting => {
                // Claim it by setting the scan bit; a lost race means its status changed.
                if !gp.atomicstatus.castogscanstatus(s, s | Gscan) {
                    continue;
                }
                m.counters.inc(Counter::GscanClaims);
                let _ = gcphasework(m, gp);
                return true;
            }
            Gscanrunnable | Gscanwaiting | Gscansyscall => {
                // Claimed by another scanner.
                return false;
            }
            Grunning => {
                if !m.sched().preempt {
                    // 2014-nopreempt asks nothing of a running goroutine: mquiesce scans it
                    // once the stopped world has stopped it.
                    return false;
                }
                // Claim it, so as not to race with a transition away from Grunning.
                if !gp.atomicstatus.castogscanstatus(Grunning, Gscanrunning) {
                    continue;
                }
                if !gp.gcworkdone.load(Ordering::Relaxed) {
                    gp.preemptscan.store(true, Ordering::Relaxed);
                    gp.preempt.store(true, Ordering::Relaxed);
                    gp.stackguard0.store(STACK_PREEMPT, Ordering::Relaxed);
                    m.counters.inc(Counter::PreemptRequests);
                    trace_ev!(
                        m.trace,
                        PreemptReq,
                        gp.goid.load(Ordering::Relaxed),
                        gp.m.get()
                            .and_then(|mp| mp.p.get())
                            .map_or(schedcore::trace::NO_P, |p| p.id as u64)
                    );
                }
                gp.atomicstatus.casfromgscanstatus(Gscanrunning, Grunning);
                return false;
            }
            _ => panic!("stopg: gp->atomicstatus is not valid: {gp:?}"),
        }
    }
}

/// Port of restartg (seed 001): releases a G claimed for its scan. The collecting goroutine
/// (Gscanenqueue) becomes Gwaiting and leaves this M; see mquiesce for what happens to it.
fn restartg(m: &M, gp: GRef) {
    let s = gp.readgstatus();
    match s {
        Gdead => {}
        Gscanrunnable | Gscanwaiting | Gscansyscall => {
            gp.atomicstatus.casfromgscanstatus(s, s & !Gscan);
        }
        Gscanenqueue => {
            gp.atomicstatus.casfromgscanstatus(Gscanenqueue, Gwaiting);
            if m.curg() != Some(gp) {
                panic!("processing Gscanenqueue on wrong m");
            }
            dropg(m);
        }
        _ => panic!("restartg: unexpected status: {gp:?}"),
    }
}

/// Whether the caller runs on `gp`'s stack.
fn on_stack(gp: GRef) -> bool {
    let (lo, hi) = gp.stack();
    let sp = current_sp();
    lo <= sp && sp < hi
}

/// Port of gcphasework (Go 1.4's mgc.c, the GCscan phase): scans `gp`'s live stack, counting
/// words that point into goroutine stacks, and marks its work done. The caller either holds
/// `gp` claimed with the Gscan bit, or is `gp` itself (a self scan at a preempt point, or
/// while casgstatus waits): then the scan starts at the current stack pointer. Returns the
/// number of words read.
pub(crate) fn gcphasework(m: &M, gp: GRef) -> u64 {
    let set = m.sched().gcstacks.lock().clone();
    let mut words = 0;
    if let Some(set) = set {
        let range = if on_stack(gp) {
            Some((current_sp(), gp.stack().1))
        } else {
            gp.ctx.live_stack()
        };
        if let Some((lo, hi)) = range {
            // SAFETY: G's and their stacks are never freed before teardown, so the range is
            // mapped and readable. Its owner does not run Go code meanwhile: it is the caller,
            // or it is claimed (and so switched out, or in a syscall, whose frames lie below
            // the saved stack pointer; a word that changes under the volatile reads is only a
            // miscounted word).
            let found = unsafe { set.scan(lo, hi) };
            m.counters.add(Counter::StackWordsScanned, found.words);
            m.counters.add(Counter::StackPointersFound, found.pointers);
            words = found.words;
        }
    }
    gp.preemptscan.store(false, Ordering::Relaxed);
    gp.gcworkdone.store(true, Ordering::Relaxed);
    words
}

/// Port of helpcasgstatus (seed 001): casgstatus is spinning on a G that a collector marked
/// for a self scan (its `preemptscan`): rather than wait, the G's own M does the scan.
pub(crate) fn helpcasgstatus(gp: &crate::g::G) {
    if gp.preemptscan.load(Ordering::Relaxed) && !gp.gcworkdone.load(Ordering::Relaxed) {
        gp.preemptscan.store(false, Ordering::Relaxed);
        let m = getm();
        trace_ev!(m.trace, GcScanStart, gp.goid.load(Ordering::Relaxed), 1);
        let words = gcphasework(&m, GRef(Ptr::from_ref(gp)));
        trace_ev!(m.trace, GcScanDone, gp.goid.load(Ordering::Relaxed), words);
        m.counters.inc(Counter::SelfScans);
    }
}

fn record_pause(m: &M, t0: Instant) {
    let ns = t0.elapsed().as_nanos().clamp(1, u64::MAX as u128) as u64;
    m.counters.inc(Counter::StwPauses);
    let _ = m.sched().pauses.lock().record(ns);
}

#[cfg(all(test, not(loom)))]
mod tests;
