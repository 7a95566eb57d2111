//! Channel ping-pong: two goroutines passing a value back and forth over unbuffered channels,
//! alone (`ping-pong`, with the send-to-receive latency of every hop) and beside a CPU hog on
//! one proc (Go's BenchmarkPingPongHog, which only a preemptive scheduler gets through).

use super::{Stall, B};
use hdrhistogram::Histogram;
use schedcore::report::latency_histogram;
use schedcore::{Chan, Scheduler};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// `ping-pong`: N round trips between two goroutines over two unbuffered channels. Each hop
/// carries the instant its sender called `send`; the receiver records how long the value took
/// to reach it running (for a parked receiver: `ready`, the run queue, and the switch) into
/// the `wakeup` histogram. One op is one round trip (two hops), as in ping-pong-hog.
pub fn ping_pong<S: Scheduler>(b: &mut B) {
    let n = b.n;
    let ping = Chan::<Instant, S>::new(0);
    let pong = Chan::<Instant, S>::new(0);
    let done = Chan::<Box<Histogram<u64>>, S>::new(2);
    {
        let (ping, pong, done) = (ping.clone(), pong.clone(), done.clone());
        S::go(move || {
            let mut lat = Box::new(latency_histogram());
            for _ in 0..n {
                let sent = ping.recv().expect("ping is never closed");
                lat.saturating_record(sent.elapsed().as_nanos() as u64);
                pong.send(Instant::now());
            }
            done.send(lat);
        });
    }
    {
        let done = done.clone();
        S::go(move || {
            let mut lat = Box::new(latency_histogram());
            for _ in 0..n {
                ping.send(Instant::now());
                let sent = pong.recv().expect("pong is never closed");
                lat.saturating_record(sent.elapsed().as_nanos() as u64);
            }
            done.send(lat);
        });
    }
    let a = done.recv().expect("done is never closed");
    let c = done.recv().expect("done is never closed");
    b.stop_timer();
    b.record("wakeup", &a);
    b.record("wakeup", &c);
}

/// Port of BenchmarkPingPongHog: at GOMAXPROCS 1 (set and restored inside, as Go's benchmark
/// does), a CPU hog spins through preempt points while two goroutines ping-pong N times over
/// unbuffered channels; ns per round trip. Go's hog polls a `stop` channel with a `select`
/// default; here it polls a flag, and it also watches the ping-pong's progress: when there
/// has been none for `b.starve_after` (a generation that cannot preempt it), it gives up and
/// the round is reported starved, so the run always ends.
pub fn ping_pong_hog<S: Scheduler>(b: &mut B) {
    if b.n == 0 {
        return;
    }
    b.stop_timer();
    let n = b.n;
    let prev = S::gomaxprocs(1);
    let stall = Arc::new(Stall::new(b.starve_after));
    let stop = Arc::new(AtomicBool::new(false));
    let done = Chan::<(), S>::new(0);
    {
        let (stall, stop, done) = (stall.clone(), stop.clone(), done.clone());
        S::go(move || {
            let mut watch = stall.watch();
            while !stop.load(Ordering::Relaxed) {
                S::preempt_point();
                if watch.starving() {
                    break;
                }
            }
            done.send(());
        });
    }
    let ping = Chan::<bool, S>::new(0);
    let pong = Chan::<bool, S>::new(0);
    let finished = Chan::<(), S>::new(0);
    {
        let (ping, pong, done, stall) = (ping.clone(), pong.clone(), done.clone(), stall.clone());
        let finished = finished.clone();
        S::go(move || {
            for _ in 0..n {
                pong.send(ping.recv().expect("ping is never closed"));
                stall.progress();
            }
            // close(stop)
            stop.store(true, Ordering::Relaxed);
            finished.send(());
            done.send(());
        });
    }
    {
        let (ping, pong, done) = (ping.clone(), pong.clone(), done.clone());
        S::go(move || {
            for _ in 0..n {
                ping.send(pong.recv().expect("pong is never closed"));
            }
            done.send(());
        });
    }
    b.reset_timer();
    b.start_timer();
    ping.send(true); // start the ping-pong
    finished.recv();
    b.stop_timer();
    ping.recv(); // let the last ponger exit
    for _ in 0..3 {
        done.recv();
    }
    S::gomaxprocs(prev);
    if stall.starved() {
        b.set_starved();
    }
}
