//! `gc-pause`: stop-the-world pauses under CPU-bound goroutines. GOMAXPROCS goroutines spin,
//! passing a preempt point every couple of microseconds and yielding only once a millisecond,
//! while the main goroutine collects N times. Without preemption, stoptheworld waits for
//! each of them to reach its next gosched; with it, for the next preempt point. The pauses
//! are the Report's `stw_pause_ns` histogram.

use super::{Stall, B};
use schedcore::{Scheduler, WaitGroup};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a spinning goroutine works between two preempt points ("every few microseconds").
pub const WORK_BETWEEN_PREEMPT_POINTS: Duration = Duration::from_micros(2);
/// How long it goes between two goscheds: the pause a generation without preemption cannot
/// beat.
pub const GOSCHED_EVERY: Duration = Duration::from_millis(1);

/// N collections (ns/op is one `gc()`, the pause and the time to get a CPU for it) while
/// GOMAXPROCS goroutines spin. The spinners give up, and the round is starved, if the
/// collections make no progress for `b.starve_after`.
pub fn gc_pause<S: Scheduler>(b: &mut B) {
    b.stop_timer();
    let procs = S::gomaxprocs(0).max(1);
    let stall = Arc::new(Stall::new(b.starve_after));
    let stop = Arc::new(AtomicBool::new(false));
    let wg = WaitGroup::<S>::new();
    for _ in 0..procs {
        wg.add(1);
        let (stall, stop, wg) = (stall.clone(), stop.clone(), wg.clone());
        S::go(move || {
            let mut watch = stall.watch();
            let mut last_gosched = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                let now = Instant::now();
                let until = now + WORK_BETWEEN_PREEMPT_POINTS;
                while Instant::now() < until {
                    std::hint::spin_loop();
                }
                S::preempt_point();
                if watch.starving() {
                    break;
                }
                if now.duration_since(last_gosched) >= GOSCHED_EVERY {
                    S::gosched();
                    last_gosched = Instant::now();
                }
            }
            wg.done();
        });
    }
    b.start_timer();
    for _ in 0..b.n {
        if stall.starved() {
            break;
        }
        S::gc();
        stall.progress();
    }
    b.stop_timer();
    stop.store(true, Ordering::Relaxed);
    wg.wait();
    if stall.starved() {
        b.set_starved();
    }
}
