//! sysmon: a thread with an M but no P that wakes every 20 us (backing off to 10 ms when
//! nothing happens). Each round it retakes P's that sit in system calls, so that a goroutine
//! blocked in the OS does not keep a P from the runnable ones, and (new in 2014) asks any
//! goroutine that has run for over 10 ms without a reschedule to yield (preemptone). Also
//! preemptall, which stoptheworld uses, and the schedtrace printout.

use crate::g::STACK_PREEMPT;
use crate::m::{handoffp, M};
use crate::p::{P, PIDLE, PRUNNING, PSYSCALL};
use crate::sched::MAX_GOMAXPROCS;
use schedcore::schedtrace::{SchedTrace, TraceClock};
use schedcore::{trace_ev, Counter};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The first sleep, in microseconds.
const SYSMON_MIN_DELAY_US: u32 = 20;
/// Rounds without a retake before the sleep starts doubling (about 1 ms of 20 us sleeps).
const SYSMON_IDLE_BEFORE_BACKOFF: u32 = 50;
/// The longest sleep between rounds: 10 ms.
const SYSMON_MAX_DELAY_US: u32 = 10_000;
/// How long sysmon sleeps when every P is idle, unless woken. The seed bounds it by its
/// forced-gc and scavenger periods (a minute); neither exists here, so this only keeps a
/// lost wake-up from costing more than a second.
const SYSMON_IDLE_SLEEP: Duration = Duration::from_secs(1);
/// A goroutine that has run this long without a reschedule is preempted; a P whose syscall has
/// lasted this long is retaken even when there is nothing else to run. 10 ms: long enough that
/// a goroutine's working set pays off before it is moved, short enough to bound latency.
const FORCE_PREEMPT: Duration = Duration::from_millis(10);

/// What sysmon last saw of one P (the seed's Pdesc).
#[derive(Clone, Copy)]
struct Pdesc {
    schedtick: u32,
    schedwhen: Instant,
    syscalltick: u32,
    syscallwhen: Instant,
}

/// Port of sysmon (seed 001). Returns when the run is over.
pub(crate) fn sysmon(m: &M) {
    let sched = m.sched();
    let now = Instant::now();
    let mut pdesc = [Pdesc {
        schedtick: 0,
        schedwhen: now,
        syscalltick: 0,
        syscallwhen: now,
    }; MAX_GOMAXPROCS];
    let mut trace = sched.schedtrace.map(TraceClock::new);
    // How many rounds in a row woke nobody.
    let mut idle = 0u32;
    let mut delay = 0u32;
    loop {
        if idle == 0 {
            delay = SYSMON_MIN_DELAY_US;
        } else if idle > SYSMON_IDLE_BEFORE_BACKOFF {
            delay *= 2;
        }
        delay = delay.min(SYSMON_MAX_DELAY_US);
        std::thread::sleep(Duration::from_micros(delay as u64));
        if sched.end.exiting() {
            return;
        }
        // With schedtrace on, sysmon stays awake to print even when nothing runs.
        if trace.is_none() && (sched.gcwaiting() || sched.npidle() as i32 == sched.gomaxprocs()) {
            let s = sched.lock();
            if sched.end.exiting() {
                return;
            }
            if sched.gcwaiting() || sched.npidle() as i32 == sched.gomaxprocs() {
                // Nothing runs: sleep until entersyscall, exitsyscall or starttheworld wakes
                // us (or teardown, which also looks at sysmonwait under the lock).
                sched.sysmonwait.store(1, Ordering::SeqCst);
                drop(s);
                sched.sysmonnote.notetsleep(SYSMON_IDLE_SLEEP);
                let _s = sched.lock();
                sched.sysmonwait.store(0, Ordering::SeqCst);
                sched.sysmonnote.noteclear();
                idle = 0;
                delay = SYSMON_MIN_DELAY_US;
                if sched.end.exiting() {
                    return;
                }
            }
        }
        // (No network poller to poll, no forced gc, no scavenger.)
        let now = Instant::now();
        if retake(m, now, &mut pdesc) != 0 {
            idle = 0;
        } else {
            idle += 1;
        }
        if let Some(elapsed) = trace.as_mut().and_then(|t| t.due()) {
            schedtrace(m, elapsed);
        }
    }
}

/// Port of retake (seed 001): takes back every P that has been in the same system call for a
/// whole sysmon round, unless it has no work and idle or spinning M's would notice new work
/// anyway (but always once the call has lasted 10 ms, so that sysmon can sleep deeply); and
/// preempts the goroutine of every P that has run it for over 10 ms. Returns how many P's it
/// retook.
fn retake(m: &M, now: Instant, pdesc: &mut [Pdesc; MAX_GOMAXPROCS]) -> u32 {
    let sched = m.sched();
    let mut n = 0;
    for (i, pd) in pdesc
        .iter_mut()
        .enumerate()
        .take(sched.gomaxprocs() as usize)
    {
        let Some(p) = sched.allp[i].get() else {
            continue;
        };
        let s = p.status();
        if s == PSYSCALL {
            // Retake it if it has been there for more than one round (at least 20 us).
            let t = p.syscalltick.load(Ordering::Relaxed);
            if pd.syscalltick != t {
                pd.syscalltick = t;
                pd.syscallwhen = now;
                continue;
            }
            if p.runq_empty()
                && sched.nmspinning() + sched.npidle() as i32 > 0
                && pd.syscallwhen + FORCE_PREEMPT > now
            {
                continue;
            }
            // Count sysmon as a running M while the CAS and the hand-off are in flight:
            // otherwise the M in the syscall could come back, go idle, and find no running M
            // (a false deadlock).
            sched.incidlelocked(-1);
            if p.status
                .compare_exchange(s, PIDLE, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
            {
                n += 1;
                m.counters.inc(Counter::Retakes);
                trace_ev!(m.trace, Retake, 0, p.id as u64);
                handoffp(m, p);
            }
            sched.incidlelocked(1);
        } else if s == PRUNNING {
            // Preempt the goroutine if it has been running for more than 10 ms.
            let t = p.schedtick.load(Ordering::Relaxed);
            if pd.schedtick != t {
                pd.schedtick = t;
                pd.schedwhen = now;
                continue;
            }
            if pd.schedwhen + FORCE_PREEMPT > now {
                continue;
            }
            preemptone(m, &p);
        }
    }
    n
}

/// Port of preemptall (seed 001): asks the goroutine of every running P to stop. Best effort:
/// a P that has just started running a goroutine may miss it. Returns whether any request was
/// made. Does nothing in "2014-nopreempt".
pub(crate) fn preemptall(m: &M) -> bool {
    let sched = m.sched();
    let mut res = false;
    for i in 0..sched.gomaxprocs() as usize {
        let Some(p) = sched.allp[i].get() else {
            continue;
        };
        if p.status() != PRUNNING {
            continue;
        }
        res |= preemptone(m, &p);
    }
    res
}

/// Port of preemptone (seed 001): asks the goroutine running on `p` to stop at its next
/// preempt point: sets `preempt` and poisons its `stackguard0` with STACK_PREEMPT, which folds
/// the request into the prologue check. Best effort and without locks: the request may reach
/// a goroutine that just started, or be missed by one that is just leaving; execute clears
/// it. Returns whether a request was made. With preemption switched off ("2014-nopreempt")
/// it does nothing, which is the whole difference between the two lab schedulers.
pub(crate) fn preemptone(m: &M, p: &P) -> bool {
    if !m.sched().preempt {
        return false;
    }
    let Some(mp) = p.m.get() else {
        return false;
    };
    if std::ptr::eq(&*mp, m) {
        return false;
    }
    let Some(gp) = mp.curg.get() else {
        return false;
    };
    gp.preempt.store(true, Ordering::Relaxed);
    gp.stackguard0.store(STACK_PREEMPT, Ordering::Relaxed);
    m.counters.inc(Counter::PreemptRequests);
    trace_ev!(
        m.trace,
        PreemptReq,
        gp.goid.load(Ordering::Relaxed),
        p.id as u64
    );
    true
}

/// Port of schedtrace (seed 001), the one-line form (schedcore's `SchedTrace` prints it as Go
/// did): GOMAXPROCS, idle P's, threads, spinning and idle M's, the global queue and every
/// P's ring, on stderr.
fn schedtrace(m: &M, elapsed: Duration) {
    let sched = m.sched();
    let s = sched.lock();
    let procs = sched.gomaxprocs().max(0) as usize;
    let line = SchedTrace {
        elapsed,
        gomaxprocs: procs,
        idleprocs: sched.npidle() as usize,
        threads: sched.mcount.get(&s).max(0) as usize,
        spinningthreads: sched.nmspinning().max(0) as usize,
        idlethreads: sched.nmidle.get(&s).max(0) as usize,
        runqueue: sched.runq.len(),
        local: Some((0..procs).map(|i| sched.allp(i).runq.len()).collect()),
    };
    drop(s);
    eprintln!("{line}");
}
