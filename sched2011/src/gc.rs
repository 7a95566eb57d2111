//! Stopping the world (seed 002's waitstop protocol), the stack-scanning collection built on
//! it, and GOMAXPROCS changes. Their versions from before CL 4723042 are in `before.rs`.

use crate::before;
use crate::g::GDEAD;
use crate::m::getm;
use crate::m::M;
use crate::proc::{gosched, matchmg};
use crate::sched::Runtime;
use crate::word::{mcpu, mcpumax, MAXGOMAXPROCS};
use schedcore::context::current_sp;
use schedcore::scan::{ScanResult, StackSet};
use schedcore::{trace_ev, Counter};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

/// Port of stoptheworld (seed 002): lower mcpumax to 1 and wait until every other M has left
/// its CPU. A goroutine that never reaches a scheduling point holds this up forever: 2011 had
/// no preemption. Returns false, with the world running, if the run ended while it waited.
pub fn stoptheworld(rt: &Runtime) -> bool {
    let mut s = rt.schedlock();
    rt.gcwaiting.store(true, Relaxed);
    rt.setmcpumax(1);
    loop {
        let v = rt.word.load();
        if mcpu(v) <= 1 || rt.end.exiting() {
            break;
        }
        // Only one stopper at a time (worldsema), so the note is ours.
        rt.stopped.noteclear();
        // atomic { waitstop = 1 }, on the condition that mcpu has not moved since the check.
        if !rt.word.try_set_waitstop(v) {
            continue;
        }
        drop(s);
        rt.stopped.notesleep();
        s = rt.schedlock();
    }
    rt.stoptheworld_done()
}

/// Port of starttheworld (seed 002), by the goroutine running on `m`, which stopped it.
pub fn starttheworld(rt: &Runtime, m: &M) {
    let mut s = rt.schedlock();
    rt.gcwaiting.store(false, Relaxed);
    rt.setmcpumax(s.gomaxprocs);
    matchmg(rt, &mut s, Some(m));
}

/// `runtime.GC()` reduced to what the scheduler sees: stop the world, scan every goroutine
/// stack, start the world, and record the pause.
///
/// worldsema (July 2011's gcsema) is given back before the world starts, as in the seed's
/// tree and in Go 1.0.3's runtime·gc (whose comment on worldsema gives the same order). The
/// right to stop the world next thus passes while the world is still stopped: a goroutine
/// parked in semacquire is readied onto the run queue (mcpumax is still 1 and we hold that
/// CPU, so matchmg cannot start it yet) and gets a CPU from starttheworld's matchmg in queue
/// order with the goroutines the pause held up. The other order would restart the world with
/// the semaphore still held, so a goroutine resumed by starttheworld that wants to stop the
/// world would park on a semaphore about to come free, and the late release would then ready
/// the next stopper on a running world, through matchmg's hand-off to another M.
pub fn gc() {
    let rt = getm().rt();
    rt.worldsema.semacquire();
    // The semaphore may have parked us: read the M again.
    let m = getm();
    let t0 = Instant::now();
    m.gcing.store(true, Relaxed);
    trace_ev!(m.trace, StwStart, 0, 0);
    let stopped = if rt.before {
        before::stoptheworld(rt)
    } else {
        stoptheworld(rt)
    };
    if !stopped {
        // The run is ending and the world never stopped: other goroutines may still run,
        // so there is nothing safe to scan and nothing to restart.
        m.gcing.store(false, Relaxed);
        trace_ev!(m.trace, StwDone, 0, 0);
        rt.worldsema.semrelease();
        return;
    }
    let found = scan_stacks(rt, m);
    m.counters.add(Counter::StackWordsScanned, found.words);
    m.counters.add(Counter::StackPointersFound, found.pointers);
    m.gcing.store(false, Relaxed);
    // Release, then start (see above). semrelease only readies the waiter: no switch, so `m`
    // is still this M.
    rt.worldsema.semrelease();
    if rt.before {
        before::starttheworld(rt, m);
    } else {
        starttheworld(rt, m);
    }
    trace_ev!(m.trace, StwDone, 0, 0);
    let pause = t0.elapsed();
    m.counters.inc(Counter::Gcs);
    m.counters.inc(Counter::StwPauses);
    rt.pauses.lock().saturating_record(pause.as_nanos() as u64);
}

/// Scans every goroutine's live stack. The world is stopped: every other goroutine is off
/// its CPU (its stack pointer saved at the switch) or in a syscall (saved at entersyscall,
/// and the frames above it do not change until it returns).
fn scan_stacks(rt: &Runtime, m: &M) -> ScanResult {
    let me = m.curg();
    let allg = rt.schedlock().allg.clone();
    let live: Vec<_> = allg.iter().filter(|g| g.status() != GDEAD).collect();
    trace_ev!(m.trace, GcScanStart, 0, live.len() as u64);
    let set = StackSet::new(live.iter().map(|g| g.ctx.bounds()).collect());
    let mut r = ScanResult::default();
    for g in live {
        let range = if *g == me {
            Some((current_sp(), g.ctx.bounds().1))
        } else {
            g.ctx.live_stack()
        };
        if let Some((lo, hi)) = range {
            // SAFETY: [lo, hi) is the live part of a mapped goroutine stack; its goroutine is
            // stopped, in a syscall below `lo`, or is us.
            r += unsafe { set.scan(lo, hi) };
        }
    }
    trace_ev!(m.trace, GcScanDone, 0, r.words);
    r
}

/// Port of gomaxprocsfunc (seed 002).
pub fn gomaxprocsfunc(n: i32) -> i32 {
    gomaxprocsfunc_on(getm(), n, gosched)
}

/// gomaxprocsfunc by the goroutine running on `m`; `gosched` is its switch into schedule
/// when fewer CPUs are allowed than in use (Go's runtime·gosched; the loom model's stand-in).
pub fn gomaxprocsfunc_on(m: &M, n: i32, gosched: impl FnOnce()) -> i32 {
    let rt = m.rt();
    let mut s = rt.schedlock();
    let ret = s.gomaxprocs as i32;
    let n = if n <= 0 {
        ret as u32
    } else {
        (n as u32).min(MAXGOMAXPROCS)
    };
    s.gomaxprocs = n;
    if rt.gcwaiting.load(Relaxed) {
        assert!(
            mcpumax(rt.word.load()) == 1 || rt.end.exiting(),
            "invalid mcpumax during gc"
        );
        return ret;
    }
    rt.setmcpumax(n);
    // Fewer CPUs allowed than in use: give ours up; schedule brings us back when the count
    // has come down.
    if mcpu(rt.word.load()) > n {
        drop(s);
        gosched();
        return ret;
    }
    matchmg(rt, &mut s, Some(m));
    ret
}
