//! The scheduler proper: newproc1, ready, schedule (with the every-61st-tick look at the global
//! queue), findrunnable, resetspinning, execute, and the continuations g0 runs after a
//! goroutine switched out (park_m, gosched_m, goexit0; gopreempt_m is in `preempt.rs`,
//! exitsyscall0 in `syscall.rs`, mquiesce in `gc.rs`).

use crate::g::{GRef, Why, G};
use crate::gc::{gcstopm, mquiesce};
use crate::gfree::{gfget, gfput, live_at_miss};
use crate::gstatus::{Gdead, Gidle, Grunnable, Grunning, Gscan, Gsyscall, Gwaiting};
use crate::lockosthread::{startlockedm, stoplockedm};
use crate::m::{acquirep, getm, releasep, stopm, wakep, Exiting, LOCK_EXTERNAL, M};
use crate::p::P;
use crate::preempt::{gopreempt_m, set_guard_slot, stackoverflow_m};
use crate::sched::Sched;
use crate::syscall::{check_not_in_syscall, exitsyscall0, exitsyscall_after_panic};
use schedcore::exit::panic_message;
use schedcore::ptr::Ptr;
use schedcore::stack::Exhausted;
use schedcore::sync::barrier_after_rmw;
use schedcore::{trace_ev, Counter, RawLock, RunError, Switch};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;

/// What g0 does next after a continuation (Go's continuations end in `schedule()` or
/// `execute(gp)`, neither of which returns).
pub(crate) enum Next {
    Schedule,
    Execute(GRef),
    Exit,
}

impl From<Result<GRef, Exiting>> for Next {
    fn from(r: Result<GRef, Exiting>) -> Next {
        match r {
            Ok(gp) => Next::Execute(gp),
            Err(Exiting) => Next::Exit,
        }
    }
}

/// Port of newproc (seed 001): `go f()`, from a goroutine.
#[inline]
pub(crate) fn newproc<F: FnOnce() + Send + 'static>(f: F) {
    let m = getm();
    check_not_in_syscall(m.curg().expect("go: no current goroutine"), "go");
    newproc1(&m, f, true);
}

/// A goroutine's function returned between entersyscall and exitsyscall: Go requires the two
/// in one frame (its exitsyscall throws when the frame is gone); here the run ends with that
/// error, and the goroutine leaves the syscall so that it exits as a running one.
/// Unchanged since 2013.
#[cold]
#[inline(never)]
fn returned_in_syscall(goid: u64) {
    getm().sched().end.fail(RunError::Panic(format!(
        "goroutine {goid} returned between entersyscall and exitsyscall: call exitsyscall first"
    )));
}

/// Port of newproc1 (seed 001): a goroutine running `f`, on a G (and stack) from the P's gfree
/// cache when there is one, with an id from the P's batch, queued on the current P. `wake`:
/// whether to wake an idle P for it (the seed skips that for runtime·main).
pub(crate) fn newproc1<F: FnOnce() + Send + 'static>(m: &M, f: F, wake: bool) -> GRef {
    let sched = m.sched();
    m.acquire_locks();
    let p = m.p();
    let newg = match gfget(sched, &p) {
        Some(gp) => gp,
        None => {
            let gp = GRef(Ptr::from_box(Box::new(G::new())));
            gp.casgstatus(Gidle, Gdead);
            // allgadd: published as Gdead, so that no scan looks at its stack yet.
            let mut s = sched.lock();
            s.allg.push(gp);
            sched.allglen.store(s.allg.len(), Ordering::Relaxed);
            p.counters
                .max(Counter::GoroutinesPeak, live_at_miss(sched, s.allg.len()));
            gp
        }
    };
    if newg.readgstatus() != Gdead {
        panic!("newproc1: new g is not Gdead ({newg:?})");
    }
    let body = move || {
        if let Err(e) = catch_unwind(AssertUnwindSafe(f)) {
            // The goroutine's M may differ from the one that created it.
            getm().sched().end.fail(RunError::Panic(panic_message(&*e)));
            exitsyscall_after_panic();
        } else if newg.readgstatus() & !Gscan == Gsyscall {
            returned_in_syscall(newg.goid.load(Ordering::Relaxed));
            exitsyscall_after_panic();
        }
    };
    // SAFETY: `newg` is fresh or came off a gfree list, so this M owns it, its previous
    // goroutine has exited (or was never started), and G's never move.
    let fresh = match unsafe { newg.ctx.start(&sched.stacks, body) } {
        Ok(fresh) => fresh,
        Err(e) => newproc1_nostack(m, &p, newg, e),
    };
    if fresh {
        // The context's low bound is that of the mapping, guard page included; the writable
        // part is the top `stack_size` bytes of it.
        let (lo, hi) = newg.ctx.bounds();
        let lo = hi - sched.stacks.stack_size().min(hi - lo);
        newg.stack_lo.store(lo, Ordering::Relaxed);
        newg.stack_hi.store(hi, Ordering::Relaxed);
        p.counters.inc(Counter::StacksMapped);
    }
    newg.stackguard0
        .store(newg.stackguard_ok(), Ordering::Relaxed);
    newg.preempt.store(false, Ordering::Relaxed);
    newg.preemptscan.store(false, Ordering::Relaxed);
    // A collection running now must scan it (the seed's mquiesce re-checks such G's).
    newg.gcworkdone.store(false, Ordering::Relaxed);
    newg.casgstatus(Gdead, Grunnable);
    newg.goid.store(p.goid(sched), Ordering::Relaxed);
    trace_ev!(
        m.trace,
        GoCreate,
        newg.goid.load(Ordering::Relaxed),
        m.curg().map_or(0, |g| g.goid.load(Ordering::Relaxed))
    );
    p.counters.inc(Counter::GoroutinesCreated);
    p.runqput(sched, newg, &m.trace);
    if wake && wakep_needed(sched) {
        wakep(m);
    }
    m.release_locks();
    newg
}

/// newproc1 found no stack for the new goroutine (malg failed: the live-goroutine limit, the
/// memory, the kernel's limits). Go throws here; this lab ends the run with the error and
/// unwinds the goroutine that called `go`, so newproc1 first undoes what it holds: the G goes
/// back to the P's cache (still Gdead, without a stack) and `m.locks` comes back down, else
/// this M would die at its next schedule ("holding locks").
#[cold]
#[inline(never)]
fn newproc1_nostack(m: &M, p: &P, newg: GRef, e: Exhausted) -> ! {
    gfput(m.sched(), p, newg);
    m.release_locks();
    m.sched().end.fail(RunError::Exhausted(e.clone()));
    schedcore::stack::unwind_exhausted(e)
}

/// Port of ready (seed 001): makes a parked goroutine runnable on the current P.
pub(crate) fn ready(gp: GRef) {
    let m = getm();
    if let Some(me) = m.curg() {
        check_not_in_syscall(me, "ready");
    }
    let status = gp.readgstatus();
    m.acquire_locks();
    if status & !Gscan != Gwaiting {
        panic!("bad g->status in ready: {gp:?}");
    }
    // Gwaiting, or Gscanwaiting: casgstatus waits for the scan to end.
    gp.casgstatus(Gwaiting, Grunnable);
    trace_ev!(
        m.trace,
        GoUnblock,
        gp.goid.load(Ordering::Relaxed),
        m.curg().map_or(0, |g| g.goid.load(Ordering::Relaxed))
    );
    let sched = m.sched();
    m.p().runqput(sched, gp, &m.trace);
    if wakep_needed(sched) {
        wakep(&m);
    }
    m.release_locks();
}

/// Port of park (seed 001): switches to g0, which releases `lock` once the goroutine is off
/// its stack (park_m with parkunlock_c).
/// Unchanged since 2013.
pub(crate) fn park(lock: &RawLock) {
    let m = getm();
    let gp = m.curg().expect("park: no current goroutine");
    check_not_in_syscall(gp, "park");
    m.counters.inc(Counter::Parks);
    // SAFETY: called by the running goroutine `gp`, on its own stack.
    unsafe { gp.ctx.suspend(Why::Park(lock)) };
}

/// Port of gosched (seed 001).
/// Unchanged since 2013.
pub(crate) fn gosched() {
    let m = getm();
    let gp = m.curg().expect("gosched: no current goroutine");
    check_not_in_syscall(gp, "gosched");
    m.counters.inc(Counter::Gosched);
    // SAFETY: called by the running goroutine `gp`, on its own stack.
    unsafe { gp.ctx.suspend(Why::Gosched) };
}

/// Port of resetspinning (seed 001): this M found work; if it was the last spinning M, wake
/// another one in case there is more (M wake-ups are deliberately conservative).
fn resetspinning(m: &M) {
    let sched = m.sched();
    let nmspinning = if m.spinning() {
        m.spinning.store(false, Ordering::Relaxed);
        trace_ev!(m.trace, SpinStop, 0, 0);
        let n = sched.nmspinning.fetch_sub(1, Ordering::SeqCst) - 1;
        if n < 0 {
            panic!("findrunnable: negative nmspinning");
        }
        n
    } else {
        sched.nmspinning()
    };
    if nmspinning == 0 && sched.npidle() > 0 {
        wakep(m);
    }
}

/// Every 61st schedtick, schedule looks at the global queue before the local one, so that two
/// goroutines respawning each other on a local ring cannot starve the global queue. 61 is a
/// prime, so the check does not fall into step with a program's own periods.
const GLOBRUNQ_CHECK_EVERY: u32 = 61;

/// Port of schedule (seed 001): one round of the scheduler: find a goroutine to run.
pub(crate) fn schedule(m: &M) -> Result<GRef, Exiting> {
    if m.locks.get() != 0 {
        panic!("schedule: holding locks");
    }
    if let Some(gp) = m.lockedg.get() {
        stoplockedm(m)?;
        return Ok(GRef(gp));
    }
    let sched = m.sched();
    loop {
        if sched.gcwaiting() {
            gcstopm(m)?;
            continue;
        }
        if sched.end.exiting() {
            return Err(Exiting);
        }
        let p = m.p();
        let mut gp = None;
        let tick = p.schedtick.load(Ordering::Relaxed);
        if tick % GLOBRUNQ_CHECK_EVERY == 0 && sched.runqsize() > 0 {
            let mut s = sched.lock();
            gp = sched.globrunqget(&mut s, &p, 1, &m.trace);
            drop(s);
            if gp.is_some() {
                p.counters.inc(Counter::GlobrunqGet61);
                resetspinning(m);
            }
        }
        if gp.is_none() {
            gp = p.runqget();
            if gp.is_some() && m.spinning() {
                panic!("schedule: spinning with local work");
            }
        }
        let gp = match gp {
            Some(gp) => gp,
            None => {
                // Blocks until there is work.
                let gp = findrunnable(m)?;
                resetspinning(m);
                gp
            }
        };
        if gp.lockedm.is_some() {
            // Hand this P to the M the goroutine is locked to, and wait for a new one.
            startlockedm(m, gp)?;
            continue;
        }
        return Ok(gp);
    }
}

/// Port of findrunnable (seed 001): the local ring, the global queue, then (unless as many M's
/// spin as there are busy P's) up to 2*GOMAXPROCS steal attempts on random P's; then give the
/// P back, look at every ring once more, and park the M.
/// Unchanged since 2013 but for the finalizer and network poller, absent here.
fn findrunnable(m: &M) -> Result<GRef, Exiting> {
    let sched = m.sched();
    'top: loop {
        if sched.gcwaiting() {
            gcstopm(m)?;
            continue;
        }
        if sched.end.exiting() {
            return Err(Exiting);
        }
        let p = m.p();
        if let Some(gp) = p.runqget() {
            return Ok(gp);
        }
        if sched.runqsize() != 0 {
            let mut s = sched.lock();
            let gp = sched.globrunqget(&mut s, &p, 0, &m.trace);
            drop(s);
            if let Some(gp) = gp {
                return Ok(gp);
            }
        }
        // (No network poller.)
        let procs = sched.gomaxprocs();
        // With as many spinning M's as busy P's, more spinning only burns CPU: block.
        let block =
            !m.spinning() && 2 * sched.nmspinning() as i64 >= procs as i64 - sched.npidle() as i64;
        if !block {
            if !m.spinning() {
                m.spinning.store(true, Ordering::Relaxed);
                sched.nmspinning.fetch_add(1, Ordering::SeqCst);
                trace_ev!(m.trace, SpinStart, 0, 0);
            }
            for _ in 0..2 * procs {
                if sched.gcwaiting() {
                    continue 'top;
                }
                let p2 = sched.allp((m.fastrand1() % procs as u32) as usize);
                let gp = if p2 == p {
                    p.runqget()
                } else {
                    runqsteal(m, &p, &p2)
                };
                if let Some(gp) = gp {
                    return Ok(gp);
                }
            }
        }
        // Give the P back and block.
        let mut s = sched.lock();
        if sched.gcwaiting() {
            continue 'top;
        }
        if sched.runqsize() != 0 {
            let gp = sched.globrunqget(&mut s, &p, 0, &m.trace);
            drop(s);
            return Ok(gp.expect("globrunqget: empty with runqsize != 0"));
        }
        let p = releasep(m);
        sched.pidleput(&mut s, p);
        drop(s);
        m.unspin();
        // Look at every ring once more: work may have arrived after the steal attempts and
        // before the P went idle, with nobody left to notice it.
        if runqs_nonempty(sched, procs) {
            let p = sched.pidleget(&mut sched.lock());
            if let Some(p) = p {
                acquirep(m, p);
                continue 'top;
            }
        }
        // (No network poller to block in.)
        stopm(m)?;
    }
}

/// Whether a goroutine just put on this M's ring (newproc, ready) needs an M woken for it:
/// some P is idle and no M spins.
///
/// A store-load pair with findrunnable's last look: here the ring's tail store, then the
/// loads of npidle and nmspinning; there (`runqs_nonempty`) the npidle increment and
/// nmspinning decrement, then the loads of every ring's head and tail. With a full barrier on
/// both sides, either this sees the idle P or that M sees the G. The producer's barrier is
/// the seed's own: runqput stores the tail with atomicstore (an `xchg` on x86), or the global
/// queue's G went in under the sched lock, whose unlock is one; no fence of the port's own
/// (`barrier_after_rmw`: a real fence only on weaker CPUs and under loom).
/// Unchanged since 2013.
#[inline(always)]
pub(crate) fn wakep_needed(sched: &Sched) -> bool {
    barrier_after_rmw();
    sched.npidle() != 0 && sched.nmspinning() == 0
}

/// findrunnable's last look, after its P went idle: whether any of the first `procs` rings
/// holds a goroutine. The other half of `wakep_needed`'s store-load pair: the caller's
/// pidleput `xadd` on npidle and the sched lock's unlock stand between its stores and these
/// loads, as in the seed.
/// Unchanged since 2013.
pub(crate) fn runqs_nonempty(sched: &Sched, procs: i32) -> bool {
    barrier_after_rmw();
    (0..procs as usize).any(|i| !sched.allp(i).runq_empty())
}

/// Port of runqsteal (seed 001) at the P level: the steal plus the thief's counters.
fn runqsteal(m: &M, p: &P, p2: &P) -> Option<GRef> {
    p.counters.inc(Counter::StealTries);
    // The thief's ring was empty (findrunnable only steals after runqget failed), so what it
    // holds after the steal is what was moved besides the G returned. Another thief robbing
    // this one meanwhile can make the count short; it is a statistic.
    let before = p.runq.len();
    let gp = p.runq.runqsteal(&p2.runq)?;
    let moved = p.runq.len().saturating_sub(before);
    trace_ev!(
        m.trace,
        Steal,
        GRef::from_non_null(gp).goid.load(Ordering::Relaxed),
        p2.id as u64,
        1 + moved as u32
    );
    p.counters.inc(Counter::StealWins);
    p.counters.add(Counter::GoroutinesStolen, 1 + moved as u64);
    Some(GRef::from_non_null(gp))
}

/// Port of execute (seed 001): runs `gp` on this M until it switches out, then runs the
/// continuation it asked for and says what g0 does next.
pub(crate) fn execute(m: &M, gp: GRef) -> Next {
    gp.casgstatus(Grunnable, Grunning);
    gp.preempt.store(false, Ordering::Relaxed);
    gp.stackguard0.store(gp.stackguard_ok(), Ordering::Relaxed);
    let p = m.p();
    P::bump(&p.schedtick);
    m.curg.set(Some(gp.0));
    gp.m.set(Some(Ptr::from_ref(m)));
    set_guard_slot(Some(gp));
    trace_ev!(
        m.trace,
        GoStart,
        gp.goid.load(Ordering::Relaxed),
        p.id as u64
    );
    // SAFETY: this M owns `gp`: it took it off a run queue (or was handed it), so nobody else
    // resumes it; it is started and has not exited.
    match unsafe { gp.ctx.resume() } {
        Switch::Exited => goexit0(m, gp),
        Switch::Yielded(Why::Gosched) => gosched_m(m, gp),
        // SAFETY: park passed the raw lock of a guard it gave up, still held.
        Switch::Yielded(Why::Park(lock)) => unsafe { park_m(m, gp, &*lock) },
        Switch::Yielded(Why::ExitSyscall) => exitsyscall0(m, gp),
        Switch::Yielded(Why::Preempt) => gopreempt_m(m, gp),
        Switch::Yielded(Why::Quiesce) => mquiesce(m, gp),
        Switch::Yielded(Why::Exit) => {
            trace_ev!(m.trace, GoStop, gp.goid.load(Ordering::Relaxed), 0);
            Next::Exit
        }
        Switch::Yielded(Why::StackOverflow) => stackoverflow_m(m, gp),
    }
}

/// Port of dropg (seed 001): unbinds the current goroutine from this M, unless the M is locked
/// to it (then the M keeps it as curg, for schedule's stoplockedm).
pub(crate) fn dropg(m: &M) {
    if m.lockedg.get().is_none() {
        if let Some(gp) = m.curg.get() {
            gp.m.set(None);
            m.curg.set(None);
        }
    }
}

/// Port of park_m (seed 001): park's continuation on g0. The goroutine has switched out, so
/// releasing its lock now cannot lose a wake-up.
///
/// # Safety
/// `lock` is held, and its holder (the parked goroutine) gave up its guard.
/// Unchanged since 2013 (park0) but for casgstatus.
unsafe fn park_m(m: &M, gp: GRef, lock: &RawLock) -> Next {
    trace_ev!(m.trace, GoBlock, gp.goid.load(Ordering::Relaxed), 0);
    gp.casgstatus(Grunning, Gwaiting);
    dropg(m);
    lock.unlock();
    Next::Schedule
}

/// Port of gosched_m (seed 001): gosched's continuation: the goroutine goes to the global
/// queue.
/// Unchanged since 2013 (gosched0) but for casgstatus.
fn gosched_m(m: &M, gp: GRef) -> Next {
    trace_ev!(m.trace, GoSched, gp.goid.load(Ordering::Relaxed), 0);
    let status = gp.readgstatus();
    if status & !Gscan != Grunning {
        panic!("bad g status in gosched_m: {gp:?}");
    }
    gp.casgstatus(Grunning, Grunnable);
    dropg(m);
    let sched = m.sched();
    let p = m.p();
    sched.globrunqput(&mut sched.lock(), gp, &p.counters, &m.trace);
    Next::Schedule
}

/// Port of goexit0 (seed 001): the goroutine's function returned; its G (with its stack) goes
/// to the P's gfree cache.
/// Unchanged since 2013 but for casgstatus.
fn goexit0(m: &M, gp: GRef) -> Next {
    trace_ev!(m.trace, GoEnd, gp.goid.load(Ordering::Relaxed), 0);
    gp.casgstatus(Grunning, Gdead);
    gp.m.set(None);
    gp.lockedm.set(None);
    m.lockedg.set(None);
    dropg(m);
    let locked = m.locked.load(Ordering::Relaxed);
    if locked & !LOCK_EXTERNAL != 0 {
        panic!("internal lockOSThread error: invalid m->locked = {locked}");
    }
    m.locked.store(0, Ordering::Relaxed);
    gfput(m.sched(), &m.p(), gp);
    Next::Schedule
}

/// Port of gcount (seed 001): the goroutines that exist, as allg minus the G's cached on the
/// gfree lists. Read without locks, so it can be off while G's are in flight; at least the
/// caller exists.
pub(crate) fn gcount() -> usize {
    let m = getm();
    let sched = m.sched();
    let mut n =
        sched.allglen.load(Ordering::Relaxed) as i64 - sched.ngfree.load(Ordering::Relaxed) as i64;
    for l in sched.allp.iter() {
        match l.get() {
            Some(p) => n -= p.gfreecnt.load(Ordering::Relaxed) as i64,
            None => break,
        }
    }
    n.max(1) as usize
}
