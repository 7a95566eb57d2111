//! The scheduler proper: newproc, ready, schedule, findrunnable, execute, and the
//! continuations that run on g0 after a goroutine switched out (park0, gosched0, goexit0).

use crate::g::{GRef, Why, G, GDEAD, GRUNNABLE, GRUNNING, GSYSCALL, GWAITING};
use crate::gc::gcstopm;
use crate::gfree::{gfget, gfput, live_at_miss};
use crate::lockosthread::{startlockedm, stoplockedm};
use crate::m::{acquirep, getm, releasep, stopm, wakep, Exiting, M};
use crate::p::P;
use crate::sched::Sched;
use crate::syscall::{
    check_not_in_syscall, exitsyscall0, exitsyscall_after_panic, exitsyscall_exiting,
};
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

/// A goroutine's function returned between entersyscall and exitsyscall: Go requires the two
/// in one frame (its exitsyscall throws when the frame is gone); here the run ends with that
/// error, and the goroutine leaves the syscall so that it exits as a running one.
#[cold]
#[inline(never)]
fn returned_in_syscall(goid: u64) {
    getm().sched().fail(RunError::Panic(format!(
        "goroutine {goid} returned between entersyscall and exitsyscall: call exitsyscall first"
    )));
}

/// Port of newproc (seed 003): `go f()`, from a goroutine.
#[inline]
pub(crate) fn newproc<F: FnOnce() + Send + 'static>(f: F) {
    let m = getm();
    check_not_in_syscall(m.curg().expect("go: no current goroutine"), "go");
    newproc1(&m, f, true);
}

/// Port of newproc1 (seed 003): a goroutine running `f`, on a G (and stack) from the P's
/// gfree cache when there is one, queued on the current P. `wake`: whether to wake an idle
/// P for it (the seed skips that for runtime·main).
pub(crate) fn newproc1<F: FnOnce() + Send + 'static>(m: &M, f: F, wake: bool) -> GRef {
    let sched = m.sched();
    let p = m.p();
    let newg = match gfget(sched, &p) {
        Some(gp) => gp,
        None => {
            let gp = GRef(Ptr::from_box(Box::new(G::new())));
            let mut s = sched.lock();
            s.allg.push(gp);
            m.counters
                .max(Counter::GoroutinesPeak, live_at_miss(sched, s.allg.len()));
            gp
        }
    };
    let body = move || {
        if let Err(e) = catch_unwind(AssertUnwindSafe(f)) {
            // The goroutine's M may differ from the one that created it.
            getm().sched().fail(RunError::Panic(panic_message(&*e)));
            exitsyscall_after_panic();
        } else if newg.status() == GSYSCALL {
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
        m.counters.inc(Counter::StacksMapped);
    }
    newg.goid.store(
        sched.goidgen.fetch_add(1, Ordering::Relaxed) + 1,
        Ordering::Relaxed,
    );
    trace_ev!(
        m.trace,
        GoCreate,
        newg.goid.load(Ordering::Relaxed),
        m.curg().map_or(0, |g| g.goid.load(Ordering::Relaxed))
    );
    newg.set_status(GRUNNABLE);
    m.counters.inc(Counter::GoroutinesCreated);
    p.runqput(newg);
    if wake && wakep_needed(sched) {
        wakep(m);
    }
    newg
}

/// newproc1 found no stack for the new goroutine (malg failed: the live-goroutine limit, the
/// memory, the kernel's limits). Go throws here; this lab ends the run with the error and
/// unwinds the goroutine that called `go`, so newproc1 first undoes what it holds: the G goes
/// back to the P's cache, dead and without a stack. (2013's newproc1 holds nothing else: no
/// `m.locks` before 2014.)
#[cold]
#[inline(never)]
fn newproc1_nostack(m: &M, p: &P, newg: GRef, e: Exhausted) -> ! {
    newg.set_status(GDEAD);
    gfput(m.sched(), p, newg);
    m.sched().fail(RunError::Exhausted(e.clone()));
    schedcore::stack::unwind_exhausted(e)
}

/// Port of ready (seed 003): makes a parked goroutine runnable on the current P.
pub(crate) fn ready(gp: GRef) {
    let m = getm();
    if let Some(me) = m.curg() {
        check_not_in_syscall(me, "ready");
    }
    if gp.status() != GWAITING {
        panic!(
            "bad g->status in ready: {:?} has status {}",
            gp,
            gp.status()
        );
    }
    gp.set_status(GRUNNABLE);
    trace_ev!(
        m.trace,
        GoUnblock,
        gp.goid.load(Ordering::Relaxed),
        m.curg().map_or(0, |g| g.goid.load(Ordering::Relaxed))
    );
    m.p().runqput(gp);
    if wakep_needed(m.sched()) {
        wakep(&m);
    }
}

/// Port of park (seed 003): switches to g0 with the lock to release there (park0).
pub(crate) fn park(lock: &RawLock) {
    let m = getm();
    let gp = m.curg().expect("park: no current goroutine");
    check_not_in_syscall(gp, "park");
    m.counters.inc(Counter::Parks);
    // SAFETY: called by the running goroutine `gp`, on its own stack.
    unsafe { gp.ctx.suspend(Why::Park(lock)) };
}

/// Port of gosched (seed 003).
pub(crate) fn gosched() {
    let m = getm();
    let gp = m.curg().expect("gosched: no current goroutine");
    check_not_in_syscall(gp, "gosched");
    m.counters.inc(Counter::Gosched);
    // SAFETY: called by the running goroutine `gp`, on its own stack.
    unsafe { gp.ctx.suspend(Why::Gosched) };
}

/// Port of schedule (seed 003): one round of the scheduler: find a goroutine to run.
pub(crate) fn schedule(m: &M) -> Result<GRef, Exiting> {
    let sched = m.sched();
    loop {
        if sched.gcwaiting() {
            gcstopm(m)?;
            continue;
        }
        if sched.end.exiting() {
            return Err(Exiting);
        }
        let gp = match m.p().runq.runqget() {
            Some(gp) => gp,
            None => findrunnable(m)?,
        };
        m.unspin();
        // Waking M's is deliberately conservative (nmspinning), so see whether another
        // one is needed now that this M stops looking.
        if !m.p().runq.is_empty() && sched.nmspinning() == 0 && sched.npidle() > 0 {
            wakep(m);
        }
        if gp.lockedm.is_some() {
            startlockedm(m, gp)?;
            continue;
        }
        return Ok(gp);
    }
}

/// Port of findrunnable (seed 003): the local queue, the global queue, then (if not too
/// many M's are spinning already) up to 2*GOMAXPROCS steal attempts on random P's; then
/// give the P back, look at every queue once more, and park the M.
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
        if let Some(gp) = p.runq.runqget() {
            return Ok(gp);
        }
        if sched.runqsize() != 0 {
            let mut s = sched.lock();
            let gp = sched.globrunqget(&mut s, &p, &m.counters, &m.trace);
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
                    p.runq.runqget()
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
            let gp = sched.globrunqget(&mut s, &p, &m.counters, &m.trace);
            drop(s);
            return Ok(gp.expect("globrunqget: empty with runqsize != 0"));
        }
        let p = releasep(m);
        sched.pidleput(&mut s, p);
        drop(s);
        m.unspin();
        // Look at every queue once more: work may have arrived after the steal attempts
        // and before the P went idle, with nobody left to notice it.
        if runqs_nonempty(sched, procs) {
            let p = sched.pidleget(&mut sched.lock());
            if let Some(p) = p {
                acquirep(m, p);
                continue 'top;
            }
        }
        // (No network poller.)
        stopm(m)?;
    }
}

/// Whether a goroutine just put on this M's run queue (newproc, ready) needs an M woken for
/// it: some P is idle and no M spins.
///
/// A store-load pair with findrunnable's last look: here the run queue's tail store, then the
/// loads of npidle and nmspinning; there (`runqs_nonempty`) the npidle increment and
/// nmspinning decrement, then the loads of every queue's head and tail. With a full barrier
/// on both sides, either this sees the idle P or that M sees the G. Go 1.1 had no fence here:
/// the caller has just released the run queue's lock, whose unlock is an `xchg`, a full
/// barrier on x86, and that is the barrier this port relies on too (`barrier_after_rmw`: a
/// real fence only on weaker CPUs and under loom). The litmus test in `sched/tests.rs` holds
/// it to that.
#[inline(always)]
pub(crate) fn wakep_needed(sched: &Sched) -> bool {
    barrier_after_rmw();
    sched.npidle() != 0 && sched.nmspinning() == 0
}

/// findrunnable's last look, after its P went idle: whether any of the first `procs` run
/// queues holds a goroutine. The other half of `wakep_needed`'s store-load pair: the caller's
/// pidleput `xadd` on npidle and the sched lock's unlock stand between its stores and these
/// loads, as in Go 1.1.
pub(crate) fn runqs_nonempty(sched: &Sched, procs: i32) -> bool {
    barrier_after_rmw();
    (0..procs as usize).any(|i| !sched.allp(i).runq.is_empty())
}

/// Port of runqsteal (seed 003) at the P level: the steal plus the thief's counters.
fn runqsteal(m: &M, p: &crate::p::P, p2: &crate::p::P) -> Option<GRef> {
    m.counters.inc(Counter::StealTries);
    let (gp, moved) = p.runq.runqsteal(&p2.runq)?;
    trace_ev!(
        m.trace,
        Steal,
        gp.goid.load(Ordering::Relaxed),
        p2.id as u64,
        1 + moved
    );
    m.counters.inc(Counter::StealWins);
    m.counters.add(Counter::GoroutinesStolen, 1 + moved as u64);
    Some(gp)
}

/// Port of execute (seed 003): runs `gp` on this M until it switches out, then runs the
/// continuation it asked for and says what g0 does next.
pub(crate) fn execute(m: &M, gp: GRef) -> Next {
    if gp.status() != GRUNNABLE {
        panic!("execute: bad g status {}", gp.status());
    }
    gp.set_status(GRUNNING);
    let p = m.p();
    p.tick();
    m.curg.set(Some(gp.0));
    gp.m.set(Some(Ptr::from_ref(m)));
    trace_ev!(
        m.trace,
        GoStart,
        gp.goid.load(Ordering::Relaxed),
        p.id as u64
    );
    // SAFETY: this M owns `gp`: it took it off a run queue (or was handed it), so nobody
    // else resumes it; it is started and has not exited.
    match unsafe { gp.ctx.resume() } {
        Switch::Exited => goexit0(m, gp),
        Switch::Yielded(Why::Gosched) => gosched0(m, gp),
        // SAFETY: park passed the raw lock of a guard it gave up, still held.
        Switch::Yielded(Why::Park(lock)) => unsafe { park0(m, gp, &*lock) },
        Switch::Yielded(Why::ExitSyscall) => exitsyscall0(m, gp),
        Switch::Yielded(Why::Exiting) => exitsyscall_exiting(m, gp),
    }
}

/// Port of park0 (seed 003): park's continuation on g0. The goroutine has switched out, so
/// releasing its lock now cannot lose a wake-up.
///
/// # Safety
/// `lock` is held, and its holder (the parked goroutine) gave up its guard.
unsafe fn park0(m: &M, gp: GRef, lock: &RawLock) -> Next {
    trace_ev!(m.trace, GoBlock, gp.goid.load(Ordering::Relaxed), 0);
    gp.set_status(GWAITING);
    gp.m.set(None);
    m.curg.set(None);
    lock.unlock();
    if m.lockedg.is_some() {
        return stoplockedm(m).map(|()| gp).into();
    }
    Next::Schedule
}

/// Port of gosched0 (seed 003): gosched's continuation: the goroutine goes to the global
/// queue.
fn gosched0(m: &M, gp: GRef) -> Next {
    trace_ev!(m.trace, GoSched, gp.goid.load(Ordering::Relaxed), 0);
    let sched = m.sched();
    gp.set_status(GRUNNABLE);
    gp.m.set(None);
    m.curg.set(None);
    sched.globrunqput(&mut sched.lock(), gp, &m.counters, &m.trace);
    if m.lockedg.is_some() {
        return stoplockedm(m).map(|()| gp).into();
    }
    Next::Schedule
}

/// Port of goexit0 (seed 003): the goroutine's function returned; its G (with its stack)
/// goes to the P's gfree cache.
fn goexit0(m: &M, gp: GRef) -> Next {
    trace_ev!(m.trace, GoEnd, gp.goid.load(Ordering::Relaxed), 0);
    gp.set_status(GDEAD);
    gp.m.set(None);
    gp.lockedm.set(None);
    m.curg.set(None);
    m.lockedg.set(None);
    m.locked.store(0, Ordering::Relaxed);
    gfput(m.sched(), &m.p(), gp);
    Next::Schedule
}

/// Port of gcount (seed 003): the goroutines that exist (runnable, running, in a syscall or
/// waiting). O(allg) under the sched lock, as in the seed.
pub(crate) fn gcount() -> usize {
    let m = getm();
    let s = m.sched().lock();
    s.allg
        .iter()
        .filter(|gp| {
            matches!(
                gp.status(),
                crate::g::GRUNNABLE | GRUNNING | GSYSCALL | GWAITING
            )
        })
        .count()
}
