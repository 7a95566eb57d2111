//! The scheduling loop of 2011: schedule, nextgandunlock, matchmg, ready, newproc, gosched.
//!
//! Every M runs [`mstart`]: `schedule` picks a goroutine (or sleeps on the M's note until one
//! is handed over), the M resumes it, and when the goroutine switches out (Go's
//! `mcall(schedule)`) its status says why: still running (gosched), waiting (park), in a
//! syscall slow path, or moribund (exited).

use crate::before;
use crate::g::{GPtr, GDEAD, GMORIBUND, GRUNNABLE, GRUNNING, GSYSCALL, GWAITING};
use crate::m::{getm, MPtr, M};
use crate::sched::{
    gfget, gfput, gget, gput, haveg, mget, mnextg, mput, Runtime, SchedGuard, Synced,
};
use crate::word::{mcpu, MAXGOMAXPROCS};
use schedcore::exit::panic_message;
use schedcore::trace::{Ev, NO_P};
use schedcore::{trace_ev, Counter, RunError, Switch};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;
use std::sync::atomic::Ordering::Relaxed;

/// Port of schedule (seed 002), run on the M's own stack: account for `gp`, which just
/// stopped, then find the next goroutine. `None` when the run is over and the M must leave.
pub fn schedule(rt: &Runtime, m: &M, gp: Option<GPtr>) -> Option<GPtr> {
    let mut s = rt.schedlock();
    if let Some(gp) = gp {
        gp.m.store(null_mut(), Relaxed);
        s.grunning -= 1;
        if rt.before {
            before::schedule_mcpu(&mut s);
        } else {
            rt.word.schedule_mcpu();
        }
        match gp.status() {
            GRUNNABLE | GDEAD => panic!("bad gp->status in sched: {}", gp.status()),
            GRUNNING => {
                gp.set_status(GRUNNABLE);
                if rt.before {
                    before::gput(&mut s, &m.trace, gp);
                } else {
                    gput(rt, &mut s, &m.trace, gp);
                }
            }
            GMORIBUND => {
                gp.set_status(GDEAD);
                if gp.lockedm().is_some() {
                    gp.lockedm.store(null_mut(), Relaxed);
                    m.lockedg.store(null_mut(), Relaxed);
                }
                gfput(&mut s, gp);
                s.gcount -= 1;
            }
            _ => {} // waiting, or leaving a syscall with readyonstop set
        }
        if crate::m::take_flag(&gp.readyonstop) {
            readylocked(rt, &mut s, Some(m), gp);
        }
    }
    if rt.end.exiting() {
        return None;
    }
    let gp = if rt.before {
        before::nextgandunlock(rt, s, m)
    } else {
        nextgandunlock(rt, s, m)
    }?;
    gp.readyonstop.store(false, Relaxed);
    gp.set_status(GRUNNING);
    m.curg.store(gp.as_ptr(), Relaxed);
    gp.m.store(m as *const M as *mut M, Relaxed);
    Some(gp)
}

/// Port of nextgandunlock (seed 002): the next goroutine this M should run, taken from its
/// hand-off slot or the global queue, or waited for on the M's note. Unlocks the schedlock.
fn nextgandunlock(rt: &Runtime, mut s: SchedGuard<'_>, m: &M) -> Option<GPtr> {
    if mcpu(rt.word.load()) >= MAXGOMAXPROCS {
        panic!("negative mcpu");
    }
    // A goroutine handed over by mnextg: its CPU was counted when it was handed.
    if let Some(gp) = m.take_nextg() {
        return Some(gp);
    }
    if !m.lockedg.load(Relaxed).is_null() {
        // This M may only run its wired goroutine, which is not here. Make sure some other
        // M serves the ordinary queue.
        if s.gwait != 0 {
            matchmg(rt, &mut s, Some(m));
            // The wired goroutine may have been on the queue (Go 1.0's `goto top`).
            if let Some(gp) = m.take_nextg() {
                return Some(gp);
            }
        }
    } else {
        while haveg(&s) && rt.word.canaddmcpu() {
            let gp = gget(rt, &mut s, &m.trace).expect("gget inconsistency");
            if let Some(lm) = gp.lockedm() {
                mnextg(&mut s, &m.trace, MPtr::from_ref(lm), gp);
                continue;
            }
            s.grunning += 1;
            return Some(gp);
        }
        // The loop ended because the queue is empty or every CPU is taken. The schedlock
        // keeps the queue and mcpumax still; entersyscall may lower mcpu meanwhile, but only
        // while gwaiting is clear, so it cannot leave a queued goroutine without a CPU.
        mput(&mut s, m);
    }

    let v = rt.word.load();
    if s.grunning == 0 {
        drop(s);
        rt.fail(RunError::Deadlock);
        return None;
    }
    m.nextg.store(null_mut(), Relaxed);
    m.waitnextg.store(true, Relaxed);
    m.havenextg.noteclear();

    // stoptheworld waits for every CPU but its own. entersyscall may have lowered mcpu too,
    // but then it saw waitstop and took the slow path; exitsyscall never raises mcpu past
    // mcpumax. So this is the last chance to wake it.
    if rt.word.take_waitstop_if_stopped(v) {
        rt.stopped.notewakeup();
    }
    s.counters.inc(Counter::MSleeps);
    drop(s);
    havenextg_sleep(rt, m)
}

/// The end of nextgandunlock, after the unlock (unchanged by CL 4723042): sleep until mnextg
/// hands this M a goroutine, or the run ends.
pub(crate) fn havenextg_sleep(rt: &Runtime, m: &M) -> Option<GPtr> {
    trace_ev!(m.trace, MSleep, 0, 0);
    m.havenextg.notesleep();
    trace_ev!(m.trace, MWake, 0, 0);
    match m.take_nextg() {
        Some(gp) => Some(gp),
        None if rt.end.exiting() => None,
        None => panic!("bad m->nextg in nextgoroutine"),
    }
}

/// Port of matchmg (seed 002): start M's for queued goroutines while CPUs are free.
pub fn matchmg(rt: &Runtime, s: &mut Synced, cur: Option<&M>) {
    if cur.is_some_and(|m| m.gcing.load(Relaxed)) || rt.end.exiting() {
        return;
    }
    let tr = rt.trace_of(cur);
    while haveg(s) && rt.word.canaddmcpu() {
        let gp = gget(rt, s, tr).expect("gget inconsistency");
        let mp = match mget(s, gp) {
            Some(mp) => mp,
            None => newm(rt, s),
        };
        mnextg(s, tr, mp, gp);
    }
}

/// Creates an M and its OS thread (Go's malloc + mcommoninit + newosproc in matchmg).
///
/// A thread the kernel refuses is Go's throw in newosproc: a panic, which ends the run from
/// wherever matchmg was called (a goroutine's body, mstart, or the boot in `run`).
///
/// Under loom the M gets no thread: it keeps the goroutine matchmg hands it in `nextg`, and
/// the model counts it as running that goroutine (as the seed's Promela model does with a
/// new M), or runs it on a model thread of its own.
pub(crate) fn newm(rt: &Runtime, s: &mut Synced) -> MPtr {
    let mp = MPtr::alloc(M::new(s.mcount as usize, rt));
    s.mcount += 1;
    s.allm.push(mp);
    s.counters.inc(Counter::ThreadsCreated);
    #[cfg(not(loom))]
    {
        let h = newosproc(rt, mp).unwrap_or_else(|e| {
            panic!(
                "runtime: failed to create new OS thread (have {} already): {e}",
                s.threads.len()
            )
        });
        s.threads.push(h);
    }
    mp
}

/// Port of newosproc (Go 1.0 thread_linux.c): the M's thread, running mstart.
#[cfg_attr(loom, allow(dead_code))]
fn newosproc(rt: &Runtime, mp: MPtr) -> std::io::Result<std::thread::JoinHandle<()>> {
    #[cfg(all(test, not(loom)))]
    if crate::tests::newosproc_refuses() {
        return Err(std::io::Error::other("refused by the test"));
    }
    std::thread::Builder::new()
        .name(format!("go{}-m{}", rt.name, mp.id))
        .spawn(move || mstart(mp))
}

/// Port of mstart (seed 002): the M's life. Its stack is g0.
///
/// A panic here is the runtime's own (a goroutine's panics are caught in its body): Go would
/// throw and exit, so the run ends with it instead of waiting forever for a dead M.
fn mstart(mp: MPtr) {
    let m: &M = &mp;
    crate::m::slot::set_current(Some(m));
    let rt = m.rt();
    if let Err(p) = catch_unwind(AssertUnwindSafe(|| mloop(rt, m))) {
        rt.fail(RunError::Panic(format!(
            "fatal error: M{} died: {}",
            m.id,
            panic_message(&*p)
        )));
    }
    crate::m::slot::set_current(None);
}

/// schedule, resume, repeat: Go's `schedule` and `gogo`, which never return, as a loop.
fn mloop(rt: &Runtime, m: &M) {
    let mut last = None;
    while let Some(gp) = schedule(rt, m, last) {
        trace_ev!(m.trace, GoStart, gp.goid.load(Relaxed), NO_P);
        // SAFETY: `schedule` made this M the goroutine's owner (gp.m = m); nobody else
        // resumes it until it switches out.
        if let Switch::Exited = unsafe { gp.ctx.resume() } {
            if gp.status() == GSYSCALL {
                // Its panic ended the run inside a syscall, or its function returned there
                // (Go requires entersyscall and exitsyscall in one frame), which ends the run
                // now (a panic's error came first and stays). entersyscall gave the CPU up:
                // take it back, as exitsyscall would, so that schedule's mcpu-- balances.
                rt.fail(RunError::Panic(format!(
                    "goroutine {} returned between entersyscall and exitsyscall: call exitsyscall first",
                    gp.goid.load(Relaxed)
                )));
                let mut s = rt.schedlock();
                if rt.before {
                    s.mcpu += 1;
                } else {
                    rt.word.exitsyscall_locked();
                }
            }
            // Go's goexit: the goroutine's function returned.
            gp.set_status(GMORIBUND);
        }
        if m.trace.on() {
            m.trace.ev(stop_event(gp), gp.goid.load(Relaxed), 0);
        }
        last = Some(gp);
    }
}

/// The trace event of a goroutine that just switched out. 2011's switch carries no reason:
/// the status says it, as it does to `schedule` (which has not run yet, so nothing else has
/// changed it: a `ready` meanwhile only sets readyonstop).
fn stop_event(gp: GPtr) -> Ev {
    match gp.status() {
        GMORIBUND => Ev::GoEnd,
        GRUNNING => Ev::GoSched,
        GWAITING => Ev::GoBlock,
        // exitsyscall's slow path, queued by schedule (readyonstop): GoSysExit with arg 0.
        GSYSCALL => Ev::GoSysExit,
        _ => Ev::GoStop,
    }
}

/// Port of readylocked (seed 002): make `gp` runnable, or mark it to be readied as soon as it
/// has left the M it is still on.
pub fn readylocked(rt: &Runtime, s: &mut Synced, cur: Option<&M>, gp: GPtr) {
    if !gp.m.load(Relaxed).is_null() {
        gp.readyonstop.store(true, Relaxed);
        return;
    }
    let st = gp.status();
    if st == GRUNNABLE || st == GRUNNING {
        panic!(
            "goroutine {} has status {st}: bad g->status in ready",
            gp.goid.load(Relaxed)
        );
    }
    gp.set_status(GRUNNABLE);
    let tr = rt.trace_of(cur);
    if rt.before {
        before::gput(s, tr, gp);
        before::matchmg(rt, s, cur);
    } else {
        gput(rt, s, tr, gp);
        matchmg(rt, s, cur);
    }
}

/// Port of ready (seed 002).
pub fn ready(gp: GPtr) {
    let m = getm();
    not_in_syscall(m, "ready");
    let rt = m.rt();
    let mut s = rt.schedlock();
    trace_ev!(
        m.trace,
        GoUnblock,
        gp.goid.load(Relaxed),
        m.curg().goid.load(Relaxed)
    );
    readylocked(rt, &mut s, Some(m), gp);
}

/// Port of newproc1 (seed 002): a new goroutine running `f`, made ready at once. Called from a
/// goroutine (`cur` is its M) or, for the main goroutine, from `run` (`cur` is `None`).
pub fn newproc1<F: FnOnce() + Send + 'static>(
    rt: &Runtime,
    s: &mut Synced,
    cur: Option<&M>,
    f: F,
) -> GPtr {
    let gp = gfget(s);
    // SAFETY: a G from gfree or a new one: dead, owned by whoever holds the schedlock, and
    // never moved (it lives in its own allocation).
    let fresh = match unsafe { gp.ctx.start(&rt.stacks, goroutine_body(f)) } {
        Ok(fresh) => fresh,
        Err(e) => {
            // Go throws here. The G goes back to gfree, the run ends with the error, and the
            // goroutine that called `go` unwinds with it (the schedlock is released as it
            // unwinds through its guard).
            gfput(s, gp);
            if rt.end.fail(RunError::Exhausted(e.clone())) {
                rt.wake_for_exit(s);
            }
            schedcore::stack::unwind_exhausted(e);
        }
    };
    if fresh {
        s.counters.inc(Counter::StacksMapped);
    }
    s.counters.inc(Counter::GoroutinesCreated);
    gp.set_status(GWAITING);
    s.gcount += 1;
    s.counters.max(Counter::GoroutinesPeak, s.gcount as u64);
    s.goidgen += 1;
    gp.goid.store(s.goidgen, Relaxed);
    trace_ev!(
        rt.trace_of(cur),
        GoCreate,
        s.goidgen,
        cur.map_or(0, |m| m.curg().goid.load(Relaxed))
    );
    // newprocreadylocked: a separate name in the seed only for debuggers.
    readylocked(rt, s, cur, gp);
    gp
}

/// `go f()`.
pub fn newproc<F: FnOnce() + Send + 'static>(f: F) {
    let m = getm();
    not_in_syscall(m, "go");
    let rt = m.rt();
    let mut s = rt.schedlock();
    newproc1(rt, &mut s, Some(m), f);
}

/// Wraps a goroutine's function so a panic ends the run with `RunError::Panic` instead of
/// unwinding into the scheduler.
fn goroutine_body<F: FnOnce() + Send + 'static>(f: F) -> impl FnOnce() + 'static {
    move || {
        if let Err(p) = catch_unwind(AssertUnwindSafe(f)) {
            getm().rt().fail(RunError::Panic(panic_message(&*p)));
        }
    }
}

/// The goroutine's own `runtime.Gosched()`: not from inside a syscall.
pub fn gosched_user() {
    not_in_syscall(getm(), "gosched");
    gosched()
}

/// Port of gosched (seed 002): `mcall(schedule)` with the goroutine still Grunning, so
/// schedule queues it again. exitsyscall's slow path calls it in Gsyscall, with readyonstop.
pub fn gosched() {
    let m = getm();
    m.counters.inc(Counter::Gosched);
    let gp = m.curg();
    // SAFETY: called by the running goroutine `gp` on its own stack.
    unsafe { gp.ctx.suspend(()) };
}

/// Parks the running goroutine, 2011-style: mark it waiting, release the caller's lock, then
/// switch out. A `ready` that slips in between finds the goroutine still on its M and sets
/// readyonstop, which schedule honours (that is what readyonstop is for).
pub fn park(lock: &schedcore::RawLock) {
    let m = getm();
    let gp = m.curg();
    if gp.status() == GSYSCALL {
        // SAFETY: as below; the lock is released before the panic leaves the goroutine.
        unsafe { lock.unlock() };
        syscall_misuse("park");
    }
    m.counters.inc(Counter::Parks);
    gp.set_status(GWAITING);
    // SAFETY: the caller's guard was turned into this raw lock, which it held.
    unsafe { lock.unlock() };
    // SAFETY: called by the running goroutine `gp` on its own stack.
    unsafe { gp.ctx.suspend(()) };
}

/// Go, ready, gosched and park run Go code on a CPU, which a goroutine between entersyscall
/// and exitsyscall has given up: calling them there would corrupt mcpu. One status load, on
/// these paths only; the syscall paths themselves never check.
#[inline(always)]
fn not_in_syscall(m: &M, what: &str) {
    if m.curg().status() == GSYSCALL {
        syscall_misuse(what);
    }
}

#[cold]
#[inline(never)]
fn syscall_misuse(what: &str) -> ! {
    panic!("{what} called during a syscall: call exitsyscall first")
}
