//! M: an OS thread. Its own stack is g0, which runs the scheduling loop; this file holds the
//! M's life (allocm/newm/mstart, its exit at teardown), binding P's to it (acquirep/releasep)
//! and parking and unparking M's (stopm/startm/handoffp/wakep).

use crate::g::{GRef, G, STACK_PREEMPT};
use crate::p::{P, PIDLE, PRUNNING};
use crate::preempt;
use crate::proc::{execute, schedule, Next};
use crate::sched::Sched;
use crate::sysmon::sysmon;
use schedcore::exit::panic_message;
use schedcore::lock::MLocks;
use schedcore::ptr::{Link, Ptr};
use schedcore::trace::TraceBuf;
use schedcore::{trace_ev, Counter, Counters, Note};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// LockOSThread called by user code (runtime.LockOSThread).
pub(crate) const LOCK_EXTERNAL: u32 = 1;

/// What a new M runs first (the seed's `mstartfn`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum StartFn {
    /// Straight into the scheduler.
    Schedule,
    /// Mark itself spinning, then schedule (the seed's mspinning).
    Spinning,
    /// The sysmon loop; this M never holds a P.
    Sysmon,
}

/// An M. Fields touched by other threads are atomics; the rest are written by the M's own
/// thread (including goroutine code running on it).
///
/// Aligned to its own cache lines: fields written on hot paths must not share a line with
/// the neighbouring M's (false sharing between threads). `repr(C)`, with the seed's fields in
/// Go 1.4's order, so that which of them share a line is close to the seed's and not the
/// compiler's choice: p, nextp, id, locks, spinning and fastrand share one line, as on the
/// third line of Go's M, and the idle M's words (park, the note it sleeps on, and schedlink,
/// its link on the idle list) start the next, as on Go's fourth. Go had curg at the
/// end of the line before p's and lockedg and locked further on; here curg comes right before
/// p, and lockedg and locked right after schedlink (the port has none of the words Go kept
/// between them). `sched` stands first, where Go's M had g0; the port's own fields come last.
/// `sched/tests.rs` holds the lines.
#[repr(C, align(128))]
pub(crate) struct M {
    pub sched: Ptr<Sched>,
    // The seed's fields, in its order.
    /// The goroutine it runs (kept across a switch-out while it is locked to one).
    pub curg: Link<G>,
    /// The P it holds (kept while in a syscall, where the P is in Psyscall).
    pub p: Link<P>,
    /// The P to acquire when woken (set by whoever wakes it).
    pub nextp: Link<P>,
    pub id: i32,
    /// Runtime work in progress on this M that must not be preempted (the seed's m->locks):
    /// a preempt point that finds it non-zero lets the goroutine run on with `preempt` still
    /// set, and whoever drops it back to zero re-arms the guard.
    pub locks: MLocks,
    /// Looking for work without finding any yet (counted in `Sched::nmspinning`).
    pub spinning: AtomicBool,
    fastrand: AtomicU32,
    /// Where it sleeps when idle or waiting for its locked goroutine.
    pub park: Note,
    /// Next M on the idle list (sched lock).
    pub schedlink: Link<M>,
    /// The goroutine locked to it, if any.
    pub lockedg: Link<G>,
    pub locked: AtomicU32,
    // The port's own.
    /// Sleeping in stoplockedm (sched lock); teardown wakes such M's.
    pub lockwait: AtomicBool,
    /// Someone has taken the job of waking it from stoplockedm (sched lock).
    pub lockwake: AtomicBool,
    /// What it runs first (the seed's mstartfn, read once).
    pub startfn: StartFn,
    /// This M's execution trace; only its own thread records into it.
    pub trace: TraceBuf,
    pub counters: Counters,
}

impl M {
    #[inline(always)]
    pub(crate) fn sched(&self) -> &Sched {
        &self.sched
    }

    /// The P this M holds; panics (Go throws) when it has none.
    #[inline(always)]
    pub(crate) fn p(&self) -> Ptr<P> {
        match self.p.get() {
            Some(p) => p,
            None => no_p(),
        }
    }

    /// The goroutine this M runs.
    #[inline(always)]
    pub(crate) fn curg(&self) -> Option<GRef> {
        self.curg.get().map(GRef)
    }

    #[inline(always)]
    pub(crate) fn spinning(&self) -> bool {
        self.spinning.load(Ordering::Relaxed)
    }

    /// Stops spinning, if it was (the seed's repeated `m->spinning = false; xadd(-1)`).
    #[inline(always)]
    pub(crate) fn unspin(&self) {
        if self.spinning() {
            self.spinning.store(false, Ordering::Relaxed);
            self.sched().nmspinning.fetch_sub(1, Ordering::SeqCst);
            trace_ev!(self.trace, SpinStop, 0, 0);
        }
    }

    /// `m->locks++` (acquirem).
    #[inline(always)]
    pub(crate) fn acquire_locks(&self) {
        self.locks.acquire();
    }

    /// `m->locks--` (releasem); back at zero, `restore_preempt_request` runs.
    #[inline(always)]
    pub(crate) fn release_locks(&self) {
        self.locks.release();
    }

    /// Port of fastrand1 (asm_amd64.s): a cheap per-M pseudo-random number for picking steal
    /// victims: double, and xor a constant in when the top bit came up set (Go's
    /// `XORL $0x88888eef; CMOVLMI`: the xor is undone when its result is negative, that is
    /// when the doubled value's top bit was clear).
    #[inline(always)]
    pub(crate) fn fastrand1(&self) -> u32 {
        let mut x = self.fastrand.load(Ordering::Relaxed);
        x = x.wrapping_add(x);
        if x & 0x8000_0000 != 0 {
            x ^= 0x8888_8eef;
        }
        self.fastrand.store(x, Ordering::Relaxed);
        x
    }
}

/// What Go 1.4's releasem and unlock do when m->locks comes back to zero: restore a
/// preemption request of the current goroutine that a preempt point set aside while locks
/// were held (the seed's "restore the preemption request in case we've cleared it in
/// newstack"). Run by the M's own thread, from `MLocks::release` (and by the booting thread,
/// which is no M yet, for M0's newproc1 of main: nothing runs to be preempted then).
fn restore_preempt_request() {
    // SAFETY: as `getm`'s: the slot holds this thread's M or null.
    let Some(m) = (unsafe { slot::current().as_ref() }) else {
        return;
    };
    if let Some(gp) = m.curg() {
        if gp.preempt.load(Ordering::Relaxed) {
            gp.stackguard0.store(STACK_PREEMPT, Ordering::Relaxed);
        }
    }
}

#[cold]
#[inline(never)]
fn no_p() -> ! {
    panic!("sched2014: this M holds no P (scheduler call from inside a syscall?)")
}

/// This thread's M, in a slot of this generation's own.
pub(crate) mod slot {
    schedcore::m_slot!(super::M, crate::NAME, locks);
}

/// The M of the calling thread. Goroutines migrate: call it again after every switch.
#[inline(always)]
pub(crate) fn getm() -> Ptr<M> {
    let m = slot::expect_current();
    Ptr::from_ref(
        // SAFETY: the slot holds the address of this thread's M, set by mstart; M's live until
        // teardown, after this thread has been joined.
        unsafe { &*m },
    )
}

/// A varying seed for fastrand (the seed uses the CPU's tick counter).
fn cputicks() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
}

/// Port of allocm and mcommoninit (seed 001): a new M, registered in allm.
/// Unchanged since 2013.
pub(crate) fn allocm(sched: &Sched, startfn: StartFn) -> Ptr<M> {
    let mut s = sched.lock();
    let id = sched.mcount.add(&mut s, 1) - 1;
    let seed = 0x49f6_428a_u32
        .wrapping_add(id as u32)
        .wrapping_add(cputicks());
    let mp = Ptr::from_box(Box::new(M {
        id,
        sched: Ptr::from_ref(sched),
        startfn,
        p: Link::none(),
        nextp: Link::none(),
        curg: Link::none(),
        lockedg: Link::none(),
        locked: AtomicU32::new(0),
        locks: MLocks::new(sched.lock_kind, Some(restore_preempt_request)),
        spinning: AtomicBool::new(false),
        park: Note::with_kind(sched.lock_kind),
        schedlink: Link::none(),
        lockwait: AtomicBool::new(false),
        lockwake: AtomicBool::new(false),
        fastrand: AtomicU32::new(seed),
        counters: Counters::new(),
        trace: sched.tracer.buf(),
    }));
    s.allm.push(mp);
    mp
}

/// Port of newm (seed 001): a new M on a new OS thread, starting with `startfn` and holding
/// `p` (sysmon holds none).
/// Unchanged since 2013.
pub(crate) fn newm(sched: &Sched, startfn: StartFn, p: Option<Ptr<P>>) {
    let mp = allocm(sched, startfn);
    mp.nextp.set(p);
    newosproc(sched, mp);
}

/// Starts the thread of `mp` and records it for teardown.
pub(crate) fn newosproc(sched: &Sched, mp: Ptr<M>) {
    let name = match mp.startfn {
        StartFn::Sysmon => "2014-sysmon".to_string(),
        _ => format!("2014-m{}", mp.id),
    };
    let h = std::thread::Builder::new()
        .name(name)
        .spawn(move || mstart(mp))
        .expect("sched2014: cannot create an OS thread (newosproc)");
    sched.threads.lock().push(h);
}

/// Port of mstart (seed 001): the body of every M thread.
/// Unchanged since 2013.
fn mstart(m: Ptr<M>) {
    slot::set_current(Some(&*m));
    m.counters.inc(Counter::ThreadsCreated);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match m.startfn {
        StartFn::Sysmon => sysmon(&m),
        StartFn::Spinning | StartFn::Schedule => {
            if m.startfn == StartFn::Spinning {
                m.spinning.store(true, Ordering::Relaxed);
                trace_ev!(m.trace, SpinStart, 0, 0);
            }
            // M0 got its P from procresize at boot; every other M from whoever created it.
            if m.p.get().is_none() {
                let p = m.nextp.take().expect("mstart: new M without a P");
                acquirep(&m, p);
            }
            mloop(&m);
        }
    }));
    if let Err(e) = r {
        m.sched()
            .throw(format!("M{} died: {}", m.id, panic_message(&*e)));
    }
    if m.startfn != StartFn::Sysmon {
        mexit(&m);
    }
    preempt::set_guard_slot(None);
    slot::set_current(None);
}

/// The scheduling loop on g0: Go's schedule/execute, which never return, written as a loop
/// over what each continuation asks for next.
fn mloop(m: &M) {
    let mut next = Next::Schedule;
    loop {
        next = match next {
            Next::Schedule => match schedule(m) {
                Ok(gp) => Next::Execute(gp),
                Err(Exiting) => return,
            },
            Next::Execute(gp) => execute(m, gp),
            Next::Exit => return,
        };
    }
}

/// The run is over: the M leaves its loop.
#[derive(Debug)]
pub(crate) struct Exiting;

/// Teardown: an M leaving its loop drops the P it holds or was handed. Nothing needs it any
/// more: a stoptheworld in progress gives up once the run is over (see `stoptheworld`).
fn mexit(m: &M) {
    m.unspin();
    if let Some(p) = m.p.take() {
        trace_ev!(m.trace, ProcStop, 0, p.id as u64);
    }
    m.nextp.set(None);
}

/// Port of acquirep (seed 001): binds `p` to this M.
/// Unchanged since 2013.
pub(crate) fn acquirep(m: &M, p: Ptr<P>) {
    if m.p.get().is_some() {
        panic!("acquirep: already in go");
    }
    if p.m.get().is_some() || p.status() != PIDLE {
        panic!(
            "acquirep: invalid p state: P{} p->m={:?} p->status={}",
            p.id,
            p.m.get().map(|mp| mp.id),
            p.status()
        );
    }
    m.p.set(Some(p));
    p.m.set(Some(Ptr::from_ref(m)));
    p.set_status(PRUNNING);
    trace_ev!(m.trace, ProcStart, 0, p.id as u64);
}

/// Port of releasep (seed 001): unbinds this M's P and returns it, idle.
/// Unchanged since 2013.
pub(crate) fn releasep(m: &M) -> Ptr<P> {
    let p = m.p.get().expect("releasep: invalid arg");
    if p.m.get() != Some(Ptr::from_ref(m)) || p.status() != PRUNNING {
        panic!(
            "releasep: invalid p state: p->m={:?} p->status={}",
            p.m.get().map(|mp| mp.id),
            p.status()
        );
    }
    m.p.set(None);
    p.m.set(None);
    p.set_status(PIDLE);
    trace_ev!(m.trace, ProcStop, 0, p.id as u64);
    p
}

/// Port of stopm (seed 001): parks this M on the idle list until someone hands it a P.
/// Returns with the P acquired, or `Exiting` when the run is over.
/// Unchanged since 2013.
pub(crate) fn stopm(m: &M) -> Result<(), Exiting> {
    if m.locks.get() != 0 {
        panic!("stopm holding locks");
    }
    if m.p.get().is_some() {
        panic!("stopm holding p");
    }
    m.unspin();
    let sched = m.sched();
    {
        let mut s = sched.lock();
        // Teardown sets `exiting` before it wakes the idle list under this lock, so an M
        // either sees it here or is on the list when teardown looks.
        if sched.end.exiting() {
            return Err(Exiting);
        }
        sched.mput(&mut s, Ptr::from_ref(m));
    }
    m.counters.inc(Counter::MSleeps);
    trace_ev!(m.trace, MSleep, 0, 0);
    m.park.notesleep();
    m.park.noteclear();
    trace_ev!(m.trace, MWake, 0, 0);
    // startm may have woken it to spin.
    if m.spinning() {
        trace_ev!(m.trace, SpinStart, 0, 0);
    }
    if sched.end.exiting() {
        return Err(Exiting);
    }
    let p = m.nextp.take().expect("stopm: woken without a P");
    acquirep(m, p);
    Ok(())
}

/// Port of startm (seed 001): gets an M (an idle one, else a new thread) to run `p`, or an
/// idle P if `p` is None (and gives up if there is none). `spinning`: the caller already
/// counted the new M in nmspinning.
/// Unchanged since 2013.
pub(crate) fn startm(m: &M, p: Option<Ptr<P>>, spinning: bool) {
    let sched = m.sched();
    let mut s = sched.lock();
    let p = match p.or_else(|| sched.pidleget(&mut s)) {
        Some(p) => p,
        None => {
            drop(s);
            if spinning {
                sched.nmspinning.fetch_sub(1, Ordering::SeqCst);
            }
            return;
        }
    };
    let mp = sched.mget(&mut s);
    drop(s);
    if spinning {
        m.counters.inc(Counter::SpinningWoken);
    }
    let Some(mp) = mp else {
        let f = if spinning {
            StartFn::Spinning
        } else {
            StartFn::Schedule
        };
        newm(sched, f, Some(p));
        return;
    };
    if mp.spinning() {
        panic!("startm: m is spinning");
    }
    if mp.nextp.get().is_some() {
        panic!("startm: m has p");
    }
    mp.spinning.store(spinning, Ordering::Relaxed);
    mp.nextp.set(Some(p));
    mp.park.notewakeup();
}

/// Port of handoffp (seed 001): `p` was released by an M going into a blocking syscall, a
/// locked M, or retake. Start an M on it if there is work or nobody else looks for work;
/// otherwise stop it for a waiting stoptheworld, or make it idle.
/// Unchanged since 2013.
pub(crate) fn handoffp(m: &M, p: Ptr<P>) {
    let sched = m.sched();
    m.counters.inc(Counter::Handoffp);
    // Local or global work: start it straight away.
    if !p.runq_empty() || sched.runqsize() != 0 {
        startm(m, Some(p), false);
        return;
    }
    // No work, and nobody spinning or idle to notice new work: become the spinning M.
    if sched.nmspinning() + sched.npidle() as i32 == 0
        && sched
            .nmspinning
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    {
        startm(m, Some(p), true);
        return;
    }
    let mut s = sched.lock();
    if sched.gcwaiting() {
        p.set_status(crate::p::PGCSTOP);
        sched.stopwait_done(&mut s);
        return;
    }
    if sched.runqsize() != 0 {
        drop(s);
        startm(m, Some(p), false);
        return;
    }
    // The seed starts an M here when this is the last running P so that somebody polls the
    // network; there is no network poller in this lab.
    sched.pidleput(&mut s, p);
}

/// Port of wakep (seed 001): a goroutine became runnable; start one spinning M, unless one
/// already spins (it will find the goroutine).
/// Unchanged since 2013.
#[inline]
pub(crate) fn wakep(m: &M) {
    let sched = m.sched();
    if sched
        .nmspinning
        .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        return;
    }
    startm(m, None, true);
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Tracker issue 19: the seed's fields of M in Go 1.4's order, and the lines the seed gave
    /// them (see [`M`]): p, nextp, id, locks, spinning and fastrand on one 64-byte line, park
    /// and schedlink on the next; the port's own fields after the seed's.
    #[test]
    fn m_keeps_the_seeds_lines() {
        use std::mem::offset_of;
        let order = [
            ("curg", offset_of!(M, curg)),
            ("p", offset_of!(M, p)),
            ("nextp", offset_of!(M, nextp)),
            ("id", offset_of!(M, id)),
            ("locks", offset_of!(M, locks)),
            ("spinning", offset_of!(M, spinning)),
            ("fastrand", offset_of!(M, fastrand)),
            ("park", offset_of!(M, park)),
            ("schedlink", offset_of!(M, schedlink)),
            ("lockedg", offset_of!(M, lockedg)),
            ("locked", offset_of!(M, locked)),
            ("lockwait", offset_of!(M, lockwait)),
            ("lockwake", offset_of!(M, lockwake)),
            ("startfn", offset_of!(M, startfn)),
            ("trace", offset_of!(M, trace)),
            ("counters", offset_of!(M, counters)),
        ];
        assert!(order.windows(2).all(|w| w[0].1 < w[1].1), "{order:?}");
        let line = |o: usize| o / 64;
        let hot = line(offset_of!(M, p));
        let fastrand_end = offset_of!(M, fastrand) + 4;
        assert_eq!(line(fastrand_end - 1), hot, "{order:?}");
        assert_eq!(line(offset_of!(M, park)), hot + 1, "{order:?}");
        assert_eq!(line(offset_of!(M, schedlink) + 7), hot + 1, "{order:?}");
    }

    /// fastrand1 xors the constant in exactly when the doubled value has its top bit set, as
    /// Go's assembly does (tracker issue 9: the port had the test inverted).
    #[test]
    fn fastrand1_xors_when_the_top_bit_is_set() {
        let sched = Sched::new(
            schedcore::StackArena::new(&schedcore::Config::default()).unwrap(),
            true,
            None,
            schedcore::LockKind::Spin,
        );
        let mp = allocm(&sched, StartFn::Schedule);
        mp.fastrand.store(0x4000_0000, Ordering::Relaxed);
        assert_eq!(mp.fastrand1(), 0x8000_0000 ^ 0x8888_8eef);
        mp.fastrand.store(0x0000_0001, Ordering::Relaxed);
        assert_eq!(mp.fastrand1(), 0x0000_0002);
        // SAFETY: the M came from allocm's box, no thread runs it, and it is not used again.
        unsafe { mp.free() };
    }
}
