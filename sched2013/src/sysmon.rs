//! sysmon: a thread with an M but no P that wakes up every 20 us (backing off to 10 ms when
//! nothing happens) and retakes P's that sit in system calls, so that a goroutine blocked
//! in the OS does not keep a P from the runnable ones.

use crate::m::{handoffp, M};
use crate::p::{PIDLE, PSYSCALL};
use crate::sched::MAX_GOMAXPROCS;
use schedcore::{trace_ev, Counter};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The first sleep, in microseconds.
const SYSMON_MIN_DELAY_US: u32 = 20;
/// Cycles without a retake before the sleep starts doubling (about 1 ms of 20 us sleeps).
const SYSMON_IDLE_BEFORE_BACKOFF: u32 = 50;
/// The longest sleep: 10 ms.
const SYSMON_MAX_DELAY_US: u32 = 10_000;

/// Port of sysmon (seed 003). Returns when the run is over.
pub(crate) fn sysmon(m: &M) {
    let sched = m.sched();
    // How many cycles in a row retook nothing.
    let mut idle = 0u32;
    let mut delay = 0u32;
    let mut ticks = [0u32; MAX_GOMAXPROCS];
    let mut trace = sched.schedtrace.map(schedcore::schedtrace::TraceClock::new);
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
        // With schedtrace on, sysmon stays awake to print even when nothing runs (as seed
        // 001's sysmon does).
        if trace.is_none() && (sched.gcwaiting() || sched.npidle() as i32 == sched.gomaxprocs()) {
            let s = sched.lock();
            if sched.end.exiting() {
                return;
            }
            if sched.gcwaiting() || sched.npidle() as i32 == sched.gomaxprocs() {
                // Nothing runs: sleep until entersyscall or starttheworld wakes us (or
                // teardown, which also looks at sysmonwait under the lock).
                sched.sysmonwait.store(1, Ordering::SeqCst);
                drop(s);
                sched.sysmonnote.notesleep();
                sched.sysmonnote.noteclear();
                if sched.end.exiting() {
                    return;
                }
                idle = 0;
                delay = SYSMON_MIN_DELAY_US;
            }
        }
        // (No network poller to poll.)
        if retake(m, &mut ticks) != 0 {
            idle = 0;
        } else {
            idle += 1;
        }
        if let Some(elapsed) = trace.as_mut().and_then(|t| t.due()) {
            eprintln!("{}", sched.schedtrace_line(elapsed));
        }
    }
}

/// Port of retake (seed 003): takes back every P that has been in the same system call for
/// a whole sysmon cycle (its tick did not move), unless it has no work and there are idle or
/// spinning M's to pick up new work anyway. Returns how many it retook.
fn retake(m: &M, ticks: &mut [u32; MAX_GOMAXPROCS]) -> u32 {
    let sched = m.sched();
    let mut n = 0;
    for (i, tick) in ticks
        .iter_mut()
        .enumerate()
        .take(sched.gomaxprocs() as usize)
    {
        let Some(p) = sched.allp[i].get() else {
            continue;
        };
        let t = p.tick.load(Ordering::Relaxed);
        if *tick != t {
            *tick = t;
            continue;
        }
        let s = p.status();
        if s != PSYSCALL {
            continue;
        }
        if p.runq.is_empty() && sched.nmspinning() + sched.npidle() > 0 {
            continue;
        }
        // Count sysmon as a running M while the CAS and hand-off are in flight: otherwise the
        // M in the syscall could come back, go idle, and find no running M (a false
        // deadlock).
        sched.inclocked(-1);
        if p.status
            .compare_exchange(s, PIDLE, Ordering::SeqCst, Ordering::Relaxed)
            .is_ok()
        {
            n += 1;
            m.counters.inc(Counter::Retakes);
            trace_ev!(m.trace, Retake, 0, p.id as u64);
            handoffp(m, p);
        }
        sched.inclocked(1);
    }
    n
}
